//! The ledger on its own thread: rows about to be sent are committed (and acknowledged)
//! before their request goes out; outcomes are committed in batches as they arrive.

use std::sync::mpsc;

use tokio::sync::oneshot;

use crate::error::{Error, Result};
use crate::ledger::{Ledger, PendingRow, RowOutcome};

/// Messages to the ledger thread, which batches whatever is queued into one transaction.
pub enum LedgerMsg {
    /// Rows about to be sent; acknowledged once committed.
    Sending(Vec<PendingRow>, oneshot::Sender<Result<()>>),
    /// A row's outcome.
    Done(Vec<RowOutcome>),
    /// Marked as sending, but the run stopped before it went out.
    Unsent(u32),
    /// Outcomes to commit before the sender goes on (a create that could not be looked
    /// up after a crash frees its slot only once its outcome is safe).
    Settled(Vec<RowOutcome>, oneshot::Sender<()>),
}

/// The ledger on its own thread: rows about to be sent are committed (and acknowledged)
/// before their request goes out; outcomes are committed in batches as they arrive.
/// The thread hands the ledger back with the first write error, if any, so that a lost
/// outcome is never silent.
pub type LedgerThread = std::thread::JoinHandle<(Ledger, Option<String>)>;

pub fn spawn_ledger(mut ledger: Ledger, run: i64) -> (mpsc::Sender<LedgerMsg>, LedgerThread) {
    let (tx, rx) = mpsc::channel::<LedgerMsg>();
    let handle = std::thread::spawn(move || {
        let mut first_error = None;
        while let Ok(first) = rx.recv() {
            let mut sending = Vec::new();
            let mut acks = Vec::new();
            let mut done = Vec::new();
            let mut unsent = Vec::new();
            let mut settled_acks = Vec::new();
            for msg in std::iter::once(first).chain(rx.try_iter()) {
                match msg {
                    LedgerMsg::Sending(rows, ack) => {
                        sending.extend(rows);
                        acks.push(ack);
                    }
                    LedgerMsg::Done(o) => done.extend(o),
                    LedgerMsg::Unsent(row) => unsent.push(row),
                    LedgerMsg::Settled(outcomes, ack) => {
                        done.extend(outcomes);
                        settled_acks.push(ack);
                    }
                }
            }
            // Rows waiting to be sent go first, in their own small transaction, so that
            // their acknowledgement never waits behind a large batch of outcomes.
            let result = if sending.is_empty() {
                Ok(())
            } else {
                ledger.mark_sending(run, &sending)
            };
            if let Err(e) = &result {
                first_error.get_or_insert_with(|| e.to_string());
            }
            for ack in acks {
                let _ = ack.send(match &result {
                    Ok(()) => Ok(()),
                    Err(e) => Err(Error::output(e.to_string())),
                });
            }
            if !done.is_empty()
                && let Err(e) = ledger.record(run, &done)
            {
                first_error.get_or_insert_with(|| e.to_string());
            }
            for ack in settled_acks {
                let _ = ack.send(());
            }
            if !unsent.is_empty()
                && let Err(e) = ledger.clear_sending(run, &unsent)
            {
                first_error.get_or_insert_with(|| e.to_string());
            }
        }
        (ledger, first_error)
    });
    (tx, handle)
}
