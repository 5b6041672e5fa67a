//! Store behaviour on real files: persistence, reopening, merging,
//! conflicts and input checks.

use chrono::NaiveDate;
use tempfile::TempDir;

use crate::*;

fn key() -> StoreKey {
    StoreKey::new([42; 32])
}

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
}

fn plan_details() -> CarePlanDetails {
    CarePlanDetails {
        subject_name: "Alex".into(),
        status: PlanStatus::Active,
        period_start: Some(day(1)),
        period_end: None,
        next_review: Some(day(28)),
    }
}

fn contact(phone: &str) -> CrisisContactDetails {
    CrisisContactDetails {
        name: "Crisis line (fictional)".into(),
        phone: Some(phone.into()),
        text_number: None,
        hours: "24/7".into(),
        region: "Testford".into(),
        last_checked: Some(day(1)),
    }
}

fn open(dir: &TempDir, name: &str) -> Store {
    Store::open(dir.path().join(name), &key()).unwrap()
}

#[test]
fn edits_survive_reopening_and_device_id_is_stable() {
    let dir = tempfile::tempdir().unwrap();
    let (plan, goal, device) = {
        let store = open(&dir, "a.db");
        let plan = store.create_care_plan(&plan_details()).unwrap();
        let goal = store
            .add_goal(
                &plan,
                &GoalDetails {
                    description: "Sleep before midnight".into(),
                    expressed_by: "Alex".into(),
                    lifecycle: GoalLifecycle::Active,
                    achievement: None,
                    target_date: None,
                },
            )
            .unwrap();
        store.record_goal_score(&plan, &goal, day(2), 3).unwrap();
        store.record_goal_score(&plan, &goal, day(9), 5).unwrap();
        store
            .add_safety_item(&plan, SafetyList::WarningSigns, "Not sleeping")
            .unwrap();
        (plan, goal, store.device_id())
    };
    let store = open(&dir, "a.db");
    assert_eq!(store.device_id(), device);
    let read = store.care_plan(&plan).unwrap();
    assert_eq!(read.details, plan_details());
    assert_eq!(read.goals.len(), 1);
    assert_eq!(read.goals[0].id, goal);
    let scores: Vec<u8> = read.goals[0].scores.iter().map(|s| s.score).collect();
    assert_eq!(scores, [3, 5]);
    assert_eq!(read.goals[0].scores[0].recorded_by, Some(device));
    assert_eq!(read.safety_plan.warning_signs[0].text, "Not sleeping");
    assert_eq!(
        store.documents().unwrap(),
        [DocumentSummary {
            id: plan,
            kind: DocumentKind::CarePlan
        }]
    );
}

#[test]
fn every_edit_is_one_change_by_this_device() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir, "a.db");
    let plan = store.create_care_plan(&plan_details()).unwrap();
    store
        .add_safety_item(&plan, SafetyList::CopingStrategies, "Walk")
        .unwrap();
    store.set_code_word(&plan, Some("pineapple")).unwrap();
    let doc = automerge::Automerge::load(&store.export(&plan).unwrap()).unwrap();
    let changes = doc.get_changes(&[]);
    assert_eq!(changes.len(), 3);
    for change in changes {
        assert_eq!(
            DeviceId::from_actor(change.actor_id()),
            Some(store.device_id())
        );
    }
}

#[test]
fn unchanged_update_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir, "a.db");
    let plan = store.create_care_plan(&plan_details()).unwrap();
    let before = store.export(&plan).unwrap();
    store.update_care_plan(&plan, &plan_details()).unwrap();
    assert_eq!(store.export(&plan).unwrap(), before);
}

#[test]
fn two_replicas_typing_into_meeting_notes_merge_by_character() {
    let dir = tempfile::tempdir().unwrap();
    let a = open(&dir, "a.db");
    let b = open(&dir, "b.db");
    let plan = a.create_care_plan(&plan_details()).unwrap();
    a.grant(&plan, b.device_id(), Role::Writer).unwrap();
    let meeting = a
        .add_meeting(
            &plan,
            &MeetingDetails {
                date: day(20),
                attendees: vec!["Alex".into()],
            },
        )
        .unwrap();
    a.set_meeting_text(&plan, &meeting, MeetingText::Notes, "Agreed plan.")
        .unwrap();
    b.import(&a.export(&plan).unwrap()).unwrap();
    a.set_meeting_text(
        &plan,
        &meeting,
        MeetingText::Notes,
        "Agreed plan. Alex to try the group.",
    )
    .unwrap();
    b.splice_meeting_text(&plan, &meeting, MeetingText::Notes, 0, 0, "Review: ")
        .unwrap();
    b.import(&a.export(&plan).unwrap()).unwrap();
    a.import(&b.export(&plan).unwrap()).unwrap();
    let notes_a = a.care_plan(&plan).unwrap().meetings[0].notes.clone();
    let notes_b = b.care_plan(&plan).unwrap().meetings[0].notes.clone();
    assert_eq!(notes_a, notes_b);
    assert_eq!(notes_a, "Review: Agreed plan. Alex to try the group.");
}

#[test]
fn concurrent_crisis_contact_edits_are_shown_and_resolved() {
    let dir = tempfile::tempdir().unwrap();
    let a = open(&dir, "a.db");
    let b = open(&dir, "b.db");
    let plan = a.create_care_plan(&plan_details()).unwrap();
    a.grant(&plan, b.device_id(), Role::Writer).unwrap();
    let crisis = a
        .add_crisis_contact(&plan, &contact("0808 157 0001"))
        .unwrap();
    let item = a
        .add_safety_item(&plan, SafetyList::PeopleToAsk, "Aunt")
        .unwrap();
    b.import(&a.export(&plan).unwrap()).unwrap();

    a.update_crisis_contact(&plan, &crisis, &contact("0808 157 0002"))
        .unwrap();
    b.update_crisis_contact(&plan, &crisis, &contact("0808 157 0003"))
        .unwrap();
    a.update_safety_item(&plan, &item, "Aunt Jo").unwrap();
    b.update_safety_item(&plan, &item, "Aunty").unwrap();
    b.import(&a.export(&plan).unwrap()).unwrap();
    a.import(&b.export(&plan).unwrap()).unwrap();

    for store in [&a, &b] {
        let conflicts = store.conflicts(&plan).unwrap();
        assert_eq!(conflicts.len(), 2, "{conflicts:?}");
        assert!(store.safety_plan(&plan).unwrap().has_conflicts);
        let phone = conflicts
            .iter()
            .find(|c| {
                matches!(
                    c.field,
                    ConflictField::CrisisContact {
                        field: ContactField::Phone,
                        ..
                    }
                )
            })
            .unwrap();
        let mut values: Vec<_> = phone
            .values
            .iter()
            .map(|v| (v.value.clone().unwrap(), v.author.unwrap()))
            .collect();
        values.sort();
        assert_eq!(
            values,
            [
                ("0808 157 0002".to_string(), a.device_id()),
                ("0808 157 0003".to_string(), b.device_id())
            ]
        );
    }
    let field = ConflictField::CrisisContact {
        contact: crisis.clone(),
        field: ContactField::Phone,
    };
    a.resolve_conflict(&plan, &field, Some("0808 157 0003"))
        .unwrap();
    b.import(&a.export(&plan).unwrap()).unwrap();
    let remaining = b.conflicts(&plan).unwrap();
    assert_eq!(remaining.len(), 1);
    assert!(matches!(
        remaining[0].field,
        ConflictField::SafetyItem { .. }
    ));
    let contact = &b.safety_plan(&plan).unwrap().crisis_contacts[0];
    assert_eq!(contact.details.phone.as_deref(), Some("0808 157 0003"));
}

#[test]
fn removed_safety_items_are_kept_and_can_be_restored() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir, "a.db");
    let plan = store.create_care_plan(&plan_details()).unwrap();
    let item = store
        .add_safety_item(&plan, SafetyList::ReasonsForLiving, "My dog")
        .unwrap();
    store.remove_safety_item(&plan, &item).unwrap();
    assert!(
        store
            .safety_plan(&plan)
            .unwrap()
            .reasons_for_living
            .is_empty()
    );
    store.restore_safety_item(&plan, &item).unwrap();
    assert_eq!(
        store.safety_plan(&plan).unwrap().reasons_for_living[0].text,
        "My dog"
    );
}

#[test]
fn bad_input_is_a_typed_error_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir, "a.db");
    let plan = store.create_care_plan(&plan_details()).unwrap();
    let before = store.export(&plan).unwrap();
    let goal = store
        .add_goal(
            &plan,
            &GoalDetails {
                description: "Go to school".into(),
                expressed_by: String::new(),
                lifecycle: GoalLifecycle::Proposed,
                achievement: None,
                target_date: None,
            },
        )
        .unwrap();
    let after_goal = store.export(&plan).unwrap();
    assert_ne!(before, after_goal);

    let invalid = |e: Error| match e {
        Error::Invalid(i) => i.field,
        other => panic!("expected invalid input, got {other:?}"),
    };
    assert_eq!(
        invalid(
            store
                .record_goal_score(&plan, &goal, day(1), 11)
                .unwrap_err()
        ),
        "score"
    );
    assert_eq!(
        invalid(
            store
                .add_safety_item(&plan, SafetyList::WarningSigns, "  ")
                .unwrap_err()
        ),
        "text"
    );
    assert_eq!(
        invalid(
            store
                .add_safety_item(&plan, SafetyList::WarningSigns, &"x".repeat(5000))
                .unwrap_err()
        ),
        "text"
    );
    assert_eq!(
        invalid(
            store
                .add_crisis_contact(&plan, &contact("call me"))
                .unwrap_err()
        ),
        "phone"
    );
    let mut old = plan_details();
    old.period_start = NaiveDate::from_ymd_opt(1066, 10, 14);
    assert_eq!(
        invalid(store.update_care_plan(&plan, &old).unwrap_err()),
        "period_start"
    );
    let meeting = store
        .add_meeting(
            &plan,
            &MeetingDetails {
                date: day(3),
                attendees: vec![],
            },
        )
        .unwrap();
    let before_splice = store.export(&plan).unwrap();
    assert!(matches!(
        store
            .splice_meeting_text(&plan, &meeting, MeetingText::Notes, 5, 0, "x")
            .unwrap_err(),
        Error::Invalid(_)
    ));
    assert_eq!(store.export(&plan).unwrap(), before_splice);

    let missing: ItemId = "00000000-0000-4000-8000-000000000000".parse().unwrap();
    assert!(matches!(
        store
            .update_safety_item(&plan, &missing, "text")
            .unwrap_err(),
        Error::NotFound {
            what: "safety-plan item",
            ..
        }
    ));
    assert!(matches!(
        store.journal(&plan).unwrap_err(),
        Error::WrongKind {
            expected: DocumentKind::Journal,
            ..
        }
    ));
    assert!(matches!(
        store.import(b"garbage").unwrap_err(),
        Error::InvalidDocument(_)
    ));
    assert_eq!(store.export(&plan).unwrap(), before_splice);
}

#[test]
fn import_is_idempotent_and_export_loads_in_plain_automerge() {
    let dir = tempfile::tempdir().unwrap();
    let a = open(&dir, "a.db");
    let b = open(&dir, "b.db");
    let directory = a.create_directory("Fictional Trust").unwrap();
    let mut rng = generate::Rng::new(1);
    let resource = a
        .add_resource(&directory, &generate::resource_details(&mut rng, 0))
        .unwrap();
    let bytes = a.export(&directory).unwrap();
    let first = b.import(&bytes).unwrap();
    assert!(!first.existed);
    let second = b.import(&bytes).unwrap();
    assert_eq!(second.new_changes, 0);
    assert_eq!(
        b.directory(&directory).unwrap(),
        a.directory(&directory).unwrap()
    );
    assert_eq!(b.resource(&directory, &resource).unwrap().id, resource);
    let plain = automerge::Automerge::load(&bytes).unwrap();
    assert_eq!(
        plain.get_heads(),
        automerge::Automerge::load(&b.export(&directory).unwrap())
            .unwrap()
            .get_heads()
    );
}

#[test]
fn journal_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir, "a.db");
    let journal = store.create_journal().unwrap();
    let check_in = store
        .add_check_in(
            &journal,
            &CheckInDetails {
                mood: 6,
                feelings: vec!["tired".into()],
                note: "ok day".into(),
            },
        )
        .unwrap();
    let note = store
        .add_journal_note(&journal, "Before review", "I want to say")
        .unwrap();
    store
        .update_journal_note(&journal, &note, "Before review", "I want to say I'm proud")
        .unwrap();
    let read = store.journal(&journal).unwrap();
    assert_eq!(read.check_ins[0].id, check_in);
    assert_eq!(read.check_ins[0].details.mood, 6);
    assert_eq!(read.notes[0].body, "I want to say I'm proud");
    assert!(
        store
            .add_check_in(
                &journal,
                &CheckInDetails {
                    mood: 11,
                    feelings: vec![],
                    note: String::new()
                }
            )
            .is_err()
    );
    store.remove_check_in(&journal, &check_in).unwrap();
    assert!(store.journal(&journal).unwrap().check_ins.is_empty());
}

#[test]
fn compaction_keeps_every_edit() {
    let dir = tempfile::tempdir().unwrap();
    let plan;
    {
        let store = open(&dir, "a.db");
        plan = store.create_care_plan(&plan_details()).unwrap();
        for i in 0..300 {
            store
                .add_safety_item(&plan, SafetyList::CopingStrategies, &format!("idea {i}"))
                .unwrap();
        }
        store.compact().unwrap();
        store
            .add_safety_item(&plan, SafetyList::CopingStrategies, "after compaction")
            .unwrap();
    }
    let store = open(&dir, "a.db");
    let items = store.safety_plan(&plan).unwrap().coping_strategies;
    assert_eq!(items.len(), 301);
    assert_eq!(items[300].text, "after compaction");
}

#[test]
fn compacting_and_deleting_give_free_pages_back() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir, "a.db");
    let free_pages = |store: &Store| -> i64 {
        store
            .lock()
            .conn
            .query_row("PRAGMA freelist_count", [], |row| row.get(0))
            .unwrap()
    };
    let directory = generate::directory(&store, 1, 100).unwrap();
    store.compact().unwrap();
    assert_eq!(free_pages(&store), 0);
    store.delete_document(&directory).unwrap();
    assert_eq!(free_pages(&store), 0);
}

/// Everything about a database's schema that a migration can change.
fn schema_dump(path: &std::path::Path) -> Vec<String> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut out: Vec<String> = conn
        .prepare("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name")
        .unwrap()
        .query_map([], |row| {
            Ok(format!(
                "{}|{}|{}|{}",
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, Option<String>>(3)?.unwrap_or_default()
            ))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for pragma in [
        "user_version",
        "application_id",
        "auto_vacuum",
        "journal_mode",
    ] {
        let value: rusqlite::types::Value = conn
            .query_row(&format!("PRAGMA {pragma}"), [], |row| row.get(0))
            .unwrap();
        out.push(format!("{pragma}={value:?}"));
    }
    out
}

#[test]
fn database_upgraded_step_by_step_equals_a_fresh_one() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("old.db");
    let latest = super::schema::latest_version();
    assert!(latest >= 2, "there must be an upgrade to test");
    // A store created at version 1 that holds data, as version 1 wrote it
    // (a document row and its snapshot), then upgraded one version at a time.
    let source = open(&dir, "source.db");
    let plan = source.create_care_plan(&plan_details()).unwrap();
    source
        .add_safety_item(&plan, SafetyList::WarningSigns, "Not sleeping")
        .unwrap();
    let bytes = source.export(&plan).unwrap();
    drop(source);
    {
        let store = Store::open_at_version(&old, &key(), 1).unwrap();
        let inner = store.lock();
        let header = inner
            .sealer
            .seal(&super::aad("header", &plan, None), b"care-plan")
            .unwrap();
        let snapshot = inner
            .sealer
            .seal(&super::aad("snapshot", &plan, None), &bytes)
            .unwrap();
        inner
            .conn
            .execute(
                "INSERT INTO documents (id, header) VALUES (?1, ?2)",
                rusqlite::params![plan.as_bytes(), header],
            )
            .unwrap();
        inner
            .conn
            .execute(
                "INSERT INTO snapshots (doc_id, blob) VALUES (?1, ?2)",
                rusqlite::params![plan.as_bytes(), snapshot],
            )
            .unwrap();
    }
    for version in 2..=latest {
        drop(Store::open_at_version(&old, &key(), version).unwrap());
        assert!(schema_dump(&old).contains(&format!("user_version=Integer({version})")));
    }
    let upgraded = Store::open(&old, &key()).unwrap();
    assert_eq!(
        upgraded.safety_plan(&plan).unwrap().warning_signs[0].text,
        "Not sleeping"
    );
    drop(upgraded);

    let fresh = dir.path().join("fresh.db");
    drop(Store::open(&fresh, &key()).unwrap());
    assert_eq!(schema_dump(&old), schema_dump(&fresh));
}

#[test]
fn a_store_from_a_newer_version_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.db");
    drop(open(&dir, "a.db"));
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    assert!(matches!(
        Store::open(&path, &key()).unwrap_err(),
        OpenError::NewerSchema { found: 99, .. }
    ));
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn editing_another_field_does_not_silently_resolve_a_conflict() {
    let dir = tempfile::tempdir().unwrap();
    let a = open(&dir, "a.db");
    let b = open(&dir, "b.db");
    let plan = a.create_care_plan(&plan_details()).unwrap();
    a.grant(&plan, b.device_id(), Role::Writer).unwrap();
    let crisis = a
        .add_crisis_contact(&plan, &contact("0808 157 0001"))
        .unwrap();
    b.import(&a.export(&plan).unwrap()).unwrap();
    a.update_crisis_contact(&plan, &crisis, &contact("0808 157 0002"))
        .unwrap();
    b.update_crisis_contact(&plan, &crisis, &contact("0808 157 0003"))
        .unwrap();
    a.import(&b.export(&plan).unwrap()).unwrap();
    assert_eq!(a.conflicts(&plan).unwrap().len(), 1);
    // The app passes back what it shows, with only the hours changed.
    let mut shown = a.safety_plan(&plan).unwrap().crisis_contacts[0]
        .details
        .clone();
    shown.hours = "Mon-Fri".into();
    a.update_crisis_contact(&plan, &crisis, &shown).unwrap();
    let conflicts = a.conflicts(&plan).unwrap();
    assert_eq!(
        conflicts.len(),
        1,
        "the phone conflict must stay until resolved"
    );
    assert_eq!(conflicts[0].values.len(), 2);
    assert_eq!(
        a.safety_plan(&plan).unwrap().crisis_contacts[0]
            .details
            .hours,
        "Mon-Fri"
    );
}

#[test]
fn the_safety_plan_reads_on_a_cold_start_without_loading_the_plan() {
    let dir = tempfile::tempdir().unwrap();
    let a = open(&dir, "a.db");
    let b = open(&dir, "b.db");
    let plan = a.create_care_plan(&plan_details()).unwrap();
    a.grant(&plan, b.device_id(), Role::Writer).unwrap();
    a.add_safety_item(&plan, SafetyList::WarningSigns, "Not sleeping")
        .unwrap();
    let crisis = a
        .add_crisis_contact(&plan, &contact("0808 157 0001"))
        .unwrap();
    b.import(&a.export(&plan).unwrap()).unwrap();
    // A concurrent edit merged in: the stored view must follow merges too.
    a.update_crisis_contact(&plan, &crisis, &contact("0808 157 0002"))
        .unwrap();
    b.update_crisis_contact(&plan, &crisis, &contact("0808 157 0003"))
        .unwrap();
    b.import(&a.export(&plan).unwrap()).unwrap();
    let expected = b.safety_plan(&plan).unwrap();
    assert!(expected.has_conflicts);
    drop(b);

    let b = open(&dir, "b.db");
    let cold = b.safety_plan(&plan).unwrap();
    assert!(
        b.lock().docs.is_empty(),
        "the plan was loaded to read its safety plan"
    );
    assert_eq!(cold, expected);
    // Loading the whole plan gives the same safety plan.
    assert_eq!(b.care_plan(&plan).unwrap().safety_plan, expected);
    assert!(matches!(
        b.safety_plan(&b.create_journal().unwrap()).unwrap_err(),
        Error::WrongKind { .. }
    ));
}

fn synchronous(store: &Store) -> i64 {
    store
        .lock()
        .conn
        .query_row("PRAGMA synchronous", [], |row| row.get(0))
        .unwrap()
}

#[test]
fn durability_is_chosen_at_each_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.db");
    let process_crash = StoreOptions {
        durability: Durability::ProcessCrash,
    };
    let store = Store::open(&path, &key()).unwrap();
    assert_eq!(store.durability(), Durability::Full);
    assert_eq!(synchronous(&store), 2, "FULL");
    drop(store);
    let store = Store::open_with(&path, &key(), process_crash).unwrap();
    assert_eq!(store.durability(), Durability::ProcessCrash);
    assert_eq!(synchronous(&store), 1, "NORMAL");
    drop(store);
    // Not remembered by the file.
    assert_eq!(synchronous(&Store::open(&path, &key()).unwrap()), 2);
}

/// A copy of the store's database file without its WAL, opened: what the
/// file alone holds.
fn database_file_alone(store: &Store, dir: &TempDir, name: &str) -> Store {
    let copy = dir.path().join(name);
    std::fs::copy(store.path(), &copy).unwrap();
    Store::open(&copy, &key()).unwrap()
}

/// With `Durability::ProcessCrash` a commit is not synced, so it is in the
/// WAL only, until a checkpoint. Before bytes leave the device (export, a
/// sync request or answer) the store checkpoints, which syncs the WAL and
/// then the database file: afterwards the database file alone holds
/// everything, and a power cut can no longer take back a change that another
/// device has.
#[test]
fn without_an_fsync_per_edit_nothing_leaves_the_device_before_it_is_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let a = Store::open_with(
        dir.path().join("a.db"),
        &key(),
        StoreOptions {
            durability: Durability::ProcessCrash,
        },
    )
    .unwrap();
    let b = open(&dir, "b.db");
    let items = |store: &Store, plan| store.safety_plan(plan).unwrap().warning_signs.len();

    let plan = a.create_care_plan(&plan_details()).unwrap();
    assert!(
        database_file_alone(&a, &dir, "1.db")
            .documents()
            .unwrap()
            .is_empty(),
        "the test needs the new plan to be in the WAL only"
    );
    b.import(&a.export(&plan).unwrap()).unwrap();
    assert_eq!(items(&database_file_alone(&a, &dir, "2.db"), &plan), 0);

    a.add_safety_item(&plan, SafetyList::WarningSigns, "Not sleeping")
        .unwrap();
    assert_eq!(items(&database_file_alone(&a, &dir, "3.db"), &plan), 0);
    // A session this device starts and continues.
    a.sync_with(b.device_id(), SyncScope::All, |request| {
        assert_eq!(items(&database_file_alone(&a, &dir, "4.db"), &plan), 1);
        b.respond_sync(a.device_id(), &request, &SyncScope::All)
    })
    .unwrap();
    assert_eq!(items(&b, &plan), 1);

    // A session another device starts, answered here.
    a.add_safety_item(&plan, SafetyList::WarningSigns, "Staying in my room")
        .unwrap();
    assert_eq!(items(&database_file_alone(&a, &dir, "5.db"), &plan), 1);
    let (mut session, request) = b.start_sync(a.device_id(), SyncScope::All).unwrap();
    let answer = a
        .respond_sync(b.device_id(), &request, &SyncScope::All)
        .unwrap();
    assert_eq!(items(&database_file_alone(&a, &dir, "6.db"), &plan), 2);
    b.continue_sync(&mut session, &answer).unwrap();
    assert_eq!(items(&b, &plan), 2);
}

#[test]
fn the_safety_plan_view_stays_in_step_with_the_document() {
    let dir = tempfile::tempdir().unwrap();
    let (plan, expected) = {
        let a = open(&dir, "a.db");
        let plan = a.create_care_plan(&plan_details()).unwrap();
        let first = a
            .add_safety_item(&plan, SafetyList::WarningSigns, "one")
            .unwrap();
        a.add_safety_item(&plan, SafetyList::CopingStrategies, "two")
            .unwrap();
        a.remove_safety_item(&plan, &first).unwrap();
        a.add_safety_item(&plan, SafetyList::WarningSigns, "three")
            .unwrap();
        a.set_code_word(&plan, Some("kite")).unwrap();
        a.add_safety_item(&plan, SafetyList::ReasonsForLiving, "my dog")
            .unwrap();
        let expected = a.safety_plan(&plan).unwrap();
        assert_eq!(expected.warning_signs.len(), 1);
        assert_eq!(expected.warning_signs[0].text, "three");

        // A store that reads the whole document agrees with the view kept
        // one list at a time.
        let b = open(&dir, "b.db");
        b.import(&a.export(&plan).unwrap()).unwrap();
        assert_eq!(b.safety_plan(&plan).unwrap(), expected);
        (plan, expected)
    };
    // So does the stored view, read on a cold start.
    let a = open(&dir, "a.db");
    assert_eq!(a.safety_plan(&plan).unwrap(), expected);
}

/// Setting the code word or an item's text on this device patches the
/// stored view; while the view shows a conflict, the plan is read again
/// (the value may settle it). Either way the view is what reading the
/// whole document gives, in memory and on a cold start.
#[test]
fn a_value_set_on_this_device_keeps_the_view_in_step() {
    let dir = tempfile::tempdir().unwrap();
    let a = open(&dir, "a.db");
    let b = open(&dir, "b.db");
    let plan = a.create_care_plan(&plan_details()).unwrap();
    a.grant(&plan, b.device_id(), Role::Writer).unwrap();
    let item = a
        .add_safety_item(&plan, SafetyList::WarningSigns, "one")
        .unwrap();
    let removed = a
        .add_safety_item(&plan, SafetyList::CopingStrategies, "two")
        .unwrap();
    a.remove_safety_item(&plan, &removed).unwrap();
    // The document read whole, by another store.
    let read_whole = |a: &Store| {
        let c = Store::open(dir.path().join("c.db"), &key()).unwrap();
        c.import(&a.export(&plan).unwrap()).unwrap();
        c.care_plan(&plan).unwrap().safety_plan
    };

    a.update_safety_item(&plan, &item, "one, edited").unwrap();
    a.update_safety_item(&plan, &removed, "two, edited")
        .unwrap();
    a.set_code_word(&plan, Some("kite")).unwrap();
    a.set_code_word(&plan, None).unwrap();
    a.set_code_word(&plan, Some("owl")).unwrap();
    let view = a.safety_plan(&plan).unwrap();
    assert_eq!(view.code_word.as_deref(), Some("owl"));
    assert_eq!(view.warning_signs[0].text, "one, edited");
    assert!(view.coping_strategies.is_empty());
    assert_eq!(view, read_whole(&a));

    // Concurrent code words: a conflict, shown by both.
    b.import(&a.export(&plan).unwrap()).unwrap();
    a.set_code_word(&plan, Some("hawk")).unwrap();
    b.set_code_word(&plan, Some("wren")).unwrap();
    a.import(&b.export(&plan).unwrap()).unwrap();
    assert!(a.safety_plan(&plan).unwrap().has_conflicts);
    // An item's text set meanwhile leaves the conflict shown.
    a.update_safety_item(&plan, &item, "one, again").unwrap();
    let view = a.safety_plan(&plan).unwrap();
    assert!(view.has_conflicts);
    assert_eq!(view.warning_signs[0].text, "one, again");
    assert_eq!(view, read_whole(&a));
    // A new code word replaces both values: the conflict is settled.
    a.set_code_word(&plan, Some("kestrel")).unwrap();
    let view = a.safety_plan(&plan).unwrap();
    assert!(!view.has_conflicts);
    assert_eq!(view.code_word.as_deref(), Some("kestrel"));
    assert_eq!(view, read_whole(&a));
    drop(a);
    assert_eq!(open(&dir, "a.db").safety_plan(&plan).unwrap(), view);
}

fn appended_view_rows(store: &Store, plan: &DocumentId) -> i64 {
    store
        .lock()
        .conn
        .query_row(
            "SELECT count(*) FROM views WHERE doc_id = ?1 AND name LIKE 'safety+%'",
            [plan.as_bytes()],
            |row| row.get(0),
        )
        .unwrap()
}

/// Items appended on this device are stored in rows of their own after the
/// safety-plan view, up to a limit; any other change writes the view whole
/// again, and the rows go. A cold start reads the view and its rows in
/// order; a row missing, or one from an earlier view, is found out.
#[test]
fn appended_items_are_rows_after_the_view_until_it_is_written_again() {
    let dir = tempfile::tempdir().unwrap();
    let a = open(&dir, "a.db");
    let plan = a.create_care_plan(&plan_details()).unwrap();
    let limit = i64::from(super::MAX_APPENDED_VIEW_ROWS);
    for n in 0..limit {
        a.add_safety_item(&plan, SafetyList::WarningSigns, &format!("sign {n}"))
            .unwrap();
    }
    assert_eq!(appended_view_rows(&a, &plan), limit);
    a.add_safety_item(&plan, SafetyList::ReasonsForLiving, "my dog")
        .unwrap();
    // Over the limit: the view was written whole, with every item.
    assert_eq!(appended_view_rows(&a, &plan), 0);
    a.add_safety_item(&plan, SafetyList::ReasonsForLiving, "my sister")
        .unwrap();
    a.add_safety_item(&plan, SafetyList::Distractions, "drawing")
        .unwrap();
    assert_eq!(appended_view_rows(&a, &plan), 2);
    let expected = a.safety_plan(&plan).unwrap();
    assert_eq!(expected.warning_signs.len(), 64);
    assert_eq!(expected.warning_signs[63].text, "sign 63");
    assert_eq!(expected.reasons_for_living.len(), 2);
    assert_eq!(expected.distractions[0].text, "drawing");
    drop(a);
    let a = open(&dir, "a.db");
    assert_eq!(a.safety_plan(&plan).unwrap(), expected);
    assert!(a.lock().docs.is_empty(), "read from the view");
    // The whole plan, loaded, agrees.
    assert_eq!(a.care_plan(&plan).unwrap().safety_plan, expected);

    // Another change writes the view whole: the rows go.
    a.add_safety_item(&plan, SafetyList::Distractions, "music")
        .unwrap();
    a.add_safety_item(&plan, SafetyList::Distractions, "a walk")
        .unwrap();
    a.set_code_word(&plan, Some("kite")).unwrap();
    assert_eq!(appended_view_rows(&a, &plan), 0);
    a.add_safety_item(&plan, SafetyList::Distractions, "a film")
        .unwrap();
    a.add_safety_item(&plan, SafetyList::Distractions, "baking")
        .unwrap();
    assert_eq!(appended_view_rows(&a, &plan), 2);
    let expected = a.safety_plan(&plan).unwrap();
    assert_eq!(expected.distractions.len(), 5);
    drop(a);
    assert_eq!(open(&dir, "a.db").safety_plan(&plan).unwrap(), expected);

    // A row of an earlier view put back in place of the current one opens
    // no more than a row taken out: either way the view is damaged, the
    // safety plan is read from the plan itself, and the view is left as it
    // is until the safety plan next changes.
    let view_row = |store: &Store, name: &str| -> Vec<u8> {
        store
            .lock()
            .conn
            .query_row(
                "SELECT blob FROM views WHERE doc_id = ?1 AND name = ?2",
                rusqlite::params![plan.as_bytes(), name],
                |row| row.get(0),
            )
            .unwrap()
    };
    let a = open(&dir, "a.db");
    let earlier = view_row(&a, "safety+000001");
    a.set_code_word(&plan, Some("owl")).unwrap();
    a.add_safety_item(&plan, SafetyList::Distractions, "a film, again")
        .unwrap();
    let expected = a.safety_plan(&plan).unwrap();
    a.lock()
        .conn
        .execute(
            "UPDATE views SET blob = ?2 WHERE doc_id = ?1 AND name = 'safety+000001'",
            rusqlite::params![plan.as_bytes(), earlier],
        )
        .unwrap();
    drop(a);
    let a = open(&dir, "a.db");
    assert_eq!(a.safety_plan(&plan).unwrap(), expected);
    assert_eq!(view_row(&a, "safety+000001"), earlier, "left as it is");
    drop(a);

    let a = open(&dir, "a.db");
    a.lock()
        .conn
        .execute(
            "DELETE FROM views WHERE doc_id = ?1 AND name = 'safety+000001'",
            [plan.as_bytes()],
        )
        .unwrap();
    a.add_safety_item(&plan, SafetyList::Distractions, "swimming")
        .unwrap();
    drop(a);
    let a = open(&dir, "a.db");
    let expected = a.safety_plan(&plan).unwrap();
    assert_eq!(expected.distractions.last().unwrap().text, "swimming");
    assert_eq!(expected, a.care_plan(&plan).unwrap().safety_plan);
    assert_eq!(appended_view_rows(&a, &plan), 0, "written whole again");
    drop(a);
    let a = open(&dir, "a.db");
    assert_eq!(a.safety_plan(&plan).unwrap(), expected);
    assert!(a.lock().docs.is_empty(), "read from the view again");
}
