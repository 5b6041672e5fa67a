//! Sync benchmarks against a real `lynchpin-server` process (release build)
//! over HTTP on 127.0.0.1:
//!
//! - (a) reconnect: a device holding 2,000 documents and a second device
//!   both edit one shared care plan five times while apart, then the first
//!   reconnects; and the same reconnect with nothing changed;
//! - (b) a new device's first sync of a 2,000-resource directory;
//! - (c) 200 devices, each with its own store file and care plan, editing
//!   and syncing at the same moment, round after round, then reconnecting
//!   at once with nothing changed; once sharing both cores with the server,
//!   once pinned to one core with the server on the other (when `taskset`
//!   is available). Each device is granted only its own plan, so the relay
//!   sends each device its own plan and nothing else;
//! - (d), only when asked for (`LYNCHPIN_BENCH_ONLY=d`): the same with all
//!   200 devices sharing one care plan, so that each session carries one
//!   document each way; sharing cores only. The plan grows by 200 changes a
//!   round, and so does the cost of every session.
//!
//! Run with
//! `cargo bench -p lynchpin-tests --bench sync`.
//! It prints tables and exits 0; targets are reported, not asserted.
//!
//! Environment (all optional):
//!
//! | variable | default | meaning |
//! | --- | --- | --- |
//! | `LYNCHPIN_BENCH_ONLY` | `abc` | which parts to run, e.g. `c`; `d` adds (d) |
//! | `LYNCHPIN_BENCH_DOCS` | 2000 | documents on the reconnecting device (a) |
//! | `LYNCHPIN_BENCH_REPS` | 11 | repetitions of the edited reconnect (a) |
//! | `LYNCHPIN_BENCH_IDLE_REPS` | 21 | repetitions of the idle reconnect (a) |
//! | `LYNCHPIN_BENCH_RESOURCES` | 2000 | resources in the directory (b) |
//! | `LYNCHPIN_BENCH_FIRST_SYNC_REPS` | 5 | new devices doing a first sync (b) |
//! | `LYNCHPIN_BENCH_DEVICES` | 200 | devices reconnecting at once (c, d) |
//! | `LYNCHPIN_BENCH_ROUNDS` | 3 | measured rounds with edits per phase (c, d) |
//! | `LYNCHPIN_BENCH_IDLE_ROUNDS` | 5 | measured rounds with nothing changed (c) |
//! | `LYNCHPIN_BENCH_PIN` | `1` | `0` skips the pinned runs of (c) |
//! | `LYNCHPIN_BENCH_SERVER_DIR` | the system temp dir | where servers keep their data |
//! | `LYNCHPIN_BENCH_CLIENT_DIR` | the system temp dir | where device stores of (a) and (b) live |
//! | `LYNCHPIN_BENCH_MANY_CLIENT_DIR` | `/dev/shm` if present | where the 200 device stores of (c, d) live |
//!
//! Every phase of (c, d) starts with one unmeasured round. The 200 device
//! stores live on tmpfs by default: on a real deployment every device has
//! its own disk, and here their fsyncs would otherwise queue on the one disk
//! the server writes to.

#![allow(clippy::print_stdout)]

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::Barrier,
    time::{Duration, Instant},
};

use chrono::NaiveDate;
use lynchpin_core::{
    CarePlanDetails, CheckInDetails, DocumentId, ItemId, MeetingDetails, MeetingText, PlanStatus,
    Role, SafetyList, Store, StoreKey, SyncServer, generate, sync::SyncReport,
};
use lynchpin_tests::server::{ServerProcess, server_binary};
use tempfile::TempDir;

// ---------------------------------------------------------------- settings

struct Config {
    only: String,
    docs: usize,
    reps: usize,
    idle_reps: usize,
    resources: usize,
    first_sync_reps: usize,
    devices: usize,
    rounds: usize,
    idle_rounds: usize,
    pin: bool,
    server_dir: PathBuf,
    client_dir: PathBuf,
    many_client_dir: PathBuf,
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn env_dir(name: &str, default: PathBuf) -> PathBuf {
    std::env::var_os(name).map_or(default, PathBuf::from)
}

impl Config {
    fn from_env() -> Self {
        let shm = Path::new("/dev/shm");
        let many_default = if shm.is_dir() {
            shm.to_path_buf()
        } else {
            std::env::temp_dir()
        };
        Self {
            only: std::env::var("LYNCHPIN_BENCH_ONLY").unwrap_or_else(|_| "abc".into()),
            docs: env_usize("LYNCHPIN_BENCH_DOCS", 2000),
            reps: env_usize("LYNCHPIN_BENCH_REPS", 11),
            idle_reps: env_usize("LYNCHPIN_BENCH_IDLE_REPS", 21),
            resources: env_usize("LYNCHPIN_BENCH_RESOURCES", 2000),
            first_sync_reps: env_usize("LYNCHPIN_BENCH_FIRST_SYNC_REPS", 5),
            devices: env_usize("LYNCHPIN_BENCH_DEVICES", 200),
            rounds: env_usize("LYNCHPIN_BENCH_ROUNDS", 3),
            idle_rounds: env_usize("LYNCHPIN_BENCH_IDLE_ROUNDS", 5),
            pin: std::env::var("LYNCHPIN_BENCH_PIN").map_or(true, |v| v != "0"),
            server_dir: env_dir("LYNCHPIN_BENCH_SERVER_DIR", std::env::temp_dir()),
            client_dir: env_dir("LYNCHPIN_BENCH_CLIENT_DIR", std::env::temp_dir()),
            many_client_dir: env_dir("LYNCHPIN_BENCH_MANY_CLIENT_DIR", many_default),
        }
    }
}

fn temp_in(parent: &Path, what: &str) -> TempDir {
    tempfile::Builder::new()
        .prefix(&format!("lynchpin-bench-{what}-"))
        .tempdir_in(parent)
        .expect("create a temporary directory")
}

// ------------------------------------------------------------- statistics

fn sorted(values: &[f64]) -> Vec<f64> {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v
}

fn median(values: &[f64]) -> f64 {
    let v = sorted(values);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// Nearest-rank percentile.
fn percentile(values: &[f64], p: f64) -> f64 {
    let v = sorted(values);
    if v.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
    v[rank.clamp(1, v.len()) - 1]
}

fn min_max(values: &[f64]) -> (f64, f64) {
    let v = sorted(values);
    (
        v.first().copied().unwrap_or(f64::NAN),
        v.last().copied().unwrap_or(f64::NAN),
    )
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn pass(ok: bool) -> &'static str {
    if ok { "PASS" } else { "FAIL" }
}

// ------------------------------------------------------- processes, /proc

/// Builds the release server so the bench never measures a stale binary
/// (`ServerProcess` builds it only when it is missing).
fn build_server() -> PathBuf {
    let binary = server_binary();
    let status = Command::new(env!("CARGO"))
        .args([
            "build",
            "--release",
            "-p",
            "lynchpin-server",
            "--bin",
            "lynchpin-server",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .expect("run cargo build");
    assert!(status.success(), "building lynchpin-server failed");
    assert!(
        binary.parent().is_some_and(|p| p.ends_with("release")),
        "expected a release server next to the bench, found {}",
        binary.display()
    );
    binary
}

/// A `VmHWM`/`VmRSS`-style line of /proc/<pid>/status, in KiB.
fn proc_status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
}

fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok()?.trim().parse().ok())
        .unwrap_or(100.0)
}

/// User + system CPU seconds a process has used (all its threads).
fn cpu_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    // After the command name: state is field 3, utime 14, stime 15.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / clock_ticks())
}

fn taskset_available() -> bool {
    Command::new("taskset")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The CPU list a process may run on, as `taskset` prints it.
fn affinity(pid: u32) -> Option<String> {
    let out = Command::new("taskset")
        .args(["-pc", &pid.to_string()])
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    Some(text.rsplit_once(": ")?.1.trim().to_owned())
}

/// Pins every thread of a process (and the threads they start) to `cpus`.
fn pin(pid: u32, cpus: &str) -> bool {
    Command::new("taskset")
        .args(["-apc", cpus, &pid.to_string()])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn command_line(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|| "?".into())
}

fn machine() {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("model name")?.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "?".into());
    let mem = proc_meminfo_mib("MemTotal");
    println!("machine: {}", command_line("uname", &["-a"]));
    println!(
        "cpus: {} ({cpu}), memory: {mem} MiB, commit: {}, date: {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        command_line(
            "git",
            &[
                "-C",
                env!("CARGO_MANIFEST_DIR"),
                "rev-parse",
                "--short",
                "HEAD"
            ]
        ),
        command_line("date", &["-u", "+%Y-%m-%dT%H:%M:%SZ"]),
    );
}

fn proc_meminfo_mib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
                .and_then(|rest| rest.split_whitespace().next()?.parse::<u64>().ok())
        })
        .map_or(0, |kib| kib / 1024)
}

/// The kernel's count of connections dropped because a listen queue was
/// full (all sockets; the client retries its SYN after a second).
fn listen_overflows() -> Option<u64> {
    let netstat = std::fs::read_to_string("/proc/net/netstat").ok()?;
    let mut lines = netstat.lines().filter(|l| l.starts_with("TcpExt:"));
    let (names, values) = (lines.next()?, lines.next()?);
    names
        .split_whitespace()
        .zip(values.split_whitespace())
        .find_map(|(name, value)| (name == "ListenOverflows").then(|| value.parse().ok())?)
}

/// The 1-, 5- and 15-minute load averages: the machine is shared.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "?".into())
}

/// The filesystem type a path lives on (tmpfs, ext4, …).
fn filesystem(path: &Path) -> String {
    command_line("stat", &["-f", "-c", "%T", &path.to_string_lossy()])
}

// --------------------------------------------------------------- devices

struct Device {
    store: Store,
    server: SyncServer,
}

fn device(path: PathBuf, relay: &ServerProcess) -> Device {
    let store = Store::open(path, &StoreKey::generate().expect("key")).expect("open store");
    let server = store.enroll(&relay.url(), &relay.invite()).expect("enrol");
    Device { store, server }
}

impl Device {
    /// One session; the report and the wall time of the whole call.
    fn sync(&self) -> (SyncReport, Duration) {
        let started = Instant::now();
        let report = self.store.sync(&self.server).expect("sync");
        (report, started.elapsed())
    }
}

fn date(day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, day).expect("date")
}

fn plan_details(name: &str) -> CarePlanDetails {
    CarePlanDetails {
        subject_name: name.into(),
        status: PlanStatus::Active,
        period_start: Some(date(1)),
        period_end: None,
        next_review: Some(date(27)),
    }
}

fn new_meeting(store: &Store, plan: &DocumentId) -> ItemId {
    store
        .add_meeting(
            plan,
            &MeetingDetails {
                date: date(27),
                attendees: vec!["Young person".into(), "Dr Ada Example".into()],
            },
        )
        .expect("add meeting")
}

// ------------------------------------------------------------ (a) reconnect

struct Reconnect {
    docs: usize,
    reps: usize,
    idle_reps: usize,
    setup: Vec<(String, SyncReport, Duration)>,
    edited: Vec<(SyncReport, Duration)>,
    idle: Vec<(SyncReport, Duration)>,
}

fn reconnect(cfg: &Config) -> Reconnect {
    let server_dir = temp_in(&cfg.server_dir, "a-server");
    let client_dir = temp_in(&cfg.client_dir, "a-devices");
    let relay = ServerProcess::start(server_dir.path());
    println!("(a) server pid {} at {}", relay.pid(), relay.url());
    let a = device(client_dir.path().join("a.db"), &relay);
    let b = device(client_dir.path().join("b.db"), &relay);
    let mut setup = Vec::new();

    // Device 1 creates every document and lets device 2 write them all.
    let started = Instant::now();
    let plans = cfg.docs / 2;
    let mut shared = None;
    for i in 0..plans {
        let id = a
            .store
            .create_care_plan(&plan_details(&format!("Person {i}")))
            .expect("create care plan");
        a.store
            .grant(&id, b.store.device_id(), Role::Writer)
            .expect("grant");
        shared.get_or_insert(id);
    }
    for i in 0..cfg.docs - plans {
        let id = a.store.create_journal().expect("create journal");
        a.store
            .grant(&id, b.store.device_id(), Role::Writer)
            .expect("grant");
        a.store
            .add_check_in(
                &id,
                &CheckInDetails {
                    mood: (i % 11) as u8,
                    feelings: vec!["tired".into(), "okay".into()],
                    note: "Walked the dog.".into(),
                },
            )
            .expect("add check-in");
    }
    let plan = shared.expect("at least one care plan");
    let meeting = new_meeting(&a.store, &plan);
    println!(
        "(a) created {} care plans and {} journals in {:.1} s",
        plans,
        cfg.docs - plans,
        started.elapsed().as_secs_f64()
    );
    let (report, wall) = a.sync();
    setup.push(("device 1 first upload".into(), report, wall));

    let (report, wall) = b.sync();
    setup.push(("device 2 first download".into(), report, wall));
    a.sync();

    let mut edited = Vec::new();
    for rep in 0..cfg.reps {
        // Both start from the same state…
        b.sync();
        a.sync();
        // …and edit the shared plan while apart.
        for (i, list) in [
            SafetyList::WarningSigns,
            SafetyList::CopingStrategies,
            SafetyList::Distractions,
        ]
        .into_iter()
        .enumerate()
        {
            a.store
                .add_safety_item(&plan, list, &format!("Young person's item {rep}.{i}"))
                .expect("edit on device 1");
        }
        for i in 0..2 {
            a.store
                .splice_meeting_text(
                    &plan,
                    &meeting,
                    MeetingText::MyVoice,
                    0,
                    0,
                    &format!("I want to try mornings first ({rep}.{i}). "),
                )
                .expect("edit on device 1");
        }
        for (i, list) in [SafetyList::PeopleToAsk, SafetyList::ReasonsForLiving]
            .into_iter()
            .enumerate()
        {
            b.store
                .add_safety_item(&plan, list, &format!("Clinician's item {rep}.{i}"))
                .expect("edit on device 2");
        }
        for i in 0..3 {
            b.store
                .splice_meeting_text(
                    &plan,
                    &meeting,
                    MeetingText::Notes,
                    0,
                    0,
                    &format!("Discussed a phased return ({rep}.{i}). "),
                )
                .expect("edit on device 2");
        }
        let (pushed, _) = b.sync();
        assert_eq!(pushed.documents_sent, 1, "{pushed:?}");
        let (report, wall) = a.sync();
        assert_eq!(report.documents_sent, 1, "{report:?}");
        assert_eq!(report.documents_received, 1, "{report:?}");
        edited.push((report, wall));
    }
    b.sync();
    assert_eq!(
        a.store.care_plan(&plan).expect("read"),
        b.store.care_plan(&plan).expect("read"),
        "the two devices did not converge"
    );

    a.sync();
    b.sync();
    a.sync();
    let mut idle = Vec::new();
    for _ in 0..cfg.idle_reps {
        let (report, wall) = a.sync();
        assert_eq!(report.documents_sent + report.documents_received, 0);
        idle.push((report, wall));
    }
    Reconnect {
        docs: cfg.docs,
        reps: cfg.reps,
        idle_reps: cfg.idle_reps,
        setup,
        edited,
        idle,
    }
}

struct ReconnectFigures {
    round_trips: f64,
    max_round_trips: f64,
    bytes: f64,
    sent: f64,
    received: f64,
    session_ms: f64,
    wall_ms: f64,
    wall_range: (f64, f64),
}

fn reconnect_figures(samples: &[(SyncReport, Duration)]) -> ReconnectFigures {
    let col = |f: &dyn Fn(&(SyncReport, Duration)) -> f64| -> Vec<f64> {
        samples.iter().map(f).collect()
    };
    let wall = col(&|(_, w)| ms(*w));
    ReconnectFigures {
        round_trips: median(&col(&|(r, _)| f64::from(r.round_trips))),
        max_round_trips: min_max(&col(&|(r, _)| f64::from(r.round_trips))).1,
        bytes: median(&col(&|(r, _)| (r.bytes_sent + r.bytes_received) as f64)),
        sent: median(&col(&|(r, _)| r.bytes_sent as f64)),
        received: median(&col(&|(r, _)| r.bytes_received as f64)),
        session_ms: median(&col(&|(r, _)| ms(r.duration))),
        wall_ms: median(&wall),
        wall_range: min_max(&wall),
    }
}

fn print_reconnect(r: &Reconnect) {
    println!();
    println!(
        "(a) Reconnect of a device holding {} documents (real server, 127.0.0.1)",
        r.docs
    );
    for (what, report, wall) in &r.setup {
        println!(
            "    setup: {what}: {} docs sent, {} received, {} B sent, {} B received, {} round trips, {:.0} ms",
            report.documents_sent,
            report.documents_received,
            report.bytes_sent,
            report.bytes_received,
            report.round_trips,
            ms(*wall)
        );
    }
    println!(
        "    {:<34} {:>5} {:>8} {:>8} {:>10} {:>10} {:>10} {:>10} {:>17}",
        "case",
        "reps",
        "rt med",
        "rt max",
        "bytes",
        "sent",
        "received",
        "session",
        "sync() wall [min-max]"
    );
    for (name, samples, reps) in [
        ("both edited one document 5 times", &r.edited, r.reps),
        ("nothing changed", &r.idle, r.idle_reps),
    ] {
        let f = reconnect_figures(samples);
        println!(
            "    {:<34} {:>5} {:>8} {:>8} {:>10.0} {:>10.0} {:>10.0} {:>8.1}ms {:>7.1}ms [{:.1}-{:.1}]",
            name,
            reps,
            f.round_trips,
            f.max_round_trips,
            f.bytes,
            f.sent,
            f.received,
            f.session_ms,
            f.wall_ms,
            f.wall_range.0,
            f.wall_range.1
        );
        println!(
            "      targets: round trips <= 2: {}; bytes <= 4096: {}; session < 100 ms: {}",
            pass(f.max_round_trips <= 2.0),
            pass(f.bytes <= 4096.0),
            pass(f.wall_ms < 100.0),
        );
    }
}

// ------------------------------------------------------- (b) first sync

struct FirstSync {
    resources: usize,
    generate_s: f64,
    export_len: usize,
    upload: (SyncReport, Duration),
    samples: Vec<(SyncReport, Duration)>,
}

fn first_sync(cfg: &Config) -> FirstSync {
    let server_dir = temp_in(&cfg.server_dir, "b-server");
    let client_dir = temp_in(&cfg.client_dir, "b-devices");
    let relay = ServerProcess::start(server_dir.path());
    println!("(b) server pid {} at {}", relay.pid(), relay.url());
    let publisher = device(client_dir.path().join("publisher.db"), &relay);
    let started = Instant::now();
    let id = generate::directory(&publisher.store, 42, cfg.resources).expect("generate");
    let generate_s = started.elapsed().as_secs_f64();
    // The new devices enrol and are granted the directory before it is
    // uploaded; `export_len` is the directory as they receive it.
    let fresh_devices: Vec<Device> = (0..cfg.first_sync_reps)
        .map(|rep| device(client_dir.path().join(format!("new-{rep}.db")), &relay))
        .collect();
    for fresh in &fresh_devices {
        publisher
            .store
            .grant(&id, fresh.store.device_id(), Role::Reader)
            .expect("grant");
    }
    let export_len = publisher.store.export(&id).expect("export").len();
    let upload = publisher.sync();
    let mut samples = Vec::new();
    for (rep, fresh) in fresh_devices.into_iter().enumerate() {
        let (report, wall) = fresh.sync();
        assert_eq!(report.documents_received, 1, "{report:?}");
        let directory = fresh.store.directory(&id).expect("read directory");
        assert_eq!(directory.resources.len(), cfg.resources);
        samples.push((report, wall));
        drop(fresh);
        let _ = std::fs::remove_file(client_dir.path().join(format!("new-{rep}.db")));
    }
    FirstSync {
        resources: cfg.resources,
        generate_s,
        export_len,
        upload,
        samples,
    }
}

fn print_first_sync(r: &FirstSync) {
    println!();
    println!(
        "(b) First sync of a {}-resource directory to a new device",
        r.resources
    );
    println!(
        "    setup: generated in {:.1} s; export() = {} B; upload: {} B sent, {} B received, {:.0} ms",
        r.generate_s,
        r.export_len,
        r.upload.0.bytes_sent,
        r.upload.0.bytes_received,
        ms(r.upload.1)
    );
    let received: Vec<f64> = r
        .samples
        .iter()
        .map(|(s, _)| s.bytes_received as f64)
        .collect();
    let session: Vec<f64> = r.samples.iter().map(|(s, _)| ms(s.duration)).collect();
    let wall: Vec<f64> = r.samples.iter().map(|(_, w)| ms(*w)).collect();
    let rts: Vec<f64> = r
        .samples
        .iter()
        .map(|(s, _)| f64::from(s.round_trips))
        .collect();
    let ratio = median(&received) / r.export_len as f64;
    let (lo, hi) = min_max(&wall);
    println!(
        "    {:>5} {:>12} {:>12} {:>8} {:>10} {:>10} {:>15}",
        "reps", "received", "export()", "ratio", "rt", "session", "wall [min-max]"
    );
    println!(
        "    {:>5} {:>12.0} {:>12} {:>7.3}x {:>10} {:>8.0}ms {:>6.0}ms [{lo:.0}-{hi:.0}]",
        r.samples.len(),
        median(&received),
        r.export_len,
        ratio,
        median(&rts),
        median(&session),
        median(&wall),
    );
    println!(
        "      target: received <= 1.3 x export(): {}",
        pass(ratio <= 1.3)
    );
}

// ---------------------------------------------- (c) many devices at once

/// What the devices of (c) share.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Workload {
    /// Each device has its own care plan, shared with no one: the relay
    /// sends each device its own plan only.
    OwnPlans,
    /// All devices share one care plan: one document each way per session.
    OnePlan,
}

impl Workload {
    fn name(self) -> &'static str {
        match self {
            Self::OwnPlans => "own plans",
            Self::OnePlan => "one shared plan",
        }
    }
}

struct Member {
    device: Device,
    plan: DocumentId,
    meeting: ItemId,
}

/// One device's session in a round.
struct Sample {
    start: Instant,
    end: Instant,
    report: Option<SyncReport>,
}

struct Round {
    released: Instant,
    samples: Vec<Sample>,
}

impl Round {
    /// When the round began: the first moment any device passed the barrier.
    /// (The coordinating thread may be scheduled only after 200 devices are
    /// running, so its own clock reading can be late.)
    fn began(&self) -> Instant {
        self.samples
            .iter()
            .map(|s| s.start)
            .fold(self.released, Instant::min)
    }

    fn wall(&self) -> Duration {
        self.samples
            .iter()
            .map(|s| s.end)
            .max()
            .map_or(Duration::ZERO, |end| end - self.began())
    }
}

/// Every member makes one edit (if `edit`), then all sync at once.
fn round(members: &[Member], edit: bool, tag: &str) -> Round {
    let barrier = Barrier::new(members.len() + 1);
    std::thread::scope(|s| {
        let handles: Vec<_> = members
            .iter()
            .map(|m| {
                let barrier = &barrier;
                s.spawn(move || {
                    // A failed edit must still reach the barrier, or every
                    // other device would wait for it forever.
                    let edited = if edit {
                        m.device
                            .store
                            .splice_meeting_text(
                                &m.plan,
                                &m.meeting,
                                MeetingText::MyVoice,
                                0,
                                0,
                                &format!("Slept better ({tag}). "),
                            )
                            .map_err(|e| println!("    edit failed: {e}"))
                            .is_ok()
                    } else {
                        true
                    };
                    barrier.wait();
                    let start = Instant::now();
                    let report = if edited {
                        m.device
                            .store
                            .sync(&m.device.server)
                            .map_err(|e| println!("    session failed: {e}"))
                            .ok()
                    } else {
                        None
                    };
                    Sample {
                        start,
                        end: Instant::now(),
                        report,
                    }
                })
            })
            .collect();
        barrier.wait();
        let released = Instant::now();
        let samples = handles
            .into_iter()
            .map(|h| h.join().expect("device thread"))
            .collect();
        Round { released, samples }
    })
}

struct Phase {
    label: String,
    rounds: Vec<Round>,
    server_cpu_s: f64,
    client_cpu_s: f64,
    server_hwm_kib: u64,
    server_threads: u64,
    /// Connections the kernel dropped because the listen queue was full.
    listen_overflows: Option<u64>,
}

fn phase(
    members: &[Member],
    relay: &ServerProcess,
    label: String,
    edit: bool,
    rounds: usize,
) -> Phase {
    // One unmeasured round first: it carries whatever piled up before.
    round(members, edit, "w");
    let server = relay.pid().to_string();
    let server_cpu = cpu_seconds(&server).unwrap_or(f64::NAN);
    let client_cpu = cpu_seconds("self").unwrap_or(f64::NAN);
    let overflows = listen_overflows();
    let rounds: Vec<Round> = (0..rounds)
        .map(|i| {
            let done = round(members, edit, &i.to_string());
            println!(
                "(c) {label}: round {} {:.0} sessions/s",
                i + 1,
                done.samples.len() as f64 / done.wall().as_secs_f64()
            );
            done
        })
        .collect();
    let phase = Phase {
        label,
        rounds,
        server_cpu_s: cpu_seconds(&server).unwrap_or(f64::NAN) - server_cpu,
        client_cpu_s: cpu_seconds("self").unwrap_or(f64::NAN) - client_cpu,
        server_hwm_kib: proc_status_kib(relay.pid(), "VmHWM").unwrap_or(0),
        server_threads: proc_status_kib(relay.pid(), "Threads").unwrap_or(0),
        listen_overflows: listen_overflows()
            .zip(overflows)
            .map(|(after, before)| after.saturating_sub(before)),
    };
    println!(
        "(c) {}: done, median {:.0} sessions/s",
        phase.label,
        median(&phase.throughputs())
    );
    phase
}

impl Phase {
    fn latencies(&self) -> Vec<f64> {
        self.rounds
            .iter()
            .flat_map(|round| round.samples.iter().map(|s| ms(s.end - s.start)))
            .collect()
    }

    fn throughputs(&self) -> Vec<f64> {
        self.rounds
            .iter()
            .map(|round| round.samples.len() as f64 / round.wall().as_secs_f64())
            .collect()
    }
}

struct Many {
    workload: Workload,
    /// The first device's plan's `export()` size at the end.
    plan_bytes: usize,
    devices: usize,
    setup_s: f64,
    setup_hwm_kib: u64,
    server_fs: String,
    client_fs: String,
    phases: Vec<Phase>,
    pinned: Option<String>,
}

fn many(cfg: &Config, workload: Workload) -> Many {
    let tag = match workload {
        Workload::OwnPlans => "c-own",
        Workload::OnePlan => "c-one",
    };
    let server_dir = temp_in(&cfg.server_dir, &format!("{tag}-server"));
    let client_dir = temp_in(&cfg.many_client_dir, &format!("{tag}-devices"));
    let data = server_dir.path().join("data");
    let mut relay = ServerProcess::start(&data);
    println!(
        "(c) {}: server pid {} at {}; setting up {} devices…",
        workload.name(),
        relay.pid(),
        relay.url(),
        cfg.devices
    );
    let started = Instant::now();
    let mut members: Vec<Member> = Vec::with_capacity(cfg.devices);
    for i in 0..cfg.devices {
        let device = device(client_dir.path().join(format!("device-{i}.db")), &relay);
        let (plan, meeting) = match (workload, members.first()) {
            (Workload::OnePlan, Some(first)) => {
                first
                    .device
                    .store
                    .grant(&first.plan, device.store.device_id(), Role::Writer)
                    .expect("grant");
                first.device.sync();
                (first.plan, first.meeting.clone())
            }
            _ => {
                let plan = device
                    .store
                    .create_care_plan(&plan_details(&format!("Person {i}")))
                    .expect("create care plan");
                (plan, new_meeting(&device.store, &plan))
            }
        };
        device.sync();
        members.push(Member {
            device,
            plan,
            meeting,
        });
    }
    let setup_s = started.elapsed().as_secs_f64();
    let setup_hwm_kib = proc_status_kib(relay.pid(), "VmHWM").unwrap_or(0);
    println!("(c) {}: set up in {setup_s:.1} s", workload.name());

    let name = workload.name();
    let mut phases = vec![phase(
        &members,
        &relay,
        format!("{name}, shared cores, edit"),
        true,
        cfg.rounds,
    )];
    if workload == Workload::OwnPlans && cfg.idle_rounds > 0 {
        phases.push(phase(
            &members,
            &relay,
            format!("{name}, shared cores, idle"),
            false,
            cfg.idle_rounds,
        ));
    }

    let mut pinned = None;
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    if workload == Workload::OwnPlans && cfg.pin && cpus >= 2 && taskset_available() {
        // A fresh server process on the same data and port, so its peak
        // memory is this phase's own.
        let addr = relay.addr.clone();
        relay.kill();
        relay = ServerProcess::start_on(&data, &addr);
        let me = std::process::id();
        let mine = affinity(me).unwrap_or_else(|| format!("0-{}", cpus - 1));
        let last = (cpus - 1).to_string();
        let others = if cpus == 2 {
            "0".to_owned()
        } else {
            format!("0-{}", cpus - 2)
        };
        if pin(relay.pid(), &last) && pin(me, &others) {
            pinned = Some(format!(
                "server on CPU {last}, load generator on CPU {others}"
            ));
            phases.push(phase(
                &members,
                &relay,
                format!("{name}, pinned, edit"),
                true,
                cfg.rounds,
            ));
            if workload == Workload::OwnPlans && cfg.idle_rounds > 0 {
                phases.push(phase(
                    &members,
                    &relay,
                    format!("{name}, pinned, idle"),
                    false,
                    cfg.idle_rounds,
                ));
            }
        } else {
            println!("(c) taskset failed: no pinned run");
        }
        pin(me, &mine);
    }
    drop(relay);
    let plan_bytes = members.first().map_or(0, |m| {
        m.device
            .store
            .export(&m.plan)
            .map_or(0, |bytes| bytes.len())
    });
    Many {
        workload,
        plan_bytes,
        devices: cfg.devices,
        setup_s,
        setup_hwm_kib,
        server_fs: filesystem(server_dir.path()),
        client_fs: filesystem(client_dir.path()),
        phases,
        pinned,
    }
}

fn print_many(r: &Many) {
    println!();
    println!(
        "({}) {} devices reconnecting at once over loopback, {} (server data on {}, device stores on {}; set up in {:.0} s, server VmHWM after setup {:.1} MB)",
        match r.workload {
            Workload::OwnPlans => 'c',
            Workload::OnePlan => 'd',
        },
        r.devices,
        r.workload.name(),
        r.server_fs,
        r.client_fs,
        r.setup_s,
        r.setup_hwm_kib as f64 / 1024.0
    );
    println!(
        "    the first device's plan is {} bytes (export()) at the end",
        r.plan_bytes
    );
    match &r.pinned {
        Some(how) => println!("    pinned phases: {how}"),
        None => println!("    no pinned phases (taskset missing, one CPU, or disabled)"),
    }
    println!(
        "    {:<34} {:>6} {:>8} {:>7} {:>8} {:>8} {:>8} {:>6} {:>9} {:>9} {:>9} {:>8}",
        "phase",
        "rounds",
        "sessions",
        "sess/s",
        "p50",
        "p99",
        "max",
        "failed",
        "rx B/sess",
        "docs/sess",
        "srv CPU",
        "VmHWM"
    );
    for p in &r.phases {
        let latencies = p.latencies();
        let throughput = p.throughputs();
        let reports: Vec<&SyncReport> = p
            .rounds
            .iter()
            .flat_map(|round| round.samples.iter().filter_map(|s| s.report.as_ref()))
            .collect();
        let failed = latencies.len() - reports.len();
        let received: Vec<f64> = reports.iter().map(|r| r.bytes_received as f64).collect();
        let docs: Vec<f64> = reports
            .iter()
            .map(|r| r.documents_received as f64)
            .collect();
        let sessions = latencies.len();
        let p99 = percentile(&latencies, 99.0);
        let hwm_mib = p.server_hwm_kib as f64 / 1024.0;
        let rate = median(&throughput);
        println!(
            "    {:<34} {:>6} {:>8} {:>7.0} {:>6.0}ms {:>6.0}ms {:>6.0}ms {:>6} {:>9.0} {:>9.0} {:>7.2}ms {:>6.1}MB",
            p.label,
            p.rounds.len(),
            sessions,
            rate,
            percentile(&latencies, 50.0),
            p99,
            min_max(&latencies).1,
            failed,
            median(&received),
            median(&docs),
            p.server_cpu_s * 1000.0 / sessions as f64,
            hwm_mib,
        );
        let (lo, hi) = min_max(&throughput);
        let last_start = p
            .rounds
            .iter()
            .map(|round| {
                round
                    .samples
                    .iter()
                    .map(|s| s.start - round.began())
                    .max()
                    .unwrap_or_default()
            })
            .max()
            .unwrap_or_default();
        println!(
            "      per-round sessions/s {lo:.0}-{hi:.0}; load generator CPU {:.2} ms/session; server threads at the end {}; last session started {:.0} ms after the barrier; listen-queue overflows {}",
            p.client_cpu_s * 1000.0 / sessions as f64,
            p.server_threads,
            ms(last_start),
            p.listen_overflows
                .map_or_else(|| "?".to_owned(), |n| n.to_string()),
        );
        println!(
            "      targets: >= 1000 sessions/s: {}; p99 < 250 ms: {}; server peak memory < 64 MB: {}",
            pass(rate >= 1000.0),
            pass(p99 < 250.0),
            pass(hwm_mib < 64.0)
        );
    }
}

// ------------------------------------------------------------------ main

/// Runs one part, noting the load average before and after it.
fn measured<T>(part: &str, run: impl FnOnce() -> T) -> (T, String) {
    let before = load_average();
    println!("({part}) starting; load average {before}");
    let result = run();
    (result, format!("{before} / {}", load_average()))
}

fn main() {
    // `cargo bench` passes `--bench`; there is nothing to filter.
    let cfg = Config::from_env();
    let binary = build_server();
    machine();
    println!("server binary: {}", binary.display());
    println!(
        "server data under {} ({}); devices of (a), (b) under {} ({}); devices of (c) under {} ({})",
        cfg.server_dir.display(),
        filesystem(&cfg.server_dir),
        cfg.client_dir.display(),
        filesystem(&cfg.client_dir),
        cfg.many_client_dir.display(),
        filesystem(&cfg.many_client_dir),
    );
    println!("the load generator (this process) shares the machine with the server");
    println!();

    let reconnect = cfg
        .only
        .contains('a')
        .then(|| measured("a", || reconnect(&cfg)));
    let first = cfg
        .only
        .contains('b')
        .then(|| measured("b", || first_sync(&cfg)));
    let many: Vec<(Many, String)> = [('c', Workload::OwnPlans), ('d', Workload::OnePlan)]
        .into_iter()
        .filter(|(part, _)| cfg.only.contains(*part))
        .map(|(part, workload)| measured(&part.to_string(), || many(&cfg, workload)))
        .collect();

    println!();
    println!("================================ results ================================");
    if let Some((r, load)) = &reconnect {
        print_reconnect(r);
        println!("    load average (1, 5, 15 min) at start / end: {load}");
    }
    if let Some((r, load)) = &first {
        print_first_sync(r);
        println!("    load average (1, 5, 15 min) at start / end: {load}");
    }
    for (r, load) in &many {
        print_many(r);
        println!("    load average (1, 5, 15 min) at start / end: {load}");
    }
}
