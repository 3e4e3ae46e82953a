//! An XLSX sheet read cell by cell, keeping what calamine's range reader loses: a
//! formula that was never calculated (it reads as an empty cell), and an error value
//! newer than calamine knows (`#SPILL!`, `#CALC!`, `#BUSY!` … make it refuse the whole
//! sheet). Both become cells of their own kind, so that their row is refused with the
//! cell named and the rest of the sheet is read.

use std::collections::HashMap;
use std::io::{Read, Seek};

use calamine::{Data, DataRef, Range, Reader, Sheets, Xlsx, XlsxError, XlsxFormulaMetadata};

use super::{Cell, CellKind};

/// A sheet's values, and the cells whose value the range cannot express, by absolute
/// zero-based (row, column).
struct SheetCells {
    /// The values, as calamine's `worksheet_range` gives them.
    range: Range<Data>,
    /// Formulas never calculated and error values calamine does not know; the range
    /// holds an empty cell at each of them.
    marks: HashMap<Pos, Cell>,
}

/// A cell's absolute zero-based (row, column).
type Pos = (u32, u32);

/// Sheet `name`'s values, as `worksheet_range` gives them; for an XLSX, the cells the
/// range cannot express go to `marks` (replacing what it held).
pub(super) fn range<R: Read + Seek>(
    book: &mut Sheets<R>,
    name: &str,
    marks: &mut HashMap<Pos, Cell>,
) -> Result<Range<Data>, String> {
    match book {
        Sheets::Xlsx(xlsx) => read(xlsx, name)
            .map(|read| {
                *marks = read.marks;
                read.range
            })
            .map_err(|e| e.to_string()),
        _ => book.worksheet_range(name).map_err(|e| e.to_string()),
    }
}

/// Read sheet `name` of an XLSX like `worksheet_range` does, but lenient about the two
/// kinds of cell above.
fn read<R: Read + Seek>(book: &mut Xlsx<R>, name: &str) -> Result<SheetCells, XlsxError> {
    let mut cells = Vec::new();
    let mut marks = HashMap::new();
    // Stream positions (counting every `<c>`) of the error values calamine refused.
    let mut refused: Vec<(u64, String)> = Vec::new();
    let mut reader = book.worksheet_cells_reader(name)?;
    let mut index: u64 = 0;
    loop {
        match reader.next_cell_with_formula_metadata() {
            Ok(Some(record)) => {
                let pos = record.pos;
                match (record.value, record.formula) {
                    (DataRef::Empty, Some(formula)) => {
                        marks.insert(pos, uncalculated(&formula));
                        cells.push(calamine::Cell::new(pos, Data::Empty));
                    }
                    (DataRef::Empty, None) => {}
                    (value, _) => cells.push(calamine::Cell::new(pos, Data::from(value))),
                }
            }
            Ok(None) => break,
            // The reader has skipped the cell; its position is found below.
            Err(XlsxError::CellError(code)) => refused.push((index, code)),
            Err(e) => return Err(e),
        }
        index += 1;
    }
    drop(reader);
    if !refused.is_empty() {
        for (pos, code) in refused_positions(book, name, refused)? {
            marks.insert(pos, Cell::new(CellKind::Error, code));
            cells.push(calamine::Cell::new(pos, Data::Empty));
        }
    }
    Ok(SheetCells {
        range: Range::from_sparse(cells),
        marks,
    })
}

/// The cell of a formula with no cached value.
fn uncalculated(formula: &XlsxFormulaMetadata) -> Cell {
    let text = match formula {
        XlsxFormulaMetadata::Normal { formula } | XlsxFormulaMetadata::Shared { formula, .. } => {
            format!("={formula}")
        }
        _ => String::new(),
    };
    Cell::new(CellKind::Uncalculated, text)
}

/// The positions of the cells at the given stream indices (in increasing order): a
/// second pass that reads formulas only, and so never stops at a value.
fn refused_positions<R: Read + Seek>(
    book: &mut Xlsx<R>,
    name: &str,
    refused: Vec<(u64, String)>,
) -> Result<Vec<(Pos, String)>, XlsxError> {
    let mut reader = book.worksheet_cells_reader(name)?;
    let mut found = Vec::with_capacity(refused.len());
    let mut index: u64 = 0;
    let mut wanted = refused.into_iter().peekable();
    while let Some(cell) = reader.next_formula()? {
        while let Some((_, code)) = wanted.next_if(|(i, _)| *i == index) {
            found.push((cell.get_position(), code));
        }
        if wanted.peek().is_none() {
            break;
        }
        index += 1;
    }
    Ok(found)
}
