//! Coordinates: latitude, longitude and pasted "lat, lon" pairs.

use super::numbers::take_sign;
use super::{ValueError, all_ascii_digits, clean, is_trim_char, quoted, strip_suffix_ci};

/// Which coordinate a hemisphere letter belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Axis {
    Lat,
    Lon,
}

/// Hemisphere suffixes, longest first: English letters and the Indonesian
/// LU/LS (lintang utara/selatan) and BT/BB (bujur timur/barat).
const HEMISPHERES: [(&str, Axis, bool); 8] = [
    ("LU", Axis::Lat, false),
    ("LS", Axis::Lat, true),
    ("BT", Axis::Lon, false),
    ("BB", Axis::Lon, true),
    ("N", Axis::Lat, false),
    ("S", Axis::Lat, true),
    ("E", Axis::Lon, false),
    ("W", Axis::Lon, true),
];

/// Reads `-7.110383`, `7,110383°`, `7.11 S`, `110.47° BT` as signed degrees.
/// Returns the axis when a hemisphere letter names one.
fn read_coordinate(text: &str) -> Option<(f64, Option<Axis>)> {
    let mut s = clean(text);
    let mut hemisphere = None;
    // Every hemisphere suffix ends in an ASCII letter: a number's last digit has none.
    let lettered = s.as_bytes().last().is_some_and(u8::is_ascii_alphabetic);
    for (letters, axis, negate) in HEMISPHERES.into_iter().filter(|_| lettered) {
        if let Some(rest) = strip_suffix_ci(s, letters) {
            s = rest.trim_end_matches(is_trim_char);
            hemisphere = Some((axis, negate));
            break;
        }
    }
    s = s
        .strip_suffix('°')
        .unwrap_or(s)
        .trim_end_matches(is_trim_char);
    let (negative, body) = match take_sign(s) {
        Some((negative, rest)) => (negative, rest),
        None => (false, s),
    };
    if negative && hemisphere.is_some() {
        return None; // "-7.1 S": contradictory
    }
    let (int, frac) = body.split_once(['.', ',']).unwrap_or((body, "0"));
    if !all_ascii_digits(int) || !all_ascii_digits(frac) {
        return None;
    }
    // `body` is already `int.frac` unless its separator is a comma or it has none.
    let value: f64 = if !int.is_empty() && !body.contains(',') {
        body.parse().ok()?
    } else {
        format!("{int}.{frac}").parse().ok()?
    };
    let flip = negative || hemisphere.is_some_and(|(_, negate)| negate);
    let value = if flip { -value } else { value };
    Some((
        if value == 0.0 { 0.0 } else { value },
        hemisphere.map(|(axis, _)| axis),
    ))
}

fn in_lat_range(v: f64) -> bool {
    (-90.0..=90.0).contains(&v)
}

fn in_lon_range(v: f64) -> bool {
    (-180.0..=180.0).contains(&v)
}

fn parse_axis(text: &str, axis: Axis) -> Result<f64, ValueError> {
    let t = clean(text);
    let q = quoted(t);
    let (name, limit, example) = match axis {
        Axis::Lat => ("latitude", 90, "-7.110383 or 7.110383 S"),
        Axis::Lon => ("longitude", 180, "110.473812 or 110.473812 E"),
    };
    match read_coordinate(t) {
        Some((value, found)) if found.is_none_or(|a| a == axis) => {
            let ok = match axis {
                Axis::Lat => in_lat_range(value),
                Axis::Lon => in_lon_range(value),
            };
            if ok {
                Ok(value)
            } else {
                Err(ValueError::new(
                    "is out of range",
                    format!("{q} is outside −{limit}..{limit} for a {name}"),
                ))
            }
        }
        _ => Err(ValueError::new(
            if axis == Axis::Lat {
                "is not a latitude"
            } else {
                "is not a longitude"
            },
            format!("{q} is not a {name}: write decimal degrees such as {example}"),
        )),
    }
}

/// Reads a latitude in decimal degrees; N/S letters are honoured so pasted
/// GPS text keeps its sign.
pub fn parse_latitude(text: &str) -> Result<f64, ValueError> {
    parse_axis(text, Axis::Lat)
}

/// Reads a longitude in decimal degrees; E/W letters are honoured so pasted
/// GPS text keeps its sign.
pub fn parse_longitude(text: &str) -> Result<f64, ValueError> {
    parse_axis(text, Axis::Lon)
}

/// Ways to cut a pasted pair in two, most specific first.
fn location_candidates(s: &str) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    if s.matches(';').count() == 1 {
        out.extend(s.split_once(';'));
    }
    if s.matches(',').count() == 1 {
        out.extend(s.split_once(','));
    }
    if s.matches(", ").count() == 1 {
        out.extend(s.split_once(", "));
    }
    let words: Vec<&str> = s.split(is_trim_char).filter(|w| !w.is_empty()).collect();
    if let [a, b] = words.as_slice() {
        out.push((a, b));
    }
    out
}

/// Reads a "lat, lon" pair as Google Maps copies it, catching the classic
/// mistakes: swapped order and the 0, 0 placeholder.
pub fn parse_location(text: &str) -> Result<(f64, f64), ValueError> {
    let t = clean(text);
    let q = quoted(t);
    let inner = t
        .strip_prefix('(')
        .and_then(|s| s.strip_suffix(')'))
        .or_else(|| t.strip_prefix('[').and_then(|s| s.strip_suffix(']')))
        .map(clean)
        .unwrap_or(t);
    let pair = location_candidates(inner)
        .into_iter()
        .find_map(|(a, b)| Some((read_coordinate(a)?, read_coordinate(b)?)));
    let Some(((lat, lat_axis), (lon, lon_axis))) = pair else {
        return Err(ValueError::new(
            "is not a \"lat, lon\" pair",
            format!(
                "{q} is not a \"lat, lon\" pair: paste it as Google Maps shows it, e.g. -7.110383, 110.473812"
            ),
        ));
    };
    let letters_swapped = lat_axis == Some(Axis::Lon) || lon_axis == Some(Axis::Lat);
    let numbers_swapped = !in_lat_range(lat) && in_lon_range(lat) && in_lat_range(lon);
    if letters_swapped || numbers_swapped {
        return Err(ValueError::new(
            "looks swapped (lon, lat)",
            format!("{q} looks swapped (lon, lat): write the latitude first, e.g. {lon}, {lat}"),
        ));
    }
    if !in_lat_range(lat) || !in_lon_range(lon) {
        return Err(ValueError::new(
            "is out of range",
            format!(
                "{q} is out of range: latitude must be within −90..90 and longitude within −180..180"
            ),
        ));
    }
    if lat == 0.0 && lon == 0.0 {
        return Err(ValueError::new(
            "is not a real location",
            format!(
                "{q} is not a real location: 0, 0 is a placeholder; leave the cell empty if the location is unknown"
            ),
        ));
    }
    Ok((lat, lon))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::values::test_support::*;
    use proptest::prelude::*;

    // ---- coordinates ----

    #[test]
    fn latitudes() {
        assert_eq!(parse_latitude("-7.110383"), Ok(-7.110383));
        assert_eq!(parse_latitude("-7,110383"), Ok(-7.110383));
        assert_eq!(parse_latitude("7.110383°"), Ok(7.110383));
        assert_eq!(parse_latitude("7.110383° S"), Ok(-7.110383));
        assert_eq!(parse_latitude("7.110383s"), Ok(-7.110383));
        assert_eq!(parse_latitude("7.11 N"), Ok(7.11));
        assert_eq!(parse_latitude("7,11° LS"), Ok(-7.11));
        assert_eq!(parse_latitude("+7.11"), Ok(7.11));
        assert_eq!(parse_latitude("90"), Ok(90.0));
        assert_eq!(parse_latitude("-90"), Ok(-90.0));
        assert_eq!(parse_latitude("90 S"), Ok(-90.0));
        assert_eq!(summary(parse_latitude("123.4")), "is out of range");
        assert_eq!(
            detail(parse_latitude("123.4")),
            "'123.4' is outside −90..90 for a latitude"
        );
        assert_eq!(summary(parse_latitude("-90.0001")), "is out of range");
        for bad in [
            "abc",
            "7.1 E",
            "-7.1 S",
            "7.1.2",
            "7,1,2",
            "1 234",
            "7°06'37\"S",
            "1e2",
            "",
            "°",
            "N",
        ] {
            assert_eq!(summary(parse_latitude(bad)), "is not a latitude", "{bad}");
        }
    }

    #[test]
    fn longitudes() {
        assert_eq!(parse_longitude("110.473812"), Ok(110.473812));
        assert_eq!(parse_longitude("110,473812"), Ok(110.473812));
        assert_eq!(parse_longitude("110.47° E"), Ok(110.47));
        assert_eq!(parse_longitude("110.47 W"), Ok(-110.47));
        assert_eq!(parse_longitude("110.47 BB"), Ok(-110.47));
        assert_eq!(parse_longitude("110.47 bt"), Ok(110.47));
        assert_eq!(parse_longitude("180"), Ok(180.0));
        assert_eq!(parse_longitude("-180"), Ok(-180.0));
        assert_eq!(summary(parse_longitude("180.5")), "is out of range");
        assert_eq!(
            detail(parse_longitude("200")),
            "'200' is outside −180..180 for a longitude"
        );
        for bad in ["abc", "110 N", "110 LS", "--110", "110.47.1"] {
            assert_eq!(summary(parse_longitude(bad)), "is not a longitude", "{bad}");
        }
    }

    #[test]
    fn locations() {
        let expected = Ok((-7.110383, 110.473812));
        for text in [
            "-7.110383, 110.473812",
            "-7.110383,110.473812",
            "-7.110383;110.473812",
            "-7.110383 110.473812",
            "-7,110383; 110,473812",
            "-7,110383 110,473812",
            "-7,110383, 110,473812",
            "(-7.110383, 110.473812)",
            "( -7.110383 , 110.473812 )",
            "[-7.110383, 110.473812]",
            "7.110383° S, 110.473812° E",
            "7.110383S 110.473812E",
            "\u{a0}-7.110383,\u{a0}110.473812\u{a0}",
        ] {
            assert_eq!(parse_location(text), expected, "{text}");
        }
        assert_eq!(parse_location("0, 1"), Ok((0.0, 1.0)));
        assert_eq!(parse_location("90, 180"), Ok((90.0, 180.0)));
    }

    #[test]
    fn location_errors() {
        assert_eq!(
            summary(parse_location("110.473812, -7.110383")),
            "looks swapped (lon, lat)"
        );
        assert_eq!(
            detail(parse_location("110.473812, -7.110383")),
            "'110.473812, -7.110383' looks swapped (lon, lat): write the latitude first, e.g. -7.110383, 110.473812"
        );
        assert_eq!(
            summary(parse_location("110.47 E, 7.11 S")),
            "looks swapped (lon, lat)"
        );
        assert_eq!(summary(parse_location("0, 0")), "is not a real location");
        assert_eq!(summary(parse_location("0.0;0.0")), "is not a real location");
        assert_eq!(summary(parse_location("95, 200")), "is out of range");
        assert_eq!(summary(parse_location("-7.1, 190")), "is out of range");
        for bad in [
            "abc",
            "-7.110383",
            "-7.1, 110.4, 3",
            "-7.1 110.4 3",
            "-7.1;110.4;3",
            "lat, lon",
            "(-7.1, 110.4",
            "-7,1,110,4",
        ] {
            assert_eq!(
                summary(parse_location(bad)),
                "is not a \"lat, lon\" pair",
                "{bad}"
            );
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn locations_round_trip(lat in -90.0f64..=90.0, lon in -180.0f64..=180.0) {
            prop_assume!(!(lat == 0.0 && lon == 0.0));
            let parsed = parse_location(&format!("{lat}, {lon}"));
            prop_assert!(
                parsed.as_ref().is_ok_and(|(a, b)| (a - lat).abs() < 1e-9 && (b - lon).abs() < 1e-9),
                "{}, {} -> {:?}", lat, lon, parsed
            );
            prop_assert_eq!(parse_latitude(&lat.to_string()), Ok(lat));
            prop_assert_eq!(parse_longitude(&lon.to_string()), Ok(lon));
        }
    }
}
