//! `sheetload completions SHELL` (clap_complete) and `sheetload man` (clap_mangen): both
//! generated from the clap definitions handed in by `main`, so that they can never
//! drift from `--help`.

use std::io::Write;
use std::path::Path;

use crate::error::{Error, Result, exit};

/// Print the completion script for `shell` on stdout.
pub fn completions(shell: clap_complete::Shell, mut cmd: clap::Command) -> Result<u8> {
    let mut out = std::io::stdout().lock();
    clap_complete::generate(shell, &mut cmd, "sheetload", &mut out);
    out.flush().map_err(write_error)?;
    Ok(exit::OK)
}

/// Every page: `sheetload` first, then one per subcommand (and `runs`' own
/// subcommands), each named the way `man` looks it up (`sheetload-runs-undo`).
fn pages(cmd: clap::Command) -> Vec<(String, clap::Command)> {
    let mut cmd = cmd;
    cmd.build();
    let mut out = Vec::new();
    collect(cmd, "sheetload".into(), &mut out);
    out
}

fn collect(cmd: clap::Command, name: String, out: &mut Vec<(String, clap::Command)>) {
    let subs: Vec<clap::Command> = cmd
        .get_subcommands()
        .filter(|s| s.get_name() != "help")
        .cloned()
        .collect();
    out.push((name.clone(), cmd.name(name.clone())));
    for sub in subs {
        let sub_name = format!("{name}-{}", sub.get_name());
        collect(sub, sub_name, out);
    }
}

fn render(cmd: clap::Command, out: &mut dyn Write) -> std::io::Result<()> {
    clap_mangen::Man::new(cmd).render(out)
}

/// Print every page on stdout (`sheetload man | man -l -`), or with `dir` write them
/// there as `NAME.1`.
pub fn man(cmd: clap::Command, dir: Option<&Path>) -> Result<u8> {
    let pages = pages(cmd);
    let Some(dir) = dir else {
        let mut out = std::io::stdout().lock();
        for (_, page) in pages {
            render(page, &mut out).map_err(write_error)?;
        }
        out.flush().map_err(write_error)?;
        return Ok(exit::OK);
    };
    std::fs::create_dir_all(dir).map_err(|e| {
        Error::output(format!(
            "cannot create {}: {}; choose a folder you can write to",
            dir.display(),
            crate::input::io_reason(&e)
        ))
    })?;
    for (name, page) in pages {
        let path = dir.join(format!("{name}.1"));
        let mut bytes = Vec::new();
        render(page, &mut bytes).map_err(write_error)?;
        std::fs::write(&path, bytes).map_err(|e| {
            Error::output(format!(
                "cannot write {}: {}; choose a folder you can write to",
                path.display(),
                crate::input::io_reason(&e)
            ))
        })?;
    }
    Ok(exit::OK)
}

fn write_error(e: std::io::Error) -> Error {
    Error::output(format!("cannot write to standard output: {e}"))
}
