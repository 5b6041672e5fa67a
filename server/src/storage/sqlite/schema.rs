//! The server database's schema and its migrations.
//!
//! Migrations run in order, each in its own `BEGIN IMMEDIATE` transaction
//! that re-reads `user_version` first, so two processes opening a new
//! database at once (the server and the `invite` command) do not both run
//! one. Everything is stored plain: the server is not a device, and holds no
//! app key; protect the data directory instead.
//!
//! | table | holds |
//! | --- | --- |
//! | `meta` | the server's Ed25519 secret key and its epoch |
//! | `invites` | SHA-256 of each invite code, its expiry and when it was used |
//! | `devices` | enrolled devices |
//! | `nonces` | (device, nonce) pairs seen recently, to refuse replays |
//! | `documents` | one row per document: id, kind, clock of its last change |
//! | `snapshots` | a document's latest compacted `save()` |
//! | `changes` | increments since the snapshot |
//! | `clock` | the change clock |
//! | `peers`, `sync_states` | per-device records and per-(device, document) sync state |
//! | `access` | each device's current role on each document, from the document's grant statements |
//! | `signatures` | per (document, author) the signature over the author's latest change |
//! | `access_log` | which device read (1) or wrote (2) which document, and when |

use rusqlite::{Connection, TransactionBehavior};

/// `PRAGMA application_id` of a Lynchpin server database: "LYNS".
pub(super) const APPLICATION_ID: i64 = 0x4C59_4E53;

/// Each migration's SQL; migration `n` (1-based) brings the schema to version `n`.
const MIGRATIONS: &[&str] = &[
    // 1: everything.
    "PRAGMA application_id = 1280921171;
     CREATE TABLE meta (
         name  TEXT PRIMARY KEY NOT NULL,
         value BLOB NOT NULL
     ) WITHOUT ROWID;
     CREATE TABLE invites (
         code_hash  BLOB PRIMARY KEY NOT NULL,
         label      TEXT,
         created_at INTEGER NOT NULL,
         expires_at INTEGER NOT NULL,
         used_at    INTEGER,
         used_by    BLOB
     ) WITHOUT ROWID;
     CREATE INDEX invites_by_expiry ON invites (expires_at);
     CREATE TABLE devices (
         id          BLOB PRIMARY KEY NOT NULL,
         enrolled_at INTEGER NOT NULL,
         label       TEXT
     ) WITHOUT ROWID;
     CREATE TABLE nonces (
         device_id  BLOB NOT NULL,
         nonce      BLOB NOT NULL,
         expires_at INTEGER NOT NULL,
         PRIMARY KEY (device_id, nonce)
     ) WITHOUT ROWID;
     CREATE INDEX nonces_by_expiry ON nonces (expires_at);
     CREATE TABLE clock (
         id    INTEGER PRIMARY KEY CHECK (id = 0),
         value INTEGER NOT NULL
     );
     INSERT INTO clock (id, value) VALUES (0, 0);
     CREATE TABLE documents (
         id    BLOB PRIMARY KEY NOT NULL,
         kind  TEXT NOT NULL,
         clock INTEGER NOT NULL
     ) WITHOUT ROWID;
     CREATE INDEX documents_by_clock ON documents (clock);
     CREATE TABLE snapshots (
         doc_id BLOB PRIMARY KEY NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
         blob   BLOB NOT NULL
     );
     CREATE TABLE changes (
         doc_id BLOB NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
         seq    INTEGER NOT NULL,
         blob   BLOB NOT NULL,
         PRIMARY KEY (doc_id, seq)
     );
     CREATE TABLE peers (
         id   BLOB PRIMARY KEY NOT NULL,
         info BLOB NOT NULL
     ) WITHOUT ROWID;
     CREATE TABLE sync_states (
         peer_id BLOB NOT NULL REFERENCES peers (id) ON DELETE CASCADE,
         doc_id  BLOB NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
         state   BLOB NOT NULL,
         PRIMARY KEY (peer_id, doc_id)
     );
     CREATE INDEX sync_states_by_document ON sync_states (doc_id);",
    // 2: who may sync what, the signatures that go with changes, and the
    // access log.
    "CREATE TABLE access (
         device_id BLOB NOT NULL,
         doc_id    BLOB NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
         role      INTEGER NOT NULL,
         PRIMARY KEY (device_id, doc_id)
     ) WITHOUT ROWID;
     CREATE INDEX access_by_document ON access (doc_id);
     CREATE TABLE signatures (
         doc_id    BLOB NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
         author    BLOB NOT NULL,
         hash      BLOB NOT NULL,
         signature BLOB NOT NULL,
         PRIMARY KEY (doc_id, author)
     ) WITHOUT ROWID;
     CREATE TABLE access_log (
         id        INTEGER PRIMARY KEY,
         doc_id    BLOB NOT NULL,
         device_id BLOB NOT NULL,
         action    INTEGER NOT NULL,
         at        INTEGER NOT NULL
     );
     CREATE INDEX access_log_by_document ON access_log (doc_id, at);
     CREATE INDEX access_log_by_time ON access_log (at);",
];

/// The schema version this build writes.
pub(super) fn latest_version() -> i64 {
    MIGRATIONS.len() as i64
}

/// The schema version recorded in the file.
pub(super) fn version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA user_version", [], |row| row.get(0))
}

/// Runs the migrations the file lacks.
pub(super) fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    for (index, sql) in MIGRATIONS.iter().enumerate() {
        let number = index as i64 + 1;
        if number <= version(conn)? {
            continue;
        }
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Another process may have run it while we waited for the lock.
        if number <= version(&tx)? {
            continue;
        }
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", number)?;
        tx.commit()?;
        tracing::info!(version = number, "server schema migrated");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn application_id_in_sql_matches_constant() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        let id: i64 = conn
            .query_row("PRAGMA application_id", [], |r| r.get(0))
            .unwrap();
        assert_eq!(id, APPLICATION_ID);
        assert_eq!(version(&conn).unwrap(), latest_version());
        migrate(&mut conn).unwrap();
        assert_eq!(version(&conn).unwrap(), latest_version());
    }
}
