//! Tests of the SQLite store: the shared conformance suite, then what is
//! particular to SQLite (files, tables, transactions).

use std::sync::Arc;

use tempfile::TempDir;

use super::*;
use crate::storage::conformance::Backend;

/// A temporary data directory.
struct SqliteBackend(TempDir);

impl Backend for SqliteBackend {
    fn create() -> Self {
        Self(tempfile::tempdir().unwrap())
    }

    fn open(&self) -> Arc<dyn ServerStore> {
        Arc::new(SqliteStore::open(self.0.path().join("data")).unwrap())
    }
}

mod conformance {
    use super::SqliteBackend;

    server_store_conformance!(SqliteBackend);
}

fn open_in(dir: &TempDir) -> SqliteStore {
    SqliteStore::open(dir.path().join("data")).unwrap()
}

fn device(dir: &TempDir, name: &str) -> lynchpin_core::Store {
    lynchpin_core::Store::open(
        dir.path().join(name),
        &lynchpin_core::StoreKey::new([2; 32]),
    )
    .unwrap()
}

fn plan(device: &lynchpin_core::Store) -> DocumentId {
    device
        .create_care_plan(&lynchpin_core::CarePlanDetails {
            subject_name: "Ari".into(),
            status: lynchpin_core::PlanStatus::Active,
            period_start: None,
            period_end: None,
            next_review: None,
        })
        .unwrap()
}

fn count(store: &SqliteStore, sql: &str) -> i64 {
    store.with_conn(|conn| conn.query_row(sql, [], |row| row.get(0)).unwrap())
}

#[test]
fn a_request_that_fails_midway_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = open_in(&dir);
    let a = device(&dir, "a.db");
    let a_id = a.device_id();
    let first = plan(&a);
    a.sync_with(server.server_id(), lynchpin_core::SyncScope::All, |r| {
        server.sync(&a_id, &r, crate::now_ms())
    })
    .unwrap();
    assert_eq!(count(&server, "SELECT count(*) FROM documents"), 1);
    let clock = count(&server, "SELECT value FROM clock");
    // The server's sync state for the first plan becomes unreadable.
    server.with_conn(|conn| {
        conn.execute("UPDATE sync_states SET state = x'ff'", [])
            .unwrap()
    });
    // The next request carries a new plan first, then the damaged one.
    let second = plan(&a);
    a.add_safety_item(&first, lynchpin_core::SafetyList::WarningSigns, "x")
        .unwrap();
    let (_session, request) = a
        .start_sync(server.server_id(), lynchpin_core::SyncScope::All)
        .unwrap();
    let order: Vec<_> = lynchpin_core::sync::wire::Request::decode(&request)
        .unwrap()
        .docs
        .iter()
        .map(|d| d.id)
        .collect();
    assert_eq!(order, [second, first]);
    assert!(matches!(
        server.sync(&a_id, &request, crate::now_ms()),
        Err(StorageError::Corrupt { what: "sync state" })
    ));
    // The new plan was applied before the failure, and rolled back with it.
    assert_eq!(count(&server, "SELECT count(*) FROM documents"), 1);
    assert_eq!(count(&server, "SELECT count(*) FROM snapshots"), 1);
    assert_eq!(count(&server, "SELECT count(*) FROM changes"), 0);
    assert_eq!(count(&server, "SELECT value FROM clock"), clock);
    // The store is still usable.
    assert!(server.is_enrolled(&a_id).is_ok());
}

#[test]
fn increments_are_compacted_into_snapshots() {
    let dir = tempfile::tempdir().unwrap();
    let server = open_in(&dir);
    let a = device(&dir, "a.db");
    let a_id = a.device_id();
    let doc = plan(&a);
    let mut most = 0;
    for i in 0..90 {
        a.add_safety_item(
            &doc,
            lynchpin_core::SafetyList::WarningSigns,
            &format!("{i}"),
        )
        .unwrap();
        a.sync_with(server.server_id(), lynchpin_core::SyncScope::All, |r| {
            server.sync(&a_id, &r, crate::now_ms())
        })
        .unwrap();
        most = most.max(count(&server, "SELECT count(*) FROM changes"));
    }
    assert!(most > 0, "increments are stored as such first");
    assert!(most <= 64, "{most} increments were never compacted");
    assert_eq!(count(&server, "SELECT count(*) FROM snapshots"), 1);
    // Every request that stored something bumped the clock: the first one
    // created the plan (with its first item), each later one added an item.
    assert_eq!(count(&server, "SELECT value FROM clock"), 90);
}

#[test]
fn the_database_is_durable_and_private() {
    let dir = tempfile::tempdir().unwrap();
    let server = open_in(&dir);
    let (mode, sync, fks): (String, i64, i64) = server.with_conn(|conn| {
        (
            conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))
                .unwrap(),
            conn.query_row("PRAGMA synchronous", [], |r| r.get(0))
                .unwrap(),
            conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0))
                .unwrap(),
        )
    });
    assert_eq!(mode, "wal");
    assert_eq!(sync, 2, "synchronous = FULL");
    assert_eq!(fks, 1);
    assert_eq!(server.path(), dir.path().join("data").join(DATABASE_FILE));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("data"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700);
    }
}

#[test]
fn other_databases_are_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    // A device store is an SQLite file too.
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let file = data.join(DATABASE_FILE);
    drop(lynchpin_core::Store::open(&file, &lynchpin_core::StoreKey::new([1; 32])).unwrap());
    let before = std::fs::read(&file).unwrap();
    assert!(matches!(
        SqliteStore::open(&data),
        Err(OpenError::NotAServerDatabase)
    ));
    assert_eq!(std::fs::read(&file).unwrap(), before);

    // A server database from a newer build.
    let newer = dir.path().join("newer");
    drop(SqliteStore::open(&newer).unwrap());
    let conn = Connection::open(newer.join(DATABASE_FILE)).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    assert!(matches!(
        SqliteStore::open(&newer),
        Err(OpenError::NewerSchema {
            found: 99,
            supported: 2
        })
    ));
}

#[test]
fn the_server_key_is_the_server_id() {
    let dir = tempfile::tempdir().unwrap();
    let server = open_in(&dir);
    let secret: Vec<u8> = server.with_conn(|conn| {
        conn.query_row(
            "SELECT value FROM meta WHERE name = 'server_key'",
            [],
            |r| r.get(0),
        )
        .unwrap()
    });
    let key = SigningKey::from_bytes(&secret.try_into().unwrap());
    assert_eq!(
        key.verifying_key().to_bytes(),
        *server.server_id().as_bytes()
    );
}
