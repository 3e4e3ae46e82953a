//! `sheetload export`: the export pipeline (`crate::export`) from a parsed command line.

pub use crate::export::Config;

use crate::error::Result;
use crate::ui::Printer;

/// Export what `cfg` asks for and return the exit code.
pub fn run(cfg: &Config, ui: &Printer) -> Result<u8> {
    crate::export::run(cfg, ui)
}
