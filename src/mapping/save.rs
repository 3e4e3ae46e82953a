//! `--save-map FILE`: the mapping a run used, written in the format `--map` reads, so
//! that next month's file maps the same way even when it was matched by alias, and so
//! that a mapping worked out once (renames, ignores, constants, defaults) is kept.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;
use serde::ser::Serializer;

use super::{MapFile, Mapping};
use crate::error::{Error, Result};
use crate::input::Table;
use crate::spec::Entity;

/// Header → field pairs in the order of the sheet's columns (a TOML table keeps the
/// order it is written in; a `BTreeMap` would sort the headers).
struct InColumnOrder<'a>(Vec<(&'a str, &'a str)>);

impl Serialize for InColumnOrder<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().copied())
    }
}

/// The file's sections, as [`MapFile::parse`] reads them.
#[derive(Serialize)]
struct Saved<'a> {
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    ignore: &'a [String],
    columns: InColumnOrder<'a>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    constants: &'a BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    defaults: &'a BTreeMap<String, String>,
}

/// The mapping file text for `mapping` of `headers`: every matched column as
/// `"header" = "field"`, and the ignores, constants and defaults of the `--map` file
/// the run was given, if any. `about` says in a comment what it was saved from;
/// columns that feed nothing are listed in a comment, not ignored, so they still warn.
pub fn render(
    about: &str,
    mapping: &Mapping,
    headers: &[String],
    map: Option<&MapFile>,
) -> Result<String> {
    let empty = MapFile::default();
    let map = map.unwrap_or(&empty);
    let columns = headers
        .iter()
        .zip(&mapping.column_targets)
        .filter_map(|(h, t)| t.as_deref().map(|t| (h.as_str(), t)))
        .collect();
    let saved = Saved {
        ignore: &map.ignore,
        columns: InColumnOrder(columns),
        constants: &map.constants,
        defaults: &map.defaults,
    };
    let body = toml::to_string(&saved)
        .map_err(|e| Error::output(format!("cannot write the mapping as TOML: {e}")))?;
    let mut text = format!(
        "# sheetload mapping of {}, saved by --save-map.\n# Use it with --map; headers match ignoring case, spaces and punctuation.\n",
        about.replace(['\n', '\r'], " ")
    );
    let unmapped = mapping.unmapped_headers(headers);
    if !unmapped.is_empty() {
        let quoted: Vec<String> = unmapped.iter().map(|h| format!("{h:?}")).collect();
        text.push_str(&format!(
            "# Not imported (no field; add them to [columns] or ignore): {}\n",
            quoted.join(", ")
        ));
    }
    text.push('\n');
    text.push_str(&body);
    Ok(text)
}

/// Write the mapping `entity` rows of `table` were read with to `path`
/// ([`render`]); refuses to overwrite the input itself.
pub fn save(
    path: &Path,
    entity: Entity,
    mapping: &Mapping,
    table: &Table,
    map: Option<&MapFile>,
) -> Result<()> {
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if same(path, &table.path) {
        return Err(Error::usage(format!(
            "--save-map {} is the input file itself: choose another name, e.g. map.toml",
            path.display()
        )));
    }
    let sheet = if table.sheets.is_empty() {
        String::new()
    } else {
        format!(" (sheet {})", table.sheet)
    };
    let about = format!("{entity} in {}{sheet}", table.path.display());
    let text = render(&about, mapping, &table.headers, map)?;
    std::fs::write(path, text).map_err(|e| {
        Error::usage(format!(
            "cannot write the mapping file {}: {}; check that the folder exists and is writable",
            path.display(),
            crate::input::io_reason(&e)
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{self, Mode};

    fn h(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_saved_mapping_reads_back_as_the_same_mapping() {
        let spec = spec::builtin(spec::TargetId::SalesMania, spec::Entity::Products).unwrap();
        let headers = h(&[
            "Nama Barang \"Utama\"",
            "Satuan",
            "Harga",
            "Satuan 2",
            "Harga 2",
            "Isi 2",
            "Catatan",
            "İç Not",
            "Kode.Produk",
            "Stok",
        ]);
        let map = MapFile::parse(
            "ignore = [\"Catatan\"]\n[columns]\n\"Nama Barang \\\"Utama\\\"\" = \"name\"\n\"Kode.Produk\" = \"ext_product_code\"\n[constants]\nstatus = true\n[defaults]\nunit_ratio = 1\n",
            "map.toml",
        )
        .unwrap();
        let first = Mapping::resolve(&spec, &headers, Some(&map), Mode::Create).unwrap();
        let text = render("products in p.xlsx", &first, &headers, Some(&map)).unwrap();
        let saved = MapFile::parse(&text, "saved.toml").unwrap();
        assert_eq!(saved.ignore, ["Catatan"]);
        assert_eq!(saved.columns["Satuan 2"], "unit2_name");
        assert_eq!(saved.columns["Nama Barang \"Utama\""], "name");
        assert_eq!(saved.constants["status"], "true");
        assert_eq!(saved.defaults["unit_ratio"], "1");
        assert!(text.contains("\"İç Not\""), "{text}");
        // Headers keep the sheet's column order.
        let harga = text.find("Harga = ").unwrap();
        assert!(text.find("Satuan = ").unwrap() < harga, "{text}");
        let again = Mapping::resolve(&spec, &headers, Some(&saved), Mode::Create).unwrap();
        assert_eq!(again.column_targets, first.column_targets);
        assert_eq!(again.unmapped, first.unmapped);
        assert_eq!(again.unmapped, vec![7]);
        let status = spec.fields.iter().position(|f| f.name == "status").unwrap();
        assert_eq!(again.fields[status].constant.as_deref(), Some("true"));
    }
}
