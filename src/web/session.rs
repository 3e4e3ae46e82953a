//! What the wizard remembers between pages: one user, one browser, one file at a time.
//! Nothing here is written anywhere but the upload folder; the secret stays in memory.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use crate::connection::ConnectionArgs;
use crate::input::ReadOptions;
use crate::spec::{Entity, Mode, TargetId};
use crate::validate::ParseOptions;

use super::grid::Review;
use super::job::Job;

/// Where runs go: a target and how to reach it.
#[derive(Clone)]
pub struct Conn {
    /// Which target.
    pub target: TargetId,
    /// Address, database, profile; the user and secret typed in the page (memory only).
    pub args: ConnectionArgs,
    /// How the page names it: `"Demo sandbox"`, `api.salesmania.id as ops@…`.
    pub label: String,
}

/// The uploaded file and how to read it.
#[derive(Clone)]
pub struct Upload {
    /// Where it is stored (under the session's upload folder).
    pub path: PathBuf,
    /// Its name as the user's computer called it (shown, never used as a path).
    pub name: String,
    /// Sheet, header row, encoding, delimiter, row cap.
    pub read: ReadOptions,
    /// Number and date reading.
    pub parse: ParseOptions,
    /// What the rows are.
    pub entity: Entity,
    /// What to do with them.
    pub mode: Mode,
    /// The headers found, once the file was opened.
    pub headers: Vec<String>,
    /// Sheets of a workbook (empty for CSV).
    pub sheets: Vec<String>,
    /// The sheet read.
    pub sheet: String,
    /// The header row found or chosen.
    pub header_row: u32,
    /// What the reader noticed (delimiter sniffed, sheet chosen).
    pub notes: Vec<String>,
}

/// The session's state.
#[derive(Default)]
pub struct Session {
    /// Where to send, once chosen.
    pub conn: Option<Conn>,
    /// The connection last typed in the Connect page (its secret in memory only), so
    /// that the password need not be typed twice.
    pub pending: Option<ConnectionArgs>,
    /// (id, name) of the databases the account reaches, once listed.
    pub databases: Vec<(String, String)>,
    /// The file, once uploaded.
    pub upload: Option<Upload>,
    /// Per column (by index): the field it feeds, `None` to ignore; unset until the
    /// user saves the Map page (the automatic match applies until then).
    pub choices: Option<Vec<Option<String>>>,
    /// Field → the same value for every row (mapping `[constants]`).
    pub constants: HashMap<String, String>,
    /// Field → the value used when the cell is empty (mapping `[defaults]`).
    pub defaults: HashMap<String, String>,
    /// A note for the Map page (a saved mapping applied).
    pub map_note: Option<String>,
    /// The validated rows, once the Review page built them.
    pub review: Option<Arc<RwLock<Review>>>,
    /// The running or last dry run / import.
    pub job: Option<Arc<Job>>,
    /// The result workbook whose `Failed` sheet is being fixed, for a retry.
    pub retry: Option<std::path::PathBuf>,
    /// How many files were uploaded (names the stored files).
    pub uploads: u32,
}

impl Session {
    /// Forget everything that depends on the file (a new upload, new reading options).
    pub fn reset_file(&mut self) {
        self.choices = None;
        self.constants.clear();
        self.defaults.clear();
        self.map_note = None;
        self.review = None;
    }
}
