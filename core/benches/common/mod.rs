//! Fixtures shared by the store benchmarks: the store key, where fixture
//! files live, the two-year care plan plus 2,000-resource directory that the
//! cold-open and edit benchmarks use, and a change counter.
//!
//! Fixtures are written under Cargo's `CARGO_TARGET_TMPDIR` (on the target
//! directory's disk, so that fsync costs what it costs there) unless
//! `LYNCHPIN_BENCH_DIR` names another directory, and removed when their
//! [`TempDir`] is dropped.

// Each benchmark binary compiles this module and uses only part of it.
#![allow(dead_code)]

use std::{
    fs,
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use lynchpin_core::{DocumentId, Durability, Store, StoreKey, StoreOptions, generate};
use tempfile::TempDir;

/// The seed every fixture is generated from.
pub const SEED: u64 = 2026;
/// Review meetings in the two-year care plan: 110 make 5,068 edits (100
/// make 4,638), so that the plan holds at least 5,000.
pub const MEETINGS: usize = 110;
/// Resources in the directory.
pub const RESOURCES: usize = 2_000;

/// The key every benchmark store is sealed with.
pub fn key() -> StoreKey {
    StoreKey::new([7; 32])
}

/// A fresh, empty directory for store files: under `LYNCHPIN_BENCH_DIR` if
/// set (e.g. `/dev/shm`, to take the disk's fsync out of a measurement),
/// otherwise under Cargo's `CARGO_TARGET_TMPDIR`.
pub fn temp_dir() -> TempDir {
    let parent = std::env::var_os("LYNCHPIN_BENCH_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_TARGET_TMPDIR")), PathBuf::from);
    tempfile::Builder::new()
        .prefix("lynchpin-bench-")
        .tempdir_in(parent)
        .expect("create a temporary directory")
}

/// A closed store holding a two-year care plan and a resource directory.
pub struct Fixture {
    /// Keeps the files alive.
    pub dir: TempDir,
    /// The database file.
    pub path: PathBuf,
    /// The care plan.
    pub plan: DocumentId,
    /// Changes in the care plan (one per edit).
    pub plan_changes: usize,
    /// Changes in the directory (one per edit).
    pub directory_changes: usize,
    /// How long generating it took.
    pub build_time: Duration,
}

/// Generates the fixture: `two_year_plan(SEED, MEETINGS)` and
/// `directory(SEED, RESOURCES)` in one store, which is then closed (closing
/// checkpoints the WAL into the database file and syncs it). It is written
/// with `Durability::ProcessCrash`, without an fsync per edit, which
/// changes how long it takes and nothing in the file.
pub fn build_fixture() -> Fixture {
    let dir = temp_dir();
    let path = dir.path().join("fixture.lynchpin");
    let started = Instant::now();
    let options = StoreOptions {
        durability: Durability::ProcessCrash,
    };
    let store = Store::open_with(&path, &key(), options).expect("open the fixture store");
    let plan = generate::two_year_plan(&store, SEED, MEETINGS).expect("generate the care plan");
    let directory =
        generate::directory(&store, SEED, RESOURCES).expect("generate the resource directory");
    let build_time = started.elapsed();
    let plan_changes = count_changes(&store.export(&plan).expect("export the plan"));
    let directory_changes = count_changes(&store.export(&directory).expect("export the directory"));
    drop(store);
    Fixture {
        dir,
        path,
        plan,
        plan_changes,
        directory_changes,
        build_time,
    }
}

impl Fixture {
    /// Copies the closed fixture into a new directory, so that a benchmark
    /// can write to it without changing the original.
    pub fn copy(&self) -> (TempDir, PathBuf) {
        let dir = temp_dir();
        let path = dir.path().join("copy.lynchpin");
        copy_store(&self.path, &path);
        (dir, path)
    }
}

/// Copies a closed store file and its WAL, if one was left behind, and
/// flushes the copies to disk so that the flush is not paid by whatever
/// writes next.
pub fn copy_store(from: &Path, to: &Path) {
    let copy = |from: &Path, to: &Path| {
        fs::copy(from, to).expect("copy a store file");
        fs::File::open(to)
            .and_then(|f| f.sync_all())
            .expect("flush the copy");
    };
    copy(from, to);
    if wal_path(from).exists() {
        copy(&wal_path(from), &wal_path(to));
    }
}

/// The number of Automerge changes in a saved document: one per edit.
pub fn count_changes(saved: &[u8]) -> usize {
    automerge::Automerge::load(saved)
        .expect("load the exported document")
        .get_changes(&[])
        .len()
}

/// The size of a file in bytes, 0 if it does not exist.
pub fn file_len(path: &Path) -> u64 {
    fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// The path of a store's write-ahead log.
pub fn wal_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push("-wal");
    PathBuf::from(name)
}
