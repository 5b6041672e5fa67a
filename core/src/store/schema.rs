//! The SQLite schema and its migrations.
//!
//! Migrations run in order, each in its own transaction, and `user_version`
//! records how many have run. Plain columns hold only opaque ids; everything
//! else is a sealed blob (see `crypto.rs`).
//!
//! | table | holds |
//! | --- | --- |
//! | `meta` | the key check and the device key, sealed |
//! | `documents` | one row per document: its id and sealed header (kind, schema) |
//! | `snapshots` | a document's latest compacted `save()`, sealed |
//! | `changes` | changes since the snapshot, one sealed row per local edit or merge |
//! | `peers`, `sync_states` | per-peer records and per-(peer, document) sync state, sealed |
//! | `clock` | the change clock; `documents.clock` is the clock of each document's last change |
//! | `views` | a sealed, materialised view of a document (the safety plan, `safety`), updated with each change; items appended on this device since it was written whole are sealed rows `safety+000001`, … after it |
//! | `signatures` | per (document, author) the sealed signature over the author's latest change; the author's key is the plain column |
//! | `directory_index` | per resource directory, its decoded index in sealed rows keyed by an opaque entry (`saved_index.rs`), written lazily, checked against `documents.clock` |

use rusqlite::Connection;

/// `PRAGMA application_id` of a Lynchpin store: "LYNC".
pub(crate) const APPLICATION_ID: i64 = 0x4C59_4E43;

/// Each migration's SQL; migration `n` (1-based) brings the schema to version `n`.
pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: documents, their snapshots and changes.
    "PRAGMA application_id = 1280921155;
     CREATE TABLE meta (
         name  TEXT PRIMARY KEY NOT NULL,
         value BLOB NOT NULL
     ) WITHOUT ROWID;
     CREATE TABLE documents (
         id     BLOB PRIMARY KEY NOT NULL,
         header BLOB NOT NULL
     ) WITHOUT ROWID;
     CREATE TABLE snapshots (
         doc_id BLOB PRIMARY KEY NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
         blob   BLOB NOT NULL
     );
     CREATE TABLE changes (
         doc_id BLOB NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
         seq    INTEGER NOT NULL,
         blob   BLOB NOT NULL,
         PRIMARY KEY (doc_id, seq)
     );",
    // 2: sync state per peer and document.
    "CREATE TABLE peers (
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
    // 3: a change clock, so a sync session finds the documents changed since
    // the last one without loading any.
    "ALTER TABLE documents ADD COLUMN clock INTEGER NOT NULL DEFAULT 0;
     CREATE INDEX documents_by_clock ON documents (clock);
     CREATE TABLE clock (
         id    INTEGER PRIMARY KEY CHECK (id = 0),
         value INTEGER NOT NULL
     );
     INSERT INTO clock (id, value) VALUES (0, 1);
     UPDATE documents SET clock = 1;",
    // 4: materialised views of a document, kept in step with it in the same
    // transaction as each change (the safety plan, readable at once on a
    // cold start without loading the whole care plan).
    "CREATE TABLE views (
         doc_id BLOB NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
         name   TEXT NOT NULL,
         blob   BLOB NOT NULL,
         PRIMARY KEY (doc_id, name)
     );",
    // 5: per document and author, the sealed signature over the author's
    // latest change (it vouches for the author's earlier changes too).
    "CREATE TABLE signatures (
         doc_id BLOB NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
         author BLOB NOT NULL,
         blob   BLOB NOT NULL,
         PRIMARY KEY (doc_id, author)
     );",
    // 6: a resource directory's decoded index, sealed, so that the first
    // query after opening answers without loading the directory
    // (`saved_index.rs`).
    "CREATE TABLE directory_index (
         doc_id BLOB NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
         entry  BLOB NOT NULL,
         blob   BLOB NOT NULL,
         PRIMARY KEY (doc_id, entry)
     );",
    // 7: no new table. `views` may now hold, after a care plan's safety-plan
    // view, the items appended to it since it was written whole (rows
    // `safety+000001`, …): a build that knows only version 6 would show
    // the view without them, so it must refuse the file.
    "-- rows of appended safety-plan items in `views`",
];

/// The schema version this build writes.
pub(crate) fn latest_version() -> i64 {
    MIGRATIONS.len() as i64
}

/// The schema version recorded in the file.
pub(crate) fn version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA user_version", [], |row| row.get(0))
}

/// Runs the migrations from the file's version up to `target`.
pub(crate) fn migrate_to(conn: &mut Connection, target: i64) -> rusqlite::Result<()> {
    let current = version(conn)?;
    for (index, sql) in MIGRATIONS.iter().enumerate() {
        let number = index as i64 + 1;
        if number <= current || number > target {
            continue;
        }
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", number)?;
        tx.commit()?;
        tracing::info!(version = number, "store schema migrated");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn application_id_in_sql_matches_constant() {
        assert_eq!(APPLICATION_ID, 1_280_921_155);
        let mut conn = Connection::open_in_memory().unwrap();
        migrate_to(&mut conn, latest_version()).unwrap();
        let id: i64 = conn
            .query_row("PRAGMA application_id", [], |r| r.get(0))
            .unwrap();
        assert_eq!(id, APPLICATION_ID);
        assert_eq!(version(&conn).unwrap(), latest_version());
    }

    #[test]
    fn migrating_twice_is_harmless() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate_to(&mut conn, latest_version()).unwrap();
        migrate_to(&mut conn, latest_version()).unwrap();
        assert_eq!(version(&conn).unwrap(), latest_version());
    }
}
