//! Keyed rows (SalesMania customers, products, visits; Fatura customers): each row is
//! one request, planned by [`Planner`] against the target's records.

use reqwest::Method;
use serde_json::Value;

use super::job::{Job, Request, RequestBody, RowPlanner, Step};
use super::remote::{read_remote, remembered};
use super::target::PlanInputs;
use crate::connector::parse::scalar_text;
use crate::dispatch::{Content, Key};
use crate::error::Result;
use crate::input::RawRow;
use crate::payload::Action;
use crate::payload::plan::{Planned, Planner, Send, describe_identity, display_body, flatten};
use crate::spec::EntitySpec;
use crate::validate::RowResult;

/// [`Planner`]'s decisions as jobs for the dispatch loop.
pub struct Keyed<'a> {
    /// Decides each row.
    pub plan: Planner<'a>,
    /// The entity's collection on the target.
    pub path: String,
    /// A dry run shows each body (`_payload`); a real run does not build it.
    pub dry_run: bool,
}

/// The keyed planner of a run: the target's records of the entity, the referenced
/// entities and what earlier runs created, read once.
pub async fn planner<'a>(inputs: PlanInputs<'a>) -> Result<Box<dyn RowPlanner + 'a>> {
    let PlanInputs {
        cfg,
        prepared,
        ctx,
        conn,
        key_field,
        ui,
    } = inputs;
    let spec = &prepared.spec;
    let path = conn
        .collection(spec.entity)
        .map(str::to_string)
        .unwrap_or_else(|| spec.endpoint.clone());
    let (index, resolver) =
        read_remote(ctx, conn, prepared, cfg.base.mode, key_field, &path, ui).await?;
    let known = remembered(spec, conn)?;
    Ok(Box::new(Keyed {
        plan: Planner::new(spec, cfg.base.mode, key_field, index, resolver, known)
            .guarded(
                prepared
                    .excel_guard(cfg.allow_excel_damage, !cfg.retrying)
                    .in_plain_words(cfg.plain_words),
            )
            .filled_by_target(&conn.filled_by_target),
        path,
        dry_run: cfg.dry_run,
    }))
}

impl RowPlanner for Keyed<'_> {
    fn reset(&mut self) {
        self.plan.restart();
    }

    fn wants_done_rows(&self) -> bool {
        self.plan.spec.remember_by_content
    }

    fn done_before(&mut self, res: &RowResult) {
        self.plan.count(res);
    }

    fn row(&mut self, raw: &RawRow, res: RowResult, out: &mut Vec<Step>) {
        self.plan.cells(raw);
        match self.plan.plan(&res) {
            Planned::Done(outcome) => out.push(Step::Settle {
                row: res.number,
                key: res.key.clone(),
                outcome,
            }),
            Planned::Send(s) => out.push(Step::Send(self.job(s, &res))),
        }
    }
}

impl Keyed<'_> {
    fn job(&self, s: Send, res: &RowResult) -> Job {
        let path = &self.path;
        let shown = if self.dry_run {
            display_body(s.body.as_ref(), &res.secrets)
        } else {
            String::new()
        };
        let sequence = sequence_of(self.plan.spec, s.body.as_ref());
        let lookup = self.lookup(&s, res);
        let json = |body: Option<Value>| body.map_or(RequestBody::None, RequestBody::Json);
        let request = match &s.action {
            Action::Create => Some(Request {
                method: Method::POST,
                path: path.clone(),
                body: json(s.body),
            }),
            Action::Update { id } => Some(Request {
                method: Method::PATCH,
                path: format!("{path}/{id}"),
                body: json(s.body),
            }),
            Action::Delete { id } => Some(Request {
                method: Method::DELETE,
                path: format!("{path}/{id}"),
                body: RequestBody::None,
            }),
            Action::Skip { .. } => None,
        };
        Job {
            rows: vec![res.number],
            key: s.ledger_key,
            lookup,
            word: s.action.word(),
            action: s.action,
            request,
            note: join_notes(&s.note, &res.warnings),
            changes: s.changes,
            sequence,
            shown,
        }
    }
}

impl Keyed<'_> {
    /// How a create of this row is found on the target when its answer is lost or
    /// names no id: its natural key, or for a record known by content (a visit) that
    /// content where the spec says how to search it (`content_search`); `None` leaves a
    /// lost create UNKNOWN.
    fn lookup(&self, s: &Send, res: &RowResult) -> Option<Key> {
        if let (Some(field), Some(value)) = (self.plan.key_field, &res.key) {
            return Some(Key::natural(field, value.clone()));
        }
        let spec = self.plan.spec;
        if !spec.remember_by_content || spec.content_search.is_empty() {
            return None;
        }
        let (_, nth) = s.ledger_key.as_deref()?.split_once('#')?;
        let nth: u32 = nth.parse().ok()?;
        // Found as the target files it: with what it fills in for a field left out.
        let filed = Value::Object(self.plan.as_filed(s.body.as_ref()?.as_object()?));
        let body = &filed;
        let map = body.as_object()?;
        let mut fields = Vec::new();
        flatten("", map, &mut fields);
        let search = spec
            .content_search
            .iter()
            .filter_map(|(param, path)| {
                let v = path.split('.').try_fold(body, |v, k| v.get(k))?;
                Some((param.clone(), scalar_text(v)?))
            })
            .collect();
        Some(Key {
            field: spec.entity.one().to_string(),
            value: format!("({}, #{nth})", describe_identity(map)),
            content: Some(Box::new(Content {
                fields,
                nth,
                search,
            })),
        })
    }
}

/// `note; warning: …` — the notes a row carries into `_error` without failing.
pub fn join_notes(note: &str, warnings: &[String]) -> String {
    std::iter::once(note.to_string())
        .filter(|n| !n.is_empty())
        .chain(warnings.iter().map(|w| format!("warning: {w}")))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The sequence a job belongs to (one team's visits of one day), if its entity has
/// sequences: the values of the spec's `sequence_by` paths in its body.
fn sequence_of(spec: &EntitySpec, body: Option<&Value>) -> Option<String> {
    if spec.sequence_by.is_empty() {
        return None;
    }
    let body = body?;
    Some(
        spec.sequence_by
            .iter()
            .map(|p| {
                p.split('.')
                    .try_fold(body, |v, k| v.get(k))
                    .map(|v| v.to_string())
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join("\u{1f}"),
    )
}
