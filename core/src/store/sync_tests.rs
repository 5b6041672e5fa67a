//! Direct device-to-device sync over an in-memory channel: no server.

use std::convert::Infallible;

use tempfile::TempDir;

use crate::{
    sync::{
        Step, SyncError, SyncReport,
        wire::{DocEntry, DocStatus, Request, Response, exchange_extension},
    },
    *,
};

fn open(dir: &TempDir, name: &str) -> Store {
    Store::open(dir.path().join(name), &StoreKey::new([9; 32])).unwrap()
}

fn plan(store: &Store) -> DocumentId {
    store
        .create_care_plan(&CarePlanDetails {
            subject_name: "Alex".into(),
            status: PlanStatus::Active,
            period_start: None,
            period_end: None,
            next_review: None,
        })
        .unwrap()
}

/// `a` syncs with `b` directly; `b` answers in the same process.
fn sync(a: &Store, b: &Store) -> SyncReport {
    let a_id = a.device_id();
    a.sync_with(b.device_id(), SyncScope::All, |request| {
        Ok::<_, Infallible>(b.respond_sync(a_id, &request, &SyncScope::All).unwrap())
    })
    .unwrap()
}

#[test]
fn two_devices_sync_directly_and_converge() {
    let dir = tempfile::tempdir().unwrap();
    let a = open(&dir, "a.db");
    let b = open(&dir, "b.db");
    let plan = plan(&a);
    a.grant(&plan, b.device_id(), Role::Writer).unwrap();
    a.add_safety_item(&plan, SafetyList::WarningSigns, "Not sleeping")
        .unwrap();
    let first = sync(&a, &b);
    assert_eq!(first.round_trips, 1, "{first:?}");
    assert_eq!(first.documents_sent, 1);
    assert_eq!(b.care_plan(&plan).unwrap(), a.care_plan(&plan).unwrap());

    a.add_safety_item(&plan, SafetyList::CopingStrategies, "Walk the dog")
        .unwrap();
    b.add_safety_item(&plan, SafetyList::ReasonsForLiving, "My brother")
        .unwrap();
    let second = sync(&a, &b);
    // One round trip, or two when Automerge's Bloom filter of A's changes
    // happens to match one of B's (about 1 % of the time).
    assert!(second.round_trips <= 2, "{second:?}");
    assert!(second.documents_sent >= 1);
    assert_eq!(second.documents_received, 1);
    assert_eq!(b.care_plan(&plan).unwrap(), a.care_plan(&plan).unwrap());
    assert_eq!(
        a.safety_plan(&plan).unwrap().reasons_for_living[0].text,
        "My brother"
    );

    // Nothing changed: the session costs a few bytes each way.
    let idle = sync(&a, &b);
    assert_eq!(idle.documents_sent + idle.documents_received, 0);
    assert!(idle.bytes_sent + idle.bytes_received < 100, "{idle:?}");
}

#[test]
fn the_responder_side_also_starts_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let a = open(&dir, "a.db");
    let b = open(&dir, "b.db");
    let plan = plan(&a);
    a.grant(&plan, b.device_id(), Role::Writer).unwrap();
    sync(&a, &b);
    b.add_safety_item(&plan, SafetyList::WarningSigns, "From B")
        .unwrap();
    sync(&b, &a);
    assert_eq!(
        a.safety_plan(&plan).unwrap().warning_signs[0].text,
        "From B"
    );
    a.add_safety_item(&plan, SafetyList::WarningSigns, "From A")
        .unwrap();
    sync(&b, &a);
    assert_eq!(b.safety_plan(&plan).unwrap().warning_signs.len(), 2);
}

#[test]
fn a_scope_keeps_other_documents_private() {
    let dir = tempfile::tempdir().unwrap();
    let a = open(&dir, "a.db");
    let b = open(&dir, "b.db");
    let plan = plan(&a);
    let journal = a.create_journal().unwrap();
    a.grant(&plan, b.device_id(), Role::Reader).unwrap();
    a.grant(&journal, b.device_id(), Role::Reader).unwrap();
    let scope = SyncScope::Only([plan].into_iter().collect());
    let a_id = a.device_id();
    a.sync_with(b.device_id(), scope.clone(), |request| {
        Ok::<_, Infallible>(b.respond_sync(a_id, &request, &scope).unwrap())
    })
    .unwrap();
    let held: Vec<DocumentId> = b.documents().unwrap().into_iter().map(|d| d.id).collect();
    assert_eq!(held, [plan]);
    assert!(!held.contains(&journal));
}

#[test]
fn the_granted_scope_shares_only_what_the_peer_may_see() {
    let dir = tempfile::tempdir().unwrap();
    let a = open(&dir, "a.db");
    let b = open(&dir, "b.db");
    let shared = plan(&a);
    let other = plan(&a);
    let journal = a.create_journal().unwrap();
    a.grant(&shared, b.device_id(), Role::Reader).unwrap();
    let a_id = a.device_id();
    let session = |a: &Store, b: &Store| {
        a.sync_with(b.device_id(), SyncScope::Granted, |request| {
            Ok::<_, Infallible>(b.respond_sync(a_id, &request, &SyncScope::Granted).unwrap())
        })
        .unwrap()
    };
    session(&a, &b);
    let held = |s: &Store| -> Vec<DocumentId> {
        s.documents().unwrap().into_iter().map(|d| d.id).collect()
    };
    assert_eq!(held(&b), [shared]);

    // Shared later: it goes at the next session; the rest stays.
    a.grant(&journal, b.device_id(), Role::Reader).unwrap();
    session(&a, &b);
    let mut expected = vec![shared, journal];
    expected.sort();
    assert_eq!(held(&b), expected);
    assert!(!held(&b).contains(&other));

    // B's session the other way round sends A nothing A may not see, and
    // B, a reader, may not write.
    assert!(matches!(
        b.add_safety_item(&shared, SafetyList::WarningSigns, "by a reader"),
        Err(Error::NotAllowed(_))
    ));
}

#[test]
fn a_session_cut_off_resumes_and_duplicates_are_harmless() {
    let dir = tempfile::tempdir().unwrap();
    let a = open(&dir, "a.db");
    let b = open(&dir, "b.db");
    let plan = plan(&a);
    a.grant(&plan, b.device_id(), Role::Writer).unwrap();
    sync(&a, &b);
    a.add_safety_item(&plan, SafetyList::WarningSigns, "one")
        .unwrap();
    b.add_safety_item(&plan, SafetyList::WarningSigns, "two")
        .unwrap();
    // The request arrives and is applied, but the answer is lost.
    let (_lost, request) = a.start_sync(b.device_id(), SyncScope::All).unwrap();
    let answer = b
        .respond_sync(a.device_id(), &request, &SyncScope::All)
        .unwrap();
    // The same request again (a retry), then the old answer applied late.
    b.respond_sync(a.device_id(), &request, &SyncScope::All)
        .unwrap();
    // A late answer does not belong to a new session's request: refused.
    let (mut later, _) = a.start_sync(b.device_id(), SyncScope::All).unwrap();
    assert!(matches!(
        a.continue_sync(&mut later, &answer),
        Err(Error::Sync(SyncError::UnexpectedResponse))
    ));
    sync(&a, &b);
    let texts = |s: &Store| {
        let mut t: Vec<String> = s
            .safety_plan(&plan)
            .unwrap()
            .warning_signs
            .into_iter()
            .map(|i| i.text)
            .collect();
        t.sort();
        t
    };
    assert_eq!(texts(&a), ["one", "two"]);
    assert_eq!(texts(&b), ["one", "two"]);
    assert_eq!(a.care_plan(&plan).unwrap(), b.care_plan(&plan).unwrap());
}

#[test]
fn garbage_requests_and_answers_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let a = open(&dir, "a.db");
    let b = open(&dir, "b.db");
    plan(&a);
    assert!(matches!(
        b.respond_sync(a.device_id(), b"nonsense", &SyncScope::All),
        Err(Error::Sync(_))
    ));
    let (mut session, _) = a.start_sync(b.device_id(), SyncScope::All).unwrap();
    assert!(matches!(
        a.continue_sync(&mut session, b"LYN\x01\x02"),
        Err(Error::Sync(_))
    ));
}

#[test]
fn a_session_finishes_while_both_devices_keep_editing() {
    let dir = tempfile::tempdir().unwrap();
    let a = open(&dir, "a.db");
    let b = open(&dir, "b.db");
    let plan = plan(&a);
    a.grant(&plan, b.device_id(), Role::Writer).unwrap();
    sync(&a, &b);
    let a_id = a.device_id();
    let mut edits = 0;
    // Every exchange, each side makes a new edit while the session runs.
    let report = a
        .sync_with(b.device_id(), SyncScope::All, |request| {
            edits += 1;
            a.add_safety_item(&plan, SafetyList::WarningSigns, &format!("a{edits}"))
                .unwrap();
            b.add_safety_item(&plan, SafetyList::CopingStrategies, &format!("b{edits}"))
                .unwrap();
            Ok::<_, Infallible>(b.respond_sync(a_id, &request, &SyncScope::All).unwrap())
        })
        .unwrap();
    assert!(report.round_trips <= 3, "{report:?}");
    // What was made during the session goes in the next one.
    sync(&a, &b);
    sync(&a, &b);
    let plan_a = a.safety_plan(&plan).unwrap();
    assert_eq!(plan_a, b.safety_plan(&plan).unwrap());
    assert_eq!(plan_a.warning_signs.len(), edits);
    assert_eq!(plan_a.coping_strategies.len(), edits);
}

/// A relay and two devices; `a` made a plan and granted `b` writer.
fn relay_and_two_devices() -> (TempDir, Store, Store, Store, DocumentId) {
    let dir = tempfile::tempdir().unwrap();
    let relay = open(&dir, "relay.db");
    let a = open(&dir, "a.db");
    let b = open(&dir, "b.db");
    let plan = plan(&a);
    a.grant(&plan, b.device_id(), Role::Writer).unwrap();
    (dir, relay, a, b, plan)
}

/// Device `a`'s answer from `relay` to a session with nothing to send.
fn idle_answer(a: &Store, relay: &Store) -> Vec<u8> {
    let (_, request) = a.start_sync(relay.device_id(), SyncScope::All).unwrap();
    relay
        .respond_sync(a.device_id(), &request, &SyncScope::All)
        .unwrap()
}

#[test]
fn an_answer_meant_for_another_device_is_refused() {
    let (_dir, relay, a, b, plan) = relay_and_two_devices();
    sync(&a, &relay);
    sync(&b, &relay);
    a.add_safety_item(&plan, SafetyList::WarningSigns, "Not sleeping")
        .unwrap();
    sync(&a, &relay);
    // An answer to A with nothing in it, whose cursor stands past A's edit.
    let for_a = idle_answer(&a, &relay);
    let (mut session, _) = b.start_sync(relay.device_id(), SyncScope::All).unwrap();
    assert!(matches!(
        b.continue_sync(&mut session, &for_a),
        Err(Error::Sync(SyncError::UnexpectedResponse))
    ));
    // Had B taken that cursor, the relay would never send it A's edit.
    sync(&b, &relay);
    assert_eq!(b.safety_plan(&plan).unwrap().warning_signs.len(), 1);
    assert_eq!(b.care_plan(&plan).unwrap(), a.care_plan(&plan).unwrap());
}

#[test]
fn a_peer_that_believes_this_device_holds_more_keeps_the_session_going() {
    let dir = tempfile::tempdir().unwrap();
    let a = open(&dir, "a.db");
    let relay = open(&dir, "relay.db");
    let plan = plan(&a);
    sync(&a, &relay);
    // The relay's answers name, as its heads and as what it last shared
    // with A, a change A does not hold (say A was restored from a backup):
    // A answers with a reset, and must not take the document as in step.
    let unknown = automerge::ChangeHash([7; 32]);
    let message = automerge::sync::Message {
        heads: vec![unknown],
        need: Vec::new(),
        have: vec![automerge::sync::Have {
            last_sync: vec![unknown],
            bloom: Default::default(),
        }],
        changes: automerge::sync::ChunkList::empty(),
        flags: None,
        version: automerge::sync::MessageVersion::V1,
    }
    .encode();
    let cursor = Response::decode(&idle_answer(&a, &relay)).unwrap().cursor;
    let answer = |request: &[u8]| {
        let exchange = Request::decode(request).unwrap().exchange().unwrap();
        Response {
            cursor,
            more: false,
            docs: vec![DocEntry {
                id: plan,
                status: DocStatus::Ok,
                message: message.clone(),
                extensions: Vec::new(),
            }],
            extensions: vec![exchange_extension(exchange)],
        }
        .encode()
    };
    let (mut session, mut request) = a.start_sync(relay.device_id(), SyncScope::All).unwrap();
    for round in 1..=3 {
        match a.continue_sync(&mut session, &answer(&request)).unwrap() {
            Step::Send(next) => request = next,
            Step::Done(report) => panic!("done in round {round} while out of step: {report:?}"),
        }
    }
}

#[test]
fn an_answer_missing_a_change_is_fetched_again_not_refused() {
    let (_dir, relay, a, b, plan) = relay_and_two_devices();
    for i in 0..20 {
        a.add_safety_item(&plan, SafetyList::CopingStrategies, &format!("c{i}"))
            .unwrap();
    }
    sync(&a, &relay);
    sync(&b, &relay);
    for i in 1..=3 {
        a.add_safety_item(&plan, SafetyList::WarningSigns, &format!("w{i}"))
            .unwrap();
    }
    sync(&a, &relay);
    // The relay's answer to B loses A's middle change, as when a Bloom
    // filter matches a change B lacks: B can apply the first, not the last,
    // and A's signature covers only the last.
    let (mut session, request) = b.start_sync(relay.device_id(), SyncScope::All).unwrap();
    let mut answer = Response::decode(
        &relay
            .respond_sync(b.device_id(), &request, &SyncScope::All)
            .unwrap(),
    )
    .unwrap();
    let entry = answer.docs.iter_mut().find(|d| d.id == plan).unwrap();
    let mut message = automerge::sync::Message::decode(&entry.message).unwrap();
    let b_heads = automerge::Automerge::load(&b.export(&plan).unwrap())
        .unwrap()
        .get_heads();
    let full = automerge::Automerge::load(&a.export(&plan).unwrap()).unwrap();
    let new: Vec<automerge::Change> = full.get_changes(&b_heads).into_iter().collect();
    assert_eq!(new.len(), 3);
    message.changes = vec![new[0].raw_bytes().to_vec(), new[2].raw_bytes().to_vec()].into();
    message.version = automerge::sync::MessageVersion::V1;
    entry.message = message.encode();
    // Nothing is stored from it, nothing is refused, and the session asks
    // again, without a Bloom filter, and gets all three.
    let mut step = b.continue_sync(&mut session, &answer.encode()).unwrap();
    assert!(b.safety_plan(&plan).unwrap().warning_signs.is_empty());
    let report = loop {
        match step {
            Step::Send(request) => {
                let answer = relay
                    .respond_sync(b.device_id(), &request, &SyncScope::All)
                    .unwrap();
                step = b.continue_sync(&mut session, &answer).unwrap();
            }
            Step::Done(report) => break report,
        }
    };
    assert!(report.rejected.is_empty(), "{report:?}");
    assert_eq!(report.round_trips, 2, "{report:?}");
    assert_eq!(b.safety_plan(&plan).unwrap().warning_signs.len(), 3);
    assert_eq!(b.care_plan(&plan).unwrap(), a.care_plan(&plan).unwrap());
}
