//! The run ledger (SQLite): every row outcome, committed as it happens.
