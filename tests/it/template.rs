//! Blank templates: written from the built-in specs, read back with calamine (cells) and
//! as raw XML (notes and data validations, which calamine does not expose).

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use calamine::{Data, Reader, SheetVisible, Xlsx, open_workbook};
use sheetload::commands::validate::{Config, validate_file};
use sheetload::error::Error;
use sheetload::input::{ReadOptions, column_letter};
use sheetload::mapping::{HeaderIndex, Mapping, target_name};
use sheetload::output::template;
use sheetload::spec::{self, EntitySpec, FieldType, Mode};
use sheetload::ui::Printer;
use sheetload::validate::ParseOptions;

const ENTITIES: [(&str, &str); 3] = [
    ("customers", "Customers"),
    ("products", "Products"),
    ("visits", "Visits"),
];

/// Instances of a group that a template shows.
const INSTANCES: usize = 3;

/// The header row a template must have, derived from the spec.
fn expected_headers(spec: &EntitySpec) -> Vec<String> {
    let mut h: Vec<String> = spec.fields.iter().map(|f| f.name.clone()).collect();
    for g in &spec.groups {
        for k in 1..=INSTANCES {
            for m in &g.fields {
                h.push(g.header(k, &m.name));
            }
        }
    }
    h
}

/// The headers marked required: required for create, or the first instance's required
/// members of a group required for create.
fn expected_required(spec: &EntitySpec) -> Vec<String> {
    let mut r: Vec<String> = spec
        .fields
        .iter()
        .filter(|f| f.required_in(Mode::Create))
        .map(|f| f.name.clone())
        .collect();
    for g in spec
        .groups
        .iter()
        .filter(|g| g.required.contains(&Mode::Create))
    {
        for m in g.fields.iter().filter(|m| !m.required.is_empty()) {
            r.push(g.header(1, &m.name));
        }
    }
    r
}

/// The kind of each column, in template order (group members take their member's kind).
fn column_kinds(spec: &EntitySpec) -> Vec<(String, FieldType, Option<f64>)> {
    let mut v: Vec<_> = spec
        .fields
        .iter()
        .map(|f| (f.name.clone(), f.kind, f.min))
        .collect();
    for g in &spec.groups {
        for k in 1..=INSTANCES {
            for m in &g.fields {
                v.push((g.header(k, &m.name), m.kind, m.min));
            }
        }
    }
    v
}

fn text(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn write_template(dir: &Path, entity: &str) -> (EntitySpec, PathBuf) {
    let spec = spec::builtin(spec::TargetId::SalesMania, entity.parse().unwrap()).unwrap();
    let path = dir.join(format!("{entity}-template.xlsx"));
    template::write(&spec, &path).unwrap();
    (spec, path)
}

/// One file of the XLSX package, as text.
fn zip_text(path: &Path, name: &str) -> String {
    let file = std::fs::File::open(path).unwrap();
    let mut zip = zip::ZipArchive::new(file).unwrap();
    let mut s = String::new();
    zip.by_name(name)
        .unwrap_or_else(|e| panic!("{name} missing from {}: {e}", path.display()))
        .read_to_string(&mut s)
        .unwrap();
    s
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// Cell reference → note text, from `xl/comments1.xml`.
fn notes(path: &Path) -> HashMap<String, String> {
    let xml = zip_text(path, "xl/comments1.xml");
    let mut out = HashMap::new();
    for part in xml.split("<comment ref=\"").skip(1) {
        let (cell, rest) = part.split_once('"').unwrap();
        let body: String = rest
            .split("<t")
            .skip(1)
            .filter_map(|t| t.split_once('>').map(|(_, b)| b))
            .filter_map(|b| b.split_once("</t>").map(|(t, _)| unescape(t)))
            .collect();
        out.insert(cell.to_string(), body);
    }
    out
}

/// `sqref` → the `<dataValidation …>` element, from the first sheet.
fn validations(path: &Path) -> HashMap<String, String> {
    let xml = zip_text(path, "xl/worksheets/sheet1.xml");
    let mut out = HashMap::new();
    for part in xml.split("<dataValidation ").skip(1) {
        let element = part.split("</dataValidation>").next().unwrap().to_string();
        let sqref = element
            .split("sqref=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap()
            .to_string();
        out.insert(sqref, unescape(&element));
    }
    out
}

#[test]
fn template_has_the_spec_headers_and_no_rows() {
    let dir = tempfile::tempdir().unwrap();
    for (entity, sheet) in ENTITIES {
        let (spec, path) = write_template(dir.path(), entity);
        let expected = expected_headers(&spec);
        let mut book: Xlsx<_> = open_workbook(&path).unwrap();
        assert_eq!(book.sheet_names(), vec![sheet.to_string(), "Guide".into()]);

        let range = book.worksheet_range(sheet).unwrap();
        assert_eq!(range.start(), Some((0, 0)), "{entity}: header not at A1");
        let header: Vec<String> = range.rows().next().unwrap().iter().map(text).collect();
        assert_eq!(header, expected, "{entity}: header row");
        assert_eq!(range.height(), 1, "{entity}: the template has data rows");

        let guide = book.worksheet_range("Guide").unwrap();
        let cells: Vec<String> = guide.cells().map(|(_, _, d)| text(d)).collect();
        for h in &expected {
            assert!(
                cells.iter().any(|c| c == h),
                "{entity}: the Guide does not list column {h}"
            );
        }
        let command = format!("sheetload validate FILE --entity {entity}");
        assert!(
            cells.iter().any(|c| c.contains(&command)),
            "{entity}: the Guide does not show `{command}`"
        );
        assert!(
            cells.iter().any(|c| c.contains("Indonesian")),
            "{entity}: the Guide does not say headers may be Indonesian"
        );
        for h in ["Column", "Required for create", "Type", "Description"] {
            assert!(cells.iter().any(|c| c == h), "{entity}: Guide lacks {h}");
        }
        assert!(cells.iter().any(|c| c == "Also recognised as"));
    }

    // A few literal ones, so that a spec change cannot silently empty the lists above.
    let (_, customers) = write_template(dir.path(), "customers");
    let mut book: Xlsx<_> = open_workbook(&customers).unwrap();
    let header: Vec<String> = book
        .worksheet_range("Customers")
        .unwrap()
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(text)
        .collect();
    for h in ["id", "name", "ext_cust_no", "phone", "latitude", "tags"] {
        assert!(header.iter().any(|c| c == h), "customers lacks {h}");
    }
    let (_, products) = write_template(dir.path(), "products");
    let mut book: Xlsx<_> = open_workbook(&products).unwrap();
    let header: Vec<String> = book
        .worksheet_range("Products")
        .unwrap()
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(text)
        .collect();
    assert_eq!(header[0], "id");
    for h in [
        "unit_name",
        "unit_price",
        "unit_ratio",
        "unit2_price",
        "unit3_ratio",
    ] {
        assert!(header.iter().any(|c| c == h), "products lacks {h}");
    }
    assert!(
        !header.iter().any(|c| c == "unit4_name"),
        "only 3 unit groups"
    );
}

#[test]
fn every_header_has_a_note_and_required_ones_say_so() {
    let dir = tempfile::tempdir().unwrap();
    for (entity, _) in ENTITIES {
        let (spec, path) = write_template(dir.path(), entity);
        let notes = notes(&path);
        let required = expected_required(&spec);
        assert!(!required.is_empty(), "{entity}: nothing required?");
        for (i, h) in expected_headers(&spec).iter().enumerate() {
            let cell = format!("{}1", column_letter(i));
            let note = notes
                .get(&cell)
                .unwrap_or_else(|| panic!("{entity}: {h} ({cell}) has no note"));
            assert_eq!(
                note.starts_with("Required."),
                required.contains(h),
                "{entity}: {h}: {note}"
            );
            assert!(note.contains("Type: "), "{entity}: {h}: {note}");
            assert!(note.contains("Example: "), "{entity}: {h}: {note}");
        }
    }
    // Aliases are listed, and only ones that really map to the column.
    let (spec, path) = write_template(dir.path(), "customers");
    let notes = notes(&path);
    let phone = spec.fields.iter().position(|f| f.name == "phone").unwrap();
    let note = &notes[&format!("{}1", column_letter(phone))];
    assert!(
        note.contains("Also recognised as: ") && note.contains("no hp"),
        "{note}"
    );
    assert!(note.contains("Example: +6281234567890"), "{note}");
}

#[test]
fn columns_get_the_validation_their_type_needs() {
    let dir = tempfile::tempdir().unwrap();
    for (entity, _) in ENTITIES {
        let (spec, path) = write_template(dir.path(), entity);
        let found = validations(&path);
        let mut expected_count = 0;
        for (i, (h, kind, min)) in column_kinds(&spec).into_iter().enumerate() {
            let l = column_letter(i);
            let sqref = format!("{l}2:{l}10001");
            let want = match kind {
                FieldType::Boolean | FieldType::Enum => Some("type=\"list\""),
                FieldType::Latitude | FieldType::Longitude => Some("type=\"decimal\""),
                FieldType::Integer if min.is_some() => Some("type=\"whole\""),
                FieldType::Decimal if min.is_some() => Some("type=\"decimal\""),
                FieldType::Date => Some("type=\"date\""),
                _ => None,
            };
            match (want, found.get(&sqref)) {
                (Some(t), Some(dv)) => {
                    expected_count += 1;
                    assert!(dv.starts_with(t), "{entity} {h}: {dv}");
                    assert!(dv.contains("error=\""), "{entity} {h}: no error message");
                    assert!(dv.contains("prompt=\""), "{entity} {h}: no input message");
                    match kind {
                        FieldType::Boolean => assert!(dv.contains("\"true,false\""), "{dv}"),
                        FieldType::Latitude => assert!(
                            dv.contains("<formula1>-90</formula1><formula2>90</formula2>"),
                            "{dv}"
                        ),
                        FieldType::Longitude => assert!(
                            dv.contains("<formula1>-180</formula1><formula2>180</formula2>"),
                            "{dv}"
                        ),
                        _ => {}
                    }
                }
                (Some(_), None) => panic!("{entity} {h}: no validation on {sqref}"),
                (None, Some(dv)) => panic!("{entity} {h}: unexpected validation {dv}"),
                (None, None) => {}
            }
        }
        assert_eq!(found.len(), expected_count, "{entity}: {found:?}");
    }
}

#[test]
fn headers_and_advertised_aliases_map_back_to_their_column() {
    let dir = tempfile::tempdir().unwrap();
    for (entity, _) in ENTITIES {
        let (spec, path) = write_template(dir.path(), entity);
        let headers = expected_headers(&spec);
        let index = HeaderIndex::new(&spec);
        for h in &headers {
            let t = index
                .lookup(h)
                .unwrap_or_else(|| panic!("{entity}: {h} maps to nothing"));
            assert_eq!(&target_name(&spec, t), h, "{entity}");
        }
        let mapping = Mapping::resolve(&spec, &headers, None, Mode::Create).unwrap();
        assert!(
            mapping.unmapped.is_empty(),
            "{entity}: {:?}",
            mapping.unmapped
        );

        // The Guide's table: every "Also recognised as" spelling really maps to its row's column.
        let mut book: Xlsx<_> = open_workbook(&path).unwrap();
        let guide = book.worksheet_range("Guide").unwrap();
        let rows: Vec<Vec<String>> = guide.rows().map(|r| r.iter().map(text).collect()).collect();
        let head = rows
            .iter()
            .position(|r| r.first().is_some_and(|c| c == "Column"))
            .unwrap();
        let alias_col = rows[head]
            .iter()
            .position(|c| c == "Also recognised as")
            .unwrap();
        let mut checked = 0;
        for r in &rows[head + 1..] {
            assert!(
                headers.contains(&r[0]),
                "{entity}: Guide row for unknown column {}",
                r[0]
            );
            for alias in r[alias_col].split(", ").filter(|a| !a.is_empty()) {
                let t = index
                    .lookup(alias)
                    .unwrap_or_else(|| panic!("{entity}: {alias} maps to nothing"));
                assert_eq!(target_name(&spec, t), r[0], "{entity}: alias {alias}");
                checked += 1;
            }
        }
        assert!(checked > 10, "{entity}: only {checked} aliases listed");
        assert_eq!(
            rows.len() - head - 1,
            headers.len(),
            "{entity}: one Guide row per column"
        );
    }
}

#[test]
fn blank_template_fails_validation_with_no_data_rows() {
    let dir = tempfile::tempdir().unwrap();
    for (entity, _) in ENTITIES {
        let (_, path) = write_template(dir.path(), entity);
        let out = dir.path().join(format!("{entity}.result.xlsx"));
        let cfg = Config {
            input: path,
            target: "salesmania".parse().unwrap(),
            entity: entity.parse().unwrap(),
            mode: Mode::Create,
            read: ReadOptions::default(),
            map: None,
            save_map: None,
            parse: ParseOptions::default(),
            out: Some(out.clone()),
        };
        let ui = Printer {
            quiet: true,
            json: false,
        };
        let err = validate_file(&cfg, &ui).expect_err("a blank template has nothing to validate");
        assert!(matches!(err, Error::Input(_)), "{entity}: {err:?}");
        assert!(err.to_string().contains("no data rows"), "{entity}: {err}");
        assert!(!out.exists(), "{entity}: a result was written for no rows");
    }
}

#[test]
fn long_enum_lists_go_to_a_hidden_sheet() {
    let provinces: Vec<String> = (1..=40)
        .map(|i| format!("\"Province number {i}\""))
        .collect();
    let toml = format!(
        r#"
target = "salesmania"
entity = "customers"
description = "Test shops."
endpoint = "/shops"
modes = ["create"]

[[fields]]
name = "province"
path = "province"
type = "enum"
values = [{}]
help = "Province."

[[fields]]
name = "size"
path = "size"
type = "enum"
values = ["small", "large"]
help = "Size."
"#,
        provinces.join(", ")
    );
    let spec = EntitySpec::from_toml(&toml, "test").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shops.xlsx");
    template::write(&spec, &path).unwrap();

    let mut book: Xlsx<_> = open_workbook(&path).unwrap();
    let meta = book.sheets_metadata().to_vec();
    let lists = meta
        .iter()
        .find(|s| s.name == "Lists")
        .expect("Lists sheet");
    assert_eq!(lists.visible, SheetVisible::Hidden);
    let range = book.worksheet_range("Lists").unwrap();
    let column: Vec<String> = range.rows().map(|r| text(&r[0])).collect();
    assert_eq!(column[0], "province");
    assert_eq!(column.len(), 41);
    assert_eq!(column[40], "Province number 40");

    let found = validations(&path);
    assert!(
        found["A2:A10001"].contains("<formula1>Lists!$A$2:$A$41</formula1>"),
        "{found:?}"
    );
    assert!(
        found["B2:B10001"].contains("<formula1>\"small,large\"</formula1>"),
        "{found:?}"
    );
}

#[test]
fn unwritable_paths_are_explained() {
    let spec = spec::builtin(spec::TargetId::SalesMania, spec::Entity::Customers).unwrap();
    let dir = tempfile::tempdir().unwrap();

    let err = template::write(&spec, &dir.path().join("customers.csv")).unwrap_err();
    assert!(matches!(err, Error::Output(_)));
    assert!(err.to_string().contains(".xlsx"), "{err}");

    let missing = dir.path().join("no-such-folder").join("customers.xlsx");
    let err = template::write(&spec, &missing).unwrap_err();
    assert!(matches!(err, Error::Output(_)));
    let msg = err.to_string();
    assert!(
        msg.contains("no-such-folder") && msg.contains("folder exists"),
        "{msg}"
    );
    assert!(!missing.with_file_name("customers.xlsx.partial").exists());
}
