//! The state file: the whole store as one JSON document, written atomically
//! (temporary file, fsync, rename) so that a sandbox killed mid-write leaves the
//! previous state intact, and flushed from a background task at most every
//! ~100 ms so that a burst of writes costs one save, not one per request.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tokio::sync::Notify;

use super::{SandboxError, lock};

/// Identifies our files, so that pointing `--state` at some other JSON file is
/// refused instead of overwriting it.
pub(crate) const FORMAT: &str = "sheetload-sandbox-state";
pub(crate) const VERSION: u64 = 1;

/// Delay between a change and its save; changes during it share the save.
pub(crate) const FLUSH_DELAY: Duration = Duration::from_millis(100);

/// A record collection keyed by id, iterated in id order (the order lists page
/// in). Serialised as a JSON array of records: the file stays readable and the
/// id inside each record is the only copy of the key.
#[derive(Debug, Clone)]
pub(crate) struct Table<T>(pub(crate) BTreeMap<u64, T>);

impl<T> Default for Table<T> {
    fn default() -> Self {
        Table(BTreeMap::new())
    }
}

/// A record that knows its id.
pub(crate) trait Keyed {
    fn key(&self) -> u64;
}

impl<T: Serialize> Serialize for Table<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.values())
    }
}

impl<'de, T: DeserializeOwned + Keyed> serde::Deserialize<'de> for Table<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let items = Vec::<T>::deserialize(d)?;
        Ok(Table(items.into_iter().map(|r| (r.key(), r)).collect()))
    }
}

/// Where the store is kept, and whether it has unsaved changes.
pub(crate) struct StateFile {
    path: PathBuf,
    dirty: AtomicBool,
    changed: Notify,
    saves: AtomicU64,
    last_save_ms: AtomicU64,
    last_error: Mutex<Option<String>>,
}

impl StateFile {
    pub(crate) fn new(path: PathBuf) -> Self {
        StateFile {
            path,
            dirty: AtomicBool::new(false),
            changed: Notify::new(),
            saves: AtomicU64::new(0),
            last_save_ms: AtomicU64::new(0),
            last_error: Mutex::new(None),
        }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn mark_dirty(&self) {
        if !self.dirty.swap(true, Ordering::AcqRel) {
            self.changed.notify_one();
        }
    }

    pub(crate) async fn changed(&self) {
        self.changed.notified().await;
    }

    /// Takes the dirty flag; the caller saves, and puts it back on failure.
    pub(crate) fn take_dirty(&self) -> bool {
        self.dirty.swap(false, Ordering::AcqRel)
    }

    pub(crate) fn saved(&self, result: &Result<(), SandboxError>, took: Duration) {
        self.last_save_ms.store(
            u64::try_from(took.as_millis()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        match result {
            Ok(()) => {
                self.saves.fetch_add(1, Ordering::Relaxed);
                *lock(&self.last_error) = None;
            }
            Err(e) => {
                self.dirty.store(true, Ordering::Release);
                *lock(&self.last_error) = Some(e.to_string());
            }
        }
    }

    pub(crate) fn to_json(&self) -> Value {
        json!({
            "path": self.path.display().to_string(),
            "saves": self.saves.load(Ordering::Relaxed),
            "last_save_ms": self.last_save_ms.load(Ordering::Relaxed),
            "dirty": self.dirty.load(Ordering::Relaxed),
            "last_error": *lock(&self.last_error),
        })
    }
}

/// The state file's layout: a format marker, a version, and one member per
/// target. A target added later is an `Option`, which serde reads as `None`
/// when the member is missing, so older files load (the missing target is then
/// seeded from the options).
#[derive(Serialize, serde::Deserialize)]
pub(crate) struct StateDoc<SM, TF, FA> {
    pub(crate) format: String,
    pub(crate) version: u64,
    pub(crate) salesmania: SM,
    pub(crate) trackfinity: Option<TF>,
    pub(crate) fatura: Option<FA>,
}

/// Reads and parses a state file; `Ok(None)` when there is none yet (first
/// start). Parsed straight into the typed store: no intermediate JSON tree.
pub(crate) fn load<SM: DeserializeOwned, TF: DeserializeOwned, FA: DeserializeOwned>(
    path: &Path,
) -> Result<Option<StateDoc<SM, TF, FA>>, SandboxError> {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(SandboxError::StateRead {
                path: path.to_owned(),
                source,
            });
        }
    };
    let bad = |reason: String| SandboxError::StateFormat {
        path: path.to_owned(),
        reason,
    };
    let doc: StateDoc<SM, TF, FA> =
        serde_json::from_slice(&bytes).map_err(|e| bad(e.to_string()))?;
    if doc.format != FORMAT {
        return Err(bad(format!("its \"format\" is not \"{FORMAT}\"")));
    }
    if doc.version != VERSION {
        return Err(bad(format!(
            "version {} is not the supported version {VERSION}",
            doc.version
        )));
    }
    Ok(Some(doc))
}

/// Writes a file so that readers see the old or the new content, never a mix:
/// temporary file in the same directory, fsync, rename. `write` streams the
/// content into a buffered writer.
pub(crate) fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut io::BufWriter<fs::File>) -> io::Result<()>,
) -> Result<(), SandboxError> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "state.json".to_owned());
    let tmp = path.with_file_name(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut out = io::BufWriter::with_capacity(1 << 16, fs::File::create(&tmp)?);
        write(&mut out)?;
        out.flush()?;
        let file = out.into_inner().map_err(io::IntoInnerError::into_error)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(|source| SandboxError::StateWrite {
        path: path.to_owned(),
        source,
    })
}
