//! Store footprint, not timings: (c) the database size after 10,000 edits
//! against the size of the documents' own `save()`, and (d) the peak memory
//! of a cold open that reads the safety plan, measured in a fresh process.
//!
//! Run with `cargo bench -p lynchpin-core --bench footprint`. For (d) this
//! binary starts itself again as a child (selected by the environment
//! variable `LYNCHPIN_BENCH_CHILD`) and reads the child's `VmHWM` from
//! `/proc/self/status` (Linux), so that the fixture generation in the
//! parent does not count. Results and targets are in BENCHMARKS.md.

#![allow(clippy::print_stdout)]

mod common;

use std::{
    fs,
    path::Path,
    process::Command,
    time::{Duration, Instant},
};

use lynchpin_core::{CheckInDetails, DocumentKind, Store, generate};

/// Selects what a child process does: `baseline` or `open:<path>`.
const CHILD_ENV: &str = "LYNCHPIN_BENCH_CHILD";
/// Edits in the size benchmark.
const EDITS: usize = 10_000;
/// Fresh processes per memory measurement; the median is reported.
const RUNS: usize = 5;

fn main() {
    if let Ok(mode) = std::env::var(CHILD_ENV) {
        child(&mode);
        return;
    }
    // `cargo bench` passes `--bench`; `cargo test --benches` does not, and
    // this takes far too long for a test run.
    if !std::env::args().any(|a| a == "--bench") {
        println!("footprint: skipped (run it with `cargo bench`)");
        return;
    }
    database_size();
    peak_memory();
}

/// (c) Database size after 10,000 edits of realistic kinds: a two-year care
/// plan with 110 meetings, a 2,000-resource directory, and a journal of
/// check-ins and notes making up the rest.
fn database_size() {
    println!("== (c) database size after {EDITS} edits ==");
    let dir = common::temp_dir();
    let path = dir.path().join("size.lynchpin");
    let store = Store::open(&path, &common::key()).expect("open");
    let started = Instant::now();
    let plan = generate::two_year_plan(&store, common::SEED, common::MEETINGS).expect("plan");
    let directory = generate::directory(&store, common::SEED, common::RESOURCES).expect("dir");
    let plan_edits = common::count_changes(&store.export(&plan).expect("export"));
    let directory_edits = common::count_changes(&store.export(&directory).expect("export"));
    let journal = store.create_journal().expect("journal");
    let mut rng = generate::Rng::new(common::SEED);
    let journal_edits = EDITS - plan_edits - directory_edits;
    for i in 1..journal_edits {
        if i % 4 == 0 {
            let title = format!("Week {}", i / 4);
            let body = generate::sentence(&mut rng, 40);
            store
                .add_journal_note(&journal, &title, &body)
                .expect("note");
        } else {
            let details = CheckInDetails {
                mood: rng.below(11) as u8,
                feelings: vec![generate::sentence(&mut rng, 1).trim_end_matches('.').into()],
                note: generate::sentence(&mut rng, 8),
            };
            store.add_check_in(&journal, &details).expect("check-in");
        }
    }
    let elapsed = started.elapsed();
    let journal_edits = common::count_changes(&store.export(&journal).expect("export"));
    let total_edits = plan_edits + directory_edits + journal_edits;
    println!(
        "edits: care plan {plan_edits}, directory {directory_edits}, journal {journal_edits}, \
         total {total_edits} (generated in {:.1} s, {:.2} ms per edit on average)",
        elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1e3 / total_edits as f64
    );
    let mut exports = 0u64;
    for (name, id) in [
        ("care plan", plan),
        ("directory", directory),
        ("journal", journal),
    ] {
        let len = store.export(&id).expect("export").len() as u64;
        println!("save() of the {name}: {len} bytes");
        exports += len;
    }
    println!("sum of save(): {exports} bytes");
    report_files("store open", &path, exports);
    drop(store);
    report_files("store closed", &path, exports);
    report_pages(&path);

    // For context: the same file after compacting every document.
    let store = Store::open(&path, &common::key()).expect("reopen");
    store.compact().expect("compact");
    drop(store);
    report_files("after Store::compact, closed", &path, exports);
    report_pages(&path);
}

fn report_files(when: &str, path: &Path, exports: u64) {
    let db = common::file_len(path);
    let wal = common::file_len(&common::wal_path(path));
    println!(
        "{when}: database {db} bytes, WAL {wal} bytes, total {} bytes, ratio {:.3} \
         (database alone {:.3})",
        db + wal,
        (db + wal) as f64 / exports as f64,
        db as f64 / exports as f64,
    );
}

/// Where the database's pages go, read directly with SQLite.
fn report_pages(path: &Path) {
    let conn = rusqlite::Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .expect("open read-only");
    let pragma = |name: &str| -> i64 {
        conn.query_row(&format!("PRAGMA {name}"), [], |row| row.get(0))
            .expect("pragma")
    };
    let count = |sql: &str| -> i64 { conn.query_row(sql, [], |row| row.get(0)).expect("count") };
    println!(
        "  pages: size {} bytes, {} pages, {} free; snapshots {} ({} blob bytes), \
         changes {} ({} blob bytes)",
        pragma("page_size"),
        pragma("page_count"),
        pragma("freelist_count"),
        count("SELECT count(*) FROM snapshots"),
        count("SELECT coalesce(sum(length(blob)), 0) FROM snapshots"),
        count("SELECT count(*) FROM changes"),
        count("SELECT coalesce(sum(length(blob)), 0) FROM changes"),
    );
}

/// (d) Peak resident memory of a fresh process that opens the (b) fixture
/// and reads the safety plan, next to a process that only starts.
fn peak_memory() {
    println!("== (d) peak memory of a cold open ==");
    let fixture = common::build_fixture();
    println!(
        "fixture: care plan {} changes, directory {} changes, database {} bytes",
        fixture.plan_changes,
        fixture.directory_changes,
        common::file_len(&fixture.path)
    );
    let exe = std::env::current_exe().expect("current exe");
    let path = fixture.path.to_str().expect("utf-8 path");
    for (label, mode) in [
        ("baseline (process start only)", "baseline".to_string()),
        ("cold open + safety plan", format!("open:{path}")),
        (
            "cold open + safety plan + directory",
            format!("open-all:{path}"),
        ),
    ] {
        let mut runs: Vec<(u64, u64, Duration)> = (0..RUNS)
            .map(|_| {
                let out = Command::new(&exe)
                    .env(CHILD_ENV, &mode)
                    .output()
                    .expect("run child");
                assert!(out.status.success(), "child failed: {out:?}");
                parse_child(&String::from_utf8_lossy(&out.stdout))
            })
            .collect();
        runs.sort_by_key(|r| r.0);
        let hwm: Vec<String> = runs.iter().map(|r| format!("{:.1}", mb(r.0))).collect();
        let (hwm_kb, rss_kb, time) = runs[RUNS / 2];
        println!(
            "{label}: peak RSS (VmHWM) median {:.1} MB [runs: {}], RSS at end {:.1} MB, \
             in-process time {:.1} ms",
            mb(hwm_kb),
            hwm.join(", "),
            mb(rss_kb),
            time.as_secs_f64() * 1e3,
        );
    }
    drop(fixture.dir);
}

fn mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

/// Runs in the child: does the work, then prints `hwm_kb rss_kb micros`.
fn child(mode: &str) {
    let started = Instant::now();
    if let Some(path) = mode.strip_prefix("open:") {
        open_and_read(Path::new(path), false);
    } else if let Some(path) = mode.strip_prefix("open-all:") {
        open_and_read(Path::new(path), true);
    }
    let elapsed = started.elapsed();
    let (hwm, rss) = status_memory();
    println!("{hwm} {rss} {}", elapsed.as_micros());
}

fn open_and_read(path: &Path, whole_directory: bool) {
    let store = Store::open(path, &common::key()).expect("open");
    let documents = store.documents().expect("documents");
    let plan = documents
        .iter()
        .find(|d| d.kind == DocumentKind::CarePlan)
        .expect("a care plan");
    let safety = store.safety_plan(&plan.id).expect("safety plan");
    assert!(!safety.warning_signs.is_empty());
    if whole_directory {
        let directory = documents
            .iter()
            .find(|d| d.kind == DocumentKind::ResourceDirectory)
            .expect("a directory");
        let resources = store.directory(&directory.id).expect("directory");
        std::hint::black_box(resources);
    }
}

/// `VmHWM` and `VmRSS` of this process, in kB.
fn status_memory() -> (u64, u64) {
    let status = fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    let field = |name: &str| -> u64 {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("a memory field")
    };
    (field("VmHWM:"), field("VmRSS:"))
}

fn parse_child(out: &str) -> (u64, u64, Duration) {
    let mut fields = out
        .split_whitespace()
        .map(|f| f.parse::<u64>().expect("number"));
    let mut next = || fields.next().expect("a field");
    (next(), next(), Duration::from_micros(next()))
}
