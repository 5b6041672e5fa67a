//! Crash safety: an edit that returned `Ok` survives the process being
//! killed, and the file stays a sound SQLite database — with either
//! durability: `Durability::Full` (an fsync per edit) and
//! `Durability::ProcessCrash` (no fsync per edit), one test each.
//!
//! The `edit-stream` binary edits a store in a loop and acknowledges each
//! edit on stdout once the call has returned. This test runs it again and
//! again against the same file and kills it with SIGKILL at seeded random
//! moments: while it starts and opens the store, right after an
//! acknowledgement, in the middle of an edit (after a short sleep), and in
//! compactions. For those it reads from the file how close each document is
//! to its compaction threshold, waits for an edit that runs much slower
//! than the ones before, and kills it at once or as it starts writing its
//! commit. After every kill it reopens the store and checks that every
//! acknowledged edit is there, that nothing was applied twice and that
//! nothing appeared that no run attempted, then runs SQLite's
//! `PRAGMA integrity_check` on the file.
//!
//! A killed process is not a lost power supply: what it wrote reaches the
//! disk even if it never synced, so this test says nothing about `fsync`,
//! and that is why both durabilities must pass it.
//!
//! Reading a document back costs about a millisecond per edit in a debug
//! build, so the stream moves to a fresh care plan and journal (an "epoch")
//! every 100 edits or so, which bounds the cost of each check.
//! Finished epochs are checked in full once, when they end, and after every
//! later kill by comparing their stored rows byte for byte: a document
//! whose sealed rows are unchanged reads back unchanged. At the end every
//! epoch is read back in full again.
//!
//! `LYNCHPIN_CRASH_ITERATIONS` raises the number of kills per test (never
//! below 200).

#![cfg(unix)]
#![allow(clippy::print_stderr)]

use std::{
    collections::{BTreeMap, BTreeSet},
    io::{BufRead, BufReader, Read},
    os::unix::process::ExitStatusExt,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

use lynchpin_core::{DocumentId, Durability, Store, crypto::SEAL_OVERHEAD, generate::Rng};
use lynchpin_tests::{
    edits::{self, Found, Targets},
    key, key_to_hex,
};
use rusqlite::Connection;

const MIN_ITERATIONS: usize = 200;
const SIGKILL: i32 = 9;
/// Edits per epoch: enough for each care plan to compact a few times.
const EPOCH_EDITS: usize = 100;

/// The store compacts a document once its increments reach a quarter of its
/// snapshot, and never below 16 KiB (`store/mod.rs`). Only used to aim kills:
/// if this drifts from the store, fewer kills land in compactions, and the
/// counts printed at the end show it.
const COMPACT_FRACTION: usize = 4;
const COMPACT_MIN_BYTES: usize = 16 * 1024;
/// Aim at a compaction when a document is this close to its threshold: some
/// twenty edits away.
const AIM_WITHIN_BYTES: usize = 8 * 1024;

fn iterations() -> usize {
    std::env::var("LYNCHPIN_CRASH_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(MIN_ITERATIONS)
        .max(MIN_ITERATIONS)
}

/// When to kill a run.
#[derive(Debug, Clone, Copy)]
enum Kill {
    /// After `acks` acknowledgements, and `pause` later.
    After { acks: u64, pause: Duration },
    /// Once an edit takes much longer than the ones before it — as the one
    /// that compacts a document does — either at once (while the compaction
    /// saves the document) or, `at_commit`, at the first write to the WAL
    /// after that, which is the compaction committing; then `pause` later.
    /// After `acks` acknowledgements if no edit is slow.
    WhenSlow {
        acks: u64,
        at_commit: bool,
        pause: Duration,
    },
}

fn millis(rng: &mut Rng, below: usize) -> Duration {
    Duration::from_micros(rng.below(below * 1_000) as u64)
}

impl Kill {
    /// Anything from 0 to 40 acknowledgements; most runs are short, so that
    /// there are many kills near the start of a run and 200 kills take
    /// about a minute in a debug build. With nothing to wait for, the kill lands while the
    /// process starts, opens the store or makes its first edit; otherwise
    /// right after an acknowledgement or in the middle of the next edit.
    fn random(rng: &mut Rng) -> Self {
        let acks = if rng.chance(70) {
            rng.below(5)
        } else {
            rng.below(41)
        } as u64;
        let pause = if acks == 0 {
            millis(rng, 150)
        } else if rng.chance(50) {
            millis(rng, 20)
        } else {
            Duration::ZERO
        };
        Self::After { acks, pause }
    }
}

/// An edit is slow when it takes this many times the fastest of the run.
const SLOW_FACTOR: u32 = 3;

fn wal_of(path: &Path) -> PathBuf {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    wal.into()
}

/// Returns once `file` is written to (its modification time changes), or
/// after a second.
fn wait_for_a_write(file: &Path) {
    let modified = || std::fs::metadata(file).and_then(|m| m.modified()).ok();
    let before = modified();
    let deadline = Instant::now() + Duration::from_secs(1);
    while modified() == before && Instant::now() < deadline {
        std::thread::sleep(Duration::from_micros(100));
    }
}

/// `edit-stream`'s `--durability` argument.
fn durability_arg(durability: Durability) -> &'static str {
    match durability {
        Durability::Full => "full",
        Durability::ProcessCrash => "process-crash",
    }
}

/// Runs `edit-stream` from edit `first` and kills it as `kill` says.
/// Returns how many edits it acknowledged.
fn run_and_kill(
    path: &Path,
    key_hex: &str,
    durability: Durability,
    first: u64,
    targets: Option<&Targets>,
    kill: Kill,
) -> u64 {
    let mut child = Command::new(env!("CARGO_BIN_EXE_edit-stream"))
        .args(["--durability", durability_arg(durability)])
        .arg(path)
        .arg(key_hex)
        .arg(first.to_string())
        .args(targets.iter().flat_map(|t| t.to_args()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A thread reads the acks so that waiting for one can time out.
    let stdout = child.stdout.take().unwrap();
    let (sender, acks_received) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if sender.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    let mut acks = 0;
    let mut ack = |line: String| {
        assert_eq!(line, format!("ack {}", first + acks), "unexpected output");
        acks += 1;
    };
    match kill {
        Kill::After {
            acks: wanted,
            pause,
        } => {
            for line in acks_received.iter().take(wanted as usize) {
                ack(line);
            }
            std::thread::sleep(pause);
        }
        Kill::WhenSlow {
            acks: wanted,
            at_commit,
            pause,
        } => {
            let mut fastest = Duration::MAX;
            let mut last = None;
            for _ in 0..wanted {
                // The first edit also loads the document: never slow.
                let patience = match last {
                    None => Duration::from_secs(60),
                    Some(_) => fastest.saturating_mul(SLOW_FACTOR),
                };
                let Ok(line) = acks_received.recv_timeout(patience) else {
                    if at_commit {
                        wait_for_a_write(&wal_of(path));
                    }
                    std::thread::sleep(pause);
                    break;
                };
                ack(line);
                let now = Instant::now();
                if let Some(last) = last {
                    fastest = fastest.min(now - last);
                }
                last = Some(now);
            }
        }
    }
    child.kill().unwrap();
    let status = child.wait().unwrap();
    // Acks already sent when the kill landed count too: those calls
    // returned `Ok`.
    reader.join().unwrap();
    acks_received.try_iter().for_each(&mut ack);
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert_eq!(
        status.signal(),
        Some(SIGKILL),
        "edit-stream stopped by itself ({status}): {stderr}"
    );
    acks
}

/// The edits one epoch's runs acknowledged, and the ones they were making
/// when killed: stored or not, both are right.
#[derive(Debug, Default)]
struct Expected {
    acked: BTreeSet<u64>,
    in_flight: BTreeSet<u64>,
}

impl Expected {
    /// Checks that `found` holds every acknowledged edit once, and nothing
    /// that was never attempted.
    fn check(&self, found: &Found, when: &str) {
        assert!(found.strange.is_empty(), "{when}: {:?}", found.strange);
        let missing: Vec<u64> = self
            .acked
            .iter()
            .filter(|n| !found.edits.contains_key(n))
            .copied()
            .collect();
        assert!(
            missing.is_empty(),
            "{when}: acknowledged edits lost: {missing:?}"
        );
        for (n, times) in &found.edits {
            assert_eq!(*times, 1, "{when}: edit {n} applied {times} times");
            assert!(
                self.acked.contains(n) || self.in_flight.contains(n),
                "{when}: edit {n} was never made"
            );
        }
    }
}

/// Every stored row of one document, as SQLite holds it.
type Rows = Vec<(String, i64, Vec<u8>)>;

fn rows(conn: &Connection, id: &DocumentId) -> Rows {
    conn.prepare(
        "SELECT 'documents', 0, header FROM documents WHERE id = ?1
         UNION ALL SELECT 'snapshots', 0, blob FROM snapshots WHERE doc_id = ?1
         UNION ALL SELECT 'changes', seq, blob FROM changes WHERE doc_id = ?1
         ORDER BY 1, 2",
    )
    .unwrap()
    .query_map([id.as_bytes()], |row| {
        Ok((row.get(0)?, row.get(1)?, row.get(2)?))
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

/// `PRAGMA integrity_check` must say exactly "ok".
fn assert_integrity(conn: &Connection) {
    let results: Vec<String> = conn
        .prepare("PRAGMA integrity_check")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(results, ["ok"], "integrity_check");
}

/// A document's stored increments, measured as the store measures them.
struct Increments {
    count: usize,
    /// Plain bytes of the increments.
    pending: usize,
    /// The size at which the store compacts them.
    threshold: usize,
}

impl Increments {
    /// Some twenty edits or fewer from compacting.
    fn due(&self) -> bool {
        self.pending + AIM_WITHIN_BYTES >= self.threshold
    }

    /// Past the threshold: the edit that crossed it was stored, but the
    /// compaction it started was killed before it committed.
    fn overdue(&self) -> bool {
        self.pending >= self.threshold
    }
}

fn increments(conn: &Connection, id: &DocumentId) -> Increments {
    let (count, bytes, snapshot): (i64, i64, i64) = conn
        .query_row(
            "SELECT (SELECT count(*) FROM changes WHERE doc_id = ?1),
                    (SELECT coalesce(sum(length(blob)), 0) FROM changes WHERE doc_id = ?1),
                    (SELECT coalesce(sum(length(blob)), 0) FROM snapshots WHERE doc_id = ?1)",
            [id.as_bytes()],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .unwrap();
    let (count, bytes, snapshot) = (count as usize, bytes as usize, snapshot as usize);
    Increments {
        count,
        pending: bytes.saturating_sub(count * SEAL_OVERHEAD),
        threshold: (snapshot.saturating_sub(SEAL_OVERHEAD) / COMPACT_FRACTION)
            .max(COMPACT_MIN_BYTES),
    }
}

#[test]
fn acknowledged_edits_survive_sigkill_and_the_file_stays_sound() {
    kill_again_and_again(Durability::Full, 0x1c_2a54);
}

#[test]
fn without_an_fsync_per_edit_acknowledged_edits_still_survive_sigkill() {
    kill_again_and_again(Durability::ProcessCrash, 0x1c_2a55);
}

/// Kills `edit-stream`, run with `durability`, again and again at moments
/// drawn from `seed`, and checks the store after each kill.
fn kill_again_and_again(durability: Durability, seed: u64) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("device.lynchpin");
    let wal = wal_of(&path);
    let key = key(0x5c);
    let key_hex = key_to_hex(&key);
    let mut rng = Rng::new(seed);
    let iterations = iterations();

    // The epoch being edited: its targets once a run has set them up (the
    // first) or the test has created them (the others), and what its runs
    // did. Finished epochs keep their rows as last checked.
    let mut targets: Option<Targets> = None;
    let mut expected = Expected::default();
    let mut finished: Vec<(Targets, Expected, BTreeMap<DocumentId, Rows>)> = Vec::new();
    let mut next = 0u64;
    let mut compaction_due = false;
    let mut overdue_before = false;
    let mut increments_before = 0;

    let mut aimed = 0;
    let mut in_flight_stored = 0;
    let mut in_flight_stored_when_aimed = 0;
    let mut compactions_seen = 0;
    let mut compactions_interrupted = 0;
    let mut wal_left_behind = 0;
    let mut checking = Duration::ZERO;
    let started = Instant::now();

    for iteration in 0..iterations {
        let aim = compaction_due && rng.chance(50);
        let kill = if aim {
            aimed += 1;
            // Some twenty edits away, so give up after thirty.
            Kill::WhenSlow {
                acks: 30,
                at_commit: rng.chance(50),
                pause: Duration::from_micros(rng.below(3_000) as u64),
            }
        } else {
            Kill::random(&mut rng)
        };
        let acks = run_and_kill(&path, &key_hex, durability, next, targets.as_ref(), kill);
        expected.acked.extend(next..next + acks);
        let in_flight = next + acks;
        expected.in_flight.insert(in_flight);
        next = in_flight + 1;
        if wal.exists() {
            wal_left_behind += 1;
        }

        let check_started = Instant::now();
        let when = format!("after kill {iteration}");
        let store = Store::open(&path, &key).unwrap_or_else(|e| panic!("{when}: {e:?}"));
        let found = match &targets {
            Some(targets) => Some(edits::found_in(&store, targets)),
            None => edits::found(&store).transpose(),
        }
        .transpose()
        .unwrap_or_else(|e| panic!("{when}: {e}"));
        let mut new_epoch = false;
        match found {
            None => assert!(expected.acked.is_empty(), "{when}: the documents are gone"),
            Some(found) => {
                expected.check(&found, &when);
                if found.edits.contains_key(&in_flight) {
                    in_flight_stored += 1;
                    in_flight_stored_when_aimed += usize::from(aim);
                }
                if found.edits.len() >= EPOCH_EDITS {
                    finished.push((
                        found.targets,
                        std::mem::take(&mut expected),
                        BTreeMap::new(),
                    ));
                    targets = Some(Targets::create(&store).unwrap());
                    new_epoch = true;
                } else {
                    targets = Some(found.targets);
                }
            }
        }
        drop(store);

        let conn = Connection::open(&path).unwrap();
        assert_integrity(&conn);
        for (old, _, stored) in &mut finished {
            for id in [old.plan, old.journal] {
                let now = rows(&conn, &id);
                let before = stored.entry(id).or_insert_with(|| now.clone());
                assert!(
                    *before == now,
                    "{when}: rows of a finished document changed"
                );
            }
        }
        if let Some(current) = &targets {
            let docs = [current.plan, current.journal].map(|id| increments(&conn, &id));
            let count = docs.iter().map(|d| d.count).sum();
            if count < increments_before && !new_epoch {
                compactions_seen += 1;
            }
            let overdue = docs.iter().any(Increments::overdue);
            if overdue && !overdue_before {
                compactions_interrupted += 1;
            }
            increments_before = count;
            overdue_before = overdue;
            compaction_due = docs.iter().any(Increments::due);
        }
        drop(conn);
        checking += check_started.elapsed();
    }

    // Every epoch, read back in full once more.
    let store = Store::open(&path, &key).unwrap();
    let mut acked = 0;
    let epochs = finished.len() + 1;
    let current = targets.map(|t| (t, expected));
    for (targets, expected) in finished.into_iter().map(|(t, e, _)| (t, e)).chain(current) {
        let found = edits::found_in(&store, &targets).unwrap_or_else(|e| panic!("at the end: {e}"));
        expected.check(&found, "at the end");
        acked += expected.acked.len();
    }
    drop(store);

    eprintln!(
        "crash ({durability:?}): {iterations} kills ({aimed} aimed at a compaction) over {epochs} epochs; \
         all {acked} acknowledged edits stored; \
         {in_flight_stored} edits stored although killed before their ack \
         ({in_flight_stored_when_aimed} when aimed); {compactions_seen} compactions seen, \
         {compactions_interrupted} rolled back by a kill; \
         hot WAL after {wal_left_behind} kills; {:.1} s, {:.1} s of it checking",
        started.elapsed().as_secs_f64(),
        checking.as_secs_f64(),
    );
    assert!(
        compactions_seen > 0,
        "the documents never compacted: no kill could land around a compaction"
    );
    assert!(
        wal_left_behind > iterations / 2,
        "few kills left a WAL behind ({wal_left_behind}): recovery was hardly exercised"
    );
}
