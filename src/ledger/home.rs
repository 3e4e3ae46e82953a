//! Where the ledger lives, and where `sheetload.toml` is looked for, when the user has
//! not said. The platform directories come from the `etcetera` crate (XDG on Linux,
//! Application Support on macOS, `%APPDATA%` on Windows); `SHEETLOAD_HOME` overrides
//! them all.

use std::ffi::OsString;
use std::path::PathBuf;

use etcetera::BaseStrategy as _;

/// The directory name under the platform data and config directories.
const APP_DIR: &str = "sheetload";

/// The sheetload home: `$SHEETLOAD_HOME` when set (tests and portable installs point it
/// anywhere), else the platform's per-user data directory (`$XDG_DATA_HOME/sheetload`,
/// `~/.local/share/sheetload`, `~/Library/Application Support/sheetload`,
/// `%APPDATA%\sheetload`), so that the run history follows the user rather than the
/// current directory. Falls back to `./.sheetload` only when no home directory is known.
pub fn default_home() -> PathBuf {
    home_from(&|name| std::env::var_os(name), platform_data_dir)
}

/// The folders `sheetload.toml` is looked for in after the current directory: only
/// `$SHEETLOAD_HOME` when it is set (a portable install keeps everything there), else
/// the platform config directory (`$XDG_CONFIG_HOME/sheetload`, `~/.config/sheetload`,
/// `%APPDATA%\sheetload`) and then the data directory the ledger is in.
pub fn config_dirs() -> Vec<PathBuf> {
    if let Some(home) = sheetload_home(&|name| std::env::var_os(name)) {
        return vec![home];
    }
    let mut dirs: Vec<PathBuf> = etcetera::choose_base_strategy()
        .ok()
        .map(|s| s.config_dir().join(APP_DIR))
        .into_iter()
        .collect();
    let data = default_home();
    if !dirs.contains(&data) {
        dirs.push(data);
    }
    dirs
}

fn sheetload_home(var: &dyn Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    var("SHEETLOAD_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// [`default_home`] over an injected environment and platform directory, so it can be
/// tested without touching the process environment.
fn home_from(
    var: &dyn Fn(&str) -> Option<OsString>,
    platform: impl FnOnce() -> Option<PathBuf>,
) -> PathBuf {
    sheetload_home(var)
        .or_else(|| platform().map(|dir| dir.join(APP_DIR)))
        .unwrap_or_else(|| PathBuf::from(".sheetload"))
}

/// The per-user data directory by the platform's own convention (etcetera's native
/// strategy: Application Support on macOS rather than XDG), as sheetload always used.
fn platform_data_dir() -> Option<PathBuf> {
    etcetera::base_strategy::choose_native_strategy()
        .ok()
        .map(|s| s.data_dir())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
        let pairs: Vec<(String, OsString)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), OsString::from(v)))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }
    }

    #[test]
    fn sheetload_home_wins_when_set_and_not_empty() {
        let platform = || Some(PathBuf::from("/data"));
        let e = env(&[("SHEETLOAD_HOME", "/tmp/sl")]);
        assert_eq!(home_from(&e, platform), PathBuf::from("/tmp/sl"));
        let e = env(&[("SHEETLOAD_HOME", "")]);
        assert_eq!(home_from(&e, platform), PathBuf::from("/data/sheetload"));
    }

    #[test]
    fn no_home_directory_falls_back_to_the_current_directory() {
        assert_eq!(home_from(&env(&[]), || None), PathBuf::from(".sheetload"));
    }
}
