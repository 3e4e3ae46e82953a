//! The one place that writes to the terminal: notes, warnings, progress and summaries.
//!
//! Messages go to stderr so that `--json` output on stdout stays machine-readable;
//! progress bars appear only on a terminal and never with `--quiet`.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use indicatif::{HumanCount, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

pub mod log;
mod repeats;

use repeats::Kind;

/// Print the count lines of messages held back as repeats.
fn print_held(held: Vec<(Kind, String)>) {
    for (kind, line) in held {
        match kind {
            Kind::Note => eprintln!("note: {line}"),
            Kind::Warning => {
                let warning = paint(WARNING, "warning:");
                anstream::eprintln!("{warning} {line}");
            }
        }
    }
}

/// How chatty the terminal output is.
#[derive(Debug, Clone, Copy, Default)]
pub struct Printer {
    /// Only errors (and `--json` output).
    pub quiet: bool,
    /// Print the run summary as JSON on stdout.
    pub json: bool,
}

impl Printer {
    /// A note about what was understood (sheet, delimiter).
    pub fn note(&self, msg: &str) {
        if self.quiet {
            return;
        }
        if let Some(held) = repeats::shown(Kind::Note, msg) {
            print_held(held);
            eprintln!("note: {msg}");
        }
    }

    /// Something the user should look at, which does not stop the run.
    pub fn warn(&self, msg: &str) {
        if self.quiet {
            return;
        }
        if let Some(held) = repeats::shown(Kind::Warning, msg) {
            print_held(held);
            let warning = paint(WARNING, "warning:");
            anstream::eprintln!("{warning} {msg}");
        }
    }

    /// The error that ended the run.
    pub fn error(&self, msg: &str) {
        self.flush_repeats();
        let error = paint(ERROR, "error:");
        anstream::eprintln!("{error} {msg}");
    }

    /// Say how many notes and warnings were held back as repeats and not said yet (a
    /// message said more than five times is counted); the end of every command calls it.
    pub fn flush_repeats(&self) {
        if !self.quiet {
            print_held(repeats::held());
        }
    }

    /// Human summary lines (suppressed by `--quiet` and `--json`).
    pub fn summary(&self, lines: &[String]) {
        self.flush_repeats();
        if self.quiet || self.json {
            return;
        }
        let mut err = anstream::stderr().lock();
        for l in lines {
            let _ = writeln!(err, "{}", status_words(l));
        }
    }

    /// Machine summary on stdout, with `--json`.
    pub fn json(&self, value: &serde_json::Value) {
        if self.json {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{value}");
        }
    }

    /// A progress bar over `total` rows (a spinner when unknown), hidden when not useful:
    /// `1,234/10,000 · 12% · 320 rows/s · ETA 0:28 · OK 1,200 · failed 34`.
    pub fn progress(&self, total: Option<u64>, what: &str) -> ProgressBar {
        if self.quiet || log::enabled() || !std::io::stderr().is_terminal() {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr());
        let template = if total.is_some() {
            "{prefix} [{bar:30}] {count} · {percent}% · {rate} · ETA {left} {msg}"
        } else {
            "{prefix} {spinner} {count} rows · {rate} {msg}"
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            let style = style
                .with_key("count", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = match s.len() {
                        Some(len) => write!(w, "{}/{}", thousands(s.pos()), thousands(len)),
                        None => write!(w, "{}", thousands(s.pos())),
                    };
                })
                .with_key("rate", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = write!(w, "{} rows/s", thousands(s.per_sec().round() as u64));
                })
                .with_key("left", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                    let secs = s.eta().as_secs();
                    let _ = write!(w, "{}:{:02}", secs / 60, secs % 60);
                })
                .progress_chars("=> ");
            bar.set_style(style);
        }
        bar.set_prefix(what.to_string());
        bar.enable_steady_tick(Duration::from_millis(200));
        bar
    }
}

const ERROR: anstyle::Style = anstyle::AnsiColor::Red.on_default().bold();
const WARNING: anstyle::Style = anstyle::AnsiColor::Yellow.on_default().bold();
const GOOD: anstyle::Style = anstyle::AnsiColor::Green.on_default();
const BAD: anstyle::Style = anstyle::AnsiColor::Red.on_default();
const DOUBT: anstyle::Style = anstyle::AnsiColor::Yellow.on_default();

/// `--color`: whether the terminal output is coloured. `auto` colours a terminal unless
/// `NO_COLOR` is set (`CLICOLOR_FORCE` colours a pipe too), as anstream decides; text
/// written through it loses its colour codes when colour is off.
pub fn set_color(choice: clap::ColorChoice) {
    anstream::ColorChoice::write_global(match choice {
        clap::ColorChoice::Auto => anstream::ColorChoice::Auto,
        clap::ColorChoice::Always => anstream::ColorChoice::Always,
        clap::ColorChoice::Never => anstream::ColorChoice::Never,
    });
}

/// `--color` read straight from the arguments (`--color never`, `--color=always`), for
/// clap's own help and errors, which it prints before the arguments are parsed. The last
/// one wins, as when clap parses it; anything else is `auto`.
pub fn color_arg(args: impl IntoIterator<Item = std::ffi::OsString>) -> clap::ColorChoice {
    let mut choice = clap::ColorChoice::Auto;
    let mut next_is_value = false;
    for arg in args {
        let arg = arg.to_string_lossy().into_owned();
        if arg == "--" {
            break;
        }
        let value = match arg.strip_prefix("--color=") {
            Some(v) => Some(v.to_string()),
            None if next_is_value => Some(arg.clone()),
            None => None,
        };
        next_is_value = arg == "--color";
        match value.as_deref() {
            Some("always") => choice = clap::ColorChoice::Always,
            Some("never") => choice = clap::ColorChoice::Never,
            Some("auto") => choice = clap::ColorChoice::Auto,
            _ => {}
        }
    }
    choice
}

fn paint(style: anstyle::Style, text: &str) -> String {
    format!("{style}{text}{style:#}")
}

/// A summary line with its status words coloured where a count precedes them
/// (`12 OK`, `3 failed`, `1 unknown`, `2 invalid`), and nothing else.
fn status_words(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + 16);
    let mut prev_is_count = false;
    for (i, word) in line.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let bare = word.trim_end_matches([',', ';', ')', '.']);
        let style = match bare {
            "OK" => Some(GOOD),
            "failed" | "FAILED" => Some(BAD),
            "unknown" | "UNKNOWN" | "invalid" | "INVALID" => Some(DOUBT),
            _ => None,
        };
        match style {
            Some(style) if prev_is_count && !bare.is_empty() => {
                out.push_str(&paint(style, bare));
                out.push_str(&word[bare.len()..]);
            }
            _ => out.push_str(word),
        }
        prev_is_count = !word.is_empty() && word.chars().all(|c| c.is_ascii_digit() || c == ',');
    }
    out
}

/// Ask a yes/no question on the terminal. `None` when standard input is not a terminal
/// (a script, a pipe): the caller then asks for `--yes` instead of guessing.
pub fn ask(question: &str) -> Option<bool> {
    if !std::io::stdin().is_terminal() {
        return None;
    }
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    if std::io::stdin().read_line(&mut answer).is_err() {
        return Some(false);
    }
    Some(matches!(
        answer.trim().to_lowercase().as_str(),
        "y" | "yes" | "ya" | "e" | "evet"
    ))
}

/// `1234567` → `1,234,567`, for counts in summaries (indicatif's `HumanCount`).
pub fn thousands(n: u64) -> String {
    HumanCount(n).to_string()
}

/// `n` with the right form of its noun and grouped digits: `plural(1, "entry", "entries")`
/// → `1 entry`, `plural(1234, "entry", "entries")` → `1,234 entries`. Messages say
/// `1 row`, never `1 rows`.
pub fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", thousands(n), if n == 1 { one } else { many })
}

/// [`plural`] for a noun whose plural adds `s`: `count(1, "row")` → `1 row`,
/// `count(1234, "row")` → `1,234 rows`.
pub fn count(n: u64, noun: &str) -> String {
    plural(n, noun, &format!("{noun}s"))
}

/// An RFC 3339 time from the ledger in this computer's time zone, `2026-12-07 23:10`
/// (the text as stored when it cannot be read): `runs` and the run lock's messages.
pub fn local_time(rfc3339: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| {
            t.with_timezone(&chrono::Local)
                .format("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_else(|_| rfc3339.to_string())
}

/// A span of time as a person says it: `45 s`, `5 min`, `1 h 20 min`.
pub fn duration(d: std::time::Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min", s / 60),
        _ if s % 3600 / 60 == 0 => format!("{} h", s / 3600),
        _ => format!("{} h {} min", s / 3600, s % 3600 / 60),
    }
}

/// [`plural`] for an entity, which specs and the ledger name in the plural (`visits`,
/// `customers`): `records(1, "visits")` → `1 visit`.
pub fn records(n: u64, entity: &str) -> String {
    plural(n, entity.strip_suffix('s').unwrap_or(entity), entity)
}

#[cfg(test)]
mod tests {
    #[test]
    fn counts_use_the_singular_for_one() {
        assert_eq!(super::count(1, "row"), "1 row");
        assert_eq!(super::count(0, "row"), "0 rows");
        assert_eq!(super::count(1234, "row"), "1,234 rows");
        assert_eq!(super::plural(1, "entry", "entries"), "1 entry");
        assert_eq!(super::plural(2, "entry", "entries"), "2 entries");
        assert_eq!(super::records(1, "visits"), "1 visit");
        assert_eq!(super::records(3, "customers"), "3 customers");
    }

    #[test]
    fn status_words_are_painted_only_after_a_count() {
        let line = "5 rows → x: 3 OK, 0 skipped, 1 invalid, 1 failed, 0 unknown (0.1s)";
        let painted = super::status_words(line);
        assert!(painted.contains("\u{1b}[32mOK\u{1b}[0m,"), "{painted:?}");
        assert!(painted.contains("1 \u{1b}[31mfailed"), "{painted:?}");
        let plain = "the OK button failed";
        assert_eq!(super::status_words(plain), plain);
    }

    #[test]
    fn color_is_read_before_clap_parses() {
        let args = |a: &[&str]| super::color_arg(a.iter().map(std::ffi::OsString::from));
        assert_eq!(
            args(&["sheetload", "--color", "never", "import"]),
            clap::ColorChoice::Never
        );
        assert_eq!(
            args(&["sheetload", "--color=always"]),
            clap::ColorChoice::Always
        );
        assert_eq!(
            args(&["sheetload", "import", "x.csv"]),
            clap::ColorChoice::Auto
        );
        assert_eq!(
            args(&["sheetload", "--", "--color=never"]),
            clap::ColorChoice::Auto
        );
    }

    #[test]
    fn thousands_groups() {
        assert_eq!(super::thousands(0), "0");
        assert_eq!(super::thousands(1234), "1,234");
        assert_eq!(super::thousands(1234567), "1,234,567");
    }
}
