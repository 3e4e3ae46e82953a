//! The pre-scan of a workbook ([`limits::Scanner`]) overlapped with calamine's read of
//! it, for a run that can throw its pass away (`ReadOptions::quick_survey`).
//!
//! Every part calamine may read is scanned on threads of their own, and calamine reads
//! the file through a [`GatedFile`] that hands it a part's compressed bytes only as far
//! as that part's scan has inflated and checked them. So calamine never inflates a byte
//! that was not checked, as when the scan ran before it, while the scan runs on a core
//! that would otherwise wait. The scan's verdict ([`Gate::verdict`]) is taken before a
//! pass over the rows counts as done: a refused part ends the run with the scan's own
//! message, and formulas found after a quick survey make the sheet read again.

use std::cell::Cell;
use std::io::{BufRead, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use flate2::{Decompress, FlushDecompress, Status};

use super::limits::{self, PartKind, PartScan, Scanner, Stop};
use crate::error::{Error, Result};

/// Threads scanning parts: one for the largest (a worksheet), one for the rest.
const SCANNERS: usize = 2;

/// Compressed bytes read from the file at a time by a scan.
const RAW_CHUNK: usize = 1 << 16;

/// How a part's bytes are stored in the zip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Stored,
    Deflated,
    /// A method calamine cannot read either: the part is damaged for both.
    Other,
}

/// Where a part is in its scan.
enum Progress {
    Queued,
    Scanning,
    Done(PartScan),
    /// The refusal's message (every refusal is an input error).
    Refused(String),
}

/// A part calamine may read, and how far its scan has come.
struct Part {
    name: String,
    /// Its compressed bytes are `start..end` of the file.
    start: u64,
    end: u64,
    method: Method,
    /// Compressed bytes before this offset have been inflated and checked.
    cleared: u64,
    progress: Progress,
    /// A read waits for it: scanned before the parts queued ahead of it.
    wanted: bool,
}

/// The parts of one workbook, shared by its scans and the reads of calamine.
pub(super) struct Gate {
    path: PathBuf,
    row_cap: u64,
    /// In the zip's order: the first refusal in that order is the one reported.
    parts: Mutex<Vec<Part>>,
    moved: Condvar,
}

impl Gate {
    /// List the parts calamine may read from the zip at `path` and start scanning
    /// them; `row_cap` rows of values are allowed a worksheet.
    pub(super) fn start(path: &Path, row_cap: u64) -> Result<Arc<Gate>> {
        let file = std::fs::File::open(path).map_err(|e| limits::cannot_read(path, &e))?;
        let mut zip = zip::ZipArchive::new(std::io::BufReader::new(file))
            .map_err(|_| limits::not_a_zip(path))?;
        let mut parts = Vec::new();
        for i in 0..zip.len() {
            let entry = zip
                .by_index_raw(i)
                .map_err(|_| limits::damaged(path, "?"))?;
            let name = entry.name().map_or_else(|_| "?".into(), |n| n.into_owned());
            if PartKind::of(&name) == PartKind::Unread {
                continue;
            }
            let start = entry
                .data_start()
                .ok_or_else(|| limits::damaged(path, &name))?;
            let end = start.saturating_add(entry.compressed_size());
            let method = match entry.compression() {
                zip::CompressionMethod::Stored => Method::Stored,
                zip::CompressionMethod::Deflated => Method::Deflated,
                _ => Method::Other,
            };
            parts.push(Part {
                name,
                start,
                end,
                method,
                cleared: start,
                progress: Progress::Queued,
                wanted: false,
            });
        }
        let gate = Arc::new(Gate {
            path: path.to_path_buf(),
            row_cap,
            parts: Mutex::new(parts),
            moved: Condvar::new(),
        });
        for n in 0..SCANNERS {
            let scans = Arc::clone(&gate);
            std::thread::Builder::new()
                .name(format!("part-scan-{n}"))
                .spawn(move || scans.scan_queued())
                .map_err(|e| Error::input(format!("cannot start scanning the workbook: {e}")))?;
        }
        Ok(gate)
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Part>> {
        // A scan that panicked is caught before it can poison the lock; a poisoned
        // lock still holds consistent parts.
        self.parts.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A scanning thread: scan queued parts, the ones a read waits for first, until
    /// none is left.
    fn scan_queued(&self) {
        loop {
            let next = {
                let mut parts = self.lock();
                // What a read waits for, then the small parts calamine reads on opening
                // the workbook, then the worksheets.
                let queued = |p: &Part| matches!(p.progress, Progress::Queued);
                let pick = parts
                    .iter()
                    .position(|p| p.wanted && queued(p))
                    .or_else(|| {
                        parts
                            .iter()
                            .position(|p| queued(p) && PartKind::of(&p.name) != PartKind::Sheet)
                    })
                    .or_else(|| parts.iter().position(queued));
                pick.map(|i| {
                    let p = &mut parts[i];
                    p.progress = Progress::Scanning;
                    (i, p.name.clone(), p.start, p.end, p.method)
                })
            };
            let Some((i, name, start, end, method)) = next else {
                return;
            };
            let scanned = crate::quiet_panics(|| {
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    self.scan(i, &name, start, end, method)
                }))
            });
            let progress = match scanned {
                Ok(Ok(scan)) => Progress::Done(scan),
                Ok(Err(e)) => Progress::Refused(e.to_string()),
                Err(_) => Progress::Refused(limits::damaged(&self.path, &name).to_string()),
            };
            let mut parts = self.lock();
            if matches!(progress, Progress::Done(_)) {
                parts[i].cleared = end;
            }
            parts[i].progress = progress;
            drop(parts);
            self.moved.notify_all();
        }
    }

    /// Scan part `i`, clearing its compressed bytes for calamine as they pass.
    fn scan(&self, i: usize, name: &str, start: u64, end: u64, method: Method) -> Result<PartScan> {
        let refuse = |stop| limits::refusal(&self.path, name, self.row_cap, stop);
        if method == Method::Other {
            return Err(refuse(Stop::Io));
        }
        let mut file =
            std::fs::File::open(&self.path).map_err(|e| limits::cannot_read(&self.path, &e))?;
        file.seek(SeekFrom::Start(start))
            .map_err(|_| refuse(Stop::Io))?;
        let consumed = Cell::new(0u64);
        let reader = Inflated {
            raw: std::io::BufReader::with_capacity(RAW_CHUNK, file.take(end - start)),
            inflate: (method == Method::Deflated).then(|| Decompress::new(false)),
            consumed: &consumed,
            ended: false,
        };
        let mut scanner = Scanner::new(name, self.row_cap);
        let mut checked = || {
            let mut parts = self.lock();
            parts[i].cleared = start + consumed.get();
            drop(parts);
            self.moved.notify_all();
        };
        scanner.run(reader, &mut checked).map_err(refuse)?;
        Ok(scanner.scan)
    }

    /// How many of the `len` bytes at offset `pos` calamine may read now: it waits
    /// while `pos` lies in compressed bytes not yet checked, and fails once a part
    /// that holds them is refused.
    fn allowed(&self, pos: u64, len: usize) -> std::io::Result<usize> {
        let mut parts = self.lock();
        loop {
            let mut limit = len as u64;
            let mut blocked = false;
            for p in parts.iter_mut() {
                if p.start >= p.end || pos >= p.end {
                    continue;
                }
                if pos < p.start || p.cleared > pos {
                    // Up to what the part has cleared (at least its start) is readable.
                    limit = limit.min(p.cleared - pos);
                    continue;
                }
                if matches!(p.progress, Progress::Refused(_)) {
                    return Err(std::io::Error::other(HELD_BACK));
                }
                p.wanted = true;
                blocked = true;
            }
            if !blocked {
                return Ok(limit as usize);
            }
            parts = self.moved.wait(parts).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// Wait for every scan: the first refusal in the zip's order, else whether some
    /// worksheet holds a formula (see [`limits::PartScan::formulas`]).
    pub(super) fn verdict(&self) -> Result<bool> {
        let mut parts = self.lock();
        while parts
            .iter()
            .any(|p| matches!(p.progress, Progress::Queued | Progress::Scanning))
        {
            parts = self.moved.wait(parts).unwrap_or_else(|p| p.into_inner());
        }
        let mut formulas = 0;
        for p in parts.iter() {
            match &p.progress {
                Progress::Refused(why) => return Err(Error::Input(why.clone())),
                Progress::Done(scan) => formulas += scan.formulas,
                _ => {}
            }
        }
        Ok(formulas > 0)
    }
}

/// What a read held back by a refused part fails with; the caller reports the
/// refusal ([`blame`]) instead.
const HELD_BACK: &str = "the workbook's scan refused a part";

/// The error to report for `e`, met while reading through `gate`: the scan's refusal
/// when there is one (calamine failed because a part was held back, or would have
/// been refused before it read), else `e`.
pub(super) fn blame(gate: Option<&Gate>, e: Error) -> Error {
    match gate.map(Gate::verdict) {
        Some(Err(refused)) => refused,
        _ => e,
    }
}

/// A part's bytes as calamine will see them: inflated (or stored) straight from the
/// file, counting the compressed bytes consumed so far in `consumed`.
struct Inflated<'a, R> {
    raw: std::io::BufReader<R>,
    /// `None`: stored.
    inflate: Option<Decompress>,
    consumed: &'a Cell<u64>,
    ended: bool,
}

impl<R: Read> Read for Inflated<'_, R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let Some(inflate) = self.inflate.as_mut() else {
            let n = self.raw.read(out)?;
            self.consumed.set(self.consumed.get() + n as u64);
            return Ok(n);
        };
        loop {
            if self.ended || out.is_empty() {
                return Ok(0);
            }
            let input = self.raw.fill_buf()?;
            let eof = input.is_empty();
            let (was_in, was_out) = (inflate.total_in(), inflate.total_out());
            let flush = if eof {
                FlushDecompress::Finish
            } else {
                FlushDecompress::None
            };
            let status = inflate
                .decompress(input, out, flush)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
            let used = (inflate.total_in() - was_in) as usize;
            let made = (inflate.total_out() - was_out) as usize;
            self.raw.consume(used);
            self.consumed.set(inflate.total_in());
            if status == Status::StreamEnd {
                self.ended = true;
            }
            if made > 0 || self.ended {
                return Ok(made);
            }
            if eof || used == 0 {
                // The compressed bytes end before the stream does, or make no progress.
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
        }
    }
}

/// The workbook file as calamine reads it: through its [`Gate`] when it has one.
pub(super) struct GatedFile {
    file: std::fs::File,
    pos: u64,
    gate: Option<Arc<Gate>>,
}

impl GatedFile {
    /// Open `path`; reads wait for `gate`'s scans when there is one.
    pub(super) fn open(path: &Path, gate: Option<Arc<Gate>>) -> std::io::Result<GatedFile> {
        Ok(GatedFile {
            file: std::fs::File::open(path)?,
            pos: 0,
            gate,
        })
    }
}

impl Read for GatedFile {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = match &self.gate {
            Some(gate) => gate.allowed(self.pos, buf.len())?,
            None => buf.len(),
        };
        let got = self.file.read(&mut buf[..n])?;
        self.pos += got as u64;
        Ok(got)
    }
}

impl Seek for GatedFile {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        self.pos = self.file.seek(to)?;
        Ok(self.pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A zip of `(name, bytes)` entries, deflated.
    fn zip_of(entries: &[(&str, &[u8])]) -> tempfile::NamedTempFile {
        let file = tempfile::NamedTempFile::new().expect("temp file");
        let mut z = zip::ZipWriter::new(file.reopen().expect("reopen"));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .compression_level(Some(1));
        for (name, bytes) in entries {
            z.start_file(*name, opts).expect("entry");
            z.write_all(bytes).expect("write");
        }
        z.finish().expect("finish");
        file
    }

    /// Where the compressed bytes of entry `name` are.
    fn data_range(path: &Path, name: &str) -> (u64, u64) {
        let mut zip = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
        let i = zip.index_for_name(name).unwrap();
        let entry = zip.by_index_raw(i).unwrap();
        let start = entry.data_start().unwrap();
        (start, start + entry.compressed_size())
    }

    /// Read `start..end` of `path` through `gate` as calamine would, in 8 KB reads:
    /// the bytes served, and the error that stopped the reads, if any.
    fn read_through(
        path: &Path,
        gate: Arc<Gate>,
        (start, end): (u64, u64),
    ) -> (Vec<u8>, Option<std::io::Error>) {
        let mut file = GatedFile::open(path, Some(gate)).unwrap();
        file.seek(SeekFrom::Start(start)).unwrap();
        let mut served = Vec::new();
        let mut buf = vec![0u8; 8192];
        while (served.len() as u64) < end - start {
            let want = buf.len().min((end - start) as usize - served.len());
            match file.read(&mut buf[..want]) {
                Ok(0) => break,
                Ok(n) => served.extend_from_slice(&buf[..n]),
                Err(e) => return (served, Some(e)),
            }
        }
        (served, None)
    }

    /// The longest stretch without a `<` in what `raw` (a deflate stream, perhaps cut
    /// short) inflates to.
    fn longest_run(raw: &[u8]) -> usize {
        let mut inflate = Decompress::new(false);
        let mut out = vec![0u8; 1 << 16];
        let (mut run, mut longest, mut at) = (0usize, 0usize, 0usize);
        loop {
            let was = (inflate.total_in(), inflate.total_out());
            let status = inflate.decompress(&raw[at..], &mut out, FlushDecompress::None);
            let used = (inflate.total_in() - was.0) as usize;
            let made = (inflate.total_out() - was.1) as usize;
            at += used;
            for &b in &out[..made] {
                run = if b == b'<' { 0 } else { run + 1 };
                longest = longest.max(run);
            }
            if made == 0 && used == 0 || !matches!(status, Ok(Status::Ok)) {
                return longest;
            }
        }
    }

    const SHEET: &str = "xl/worksheets/sheet1.xml";

    /// Rows of values, then one text longer than any cell can be: calamine is served
    /// the rows (the scan passed them) and is held back before the text, and the scan's
    /// verdict is the refusal.
    #[test]
    fn a_part_refused_near_its_end_is_held_back_where_its_scan_stopped() {
        let mut sheet = String::from("<worksheet><sheetData>");
        for r in 1..=20_000u32 {
            sheet.push_str(&format!(
                "<row r=\"{r}\"><c r=\"A{r}\"><v>{}</v></c></row>",
                r.wrapping_mul(2_654_435_761)
            ));
        }
        sheet.push_str("<row><c t=\"inlineStr\"><is><t>");
        sheet.push_str(&"y".repeat(20 << 20));
        sheet.push_str("</t></is></c></row></sheetData></worksheet>");
        let zip = zip_of(&[(SHEET, sheet.as_bytes())]);
        let range = data_range(zip.path(), SHEET);
        let gate = Gate::start(zip.path(), 1 << 20).unwrap();
        let (served, error) = read_through(zip.path(), Arc::clone(&gate), range);
        let error = error.expect("the reads are stopped");
        assert_eq!(error.to_string(), HELD_BACK);
        assert!(
            (served.len() as u64) < range.1 - range.0,
            "not every byte was served"
        );
        assert!(served.len() > 8192, "the rows before the text were served");
        let longest = longest_run(&served);
        assert!(
            longest as u64 <= limits::MAX_MARKUP_RUN,
            "what calamine was served inflates to a run of {longest} bytes"
        );
        let refused = gate.verdict().expect_err("the part is refused");
        assert!(
            refused
                .to_string()
                .contains("one text or tag longer than 16 MB"),
            "{refused}"
        );
    }

    /// A part that passes is served whole, and the verdict says whether some worksheet
    /// holds a formula.
    #[test]
    fn a_part_that_passes_is_served_whole_with_its_formulas_counted() {
        for (cell, formulas) in [("<v>1</v>", false), ("<f>A1+1</f><v>2</v>", true)] {
            let sheet = format!(
                "<worksheet><sheetData><row r=\"1\"><c r=\"A1\">{cell}</c></row></sheetData></worksheet>"
            );
            let styles = b"<styleSheet/>";
            let zip = zip_of(&[("xl/styles.xml", styles), (SHEET, sheet.as_bytes())]);
            let range = data_range(zip.path(), SHEET);
            let gate = Gate::start(zip.path(), 1 << 20).unwrap();
            let (served, error) = read_through(zip.path(), Arc::clone(&gate), range);
            assert!(error.is_none(), "{error:?}");
            assert_eq!(served.len() as u64, range.1 - range.0);
            assert_eq!(gate.verdict().unwrap(), formulas, "{cell}");
        }
    }
}
