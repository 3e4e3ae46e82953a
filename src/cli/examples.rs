//! The `Examples:` sections at the end of each command's `--help`, the way `cargo` and
//! `gh` show them: the commands people actually type, so that help answers "how do I …"
//! and not only "what does this flag mean". Every example must run as written (the
//! sample files are in `samples/`).

/// `sheetload --help`.
pub const MAIN: &str = "\
Examples:
  # try the whole pipeline with no account: an in-process sandbox
  sheetload import samples/customers.xlsx --entity customers --sandbox

  # check a sheet before anyone sends it (no connection needed)
  sheetload validate customers.xlsx --entity customers

  # a blank workbook to fill in, then the history of runs
  sheetload template orders --out orders.xlsx
  sheetload runs list

Run `sheetload COMMAND --help` for the options and examples of one command.";

/// `sheetload import --help`.
pub const IMPORT: &str = "\
Examples:
  # the sample customers into an in-process sandbox (no account needed)
  sheetload import samples/customers.xlsx --entity customers --sandbox

  # this month's upload: update the customers that exist, create the others
  export SHEETLOAD_BASE_URL=https://api.salesmania.id SHEETLOAD_USER=ops@example.com
  sheetload import customers.xlsx --entity customers --mode upsert

  # orders, one row per line: plan first (read calls only), then send
  sheetload import orders.xlsx --entity orders --dry-run
  sheetload import orders.xlsx --entity orders

  # a Turkish Excel CSV into Fatura Entegratör; Trackfinity updates
  sheetload import musteriler.csv --target fatura -e customers --encoding windows-1254
  sheetload import changes.xlsx --target trackfinity --entity customers --mode update

  # headers sheetload does not recognise: a mapping file
  sheetload import export.xlsx --entity products --map map.toml

  # another terminal is importing customers into the same database: wait for it
  # (at most 30 minutes) instead of being refused
  sheetload import customers.xlsx --entity customers --wait-for-lock=30m";

/// `sheetload validate --help`.
pub const VALIDATE: &str = "\
Examples:
  sheetload validate samples/customers-with-errors.xlsx --entity customers
  sheetload validate samples/orders.xlsx --entity orders

  # one sheet of a workbook, with day/month dates; numbers with decimal commas
  sheetload validate visits.xlsx --entity visits --sheet Desember --date-format %d/%m/%Y
  sheetload validate prices.csv --entity products --decimal-comma

  # one CSV result instead of a workbook; the summary as JSON
  sheetload validate products.csv --entity products --out products.result.csv --json";

/// `sheetload export --help`.
pub const EXPORT: &str = "\
Examples:
  # from the in-process sandbox's demo data (no account needed)
  sheetload export teams --sandbox --out teams.xlsx

  # edit in Excel, then import back with --mode upsert
  sheetload export customers --where city=Semarang --out semarang.xlsx
  sheetload import semarang.xlsx --entity customers --mode upsert

  # December's visits as CSV for Excel (add --team NAME for one team's)
  sheetload export visits --from 2026-12-01 --to 2026-12-31 --out visits.csv --bom

  sheetload export customers --target fatura --out musteriler.xlsx";

/// `sheetload resume --help`.
pub const RESUME: &str = "\
Examples:
  # finish the newest interrupted or killed run
  sheetload resume

  # a given run (ids from `sheetload runs list`)
  sheetload resume 12";

/// `sheetload retry --help`.
pub const RETRY: &str = "\
Examples:
  # fix the rows on the Failed sheet of the result, save it, then
  sheetload retry customers.result.xlsx

  # also re-send rows whose outcome was UNKNOWN (check them in the app first)
  sheetload retry customers.result.xlsx --include-unknown";

/// `sheetload runs --help`.
pub const RUNS: &str = "\
Examples:
  sheetload runs
  sheetload runs list --limit 10
  sheetload runs show 12
  sheetload runs undo 12 --yes";

/// `sheetload runs list --help`.
pub const RUNS_LIST: &str = "\
Examples:
  sheetload runs list
  sheetload runs list --limit 5 --json";

/// `sheetload runs show --help`.
pub const RUNS_SHOW: &str = "\
Examples:
  sheetload runs show 12
  sheetload runs show 12 --json";

/// `sheetload runs undo --help`.
pub const RUNS_UNDO: &str = "\
Examples:
  # asks before deleting what run 12 created
  sheetload runs undo 12

  # no question (scripts); the connection comes from the run, or as for import
  sheetload runs undo 12 --yes";

/// `sheetload template --help`.
pub const TEMPLATE: &str = "\
Examples:
  sheetload template customers
  sheetload template orders --out orders.xlsx
  sheetload template customers --target fatura --out sablon.xlsx

  # fill it in, then check it
  sheetload validate orders.xlsx --entity orders";

/// `sheetload sandbox --help`.
pub const SANDBOX: &str = "\
Examples:
  # serve on http://127.0.0.1:8089 until Ctrl-C; in another terminal:
  sheetload sandbox
  export SHEETLOAD_BASE_URL=http://127.0.0.1:8089 SHEETLOAD_DATABASE=1
  export SHEETLOAD_USER=demo SHEETLOAD_PASSWORD=demo
  sheetload import samples/customers.xlsx --entity customers

  # 500 customers and 50 products to export, records kept across restarts
  sheetload sandbox --customers 500 --products 50 --state sandbox.json

  # rehearse bad days: latency, 5% server errors, a rate limit, short-lived tokens
  sheetload sandbox --latency-ms 50 --fail-rate 0.05 --rate-limit 100 --token-ttl 30";

/// `sheetload completions --help`.
pub const COMPLETIONS: &str = "\
Examples:
  # bash: for this user, loaded by bash-completion at the next shell
  mkdir -p ~/.local/share/bash-completion/completions
  sheetload completions bash > ~/.local/share/bash-completion/completions/sheetload

  # zsh (a folder on $fpath) and fish
  sheetload completions zsh > ~/.zfunc/_sheetload
  sheetload completions fish > ~/.config/fish/completions/sheetload.fish";

/// `sheetload man --help`.
pub const MAN: &str = "\
Examples:
  # read it now
  sheetload man | man -l -

  # install one page per command for `man sheetload-import`
  sheetload man --dir ~/.local/share/man/man1";

#[cfg(test)]
mod tests {
    /// clap re-wraps help at 100 columns: a longer example would break mid-command.
    #[test]
    fn examples_fit_the_help_width() {
        for text in [
            super::MAIN,
            super::IMPORT,
            super::VALIDATE,
            super::EXPORT,
            super::RESUME,
            super::RETRY,
            super::RUNS,
            super::RUNS_LIST,
            super::RUNS_SHOW,
            super::RUNS_UNDO,
            super::TEMPLATE,
            super::SANDBOX,
            super::COMPLETIONS,
            super::MAN,
        ] {
            assert!(text.starts_with("Examples:\n"), "{text}");
            for line in text.lines() {
                assert!(line.chars().count() <= 92, "too long for the help: {line}");
            }
        }
    }
}
