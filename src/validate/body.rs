//! The body a validated row sends, kept as the (path, value) pairs validation set.
//!
//! A JSON map per row (a tree of owned keys, built, serialised and freed for every row)
//! was a fifth of `validate`'s time on a large file; most rows only ever need the text
//! of their body for `_payload`. So the pairs are kept flat with interned keys, the text
//! is written straight from them, and the map is built only where a row is sent.

use std::cmp::Ordering;
use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};

use serde_json::{Map, Value as Json};

/// A payload path (`name`, `location.lat`) that lives as long as the program: paths
/// come from the specs, a few dozen in all, so each is stored once and shared by every
/// row instead of being allocated per row.
pub type Key = &'static str;

/// The one copy of `path`.
pub fn intern(path: &str) -> Key {
    static KEYS: OnceLock<Mutex<HashSet<Key>>> = OnceLock::new();
    let keys = KEYS.get_or_init(|| Mutex::new(HashSet::new()));
    let mut keys = match keys.lock() {
        Ok(k) => k,
        Err(poisoned) => poisoned.into_inner(),
    };
    if let Some(k) = keys.get(path) {
        return k;
    }
    let k: Key = Box::leak(path.to_string().into_boxed_str());
    keys.insert(k);
    k
}

/// The body of one row: each value at its (dotted) path, in the order they were set.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Payload {
    entries: Vec<(Key, Json)>,
}

impl Payload {
    /// Room for `n` values, so that a row's values are set without the list growing.
    pub fn with_capacity(n: usize) -> Self {
        Payload {
            entries: Vec::with_capacity(n),
        }
    }

    /// Set `value` at `path`; a later value at the same path wins, as in a JSON map.
    pub fn set(&mut self, path: Key, value: Json) {
        self.entries.push((path, value));
    }

    /// Nothing set.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// A top-level value that was set directly (`type`, `tax_number`): what the rules
    /// between fields look at. An object made of dotted paths is not such a value.
    pub fn get(&self, key: &str) -> Option<&Json> {
        for (k, v) in self.entries.iter().rev() {
            if *k == key {
                return Some(v);
            }
            if k.strip_prefix(key)
                .is_some_and(|rest| rest.starts_with('.'))
            {
                return None;
            }
        }
        None
    }

    /// The body as a JSON map, nested along the dots: what is sent. Clearing every part
    /// of an object clears the object (see `clear_emptied_objects`).
    pub fn to_map(&self) -> Map<String, Json> {
        let mut map = Map::new();
        for (path, value) in &self.entries {
            set_path(&mut map, path, value.clone());
        }
        clear_emptied_objects(&mut map);
        map
    }

    /// The body as JSON text, byte for byte what serialising [`Payload::to_map`] gives
    /// (keys in order at every level), written without building the map when the paths
    /// allow (no path set twice, none both a value and an object, no cleared part).
    pub fn to_json_string(&self) -> String {
        let mut order: Vec<&(Key, Json)> = self.entries.iter().collect();
        order.sort_by(|a, b| path_order(a.0, b.0));
        if !is_plain(&order) {
            return serde_json::to_string(&self.to_map()).unwrap_or_default();
        }
        let mut out: Vec<u8> = Vec::with_capacity(32 * order.len() + 2);
        out.push(b'{');
        // The objects open, outermost first (the body itself, unnamed, at the bottom),
        // and whether each has a member yet (a comma goes before the next one).
        let mut levels: Vec<(&str, bool)> = Vec::with_capacity(4);
        levels.push(("", false));
        for (path, value) in order {
            let (parents, leaf) = match path.bytes().rposition(|b| b == b'.') {
                Some(dot) => (Some(&path[..dot]), &path[dot + 1..]),
                None => (None, *path),
            };
            let parents = parents.into_iter().flat_map(|p| p.split('.'));
            let common = levels[1..]
                .iter()
                .zip(parents.clone())
                .take_while(|((a, _), b)| *a == *b)
                .count();
            while levels.len() > common + 1 {
                levels.pop();
                out.push(b'}');
            }
            for segment in parents.skip(common) {
                member(&mut out, &mut levels, segment);
                out.push(b'{');
                levels.push((segment, false));
            }
            member(&mut out, &mut levels, leaf);
            match value {
                Json::String(text) => write_str(&mut out, text),
                _ => {
                    let _ = serde_json::to_writer(&mut out, value);
                }
            }
        }
        out.extend(std::iter::repeat_n(b'}', levels.len()));
        String::from_utf8(out).unwrap_or_default()
    }
}

/// Start a member of the innermost open object: a comma unless it is the first, then
/// the key and its colon.
fn member(out: &mut Vec<u8>, levels: &mut [(&str, bool)], key: &str) {
    if let Some((_, seen)) = levels.last_mut() {
        if *seen {
            out.push(b',');
        }
        *seen = true;
    }
    write_str(out, key);
    out.push(b':');
}

/// A JSON string as serde_json writes it; text with nothing to escape (most of it) is
/// copied as it is, without serde's byte-by-byte escape table.
fn write_str(out: &mut Vec<u8>, text: &str) {
    // serde_json escapes `"`, `\` and the control characters below U+0020, nothing else.
    let plain = text
        .bytes()
        .fold(true, |ok, b| ok & (b >= 0x20 && b != b'"' && b != b'\\'));
    if plain {
        out.reserve(text.len() + 2);
        out.push(b'"');
        out.extend_from_slice(text.as_bytes());
        out.push(b'"');
    } else {
        let _ = serde_json::to_writer(&mut *out, text);
    }
}

/// The order a JSON map's keys serialise in, level by level: `a` < `a.b` < `a-c`. That
/// is byte order with the dot below every other byte (a segment that ends first sorts
/// first), so no path is split to compare it.
fn path_order(a: &str, b: &str) -> Ordering {
    let rank = |c: u8| if c == b'.' { 0 } else { u16::from(c) + 1 };
    let (a, b) = (a.as_bytes(), b.as_bytes());
    match a.iter().zip(b).position(|(x, y)| x != y) {
        Some(i) => rank(a[i]).cmp(&rank(b[i])),
        None => a.len().cmp(&b.len()),
    }
}

/// Whether the sorted pairs can be written as they are: no path set twice, none that is
/// both a value and the parent of another, no cleared (null) part of an object, and no
/// object value that later paths could merge into.
fn is_plain(sorted: &[&(Key, Json)]) -> bool {
    let nested_null = sorted
        .iter()
        .any(|(k, v)| v.is_object() || (v.is_null() && k.as_bytes().contains(&b'.')));
    !nested_null
        && sorted.windows(2).all(|w| {
            let (a, b) = (w[0].0, w[1].0);
            a != b && !b.strip_prefix(a).is_some_and(|rest| rest.starts_with('.'))
        })
}

/// Put `value` at a dotted path, making the objects on the way (and replacing a value
/// that is in the way by one).
pub fn set_path(map: &mut Map<String, Json>, path: &str, value: Json) {
    match path.split_once('.') {
        None => {
            map.insert(path.to_string(), value);
        }
        Some((head, rest)) => {
            let entry = map
                .entry(head.to_string())
                .or_insert_with(|| Json::Object(Map::new()));
            if !entry.is_object() {
                *entry = Json::Object(Map::new());
            }
            if let Json::Object(inner) = entry {
                set_path(inner, rest, value);
            }
        }
    }
}

/// Clearing every part of an object clears the object: `#CLEAR` in both Lintang and
/// Bujur sends `"location": null`, which is what the API understands, not
/// `{"lat": null, "lon": null}`, which it refuses. Arrays (product units) are left alone.
fn clear_emptied_objects(payload: &mut Map<String, Json>) {
    for value in payload.values_mut() {
        if let Json::Object(inner) = value {
            clear_emptied_objects(inner);
            if !inner.is_empty() && inner.values().all(Json::is_null) {
                *value = Json::Null;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn payload(pairs: &[(&str, Json)]) -> Payload {
        let mut p = Payload::default();
        for (k, v) in pairs {
            p.set(intern(k), v.clone());
        }
        p
    }

    #[test]
    fn set_path_nests() {
        let mut m = Map::new();
        set_path(&mut m, "location.lat", Json::from(1));
        set_path(&mut m, "location.lon", Json::from(2));
        set_path(&mut m, "name", Json::from("x"));
        assert_eq!(
            Json::Object(m).to_string(),
            r#"{"location":{"lat":1,"lon":2},"name":"x"}"#
        );
    }

    #[test]
    fn the_text_is_written_in_the_maps_key_order() {
        let p = payload(&[
            ("name", Json::from("Toko \"A\"")),
            ("location.lon", Json::from(110.5)),
            ("location.lat", Json::from(-7)),
            ("location-x", Json::from(true)),
            ("tags", serde_json::json!(["a", "b"])),
        ]);
        assert_eq!(
            p.to_json_string(),
            r#"{"location":{"lat":-7,"lon":110.5},"location-x":true,"name":"Toko \"A\"","tags":["a","b"]}"#
        );
        assert_eq!(p.to_json_string(), Json::Object(p.to_map()).to_string());
    }

    #[test]
    fn paths_sort_level_by_level() {
        let mut paths = vec!["a-c", "a.b", "ab", "a", "a.b.c", "a.a", "b"];
        paths.sort_by(|a, b| path_order(a, b));
        assert_eq!(paths, ["a", "a.a", "a.b", "a.b.c", "a-c", "ab", "b"]);
        let mut by_split = paths.clone();
        by_split.sort_by(|a, b| a.split('.').cmp(b.split('.')));
        assert_eq!(paths, by_split);
    }

    #[test]
    fn clearing_both_parts_of_a_location_clears_the_location() {
        let p = payload(&[("location.lat", Json::Null), ("location.lon", Json::Null)]);
        assert_eq!(p.to_json_string(), r#"{"location":null}"#);
    }

    #[test]
    fn get_sees_top_level_values_only() {
        let p = payload(&[
            ("type", Json::from("company")),
            ("type", Json::from("person")),
            ("location.lat", Json::from(1)),
        ]);
        assert_eq!(p.get("type"), Some(&Json::from("person")));
        assert_eq!(p.get("location"), None);
        assert_eq!(p.get("lat"), None);
        assert_eq!(Payload::default().to_json_string(), "{}");
    }

    proptest! {
        /// Whatever the paths, the text is what the map serialises to.
        #[test]
        fn the_text_is_always_the_maps(
            pairs in proptest::collection::vec(
                (
                    prop::sample::select(vec!["a", "b", "a.b", "a.c", "a-b", "a.b.c", "b.a", "é", "a\"q"]),
                    prop_oneof![
                        Just(Json::Null),
                        any::<i64>().prop_map(Json::from),
                        "[a-zé\"\\\\\u{0}-\u{1f}\u{7f}\u{2028}İ]{0,6}".prop_map(Json::from),
                        Just(serde_json::json!({"x": 1})),
                        Just(serde_json::json!([1, {"y": null}])),
                    ],
                ),
                0..8,
            )
        ) {
            let pairs: Vec<(&str, Json)> = pairs;
            let p = payload(&pairs);
            prop_assert_eq!(p.to_json_string(), Json::Object(p.to_map()).to_string());
        }
    }
}
