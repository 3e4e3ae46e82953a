//! Where to send: flags, then `SHEETLOAD_*` variables, then a profile in `sheetload.toml`;
//! or an in-process sandbox with `--sandbox`. The password comes from
//! `SHEETLOAD_PASSWORD` or a terminal prompt, never from argv or a file.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use std::sync::Arc;

use crate::connector::Secret;
use crate::connector::salesmania::{Fields, Paths, SalesMania, Settings};
use crate::error::{Error, Result};
use crate::sandbox::{Sandbox, SandboxHandle, SandboxOptions};
use crate::spec::Entity;
use crate::ui::Printer;

/// Connection choices from the command line (never a credential).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ConnectionArgs {
    /// `--base-url`.
    pub base_url: Option<String>,
    /// `--database` (id or name).
    pub database: Option<String>,
    /// `--profile`.
    pub profile: Option<String>,
    /// `--allow-http`: plain http to a non-loopback host.
    pub allow_http: bool,
    /// `--sandbox`: an in-process sandbox instead of a real account.
    pub sandbox: bool,
    /// A user name typed in the browser (`sheetload ui`), before `SHEETLOAD_USER` /
    /// `SHEETLOAD_API_USERNAME`; never stored with a run.
    #[serde(skip)]
    pub user: Option<String>,
    /// A password or API key typed in the browser, held in memory only: before
    /// `SHEETLOAD_PASSWORD` / `SHEETLOAD_API_KEY`; never stored, shown or logged.
    #[serde(skip)]
    pub secret: Option<Secret>,
}

/// One profile of `sheetload.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Profile {
    base_url: Option<String>,
    user: Option<String>,
    database: Option<String>,
    /// A mapping file for the sheets imported with this profile, relative to the
    /// folder of the `sheetload.toml` that names it; `--map` wins.
    map: Option<PathBuf>,
    /// Always show the plan and ask before sending (`--confirm` for every import).
    #[serde(default)]
    confirm: bool,
    /// Requests the account may send per day (UTC), when the API does not say: a run
    /// parks (exit 75) when it has sent that many.
    quota_per_day: Option<u64>,
    #[serde(default)]
    paths: Option<Paths>,
    #[serde(default)]
    fields: Option<Fields>,
    /// Where it was read from, for messages about its values:
    /// `[profile.default] of sheetload.toml` (empty for no profile).
    #[serde(skip)]
    origin: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileFile {
    #[serde(default)]
    profile: BTreeMap<String, Profile>,
}

/// `sheetload.toml` in the current directory, else in the platform config directory
/// or the data directory (only `SHEETLOAD_HOME` when it is set): see
/// [`crate::ledger::config_dirs`].
fn profile_path() -> Option<PathBuf> {
    let here = PathBuf::from("sheetload.toml");
    if here.is_file() {
        return Some(here);
    }
    crate::ledger::config_dirs()
        .into_iter()
        .map(|dir| dir.join("sheetload.toml"))
        .find(|p| p.is_file())
}

fn load_profile(name: Option<&str>) -> Result<Profile> {
    let Some(path) = profile_path() else {
        return match name {
            Some(n) => Err(Error::usage(format!(
                "--profile {n}: no sheetload.toml here or in {}",
                crate::ledger::config_dirs()
                    .iter()
                    .map(|d| d.display().to_string())
                    .collect::<Vec<_>>()
                    .join(" or ")
            ))),
            None => Ok(Profile::default()),
        };
    };
    let text = std::fs::read_to_string(&path).map_err(|e| {
        Error::usage(format!(
            "cannot read {}: {}",
            path.display(),
            crate::input::io_reason(&e)
        ))
    })?;
    if text.lines().any(|l| l.trim_start().starts_with("password")) {
        return Err(Error::usage(format!(
            "{} holds a password: remove it and use SHEETLOAD_PASSWORD (or the prompt) instead",
            path.display()
        )));
    }
    let mut file: ProfileFile = toml::from_str(&text).map_err(|e| {
        Error::usage(format!(
            "{}; fix it, or move it away to run without profiles",
            crate::mapping::describe_toml_error(&path.display().to_string(), &text, &e)
        ))
    })?;
    let wanted = name.unwrap_or("default");
    match file.profile.remove(wanted) {
        Some(mut p) => {
            let folder = path.parent().unwrap_or(std::path::Path::new(""));
            p.map = p.map.map(|m| folder.join(m));
            p.origin = format!("[profile.{wanted}] of {}", path.display());
            Ok(p)
        }
        None if name.is_none() => Ok(Profile::default()),
        None => Err(Error::usage(format!(
            "{} has no [profile.{wanted}]; it has: {}",
            path.display(),
            file.profile.keys().cloned().collect::<Vec<_>>().join(", ")
        ))),
    }
}

/// The mapping file named by the profile in use (`--profile`, else `SHEETLOAD_PROFILE`,
/// else `default`), resolved against the folder of its `sheetload.toml`; `None` when
/// there is no such file, profile or `map`. The caller lets `--map` win.
pub fn profile_map(profile: Option<&str>) -> Result<Option<PathBuf>> {
    let name = profile
        .map(str::to_string)
        .or_else(|| env("SHEETLOAD_PROFILE"));
    Ok(load_profile(name.as_deref())?.map)
}

/// Whether the profile (`--profile`, `SHEETLOAD_PROFILE` or the default one) asks to
/// confirm every import's plan before anything is sent.
pub fn profile_confirms(profile: Option<&str>) -> Result<bool> {
    let name = profile
        .map(str::to_string)
        .or_else(|| env("SHEETLOAD_PROFILE"));
    Ok(load_profile(name.as_deref())?.confirm)
}

/// The profile's `quota_per_day` (`--profile`, `SHEETLOAD_PROFILE` or the default one).
pub fn profile_quota(profile: Option<&str>) -> Result<Option<u64>> {
    let name = profile
        .map(str::to_string)
        .or_else(|| env("SHEETLOAD_PROFILE"));
    Ok(load_profile(name.as_deref())?
        .quota_per_day
        .filter(|n| *n > 0))
}

/// The multi-threaded runtime a command's requests run on.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::usage(format!("cannot start the network runtime: {e}")))
}

/// Whether any target is configured (flag, variable, profile or `--sandbox`); without
/// one, `import --dry-run` validates offline.
pub fn has_target(args: &ConnectionArgs) -> bool {
    if args.sandbox || args.base_url.is_some() || env("SHEETLOAD_BASE_URL").is_some() {
        return true;
    }
    let name = args.profile.clone().or_else(|| env("SHEETLOAD_PROFILE"));
    name.is_some() || load_profile(None).is_ok_and(|p| p.base_url.is_some())
}

/// The base URL to use (flag, then variable, then the profile) checked, with a failed
/// check saying where the URL came from: a wrong URL in a profile is fixed there.
fn base_url_from(
    args: &ConnectionArgs,
    profile: &Profile,
    missing: impl FnOnce() -> Error,
) -> Result<reqwest::Url> {
    let (url, origin) = if let Some(u) = &args.base_url {
        (u.clone(), "--base-url".to_string())
    } else if let Some(u) = env("SHEETLOAD_BASE_URL") {
        (u, "SHEETLOAD_BASE_URL".to_string())
    } else if let Some(u) = &profile.base_url {
        (u.clone(), format!("base_url in {}", profile.origin))
    } else {
        return Err(missing());
    };
    crate::connector::check_base_url(&url, args.allow_http)
        .map_err(|e| Error::usage(format!("{origin}: {e}")))
}

/// A `SHEETLOAD_*` variable, blank meaning unset. The command line reads
/// `SHEETLOAD_BASE_URL`, `SHEETLOAD_DATABASE` and `SHEETLOAD_PROFILE` through clap
/// (`#[arg(env)]`, so `--help` shows them); this second reading serves the configs clap
/// did not build: runs stored before that (resume, retry), `validate`'s profile, other
/// front ends. Credentials (`SHEETLOAD_PASSWORD`, `SHEETLOAD_API_KEY`) are read only
/// here: they must have no flag that would put them in argv.
fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Resolve the connection; with `--sandbox`, start one in this process (the handle must
/// live as long as the run).
pub async fn settings(
    args: &ConnectionArgs,
    timeout: Duration,
    pool: usize,
    ui: &Printer,
) -> Result<(Settings, Option<SandboxHandle>)> {
    if args.sandbox {
        let handle = Sandbox::start(SandboxOptions::default())
            .await
            .map_err(|e| Error::usage(format!("cannot start the sandbox: {e}")))?;
        ui.note(&format!(
            "using an in-process sandbox at {} (nothing leaves this machine)",
            handle.base_url()
        ));
        let base_url = crate::connector::check_base_url(&handle.base_url(), false)?;
        let settings = Settings {
            base_url,
            user: "demo".into(),
            password: Secret::new("demo"),
            database: Some(args.database.clone().unwrap_or_else(|| "1".into())),
            timeout,
            pool,
            paths: Paths::default(),
            fields: Fields::default(),
        };
        return Ok((settings, Some(handle)));
    }
    let profile_name = args.profile.clone().or_else(|| env("SHEETLOAD_PROFILE"));
    let profile = load_profile(profile_name.as_deref())?;
    let base_url = base_url_from(args, &profile, || {
        Error::usage(
            "no target given: set --base-url or SHEETLOAD_BASE_URL (e.g. https://api.salesmania.id), use a profile in sheetload.toml, or try --sandbox",
        )
    })?;
    let user = args
        .user
        .clone()
        .or_else(|| env("SHEETLOAD_USER"))
        .or(profile.user)
        .ok_or_else(|| {
            Error::usage("no user given: set SHEETLOAD_USER (or `user` in the profile)")
        })?;
    let password = match args
        .secret
        .clone()
        .or_else(|| env("SHEETLOAD_PASSWORD").map(Secret::new))
    {
        Some(p) => p,
        None if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() => {
            let prompt = format!(
                "password for {user} at {}: ",
                base_url.host_str().unwrap_or("the API")
            );
            Secret::new(rpassword::prompt_password(prompt).map_err(|e| {
                Error::usage(format!("cannot read the password from the terminal: {e}"))
            })?)
        }
        None => {
            return Err(Error::usage(
                "no password: set SHEETLOAD_PASSWORD (a password is never taken from the command line)",
            ));
        }
    };
    let database = args
        .database
        .clone()
        .or_else(|| env("SHEETLOAD_DATABASE"))
        .or(profile.database);
    Ok((
        Settings {
            base_url,
            user,
            password,
            database,
            timeout,
            pool,
            paths: profile.paths.unwrap_or_default(),
            fields: profile.fields.unwrap_or_default(),
        },
        None,
    ))
}

/// Resolve the connection and sign in; the sandbox handle (if any) must outlive the client.
pub async fn connect(
    args: &ConnectionArgs,
    timeout: Duration,
    pool: usize,
    ui: &Printer,
) -> Result<(Arc<SalesMania>, Option<SandboxHandle>)> {
    let (settings, sandbox) = settings(args, timeout, pool, ui).await?;
    let http = crate::connector::http_client(timeout, pool)?;
    Ok((
        Arc::new(SalesMania::connect(http, settings).await?),
        sandbox,
    ))
}

/// A signed-in target, whichever kind: what import, export and runs need to know.
pub struct Connected {
    /// How messages name where a run writes (`"Demo" (db 1)`, `Fatura Entegratör at
    /// host`), as the target says.
    pub destination: String,
    /// Authenticated requests.
    pub transport: Arc<dyn crate::connector::Transport>,
    /// The base URL (no credentials).
    pub base_url: String,
    /// Where a run writes (SalesMania: the database; keyed targets: the account).
    pub database: crate::connector::Database,
    /// Collection paths by entity.
    pub collections: std::collections::HashMap<Entity, String>,
    /// An in-process sandbox, kept alive for the run.
    pub sandbox: Option<SandboxHandle>,
    /// Payload path → the value the target gives a record that leaves it out
    /// (SalesMania: `team_id`, the team named in the team token), for matching rows
    /// against the target's records by content.
    pub filled_by_target: Vec<(String, String)>,
}

impl Connected {
    /// Where the run writes, for summaries.
    pub fn destination(&self) -> String {
        self.destination.clone()
    }

    /// The collection path of an entity.
    pub fn collection(&self, entity: Entity) -> Option<&str> {
        self.collections.get(&entity).map(String::as_str)
    }
}

/// The address of a target signed in by key (`--sandbox`: an in-process sandbox serving
/// every target); `hint` is an example address for the message when none is given.
pub async fn key_target_address(
    args: &ConnectionArgs,
    label: &str,
    hint: &str,
    ui: &Printer,
) -> Result<(reqwest::Url, Option<SandboxHandle>)> {
    let (base, sandbox) = if args.sandbox {
        let handle = Sandbox::start(SandboxOptions::default())
            .await
            .map_err(|e| Error::usage(format!("cannot start the sandbox: {e}")))?;
        ui.note(&format!(
            "using an in-process sandbox at {} (nothing leaves this machine)",
            handle.base_url()
        ));
        (handle.base_url(), Some(handle))
    } else {
        let profile_name = args.profile.clone().or_else(|| env("SHEETLOAD_PROFILE"));
        let profile = load_profile(profile_name.as_deref())?;
        let base = base_url_from(args, &profile, || {
            Error::usage(format!(
                "no {label} address given: set --base-url or SHEETLOAD_BASE_URL ({hint}), or try --sandbox"
            ))
        })?;
        (base.to_string(), None)
    };
    Ok((
        crate::connector::check_base_url(&base, args.allow_http)?,
        sandbox,
    ))
}

/// The API key: `SHEETLOAD_API_KEY`, or asked for on a terminal; never argv. With
/// `--sandbox`, the sandbox's demo key.
pub fn api_key(
    args: &ConnectionArgs,
    sandbox_key: &str,
    base_url: &reqwest::Url,
) -> Result<Secret> {
    if args.sandbox {
        return Ok(Secret::new(sandbox_key));
    }
    if let Some(k) = &args.secret {
        return Ok(k.clone());
    }
    match env("SHEETLOAD_API_KEY") {
        Some(k) => Ok(Secret::new(k)),
        None if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() => {
            rpassword::prompt_password(format!(
                "API key for {}: ",
                base_url.host_str().unwrap_or("the API")
            ))
            .map(Secret::new)
            .map_err(|e| Error::usage(format!("cannot read the API key from the terminal: {e}")))
        }
        None => Err(Error::usage(
            "no API key: set SHEETLOAD_API_KEY (a key is never taken from the command line)",
        )),
    }
}

/// A variable of the environment, when set and not blank.
pub fn env_var(name: &str) -> Option<String> {
    env(name)
}

/// A target signed in by key: its client and where it writes (the target's label, the
/// host as id).
pub fn key_target(
    label: &str,
    base_url: reqwest::Url,
    auth: crate::connector::keyed::KeyAuth,
    collections: std::collections::HashMap<Entity, String>,
    sandbox: Option<SandboxHandle>,
    timeout: Duration,
    pool: usize,
) -> Result<Connected> {
    let http = crate::connector::http_client(timeout, pool)?;
    let client = Arc::new(crate::connector::keyed::KeyedClient::new(
        http,
        base_url.clone(),
        auth,
        Fields::default(),
    ));
    let database = crate::connector::Database {
        id: base_url.host_str().unwrap_or_default().to_string(),
        name: label.to_string(),
    };
    Ok(Connected {
        destination: format!("{} at {}", database.name, database.id),
        transport: client,
        base_url: base_url.to_string(),
        database,
        collections,
        sandbox,
        filled_by_target: Vec::new(),
    })
}
