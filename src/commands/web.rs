//! `sheetload ui`: the import wizard in the browser (`crate::web`), served until Ctrl-C.

use crate::error::Result;
use crate::ui::Printer;
use crate::web::{Options, check_bind, serve};

/// Check the address, then serve the wizard on its own runtime until Ctrl-C.
pub fn run(opts: &Options, ui: &Printer) -> Result<u8> {
    check_bind(opts.bind)?;
    crate::connection::runtime()?.block_on(serve(opts.clone(), ui))
}
