//! Thin entry point: parse arguments, run the command, map errors to exit codes.

use std::process::ExitCode;

/// mimalloc: the validation pipeline allocates many small strings on several threads,
/// where glibc's allocator costs a quarter of the run time.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;
use sheetload::cli::{Cli, Command};
use sheetload::error::{Error, exit};
use sheetload::ui::Printer;

fn main() -> ExitCode {
    sheetload::process_started();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            });
        }
    };
    let ui = Printer {
        quiet: cli.quiet,
        json: cli.json,
    };
    let result = match &cli.command {
        Command::Import(args) => args
            .config()
            .and_then(|cfg| sheetload::commands::import::run(&cfg, &ui)),
        Command::Resume(args) => sheetload::commands::import::resume(args.run, &ui),
        Command::Retry(args) => sheetload::commands::import::retry(
            &args.result,
            args.include_unknown,
            args.out.clone(),
            args.yes,
            &ui,
        ),
        Command::Runs(args) => args.run(&ui),
        Command::Export(args) => args
            .config()
            .and_then(|cfg| sheetload::commands::export::run(&cfg, &ui)),
        Command::Validate(args) => args
            .config()
            .and_then(|cfg| sheetload::commands::validate::run(&cfg, &ui)),
        Command::Template(args) => sheetload::commands::template::run(&args.config(), &ui),
        Command::Sandbox(args) => {
            sheetload::commands::sandbox::run(&args.options(), &args.targets(), &ui)
        }
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(Error::Interrupted) => ExitCode::from(exit::INTERRUPTED),
        Err(e) => {
            ui.error(&e.to_string());
            ExitCode::from(e.exit_code())
        }
    }
}
