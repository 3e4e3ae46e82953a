//! What the target holds before a run: its records of the entity (to compare with),
//! the referenced entities (to resolve codes and check ids), what earlier runs created,
//! and which sheet column each payload field came from (to name cells in errors).

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use serde_json::Value;

use crate::connection;
use crate::dispatch::{Column, Ctx};
use crate::engine::prepare::Prepared;
use crate::error::{Error, Result};
use crate::ledger::{self, Ledger, Scope};
use crate::payload::{Index, Resolver};
use crate::spec::{Entity, EntitySpec, Mode};
use crate::ui::Printer;

/// The target's current records (to compare with) and the referenced entities (to
/// resolve codes and check ids), each list read once.
pub(crate) async fn read_remote(
    ctx: &Ctx,
    conn: &connection::Connected,
    prepared: &Prepared,
    mode: Mode,
    key_field: Option<&str>,
    path: &str,
    ui: &Printer,
) -> Result<(Index, Resolver)> {
    let spec = &prepared.spec;
    let key_column_given = key_field
        .and_then(|k| spec.fields.iter().position(|f| f.name == k))
        .is_some_and(|i| prepared.mapping.fields[i].is_bound());
    let mut index = Index::default();
    // Records known by content are confirmed on the target where it can be searched.
    let by_content = spec.remember_by_content && !spec.content_search.is_empty();
    if mode != Mode::Create || key_column_given || by_content {
        ui.note(&format!(
            "reading the {} already in {} \"{}\"…",
            spec.entity, conn.database.id, conn.database.name
        ));
        ctx.list_each(path, &[], |page| {
            for record in page {
                index.add(record, key_field);
            }
        })
        .await
        .map_err(|e| Error::usage(format!("cannot plan the import: {e}")))?;
        index.mark_read();
    }
    let (resolver, _) = references(ctx, conn, prepared).await?;
    Ok((index, resolver))
}

/// The entities the sheet's references name (customers, teams, products as far as its
/// columns use them), each list read once: the resolver, and the lists by entity.
pub(crate) async fn references(
    ctx: &Ctx,
    conn: &connection::Connected,
    prepared: &Prepared,
) -> Result<(Resolver, HashMap<Entity, Vec<Value>>)> {
    let spec = &prepared.spec;
    let mut resolver = Resolver::default();
    let mut lists: HashMap<Entity, Vec<Value>> = HashMap::new();
    for (i, f) in spec.fields.iter().enumerate() {
        let (Some(r), true) = (&f.resolve, prepared.mapping.fields[i].is_bound()) else {
            continue;
        };
        let Some(rpath) = conn.collection(r.entity) else {
            continue;
        };
        let records = match lists.entry(r.entity) {
            Entry::Occupied(read) => read.into_mut(),
            Entry::Vacant(slot) => slot.insert(ctx.list_all(rpath, &[]).await.map_err(|e| {
                Error::usage(format!("cannot resolve {} references: {e}", r.entity))
            })?),
        };
        resolver.add(r.entity, &r.by, records);
    }
    Ok((resolver, lists))
}

/// What earlier runs created of an entity without a natural key (visits), by content
/// identity, so that the same rows are not created twice.
pub(crate) fn remembered(
    spec: &EntitySpec,
    conn: &connection::Connected,
) -> Result<HashMap<String, String>> {
    if !spec.remember_by_content {
        return Ok(HashMap::new());
    }
    let ledger = Ledger::open(&ledger::default_home())?;
    ledger.known_ids(&Scope {
        target: spec.target,
        base_url: conn.base_url.clone(),
        database_id: Some(conn.database.id.clone()),
        entity: spec.entity,
    })
}

/// Payload path → the sheet's column, so that server field errors name the user's
/// columns and cells.
pub(crate) fn column_names(spec: &EntitySpec, p: &Prepared) -> HashMap<String, Column> {
    let sheet = (!p.table.sheets.is_empty()).then(|| p.table.sheet.clone());
    let column = |c: Option<usize>, fallback: String| Column {
        name: c.map(|c| p.table.column_name(c)).unwrap_or(fallback),
        col: c.map(|c| c + p.table.first_col()),
        sheet: sheet.clone(),
    };
    let mut out = HashMap::new();
    for (i, f) in spec.fields.iter().enumerate() {
        if let Some(path) = &f.path {
            let name = column(p.mapping.fields[i].column, f.name.clone());
            out.entry(path.clone()).or_insert_with(|| name.clone());
            if f.kind == crate::spec::FieldType::Location {
                out.entry(format!("{path}.lat"))
                    .or_insert_with(|| name.clone());
                out.entry(format!("{path}.lon")).or_insert(name);
            }
        }
    }
    for (g, group) in spec.groups.iter().enumerate() {
        for (k, inst) in p.mapping.groups.get(g).into_iter().flatten().enumerate() {
            for (m, member) in group.fields.iter().enumerate() {
                let name = column(inst[m].column, group.header(k + 1, &member.name));
                if let Some(mp) = &member.path {
                    out.insert(format!("{}.{k}.{mp}", group.path), name);
                }
            }
        }
    }
    out
}
