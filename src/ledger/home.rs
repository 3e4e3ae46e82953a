//! Where the ledger lives when the user has not said.

use std::ffi::OsString;
use std::path::PathBuf;

/// The directory name under the platform data directory.
const APP_DIR: &str = "sheetload";

/// The sheetload home: `$SHEETLOAD_HOME` when set (tests and portable installs point it
/// anywhere), else the platform's per-user data directory, so that the run history
/// follows the user rather than the current directory. Falls back to `./.sheetload`
/// only when the environment names no home at all.
pub fn default_home() -> PathBuf {
    home_from(&|name| std::env::var_os(name))
}

/// [`default_home`] over an injected environment, so it can be tested without touching
/// the process environment.
pub(super) fn home_from(var: &dyn Fn(&str) -> Option<OsString>) -> PathBuf {
    let var = |name: &str| var(name).filter(|v| !v.is_empty());
    if let Some(home) = var("SHEETLOAD_HOME") {
        return PathBuf::from(home);
    }
    platform_data_dir(&var)
        .map(|dir| dir.join(APP_DIR))
        .unwrap_or_else(|| PathBuf::from(".sheetload"))
}

#[cfg(target_os = "macos")]
fn platform_data_dir(var: &dyn Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    var("HOME").map(|home| {
        PathBuf::from(home)
            .join("Library")
            .join("Application Support")
    })
}

#[cfg(windows)]
fn platform_data_dir(var: &dyn Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    var("APPDATA").map(PathBuf::from)
}

#[cfg(all(unix, not(target_os = "macos")))]
fn platform_data_dir(var: &dyn Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    // The XDG spec says a relative XDG_DATA_HOME is invalid and must be ignored.
    var("XDG_DATA_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| var("HOME").map(|home| PathBuf::from(home).join(".local").join("share")))
}

#[cfg(not(any(unix, windows)))]
fn platform_data_dir(_var: &dyn Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    None
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
        let e = env(&[("SHEETLOAD_HOME", "/tmp/sl"), ("HOME", "/home/a")]);
        assert_eq!(home_from(&e), PathBuf::from("/tmp/sl"));
        let e = env(&[("SHEETLOAD_HOME", ""), ("HOME", "/home/a")]);
        assert_ne!(home_from(&e), PathBuf::from(""));
    }

    #[test]
    fn no_environment_falls_back_to_the_current_directory() {
        assert_eq!(home_from(&env(&[])), PathBuf::from(".sheetload"));
    }

    #[cfg(all(unix, not(target_os = "macos")))]
    #[test]
    fn linux_uses_xdg_data_home_then_local_share() {
        let e = env(&[("XDG_DATA_HOME", "/data"), ("HOME", "/home/a")]);
        assert_eq!(home_from(&e), PathBuf::from("/data/sheetload"));
        let e = env(&[("XDG_DATA_HOME", "relative"), ("HOME", "/home/a")]);
        assert_eq!(
            home_from(&e),
            PathBuf::from("/home/a/.local/share/sheetload")
        );
        let e = env(&[("HOME", "/home/a")]);
        assert_eq!(
            home_from(&e),
            PathBuf::from("/home/a/.local/share/sheetload")
        );
    }

    #[cfg(target_os = "macos")]
    #[test]
    fn macos_uses_application_support() {
        let e = env(&[("HOME", "/Users/a")]);
        assert_eq!(
            home_from(&e),
            PathBuf::from("/Users/a/Library/Application Support/sheetload")
        );
    }

    #[cfg(windows)]
    #[test]
    fn windows_uses_appdata() {
        let e = env(&[("APPDATA", r"C:\Users\a\AppData\Roaming")]);
        assert_eq!(
            home_from(&e),
            PathBuf::from(r"C:\Users\a\AppData\Roaming\sheetload")
        );
    }
}
