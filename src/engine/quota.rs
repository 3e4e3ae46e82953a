//! The run parked for the API's quota, in the user's words: how many rows are left, when
//! the quota resets (in UTC, and how long from now), and the two ways on.

use std::time::{Duration, SystemTime};

use crate::ui::thousands;

/// `7 h 12 m`, `12 m`, `45 s`.
pub fn span(d: Duration) -> String {
    let s = d.as_secs();
    match (s / 3600, (s % 3600) / 60) {
        (0, 0) => format!("{s} s"),
        (0, m) => format!("{m} m"),
        (h, m) => format!("{h} h {m} m"),
    }
}

/// `00:00 UTC (in 7 h 12 m)`; the date too when it is not today.
pub fn reset_text(at: SystemTime) -> String {
    let when = chrono::DateTime::<chrono::Utc>::from(at);
    let today = chrono::Utc::now().date_naive();
    let clock =
        if when.date_naive() == today || when.date_naive() == today.succ_opt().unwrap_or(today) {
            when.format("%H:%M UTC").to_string()
        } else {
            when.format("%Y-%m-%d %H:%M UTC").to_string()
        };
    let left = at.duration_since(SystemTime::now()).unwrap_or_default();
    format!("{clock} (in {})", span(left))
}

/// What a parked run tells the user: "4,312 rows left; the quota resets at 00:00 UTC
/// (in 7 h 12 m): `sheetload resume 14` then, or run with `--wait-for-quota`".
pub fn parked_message(rows_left: u64, at: SystemTime, run: Option<i64>) -> String {
    let rows = if rows_left == 1 {
        "1 row left".to_string()
    } else {
        format!("{} rows left", thousands(rows_left))
    };
    let resume = match run {
        Some(id) => format!("`sheetload resume {id}`"),
        None => "`sheetload resume`".to_string(),
    };
    format!(
        "{rows}; the quota resets at {}: {resume} then, or run with `--wait-for-quota`",
        reset_text(at)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_park_message_says_rows_reset_and_the_ways_on() {
        let at = SystemTime::now() + Duration::from_secs(7 * 3600 + 12 * 60 + 30);
        let m = parked_message(4312, at, Some(14));
        assert!(
            m.starts_with("4,312 rows left; the quota resets at "),
            "{m}"
        );
        assert!(
            m.contains(
                "UTC (in 7 h 12 m): `sheetload resume 14` then, or run with `--wait-for-quota`"
            ),
            "{m}"
        );
        assert_eq!(span(Duration::from_secs(59)), "59 s");
        assert_eq!(span(Duration::from_secs(600)), "10 m");
    }
}
