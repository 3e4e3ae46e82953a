//! What a planner hands to the dispatch loop: rows decided without a request, and jobs —
//! one request covering one row, or several (an order and its lines).

use reqwest::Method;
use serde_json::Value;

use crate::connector::Body;
use crate::dispatch::Key;
use crate::input::RawRow;
use crate::output::result::Outcome;
use crate::payload::Action;
use crate::validate::RowResult;

/// A request to send.
#[derive(Debug, Clone)]
pub struct Request {
    /// POST creates (reconciled by key when its answer is lost); PATCH and DELETE are
    /// idempotent and retried.
    pub method: Method,
    /// Path on the target (`/extapi/v1.0/customers/12`).
    pub path: String,
    /// JSON, a form, or nothing.
    pub body: RequestBody,
}

/// The body of a [`Request`].
#[derive(Debug, Clone)]
pub enum RequestBody {
    /// No body (DELETE, lock).
    None,
    /// A JSON object.
    Json(Value),
    /// Form fields, in order (Trackfinity).
    Form(Vec<(String, String)>),
}

impl RequestBody {
    /// The body as the transport sends it.
    pub fn as_body(&self) -> Body<'_> {
        match self {
            RequestBody::None => Body::None,
            RequestBody::Json(v) => Body::Json(v),
            RequestBody::Form(f) => Body::Form(f),
        }
    }

    /// Text for the ledger's payload hash (no secret leaves: only its hash is stored).
    pub fn hash_text(&self) -> String {
        match self {
            RequestBody::None => String::new(),
            RequestBody::Json(v) => v.to_string(),
            RequestBody::Form(f) => f
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("&"),
        }
    }
}

/// One unit of work: a request (or a skip) and the input rows whose outcome it decides.
#[derive(Debug)]
pub struct Job {
    /// Input row numbers, in sheet order; all get the job's outcome.
    pub rows: Vec<u32>,
    /// The key the ledger files the rows under: natural key, order number or content
    /// identity.
    pub key: Option<String>,
    /// The natural key to look up when a create's answer is lost; `None`: the outcome is
    /// then UNKNOWN rather than risk a duplicate.
    pub lookup: Option<Key>,
    /// What the job does.
    pub action: Action,
    /// The word for `_action` and the ledger (`create`, `update`, `lock` …).
    pub word: crate::spec::Verb,
    /// The request; `None` for a skip.
    pub request: Option<Request>,
    /// Notes for `_error` that do not fail the rows (warnings, a stale id replaced).
    pub note: String,
    /// For an update, old → new per field (`_changes`).
    pub changes: String,
    /// Jobs with the same sequence are sent one after the other in sheet order (a team's
    /// visits of one day).
    pub sequence: Option<String>,
    /// `_payload` of a dry run: what would be sent, secrets masked.
    pub shown: String,
}

/// What a planner makes of the rows it was given.
#[derive(Debug)]
pub enum Step {
    /// Decided without a request (invalid, not found).
    Settle {
        /// Input row number.
        row: u32,
        /// Ledger key, when the row has one.
        key: Option<String>,
        /// The row's outcome.
        outcome: Outcome,
    },
    /// Rows decided together (an order's lines): committed in one transaction.
    SettleAll(Vec<(u32, Option<String>, Outcome)>),
    /// To send (or skip, for [`Action::Skip`]).
    Send(Job),
}

/// How one kind of target turns validated rows into jobs: keyed rows (SalesMania,
/// Fatura), grouped rows (orders), form changes (Trackfinity). The dispatch loop is the
/// same for all of them.
pub trait RowPlanner {
    /// One validated row, in sheet order; decisions and jobs go to `out`.
    fn row(&mut self, raw: &RawRow, res: RowResult, out: &mut Vec<Step>);
    /// A row an earlier attempt of the run settled, which is not planned again, if
    /// the planner must still count it (`#n` of identical visits follows the sheet).
    fn wants_done_rows(&self) -> bool {
        false
    }
    /// Count a row an earlier attempt settled (see [`RowPlanner::wants_done_rows`]).
    fn done_before(&mut self, _res: &RowResult) {}
    /// Every row has been given: what the planner still holds (grouped rows).
    fn finish(&mut self, _out: &mut Vec<Step>) {}
    /// Add what the target knows to a finished request's outcome (a hint for a 404).
    fn explain(&self, _job: &Job, _done: &mut Outcome) {}
    /// Forget the rows given so far: the confirmation's dry pass is over, the real one
    /// starts from the first row again.
    fn reset(&mut self) {}
}
