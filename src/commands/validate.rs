//! `sheetload validate` (= `import --dry-run` without a connection): read, map, validate
//! every row, and write the result workbook. Nothing is sent.

use crate::error::{Result, exit};
use crate::ui::{Printer, thousands};

pub use crate::engine::prepare::{Config, Prepared, default_result_path, prepare, same_file};
pub use crate::engine::validate::{Report, validate_file};

/// Run the validation and return the exit code (0 all valid, 1 some invalid).
pub fn run(cfg: &Config, ui: &Printer) -> Result<u8> {
    let report = validate_file(cfg, ui)?;
    print_report(cfg, &report, ui);
    Ok(if report.invalid == 0 {
        exit::OK
    } else {
        exit::ROWS_FAILED
    })
}

fn print_report(cfg: &Config, r: &Report, ui: &Printer) {
    let mut lines = vec![format!(
        "{} rows: {} valid, {} invalid ({:.1}s) — result: {}",
        thousands(r.rows),
        thousands(r.valid),
        thousands(r.invalid),
        r.seconds,
        r.result.display()
    )];
    for (n, what) in r.error_groups.iter().take(15) {
        lines.push(format!(
            "  {} row{}: {what}",
            thousands(*n as u64),
            if *n == 1 { "" } else { "s" }
        ));
    }
    if r.error_groups.len() > 15 {
        lines.push(format!(
            "  … and {} more kinds; see the Summary sheet",
            r.error_groups.len() - 15
        ));
    }
    for (n, what) in r.warning_groups.iter().take(10) {
        lines.push(format!(
            "  {} row{}: {what}",
            thousands(*n as u64),
            if *n == 1 { "" } else { "s" }
        ));
    }
    if r.warning_groups.len() > 10 {
        lines.push(format!(
            "  … and {} more kinds of warning; see the Summary sheet",
            r.warning_groups.len() - 10
        ));
    }
    if let Some(n) = &r.left_out {
        lines.push(format!("note: {n}"));
    }
    if r.invalid > 0 {
        lines.push("Fix the rows on the Failed sheet and validate that sheet again.".to_string());
    }
    ui.summary(&lines);
    ui.json(&serde_json::json!({
        "command": "validate",
        "input": cfg.input.display().to_string(),
        "entity": cfg.entity,
        "rows": r.rows,
        "valid": r.valid,
        "invalid": r.invalid,
        "seconds": r.seconds,
        "result": r.result.display().to_string(),
        "left_out": r.left_out,
        "errors": r.error_groups.iter().map(|(n, w)| serde_json::json!({"rows": n, "error": w})).collect::<Vec<_>>(),
        "warnings": r.warning_groups.iter().map(|(n, w)| serde_json::json!({"rows": n, "warning": w})).collect::<Vec<_>>(),
    }));
}
