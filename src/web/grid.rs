//! The Review grid's data: every row of the prepared sheet kept in memory with its
//! verdict, so any page of 100,000 rows is a slice; a cell edit re-validates its row at
//! once with the CLI's validator; the fixed sheet is written back as a workbook whose
//! rows and header sit where they were, so every message still names the same cell.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use rayon::prelude::*;

use crate::engine::prepare::{Config, Prepared, prepare};
use crate::error::{Error, Result};
use crate::input::{Cell, CellKind, RawRow};
use crate::output::result::ranked;
use crate::ui::Printer;
use crate::validate::{RowResult, Validator};

/// One row's verdict as the grid shows it.
#[derive(Debug, Clone, Default)]
pub struct Verdict {
    /// No problem.
    pub valid: bool,
    /// (column, reason) for each problem tied to a column.
    pub cells: Vec<(usize, String)>,
    /// Every reason and warning, as `_error` reads.
    pub text: String,
    /// The kinds of problem, once each: `phone is not a phone number (column No HP)`.
    pub kinds: Vec<String>,
}

/// The validated sheet of a session.
pub struct Review {
    /// Spec, table, mapping, duplicates: what the validator needs.
    pub prepared: Prepared,
    /// The options the rows were validated with.
    pub cfg: Config,
    /// Every data row, in sheet order (edits applied).
    pub rows: Vec<RawRow>,
    /// One verdict per row.
    pub verdicts: Vec<Verdict>,
    /// (row number, column) → the value typed in the grid.
    pub edits: BTreeMap<(u32, usize), String>,
    columns: HashMap<String, usize>,
}

fn verdict(columns: &HashMap<String, usize>, res: &RowResult) -> Verdict {
    let mut cells = Vec::new();
    let mut kinds = Vec::new();
    for p in &res.problems {
        for name in p.column.split(", ") {
            if let Some(&c) = columns.get(name) {
                cells.push((c, p.detail.clone()));
            }
        }
        kinds.push(format!("{} {} (column {})", p.field, p.summary, p.column));
    }
    kinds.sort();
    kinds.dedup();
    Verdict {
        valid: res.is_valid(),
        cells,
        text: res.error_text(),
        kinds,
    }
}

impl Review {
    /// Prepare the sheet as `validate` does and validate every row (on every core).
    pub fn build(cfg: Config) -> Result<Review> {
        let quiet = Printer {
            quiet: true,
            json: false,
        };
        let prepared = prepare(&cfg, &quiet)?;
        let rows: Vec<RawRow> = prepared.table.rows()?.collect::<Result<_>>()?;
        if rows.is_empty() {
            return Err(Error::input(format!(
                "the sheet has a header row (row {}) but no data rows below it: add rows, or choose another sheet or header row",
                prepared.table.header_row
            )));
        }
        let columns = (0..prepared.table.headers.len())
            .map(|c| (prepared.table.column_name(c), c))
            .collect();
        let mut review = Review {
            prepared,
            cfg,
            rows,
            verdicts: Vec::new(),
            edits: BTreeMap::new(),
            columns,
        };
        let validator = review.validator();
        let verdicts = review
            .rows
            .par_iter()
            .map(|r| verdict(&review.columns, &validator.validate(r)))
            .collect();
        drop(validator);
        review.verdicts = verdicts;
        Ok(review)
    }

    fn validator(&self) -> Validator<'_> {
        Validator::new(
            &self.prepared.spec,
            &self.prepared.mapping,
            &self.prepared.table,
            self.cfg.mode,
            self.cfg.parse.clone(),
            self.prepared.dups.as_ref(),
        )
    }

    /// The index of sheet row `number`.
    pub fn index_of(&self, number: u32) -> Option<usize> {
        self.rows.binary_search_by_key(&number, |r| r.number).ok()
    }

    /// Set one cell and validate its row again; the row's index.
    pub fn edit(&mut self, number: u32, col: usize, value: &str) -> Result<usize> {
        let i = self
            .index_of(number)
            .ok_or_else(|| Error::usage(format!("the sheet has no data row {number}")))?;
        let width = self.prepared.table.headers.len();
        if col >= width {
            return Err(Error::usage(format!("the sheet has no column {}", col + 1)));
        }
        let row = &mut self.rows[i];
        if row.cells.len() < width {
            row.cells.resize(width, Cell::empty());
        }
        row.cells[col] = if value.trim().is_empty() {
            Cell::empty()
        } else {
            Cell::text(value)
        };
        self.edits.insert((number, col), value.to_string());
        let res = self.validator().validate(&self.rows[i]);
        self.verdicts[i] = verdict(&self.columns, &res);
        Ok(i)
    }

    /// (valid, invalid, rows per kind of problem, most frequent first).
    pub fn counts(&self) -> (usize, usize, Vec<(usize, String)>) {
        let mut kinds: HashMap<String, usize> = HashMap::new();
        let mut valid = 0;
        for v in &self.verdicts {
            valid += usize::from(v.valid);
            for k in &v.kinds {
                *kinds.entry(k.clone()).or_default() += 1;
            }
        }
        (valid, self.verdicts.len() - valid, ranked(kinds))
    }

    /// Write the rows (with the edits) as a workbook: the header on its row, each row on
    /// its own row number, number and yes/no cells typed as they were read.
    pub fn write_fixed(&self, path: &Path) -> Result<()> {
        let t = &self.prepared.table;
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        let name: String = t
            .sheet
            .chars()
            .filter(|c| !matches!(c, '[' | ']' | ':' | '*' | '?' | '/' | '\\'))
            .take(31)
            .collect();
        let fail = |e: rust_xlsxwriter::XlsxError| {
            Error::output(format!(
                "cannot write the fixed sheet {}: {e}",
                path.display()
            ))
        };
        if !name.trim().is_empty() && !name.starts_with('\'') {
            sheet.set_name(name.trim()).map_err(fail)?;
        }
        let first = t.first_col() as u16;
        let header_row = t.header_row.saturating_sub(1);
        for (c, h) in t.headers.iter().enumerate() {
            sheet
                .write_string(header_row, first + c as u16, h)
                .map_err(fail)?;
        }
        for row in &self.rows {
            let r = row.number.saturating_sub(1);
            for (c, cell) in row.cells.iter().enumerate() {
                let col = first + c as u16;
                match cell.kind {
                    CellKind::Empty => continue,
                    // A number shown with leading zeros (`00123`) is written as it shows.
                    CellKind::Number if cell.zero_pad > 0 => {
                        sheet.write_string(r, col, cell.shown_text().as_ref())
                    }
                    CellKind::Number => match cell.text.parse::<f64>() {
                        Ok(n) => sheet.write_number(r, col, n),
                        Err(_) => sheet.write_string(r, col, &cell.text),
                    },
                    CellKind::Bool => sheet.write_boolean(r, col, cell.text == "true"),
                    _ => sheet.write_string(r, col, &cell.text),
                }
                .map_err(fail)?;
            }
        }
        book.save(path).map_err(fail)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::ReadOptions;
    use crate::spec::Mode;

    fn config(input: &Path, header_row: Option<u32>) -> Config {
        Config {
            input: input.to_path_buf(),
            target: crate::spec::TargetId::SalesMania,
            entity: crate::spec::Entity::Customers,
            mode: Mode::Create,
            read: ReadOptions {
                header_row,
                ..ReadOptions::default()
            },
            map: None,
            save_map: None,
            parse: Default::default(),
            out: None,
        }
    }

    #[test]
    fn an_edit_is_validated_at_once_and_the_fixed_sheet_keeps_every_cell_in_place() {
        let sample =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/customers-with-errors.xlsx");
        let mut r = Review::build(config(&sample, None)).unwrap();
        let (valid, invalid, kinds) = r.counts();
        assert_eq!((valid, invalid), (3, 10));
        assert!(kinds.iter().any(|(_, k)| k.contains("phone")), "{kinds:?}");
        let phone = r
            .prepared
            .table
            .headers
            .iter()
            .position(|h| h == "No HP")
            .unwrap();
        let (i, number) = r
            .verdicts
            .iter()
            .enumerate()
            .find(|(_, v)| v.kinds.len() == 1 && v.cells.iter().any(|(c, _)| *c == phone))
            .map(|(i, _)| (i, r.rows[i].number))
            .expect("a row whose only problem is its phone");
        assert_eq!(r.edit(number, phone, "081234567890").unwrap(), i);
        assert!(r.verdicts[i].valid, "{}", r.verdicts[i].text);
        assert_eq!(r.counts().0, 4);
        let dir = tempfile::tempdir().unwrap();
        let fixed = dir.path().join("fixed.xlsx");
        r.write_fixed(&fixed).unwrap();
        let again = Review::build(config(&fixed, Some(r.prepared.table.header_row))).unwrap();
        assert_eq!(again.counts().0, 4, "the fix is in the file");
        assert_eq!(again.rows.len(), r.rows.len());
        for (a, b) in again.rows.iter().zip(&r.rows) {
            assert_eq!(a.number, b.number, "rows keep their row numbers");
        }
        let j = again.index_of(number).unwrap();
        assert_eq!(again.rows[j].cells[phone].text, "081234567890");
        assert_eq!(
            again.prepared.table.cell_name(number, phone),
            r.prepared.table.cell_name(number, phone),
            "a message names the same cell"
        );
    }
}
