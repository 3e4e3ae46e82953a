//! `sheetload template`: a blank workbook to fill in, built from the spec.

use std::path::PathBuf;

use crate::error::{Result, exit};
use crate::spec::{self, Entity, TargetId};
use crate::ui::Printer;

/// What `template` needs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Whose template.
    pub target: TargetId,
    /// The kind of record.
    pub entity: Entity,
    /// Where to write.
    pub out: PathBuf,
}

/// Write the template and report where it went.
pub fn run(cfg: &Config, ui: &Printer) -> Result<u8> {
    let spec = spec::builtin(cfg.target, cfg.entity)?;
    crate::output::template::write(&spec, &cfg.out)?;
    let target = if spec.target == crate::targets::DEFAULT {
        String::new()
    } else {
        format!(" --target {}", spec.target)
    };
    ui.json(&serde_json::json!({
        "command": "template",
        "entity": spec.entity,
        "target": spec.target,
        "out": cfg.out.display().to_string(),
        "columns": crate::output::template::headers(&spec).len(),
    }));
    ui.summary(&[format!(
        "wrote {} template to {} (fill it in, then: sheetload validate {}{target} --entity {})",
        spec.entity,
        cfg.out.display(),
        cfg.out.display(),
        spec.entity
    )]);
    Ok(exit::OK)
}
