//! Unit tests of the ledger internals; the public behaviour is tested in `tests/it/ledger.rs`.

use super::*;

fn new_run() -> NewRun {
    NewRun {
        target: crate::spec::TargetId::SalesMania,
        base_url: "https://demo:secret@api.example.com/".into(),
        database_id: Some("1".into()),
        database_name: Some("Demo".into()),
        entity: crate::spec::Entity::Customers,
        mode: crate::spec::Mode::Upsert,
        input_path: "in.csv".into(),
        input_fingerprint: payload_hash(b"in"),
        sheet: None,
        config_json: r#"{"password":"hunter2","retries":3}"#.into(),
        total_rows: 3,
    }
}

fn pragma_i64(ledger: &Ledger, name: &str) -> i64 {
    ledger
        .conn
        .pragma_query_value(None, name, |r| r.get(0))
        .unwrap()
}

#[test]
fn status_words_round_trip() {
    for s in [
        Status::Ok,
        Status::Valid,
        Status::Skipped,
        Status::Invalid,
        Status::Failed,
        Status::Unknown,
    ] {
        assert_eq!(status_from_str(s.as_str()), Some(s));
    }
    assert_eq!(status_from_str("ok"), None);
}

#[test]
fn run_state_words_round_trip() {
    for s in [
        RunState::Running,
        RunState::Completed,
        RunState::Interrupted,
        RunState::Failed,
        RunState::Undone,
    ] {
        assert_eq!(s.to_string().parse::<RunState>().unwrap(), s);
    }
    assert_eq!(
        " Completed ".parse::<RunState>().unwrap(),
        RunState::Completed
    );
    assert!(matches!("done".parse::<RunState>(), Err(Error::Usage(_))));
}

#[test]
fn new_ledger_is_stamped_and_in_wal_mode() {
    let home = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(home.path()).unwrap();
    assert_eq!(
        pragma_i64(&ledger, "application_id"),
        i64::from(schema::APPLICATION_ID)
    );
    assert_eq!(pragma_i64(&ledger, "user_version"), schema::VERSION);
    assert_eq!(pragma_i64(&ledger, "foreign_keys"), 1);
    assert_eq!(pragma_i64(&ledger, "synchronous"), 1); // NORMAL
    let mode: String = ledger
        .conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    assert!(schema::schema_sql().contains("CREATE TABLE run_rows"));
}

#[test]
fn two_connections_share_one_ledger() {
    let home = tempfile::tempdir().unwrap();
    let mut a = Ledger::open(home.path()).unwrap();
    let b = Ledger::open(home.path()).unwrap();
    let id = a.begin_run(&new_run()).unwrap();
    assert_eq!(b.run(id).unwrap().unwrap().id, id);
}

#[test]
fn another_programs_database_is_refused_and_left_alone() {
    let home = tempfile::tempdir().unwrap();
    let path = home.path().join(FILE_NAME);
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('x');")
            .unwrap();
    }
    let err = Ledger::open(home.path()).unwrap_err();
    assert!(matches!(err, Error::Output(_)));
    assert!(
        err.to_string().contains("is not a sheetload run ledger"),
        "{err}"
    );
    let conn = Connection::open(&path).unwrap();
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(
        mode, "delete",
        "the foreign file must not be switched to WAL"
    );
    let tables: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))
        .unwrap();
    assert_eq!(tables, 1);
}

#[test]
fn a_newer_schema_is_refused() {
    let home = tempfile::tempdir().unwrap();
    drop(Ledger::open(home.path()).unwrap());
    {
        let conn = Connection::open(home.path().join(FILE_NAME)).unwrap();
        conn.pragma_update(None, "user_version", schema::VERSION + 1)
            .unwrap();
    }
    let err = Ledger::open(home.path()).unwrap_err().to_string();
    assert!(err.contains("newer sheetload"), "{err}");
}

#[test]
fn an_empty_file_becomes_a_ledger() {
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join(FILE_NAME), b"").unwrap();
    let ledger = Ledger::open(home.path()).unwrap();
    assert_eq!(pragma_i64(&ledger, "user_version"), schema::VERSION);
}

#[test]
fn stored_config_and_url_hold_no_secrets() {
    let home = tempfile::tempdir().unwrap();
    let mut ledger = Ledger::open(home.path()).unwrap();
    let id = ledger.begin_run(&new_run()).unwrap();
    let run = ledger.run(id).unwrap().unwrap();
    assert_eq!(run.base_url, "https://api.example.com");
    assert!(!run.config_json.contains("hunter2"), "{}", run.config_json);
    assert!(run.config_json.contains("\"retries\":3"));
    let mut bad = new_run();
    bad.config_json = "retries=3".into();
    assert!(matches!(ledger.begin_run(&bad), Err(Error::Output(_))));
}

#[test]
fn resending_a_row_clears_its_old_outcome_and_recording_keeps_the_hash() {
    let home = tempfile::tempdir().unwrap();
    let mut ledger = Ledger::open(home.path()).unwrap();
    let id = ledger.begin_run(&new_run()).unwrap();
    let pending = |hash: &str| PendingRow {
        row: 2,
        key: Some("C1".into()),
        action: Verb::Create,
        payload_hash: hash.into(),
    };
    let failed = RowOutcome {
        row: 2,
        key: None,
        outcome: Outcome {
            status: Some(Status::Failed),
            action: Some(Verb::Create),
            id: None,
            http: Some(503),
            error: "service unavailable".into(),
            attempts: Some(3),
            ..Outcome::default()
        },
    };
    ledger.mark_sending(id, &[pending("h1")]).unwrap();
    ledger.record(id, &[failed]).unwrap();
    let row = &ledger.rows(id).unwrap()[0];
    assert_eq!(
        row.key.as_deref(),
        Some("C1"),
        "a keyless outcome keeps the key"
    );
    assert_eq!(row.payload_hash.as_deref(), Some("h1"));
    assert_eq!(row.status, Some(Status::Failed));

    ledger.mark_sending(id, &[pending("h2")]).unwrap();
    let row = &ledger.rows(id).unwrap()[0];
    assert!(row.sending);
    assert_eq!(row.status, None);
    assert_eq!(row.http, None);
    assert_eq!(row.error, "");
    assert_eq!(row.payload_hash.as_deref(), Some("h2"));
}

#[test]
fn unfinished_runs_count_from_their_rows_finished_runs_from_storage() {
    let home = tempfile::tempdir().unwrap();
    let mut ledger = Ledger::open(home.path()).unwrap();
    let id = ledger.begin_run(&new_run()).unwrap();
    let ok = RowOutcome {
        row: 2,
        key: Some("C1".into()),
        outcome: Outcome {
            status: Some(Status::Ok),
            action: Some(Verb::Create),
            id: Some("7".into()),
            http: Some(201),
            error: String::new(),
            attempts: Some(1),
            ..Outcome::default()
        },
    };
    ledger.record(id, &[ok]).unwrap();
    assert_eq!(ledger.run(id).unwrap().unwrap().counts.ok, 1);
    ledger.finish_run(id, RunState::Completed).unwrap();
    // Tamper with the rows: a finished run reports what was stored at the finish.
    ledger.conn.execute("DELETE FROM run_rows", []).unwrap();
    assert_eq!(ledger.run(id).unwrap().unwrap().counts.ok, 1);
    ledger.reopen_run(id).unwrap();
    let run = ledger.run(id).unwrap().unwrap();
    assert_eq!(run.state, RunState::Running);
    assert_eq!(run.finished_at, None);
    assert_eq!(run.counts, Counts::default());
}

#[test]
fn unknown_status_in_the_file_is_an_error_not_a_panic() {
    let home = tempfile::tempdir().unwrap();
    let mut ledger = Ledger::open(home.path()).unwrap();
    let id = ledger.begin_run(&new_run()).unwrap();
    ledger
        .conn
        .execute(
            "INSERT INTO run_rows (run, row_no, action, sending, status, updated_at)
             VALUES (?1, 2, 'create', 0, 'MAYBE', 'now')",
            [id],
        )
        .unwrap();
    let err = ledger.rows(id).unwrap_err().to_string();
    assert!(err.contains("cannot read the run ledger"), "{err}");
    assert!(err.contains("MAYBE"), "{err}");
}

#[test]
fn missing_runs_are_usage_errors() {
    let home = tempfile::tempdir().unwrap();
    let mut ledger = Ledger::open(home.path()).unwrap();
    let err = ledger.finish_run(42, RunState::Completed).unwrap_err();
    assert!(matches!(err, Error::Usage(_)));
    assert!(
        err.to_string()
            .starts_with("run 42 is not in the run ledger"),
        "{err}"
    );
    assert!(ledger.run(42).unwrap().is_none());
}

#[test]
fn a_version_1_ledger_is_migrated_and_its_runs_still_read() {
    let home = tempfile::tempdir().unwrap();
    {
        let conn = Connection::open(home.path().join(FILE_NAME)).unwrap();
        conn.execute_batch(schema::schema_sql()).unwrap();
        conn.pragma_update(None, "application_id", schema::APPLICATION_ID)
            .unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        conn.execute(
            "INSERT INTO runs (started_at, finished_at, state, target, base_url, entity, mode,
                               input_path, input_fingerprint, config_json, total_rows, n_ok)
             VALUES ('2026-11-01T00:00:00Z', '2026-11-01T00:01:00Z', 'completed', 'salesmania',
                     'https://api.example.com', 'customers', 'create', 'in.csv', 'f', '{}', 2, 2)",
            [],
        )
        .unwrap();
    }
    let ledger = Ledger::open(home.path()).unwrap();
    assert_eq!(pragma_i64(&ledger, "user_version"), schema::VERSION);
    const { assert!(schema::VERSION >= 2) };
    let runs = ledger.runs(10).unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].state, RunState::Completed);
    assert_eq!(runs[0].counts.ok, 2);
    assert_eq!(runs[0].undone_at, None);
}

#[test]
fn a_run_is_undone_only_when_nothing_it_created_is_left() {
    let home = tempfile::tempdir().unwrap();
    let mut ledger = Ledger::open(home.path()).unwrap();
    let id = ledger.begin_run(&new_run()).unwrap();
    let created = |row: u32, remote: &str| RowOutcome {
        row,
        key: Some(format!("C{row}")),
        outcome: Outcome {
            status: Some(Status::Ok),
            action: Some(Verb::Create),
            id: Some(remote.into()),
            http: Some(201),
            error: String::new(),
            attempts: Some(1),
            ..Outcome::default()
        },
    };
    ledger
        .record(id, &[created(2, "7"), created(3, "8")])
        .unwrap();
    ledger.finish_run(id, RunState::Completed).unwrap();
    assert!(!ledger.finish_undo(id).unwrap(), "nothing deleted yet");

    ledger.mark_undone(id, &[2]).unwrap();
    assert!(!ledger.finish_undo(id).unwrap(), "row 3 is still there");
    let run = ledger.run(id).unwrap().unwrap();
    assert_eq!(run.state, RunState::Completed);
    assert_eq!(run.undone_at, None);

    ledger.mark_undone(id, &[3]).unwrap();
    assert!(ledger.finish_undo(id).unwrap());
    let run = ledger.run(id).unwrap().unwrap();
    assert_eq!(run.state, RunState::Undone);
    assert!(run.undone_at.is_some());
    assert!(
        !run.state.is_unfinished(),
        "resume does not pick an undone run"
    );
    assert_eq!(run.counts.ok, 2, "the counts of what the run did are kept");
}
