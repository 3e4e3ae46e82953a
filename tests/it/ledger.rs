//! The run ledger through its public API, on ledgers in temporary directories.

use std::path::Path;
use std::time::Instant;

use sheetload::error::Error;
use sheetload::ledger::{
    Counts, FILE_NAME, Ledger, NewRun, PendingRow, RowOutcome, RunState, Scope, file_fingerprint,
    payload_hash,
};
use sheetload::output::Status;
use sheetload::output::result::Outcome;
use sheetload::spec::Verb;

fn new_run(database: &str, entity: &str) -> NewRun {
    NewRun {
        target: "salesmania".parse().unwrap(),
        base_url: "https://api.example.com".into(),
        database_id: Some(database.into()),
        database_name: Some(format!("db {database}")),
        entity: entity.parse().unwrap(),
        mode: "upsert".parse().unwrap(),
        input_path: "customers.xlsx".into(),
        input_fingerprint: payload_hash(b"customers"),
        sheet: Some("Customers".into()),
        config_json: r#"{"concurrency":8}"#.into(),
        total_rows: 5,
    }
}

fn scope(database: &str, entity: &str) -> Scope {
    Scope {
        target: "salesmania".parse().unwrap(),
        base_url: "https://api.example.com".into(),
        database_id: Some(database.into()),
        entity: entity.parse().unwrap(),
    }
}

fn pending(row: u32, key: &str) -> PendingRow {
    PendingRow {
        row,
        key: Some(key.into()),
        action: Verb::Create,
        payload_hash: payload_hash(key.as_bytes()),
    }
}

fn outcome(row: u32, key: &str, action: &str, status: Status, id: Option<&str>) -> RowOutcome {
    RowOutcome {
        row,
        key: Some(key.into()),
        outcome: Outcome {
            status: Some(status),
            action: Some(action.parse::<Verb>().expect("a known action word")),
            id: id.map(str::to_string),
            http: id.map(|_| 201),
            error: if status.is_failure() {
                "refused".into()
            } else {
                String::new()
            },
            attempts: Some(1),
            ..Outcome::default()
        },
    }
}

fn open(home: &Path) -> Ledger {
    Ledger::open(home).expect("open the ledger")
}

#[test]
fn a_run_goes_from_running_to_completed_with_counts() {
    let home = tempfile::tempdir().unwrap();
    let mut ledger = open(home.path());
    assert_eq!(ledger.path(), home.path().join(FILE_NAME));
    let id = ledger.begin_run(&new_run("1", "customers")).unwrap();

    let run = ledger.run(id).unwrap().unwrap();
    assert_eq!(run.state, RunState::Running);
    assert_eq!(run.finished_at, None);
    assert_eq!(run.entity.as_str(), "customers");
    assert_eq!(run.database_name.as_deref(), Some("db 1"));
    assert_eq!(run.sheet.as_deref(), Some("Customers"));
    assert_eq!(run.total_rows, 5);
    assert!(chrono::DateTime::parse_from_rfc3339(&run.started_at).is_ok());
    assert!(run.started_at.ends_with('Z'), "{}", run.started_at);

    ledger
        .mark_sending(id, &[pending(2, "C1"), pending(3, "C2"), pending(6, "C5")])
        .unwrap();
    ledger
        .record(
            id,
            &[
                outcome(2, "C1", "create", Status::Ok, Some("101")),
                outcome(3, "C2", "create", Status::Failed, None),
                outcome(4, "C3", "skip", Status::Invalid, None),
                outcome(5, "C4", "skip", Status::Skipped, Some("99")),
            ],
        )
        .unwrap();
    let live = ledger.run(id).unwrap().unwrap().counts;
    let expected = Counts {
        ok: 1,
        failed: 1,
        invalid: 1,
        skipped: 1,
        unknown: 0,
        sending: 1,
    };
    assert_eq!(live, expected, "an unfinished run counts from its rows");

    ledger.finish_run(id, RunState::Completed).unwrap();
    let run = ledger.run(id).unwrap().unwrap();
    assert_eq!(run.state, RunState::Completed);
    assert!(run.finished_at.is_some());
    assert_eq!(run.counts, expected);
    assert_eq!(run.counts.processed(), 5);

    let rows = ledger.rows(id).unwrap();
    let numbers: Vec<u32> = rows.iter().map(|r| r.row).collect();
    assert_eq!(numbers, [2, 3, 4, 5, 6]);
    assert!(rows[4].sending && rows[4].status.is_none());
    assert_eq!(rows[1].error, "refused");
    assert_eq!(rows[0].http, Some(201));
}

#[test]
fn sending_then_done_keeps_one_row() {
    let home = tempfile::tempdir().unwrap();
    let mut ledger = open(home.path());
    let id = ledger.begin_run(&new_run("1", "customers")).unwrap();
    ledger.mark_sending(id, &[pending(7, "C7")]).unwrap();
    let rows = ledger.rows(id).unwrap();
    assert_eq!(rows.len(), 1);
    assert!(rows[0].sending);
    assert_eq!(rows[0].status, None);
    assert_eq!(rows[0].payload_hash, Some(payload_hash(b"C7")));

    ledger
        .record(id, &[outcome(7, "C7", "create", Status::Unknown, None)])
        .unwrap();
    // A resumed run reconciles the row by its key and records it again.
    ledger
        .record(id, &[outcome(7, "C7", "match", Status::Ok, Some("700"))])
        .unwrap();
    let rows = ledger.rows(id).unwrap();
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert!(!row.sending);
    assert_eq!(row.status, Some(Status::Ok));
    assert_eq!(row.action, Some(Verb::Match));
    assert_eq!(row.remote_id.as_deref(), Some("700"));
    assert_eq!(row.payload_hash, Some(payload_hash(b"C7")));
}

#[test]
fn last_unfinished_is_the_newest_running_or_interrupted_run() {
    let home = tempfile::tempdir().unwrap();
    let mut ledger = open(home.path());
    assert!(ledger.last_unfinished().unwrap().is_none());
    let a = ledger.begin_run(&new_run("1", "customers")).unwrap();
    let b = ledger.begin_run(&new_run("1", "customers")).unwrap();
    let c = ledger.begin_run(&new_run("1", "customers")).unwrap();
    let d = ledger.begin_run(&new_run("1", "customers")).unwrap();
    ledger.finish_run(a, RunState::Interrupted).unwrap();
    // b stays running: a crash.
    ledger.finish_run(c, RunState::Interrupted).unwrap();
    ledger.finish_run(d, RunState::Completed).unwrap();
    assert_eq!(ledger.last_unfinished().unwrap().unwrap().id, c);
    ledger.finish_run(c, RunState::Failed).unwrap();
    assert_eq!(ledger.last_unfinished().unwrap().unwrap().id, b);
    ledger.finish_run(b, RunState::Completed).unwrap();
    assert_eq!(ledger.last_unfinished().unwrap().unwrap().id, a);

    let ids: Vec<i64> = ledger.runs(10).unwrap().iter().map(|r| r.id).collect();
    assert_eq!(ids, [d, c, b, a], "newest first");
    assert_eq!(ledger.runs(2).unwrap().len(), 2);
}

#[test]
fn known_ids_latest_wins_deletes_forget_and_scopes_separate() {
    let home = tempfile::tempdir().unwrap();
    let mut ledger = open(home.path());
    let march = ledger.begin_run(&new_run("1", "customers")).unwrap();
    ledger
        .record(
            march,
            &[
                outcome(2, "C1", "create", Status::Ok, Some("101")),
                outcome(3, "C2", "create", Status::Ok, Some("102")),
                outcome(4, "C3", "create", Status::Ok, Some("103")),
                outcome(5, "C4", "create", Status::Failed, None),
                outcome(6, "C5", "create", Status::Unknown, Some("105")),
            ],
        )
        .unwrap();
    ledger.finish_run(march, RunState::Completed).unwrap();

    let april = ledger.begin_run(&new_run("1", "customers")).unwrap();
    ledger
        .record(
            april,
            &[
                outcome(2, "C1", "upsert", Status::Ok, Some("201")),
                outcome(3, "C2", "delete", Status::Ok, Some("102")),
                outcome(4, "C3", "update", Status::Failed, Some("999")),
                outcome(5, "C6", "match", Status::Ok, Some("106")),
            ],
        )
        .unwrap();

    // Same keys in another database and another entity.
    let other_db = ledger.begin_run(&new_run("2", "customers")).unwrap();
    ledger
        .record(
            other_db,
            &[outcome(2, "C1", "create", Status::Ok, Some("X1"))],
        )
        .unwrap();
    let products = ledger.begin_run(&new_run("1", "products")).unwrap();
    ledger
        .record(
            products,
            &[outcome(2, "C1", "create", Status::Ok, Some("P1"))],
        )
        .unwrap();

    let ids = ledger.known_ids(&scope("1", "customers")).unwrap();
    let mut pairs: Vec<(&str, &str)> = ids.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    pairs.sort();
    assert_eq!(pairs, [("C1", "201"), ("C3", "103"), ("C6", "106")]);

    let other = ledger.known_ids(&scope("2", "customers")).unwrap();
    assert_eq!(other.len(), 1);
    assert_eq!(other["C1"], "X1");
    assert_eq!(
        ledger.known_ids(&scope("1", "products")).unwrap()["C1"],
        "P1"
    );
    assert!(
        ledger
            .known_ids(&scope("3", "customers"))
            .unwrap()
            .is_empty()
    );
    let mut no_db = scope("1", "customers");
    no_db.database_id = None;
    assert!(ledger.known_ids(&no_db).unwrap().is_empty());
    let mut other_server = scope("1", "customers");
    other_server.base_url = "https://sandbox.example.com".into();
    assert!(ledger.known_ids(&other_server).unwrap().is_empty());

    ledger
        .forget(&scope("1", "customers"), &["C6".to_string()])
        .unwrap();
    assert!(
        !ledger
            .known_ids(&scope("1", "customers"))
            .unwrap()
            .contains_key("C6")
    );
}

#[test]
fn created_rows_can_be_undone() {
    let home = tempfile::tempdir().unwrap();
    let mut ledger = open(home.path());
    let id = ledger.begin_run(&new_run("1", "customers")).unwrap();
    ledger.mark_sending(id, &[pending(9, "C9")]).unwrap();
    ledger
        .record(
            id,
            &[
                outcome(2, "C1", "create", Status::Ok, Some("101")),
                outcome(3, "C2", "create", Status::Ok, Some("102")),
                outcome(4, "C3", "update", Status::Ok, Some("103")),
                outcome(5, "C4", "create", Status::Failed, None),
                outcome(6, "C5", "create", Status::Ok, None),
                outcome(7, "C6", "create", Status::Unknown, Some("106")),
            ],
        )
        .unwrap();
    let created: Vec<(u32, String)> = ledger
        .created(id)
        .unwrap()
        .into_iter()
        .map(|r| (r.row, r.remote_id.unwrap()))
        .collect();
    assert_eq!(created, [(2, "101".to_string()), (3, "102".to_string())]);

    // A later run re-creates C2 under a new id before this run is undone.
    let later = ledger.begin_run(&new_run("1", "customers")).unwrap();
    ledger
        .record(
            later,
            &[outcome(2, "C2", "create", Status::Ok, Some("202"))],
        )
        .unwrap();

    ledger.mark_undone(id, &[2, 3, 99]).unwrap();
    assert!(ledger.created(id).unwrap().is_empty());
    let rows = ledger.rows(id).unwrap();
    assert!(rows[0].undone && rows[1].undone && !rows[2].undone);

    let ids = ledger.known_ids(&scope("1", "customers")).unwrap();
    assert!(!ids.contains_key("C1"), "an undone create is forgotten");
    assert_eq!(ids["C2"], "202", "a newer id for the key is kept");
    assert_eq!(ids["C3"], "103");
}

#[test]
fn userinfo_is_stripped_from_the_base_url() {
    let home = tempfile::tempdir().unwrap();
    let mut ledger = open(home.path());
    let mut run = new_run("1", "customers");
    run.base_url = "https://demo:hunter2@api.example.com/".into();
    let id = ledger.begin_run(&run).unwrap();
    ledger
        .record(id, &[outcome(2, "C1", "create", Status::Ok, Some("101"))])
        .unwrap();
    assert_eq!(
        ledger.run(id).unwrap().unwrap().base_url,
        "https://api.example.com"
    );
    // Looked up with or without credentials, it is the same scope.
    let mut with_userinfo = scope("1", "customers");
    with_userinfo.base_url = "https://other:pw@api.example.com".into();
    assert_eq!(ledger.known_ids(&with_userinfo).unwrap()["C1"], "101");
    assert_eq!(
        ledger.known_ids(&scope("1", "customers")).unwrap()["C1"],
        "101"
    );

    drop(ledger);
    let bytes = std::fs::read(home.path().join(FILE_NAME)).unwrap();
    let wal = std::fs::read(home.path().join(format!("{FILE_NAME}-wal"))).unwrap_or_default();
    for file in [&bytes, &wal] {
        assert!(
            !file.windows(7).any(|w| w == b"hunter2"),
            "the password reached the ledger file"
        );
    }
}

#[cfg(unix)]
#[test]
fn home_and_file_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("nested").join("home");
    let mut ledger = open(&home);
    ledger.begin_run(&new_run("1", "customers")).unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&home), 0o700);
    assert_eq!(mode(&home.join(FILE_NAME)), 0o600);
    assert_eq!(mode(&home.join(format!("{FILE_NAME}-wal"))), 0o600);
}

#[test]
fn reopening_keeps_the_data() {
    let home = tempfile::tempdir().unwrap();
    let id = {
        let mut ledger = open(home.path());
        let id = ledger.begin_run(&new_run("1", "customers")).unwrap();
        ledger
            .record(id, &[outcome(2, "C1", "create", Status::Ok, Some("101"))])
            .unwrap();
        ledger.finish_run(id, RunState::Interrupted).unwrap();
        id
    };
    let mut ledger = open(home.path());
    let run = ledger.run(id).unwrap().unwrap();
    assert_eq!(run.state, RunState::Interrupted);
    assert_eq!(run.counts.ok, 1);
    assert_eq!(ledger.rows(id).unwrap().len(), 1);
    assert_eq!(
        ledger.known_ids(&scope("1", "customers")).unwrap()["C1"],
        "101"
    );
    ledger.reopen_run(id).unwrap();
    assert_eq!(
        ledger.last_unfinished().unwrap().unwrap().state,
        RunState::Running
    );
    let next = ledger.begin_run(&new_run("1", "customers")).unwrap();
    assert!(next > id);
}

#[test]
fn a_garbage_file_is_a_clear_error() {
    let home = tempfile::tempdir().unwrap();
    let path = home.path().join(FILE_NAME);
    let garbage: Vec<u8> = b"this is not a database, it is a shopping list\n"
        .iter()
        .copied()
        .cycle()
        .take(4096)
        .collect();
    std::fs::write(&path, &garbage).unwrap();
    let err = Ledger::open(home.path()).unwrap_err();
    assert!(matches!(err, Error::Output(_)));
    let msg = err.to_string();
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    assert!(msg.contains("not a sheetload run ledger"), "{msg}");
    assert!(msg.contains("SHEETLOAD_HOME"), "{msg}");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        garbage,
        "the file is left alone"
    );
}

#[test]
fn a_home_that_is_a_file_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    std::fs::write(&home, b"x").unwrap();
    let msg = Ledger::open(&home).unwrap_err().to_string();
    assert!(
        msg.starts_with("cannot create the sheetload home directory"),
        "{msg}"
    );
}

#[test]
fn unknown_runs_are_refused() {
    let home = tempfile::tempdir().unwrap();
    let mut ledger = open(home.path());
    let err = ledger.mark_sending(77, &[pending(2, "C1")]).unwrap_err();
    assert!(matches!(err, Error::Usage(_)), "{err}");
    let err = ledger
        .record(77, &[outcome(2, "C1", "create", Status::Ok, Some("1"))])
        .unwrap_err();
    assert!(err.to_string().contains("run 77"), "{err}");
    assert!(ledger.run(77).unwrap().is_none());
    assert!(ledger.rows(77).unwrap().is_empty());
}

#[test]
fn ten_thousand_outcomes_record_quickly() {
    let home = tempfile::tempdir().unwrap();
    let mut ledger = open(home.path());
    let id = ledger.begin_run(&new_run("1", "customers")).unwrap();
    let keys: Vec<String> = (0..10_000).map(|i| format!("C{i:05}")).collect();
    let pending: Vec<PendingRow> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| pending(i as u32 + 2, k))
        .collect();
    let outcomes: Vec<RowOutcome> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let id = (i + 1000).to_string();
            outcome(i as u32 + 2, k, "create", Status::Ok, Some(&id))
        })
        .collect();

    let start = Instant::now();
    ledger.mark_sending(id, &pending).unwrap();
    let sending = start.elapsed();
    let start = Instant::now();
    ledger.record(id, &outcomes).unwrap();
    let recording = start.elapsed();
    println!("10,000 rows: mark_sending {sending:?}, record {recording:?}");
    assert!(recording.as_secs_f64() < 5.0, "record took {recording:?}");
    assert!(sending.as_secs_f64() < 5.0, "mark_sending took {sending:?}");

    ledger.finish_run(id, RunState::Completed).unwrap();
    assert_eq!(ledger.run(id).unwrap().unwrap().counts.ok, 10_000);
    assert_eq!(
        ledger.known_ids(&scope("1", "customers")).unwrap().len(),
        10_000
    );
}

#[test]
fn input_fingerprints_change_with_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in.csv");
    std::fs::write(&path, "ext_cust_no,name\nC1,Toko\n").unwrap();
    let first = file_fingerprint(&path).unwrap();
    assert_eq!(first.len(), 64);
    assert_eq!(first, payload_hash(b"ext_cust_no,name\nC1,Toko\n"));
    std::fs::write(&path, "ext_cust_no,name\nC1,Toko Baru\n").unwrap();
    assert_ne!(file_fingerprint(&path).unwrap(), first);
}
