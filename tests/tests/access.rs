//! Who sees and changes what, through a real lynchpin-server process on
//! 127.0.0.1 and real store files: the frames the server sends are decoded
//! and inspected, not only what a device's store shows.

use std::collections::BTreeSet;

use automerge::{Automerge, ROOT, transaction::Transactable};
use lynchpin_core::{
    AccessAction, CheckInDetails, DeviceId, DocumentId, Error, Role, SafetyList, Store, StoreKey,
    SyncScope, SyncServer,
    access::ChangeSignature,
    sync::{
        SyncReport,
        wire::{DocStatus, Response},
    },
};
use lynchpin_tests::{plan_details, push_frame, server::ServerProcess};
use tempfile::TempDir;

struct Device {
    store: Store,
    server: SyncServer,
}

impl Device {
    fn new(dir: &TempDir, name: &str, relay: &ServerProcess) -> Self {
        let store = Store::open(dir.path().join(name), &StoreKey::generate().unwrap()).unwrap();
        let server = store.enroll(&relay.url(), &relay.invite()).unwrap();
        Self { store, server }
    }

    fn id(&self) -> DeviceId {
        self.store.device_id()
    }

    fn sync(&self) -> SyncReport {
        self.store.sync(&self.server).unwrap()
    }

    /// A whole session, keeping every answer frame the server sent.
    fn sync_capturing(&self) -> (SyncReport, Vec<Response>) {
        let mut answers = Vec::new();
        let report = self
            .store
            .sync_with(self.server.id, SyncScope::All, |request| {
                let answer = self.store.exchange(&self.server, &request)?;
                answers.push(Response::decode(&answer).unwrap());
                Ok::<_, Error>(answer)
            })
            .unwrap();
        (report, answers)
    }

    /// The documents whose changes the server sent in these answers.
    fn documents_in(answers: &[Response]) -> BTreeSet<DocumentId> {
        answers
            .iter()
            .flat_map(|a| &a.docs)
            .filter(|d| !d.message.is_empty())
            .map(|d| d.id)
            .collect()
    }

    fn held(&self) -> BTreeSet<DocumentId> {
        self.store
            .documents()
            .unwrap()
            .into_iter()
            .map(|d| d.id)
            .collect()
    }
}

fn setup() -> (TempDir, ServerProcess) {
    let dir = tempfile::tempdir().unwrap();
    let relay = ServerProcess::start(&dir.path().join("server"));
    (dir, relay)
}

/// The status a peer's answer gives the document.
fn status_of(answer: &[u8], id: DocumentId) -> DocStatus {
    Response::decode(answer)
        .unwrap()
        .docs
        .iter()
        .find(|d| d.id == id)
        .map_or(DocStatus::Ok, |d| d.status)
}

/// A copy of the plan as `holder` has it, with one more change written as
/// `actor`.
fn change_as(holder: &Store, plan: &DocumentId, actor: &DeviceId) -> Automerge {
    let mut doc = Automerge::load(&holder.export(plan).unwrap())
        .unwrap()
        .with_actor(actor.actor());
    doc.transact(|tx| tx.put(ROOT, "note", "written around the store"))
        .unwrap();
    doc
}

fn last_hash(doc: &Automerge) -> automerge::ChangeHash {
    doc.get_last_local_change().unwrap().hash()
}

#[test]
fn the_parents_device_never_receives_the_journal() {
    let (dir, relay) = setup();
    let young_person = Device::new(&dir, "young-person.db", &relay);
    let parent = Device::new(&dir, "parent.db", &relay);
    let plan = young_person
        .store
        .create_care_plan(&plan_details("Alex"))
        .unwrap();
    let journal = young_person.store.create_journal().unwrap();
    young_person
        .store
        .add_check_in(
            &journal,
            &CheckInDetails {
                mood: 3,
                feelings: vec!["alone".into()],
                note: "Something I have told no one".into(),
            },
        )
        .unwrap();
    young_person
        .store
        .grant(&plan, parent.id(), Role::Reader)
        .unwrap();
    young_person.sync();

    let (report, answers) = parent.sync_capturing();
    assert_eq!(report.documents_received, 1, "{report:?}");
    let sent = Device::documents_in(&answers);
    assert_eq!(sent, BTreeSet::from([plan]));
    assert!(
        answers
            .iter()
            .flat_map(|a| &a.docs)
            .all(|d| d.id != journal),
        "the server named the journal to the parent"
    );
    assert_eq!(parent.held(), BTreeSet::from([plan]));

    // More journal entries later: still nothing reaches the parent.
    young_person
        .store
        .add_check_in(
            &journal,
            &CheckInDetails {
                mood: 5,
                feelings: Vec::new(),
                note: String::new(),
            },
        )
        .unwrap();
    young_person.sync();
    let (_, answers) = parent.sync_capturing();
    assert!(
        answers
            .iter()
            .flat_map(|a| &a.docs)
            .all(|d| d.id != journal)
    );

    // A family member enrolled later sees nothing at all until granted.
    let sibling = Device::new(&dir, "sibling.db", &relay);
    let (report, answers) = sibling.sync_capturing();
    assert_eq!(report.documents_received, 0);
    assert!(answers.iter().all(|a| a.docs.is_empty()), "{answers:?}");
    assert!(sibling.held().is_empty());

    // Any member's device can list who has access.
    let listed: Vec<(DeviceId, Role)> = parent
        .store
        .access(&plan)
        .unwrap()
        .into_iter()
        .map(|e| (e.device, e.role))
        .collect();
    assert_eq!(
        listed,
        vec![
            (young_person.id(), Role::Owner),
            (parent.id(), Role::Reader)
        ]
    );

    // Once the young person shares the journal, it arrives.
    young_person
        .store
        .grant(&journal, parent.id(), Role::Reader)
        .unwrap();
    young_person.sync();
    let (_, answers) = parent.sync_capturing();
    assert!(Device::documents_in(&answers).contains(&journal));
    assert_eq!(parent.store.journal(&journal).unwrap().check_ins.len(), 2);
}

#[test]
fn a_readers_edits_are_refused_by_the_server_and_by_other_devices() {
    let (dir, relay) = setup();
    let owner = Device::new(&dir, "coordinator.db", &relay);
    let reader = Device::new(&dir, "parent.db", &relay);
    let plan = owner.store.create_care_plan(&plan_details("Sam")).unwrap();
    owner.store.grant(&plan, reader.id(), Role::Reader).unwrap();
    owner.sync();
    reader.sync();

    // The reader's own store refuses, and writes nothing.
    let before = reader.store.export(&plan).unwrap();
    assert!(matches!(
        reader
            .store
            .add_safety_item(&plan, SafetyList::WarningSigns, "by a reader"),
        Err(Error::NotAllowed(_))
    ));
    assert_eq!(reader.store.export(&plan).unwrap(), before);

    // A change made around the store and signed with the reader's own key:
    // the server refuses it…
    let edited = change_as(&reader.store, &plan, &reader.id());
    let signature = ChangeSignature::sign(reader.store.device_key(), &plan, last_hash(&edited));
    let frame = push_frame(plan, &edited, &[signature]);
    let answer = reader.store.exchange(&reader.server, &frame).unwrap();
    assert_eq!(status_of(&answer, plan), DocStatus::NotAllowed);

    // …and so does another device syncing directly with the reader.
    let clinic = Store::open(dir.path().join("clinic.db"), &StoreKey::generate().unwrap()).unwrap();
    owner
        .store
        .grant(&plan, clinic.device_id(), Role::Writer)
        .unwrap();
    owner.sync();
    let clinic_server = clinic.enroll(&relay.url(), &relay.invite()).unwrap();
    clinic.sync(&clinic_server).unwrap();
    let heads_before = clinic.export(&plan).unwrap();
    let answer = clinic
        .respond_sync(reader.id(), &frame, &SyncScope::All)
        .unwrap();
    assert_eq!(status_of(&answer, plan), DocStatus::NotAllowed);
    assert_eq!(clinic.export(&plan).unwrap(), heads_before);

    // Nothing of it reached anyone: the owner's next sync brings nothing.
    let report = owner.sync();
    assert_eq!(report.documents_received, 0, "{report:?}");
}

#[test]
fn forged_signatures_and_borrowed_actor_ids_are_refused() {
    let (dir, relay) = setup();
    let owner = Device::new(&dir, "young-person.db", &relay);
    let writer = Device::new(&dir, "clinician.db", &relay);
    let plan = owner.store.create_care_plan(&plan_details("Kai")).unwrap();
    owner.store.grant(&plan, writer.id(), Role::Writer).unwrap();
    owner.sync();
    writer.sync();

    // The writer claims the owner's actor id and signs with its own key.
    let claimed = change_as(&writer.store, &plan, &owner.id());
    let forged = ChangeSignature::sign(writer.store.device_key(), &plan, last_hash(&claimed));
    let frame = push_frame(plan, &claimed, &[forged]);
    let answer = writer.store.exchange(&writer.server, &frame).unwrap();
    assert_eq!(status_of(&answer, plan), DocStatus::Unsigned);
    // With no signature at all.
    let frame = push_frame(plan, &claimed, &[]);
    let answer = writer.store.exchange(&writer.server, &frame).unwrap();
    assert_eq!(status_of(&answer, plan), DocStatus::Unsigned);

    // Its own change with a signature that does not verify.
    let own = change_as(&writer.store, &plan, &writer.id());
    let mut bad = ChangeSignature::sign(writer.store.device_key(), &plan, last_hash(&own));
    bad.signature[10] ^= 0x40;
    let frame = push_frame(plan, &own, &[bad]);
    let answer = writer.store.exchange(&writer.server, &frame).unwrap();
    assert_eq!(status_of(&answer, plan), DocStatus::Unsigned);
    // A device checks the same way.
    let answer = owner
        .store
        .respond_sync(writer.id(), &frame, &SyncScope::All)
        .unwrap();
    assert_eq!(status_of(&answer, plan), DocStatus::Unsigned);

    // The same change, properly signed, is accepted: the refusals were for
    // the signatures, not the change.
    let good = ChangeSignature::sign(writer.store.device_key(), &plan, last_hash(&own));
    let frame = push_frame(plan, &own, &[good]);
    let answer = writer.store.exchange(&writer.server, &frame).unwrap();
    assert_eq!(status_of(&answer, plan), DocStatus::Ok);
    let report = owner.sync();
    assert_eq!(report.documents_received, 1, "{report:?}");
}

#[test]
fn a_revocation_takes_effect_at_the_next_sync() {
    let (dir, relay) = setup();
    let owner = Device::new(&dir, "young-person.db", &relay);
    let parent = Device::new(&dir, "parent.db", &relay);
    let plan = owner.store.create_care_plan(&plan_details("Alex")).unwrap();
    owner.store.grant(&plan, parent.id(), Role::Writer).unwrap();
    owner.sync();
    parent.sync();
    parent
        .store
        .add_safety_item(&plan, SafetyList::PeopleToAsk, "Mum")
        .unwrap();
    parent.sync();
    owner.sync();

    owner.store.revoke(&plan, parent.id()).unwrap();
    owner
        .store
        .add_safety_item(&plan, SafetyList::WarningSigns, "Said after the revocation")
        .unwrap();
    owner.sync();

    let (report, answers) = parent.sync_capturing();
    assert_eq!(report.documents_received, 0, "{report:?}");
    assert!(Device::documents_in(&answers).is_empty(), "{answers:?}");
    let on_parent = parent.store.safety_plan(&plan).unwrap();
    assert!(on_parent.warning_signs.is_empty());
    // The parent's earlier contribution stays in the plan.
    assert_eq!(
        owner.store.safety_plan(&plan).unwrap().people_to_ask[0].text,
        "Mum"
    );
    // The parent's device learns it no longer has access only when the
    // statement reaches it; the server refuses its writes from now on.
    let late = change_as(&parent.store, &plan, &parent.id());
    let signature = ChangeSignature::sign(parent.store.device_key(), &plan, last_hash(&late));
    let answer = parent
        .store
        .exchange(&parent.server, &push_frame(plan, &late, &[signature]))
        .unwrap();
    assert_eq!(status_of(&answer, plan), DocStatus::NotAllowed);
}

#[test]
fn an_invite_cannot_be_used_twice() {
    let (dir, relay) = setup();
    let invite = relay.invite();
    let first = Store::open(dir.path().join("first.db"), &StoreKey::generate().unwrap()).unwrap();
    let second = Store::open(dir.path().join("second.db"), &StoreKey::generate().unwrap()).unwrap();
    let server = first.enroll(&relay.url(), &invite).unwrap();
    match second.enroll(&relay.url(), &invite) {
        Err(Error::ServerRejected { status: 403, code }) => assert_eq!(code, "invite_invalid"),
        other => panic!("expected 403 invite_invalid, got {other:?}"),
    }
    // The second device is not enrolled: its sync is refused.
    match second.sync(&server) {
        Err(Error::ServerRejected { status: 401, .. }) => {}
        other => panic!("expected 401, got {other:?}"),
    }
}

#[test]
fn the_access_log_lists_every_read() {
    let (dir, relay) = setup();
    let owner = Device::new(&dir, "young-person.db", &relay);
    let parent = Device::new(&dir, "parent.db", &relay);
    let clinician = Device::new(&dir, "clinician.db", &relay);
    let plan = owner.store.create_care_plan(&plan_details("Alex")).unwrap();
    for (device, role) in [(&parent, Role::Reader), (&clinician, Role::Admin)] {
        owner.store.grant(&plan, device.id(), role).unwrap();
    }
    owner.sync();
    parent.sync();
    clinician.sync();
    owner
        .store
        .add_safety_item(&plan, SafetyList::WarningSigns, "Quiet at dinner")
        .unwrap();
    owner.sync();
    parent.sync();
    // Idle sessions read nothing and are not logged.
    parent.sync();

    let log = owner.store.access_log(&owner.server, &plan).unwrap();
    let mut reads: Vec<DeviceId> = log
        .iter()
        .filter(|e| e.action == AccessAction::Read)
        .map(|e| e.device)
        .collect();
    reads.sort();
    let mut expected = vec![parent.id(), parent.id(), clinician.id()];
    expected.sort();
    assert_eq!(reads, expected, "{log:?}");
    let writes = log
        .iter()
        .filter(|e| e.action == AccessAction::Write)
        .count();
    assert_eq!(writes, 2, "{log:?}");
    assert!(log.windows(2).all(|w| w[0].at >= w[1].at), "newest first");

    // Another admin may read it; a reader may not.
    assert_eq!(
        clinician
            .store
            .access_log(&clinician.server, &plan)
            .unwrap()
            .len(),
        log.len()
    );
    match parent.store.access_log(&parent.server, &plan) {
        Err(Error::ServerRejected { status: 403, code }) => assert_eq!(code, "forbidden"),
        other => panic!("expected 403, got {other:?}"),
    }
}
