//! Shared helpers for the workspace integration tests: fixed keys and plan
//! details, hex keys for child processes, byte-level snapshots of a store's
//! directory, and ([`edits`]) the edits that the `edit-stream` binary makes
//! for the crash test.
//!
//! These helpers are for tests only; they panic on I/O errors rather than
//! returning them, so that a test fails at the line that could not read.

pub mod server;

use std::{
    collections::BTreeMap,
    fs,
    path::{Path, PathBuf},
    process::Command,
};

use automerge::{
    Automerge,
    sync::{Have, State, SyncDoc},
};
use chrono::NaiveDate;
use lynchpin_core::{
    CarePlanDetails, DocumentId, PlanStatus, StoreKey,
    access::ChangeSignature,
    sync::wire::{DocEntry, DocStatus, Request},
};

/// A `cargo` command for building a binary from inside a test, without the
/// variables cargo sets for the test process (`CARGO_MANIFEST_DIR`,
/// `CARGO_PKG_NAME`, …). Build scripts such as ring's ask to rerun when those
/// change, and cargo compares them against its own environment: inherited,
/// they would make the nested build and the next plain `cargo build`
/// rebuild each other's dependencies every time.
pub fn cargo_command() -> Command {
    let mut cargo = Command::new(env!("CARGO"));
    for (name, _) in std::env::vars_os() {
        let Some(name) = name.to_str() else { continue };
        let set_for_tests = [
            "CARGO_PKG_",
            "CARGO_MANIFEST_",
            "CARGO_CRATE_",
            "CARGO_BIN_",
        ]
        .iter()
        .any(|prefix| name.starts_with(prefix))
            || matches!(
                name,
                "CARGO_PRIMARY_PACKAGE" | "CARGO_TARGET_TMPDIR" | "OUT_DIR"
            );
        if set_for_tests {
            cargo.env_remove(name);
        }
    }
    cargo
}

/// The test run's profile folder, `target/<profile>`, where cargo puts the
/// workspace's binaries (test executables live in its `deps/`).
pub fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    exe.parent()
        .and_then(Path::parent)
        .expect("target/<profile> folder")
        .to_path_buf()
}

/// Builds a binary of the workspace (named like its package) for the test
/// run's profile, and returns its path; cargo does nothing if it is up to
/// date.
pub fn build_binary(package: &str) -> PathBuf {
    let profile_dir = profile_dir();
    let mut cargo = cargo_command();
    cargo.args(["build", "-p", package, "--bin", package]);
    if profile_dir.ends_with("release") {
        cargo.arg("--release");
    }
    let status = cargo.status().expect("run cargo build");
    assert!(status.success(), "building {package} failed");
    profile_dir.join(package)
}

/// A request frame pushing every change of `doc` to a peer that has none,
/// with `signatures`: what an app working around its store could send.
pub fn push_frame(id: DocumentId, doc: &Automerge, signatures: &[ChangeSignature]) -> Vec<u8> {
    let mut state = State {
        their_heads: Some(Vec::new()),
        their_need: Some(Vec::new()),
        their_have: Some(vec![Have {
            last_sync: Vec::new(),
            bloom: Default::default(),
        }]),
        ..State::new()
    };
    Request {
        cursor: None,
        docs: vec![DocEntry {
            id,
            status: DocStatus::Ok,
            message: doc
                .generate_sync_message(&mut state)
                .expect("a document with changes has a message to send")
                .encode(),
            extensions: DocEntry::signatures_extension(signatures)
                .into_iter()
                .collect(),
        }],
        extensions: Vec::new(),
    }
    .encode()
}

/// A fixed store key whose 32 bytes are all `byte`.
pub fn key(byte: u8) -> StoreKey {
    StoreKey::new([byte; 32])
}

/// The key as 64 lowercase hex digits, as `edit-stream` takes it.
pub fn key_to_hex(key: &StoreKey) -> String {
    key.as_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

/// Parses 64 hex digits into a key; `None` for anything else.
pub fn key_from_hex(hex: &str) -> Option<StoreKey> {
    if hex.len() != 64 || !hex.is_ascii() {
        return None;
    }
    let mut bytes = [0u8; 32];
    for (byte, pair) in bytes.iter_mut().zip(hex.as_bytes().chunks_exact(2)) {
        let pair = std::str::from_utf8(pair).ok()?;
        *byte = u8::from_str_radix(pair, 16).ok()?;
    }
    Some(StoreKey::new(bytes))
}

/// A calendar date; panics if it does not exist.
pub fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).expect("a real date")
}

/// Care-plan details for a plan about `subject`.
pub fn plan_details(subject: &str) -> CarePlanDetails {
    CarePlanDetails {
        subject_name: subject.into(),
        status: PlanStatus::Active,
        period_start: Some(date(2026, 11, 1)),
        period_end: None,
        next_review: Some(date(2026, 11, 28)),
    }
}

/// Every regular file directly in `dir`, by name, with its bytes.
pub fn snapshot_dir(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    files_in(dir)
        .into_iter()
        .map(|path| {
            let name = path
                .file_name()
                .expect("a file name")
                .to_string_lossy()
                .into_owned();
            let bytes = fs::read(&path).expect("read a file of the store's directory");
            (name, bytes)
        })
        .collect()
}

/// The regular files directly in `dir`, sorted.
pub fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .expect("list the store's directory")
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

/// Whether `needle` occurs anywhere in `haystack`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// Where `needle` first occurs in `haystack`.
pub fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// `text` in UTF-16, little-endian and big-endian.
pub fn utf16_forms(text: &str) -> [Vec<u8>; 2] {
    let units: Vec<u16> = text.encode_utf16().collect();
    [
        units.iter().flat_map(|u| u.to_le_bytes()).collect(),
        units.iter().flat_map(|u| u.to_be_bytes()).collect(),
    ]
}

/// The edits `edit-stream` makes, and how to find them again in a store.
///
/// Edit `n` is one call that leaves `n` readable in the documents
/// afterwards. Its kind depends on `n`: every odd `n` appends "n;" to a
/// meeting's notes with `set_meeting_text`; the even ones take turns adding
/// a safety-plan item "edit n: …", recording a goal score dated `n` days
/// after 1 January 1900, adding a journal check-in "edit n: …" and recording
/// a meeting decision "edit n: …". (Notes are the cheapest to read back, which
/// keeps the crash test fast in debug builds.) The stream and the crash
/// test share this module so that what is written and what is looked for
/// cannot drift apart.
pub mod edits {
    use std::{collections::BTreeMap, error::Error as StdError};

    use chrono::{Days, NaiveDate};
    use lynchpin_core::{
        CarePlan, CheckInDetails, DocumentId, DocumentKind, GoalDetails, GoalLifecycle, ItemId,
        MeetingDetails, MeetingText, SafetyList, Store,
        generate::{Rng, sentence},
    };

    type Result<T> = std::result::Result<T, Box<dyn StdError>>;

    /// The kinds of edit.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Kind {
        /// A safety-plan item "edit n: …".
        SafetyItem,
        /// "n;" appended to the meeting's notes.
        Notes,
        /// A goal score dated `n` days after 1 January 1900.
        GoalScore,
        /// A journal check-in "edit n: …".
        CheckIn,
        /// A meeting decision "edit n: …".
        Decision,
    }

    /// The kind of edit `n`.
    pub fn kind(n: u64) -> Kind {
        match n % 8 {
            0 => Kind::SafetyItem,
            2 => Kind::GoalScore,
            4 => Kind::CheckIn,
            6 => Kind::Decision,
            _ => Kind::Notes,
        }
    }

    fn score_day(n: u64) -> NaiveDate {
        super::date(1900, 1, 1) + Days::new(n)
    }

    fn score_for(n: u64) -> u8 {
        (n % 11) as u8
    }

    /// The text of edit `n`: its number, then 20 to 139 words that depend
    /// only on `n`, so that increments are large enough for the documents
    /// to compact every few dozen edits and a torn text cannot pass.
    fn label(n: u64) -> String {
        let words = 20 + (n % 120) as usize;
        format!("edit {n}: {}", sentence(&mut Rng::new(n), words))
    }

    /// Reads `n` back from the text of edit `n`; `None` if the text is not
    /// exactly what edit `n` writes.
    fn parse_label(text: &str) -> Option<u64> {
        let (n, _) = text.strip_prefix("edit ")?.split_once(':')?;
        let n = n.parse().ok()?;
        (label(n) == text).then_some(n)
    }

    /// What the stream edits, and the meeting notes as they stand.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Targets {
        /// The store's one care plan.
        pub plan: DocumentId,
        /// The store's one journal.
        pub journal: DocumentId,
        /// The plan's one goal, which gets the scores.
        pub goal: ItemId,
        /// The plan's one meeting, which gets the notes and decisions.
        pub meeting: ItemId,
        /// The meeting's notes.
        pub notes: String,
    }

    impl Targets {
        /// The targets as command-line arguments for `edit-stream`.
        pub fn to_args(&self) -> [String; 5] {
            [
                self.plan.to_string(),
                self.journal.to_string(),
                self.goal.to_string(),
                self.meeting.to_string(),
                self.notes.clone(),
            ]
        }

        /// A new care plan, journal, goal and meeting to edit.
        pub fn create(store: &Store) -> Result<Self> {
            let plan = store.create_care_plan(&super::plan_details("Crash Test"))?;
            let journal = store.create_journal()?;
            let goal = new_goal(store, &plan)?;
            let meeting = new_meeting(store, &plan)?;
            Ok(Self {
                plan,
                journal,
                goal,
                meeting,
                notes: String::new(),
            })
        }

        /// The targets from the arguments [`Targets::to_args`] made.
        pub fn from_args(args: &[String]) -> Result<Self> {
            let [plan, journal, goal, meeting, notes] = args else {
                return Err("expected PLAN JOURNAL GOAL MEETING NOTES".into());
            };
            Ok(Self {
                plan: plan.parse()?,
                journal: journal.parse()?,
                goal: goal.parse()?,
                meeting: meeting.parse()?,
                notes: notes.clone(),
            })
        }
    }

    fn new_goal(store: &Store, plan: &DocumentId) -> Result<ItemId> {
        Ok(store.add_goal(
            plan,
            &GoalDetails {
                description: "Keep going when killed".into(),
                expressed_by: "Crash Test".into(),
                lifecycle: GoalLifecycle::Active,
                achievement: None,
                target_date: None,
            },
        )?)
    }

    fn new_meeting(store: &Store, plan: &DocumentId) -> Result<ItemId> {
        Ok(store.add_meeting(
            plan,
            &MeetingDetails {
                date: super::date(2026, 11, 20),
                attendees: vec!["Crash Test".into()],
            },
        )?)
    }

    fn single(store: &Store, kind: DocumentKind) -> Result<Option<DocumentId>> {
        let ids: Vec<DocumentId> = store
            .documents()?
            .into_iter()
            .filter(|d| d.kind == kind)
            .map(|d| d.id)
            .collect();
        match ids.as_slice() {
            [] => Ok(None),
            [id] => Ok(Some(*id)),
            _ => Err(format!("{} documents of kind {kind}", ids.len()).into()),
        }
    }

    /// Makes the stream's edits.
    #[derive(Debug)]
    pub struct Editor {
        targets: Targets,
    }

    impl Editor {
        /// An editor that carries on with `targets`, read from the store by
        /// whoever hands them over, without reading anything itself.
        pub fn resume(targets: Targets) -> Self {
            Self { targets }
        }

        /// An editor that carries on from what `store` holds, creating the
        /// care plan, journal, goal and meeting it edits if an earlier run,
        /// killed part-way through setting up, did not get to them. The
        /// store must hold at most one care plan and one journal.
        pub fn open(store: &Store) -> Result<Self> {
            let plan = match single(store, DocumentKind::CarePlan)? {
                Some(plan) => plan,
                None => store.create_care_plan(&super::plan_details("Crash Test"))?,
            };
            let journal = match single(store, DocumentKind::Journal)? {
                Some(journal) => journal,
                None => store.create_journal()?,
            };
            let read = store.care_plan(&plan)?;
            let goal = match read.goals.first() {
                Some(goal) => goal.id.clone(),
                None => new_goal(store, &plan)?,
            };
            let (meeting, notes) = match read.meetings.into_iter().next() {
                Some(meeting) => (meeting.id, meeting.notes),
                None => (new_meeting(store, &plan)?, String::new()),
            };
            Ok(Self::resume(Targets {
                plan,
                journal,
                goal,
                meeting,
                notes,
            }))
        }

        /// Makes edit `n`; when this returns `Ok` the edit is stored.
        pub fn apply(&mut self, store: &Store, n: u64) -> Result<()> {
            let t = &mut self.targets;
            match kind(n) {
                Kind::SafetyItem => {
                    let list = SafetyList::ALL[(n / 8) as usize % SafetyList::ALL.len()];
                    store.add_safety_item(&t.plan, list, &label(n))?;
                }
                Kind::Notes => {
                    let notes = format!("{}{n};", t.notes);
                    store.set_meeting_text(&t.plan, &t.meeting, MeetingText::Notes, &notes)?;
                    t.notes = notes;
                }
                Kind::GoalScore => {
                    store.record_goal_score(&t.plan, &t.goal, score_day(n), score_for(n))?;
                }
                Kind::CheckIn => {
                    store.add_check_in(
                        &t.journal,
                        &CheckInDetails {
                            mood: score_for(n),
                            feelings: vec!["determined".into()],
                            note: label(n),
                        },
                    )?;
                }
                Kind::Decision => {
                    store.add_decision(&t.plan, &t.meeting, &label(n))?;
                }
            }
            Ok(())
        }
    }

    /// The stream's edits found in a store.
    #[derive(Debug)]
    pub struct Found {
        /// What a stream that carries on from here edits.
        pub targets: Targets,
        /// Each edit number found, with how many times it was found.
        pub edits: BTreeMap<u64, usize>,
        /// Values that no edit of the stream writes: an edit found in the
        /// wrong place, or with the wrong content.
        pub strange: Vec<String>,
    }

    impl Found {
        fn add(&mut self, n: u64, kind: Kind) {
            if self::kind(n) != kind {
                self.strange.push(format!("edit {n} found as a {kind:?}"));
            }
            *self.edits.entry(n).or_default() += 1;
        }

        fn add_label(&mut self, text: &str, kind: Kind) {
            match parse_label(text) {
                Some(n) => self.add(n, kind),
                None => self.strange.push(format!("{kind:?} {:?}…", prefix(text))),
            }
        }
    }

    fn prefix(text: &str) -> String {
        text.chars().take(24).collect()
    }

    /// The stream's edits in a store that holds one care plan and one
    /// journal; `None` if no stream has finished setting them up.
    pub fn found(store: &Store) -> Result<Option<Found>> {
        let (Some(plan_id), Some(journal)) = (
            single(store, DocumentKind::CarePlan)?,
            single(store, DocumentKind::Journal)?,
        ) else {
            return Ok(None);
        };
        let plan = store.care_plan(&plan_id)?;
        let ([goal], [meeting]) = (plan.goals.as_slice(), plan.meetings.as_slice()) else {
            if plan.goals.len() > 1 || plan.meetings.len() > 1 {
                return Err("more than one goal or meeting".into());
            }
            return Ok(None);
        };
        let targets = Targets {
            plan: plan_id,
            journal,
            goal: goal.id.clone(),
            meeting: meeting.id.clone(),
            notes: String::new(),
        };
        collect(store, targets, &plan).map(Some)
    }

    /// The stream's edits in the documents of `targets`, which come back
    /// with the meeting's notes as they are now. On a store just opened,
    /// the safety plan is first read from its stored view (the view and
    /// the items appended after it), which must agree with the plan.
    pub fn found_in(store: &Store, targets: &Targets) -> Result<Found> {
        let view = store.safety_plan(&targets.plan)?;
        let plan = store.care_plan(&targets.plan)?;
        if view != plan.safety_plan {
            return Err("the stored safety-plan view differs from the care plan".into());
        }
        collect(store, targets.clone(), &plan)
    }

    fn collect(store: &Store, mut targets: Targets, plan: &CarePlan) -> Result<Found> {
        let goal = plan
            .goals
            .iter()
            .find(|g| g.id == targets.goal)
            .ok_or("the goal is gone")?;
        let meeting = plan
            .meetings
            .iter()
            .find(|m| m.id == targets.meeting)
            .ok_or("the meeting is gone")?;
        targets.notes.clone_from(&meeting.notes);
        let journal = targets.journal;
        let mut found = Found {
            targets,
            edits: BTreeMap::new(),
            strange: Vec::new(),
        };
        for list in SafetyList::ALL {
            for item in plan.safety_plan.list(*list) {
                found.add_label(&item.text, Kind::SafetyItem);
            }
        }
        for part in meeting.notes.split_terminator(';') {
            match part.parse() {
                Ok(n) => found.add(n, Kind::Notes),
                Err(_) => found.strange.push(format!("notes part {part:?}")),
            }
        }
        if !meeting.notes.is_empty() && !meeting.notes.ends_with(';') {
            found.strange.push("notes do not end with ';'".into());
        }
        for decision in &meeting.decisions {
            found.add_label(&decision.text, Kind::Decision);
        }
        for score in &goal.scores {
            let n = (score.date - score_day(0)).num_days();
            match u64::try_from(n) {
                Ok(n) if score.score == score_for(n) => found.add(n, Kind::GoalScore),
                _ => found.strange.push(format!("score {score:?}")),
            }
        }
        for check_in in store.journal(&journal)?.check_ins {
            if check_in.details.mood == parse_label(&check_in.details.note).map_or(11, score_for) {
                found.add_label(&check_in.details.note, Kind::CheckIn);
            } else {
                found.strange.push(format!(
                    "check-in, mood {}: {:?}…",
                    check_in.details.mood,
                    prefix(&check_in.details.note)
                ));
            }
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_keys_round_trip_and_reject_bad_input() {
        let key = StoreKey::new(std::array::from_fn(|i| (i * 7) as u8));
        let hex = key_to_hex(&key);
        assert_eq!(hex.len(), 64);
        assert_eq!(key_from_hex(&hex).unwrap().as_bytes(), key.as_bytes());
        assert!(key_from_hex(&hex[2..]).is_none());
        assert!(key_from_hex(&"zz".repeat(32)).is_none());
        assert!(key_from_hex(&"é".repeat(32)).is_none());
    }

    #[test]
    fn byte_search_finds_and_misses() {
        assert!(contains(b"xxCANARYyy", b"CANARY"));
        assert!(!contains(b"xxCANARyy", b"CANARY"));
        assert!(!contains(b"abc", b""));
        assert_eq!(find(b"abcabc", b"ca"), Some(2));
        let [le, be] = utf16_forms("Hi");
        assert_eq!(le, b"H\0i\0");
        assert_eq!(be, b"\0H\0i");
    }
}
