//! [`SqliteStore`]: the [`ServerStore`] on an embedded SQLite database, the
//! default backend, so that one command starts a server.
//!
//! This file holds opening (directory, pragmas, migrations, the server key)
//! and the small operations: invites, devices, nonces. The sync engine's
//! [`Host`](lynchpin_core::sync::Host) over the document tables lives in
//! `sqlite/host.rs`, the schema in `sqlite/schema.rs`.
//!
//! One connection serves the process, behind a mutex: SQLite has one writer
//! at a time anyway, and every sync request writes. Another process (the
//! `invite` command) may write at the same time; the busy timeout makes
//! each side wait for the other.

mod host;
mod schema;

use std::{
    path::{Path, PathBuf},
    sync::{Mutex, MutexGuard, PoisonError},
    time::Duration,
};

use ed25519_dalek::SigningKey;
use lynchpin_core::{DeviceId, DocumentId, Role};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::{
    AccessAction, AccessRecord, Enrollment, NewInvite, Purged, ServerStore, StorageError, db_time,
};

/// The database file's name inside the data directory.
pub const DATABASE_FILE: &str = "lynchpin-server.db";

/// How long a write waits for another process's write before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

impl From<rusqlite::Error> for StorageError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Database(Box::new(e))
    }
}

/// Why the database could not be opened. Nothing on disk is deleted or
/// overwritten when opening fails.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The data directory could not be created.
    #[error("could not create the data directory")]
    Directory(#[source] std::io::Error),
    /// SQLite failed at a step of opening.
    #[error("could not open the server database ({step})")]
    Sqlite {
        /// The step that failed.
        step: &'static str,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },
    /// The file is some other SQLite database (a device store, say).
    #[error("the file is not a Lynchpin server database")]
    NotAServerDatabase,
    /// The file was written by a newer server.
    #[error("the database has schema version {found}; this server knows up to {supported}")]
    NewerSchema {
        /// The file's version.
        found: i64,
        /// The newest this build knows.
        supported: i64,
    },
    /// The stored server key or epoch is unreadable.
    #[error("stored {what} is corrupt")]
    Corrupt {
        /// What could not be read.
        what: &'static str,
    },
    /// The system's random number generator failed.
    #[error("the system random number generator is unavailable")]
    Randomness,
}

fn step(step: &'static str) -> impl FnOnce(rusqlite::Error) -> OpenError {
    move |source| OpenError::Sqlite { step, source }
}

fn random<const N: usize>() -> Result<[u8; N], OpenError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|_| OpenError::Randomness)?;
    Ok(bytes)
}

/// The server's storage in one SQLite file.
pub struct SqliteStore {
    conn: Mutex<Connection>,
    server_id: DeviceId,
    epoch: [u8; 16],
    path: PathBuf,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens the database in the data directory `dir`, creating the
    /// directory (readable by its owner only) and the database if needed.
    /// The first open generates the server's key and epoch.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, OpenError> {
        let dir = dir.as_ref();
        create_private_dir(dir).map_err(OpenError::Directory)?;
        let path = dir.join(DATABASE_FILE);
        let mut conn = Connection::open(&path).map_err(step("open the file"))?;
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(step("set the busy timeout"))?;
        check_application(&conn)?;
        configure(&conn)?;
        let found = schema::version(&conn).map_err(step("read the schema version"))?;
        if found > schema::latest_version() {
            return Err(OpenError::NewerSchema {
                found,
                supported: schema::latest_version(),
            });
        }
        schema::migrate(&mut conn).map_err(step("migrate the schema"))?;
        let secret: [u8; 32] = meta_or_insert(&mut conn, "server_key", random()?, "server key")?;
        let key = SigningKey::from_bytes(&secret);
        let server_id = DeviceId::from_slice(&key.verifying_key().to_bytes())
            .ok_or(OpenError::Corrupt { what: "server key" })?;
        let epoch = meta_or_insert(&mut conn, "epoch", random()?, "epoch")?;
        tracing::debug!(schema = schema::latest_version(), "server database opened");
        Ok(Self {
            conn: Mutex::new(conn),
            server_id,
            epoch,
            path,
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // Every write runs in a transaction that rolls back when dropped, so
        // a panic while the lock was held leaves nothing half-written.
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` on the connection (tests inspect and damage the tables).
    #[cfg(test)]
    pub(crate) fn with_conn<R>(&self, f: impl FnOnce(&Connection) -> R) -> R {
        f(&self.lock())
    }
}

/// Creates the data directory; on Unix a new one is readable by its owner
/// only, since the database holds the server's secret key.
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Refuses a file that is another kind of SQLite database.
fn check_application(conn: &Connection) -> Result<(), OpenError> {
    let id: i64 = conn
        .query_row("PRAGMA application_id", [], |row| row.get(0))
        .map_err(step("read the application id"))?;
    if id == schema::APPLICATION_ID {
        return Ok(());
    }
    let tables: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_master", [], |row| row.get(0))
        .map_err(step("read the schema"))?;
    if id == 0 && tables == 0 {
        Ok(())
    } else {
        Err(OpenError::NotAServerDatabase)
    }
}

fn configure(conn: &Connection) -> Result<(), OpenError> {
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
        .map_err(step("enable WAL"))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(OpenError::Sqlite {
            step: "enable WAL",
            source: rusqlite::Error::InvalidQuery,
        });
    }
    // FULL, not NORMAL: with NORMAL a power cut may drop the last commits.
    // The database would stay consistent, but the change clock would go
    // back, and a device holding a cursor from before the cut would then
    // skip documents that are later stamped with clock values it believes
    // it has seen. Durability of every acknowledged answer is worth an fsync.
    conn.execute_batch(
        "PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA temp_store = 2;
         PRAGMA journal_size_limit = 67108864;",
    )
    .map_err(step("set pragmas"))
}

/// Reads a fixed-size value from `meta`, storing `fresh` first if there is
/// none (in one immediate transaction, so two processes agree).
fn meta_or_insert<const N: usize>(
    conn: &mut Connection,
    name: &str,
    fresh: [u8; N],
    what: &'static str,
) -> Result<[u8; N], OpenError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(step("begin"))?;
    tx.execute(
        "INSERT INTO meta (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING",
        params![name, fresh.as_slice()],
    )
    .map_err(step("store the server key and epoch"))?;
    let stored: Vec<u8> = tx
        .query_row("SELECT value FROM meta WHERE name = ?1", [name], |row| {
            row.get(0)
        })
        .map_err(step("read the server key and epoch"))?;
    tx.commit().map_err(step("commit"))?;
    stored
        .as_slice()
        .try_into()
        .map_err(|_| OpenError::Corrupt { what })
}

impl ServerStore for SqliteStore {
    fn server_id(&self) -> DeviceId {
        self.server_id
    }

    fn epoch(&self) -> Result<[u8; 16], StorageError> {
        Ok(self.epoch)
    }

    fn create_invite(&self, invite: &NewInvite) -> Result<(), StorageError> {
        self.lock()
            .prepare_cached(
                "INSERT INTO invites (code_hash, label, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![
                invite.code_hash.as_slice(),
                invite.label,
                db_time(invite.created_ms),
                db_time(invite.expires_ms)
            ])?;
        Ok(())
    }

    fn enroll(
        &self,
        code_hash: &[u8; 32],
        device: &DeviceId,
        now_ms: u64,
    ) -> Result<Enrollment, StorageError> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // The guard in the WHERE clause makes consuming atomic: of two
        // enrolments with one code, the second finds it used.
        let label: Option<Option<String>> = tx
            .prepare_cached(
                "UPDATE invites SET used_at = ?1, used_by = ?2
                 WHERE code_hash = ?3 AND used_at IS NULL AND expires_at > ?1
                 RETURNING label",
            )?
            .query_row(
                params![db_time(now_ms), device.as_bytes(), code_hash.as_slice()],
                |row| row.get(0),
            )
            .optional()?;
        let Some(label) = label else {
            return Ok(Enrollment::InviteInvalid);
        };
        let inserted = tx
            .prepare_cached(
                "INSERT INTO devices (id, enrolled_at, label) VALUES (?1, ?2, ?3)
                 ON CONFLICT (id) DO NOTHING",
            )?
            .execute(params![device.as_bytes(), db_time(now_ms), label])?;
        tx.commit()?;
        Ok(Enrollment::Enrolled {
            already: inserted == 0,
        })
    }

    fn is_enrolled(&self, device: &DeviceId) -> Result<bool, StorageError> {
        Ok(self
            .lock()
            .prepare_cached("SELECT 1 FROM devices WHERE id = ?1")?
            .exists([device.as_bytes()])?)
    }

    fn record_nonce(
        &self,
        device: &DeviceId,
        nonce: &[u8; 16],
        expires_ms: u64,
        now_ms: u64,
    ) -> Result<bool, StorageError> {
        // An expired row that was not purged yet does not count as seen.
        let changed = self
            .lock()
            .prepare_cached(
                "INSERT INTO nonces (device_id, nonce, expires_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (device_id, nonce) DO UPDATE SET expires_at = excluded.expires_at
                 WHERE nonces.expires_at < ?4",
            )?
            .execute(params![
                device.as_bytes(),
                nonce.as_slice(),
                db_time(expires_ms),
                db_time(now_ms)
            ])?;
        Ok(changed == 1)
    }

    fn purge_expired(&self, now_ms: u64) -> Result<Purged, StorageError> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let nonces = tx
            .prepare_cached("DELETE FROM nonces WHERE expires_at < ?1")?
            .execute([db_time(now_ms)])?;
        let invites = tx
            .prepare_cached("DELETE FROM invites WHERE expires_at < ?1")?
            .execute([db_time(now_ms)])?;
        tx.commit()?;
        Ok(Purged { nonces, invites })
    }

    fn sync(&self, peer: &DeviceId, request: &[u8], now_ms: u64) -> Result<Vec<u8>, StorageError> {
        let mut conn = self.lock();
        // One write transaction for the whole request: if anything fails,
        // dropping it rolls back and the request stored nothing.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let response = {
            let mut host = host::SqliteHost::new(&tx, self.epoch, now_ms);
            lynchpin_core::sync::respond(&mut host, peer, request)?
        };
        tx.commit()?;
        Ok(response)
    }

    fn role(&self, device: &DeviceId, doc: &DocumentId) -> Result<Option<Role>, StorageError> {
        let code: Option<i64> = self
            .lock()
            .prepare_cached("SELECT role FROM access WHERE device_id = ?1 AND doc_id = ?2")?
            .query_row(params![device.as_bytes(), doc.as_bytes()], |row| row.get(0))
            .optional()?;
        code.map(|code| host::role_from_code(code).ok_or(StorageError::Corrupt { what: "role" }))
            .transpose()
    }

    fn access_log(
        &self,
        doc: &DocumentId,
        limit: usize,
    ) -> Result<Vec<AccessRecord>, StorageError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT device_id, action, at FROM access_log WHERE doc_id = ?1
             ORDER BY at DESC, id DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(
            params![doc.as_bytes(), i64::try_from(limit).unwrap_or(i64::MAX)],
            |row| {
                Ok((
                    row.get::<_, Vec<u8>>(0)?,
                    row.get::<_, i64>(1)?,
                    row.get::<_, i64>(2)?,
                ))
            },
        )?;
        let corrupt = || StorageError::Corrupt { what: "access log" };
        let mut out = Vec::new();
        for row in rows {
            let (device, action, at) = row?;
            out.push(AccessRecord {
                device: DeviceId::from_slice(&device).ok_or_else(corrupt)?,
                action: match action {
                    1 => AccessAction::Read,
                    2 => AccessAction::Write,
                    _ => return Err(corrupt()),
                },
                at_ms: u64::try_from(at).map_err(|_| corrupt())?,
            });
        }
        Ok(out)
    }

    fn purge_access_log(&self, before_ms: u64) -> Result<usize, StorageError> {
        Ok(self
            .lock()
            .prepare_cached("DELETE FROM access_log WHERE at < ?1")?
            .execute([db_time(before_ms)])?)
    }
}

#[cfg(test)]
mod tests;
