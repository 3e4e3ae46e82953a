//! Messages said again and again are counted, not printed each time: a mapping with
//! 200,000 entries that match nothing would otherwise write 41 MB of the same warning.
//!
//! Messages are grouped by their template: the message with its quoted values and its
//! numbers blanked out (`[columns] "X" matches no column` for every X). The first
//! [`SHOWN`] of a template are printed; the rest are counted and said as one line
//! (`… and 199,995 more like: …`) before the next other message, the summary, the
//! error, or the end of the command.

use std::collections::HashMap;
use std::sync::Mutex;

/// How many messages of one template are printed before the rest are only counted.
pub(super) const SHOWN: u64 = 5;

/// The kind of message, which its count line keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Kind {
    Note,
    Warning,
}

#[derive(Default)]
struct Seen {
    /// Messages of the template so far.
    count: u64,
    /// Of those held back, how many a count line already told.
    told: u64,
    /// The last message held back, to show what the count is of.
    example: String,
}

#[derive(Default)]
struct Repeats {
    by_template: HashMap<(Kind, String), Seen>,
    /// Templates with messages held back and not yet told, in the order first held.
    pending: Vec<(Kind, String)>,
}

static REPEATS: Mutex<Option<Repeats>> = Mutex::new(None);

/// `msg` with every text in double quotes or backticks and every run of digits blanked, so that
/// messages differing only in the value, cell or row they name share a template.
pub(super) fn template(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len());
    let mut quote: Option<char> = None;
    let mut digits = false;
    for c in msg.chars() {
        match quote {
            Some(q) if c == q => {
                quote = None;
                out.push(c);
            }
            Some(_) => {}
            None if c == '"' || c == '`' => {
                quote = Some(c);
                out.push(c);
                out.push('…');
                digits = false;
            }
            None if c.is_ascii_digit() => {
                if !digits {
                    out.push('#');
                }
                digits = true;
            }
            None => {
                digits = false;
                out.push(c);
            }
        }
    }
    out
}

/// Whether to print `msg` now: `Some` for the first [`SHOWN`] of its template, with
/// the count lines of other templates held back, to print first; `None` after (it is
/// counted).
pub(super) fn shown(kind: Kind, msg: &str) -> Option<Vec<(Kind, String)>> {
    let key = (kind, template(msg));
    let mut guard = REPEATS.lock().unwrap_or_else(|e| e.into_inner());
    let repeats = guard.get_or_insert_with(Repeats::default);
    let seen = repeats.by_template.entry(key.clone()).or_default();
    seen.count += 1;
    if seen.count > SHOWN {
        seen.example = msg.to_string();
        if seen.count - SHOWN - seen.told == 1 {
            repeats.pending.push(key);
        }
        return None;
    }
    Some(take_held(repeats))
}

/// The count lines of every template held back and not yet told, marked told.
pub(super) fn held() -> Vec<(Kind, String)> {
    let mut guard = REPEATS.lock().unwrap_or_else(|e| e.into_inner());
    match guard.as_mut() {
        Some(repeats) => take_held(repeats),
        None => Vec::new(),
    }
}

fn take_held(repeats: &mut Repeats) -> Vec<(Kind, String)> {
    let pending = std::mem::take(&mut repeats.pending);
    pending
        .into_iter()
        .filter_map(|key| {
            let seen = repeats.by_template.get_mut(&key)?;
            let more = seen.count.saturating_sub(SHOWN + seen.told);
            seen.told += more;
            (more > 0).then(|| {
                (
                    key.0,
                    format!(
                        "… and {} more like it (the last: {})",
                        super::thousands(more),
                        short(&seen.example)
                    ),
                )
            })
        })
        .collect()
}

/// At most 200 characters of a message, for a count line.
fn short(msg: &str) -> String {
    let mut t: String = msg.chars().take(200).collect();
    if t.len() < msg.len() {
        t.push('…');
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_blank_values_and_numbers() {
        assert_eq!(
            template(r#"maps/a.toml: [columns] "Kota 7" (for `city`) matches no column"#),
            r#"maps/a.toml: [columns] "…" (for `…`) matches no column"#
        );
        assert_eq!(template("row 12 (C12) and row 7"), "row # (C#) and row #");
    }

    #[test]
    fn a_template_is_counted_after_the_first_few() {
        let kind = Kind::Note;
        let shown_count = (0..20)
            .filter(|i| shown(kind, &format!("test-only repeat \"{i}\" at row {i}")).is_some())
            .count();
        assert_eq!(shown_count as u64, SHOWN);
        let told = held();
        let line = told
            .iter()
            .find(|(_, l)| l.contains("test-only repeat"))
            .map(|(_, l)| l.clone())
            .unwrap_or_default();
        assert!(line.starts_with("… and 15 more like it"), "{line}");
        // Told once: nothing is pending any more.
        assert!(!held().iter().any(|(_, l)| l.contains("test-only repeat")));
    }
}
