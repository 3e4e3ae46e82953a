//! The first stage of every run: read the input, map its headers to the entity's fields,
//! check that the result can be written, and find duplicate keys, before any row is
//! validated or sent.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::input::{self, ReadOptions};
use crate::mapping::{HeaderIndex, MapFile, Mapping};
use crate::spec::{self, Entity, Mode, TargetId};
use crate::ui::Printer;
use crate::validate::ParseOptions;
use crate::validate::duplicates::{DuplicateIndex, Space};

/// Everything `validate` needs, already checked by the CLI layer.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Config {
    /// The spreadsheet to read.
    pub input: PathBuf,
    /// Target whose spec applies.
    pub target: TargetId,
    /// The kind of record the rows are.
    pub entity: Entity,
    /// Mode whose requirements apply.
    pub mode: Mode,
    /// Reader options.
    pub read: ReadOptions,
    /// Optional mapping file.
    pub map: Option<PathBuf>,
    /// Where to write the mapping used (`--save-map`), in the format `--map` reads;
    /// once, not again on resume.
    #[serde(skip)]
    pub save_map: Option<PathBuf>,
    /// Number and date reading.
    pub parse: ParseOptions,
    /// Result path (default `<stem>.result.xlsx` beside the input).
    pub out: Option<PathBuf>,
}

/// The default result path: `<input stem>.result.xlsx` beside the input.
pub fn default_result_path(input: &Path) -> PathBuf {
    let stem = input
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "sheetload".into());
    input.with_file_name(format!("{stem}.result.xlsx"))
}

/// The options of a run that sends nothing (`validate`, `import --dry-run`): its result
/// goes to the default `<stem>.result.xlsx` unless that file is a real run's result,
/// which a check never replaces (`retry` needs its Failed sheet): then to
/// `<stem>.check.xlsx`, and the run says so. An `--out` given is taken as given.
pub fn keep_real_result(cfg: &Config, ui: &Printer) -> Config {
    let mut cfg = cfg.clone();
    if cfg.out.is_some() {
        return cfg;
    }
    let default = default_result_path(&cfg.input);
    if let Some(run) = super::again::run_of_result(&default) {
        let check = check_result_path(&cfg.input);
        ui.note(&format!(
            "{} holds the result of run {run}, which a check never replaces (retry needs it): this one goes to {}",
            default.display(),
            check.display()
        ));
        cfg.out = Some(check);
    }
    cfg
}

/// Where a check writes when `<stem>.result.xlsx` is a real run's: `<stem>.check.xlsx`.
pub fn check_result_path(input: &Path) -> PathBuf {
    let stem = input
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "sheetload".into());
    input.with_file_name(format!("{stem}.check.xlsx"))
}

/// Everything known before the first row is processed: the spec, the opened table,
/// its mapping, the result path and the duplicate keys. Shared by validate and import.
pub struct Prepared {
    /// The entity spec.
    pub spec: spec::EntitySpec,
    /// The opened input.
    pub table: input::Table,
    /// Columns → fields.
    pub mapping: Mapping,
    /// Where the result goes.
    pub out: PathBuf,
    /// Natural keys seen more than once in the file.
    pub dups: Option<DuplicateIndex>,
}

impl Prepared {
    /// Input columns that hold secrets (passwords): never written back out.
    pub fn secret_columns(&self) -> Vec<usize> {
        secret_columns(&self.spec, &self.mapping)
    }

    /// The check that holds an update replacing a stored value with its Excel-damaged
    /// form, knowing which column each payload field comes from; `allow` lets them pass.
    /// `typed`: the input's text cells were typed by the user (not a result workbook
    /// of sheetload's, see [`crate::engine::Config::retrying`]).
    pub fn excel_guard(&self, allow: bool, typed: bool) -> crate::payload::excel_damage::Guard {
        let mut guard = crate::payload::excel_damage::Guard::new(allow);
        for (f, b) in self.spec.fields.iter().zip(&self.mapping.fields) {
            if let (Some(path), Some(col)) = (&f.path, b.column) {
                let cell = self.table.cell_name(1, col);
                let cell = cell.strip_suffix('1').unwrap_or(&cell).to_string();
                guard.column(path, self.table.column_name(col), cell, col);
            }
        }
        guard.for_workbook(typed && self.table.format != crate::input::Format::Csv)
    }
}

pub(crate) fn secret_columns(spec: &spec::EntitySpec, mapping: &Mapping) -> Vec<usize> {
    spec.fields
        .iter()
        .zip(&mapping.fields)
        .filter(|(f, _)| f.secret)
        .filter_map(|(_, b)| b.column)
        .collect()
}

/// Load the spec, open and map the input, check the result path and find duplicate
/// keys; every problem found here stops the run before any row is processed.
pub fn prepare(cfg: &Config, ui: &Printer) -> Result<Prepared> {
    prepare_with(cfg, ui, false)
}

/// [`prepare`], leaving out the duplicate-key pass when `defer` is set (`dups` is then
/// `None`): an offline run gathers the keys as it validates and validates again only
/// if some key is duplicated (see [`gather_key`]), so that a file without duplicates is
/// read once, not twice.
pub fn prepare_with(cfg: &Config, ui: &Printer, defer: bool) -> Result<Prepared> {
    let spec = spec::builtin(cfg.target, cfg.entity)?;
    if !spec.modes.contains(&cfg.mode) {
        return Err(Error::usage(format!(
            "{} cannot be imported with --mode {}; supported: {}",
            spec.entity,
            cfg.mode,
            spec.modes
                .iter()
                .map(|m| m.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let map = cfg.map.as_deref().map(MapFile::load).transpose()?;
    let index = HeaderIndex::new(&spec);
    let renamed: Vec<String> = map
        .iter()
        .flat_map(|m| m.columns.keys().map(|k| crate::mapping::normalize(k)))
        .collect();
    let score = |row: &[String]| {
        index.score(row)
            + row
                .iter()
                .filter(|c| renamed.contains(&crate::mapping::normalize(c)))
                .count()
    };
    // The duplicate-key pass scans one column: a streamed sheet gathers it as it is
    // surveyed (needing the mapping, so it is resolved from the headers found).
    let pick = |headers: &[String]| {
        let mapping = Mapping::resolve(&spec, headers, map.as_ref(), cfg.mode).ok()?;
        key_column(&spec, &mapping)
    };
    let table = input::open_keyed(&cfg.input, &cfg.read, &score, Some(&pick))?;
    for n in &table.notes {
        ui.note(n);
    }
    let mapping = Mapping::resolve(&spec, &table.headers, map.as_ref(), cfg.mode).map_err(|e| {
        let guessed = cfg.read.header_row.is_none() && score(&table.headers) < 2;
        if guessed {
            no_header_matched(e, &table, spec.entity)
        } else {
            e
        }
    })?;
    for w in &mapping.warnings {
        ui.warn(w);
    }
    let unmapped = mapping.unmapped_headers(&table.headers);
    if !unmapped.is_empty() {
        let shown: Vec<String> = unmapped
            .iter()
            .take(12)
            .map(|h| format!("\"{h}\""))
            .collect();
        let more = if unmapped.len() > 12 {
            format!(" and {} more", unmapped.len() - 12)
        } else {
            String::new()
        };
        ui.warn(&format!(
            "{} column{} not imported (no matching field): {}{more}; map them with --map or ignore this",
            unmapped.len(),
            if unmapped.len() == 1 { " is" } else { "s are" },
            shown.join(", ")
        ));
    }

    if let Some(path) = &cfg.save_map {
        crate::mapping::save(path, spec.entity, &mapping, &table, map.as_ref())?;
        ui.note(&format!("mapping saved to {}", path.display()));
    }

    let out = cfg
        .out
        .clone()
        .unwrap_or_else(|| default_result_path(&cfg.input));
    if same_file(&out, &cfg.input) {
        return Err(Error::usage(format!(
            "the result path {} is the input file itself: choose another --out",
            out.display()
        )));
    }

    // First pass: duplicate natural keys, so every row of a group can be flagged.
    let dups = if defer {
        None
    } else {
        find_duplicates(&spec, &mapping, &table)?
    };
    Ok(Prepared {
        spec,
        table,
        mapping,
        out,
        dups,
    })
}

/// Where one value the duplicate pass checks comes from.
#[derive(Clone, Copy)]
enum Source<'m> {
    /// A column, with the default its empty cells take.
    Column(usize, Option<&'m str>),
    /// The same text on every row: a mapping constant, or a default without a column.
    Every(&'m str),
}

impl<'m> Source<'m> {
    /// Where a field's value comes from, as the validator takes it: constant, cell,
    /// default.
    fn of(b: &'m crate::mapping::Binding) -> Option<Self> {
        if let Some(c) = &b.constant {
            return Some(Source::Every(c));
        }
        match (b.column, b.default.as_deref()) {
            (Some(col), default) => Some(Source::Column(col, default)),
            (None, Some(d)) => Some(Source::Every(d)),
            (None, None) => None,
        }
    }

    /// The row's text: the cell as the sheet shows it, trimmed, or what stands for it.
    fn text<'r>(&self, row: &'r input::RawRow) -> std::borrow::Cow<'r, str>
    where
        'm: 'r,
    {
        match *self {
            Source::Every(t) => t.into(),
            Source::Column(col, default) => {
                let cell = &row.cells[col];
                match default {
                    Some(d) if cell.is_empty() => d.into(),
                    _ => match cell.shown_text() {
                        std::borrow::Cow::Borrowed(t) => t.trim().into(),
                        std::borrow::Cow::Owned(t) => t.trim().to_string().into(),
                    },
                }
            }
        }
    }
}

/// The values checked for duplicates, each in its space: the natural key and the id,
/// wherever they come from (a column, or a constant that gives every row the same
/// one). None for an entity whose rows sharing a key are one record's lines (orders).
/// A mapping that failed on a header row found by default which names at most one
/// field: most likely no row is a header the entity knows (headers in another language,
/// a data row taken for the header). Say so, show the top rows, and how to map them,
/// rather than only which field is missing.
fn no_header_matched(e: Error, table: &input::Table, entity: Entity) -> Error {
    if !matches!(e, Error::Usage(_)) {
        return e;
    }
    let shown: Vec<String> = table
        .top_rows
        .iter()
        .map(|(n, cells)| {
            let cells: Vec<String> = cells
                .iter()
                .filter(|c| !c.trim().is_empty())
                .take(8)
                .map(|c| format!("\"{}\"", c.trim().chars().take(30).collect::<String>()))
                .collect();
            format!("  row {n}: {}", cells.join(", "))
        })
        .collect();
    let example = table
        .headers
        .iter()
        .find(|h| !h.is_empty())
        .map_or("Your header", String::as_str);
    Error::usage(format!(
        "no header row of {} names the fields of {entity}: row {} was taken as the header, but it names at most one of them. The first rows are:\n{}\nName the columns as `sheetload template {entity}` writes them, or map yours in a file given with --map (a [columns] table: \"{example}\" = \"name\"), or give the header row with --header-row N.\n({e})",
        table.path.display(),
        table.header_row,
        shown.join("\n")
    ))
}

fn checked<'m>(
    spec: &spec::EntitySpec,
    mapping: &'m Mapping,
) -> impl Iterator<Item = (Space, Source<'m>)> + Clone {
    let grouped = spec.group_by.is_some();
    let key = spec
        .natural_key
        .as_ref()
        .and_then(|k| spec.fields.iter().position(|f| &f.name == k));
    let id = spec.fields.iter().position(|f| f.is_id);
    // An array, not a list: this runs for every row a pass gathers.
    [(Space::Key, key), (Space::Id, id)]
        .into_iter()
        .filter(move |_| !grouped)
        .filter_map(|(space, field)| Some((space, Source::of(&mapping.fields[field?])?)))
}

/// The one column a streamed sheet may gather for the pass while it is surveyed: when
/// the key is the only value checked and has no default.
fn key_column(spec: &spec::EntitySpec, mapping: &Mapping) -> Option<usize> {
    let mut checks = checked(spec, mapping);
    match (checks.next(), checks.next()) {
        (Some((Space::Key, Source::Column(col, None))), None) => Some(col),
        _ => None,
    }
}

/// The value as the pass compares it: a key unless the spec says rows share it, an id
/// as its whole number (`1000010.0` is `1000010`); `None`: not checked.
fn checked_value<'t>(
    spec: &spec::EntitySpec,
    space: Space,
    text: std::borrow::Cow<'t, str>,
) -> Option<std::borrow::Cow<'t, str>> {
    match space {
        Space::Key => (!spec.is_shared_key(&text)).then_some(text),
        Space::Id => crate::validate::values::parse_id(&text)
            .ok()
            .map(|id| id.to_string().into()),
    }
}

/// What the duplicate-key pass notes of `row` (its key and id, unless empty or shared
/// by many records), for a run that gathers them as it goes.
pub fn gather_key(prepared: &Prepared, row: &input::RawRow, dups: &mut DuplicateIndex) {
    for (space, source) in checked(&prepared.spec, &prepared.mapping) {
        if let Some(v) = checked_value(&prepared.spec, space, source.text(row)) {
            dups.add_in(space, &v, row.number);
        }
    }
}

/// Whether the entity's rows are checked for duplicate keys at all.
pub fn has_key_check(prepared: &Prepared) -> bool {
    checked(&prepared.spec, &prepared.mapping).next().is_some()
}

fn find_duplicates(
    spec: &spec::EntitySpec,
    mapping: &Mapping,
    table: &input::Table,
) -> Result<Option<DuplicateIndex>> {
    let checks: Vec<_> = checked(spec, mapping).collect();
    if checks.is_empty() {
        return Ok(None);
    }
    // Two passes in bounded memory: a fixed-size filter finds the keys that may occur
    // more than once, and only their rows go into the index (an index of every key of
    // a million-row file would be the import's peak memory).
    let mut filter = RepeatFilter::new();
    each_key(spec, table, &checks, &mut |space, key, _| {
        filter.see(space, key)
    })?;
    let mut dups = DuplicateIndex::new();
    if filter.any_repeated() {
        each_key(spec, table, &checks, &mut |space, key, row| {
            if filter.maybe_repeated(space, key) {
                dups.add_in(space, key, row);
            }
        })?;
    }
    dups.finish();
    Ok(Some(dups))
}

/// Every row's checked values, except the keys the spec says rows may share. A column
/// without a default is scanned alone; the rest take the rows.
fn each_key(
    spec: &spec::EntitySpec,
    table: &input::Table,
    checks: &[(Space, Source<'_>)],
    f: &mut dyn FnMut(Space, &str, u32),
) -> Result<()> {
    let mut by_row = Vec::new();
    for &(space, source) in checks {
        match source {
            Source::Column(col, None) => table.scan_column(col, &mut |row, key| {
                if let Some(v) = checked_value(spec, space, key.into()) {
                    f(space, &v, row)
                }
            })?,
            _ => by_row.push((space, source)),
        }
    }
    if by_row.is_empty() {
        return Ok(());
    }
    for row in table.rows()? {
        let row = row?;
        for &(space, source) in &by_row {
            if let Some(v) = checked_value(spec, space, source.text(&row)) {
                f(space, &v, row.number);
            }
        }
    }
    Ok(())
}

/// Bits of each of [`RepeatFilter`]'s two maps: 2 MB each, whatever the file's size.
const FILTER_BITS: usize = 1 << 24;

/// Which keys may occur more than once, in constant memory: a key's hash picks one bit;
/// a bit hit a second time marks every key on it as a candidate. Every key that does
/// repeat is a candidate (a superset: a few others share its bit, about 6% of the keys
/// of a million-row file), so the exact index built from the candidates alone finds
/// exactly the duplicates an index of every key would.
struct RepeatFilter {
    state: std::hash::RandomState,
    once: Vec<u64>,
    twice: Vec<u64>,
    repeated: bool,
}

impl RepeatFilter {
    fn new() -> Self {
        RepeatFilter {
            state: std::hash::RandomState::new(),
            once: vec![0; FILTER_BITS / 64],
            twice: vec![0; FILTER_BITS / 64],
            repeated: false,
        }
    }

    fn slot(&self, space: Space, key: &str) -> (usize, u64) {
        let h = std::hash::BuildHasher::hash_one(&self.state, (space == Space::Id, key));
        let bit = (h as usize) % FILTER_BITS;
        (bit / 64, 1u64 << (bit % 64))
    }

    fn see(&mut self, space: Space, key: &str) {
        if key.is_empty() {
            return;
        }
        let (word, bit) = self.slot(space, key);
        if self.once[word] & bit == 0 {
            self.once[word] |= bit;
        } else {
            self.twice[word] |= bit;
            self.repeated = true;
        }
    }

    fn any_repeated(&self) -> bool {
        self.repeated
    }

    fn maybe_repeated(&self, space: Space, key: &str) -> bool {
        let (word, bit) = self.slot(space, key);
        self.twice[word] & bit != 0
    }
}

/// Whether two paths name the same file.
pub fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

/// The sheet with the run's own key and grouping: `--key FIELD` becomes the natural key
/// (validation, duplicate checks, upsert and lookups all use it), `--group-by FIELD`
/// the field whose equal values make one record (orders). Duplicates are found again.
pub fn with_key(
    mut prepared: Prepared,
    key: Option<&str>,
    group_by: Option<&str>,
) -> Result<Prepared> {
    let entity = prepared.spec.entity;
    let known = |f: &str, flag: &str| {
        if prepared.spec.field(f).is_some() {
            Ok(())
        } else {
            Err(Error::usage(format!(
                "{flag} {f} is not a field of {entity}"
            )))
        }
    };
    if let Some(k) = key {
        known(k, "--key")?;
    }
    if let Some(g) = group_by {
        known(g, "--group-by")?;
        if prepared.spec.group_by.is_none() {
            return Err(Error::usage(format!(
                "--group-by applies to entities whose rows are lines of one record (orders), not to {entity}"
            )));
        }
    }
    let changed = key.is_some_and(|k| prepared.spec.natural_key.as_deref() != Some(k))
        || group_by.is_some_and(|g| prepared.spec.group_by.as_deref() != Some(g));
    if !changed {
        return Ok(prepared);
    }
    if let Some(k) = key {
        prepared.spec.natural_key = Some(k.to_string());
    }
    if let Some(g) = group_by {
        prepared.spec.group_by = Some(g.to_string());
    }
    prepared.dups = find_duplicates(&prepared.spec, &prepared.mapping, &prepared.table)?;
    Ok(prepared)
}

#[cfg(test)]
mod tests {
    use super::{RepeatFilter, Space};

    #[test]
    fn every_repeated_key_is_a_candidate_and_few_others_are() {
        let mut f = RepeatFilter::new();
        assert!(!f.any_repeated());
        for i in 0..200_000 {
            f.see(Space::Key, &format!("C{i:07}"));
        }
        for i in (0..200_000).step_by(1000) {
            f.see(Space::Key, &format!("C{i:07}"));
        }
        f.see(Space::Key, "");
        f.see(Space::Key, "");
        assert!(f.any_repeated());
        assert!(
            (0..200_000)
                .step_by(1000)
                .all(|i| f.maybe_repeated(Space::Key, &format!("C{i:07}")))
        );
        let others = (0..200_000)
            .filter(|i| i % 1000 != 0 && f.maybe_repeated(Space::Key, &format!("C{i:07}")))
            .count();
        // About 1 - e^(-200,000 / 2^24) ≈ 1.2% of the keys share a bit with another.
        assert!(others < 6_000, "{others} false candidates");
    }
}
