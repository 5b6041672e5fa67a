//! Opening a store file: checks first, writes after.
//!
//! The order matters. Nothing is written until the file has been shown to be
//! a readable Lynchpin store of a known schema whose key check opens with the
//! given key; a corrupt file, another application's database or a wrong key
//! is reported and left exactly as it was. Only then are the pragmas that
//! write (WAL) set, the schema migrated and the device key created.
//!
//! Also here: [`StoreOptions`] and the [`Durability`] they choose, which is
//! SQLite's `synchronous` setting for the rest of the connection.

use std::{path::Path, time::Duration};

use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension};

use super::schema;
use crate::{
    OpenError, StoreKey,
    crypto::{DeviceKey, Sealer},
    error::OpenStep,
};

const KEY_CHECK: &[u8] = b"lynchpin store key check v1";

/// How much an edit survives once its call has returned. Every edit is one
/// SQLite transaction in WAL mode; the choice is whether its commit waits for
/// the disk (`fsync`) before the call returns.
///
/// Whatever the choice, the file is never left corrupt: after a crash of any
/// kind SQLite recovers it to the last commit that reached the disk, a
/// consistent state that holds every edit before it and none after
/// (provided the storage keeps the promises of `fsync`, as SQLite assumes).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Durability {
    /// An edit that returned survives the process being killed *and* the
    /// device losing power or its operating system crashing
    /// (`synchronous = FULL`: each commit ends with an `fsync` of the WAL).
    ///
    /// The cost is one `fsync` per edit, which is most of an edit's time on
    /// slow storage: 0.2–4 ms on the benchmark machine (BENCHMARKS.md), and
    /// it varies widely between phones.
    #[default]
    Full,
    /// An edit that returned survives the process being killed or crashing,
    /// as DESIGN.md promises, but not necessarily a power cut or an operating
    /// system crash (`synchronous = NORMAL`: a commit is written to the WAL
    /// but not synced; the WAL is synced when SQLite checkpoints it, about
    /// every 4 MB of writes, and when the store is closed).
    ///
    /// After a power cut the store comes back as it was at some earlier
    /// moment: the edits made since the WAL was last synced may be gone, all
    /// of them after a point and none before it. What has left the device
    /// is never among them: before [`Store::export`](crate::Store::export)
    /// or a sync call returns bytes to send, the store syncs every commit to
    /// disk, so a change another device holds is never lost here. (Losing
    /// one would let this device write a different change under the same
    /// Automerge sequence number, which no replica would accept.)
    ProcessCrash,
}

impl Durability {
    fn synchronous(self) -> &'static str {
        match self {
            Self::Full => "FULL",
            Self::ProcessCrash => "NORMAL",
        }
    }
}

/// How [`Store::open_with`](crate::Store::open_with) opens a store.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct StoreOptions {
    /// What an edit survives once its call has returned; [`Durability::Full`]
    /// unless chosen otherwise.
    pub durability: Durability,
}

pub(super) struct Opened {
    pub(super) conn: Connection,
    pub(super) sealer: Sealer,
    pub(super) device: DeviceKey,
    pub(super) durability: Durability,
}

/// Maps a SQLite error to the open error an app can act on.
fn classify(step: OpenStep) -> impl Fn(rusqlite::Error) -> OpenError {
    move |error| match error.sqlite_error_code() {
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => OpenError::Corrupt { step },
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => OpenError::Locked,
        _ => OpenError::Sqlite {
            step,
            source: error,
        },
    }
}

fn meta_aad(name: &str) -> Vec<u8> {
    [b"meta:".as_slice(), name.as_bytes()].concat()
}

pub(super) fn open(
    path: &Path,
    key: &StoreKey,
    options: StoreOptions,
) -> Result<Opened, OpenError> {
    open_at_version(path, key, options, schema::latest_version())
}

/// Opens the store, migrating it to `target` (below the latest only in tests
/// that build stores of older versions).
pub(super) fn open_at_version(
    path: &Path,
    key: &StoreKey,
    options: StoreOptions,
    target: i64,
) -> Result<Opened, OpenError> {
    let mut conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(classify(OpenStep::OpenFile))?;
    conn.busy_timeout(Duration::from_millis(250))
        .map_err(classify(OpenStep::OpenFile))?;
    // One process owns the store: its actor id must never write from two
    // places at once. The lock is held until the connection closes.
    conn.query_row("PRAGMA locking_mode = EXCLUSIVE", [], |_| Ok(()))
        .map_err(classify(OpenStep::OpenFile))?;

    let read = classify(OpenStep::ReadHeader);
    let tables: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_master", [], |row| row.get(0))
        .map_err(&read)?;
    let fresh = tables == 0;
    let sealer = Sealer::new(key);

    if !fresh {
        let app_id: i64 = conn
            .query_row("PRAGMA application_id", [], |row| row.get(0))
            .map_err(&read)?;
        if app_id != schema::APPLICATION_ID {
            return Err(OpenError::NotAStore);
        }
        let version = schema::version(&conn).map_err(&read)?;
        if version > schema::latest_version() {
            return Err(OpenError::NewerSchema {
                found: version,
                supported: schema::latest_version(),
            });
        }
        check_integrity(&conn)?;
    }
    let has_key_check = !fresh && check_key(&conn, &sealer)?;

    // From here on the file is ours and the key is right: writing is safe.
    if fresh {
        // Must precede the first write transaction, even an empty one: that
        // writes the file header, and with it the auto-vacuum mode, for good.
        // Without it freed pages are never returned to the file system.
        conn.execute_batch("PRAGMA auto_vacuum = INCREMENTAL;")
            .map_err(classify(OpenStep::Migrate))?;
    }
    // Take the write lock now so that a second opener fails fast.
    conn.execute_batch("BEGIN EXCLUSIVE; COMMIT;")
        .map_err(classify(OpenStep::OpenFile))?;
    set_pragmas(&conn)?;
    schema::migrate_to(&mut conn, target).map_err(classify(OpenStep::Migrate))?;
    if !has_key_check {
        let check = sealer.seal(&meta_aad("key_check"), KEY_CHECK)?;
        conn.execute(
            "INSERT INTO meta (name, value) VALUES ('key_check', ?1)",
            [check],
        )
        .map_err(classify(OpenStep::CheckKey))?;
    }
    let device = load_or_create_device_key(&conn, &sealer)?;
    // The schema, the key check and the device key were committed with
    // FULL whatever the choice: a device identity that may have been sent
    // somewhere is never lost.
    set_durability(&conn, options.durability)?;
    Ok(Opened {
        conn,
        sealer,
        device,
        durability: options.durability,
    })
}

fn set_pragmas(conn: &Connection) -> Result<(), OpenError> {
    let step = classify(OpenStep::OpenFile);
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
        .map_err(&step)?;
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::warn!(%mode, "WAL journal mode unavailable");
    }
    // FULL while opening; `set_durability` sets the store's choice after.
    conn.execute_batch(
        "PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA temp_store = 2;
         PRAGMA journal_size_limit = 4194304;",
    )
    .map_err(&step)?;
    Ok(())
}

fn set_durability(conn: &Connection, durability: Durability) -> Result<(), OpenError> {
    conn.execute_batch(&format!(
        "PRAGMA synchronous = {};",
        durability.synchronous()
    ))
    .map_err(classify(OpenStep::OpenFile))?;
    tracing::debug!(?durability, "store durability set");
    Ok(())
}

/// A quick structural check of the whole file, so that a truncated or
/// damaged store is reported at open and not half-way through a session.
fn check_integrity(conn: &Connection) -> Result<(), OpenError> {
    let step = OpenStep::CheckIntegrity;
    let mut stmt = conn.prepare("PRAGMA quick_check").map_err(classify(step))?;
    let results: Vec<String> = stmt
        .query_map([], |row| row.get(0))
        .map_err(classify(step))?
        .collect::<Result<_, _>>()
        .map_err(classify(step))?;
    if results.as_slice() == ["ok"] {
        Ok(())
    } else {
        tracing::error!(problems = results.len(), "store failed its integrity check");
        Err(OpenError::Corrupt { step })
    }
}

/// Whether the key opens the store's key check. A store without a key check
/// is accepted only if it holds no documents yet (a first open that stopped
/// before writing one); it gets one sealed with this key.
fn check_key(conn: &Connection, sealer: &Sealer) -> Result<bool, OpenError> {
    let step = classify(OpenStep::CheckKey);
    let sealed: Option<Vec<u8>> = conn
        .query_row(
            "SELECT value FROM meta WHERE name = 'key_check'",
            [],
            |row| row.get(0),
        )
        .optional()
        .map_err(&step)?;
    let Some(sealed) = sealed else {
        let documents: i64 = conn
            .query_row("SELECT count(*) FROM documents", [], |row| row.get(0))
            .map_err(&step)?;
        return if documents == 0 {
            Ok(false)
        } else {
            Err(OpenError::Corrupt {
                step: OpenStep::CheckKey,
            })
        };
    };
    match sealer.open(&meta_aad("key_check"), &sealed) {
        Ok(plain) if plain == KEY_CHECK => Ok(true),
        _ => Err(OpenError::WrongKey),
    }
}

fn load_or_create_device_key(conn: &Connection, sealer: &Sealer) -> Result<DeviceKey, OpenError> {
    let step = classify(OpenStep::LoadDeviceKey);
    let aad = meta_aad("device_key");
    let sealed: Option<Vec<u8>> = conn
        .query_row(
            "SELECT value FROM meta WHERE name = 'device_key'",
            [],
            |row| row.get(0),
        )
        .optional()
        .map_err(&step)?;
    if let Some(sealed) = sealed {
        let secret = zeroize::Zeroizing::new(sealer.open(&aad, &sealed).map_err(|_| {
            OpenError::Corrupt {
                step: OpenStep::LoadDeviceKey,
            }
        })?);
        let secret: &[u8; 32] = secret
            .as_slice()
            .try_into()
            .map_err(|_| OpenError::Corrupt {
                step: OpenStep::LoadDeviceKey,
            })?;
        return Ok(DeviceKey::from_secret(secret));
    }
    let device = DeviceKey::generate()?;
    let sealed = sealer.seal(&aad, device.secret_bytes().as_slice())?;
    conn.execute(
        "INSERT INTO meta (name, value) VALUES ('device_key', ?1)",
        [sealed],
    )
    .map_err(&step)?;
    tracing::info!(device = ?device.device_id(), "device key created");
    Ok(device)
}
