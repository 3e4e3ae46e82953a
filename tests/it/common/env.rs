//! `TestEnv`: the one fluent runner of the real `sheetload` binary. A temp dir (also its
//! `SHEETLOAD_HOME`), optionally a sandbox it starts or one it is pointed at, the target
//! whose demo credentials it passes, files written into the dir, and the command line.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use sheetload::sandbox::{SandboxOptions, ThreadSandbox, spawn_in_thread};

/// Which API a run talks to: decides the demo credentials a connected command gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// User `demo`, password `demo`, database `1` (the sandbox's defaults).
    SalesMania,
    /// `api-username` `admin`, `api-key` `tf-demo-key`.
    Trackfinity,
    /// Bearer key `fe-demo-key`.
    Fatura,
}

impl Target {
    /// The value `--target` takes for this API.
    pub fn name(self) -> &'static str {
        match self {
            Target::SalesMania => "salesmania",
            Target::Trackfinity => "trackfinity",
            Target::Fatura => "fatura",
        }
    }

    /// The environment that signs a client in to the sandbox's default account.
    pub fn credentials(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Target::SalesMania => &[
                ("SHEETLOAD_USER", "demo"),
                ("SHEETLOAD_PASSWORD", "demo"),
                ("SHEETLOAD_DATABASE", "1"),
            ],
            Target::Trackfinity => &[
                ("SHEETLOAD_API_KEY", "tf-demo-key"),
                ("SHEETLOAD_API_USERNAME", "admin"),
            ],
            Target::Fatura => &[("SHEETLOAD_API_KEY", "fe-demo-key")],
        }
    }
}

/// The `sheetload` binary run in `dir`, which is also its `SHEETLOAD_HOME` (ledger, caches).
pub fn sheetload_in(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sheetload"));
    c.current_dir(dir).env("SHEETLOAD_HOME", dir);
    c
}

/// [`sheetload_in`] `dir`, pointed at `base_url` with `target`'s demo credentials.
pub fn connected(dir: &Path, base_url: &str, target: Target) -> Command {
    let mut c = sheetload_in(dir);
    c.env("SHEETLOAD_BASE_URL", base_url)
        .envs(target.credentials().iter().copied());
    c
}

/// [`connected`] to a SalesMania sandbox at `base_url` with the demo credentials and
/// database 1: for tests that spawn and kill the client in a dir of their own.
pub fn demo_command(dir: &Path, base_url: &str) -> Command {
    connected(dir, base_url, Target::SalesMania)
}

/// A run of the `sheetload` binary in its own temp dir, built step by step:
/// `TestEnv::new().sandbox(opts).file("c.csv", csv).args([...]).run()`.
pub struct TestEnv {
    dir: tempfile::TempDir,
    /// A sandbox this env started and owns (stopped when the env or its result drops).
    owned: Option<ThreadSandbox>,
    base_url: Option<String>,
    target: Target,
    args: Vec<String>,
    envs: Vec<(String, String)>,
    stdin_null: bool,
}

impl Default for TestEnv {
    fn default() -> Self {
        Self::new()
    }
}

impl TestEnv {
    /// A fresh temp dir, no connection, no arguments.
    pub fn new() -> Self {
        TestEnv {
            dir: tempfile::tempdir().expect("temp dir"),
            owned: None,
            base_url: None,
            target: Target::SalesMania,
            args: Vec::new(),
            envs: Vec::new(),
            stdin_null: false,
        }
    }

    /// Start an in-process sandbox with `opts` and connect to it (the env owns it).
    pub fn sandbox(mut self, opts: SandboxOptions) -> Self {
        let sb = spawn_in_thread(opts).expect("sandbox starts");
        self.base_url = Some(sb.base_url());
        self.owned = Some(sb);
        self
    }

    /// Connect to a sandbox the test started (and shares between several envs).
    pub fn against(self, sb: &ThreadSandbox) -> Self {
        self.base_url(&sb.base_url())
    }

    /// Connect to any server at `url` (e.g. a fake written by the test).
    pub fn base_url(mut self, url: &str) -> Self {
        self.base_url = Some(url.to_owned());
        self
    }

    /// Which target's demo credentials a connected run gets (default SalesMania).
    pub fn target(mut self, target: Target) -> Self {
        self.target = target;
        self
    }

    /// The sandbox this env started; panics when it started none.
    pub fn server(&self) -> &ThreadSandbox {
        self.owned
            .as_ref()
            .expect("this TestEnv started no sandbox: call .sandbox(opts) first")
    }

    /// The `/_sandbox/stats` document of the sandbox this env started.
    pub fn stats(&self) -> Value {
        self.server().stats()
    }

    /// The run's directory (also its `SHEETLOAD_HOME`).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Path of a file inside the run's directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Write a file into the run's directory.
    pub fn file(self, name: &str, bytes: impl AsRef<[u8]>) -> Self {
        std::fs::write(self.path(name), bytes).expect("write fixture");
        self
    }

    /// Let a closure build a file (e.g. an XLSX) at the given path.
    pub fn build(self, name: &str, f: impl FnOnce(&Path)) -> Self {
        f(&self.path(name));
        self
    }

    /// Append command-line arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.args
            .extend(args.into_iter().map(|s| s.as_ref().to_string()));
        self
    }

    /// Set an environment variable for the run (after the connection's, so it wins).
    pub fn env(mut self, k: &str, v: &str) -> Self {
        self.envs.push((k.into(), v.into()));
        self
    }

    /// Give a spawned run no stdin, as in CI (a run through `.run()` never has one).
    pub fn stdin_null(mut self) -> Self {
        self.stdin_null = true;
        self
    }

    /// The configured command, to spawn, signal or kill it; `.run()` runs it to the end.
    pub fn command(&self) -> Command {
        let mut c = sheetload_in(self.dir.path());
        c.env_remove("SHEETLOAD_PASSWORD");
        if let Some(url) = &self.base_url {
            c.env("SHEETLOAD_BASE_URL", url)
                .envs(self.target.credentials().iter().copied());
        }
        c.envs(self.envs.iter().map(|(k, v)| (k, v)))
            .args(&self.args);
        if self.stdin_null {
            c.stdin(Stdio::null());
        }
        c
    }

    /// Run to the end, capturing its output.
    pub fn run(self) -> Ran {
        let out: Output = self.command().output().expect("run sheetload");
        self.finish(out)
    }

    /// The [`Ran`] of a run of [`command`](Self::command) that the test spawned and
    /// waited for itself (to time it, poll its memory, signal it): `out` is what it
    /// captured; the env (dir, sandbox) lives on in the `Ran` for the assertions.
    pub fn finish(mut self, out: Output) -> Ran {
        self.args.clear();
        Ran {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            env: self,
        }
    }

    /// Run to the end and assert its exit code.
    pub fn expect_code(self, expected: i32) -> Ran {
        let ran = self.run();
        ran.expect_code(expected);
        ran
    }
}

/// What a run produced; it keeps its dir (and sandbox) alive for the assertions.
pub struct Ran {
    /// Exit code, -1 when killed by a signal.
    pub code: i32,
    /// Everything printed on stdout.
    pub stdout: String,
    /// Everything printed on stderr.
    pub stderr: String,
    env: TestEnv,
}

impl Ran {
    /// Assert the exit code, showing stderr and stdout when it differs.
    pub fn expect_code(&self, expected: i32) -> &Self {
        assert_eq!(
            self.code, expected,
            "exit code {} (expected {expected})\nstderr:\n{}\nstdout:\n{}",
            self.code, self.stderr, self.stdout
        );
        self
    }

    /// Assert stderr contains `needle`.
    pub fn stderr_has(&self, needle: &str) -> &Self {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}:\n{}",
            self.stderr
        );
        self
    }

    /// Exactly one error sentence, no panic or backtrace.
    pub fn one_clear_error(&self) -> &Self {
        assert!(!self.stderr.contains("panicked"), "panic: {}", self.stderr);
        assert!(!self.stderr.contains("RUST_BACKTRACE"), "{}", self.stderr);
        let errors: Vec<&str> = self
            .stderr
            .lines()
            .filter(|l| l.starts_with("error:"))
            .collect();
        assert_eq!(errors.len(), 1, "expected one error line:\n{}", self.stderr);
        self
    }

    /// The run's directory (also its `SHEETLOAD_HOME`).
    pub fn dir(&self) -> &Path {
        self.env.dir()
    }

    /// Path of a file inside the run's directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.env.path(name)
    }

    /// Rows of sheet `sheet` of workbook `file` (in the run's dir) as header → value maps.
    pub fn records(&self, file: &str, sheet: &str) -> Vec<super::Row> {
        super::records(&self.path(file), sheet)
    }

    /// The sandbox the env started; panics when it started none.
    pub fn server(&self) -> &ThreadSandbox {
        self.env.server()
    }

    /// The `/_sandbox/stats` document of the sandbox the env started.
    pub fn stats(&self) -> Value {
        self.env.stats()
    }

    /// The same dir, connection and environment for the next command (files kept).
    pub fn again(self) -> TestEnv {
        self.env
    }
}
