//! Cold open of a store, outside criterion: for profiling (`perf record`)
//! and for measuring memory by hand. Not part of the library.
//!
//! ```text
//! # make the benchmark fixture: a two-year care plan (110 meetings) and a
//! # 2,000-resource directory, seed 2026
//! cargo run --release -p lynchpin-core --example cold_open -- build /tmp/fixture.lynchpin
//! # open it, list the documents, read the safety plan; print the time of
//! # each open and this process's peak RSS (VmHWM) at the end
//! cargo run --release -p lynchpin-core --example cold_open -- open /tmp/fixture.lynchpin [times]
//! # print the peak RSS of a process that does nothing (the baseline)
//! cargo run --release -p lynchpin-core --example cold_open -- baseline
//! # make 1,000 edits of one kind (safety | code | score | splice) to a copy
//! # of the fixture, with Durability::Full or ::ProcessCrash (full | process);
//! # print the median, mean and 90th percentile of one edit
//! cargo run --release -p lynchpin-core --example cold_open -- edit /tmp/copy.lynchpin code 1000 process
//! ```
//!
//! The store key is the benchmarks' fixed test key.

#![allow(clippy::print_stdout)]

use std::{error::Error, path::Path, time::Instant};

use lynchpin_core::{DocumentKind, Durability, Store, StoreKey, StoreOptions, generate};

/// The benchmarks' seed and fixture sizes (see core/benches/common/mod.rs).
const SEED: u64 = 2026;
const MEETINGS: usize = 110;
const RESOURCES: usize = 2_000;

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let key = StoreKey::new([7; 32]);
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["build", path] => {
            let started = Instant::now();
            let store = Store::open(path, &key)?;
            let plan = generate::two_year_plan(&store, SEED, MEETINGS)?;
            generate::directory(&store, SEED, RESOURCES)?;
            println!(
                "built {path} in {:.1} s; care plan {plan}",
                started.elapsed().as_secs_f64()
            );
        }
        ["open", path, rest @ ..] => {
            let times: usize = rest.first().map_or(Ok(1), |t| t.parse())?;
            for _ in 0..times {
                let started = Instant::now();
                let warning_signs = open_and_read(Path::new(path), &key)?;
                println!(
                    "open + safety plan: {:.1} ms ({warning_signs} warning signs)",
                    started.elapsed().as_secs_f64() * 1e3
                );
            }
            print_memory()?;
        }
        ["edit", path, what, times, rest @ ..] => {
            let durability = match rest {
                [] | ["full"] => Durability::Full,
                ["process"] => Durability::ProcessCrash,
                _ => return Err("durability: full | process".into()),
            };
            edit(Path::new(path), &key, what, times.parse()?, durability)?;
        }
        ["breakdown", path] => breakdown(Path::new(path), &key)?,
        ["baseline"] => print_memory()?,
        _ => {
            println!(
                "usage: cold_open build PATH | open PATH [TIMES] | \
                 edit PATH WHAT TIMES [full|process] | breakdown PATH | baseline"
            );
        }
    }
    Ok(())
}

fn open_and_read(path: &Path, key: &StoreKey) -> Result<usize, Box<dyn Error>> {
    let store = Store::open(path, key)?;
    let plan = store
        .documents()?
        .into_iter()
        .find(|d| d.kind == DocumentKind::CarePlan)
        .ok_or("no care plan in the store")?;
    Ok(store.safety_plan(&plan.id)?.warning_signs.len())
}

/// Makes `times` edits of one kind to the care plan, for profiling, and
/// prints what one edit took.
fn edit(
    path: &Path,
    key: &StoreKey,
    what: &str,
    times: usize,
    durability: Durability,
) -> Result<(), Box<dyn Error>> {
    let store = Store::open_with(path, key, StoreOptions { durability })?;
    let plan = store
        .documents()?
        .into_iter()
        .find(|d| d.kind == DocumentKind::CarePlan)
        .ok_or("no care plan in the store")?
        .id;
    let care_plan = store.care_plan(&plan)?;
    let goal = care_plan.goals.first().ok_or("no goal")?.id.clone();
    let meeting = care_plan.meetings.last().ok_or("no meeting")?.id.clone();
    let day = chrono::NaiveDate::from_ymd_opt(2026, 9, 7).ok_or("date")?;
    let mut each = Vec::with_capacity(times);
    let started = Instant::now();
    for i in 0..times {
        let edit_started = Instant::now();
        match what {
            "safety" => {
                store.add_safety_item(
                    &plan,
                    lynchpin_core::SafetyList::Distractions,
                    "Text my cousin",
                )?;
            }
            "code" => store.set_code_word(&plan, Some(["pineapple", "lighthouse"][i % 2]))?,
            "score" => store.record_goal_score(&plan, &goal, day, (i % 11) as u8)?,
            "splice" => {
                // Type three characters, then delete them.
                let (delete, insert) = if i % 2 == 0 { (0, "ok ") } else { (3, "") };
                store.splice_meeting_text(
                    &plan,
                    &meeting,
                    lynchpin_core::MeetingText::Notes,
                    0,
                    delete,
                    insert,
                )?;
            }
            _ => return Err("what: safety | code | score | splice".into()),
        }
        each.push(edit_started.elapsed().as_secs_f64() * 1e3);
    }
    let mean = started.elapsed().as_secs_f64() * 1e3 / times as f64;
    each.sort_by(f64::total_cmp);
    let at = |q: f64| each.get((each.len() as f64 * q) as usize).copied();
    println!(
        "{times} edits ({durability:?}): median {:.3} ms, mean {mean:.3} ms, p90 {:.3} ms",
        at(0.5).unwrap_or(f64::NAN),
        at(0.9).unwrap_or(f64::NAN),
    );
    Ok(())
}

/// Times the steps of a cold open one by one, then loading the care plan's
/// `save()` with Automerge alone, and counts what the file holds.
fn breakdown(path: &Path, key: &StoreKey) -> Result<(), Box<dyn Error>> {
    let ms = |started: Instant| started.elapsed().as_secs_f64() * 1e3;
    let started = Instant::now();
    let store = Store::open(path, key)?;
    println!("Store::open: {:.1} ms", ms(started));
    let started = Instant::now();
    let documents = store.documents()?;
    println!("documents(): {:.1} ms", ms(started));
    let plan = documents
        .iter()
        .find(|d| d.kind == DocumentKind::CarePlan)
        .ok_or("no care plan in the store")?
        .id;
    let started = Instant::now();
    store.safety_plan(&plan)?;
    println!("first safety_plan (loads the plan): {:.1} ms", ms(started));
    let started = Instant::now();
    store.safety_plan(&plan)?;
    println!("second safety_plan (in memory): {:.1} ms", ms(started));
    let started = Instant::now();
    drop(store);
    println!("drop: {:.1} ms", ms(started));

    let store = Store::open(path, key)?;
    let saved = store.export(&plan)?;
    let loaded = automerge::Automerge::load(&saved)?;
    let all_changes = loaded.get_changes(&[]);
    let changes = all_changes.len();
    let ops: usize = all_changes.iter().map(|c| c.len()).sum();
    drop(loaded);
    drop(store);
    let mut times = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        automerge::Automerge::load(&saved)?;
        times.push(ms(started));
    }
    times.sort_by(f64::total_cmp);
    println!(
        "Automerge::load of the plan's save() ({} bytes, {changes} changes, {ops} ops): \
         median {:.1} ms",
        saved.len(),
        times[times.len() / 2],
    );

    let conn =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let started = Instant::now();
    let check: String = conn.query_row("PRAGMA quick_check", [], |row| row.get(0))?;
    println!("PRAGMA quick_check alone: {:.1} ms ({check})", ms(started));
    let mut stmt = conn.prepare(
        "SELECT d.id, (SELECT length(blob) FROM snapshots s WHERE s.doc_id = d.id), \
         (SELECT count(*) FROM changes c WHERE c.doc_id = d.id), \
         (SELECT coalesce(sum(length(blob)), 0) FROM changes c WHERE c.doc_id = d.id) \
         FROM documents d",
    )?;
    let rows = stmt.query_map([], |row| {
        Ok((
            row.get::<_, Option<i64>>(1)?,
            row.get::<_, i64>(2)?,
            row.get::<_, i64>(3)?,
        ))
    })?;
    for row in rows {
        let (snapshot, changes, change_bytes) = row?;
        println!(
            "document: snapshot {} bytes, {changes} pending changes ({change_bytes} bytes)",
            snapshot.unwrap_or(0)
        );
    }
    Ok(())
}

fn print_memory() -> Result<(), Box<dyn Error>> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    for line in status.lines() {
        if line.starts_with("VmHWM:") || line.starts_with("VmRSS:") {
            println!("{line}");
        }
    }
    Ok(())
}
