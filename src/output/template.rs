//! Blank template workbooks generated from a spec: the header row with required columns
//! marked, a note on each header, drop-downs for yes/no and enums, range checks on
//! coordinates, and a `Guide` sheet listing every column.

use std::path::Path;

use crate::error::{Error, Result};
use crate::spec::EntitySpec;

/// Write the template of `spec` to `path`.
pub fn write(spec: &EntitySpec, path: &Path) -> Result<()> {
    let _ = spec;
    Err(Error::output(format!(
        "templates are not available yet ({})",
        path.display()
    )))
}
