//! Blank template workbooks generated from a spec: the header row with required columns
//! marked, a note on each header, drop-downs for yes/no and enums, range checks on
//! coordinates, and a `Guide` sheet listing every column.
//!
//! Everything shown is derived from the same spec that drives mapping and validation, and
//! aliases are checked against the real header index before they are advertised, so a
//! template never promises a spelling that `validate` would not understand.

use std::path::{Path, PathBuf};

use rust_xlsxwriter::{
    Color, DataValidation, DataValidationErrorStyle, DataValidationRule, DocProperties,
    ExcelDateTime, Format, FormatAlign, FormatBorder, Formula, Note, Workbook, Worksheet,
    XlsxError,
};

use crate::error::{Error, Result};
use crate::mapping::{HeaderIndex, normalize, target_name};
use crate::spec::{EntitySpec, FieldSpec, FieldType, GroupSpec, Mode, RuleKind};

/// Instances of a repeated group shown in a template; a user may add `unit4_…` by hand.
const GROUP_INSTANCES: usize = 3;
/// Data rows (2..=10001) that get drop-downs and range checks: enough for a monthly
/// upload, few enough to keep the file small.
const VALIDATED_ROWS: u32 = 10_000;
/// Excel's limit on a list validation typed in directly (`true,false`).
const MAX_INLINE_LIST: usize = 255;
/// Excel's limit on a data-validation title (UTF-16 units).
const MAX_DV_TITLE: usize = 32;
/// Excel's limit on a data-validation message (UTF-16 units).
const MAX_DV_MESSAGE: usize = 255;
/// Name of the hidden sheet holding drop-down lists too long to type inline.
const LISTS_SHEET: &str = "Lists";
/// Name of the sheet that explains every column.
const GUIDE_SHEET: &str = "Guide";

/// One column of the template and everything needed to describe it.
struct Column<'a> {
    /// Canonical header (`name`, `unit2_price`).
    header: String,
    field: &'a FieldSpec,
    /// The group and 1-based instance, for group members.
    group: Option<(&'a GroupSpec, usize)>,
    /// Required when creating, so marked in the header.
    required_create: bool,
    /// Other spellings that really map to this column.
    aliases: Vec<String>,
}

/// Write the template of `spec` to `path`.
///
/// The file is written beside `path` first and moved into place at the end, so a failure
/// never leaves a half-written workbook where the user expects a whole one.
pub fn write(spec: &EntitySpec, path: &Path) -> Result<()> {
    if let Some(ext) = path.extension().and_then(|e| e.to_str())
        && !ext.eq_ignore_ascii_case("xlsx")
    {
        return Err(Error::output(format!(
            "cannot write the {} template to {}: a template is an Excel workbook, so name the file .xlsx",
            spec.entity,
            path.display()
        )));
    }
    let mut book = build(spec).map_err(|e| {
        Error::output(format!(
            "cannot build the {} template for {}: {e}; a help text or value list in templates/{}/{}.toml is probably longer than Excel allows: shorten it",
            spec.entity, spec.target, spec.target, spec.entity
        ))
    })?;
    let temp = temp_path(path);
    let saved = book
        .save(&temp)
        .map_err(|e| e.to_string())
        .and_then(|()| super::replace_file(&temp, path).map_err(|e| crate::input::io_reason(&e)));
    if let Err(why) = saved {
        let _ = std::fs::remove_file(&temp);
        return Err(Error::output(format!(
            "cannot write the {} template to {}: {why}; check that the folder exists, that you may write there and that the file is not open in Excel",
            spec.entity,
            path.display()
        )));
    }
    Ok(())
}

fn temp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    path.with_file_name(name)
}

/// The sheet users fill in is named after the entity: `customers` → `Customers`.
fn sheet_name(entity: &str) -> String {
    let mut chars = entity.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => "Data".to_string(),
    }
}

fn build(spec: &EntitySpec) -> Result<Workbook, XlsxError> {
    let index = HeaderIndex::new(spec);
    let columns = columns(spec, &index);
    let mut book = Workbook::new();
    book.set_properties(
        &DocProperties::new()
            .set_title(format!("{} template ({})", spec.entity, spec.target))
            .set_comment(format!(
                "Check it with: sheetload validate FILE{} --entity {}",
                target_flag(spec),
                spec.entity
            )),
    );

    // Enum lists that cannot be typed inline (too long, or a value with a comma) go to
    // a hidden sheet: (column index, values).
    let mut long_lists: Vec<(usize, Vec<String>)> = Vec::new();
    for (i, c) in columns.iter().enumerate() {
        let values = &c.field.values;
        if c.field.kind == FieldType::Enum
            && (inline_list_len(values) > MAX_INLINE_LIST || values.iter().any(|v| v.contains(',')))
        {
            long_lists.push((i, values.clone()));
        }
    }

    let sheet = book.add_worksheet();
    sheet.set_name(sheet_name(spec.entity.as_str()))?;
    sheet.set_active(true);
    write_data_sheet(sheet, &columns, &long_lists)?;

    let guide = book.add_worksheet();
    guide.set_name(GUIDE_SHEET)?;
    write_guide(guide, spec, &columns)?;

    if !long_lists.is_empty() {
        let lists = book.add_worksheet();
        lists.set_name(LISTS_SHEET)?;
        lists.set_hidden(true);
        for (n, (i, values)) in long_lists.iter().enumerate() {
            let col = n as u16;
            lists.write_string(0, col, &columns[*i].header)?;
            for (r, v) in values.iter().enumerate() {
                lists.write_string(r as u32 + 1, col, v)?;
            }
        }
    }
    Ok(book)
}

/// The header row `write` gives `spec`, in order: what `template --json` counts.
pub fn headers(spec: &EntitySpec) -> Vec<String> {
    columns(spec, &HeaderIndex::new(spec))
        .into_iter()
        .map(|c| c.header)
        .collect()
}

/// Every column in template order: plain fields as the spec lists them, then each group's
/// members for instances 1..=3.
fn columns<'a>(spec: &'a EntitySpec, index: &HeaderIndex) -> Vec<Column<'a>> {
    let mut out = Vec::new();
    for f in &spec.fields {
        let aliases = working_aliases(spec, index, &f.name, f.aliases.iter().cloned());
        out.push(Column {
            header: f.name.clone(),
            field: f,
            group: None,
            required_create: f.required_in(Mode::Create),
            aliases,
        });
    }
    for g in &spec.groups {
        for k in 1..=GROUP_INSTANCES.min(g.max) {
            for m in &g.fields {
                let header = g.header(k, &m.name);
                let mut candidates: Vec<String> = Vec::new();
                for a in &m.aliases {
                    if k == 1 {
                        candidates.push(a.clone());
                    }
                    candidates.push(format!("{a} {k}"));
                }
                for p in std::iter::once(&g.name).chain(&g.aliases) {
                    if k == 1 {
                        candidates.push(format!("{p}_{}", m.name));
                    }
                    candidates.push(format!("{p}{k}_{}", m.name));
                }
                let aliases = working_aliases(spec, index, &header, candidates.into_iter());
                out.push(Column {
                    header,
                    field: m,
                    group: Some((g, k)),
                    required_create: k == 1
                        && g.required.contains(&Mode::Create)
                        && !m.required.is_empty(),
                    aliases,
                });
            }
        }
    }
    out
}

/// Keep only the spellings that the header index really maps to `header`, without
/// repeats: an alias shadowed by another field's name must not be advertised.
fn working_aliases(
    spec: &EntitySpec,
    index: &HeaderIndex,
    header: &str,
    candidates: impl Iterator<Item = String>,
) -> Vec<String> {
    let mut seen = vec![normalize(header)];
    let mut out = Vec::new();
    for c in candidates {
        let norm = normalize(&c);
        if seen.contains(&norm) {
            continue;
        }
        let maps_here = index
            .lookup(&c)
            .is_some_and(|t| target_name(spec, t) == header);
        if maps_here {
            seen.push(norm);
            out.push(c);
        }
    }
    out
}

/// A bound as people write it: `0`, `1`, `-90`, `0.5`.
fn num(n: f64) -> String {
    format!("{n}")
}

/// The type line for notes and the Guide: "number, at least 0", "text, at most 255 characters".
fn type_text(f: &FieldSpec) -> String {
    let mut s = match f.kind {
        FieldType::Enum => format!("one of: {}", f.values.join(", ")),
        other => other.describe().to_string(),
    };
    match (f.min, f.max) {
        (Some(lo), Some(hi)) => s.push_str(&format!(", from {} to {}", num(lo), num(hi))),
        (Some(lo), None) => s.push_str(&format!(", at least {}", num(lo))),
        (None, Some(hi)) => s.push_str(&format!(", at most {}", num(hi))),
        (None, None) => {}
    }
    if let Some(n) = f.max_len {
        s.push_str(&format!(", at most {n} characters"));
    }
    s
}

/// The note on a header cell: what to put there, in the order a user needs it.
fn note_text(c: &Column<'_>) -> String {
    let mut lines = Vec::new();
    if c.required_create {
        lines.push("Required.".to_string());
    } else if c.group.is_none() && !c.field.required.is_empty() {
        let modes: Vec<&str> = c.field.required.iter().map(|m| m.as_str()).collect();
        lines.push(format!("Required for {}.", modes.join(" and ")));
    }
    lines.push(c.field.help.clone());
    if let Some((g, k)) = c.group {
        if k > 1 && !c.field.required.is_empty() {
            lines.push(format!(
                "Required when any other {} column is filled.",
                g.header(k, "…")
            ));
        }
        lines.push(format!(
            "{} {k} of up to {} per row. {}",
            sheet_name(&g.name),
            g.max,
            g.help
        ));
    }
    lines.push(format!("Type: {}.", type_text(c.field)));
    if !c.aliases.is_empty() {
        lines.push(format!("Also recognised as: {}.", c.aliases.join(", ")));
    }
    if let Some(e) = example(c) {
        lines.push(format!("Example: {e}"));
    }
    lines.join("\n")
}

/// The example shown for a column; later group instances point at the first one, whose
/// example (`ratio` 1) would be wrong for them.
fn example(c: &Column<'_>) -> Option<String> {
    match c.group {
        Some((g, k)) if k > 1 => Some(format!("see {}", g.header(1, &c.field.name))),
        _ => c.field.example.clone(),
    }
}

/// Cut `s` to at most `max` UTF-16 units (Excel's measure), ending with `…` when cut.
fn fit(s: &str, max: usize) -> String {
    if s.encode_utf16().count() <= max {
        return s.to_string();
    }
    let mut out = String::new();
    let mut used = 1; // room for the ellipsis
    for ch in s.chars() {
        used += ch.len_utf16();
        if used > max {
            break;
        }
        out.push(ch);
    }
    out.push('…');
    out
}

/// Length of a list validation as Excel stores it: values joined by commas.
fn inline_list_len(values: &[String]) -> usize {
    values
        .iter()
        .map(|v| v.encode_utf16().count() + 1)
        .sum::<usize>()
}

/// The number format that keeps what is typed: text where leading zeros or `+` matter.
fn column_format(kind: FieldType) -> Option<Format> {
    match kind {
        FieldType::String
        | FieldType::Phone
        | FieldType::Id
        | FieldType::Tags
        | FieldType::Discount
        | FieldType::Location
        | FieldType::Email => Some(Format::new().set_num_format("@")),
        FieldType::Date => Some(Format::new().set_num_format("yyyy-mm-dd")),
        _ => None,
    }
}

/// A whole-number bound for Excel, which only takes 32-bit integers.
fn whole(n: f64, round_up: bool) -> i32 {
    let n = if round_up { n.ceil() } else { n.floor() };
    n.clamp(i32::MIN as f64, i32::MAX as f64) as i32
}

/// The rule text used in both messages: "a number from -90 to 90".
fn bound_text(what: &str, min: Option<f64>, max: Option<f64>) -> String {
    match (min, max) {
        (Some(lo), Some(hi)) => format!("{what} from {} to {}", num(lo), num(hi)),
        (Some(lo), None) => format!("{what} of at least {}", num(lo)),
        (None, Some(hi)) => format!("{what} of at most {}", num(hi)),
        (None, None) => what.to_string(),
    }
}

/// The data validation of a column, with its messages, if its type has one.
///
/// Validations warn rather than stop: the parsers accept more than Excel's checks can
/// express (`ya`/`tidak`, decimal commas), and `sheetload validate` is the real check.
fn validation(
    c: &Column<'_>,
    list_ref: Option<String>,
) -> Result<Option<DataValidation>, XlsxError> {
    let f = c.field;
    let h = &c.header;
    let example = f.example.as_deref();
    let (dv, input, error) = match f.kind {
        FieldType::Boolean => (
            DataValidation::new().allow_list_strings(&["true", "false"])?,
            "Choose true or false.".to_string(),
            format!("{h} takes true or false (yes/no and ya/tidak are also understood)."),
        ),
        FieldType::Enum => {
            let dv = match list_ref {
                Some(r) => DataValidation::new().allow_list_formula(Formula::new(r)),
                None => DataValidation::new().allow_list_strings(&f.values)?,
            };
            (
                dv,
                "Choose a value from the list.".to_string(),
                format!("{h} must be one of: {}.", f.values.join(", ")),
            )
        }
        FieldType::Latitude | FieldType::Longitude => {
            let limit = if f.kind == FieldType::Latitude {
                90.0
            } else {
                180.0
            };
            let lo = f.min.unwrap_or(-limit).max(-limit);
            let hi = f.max.unwrap_or(limit).min(limit);
            (
                DataValidation::new().allow_decimal_number(DataValidationRule::Between(lo, hi)),
                format!("Decimal degrees, {} to {}.", num(lo), num(hi)),
                format!(
                    "{h} takes decimal degrees from {} to {}{}.",
                    num(lo),
                    num(hi),
                    example
                        .map(|e| format!(", such as {e}"))
                        .unwrap_or_default()
                ),
            )
        }
        FieldType::Integer if f.min.is_some() || f.max.is_some() => {
            let rule = match (f.min, f.max) {
                (Some(lo), Some(hi)) => {
                    DataValidationRule::Between(whole(lo, true), whole(hi, false))
                }
                (Some(lo), None) => DataValidationRule::GreaterThanOrEqualTo(whole(lo, true)),
                (_, hi) => DataValidationRule::LessThanOrEqualTo(whole(hi.unwrap_or(0.0), false)),
            };
            let rule_text = bound_text("a whole number", f.min, f.max);
            (
                DataValidation::new().allow_whole_number(rule),
                format!("Enter {rule_text}."),
                format!("{h} must be {rule_text}."),
            )
        }
        FieldType::Decimal if f.min.is_some() || f.max.is_some() => {
            let rule = match (f.min, f.max) {
                (Some(lo), Some(hi)) => DataValidationRule::Between(lo, hi),
                (Some(lo), None) => DataValidationRule::GreaterThanOrEqualTo(lo),
                (_, hi) => DataValidationRule::LessThanOrEqualTo(hi.unwrap_or(0.0)),
            };
            let rule_text = bound_text("a number", f.min, f.max);
            (
                DataValidation::new().allow_decimal_number(rule),
                format!("Enter {rule_text}."),
                format!("{h} must be {rule_text}."),
            )
        }
        FieldType::Date => (
            DataValidation::new().allow_date(DataValidationRule::GreaterThanOrEqualTo(
                ExcelDateTime::from_ymd(1900, 1, 1)?,
            )),
            format!("A date, such as {}.", example.unwrap_or("2026-12-01")),
            format!(
                "{h} must be a date (YYYY-MM-DD) on or after 1900-01-01, such as {}.",
                example.unwrap_or("2026-12-01")
            ),
        ),
        _ => return Ok(None),
    };
    let dv = dv
        .set_input_title(fit(h, MAX_DV_TITLE))?
        .set_input_message(fit(&input, MAX_DV_MESSAGE))?
        .set_error_title(fit(&format!("Check {h}"), MAX_DV_TITLE))?
        .set_error_message(fit(&error, MAX_DV_MESSAGE))?
        .set_error_style(DataValidationErrorStyle::Warning);
    Ok(Some(dv))
}

/// The sheet a user fills in: one header row and nothing else.
fn write_data_sheet(
    ws: &mut Worksheet,
    columns: &[Column<'_>],
    long_lists: &[(usize, Vec<String>)],
) -> Result<(), XlsxError> {
    let optional = Format::new()
        .set_background_color(Color::RGB(0xEDEDED))
        .set_border_bottom(FormatBorder::Thin)
        .set_align(FormatAlign::VerticalCenter);
    let required = Format::new()
        .set_bold()
        .set_background_color(Color::RGB(0xFFD966))
        .set_border_bottom(FormatBorder::Medium)
        .set_align(FormatAlign::VerticalCenter);
    ws.set_default_note_author("sheetload");
    for (i, c) in columns.iter().enumerate() {
        let col = i as u16;
        let example_len = c.field.example.as_deref().map_or(0, |e| e.chars().count());
        let width = (c.header.chars().count().max(example_len) as f64 + 3.0).clamp(10.0, 40.0);
        ws.set_column_width(col, width)?;
        if let Some(fmt) = column_format(c.field.kind) {
            ws.set_column_format(col, &fmt)?;
        }
        let fmt = if c.required_create {
            &required
        } else {
            &optional
        };
        ws.write_string_with_format(0, col, &c.header, fmt)?;

        let text = note_text(c);
        let lines: usize = text
            .lines()
            .map(|l| l.chars().count().div_ceil(44).max(1))
            .sum();
        let note = Note::new(text)
            .add_author_prefix(false)
            .set_width(320)
            .set_height((lines as u32 * 15 + 12).max(60));
        ws.insert_note(0, col, &note)?;

        let list_ref = long_lists.iter().position(|(j, _)| *j == i).map(|n| {
            let letter = crate::input::column_letter(n);
            let last = long_lists[n].1.len() + 1;
            format!("={LISTS_SHEET}!${letter}$2:${letter}${last}")
        });
        if let Some(dv) = validation(c, list_ref)? {
            ws.add_data_validation(1, col, VALIDATED_ROWS, col, &dv)?;
        }
    }
    ws.set_freeze_panes(1, 0)?;
    let last = columns.len().saturating_sub(1) as u16;
    ws.autofilter(0, 0, 0, last)?;
    Ok(())
}

/// What the Guide's "Required for …" cells say for one column and mode.
fn required_text(spec: &EntitySpec, c: &Column<'_>, mode: Mode) -> String {
    if let Some((g, k)) = c.group {
        if k == 1 && g.required.contains(&mode) && !c.field.required.is_empty() {
            return "yes".into();
        }
        if !c.field.required.is_empty() {
            return format!("when {} is used", g.header(k, "…"));
        }
        return "—".into();
    }
    if c.field.required_in(mode) {
        return "yes".into();
    }
    let one_of = spec
        .rules
        .iter()
        .find(|r| r.kind == RuleKind::OneOf && r.applies(mode) && r.fields.contains(&c.header));
    match one_of {
        Some(r) => format!("one of {}", r.fields.join(" / ")),
        None => "—".into(),
    }
}

/// The `Guide` sheet: what the workbook is for, how to check it, and every column.
/// The Guide sheet's opening lines: what the sheet is, how to fill it, how to check it,
/// and how repeated column groups work.
fn guide_intro(spec: &EntitySpec, sheet: &str) -> Vec<String> {
    let mut intro = vec![
        spec.description.clone(),
        format!(
            "Fill in one row per record on the \"{sheet}\" sheet, below its header row. Bold columns with an amber header are required when creating records; every header has a note explaining it."
        ),
        "Headers may also be written in Indonesian or another common spelling (see \"Also recognised as\"); case, spaces and punctuation do not matter, columns may be in any order, and unused columns may be deleted.".to_string(),
        format!(
            "Check the filled-in file before importing (nothing is sent): sheetload validate FILE{} --entity {}",
            target_flag(spec),
            spec.entity
        ),
    ];
    for g in &spec.groups {
        let members = |k: usize| {
            g.fields
                .iter()
                .map(|m| g.header(k, &m.name))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut line = format!(
            "Repeated columns: {} describe the first {name}; {} the second; {} the third; up to {} {name}s per row (this template shows {}; add {} columns the same way). {}",
            members(1),
            members(2),
            g.header(3, "…"),
            g.max,
            GROUP_INSTANCES.min(g.max),
            g.header(GROUP_INSTANCES + 1, "…"),
            g.help,
            name = g.name,
        );
        if let Some(b) = &g.base
            && b.implied_when_single
        {
            line.push_str(&format!(
                " With a single {} and {} empty, {} = {} is assumed.",
                g.name,
                g.header(1, &b.field),
                b.field,
                b.value
            ));
        }
        intro.push(line);
    }
    intro
}

fn write_guide(
    ws: &mut Worksheet,
    spec: &EntitySpec,
    columns: &[Column<'_>],
) -> Result<(), XlsxError> {
    let title = Format::new().set_bold().set_font_size(14);
    let bold = Format::new().set_bold();
    let head = Format::new()
        .set_bold()
        .set_background_color(Color::RGB(0xDDEBF7))
        .set_border_bottom(FormatBorder::Thin);
    let wrap = Format::new()
        .set_text_wrap()
        .set_align(FormatAlign::Top)
        .set_num_format("@");
    let yes = wrap.clone().set_bold();

    let sheet = sheet_name(spec.entity.as_str());
    let mut r: u32 = 0;
    ws.write_string_with_format(
        r,
        0,
        format!("{sheet} template for {}", spec.target),
        &title,
    )?;
    r += 1;
    let intro = guide_intro(spec, &sheet);
    for line in &intro {
        if line.contains("sheetload validate") {
            ws.write_string_with_format(r, 0, line, &bold)?;
        } else {
            ws.write_string(r, 0, line)?;
        }
        r += 1;
    }
    r += 1;

    let modes: Vec<Mode> = [Mode::Create, Mode::Update, Mode::Upsert]
        .into_iter()
        .filter(|m| spec.modes.contains(m))
        .collect();
    let mut titles: Vec<String> = vec!["Column".into()];
    titles.extend(modes.iter().map(|m| format!("Required for {m}")));
    titles.extend(
        ["Type", "Description", "Also recognised as", "Example"]
            .into_iter()
            .map(String::from),
    );
    let mut widths: Vec<f64> = vec![18.0];
    widths.extend(modes.iter().map(|_| 16.0));
    widths.extend([32.0, 60.0, 40.0, 24.0]);
    for (c, (t, w)) in titles.iter().zip(&widths).enumerate() {
        ws.set_column_width(c as u16, *w)?;
        ws.write_string_with_format(r, c as u16, t, &head)?;
    }
    r += 1;
    for c in columns {
        let mut col: u16 = 0;
        ws.write_string_with_format(
            r,
            col,
            &c.header,
            if c.required_create { &yes } else { &wrap },
        )?;
        col += 1;
        for m in &modes {
            let t = required_text(spec, c, *m);
            ws.write_string_with_format(r, col, &t, if t == "yes" { &yes } else { &wrap })?;
            col += 1;
        }
        let description = match c.group {
            Some((g, k)) if k > 1 => {
                format!("{} {k} of the row: {}", sheet_name(&g.name), c.field.help)
            }
            _ => c.field.help.clone(),
        };
        let cells = [
            type_text(c.field),
            description,
            c.aliases.join(", "),
            example(c).unwrap_or_default(),
        ];
        for text in cells {
            ws.write_string_with_format(r, col, text, &wrap)?;
            col += 1;
        }
        r += 1;
    }
    Ok(())
}

/// ` --target X` for targets other than the default.
fn target_flag(spec: &EntitySpec) -> String {
    if spec.target == crate::spec::DEFAULT_TARGET {
        String::new()
    } else {
        format!(" --target {}", spec.target)
    }
}
