//! Thin entry point: parse arguments, run the command, map errors to exit codes.

use std::process::ExitCode;

/// mimalloc: the validation pipeline allocates many small strings on several threads,
/// where glibc's allocator costs a quarter of the run time.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{CommandFactory, FromArgMatches};
use sheetload::cli::{Cli, Command};
use sheetload::error::{Error, exit};
use sheetload::ui::Printer;

fn main() -> ExitCode {
    sheetload::process_started();
    // clap prints help and its own errors before `--color` is parsed: tell it first.
    let color = sheetload::ui::color_arg(std::env::args_os());
    let parsed = Cli::command()
        .color(color)
        .try_get_matches()
        .and_then(|m| Cli::from_arg_matches(&m));
    let cli = match parsed {
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
    sheetload::ui::set_color(cli.color);
    sheetload::ui::log::init(cli.verbose, cli.log);
    let ui = Printer {
        quiet: cli.quiet,
        json: cli.json,
    };
    let result = match &cli.command {
        Command::Import(args) => args
            .config()
            .and_then(|cfg| sheetload::commands::import::run(&cfg, &ui)),
        Command::Resume(args) => args.lock.wait().and_then(|wait| {
            sheetload::commands::import::resume(args.run, wait, args.wait_for_quota, &ui)
        }),
        Command::Retry(args) => args.lock.wait().and_then(|wait| {
            sheetload::commands::import::retry(
                &args.result,
                args.include_unknown,
                args.out.clone(),
                args.yes,
                args.allow_excel_damage,
                wait,
                &ui,
            )
        }),
        Command::Runs(args) => args.run(&ui),
        Command::Export(args) => args
            .config()
            .and_then(|cfg| sheetload::commands::export::run(&cfg, &ui)),
        Command::Validate(args) => args
            .config()
            .and_then(|cfg| sheetload::commands::validate::run(&cfg, &ui)),
        Command::Template(args) => sheetload::commands::template::run(&args.config(), &ui),
        Command::Ui(args) => sheetload::commands::web::run(&args.options(), &ui),
        Command::Sandbox(args) => {
            sheetload::commands::sandbox::run(&args.options(), &args.targets(), &ui)
        }
        Command::Completions { shell } => {
            sheetload::commands::manual::completions(*shell, Cli::command())
        }
        Command::Man { dir } => sheetload::commands::manual::man(Cli::command(), dir.as_deref()),
    };
    ui.flush_repeats();
    match result {
        Ok(code) => ExitCode::from(code),
        Err(Error::Interrupted) => ExitCode::from(exit::INTERRUPTED),
        Err(e) => {
            ui.error(&e.to_string());
            ExitCode::from(e.exit_code())
        }
    }
}
