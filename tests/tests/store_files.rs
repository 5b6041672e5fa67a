//! The store on real files: nothing personal on disk in the clear, a wrong
//! key or a damaged file is reported and left exactly as it was, a second
//! opener is turned away, and everything written reads back after reopening.

use std::{fs, path::Path, time::Instant};

use lynchpin_core::{
    CheckInDetails, CrisisContactDetails, DocumentKind, Error, GoalDetails, GoalLifecycle,
    MeetingDetails, MeetingText, OpenError, OpenStep, SafetyList, Store, TeamMemberDetails,
    TeamRole, Thrive, generate,
};
use lynchpin_tests::{contains, date, find, key, plan_details, snapshot_dir, utf16_forms};
use tempfile::TempDir;

const CANARY: &str = "CANARY purple-elephant 7391";
const PAGE: usize = 4096;

fn open(path: &Path) -> Store {
    Store::open(path, &key(1)).unwrap()
}

/// Where in any file of `dir` a form of the canary occurs, if anywhere.
fn canary_sightings(dir: &Path) -> Vec<String> {
    let mut needles: Vec<(&str, Vec<u8>)> = vec![
        ("phrase", CANARY.as_bytes().to_vec()),
        ("substring", b"purple-elephant".to_vec()),
        ("subject", b"Canarysubject".to_vec()),
    ];
    let [le, be] = utf16_forms(CANARY);
    needles.push(("utf-16le", le));
    needles.push(("utf-16be", be));
    let mut seen = Vec::new();
    for (name, bytes) in snapshot_dir(dir) {
        for (form, needle) in &needles {
            if contains(&bytes, needle) {
                seen.push(format!("{form} in {name}"));
            }
        }
    }
    seen
}

#[test]
fn personal_text_never_reaches_the_disk_in_the_clear() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("device.lynchpin");
    let store = open(&path);
    let plan = store
        .create_care_plan(&plan_details(&format!("Canarysubject {CANARY}")))
        .unwrap();
    store
        .add_safety_item(&plan, SafetyList::WarningSigns, CANARY)
        .unwrap();
    store.set_code_word(&plan, Some("purple-elephant")).unwrap();
    let meeting = store
        .add_meeting(
            &plan,
            &MeetingDetails {
                date: date(2026, 11, 20),
                attendees: vec![CANARY.into()],
            },
        )
        .unwrap();
    store
        .set_meeting_text(&plan, &meeting, MeetingText::Notes, CANARY)
        .unwrap();
    store
        .set_meeting_text(&plan, &meeting, MeetingText::MyVoice, CANARY)
        .unwrap();
    store
        .add_crisis_contact(
            &plan,
            &CrisisContactDetails {
                name: CANARY.into(),
                phone: Some("0808 157 0001".into()),
                text_number: None,
                hours: "24/7".into(),
                region: "Testford".into(),
                last_checked: None,
            },
        )
        .unwrap();
    let journal = store.create_journal().unwrap();
    store
        .add_journal_note(&journal, CANARY, &format!("Today: {CANARY}"))
        .unwrap();
    store
        .add_check_in(
            &journal,
            &CheckInDetails {
                mood: 4,
                feelings: vec![CANARY.into()],
                note: CANARY.into(),
            },
        )
        .unwrap();
    // The phrase really is in the documents.
    assert_eq!(
        store.safety_plan(&plan).unwrap().warning_signs[0].text,
        CANARY
    );
    assert_eq!(store.journal(&journal).unwrap().notes[0].title, CANARY);

    // While open: the WAL holds the recent writes.
    let wal = dir.path().join("device.lynchpin-wal");
    assert!(
        fs::metadata(&wal).map(|m| m.len() > 0).unwrap_or(false),
        "expected a non-empty WAL while the store is open"
    );
    assert_eq!(canary_sightings(dir.path()), Vec::<String>::new());

    // After compaction (whole snapshots are rewritten) and after closing.
    store.compact().unwrap();
    assert_eq!(canary_sightings(dir.path()), Vec::<String>::new());
    drop(store);
    let files = snapshot_dir(dir.path());
    assert!(files.contains_key("device.lynchpin"));
    assert_eq!(canary_sightings(dir.path()), Vec::<String>::new());

    // The same scan finds the phrase in a database that stores it plainly,
    // so the assertions above could have failed.
    let control = TempDir::new().unwrap();
    let conn = rusqlite::Connection::open(control.path().join("plain.db")).unwrap();
    conn.execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (v TEXT);")
        .unwrap();
    conn.execute(
        "INSERT INTO t VALUES (?1)",
        [format!("Canarysubject {CANARY}")],
    )
    .unwrap();
    let seen = canary_sightings(control.path());
    assert!(
        seen.contains(&"phrase in plain.db-wal".to_string()),
        "{seen:?}"
    );

    // And the data is still there for the right key.
    let store = open(&path);
    assert_eq!(
        store.care_plan(&plan).unwrap().details.subject_name,
        format!("Canarysubject {CANARY}")
    );
}

/// A store with a care plan and a directory, closed.
fn small_store(path: &Path) {
    let store = open(path);
    let plan = store.create_care_plan(&plan_details("Alex")).unwrap();
    for i in 0..40 {
        store
            .add_safety_item(&plan, SafetyList::CopingStrategies, &format!("idea {i}"))
            .unwrap();
    }
    generate::directory(&store, 3, 10).unwrap();
}

#[test]
fn wrong_key_is_reported_and_changes_nothing() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("device.lynchpin");
    small_store(&path);
    let content = read_all(&open(&path)).unwrap();
    let before = snapshot_dir(dir.path());
    assert_eq!(before.keys().collect::<Vec<_>>(), ["device.lynchpin"]);

    for wrong in [key(2), key(0), lynchpin_core::StoreKey::generate().unwrap()] {
        let error = Store::open(&path, &wrong).unwrap_err();
        assert!(matches!(error, OpenError::WrongKey), "{error:?}");
        assert_eq!(
            snapshot_dir(dir.path()),
            before,
            "a wrong key changed the files"
        );
    }

    assert!(read_all(&open(&path)).unwrap() == content);
}

/// Opens `path` and expects the exact error `expected`, with every file of
/// the directory left as it was.
fn assert_open_fails(path: &Path, expected: &OpenError) {
    let dir = path.parent().unwrap();
    let before = snapshot_dir(dir);
    let error = Store::open(path, &key(1)).unwrap_err();
    assert_eq!(
        format!("{error:?}"),
        format!("{expected:?}"),
        "opening {}",
        path.display()
    );
    assert_eq!(snapshot_dir(dir), before, "a failed open changed the files");
}

fn corrupt(step: OpenStep) -> OpenError {
    OpenError::Corrupt { step }
}

#[test]
fn garbage_file_is_corrupt_and_kept() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("device.lynchpin");
    let mut rng = generate::Rng::new(7);
    let garbage: Vec<u8> = (0..3 * PAGE).map(|_| rng.next_u64() as u8).collect();
    fs::write(&path, &garbage).unwrap();
    assert_open_fails(&path, &corrupt(OpenStep::ReadHeader));
    assert_eq!(fs::read(&path).unwrap(), garbage);
    // Twice: the first failure left nothing behind that changes the answer.
    assert_open_fails(&path, &corrupt(OpenStep::ReadHeader));
}

/// What a store holds, read through the public API.
#[derive(Debug, PartialEq)]
enum Content {
    Plan(Box<lynchpin_core::CarePlan>),
    Directory(lynchpin_core::ResourceDirectory),
    Journal(lynchpin_core::Journal),
}

fn read_all(store: &Store) -> Result<Vec<Content>, Error> {
    store
        .documents()?
        .into_iter()
        .map(|d| {
            Ok(match d.kind {
                DocumentKind::CarePlan => Content::Plan(Box::new(store.care_plan(&d.id)?)),
                DocumentKind::ResourceDirectory => Content::Directory(store.directory(&d.id)?),
                DocumentKind::Journal => Content::Journal(store.journal(&d.id)?),
            })
        })
        .collect()
}

/// What opening and reading a damaged copy of a store gave.
#[derive(Debug)]
enum Outcome {
    OpenFailed(OpenError),
    ReadFailed(Error),
    ReadBack(Vec<Content>),
}

/// Opens a copy of a store holding `bytes` and reads everything in it;
/// checks that this left the file as it was.
fn open_and_read(bytes: &[u8]) -> Outcome {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("device.lynchpin");
    fs::write(&path, bytes).unwrap();
    let outcome = match Store::open(&path, &key(1)) {
        Err(e) => Outcome::OpenFailed(e),
        Ok(store) => match read_all(&store) {
            Ok(content) => Outcome::ReadBack(content),
            Err(e) => Outcome::ReadFailed(e),
        },
    };
    let files = snapshot_dir(dir.path());
    assert_eq!(files.len(), 1, "{:?}", files.keys());
    assert!(
        files["device.lynchpin"] == bytes,
        "the file changed: {outcome:?}"
    );
    outcome
}

/// The damage was reported — at open, or by the read that met it — or it
/// hit nothing that is read and everything reads back as it was. Never
/// different data, never a panic.
fn assert_reported_or_harmless(outcome: Outcome, original: &[Content], what: &str) {
    match outcome {
        Outcome::OpenFailed(OpenError::Corrupt { .. } | OpenError::NotAStore)
        | Outcome::ReadFailed(Error::Corrupt { .. } | Error::Storage(_)) => {}
        Outcome::ReadBack(content) => {
            assert!(
                content == original,
                "{what}: damaged store read back other data"
            );
        }
        other => panic!("{what}: {other:?}"),
    }
}

/// A store with a little of everything, closed, as bytes; and what it holds.
fn small_store_bytes(compact: bool) -> (Vec<u8>, Vec<Content>) {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("device.lynchpin");
    small_store(&path);
    if compact {
        open(&path).compact().unwrap();
    }
    let content = read_all(&open(&path)).unwrap();
    let files = snapshot_dir(dir.path());
    assert_eq!(files.len(), 1, "{:?}", files.keys());
    let bytes = files.into_values().next().unwrap();
    match open_and_read(&bytes) {
        Outcome::ReadBack(read) => assert!(read == content),
        other => panic!("the undamaged copy: {other:?}"),
    }
    (bytes, content)
}

#[test]
fn truncated_store_is_corrupt_and_kept() {
    let (bytes, content) = small_store_bytes(false);
    assert!(
        bytes.len() >= 8 * PAGE,
        "store is only {} bytes",
        bytes.len()
    );
    assert_eq!(bytes.len() % PAGE, 0);

    for len in [
        100,
        PAGE,
        bytes.len() / 2 / PAGE * PAGE,
        bytes.len() / 2 + 1000,
        bytes.len() - PAGE,
    ] {
        match open_and_read(&bytes[..len]) {
            Outcome::OpenFailed(OpenError::Corrupt {
                step: OpenStep::ReadHeader,
            }) => {}
            other => panic!("truncated to {len} of {}: {other:?}", bytes.len()),
        }
    }
    // Cut inside the last page, SQLite reads the missing bytes as zeros and
    // its quick check does not look at cell contents: the damage is found
    // when the sealed blob it lands in is read.
    for cut in [1, 100, PAGE - 1] {
        let outcome = open_and_read(&bytes[..bytes.len() - cut]);
        assert_reported_or_harmless(outcome, &content, &format!("{cut} bytes cut"));
    }
}

#[test]
fn overwritten_bytes_are_reported_not_read_and_kept() {
    let (bytes, content) = small_store_bytes(true);
    let Some(Content::Plan(plan)) = content.iter().find(|c| matches!(c, Content::Plan(_))) else {
        panic!("no plan in {content:?}");
    };
    let damaged = |offset: usize, len: usize| {
        let mut damaged = bytes.clone();
        for b in &mut damaged[offset..offset + len] {
            *b ^= 0xA5;
        }
        open_and_read(&damaged)
    };

    // Inside the plan's sealed snapshot: SQLite's structure is intact, so
    // the store opens, and the snapshot fails its authentication. (Freed
    // pages can hold stale copies of a blob, so every copy is damaged.)
    let sealed: Vec<u8> = {
        let dir = TempDir::new().unwrap();
        let path = dir.path().join("copy.db");
        fs::write(&path, &bytes).unwrap();
        rusqlite::Connection::open(&path)
            .unwrap()
            .query_row(
                "SELECT blob FROM snapshots WHERE doc_id = ?1",
                [plan.id.as_bytes()],
                |row| row.get(0),
            )
            .unwrap()
    };
    let chunk = &sealed[sealed.len() / 2..sealed.len() / 2 + 32];
    let mut copy = bytes.clone();
    let mut copies = 0;
    while let Some(at) = find(&copy, chunk) {
        copy[at + 8] ^= 0xA5;
        copies += 1;
    }
    assert!(copies > 0, "the sealed snapshot is not in the file");
    match open_and_read(&copy) {
        Outcome::ReadFailed(Error::Corrupt { what }) => assert_eq!(what, "document snapshot"),
        other => panic!("damaged snapshot: {other:?}"),
    }

    // The header of the first table's root page (page 2): the open's
    // integrity check finds it.
    match damaged(PAGE, 16) {
        Outcome::OpenFailed(OpenError::Corrupt { .. }) => {}
        other => panic!("damaged page 2: {other:?}"),
    }

    // Anywhere else: a clear error, or everything as it was.
    for page in 0..bytes.len() / PAGE {
        for (offset, len) in [
            (page * PAGE, 8),
            (page * PAGE + 1000, 100),
            (page * PAGE + 3000, 64),
        ] {
            let outcome = damaged(offset, len);
            assert_reported_or_harmless(outcome, &content, &format!("damage at {offset}"));
        }
    }
}

#[test]
fn another_applications_database_is_not_a_store_and_kept() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("notes.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);
             INSERT INTO notes (body) VALUES ('shopping list'), ('dentist');",
        )
        .unwrap();
    }
    let bytes = fs::read(&path).unwrap();
    assert_open_fails(&path, &OpenError::NotAStore);
    assert_eq!(fs::read(&path).unwrap(), bytes);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let rows: i64 = conn
        .query_row("SELECT count(*) FROM notes", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 2);
}

#[test]
fn a_second_opener_is_locked_out_until_the_first_closes() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("device.lynchpin");
    let first = open(&path);
    let plan = first.create_care_plan(&plan_details("Alex")).unwrap();

    let started = Instant::now();
    let error = Store::open(&path, &key(1)).unwrap_err();
    let waited = started.elapsed();
    assert!(matches!(error, OpenError::Locked), "{error:?}");
    assert!(
        waited.as_secs_f64() < 2.0,
        "took {waited:?} to report the lock"
    );
    // A wrong key is also told it is locked, not that the key is wrong.
    assert!(matches!(
        Store::open(&path, &key(9)).unwrap_err(),
        OpenError::Locked
    ));

    // The first store is unharmed and still writes.
    first
        .add_safety_item(&plan, SafetyList::ReasonsForLiving, "My dog")
        .unwrap();
    drop(first);

    let second = open(&path);
    assert_eq!(
        second.safety_plan(&plan).unwrap().reasons_for_living[0].text,
        "My dog"
    );
}

#[test]
fn everything_reads_back_equal_after_reopening() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("device.lynchpin");
    let mut rng = generate::Rng::new(11);
    let store = open(&path);
    let directory = generate::directory(&store, 5, 50).unwrap();
    let resources = store.directory(&directory).unwrap().resources;
    assert_eq!(resources.len(), 50);

    let plan = store.create_care_plan(&plan_details("Riley")).unwrap();
    store
        .set_thrive(&plan, Thrive::GettingHelp, date(2026, 11, 2))
        .unwrap();
    let member = store
        .add_team_member(
            &plan,
            &TeamMemberDetails {
                display_name: "Dr Ada Example".into(),
                role: TeamRole::CareCoordinator,
                device: Some(store.device_id()),
                since: Some(date(2026, 11, 1)),
                until: None,
            },
        )
        .unwrap();
    store.set_coordinator(&plan, &member).unwrap();
    let goal = store
        .add_goal(
            &plan,
            &GoalDetails {
                description: "Sleep before midnight".into(),
                expressed_by: "Riley".into(),
                lifecycle: GoalLifecycle::Active,
                achievement: None,
                target_date: Some(date(2027, 2, 1)),
            },
        )
        .unwrap();
    let meeting = store
        .add_meeting(
            &plan,
            &MeetingDetails {
                date: date(2026, 11, 20),
                attendees: vec!["Riley".into(), "Dr Ada Example".into()],
            },
        )
        .unwrap();
    let journal = store.create_journal().unwrap();
    let mut notes = String::new();
    for i in 0..60u32 {
        if i == 30 {
            // Half of what follows is read from a snapshot, half from the
            // increments after it.
            store.compact().unwrap();
        }
        store
            .record_goal_score(&plan, &goal, date(2026, 12, 1 + i % 28), (i % 11) as u8)
            .unwrap();
        let list = SafetyList::ALL[i as usize % SafetyList::ALL.len()];
        store
            .add_safety_item(&plan, list, &generate::sentence(&mut rng, 5))
            .unwrap();
        notes.push_str(&generate::sentence(&mut rng, 4));
        store
            .set_meeting_text(&plan, &meeting, MeetingText::Notes, &notes)
            .unwrap();
        store
            .add_check_in(
                &journal,
                &CheckInDetails {
                    mood: (i % 11) as u8,
                    feelings: vec!["tired".into(), "hopeful".into()],
                    note: generate::sentence(&mut rng, 6),
                },
            )
            .unwrap();
        if i % 10 == 0 {
            store
                .add_decision(&plan, &meeting, &format!("decision {i}"))
                .unwrap();
            let resource = &resources[i as usize % resources.len()];
            store
                .add_signpost(
                    &plan,
                    &lynchpin_core::ResourceRef {
                        directory,
                        resource: resource.id.clone(),
                    },
                    "Dr Ada Example",
                    "Might help with sleep",
                    date(2026, 11, 21),
                )
                .unwrap();
        }
    }
    store
        .splice_meeting_text(&plan, &meeting, MeetingText::MyVoice, 0, 0, "I'd like ")
        .unwrap();
    let first_item = store.safety_plan(&plan).unwrap().warning_signs[0]
        .id
        .clone();
    store.remove_safety_item(&plan, &first_item).unwrap();
    let note = store
        .add_journal_note(&journal, "Before review", "I want to say")
        .unwrap();
    store
        .update_journal_note(&journal, &note, "Before review", "I want to say I'm proud")
        .unwrap();

    let device = store.device_id();
    let documents = store.documents().unwrap();
    let plan_before = store.care_plan(&plan).unwrap();
    let before = read_all(&store).unwrap();
    drop(store);

    let store = open(&path);
    assert_eq!(store.device_id(), device);
    assert_eq!(store.documents().unwrap(), documents);
    assert_eq!(store.care_plan(&plan).unwrap(), plan_before);
    let after = read_all(&store).unwrap();
    assert_eq!(after.len(), before.len());
    for (after, before) in after.iter().zip(&before) {
        assert_eq!(after, before);
    }

    // And what was compared is what was written.
    assert_eq!(documents.len(), 3);
    assert_eq!(plan_before.goals[0].scores.len(), 60);
    assert_eq!(plan_before.meetings[0].notes, notes);
    assert_eq!(plan_before.meetings[0].my_voice, "I'd like ");
    assert_eq!(plan_before.meetings[0].decisions.len(), 6);
    assert_eq!(plan_before.signposts.len(), 6);
    let items: usize = SafetyList::ALL
        .iter()
        .map(|l| plan_before.safety_plan.list(*l).len())
        .sum();
    assert_eq!(items, 59);
    let journal = store.journal(&journal).unwrap();
    assert_eq!(journal.check_ins.len(), 60);
    assert_eq!(journal.notes[0].body, "I want to say I'm proud");
    assert_eq!(store.directory(&directory).unwrap().resources, resources);
}
