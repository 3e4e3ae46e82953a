//! Export writers: typed XLSX (constant memory) or guarded CSV, in the import template's
//! layout, so that an exported sheet can be edited and imported back as is.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use rust_xlsxwriter::{Color, ExcelDateTime, Format, FormatBorder, Workbook, XlsxError};

use super::csv_safe;
use crate::error::{Error, Result};

/// How a column's values are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Text, always (ids, codes, phone numbers: never numbers, so zeros survive).
    Text,
    /// A number cell.
    Number,
    /// A TRUE/FALSE cell.
    Bool,
    /// A date cell (`yyyy-mm-dd`).
    Date,
}

/// One exported column.
#[derive(Debug, Clone)]
pub struct Column {
    /// The header: the import template's name for the field.
    pub header: String,
    /// How values are written.
    pub kind: Kind,
}

/// One exported value.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Text.
    Text(String),
    /// A number.
    Number(f64),
    /// A boolean.
    Bool(bool),
    /// A date `YYYY-MM-DD`.
    Date(String),
}

impl Cell {
    /// The value as text (CSV, filters).
    pub fn text(&self) -> String {
        match self {
            Cell::Text(s) | Cell::Date(s) => s.clone(),
            Cell::Number(n) => crate::input::number_text(*n),
            Cell::Bool(b) => b.to_string(),
        }
    }
}

/// Where exported rows go.
pub trait ExportSink {
    /// Write one record's cells (aligned with the columns; `None` is an empty cell).
    fn row(&mut self, cells: &[Option<Cell>]) -> Result<()>;
    /// Add the summary and move the file into place.
    fn finish(self: Box<Self>, summary: &[(String, String)]) -> Result<PathBuf>;
}

/// Open the writer for `path` (`.csv` → CSV, else XLSX).
pub fn create(
    path: &Path,
    sheet: &str,
    columns: &[Column],
    bom: bool,
) -> Result<Box<dyn ExportSink>> {
    let is_csv = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    if is_csv {
        Ok(Box::new(CsvExport::new(path, columns, bom)?))
    } else {
        Ok(Box::new(XlsxExport::new(path, sheet, columns)?))
    }
}

fn partial(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    path.with_file_name(name)
}

fn failed(path: &Path, what: impl std::fmt::Display) -> Error {
    Error::output(format!(
        "cannot write {}: {what}; check that the folder exists and the file is not open in Excel",
        path.display()
    ))
}

struct XlsxExport {
    path: PathBuf,
    book: Workbook,
    columns: Vec<Column>,
    next: u32,
    date: Format,
}

impl XlsxExport {
    fn new(path: &Path, sheet: &str, columns: &[Column]) -> Result<Self> {
        let mut book = Workbook::new();
        let setup = |book: &mut Workbook| -> Result<(), XlsxError> {
            let header = Format::new()
                .set_bold()
                .set_background_color(Color::RGB(0xDDEBF7))
                .set_border_bottom(FormatBorder::Thin);
            let text = Format::new().set_num_format("@");
            let ws = book.add_worksheet_with_constant_memory()?;
            ws.set_name(sheet)?;
            for (c, col) in columns.iter().enumerate() {
                let width: f64 = match col.kind {
                    Kind::Date => 12.0,
                    Kind::Bool => 9.0,
                    Kind::Number => 12.0,
                    Kind::Text => match col.header.as_str() {
                        "name" | "address" | "description" | "email" => 32.0,
                        _ => 16.0,
                    },
                };
                ws.set_column_width(c as u16, width.max(col.header.len() as f64 + 2.0))?;
                if col.kind == Kind::Text {
                    ws.set_column_format(c as u16, &text)?;
                }
            }
            ws.set_freeze_panes(1, 0)?;
            for (c, col) in columns.iter().enumerate() {
                ws.write_string_with_format(0, c as u16, &col.header, &header)?;
            }
            Ok(())
        };
        setup(&mut book).map_err(|e| failed(path, e))?;
        Ok(XlsxExport {
            path: path.to_path_buf(),
            book,
            columns: columns.to_vec(),
            next: 1,
            date: Format::new().set_num_format("yyyy-mm-dd"),
        })
    }
}

impl ExportSink for XlsxExport {
    fn row(&mut self, cells: &[Option<Cell>]) -> Result<()> {
        if self.next > 1_048_575 {
            return Err(Error::output(format!(
                "{} would need more than 1,048,575 rows: export to .csv instead",
                self.path.display()
            )));
        }
        let r = self.next;
        let date = self.date.clone();
        let ws = self
            .book
            .worksheet_from_index(0)
            .map_err(|e| failed(&self.path, e))?;
        let mut write = || -> Result<(), XlsxError> {
            for (c, cell) in cells.iter().enumerate() {
                let c = c as u16;
                match cell {
                    None => {}
                    Some(Cell::Text(s)) => {
                        ws.write_string(r, c, s)?;
                    }
                    Some(Cell::Number(n)) => {
                        ws.write_number(r, c, *n)?;
                    }
                    Some(Cell::Bool(b)) => {
                        ws.write_boolean(r, c, *b)?;
                    }
                    Some(Cell::Date(d)) => {
                        let parsed = chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
                            .ok()
                            .and_then(|d| {
                                use chrono::Datelike;
                                ExcelDateTime::from_ymd(
                                    d.year() as u16,
                                    d.month() as u8,
                                    d.day() as u8,
                                )
                                .ok()
                            });
                        match parsed {
                            Some(x) => ws.write_datetime_with_format(r, c, x, &date)?,
                            None => ws.write_string(r, c, d)?,
                        };
                    }
                }
            }
            Ok(())
        };
        write().map_err(|e| failed(&self.path, e))?;
        self.next += 1;
        Ok(())
    }

    fn finish(mut self: Box<Self>, summary: &[(String, String)]) -> Result<PathBuf> {
        let path = self.path.clone();
        let last = self.columns.len().saturating_sub(1) as u16;
        let rows = self.next.saturating_sub(1).max(1);
        let finish = |book: &mut Workbook| -> Result<(), XlsxError> {
            book.worksheet_from_index(0)?.autofilter(0, 0, rows, last)?;
            let bold = Format::new().set_bold();
            let ws = book.add_worksheet();
            ws.set_name("Summary")?;
            ws.set_column_width(0, 24)?;
            ws.set_column_width(1, 70)?;
            for (i, (k, v)) in summary.iter().enumerate() {
                ws.write_string_with_format(i as u32, 0, k, &bold)?;
                ws.write_string(i as u32, 1, v)?;
            }
            Ok(())
        };
        finish(&mut self.book).map_err(|e| failed(&path, e))?;
        let tmp = partial(&path);
        self.book.save(&tmp).map_err(|e| failed(&path, e))?;
        super::replace_file(&tmp, &path).map_err(|e| failed(&path, e))?;
        Ok(path)
    }
}

struct CsvExport {
    path: PathBuf,
    tmp: PathBuf,
    out: csv::Writer<BufWriter<File>>,
}

impl CsvExport {
    fn new(path: &Path, columns: &[Column], bom: bool) -> Result<Self> {
        let tmp = partial(path);
        let file = File::create(&tmp).map_err(|e| failed(path, crate::input::io_reason(&e)))?;
        let mut w = BufWriter::with_capacity(1 << 16, file);
        if bom {
            w.write_all(b"\xEF\xBB\xBF").map_err(|e| failed(path, e))?;
        }
        let mut out = csv::Writer::from_writer(w);
        out.write_record(columns.iter().map(|c| csv_safe(&c.header).into_owned()))
            .map_err(|e| failed(path, e))?;
        Ok(CsvExport {
            path: path.to_path_buf(),
            tmp,
            out,
        })
    }
}

impl ExportSink for CsvExport {
    fn row(&mut self, cells: &[Option<Cell>]) -> Result<()> {
        for cell in cells {
            let text = cell.as_ref().map(Cell::text).unwrap_or_default();
            self.out
                .write_field(csv_safe(&text).as_bytes())
                .map_err(|e| failed(&self.path, e))?;
        }
        self.out
            .write_record(None::<&[u8]>)
            .map_err(|e| failed(&self.path, e))
    }

    fn finish(mut self: Box<Self>, _summary: &[(String, String)]) -> Result<PathBuf> {
        self.out.flush().map_err(|e| failed(&self.path, e))?;
        drop(self.out);
        super::replace_file(&self.tmp, &self.path).map_err(|e| failed(&self.path, e))?;
        Ok(self.path)
    }
}
