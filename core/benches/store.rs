//! Store timings, with criterion: one durable local edit on a store that
//! already holds a two-year care plan and a 2,000-resource directory, with
//! each [`Durability`] side by side (`edit/full/…`, `edit/process_crash/…`),
//! and a cold open of that store followed by reading the safety plan.
//!
//! Run with `cargo bench -p lynchpin-core --bench store`. The fixture is
//! generated once; the edit benchmarks write to copies of it. Set
//! `LYNCHPIN_BENCH_DIR` to put the files elsewhere (`/dev/shm` takes the
//! disk's fsync out of the timings). Results and targets are in
//! BENCHMARKS.md at the root of the repository.

#![allow(clippy::print_stderr)]

mod common;

use std::{
    hint::black_box,
    time::{Duration, Instant},
};

use chrono::{Days, NaiveDate};
use criterion::{Criterion, criterion_group, criterion_main};
use lynchpin_core::{
    DocumentId, DocumentKind, Durability, ItemId, MeetingText, SafetyList, Store, StoreOptions,
};
use tempfile::TempDir;

/// A copy of the fixture takes at most this many benchmark edits before the
/// next copy replaces it, so that the benchmark's own edits do not grow the
/// plan far beyond what a real one holds (5,000 scores on one goal or 5,000
/// safety-plan items make each further edit slower).
const EDITS_PER_COPY: u64 = 250;
/// The same for edits that add a safety-plan item. Every safety-plan edit
/// rereads the whole safety plan to refresh its stored view, so each item
/// adds to the cost of the next edit; 250 added items (264 in all, beside
/// the fixture's 14) would time a safety plan no one has. With 50 (at most
/// 64 in all, 50 of them in one list) it is still a long one.
const SAFETY_ITEMS_PER_COPY: u64 = 50;

/// The durabilities timed side by side, with the group each one's edits
/// are reported in.
const DURABILITIES: [(Durability, &str); 2] = [
    (Durability::Full, "edit/full"),
    (Durability::ProcessCrash, "edit/process_crash"),
];

/// What the edit benchmarks write to, the same in every copy of the fixture.
struct Targets {
    plan: DocumentId,
    goal: ItemId,
    meeting: ItemId,
    /// Characters in that meeting's notes in the fixture.
    notes_len: usize,
}

/// An open copy of the fixture and how many edits it has taken.
struct Session {
    store: Store,
    edits: u64,
    _dir: TempDir,
}

/// Times `edit` with criterion, in steady state: edits go to an open copy
/// of the fixture (opened with `durability`) whose plan is loaded, replaced
/// by a fresh copy every `per_copy` edits. Copying, opening, loading,
/// closing and each copy's first edit (which creates the WAL file) are not
/// timed. `edit` gets the store, the targets and how many edits this copy
/// has had.
///
/// Each criterion sample is the mean of many edits, compactions and WAL
/// checkpoints included, so criterion's median is close to the mean cost
/// of an edit. Each edit is also timed on its own, and the distribution of
/// those times (every timed edit, warm-up included) is printed after
/// criterion's report: its median is the median edit.
fn bench_edit(
    c: &mut Criterion,
    (durability, group_name): (Durability, &str),
    name: &str,
    (fixture, targets): (&common::Fixture, &Targets),
    per_copy: u64,
    mut edit: impl FnMut(&Store, &Targets, u64),
) {
    let mut group = c.benchmark_group(group_name);
    let key = common::key();
    let options = StoreOptions { durability };
    let mut session: Option<Session> = None;
    let mut each = Vec::new();
    group.bench_function(name, |b| {
        b.iter_custom(|iters| {
            let mut timed = Duration::ZERO;
            let mut done = 0;
            while done < iters {
                let current = match session.take() {
                    Some(s) if s.edits < per_copy => s,
                    old => {
                        drop(old);
                        let (dir, path) = fixture.copy();
                        let store = Store::open_with(&path, &key, options).expect("open");
                        store.safety_plan(&targets.plan).expect("load the plan");
                        edit(&store, targets, 0);
                        Session {
                            store,
                            edits: 1,
                            _dir: dir,
                        }
                    }
                };
                let n = (iters - done).min(per_copy - current.edits);
                for k in current.edits..current.edits + n {
                    let started = Instant::now();
                    edit(&current.store, targets, k);
                    let took = started.elapsed();
                    timed += took;
                    each.push(took);
                }
                done += n;
                session = Some(Session {
                    edits: current.edits + n,
                    ..current
                });
            }
            timed
        })
    });
    group.finish();
    drop(session);
    print_distribution(&format!("{group_name}/{name}"), &mut each);
}

/// Prints the median of single edits with a 95 % confidence interval (the
/// order statistics of the binomial), the mean and the tail.
fn print_distribution(what: &str, each: &mut [Duration]) {
    if each.is_empty() {
        return;
    }
    each.sort_unstable();
    let n = each.len();
    let ms = |i: usize| each[i.min(n - 1)].as_secs_f64() * 1e3;
    let half_width = (1.96 * (n as f64).sqrt() / 2.0).ceil() as usize;
    let mean = each.iter().sum::<Duration>().as_secs_f64() * 1e3 / n as f64;
    eprintln!(
        "{what}: {n} single edits: median {:.3} ms [{:.3}, {:.3}], mean {mean:.3} ms, \
         p90 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        ms(n / 2),
        ms((n / 2).saturating_sub(half_width)),
        ms(n / 2 + half_width),
        ms(n * 9 / 10),
        ms(n * 99 / 100),
        ms(n - 1),
    );
}

/// (a) One local edit, durably stored, on a store holding the two-year plan
/// and the directory: with [`Durability::Full`] each edit commits with an
/// fsync of the WAL before the call returns; with
/// [`Durability::ProcessCrash`] it returns once the commit is written.
/// Each kind of edit is timed in both, one right after the other, so that
/// the two are measured in the same state of a shared machine.
fn edits(c: &mut Criterion, fixture: &common::Fixture) {
    let targets = {
        let store = Store::open(&fixture.path, &common::key()).expect("open");
        let plan = store.care_plan(&fixture.plan).expect("read the plan");
        let meeting = plan.meetings.last().expect("a meeting");
        Targets {
            plan: fixture.plan,
            goal: plan.goals[0].id.clone(),
            meeting: meeting.id.clone(),
            notes_len: meeting.notes.chars().count(),
        }
    };
    let on = (fixture, &targets);
    let both = |c: &mut Criterion, name: &str, per_copy: u64, edit: fn(&Store, &Targets, u64)| {
        for durability in DURABILITIES {
            bench_edit(c, durability, name, on, per_copy, edit);
        }
    };
    both(
        c,
        "add_safety_item",
        SAFETY_ITEMS_PER_COPY,
        |store, t, _| {
            store
                .add_safety_item(
                    &t.plan,
                    SafetyList::Distractions,
                    black_box("Text my cousin about football"),
                )
                .expect("add safety item");
        },
    );
    both(c, "set_code_word", EDITS_PER_COPY, |store, t, k| {
        let word = ["lighthouse", "pineapple"][(k % 2) as usize];
        store
            .set_code_word(&t.plan, Some(black_box(word)))
            .expect("set code word");
    });
    both(c, "record_goal_score", EDITS_PER_COPY, |store, t, k| {
        let start = NaiveDate::from_ymd_opt(2026, 9, 7).expect("date");
        store
            .record_goal_score(&t.plan, &t.goal, start + Days::new(7 * k), (k % 11) as u8)
            .expect("record score");
    });
    // Typing at the end of the last meeting's notes, three characters at a
    // time, as the generator types them.
    both(c, "splice_meeting_notes", EDITS_PER_COPY, |store, t, k| {
        store
            .splice_meeting_text(
                &t.plan,
                &t.meeting,
                MeetingText::Notes,
                t.notes_len + 3 * k as usize,
                0,
                black_box("ok "),
            )
            .expect("type into notes");
    });
}

/// (b) Cold open of the fixture and reading its safety plan: a new `Store`
/// each iteration (the previous one is dropped first: the store holds an
/// exclusive lock), listing the documents, loading the care plan from disk
/// and reading the safety plan. The OS page cache is warm.
fn cold_open(c: &mut Criterion, fixture: &common::Fixture) {
    let mut group = c.benchmark_group("cold_open");
    group.sample_size(30);
    group.measurement_time(Duration::from_secs(15));
    let key = common::key();
    group.bench_function("plan_and_directory/safety_plan", |b| {
        b.iter(|| {
            let store = Store::open(&fixture.path, &key).expect("open");
            let plan = store
                .documents()
                .expect("list documents")
                .into_iter()
                .find(|d| d.kind == DocumentKind::CarePlan)
                .expect("a care plan")
                .id;
            let safety = store.safety_plan(&plan).expect("read the safety plan");
            drop(store);
            safety
        })
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    let fixture = common::build_fixture();
    eprintln!(
        "fixture: care plan {} changes, directory {} changes, generated in {:.1} s, \
         database {} bytes",
        fixture.plan_changes,
        fixture.directory_changes,
        fixture.build_time.as_secs_f64(),
        common::file_len(&fixture.path),
    );
    cold_open(c, &fixture);
    edits(c, &fixture);
    drop(fixture.dir);
}

criterion_group!(store, benches);
criterion_main!(store);
