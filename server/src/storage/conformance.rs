//! The conformance suite every [`ServerStore`] must pass, written once.
//!
//! A backend implements [`Backend`] (how to make a fresh storage location
//! and open a store on it, again and again) and runs the whole suite with
//! [`server_store_conformance!`] in its own `#[cfg(test)]` module:
//!
//! ```ignore
//! server_store_conformance!(SqliteBackend);
//! ```
//!
//! Each check is a plain generic function here; the macro only turns each
//! one into a `#[test]`, so a failure names the check and the backend. Tests
//! that are about one backend's internals (its tables, its files) belong
//! beside that backend, not here.

use std::sync::Arc;

use automerge::{
    Automerge, ROOT,
    sync::{Have, State, SyncDoc},
    transaction::Transactable,
};
use lynchpin_core::{
    CarePlanDetails, DeviceId, DocumentId, PlanStatus, Role, SafetyList, Store, StoreKey,
    SyncScope,
    access::ChangeSignature,
    sync::{
        SyncReport,
        wire::{DocEntry, DocStatus, Request, Response},
    },
};
use tempfile::TempDir;

use super::{AccessAction, Enrollment, NewInvite, ServerStore, StorageError};

/// A place a backend keeps its data, and how to open a store on it.
pub(crate) trait Backend {
    /// A fresh, empty location.
    fn create() -> Self;
    /// Opens a store on the location; called again to reopen it (the
    /// caller drops earlier stores first, unless it tests sharing).
    fn open(&self) -> Arc<dyn ServerStore>;
}

/// Runs every conformance check against a [`Backend`] type.
macro_rules! server_store_conformance {
    ($backend:ty) => {
        server_store_conformance!(
            $backend;
            invites_are_single_use,
            invites_expire,
            unknown_codes_are_invalid,
            concurrent_enrolments_with_one_code_enrol_one_device,
            an_enrolled_device_may_enrol_again_with_a_new_invite,
            nonces_are_refused_when_replayed,
            purging_removes_only_what_expired,
            identity_survives_reopening,
            sync_delivers_a_care_plan_between_devices,
            data_survives_reopening,
            a_malformed_frame_is_an_error_and_stores_nothing,
            new_documents_need_a_valid_header,
            changes_may_not_alter_a_document_header,
            many_changes_stay_readable,
            documents_reach_only_granted_devices,
            changes_need_a_writer_and_a_valid_signature,
            the_access_log_records_reads_and_writes,
            changes_with_missing_dependencies_are_never_stored,
        );
    };
    ($backend:ty; $($check:ident),+ $(,)?) => {
        $(
            #[test]
            fn $check() {
                $crate::storage::conformance::$check::<$backend>();
            }
        )+
    };
}

const HOUR_MS: u64 = 3_600_000;
const NOW: u64 = 1_700_000_000_000;

fn device(byte: u8) -> DeviceId {
    DeviceId::from_slice(&[byte; 32]).unwrap()
}

fn invite(store: &dyn ServerStore, code: &str, expires_ms: u64) -> [u8; 32] {
    let hash = crate::invite::code_hash(code).unwrap();
    store
        .create_invite(&NewInvite {
            code_hash: hash,
            label: Some("for a test".into()),
            created_ms: NOW,
            expires_ms,
        })
        .unwrap();
    hash
}

const CODE_A: &str = "AAAA-BBBB-CCCC-DDDD-EEEE-FFFF";
const CODE_B: &str = "GGGG-HHHH-IIII-JJJJ-KKKK-LLLL";

pub(crate) fn invites_are_single_use<B: Backend>() {
    let backend = B::create();
    let store = backend.open();
    let hash = invite(&*store, CODE_A, NOW + HOUR_MS);
    assert!(!store.is_enrolled(&device(1)).unwrap());
    assert_eq!(
        store.enroll(&hash, &device(1), NOW).unwrap(),
        Enrollment::Enrolled { already: false }
    );
    assert!(store.is_enrolled(&device(1)).unwrap());
    assert_eq!(
        store.enroll(&hash, &device(2), NOW + 1).unwrap(),
        Enrollment::InviteInvalid
    );
    assert_eq!(
        store.enroll(&hash, &device(1), NOW + 1).unwrap(),
        Enrollment::InviteInvalid
    );
    assert!(!store.is_enrolled(&device(2)).unwrap());
}

pub(crate) fn invites_expire<B: Backend>() {
    let backend = B::create();
    let store = backend.open();
    let expires = NOW + 72 * HOUR_MS;
    let hash = invite(&*store, CODE_A, expires);
    assert_eq!(
        store.enroll(&hash, &device(1), expires).unwrap(),
        Enrollment::InviteInvalid
    );
    assert_eq!(
        store.enroll(&hash, &device(1), expires + HOUR_MS).unwrap(),
        Enrollment::InviteInvalid
    );
    assert!(!store.is_enrolled(&device(1)).unwrap());
    // A moment before, it works.
    assert_eq!(
        store.enroll(&hash, &device(1), expires - 1).unwrap(),
        Enrollment::Enrolled { already: false }
    );
}

pub(crate) fn unknown_codes_are_invalid<B: Backend>() {
    let backend = B::create();
    let store = backend.open();
    invite(&*store, CODE_A, NOW + HOUR_MS);
    let other = crate::invite::code_hash(CODE_B).unwrap();
    assert_eq!(
        store.enroll(&other, &device(1), NOW).unwrap(),
        Enrollment::InviteInvalid
    );
    assert!(!store.is_enrolled(&device(1)).unwrap());
}

pub(crate) fn concurrent_enrolments_with_one_code_enrol_one_device<B: Backend>() {
    let backend = B::create();
    // Two store instances on one location: like two processes, or two
    // servers sharing a database.
    let stores = [backend.open(), backend.open()];
    let hash = invite(&*stores[0], CODE_A, NOW + HOUR_MS);
    let barrier = Arc::new(std::sync::Barrier::new(8));
    let handles: Vec<_> = (0..8u8)
        .map(|i| {
            let store = Arc::clone(&stores[usize::from(i % 2)]);
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                barrier.wait();
                store.enroll(&hash, &device(i + 1), NOW).unwrap()
            })
        })
        .collect();
    let outcomes: Vec<Enrollment> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let enrolled = outcomes
        .iter()
        .filter(|o| matches!(o, Enrollment::Enrolled { .. }))
        .count();
    assert_eq!(enrolled, 1, "{outcomes:?}");
    let devices = (1..=8u8)
        .filter(|&i| stores[0].is_enrolled(&device(i)).unwrap())
        .count();
    assert_eq!(devices, 1);
}

pub(crate) fn an_enrolled_device_may_enrol_again_with_a_new_invite<B: Backend>() {
    let backend = B::create();
    let store = backend.open();
    let first = invite(&*store, CODE_A, NOW + HOUR_MS);
    let second = invite(&*store, CODE_B, NOW + HOUR_MS);
    assert_eq!(
        store.enroll(&first, &device(1), NOW).unwrap(),
        Enrollment::Enrolled { already: false }
    );
    assert_eq!(
        store.enroll(&second, &device(1), NOW).unwrap(),
        Enrollment::Enrolled { already: true }
    );
    assert!(store.is_enrolled(&device(1)).unwrap());
}

pub(crate) fn nonces_are_refused_when_replayed<B: Backend>() {
    let backend = B::create();
    let store = backend.open();
    let nonce = [7; 16];
    let expires = NOW + 300_000;
    assert!(
        store
            .record_nonce(&device(1), &nonce, expires, NOW)
            .unwrap()
    );
    assert!(
        !store
            .record_nonce(&device(1), &nonce, expires, NOW)
            .unwrap()
    );
    assert!(
        !store
            .record_nonce(&device(1), &nonce, expires + 5, NOW + 1_000)
            .unwrap()
    );
    // The same nonce from another device, another nonce from this one: fresh.
    assert!(
        store
            .record_nonce(&device(2), &nonce, expires, NOW)
            .unwrap()
    );
    assert!(
        store
            .record_nonce(&device(1), &[8; 16], expires, NOW)
            .unwrap()
    );
    // A second instance on the same data refuses the replay too.
    let other = backend.open();
    assert!(
        !other
            .record_nonce(&device(1), &nonce, expires, NOW)
            .unwrap()
    );
    // Once expired, the pair no longer counts as seen (the timestamp check
    // refuses old requests by then).
    assert!(
        store
            .record_nonce(&device(1), &nonce, expires + 600_000, expires + 1)
            .unwrap()
    );
    assert!(
        !store
            .record_nonce(&device(1), &nonce, expires + 600_000, expires + 2)
            .unwrap()
    );
}

pub(crate) fn purging_removes_only_what_expired<B: Backend>() {
    let backend = B::create();
    let store = backend.open();
    store
        .record_nonce(&device(1), &[1; 16], NOW + 10, NOW)
        .unwrap();
    store
        .record_nonce(&device(1), &[2; 16], NOW + 1_000, NOW)
        .unwrap();
    let expiring = invite(&*store, CODE_A, NOW + 10);
    let lasting = invite(&*store, CODE_B, NOW + 1_000);
    let purged = store.purge_expired(NOW + 500).unwrap();
    assert_eq!((purged.nonces, purged.invites), (1, 1));
    // What did not expire is still there.
    assert!(
        !store
            .record_nonce(&device(1), &[2; 16], NOW + 1_000, NOW + 600)
            .unwrap()
    );
    assert_eq!(
        store.enroll(&lasting, &device(1), NOW + 600).unwrap(),
        Enrollment::Enrolled { already: false }
    );
    assert_eq!(
        store.enroll(&expiring, &device(2), NOW).unwrap(),
        Enrollment::InviteInvalid
    );
    let again = store.purge_expired(NOW + 500).unwrap();
    assert_eq!((again.nonces, again.invites), (0, 0));
}

pub(crate) fn identity_survives_reopening<B: Backend>() {
    let backend = B::create();
    let store = backend.open();
    let id = store.server_id();
    let epoch = store.epoch().unwrap();
    let hash = invite(&*store, CODE_A, NOW + HOUR_MS);
    store.enroll(&hash, &device(1), NOW).unwrap();
    drop(store);
    let store = backend.open();
    assert_eq!(store.server_id(), id);
    assert_eq!(store.epoch().unwrap(), epoch);
    assert!(store.is_enrolled(&device(1)).unwrap());
    // Another location has another identity.
    let other = B::create().open();
    assert_ne!(other.server_id(), id);
    assert_ne!(other.epoch().unwrap(), epoch);
}

/// A device: a real `lynchpin_core::Store` on a temporary file.
struct TestDevice {
    store: Store,
    _dir: TempDir,
}

impl TestDevice {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("device.db"), &StoreKey::new([5; 32])).unwrap();
        Self { store, _dir: dir }
    }

    fn id(&self) -> DeviceId {
        self.store.device_id()
    }

    /// A full session with the server through `ServerStore::sync`.
    fn sync(&self, server: &dyn ServerStore) -> SyncReport {
        let id = self.id();
        self.store
            .sync_with(server.server_id(), SyncScope::All, |request| {
                server.sync(&id, &request, crate::now_ms())
            })
            .unwrap()
    }

    /// Gives `other` a role on a document this device administers.
    fn grant(&self, doc: &DocumentId, other: &Self, role: Role) {
        self.store.grant(doc, other.id(), role).unwrap();
    }

    fn plan(&self) -> DocumentId {
        self.store
            .create_care_plan(&CarePlanDetails {
                subject_name: "Sam".into(),
                status: PlanStatus::Active,
                period_start: None,
                period_end: None,
                next_review: None,
            })
            .unwrap()
    }
}

pub(crate) fn sync_delivers_a_care_plan_between_devices<B: Backend>() {
    let backend = B::create();
    let server = backend.open();
    let a = TestDevice::new();
    let b = TestDevice::new();
    let plan = a.plan();
    a.grant(&plan, &b, Role::Writer);
    a.store
        .add_safety_item(&plan, SafetyList::WarningSigns, "Stops answering messages")
        .unwrap();
    let pushed = a.sync(&*server);
    assert_eq!(pushed.documents_sent, 1, "{pushed:?}");
    assert!(pushed.rejected.is_empty(), "{pushed:?}");

    let pulled = b.sync(&*server);
    assert_eq!(pulled.documents_received, 1, "{pulled:?}");
    assert_eq!(
        b.store.care_plan(&plan).unwrap(),
        a.store.care_plan(&plan).unwrap()
    );

    // Both edit; both sync; both converge on both edits.
    b.store
        .add_safety_item(&plan, SafetyList::CopingStrategies, "Music")
        .unwrap();
    a.store
        .add_safety_item(&plan, SafetyList::ReasonsForLiving, "My sister")
        .unwrap();
    b.sync(&*server);
    a.sync(&*server);
    b.sync(&*server);
    let on_a = a.store.safety_plan(&plan).unwrap();
    assert_eq!(on_a, b.store.safety_plan(&plan).unwrap());
    assert_eq!(on_a.coping_strategies[0].text, "Music");
    assert_eq!(on_a.reasons_for_living[0].text, "My sister");

    // Nothing new: a session costs a few bytes each way.
    let idle = a.sync(&*server);
    assert_eq!(idle.documents_sent + idle.documents_received, 0, "{idle:?}");
    assert!(idle.bytes_sent + idle.bytes_received < 120, "{idle:?}");
}

pub(crate) fn data_survives_reopening<B: Backend>() {
    let backend = B::create();
    let a = TestDevice::new();
    let b = TestDevice::new();
    let c = TestDevice::new();
    let plan = a.plan();
    a.grant(&plan, &b, Role::Reader);
    a.store
        .add_safety_item(&plan, SafetyList::WarningSigns, "Skipping meals")
        .unwrap();
    {
        let server = backend.open();
        a.sync(&*server);
        b.sync(&*server);
    }
    a.store
        .add_safety_item(&plan, SafetyList::WarningSigns, "Not sleeping")
        .unwrap();
    a.grant(&plan, &c, Role::Reader);
    {
        let server = backend.open();
        a.sync(&*server);
    }
    let server = backend.open();
    let pulled = b.sync(&*server);
    assert_eq!(pulled.documents_received, 1, "{pulled:?}");
    assert_eq!(
        b.store.care_plan(&plan).unwrap(),
        a.store.care_plan(&plan).unwrap()
    );
    // A device granted while the server was down gets everything.
    c.sync(&*server);
    assert_eq!(c.store.safety_plan(&plan).unwrap().warning_signs.len(), 2);
}

pub(crate) fn a_malformed_frame_is_an_error_and_stores_nothing<B: Backend>() {
    let backend = B::create();
    let server = backend.open();
    let a = TestDevice::new();
    let b = TestDevice::new();
    let plan = a.plan();
    a.grant(&plan, &b, Role::Reader);
    let (_session, request) = a
        .store
        .start_sync(server.server_id(), SyncScope::All)
        .unwrap();
    for bad in [
        &b""[..],
        b"GET / HTTP/1.1\r\n",
        &request[..request.len() - 1],
        &[request.as_slice(), &[0]].concat(),
    ] {
        match server.sync(&a.id(), bad, crate::now_ms()) {
            Err(StorageError::Frame(_)) => {}
            other => panic!("expected a frame error, got {other:?}"),
        }
    }
    let mut v2 = request.clone();
    v2[3] = 2;
    assert!(matches!(
        server.sync(&a.id(), &v2, crate::now_ms()),
        Err(StorageError::Frame(
            lynchpin_core::sync::wire::WireError::UnsupportedVersion { found: 2 }
        ))
    ));
    // None of that stored the plan: another device finds nothing.
    let pulled = b.sync(&*server);
    assert_eq!(pulled.documents_received, 0, "{pulled:?}");
    assert!(b.store.documents().unwrap().is_empty());
    // The intact request still works.
    let response = server.sync(&a.id(), &request, crate::now_ms()).unwrap();
    assert!(Response::decode(&response).is_ok());
    b.sync(&*server);
    assert!(b.store.care_plan(&plan).is_ok());
}

/// A sync message carrying every change of `doc` to a peer that has none.
fn push_message(doc: &Automerge) -> Vec<u8> {
    let mut state = State {
        their_heads: Some(Vec::new()),
        their_need: Some(Vec::new()),
        their_have: Some(vec![Have {
            last_sync: Vec::new(),
            bloom: Default::default(),
        }]),
        ..State::new()
    };
    doc.generate_sync_message(&mut state).unwrap().encode()
}

fn push(server: &dyn ServerStore, from: &DeviceId, id: DocumentId, doc: &Automerge) -> DocStatus {
    push_signed(server, from, id, doc, &[])
}

/// [`push`] with change signatures.
fn push_signed(
    server: &dyn ServerStore,
    from: &DeviceId,
    id: DocumentId,
    doc: &Automerge,
    signatures: &[ChangeSignature],
) -> DocStatus {
    let request = Request {
        cursor: None,
        docs: vec![DocEntry {
            id,
            status: DocStatus::Ok,
            message: push_message(doc),
            extensions: DocEntry::signatures_extension(signatures)
                .into_iter()
                .collect(),
        }],
        extensions: Vec::new(),
    };
    let response = Response::decode(
        &server
            .sync(from, &request.encode(), crate::now_ms())
            .unwrap(),
    )
    .unwrap();
    response
        .docs
        .iter()
        .find(|d| d.id == id)
        .map_or(DocStatus::Ok, |d| d.status)
}

pub(crate) fn new_documents_need_a_valid_header<B: Backend>() {
    let backend = B::create();
    let server = backend.open();
    let from = device(1);
    // No header at all.
    let mut headless = Automerge::new();
    headless
        .transact(|tx| tx.put(ROOT, "note", "no header here").map(|_| ()))
        .unwrap();
    let id = DocumentId::from_slice(&[3; 16]).unwrap();
    assert_eq!(push(&*server, &from, id, &headless), DocStatus::Invalid);
    // A valid care plan sent under another document's id.
    let a = TestDevice::new();
    let plan = a.plan();
    let real = Automerge::load(&a.store.export(&plan).unwrap()).unwrap();
    let other = DocumentId::from_slice(&[4; 16]).unwrap();
    assert_eq!(push(&*server, &from, other, &real), DocStatus::Invalid);
    // Garbage where the sync message should be.
    let request = Request {
        cursor: None,
        docs: vec![DocEntry {
            id: DocumentId::from_slice(&[5; 16]).unwrap(),
            status: DocStatus::Ok,
            message: vec![0x42, 1, 2, 3],
            extensions: Vec::new(),
        }],
        extensions: Vec::new(),
    };
    let response = Response::decode(
        &server
            .sync(&from, &request.encode(), crate::now_ms())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(response.docs[0].status, DocStatus::Invalid);
    // Nothing of it was stored.
    let b = TestDevice::new();
    a.grant(&plan, &b, Role::Reader);
    assert_eq!(b.sync(&*server).documents_received, 0);
    assert!(b.store.documents().unwrap().is_empty());
    // The same plan under its own id, but without its creator's signature,
    // is refused; signed (as its creator's device sends it) it is accepted
    // and relayed to the device granted it.
    assert_eq!(push(&*server, &from, plan, &real), DocStatus::Unsigned);
    assert_eq!(a.sync(&*server).rejected, Vec::new());
    assert_eq!(b.sync(&*server).documents_received, 1);
    assert_eq!(
        b.store.care_plan(&plan).unwrap(),
        a.store.care_plan(&plan).unwrap()
    );
}

pub(crate) fn changes_may_not_alter_a_document_header<B: Backend>() {
    let backend = B::create();
    let server = backend.open();
    let a = TestDevice::new();
    let b = TestDevice::new();
    let plan = a.plan();
    a.grant(&plan, &b, Role::Reader);
    a.sync(&*server);
    // A copy of the plan with one more change that renames it.
    let mut renamed = Automerge::load(&a.store.export(&plan).unwrap()).unwrap();
    renamed
        .transact(|tx| {
            tx.put(
                ROOT,
                "@id",
                DocumentId::from_slice(&[9; 16]).unwrap().to_string(),
            )
            .map(|_| ())
        })
        .unwrap();
    assert_eq!(push(&*server, &b.id(), plan, &renamed), DocStatus::Invalid);
    // Retyping it is refused too.
    let mut retyped = Automerge::load(&a.store.export(&plan).unwrap()).unwrap();
    retyped
        .transact(|tx| tx.put(ROOT, "@kind", "journal").map(|_| ()))
        .unwrap();
    assert_eq!(push(&*server, &b.id(), plan, &retyped), DocStatus::Invalid);
    // A device without a grant may not send changes to it at all.
    assert_eq!(
        push(&*server, &device(1), plan, &retyped),
        DocStatus::NotAllowed
    );
    // Other devices still get the plan as it was.
    b.sync(&*server);
    assert_eq!(
        b.store.care_plan(&plan).unwrap(),
        a.store.care_plan(&plan).unwrap()
    );
    // An ordinary change to the same plan, signed by its author, is
    // accepted once the author may write.
    let mut edited = Automerge::load(&a.store.export(&plan).unwrap())
        .unwrap()
        .with_actor(b.id().actor());
    edited
        .transact(|tx| tx.put(ROOT, "extra", "value").map(|_| ()))
        .unwrap();
    let signature = ChangeSignature::sign(
        b.store.device_key(),
        &plan,
        edited.get_last_local_change().unwrap().hash(),
    );
    assert_eq!(
        push_signed(&*server, &b.id(), plan, &edited, &[signature]),
        DocStatus::NotAllowed
    );
    a.grant(&plan, &b, Role::Writer);
    a.sync(&*server);
    assert_eq!(
        push_signed(&*server, &b.id(), plan, &edited, &[signature]),
        DocStatus::Ok
    );
}

pub(crate) fn many_changes_stay_readable<B: Backend>() {
    let backend = B::create();
    let server = backend.open();
    let a = TestDevice::new();
    let b = TestDevice::new();
    let plan = a.plan();
    a.grant(&plan, &b, Role::Reader);
    // Past the compaction thresholds, one change per session.
    for i in 0..80 {
        a.store
            .add_safety_item(&plan, SafetyList::WarningSigns, &format!("sign {i}"))
            .unwrap();
        a.sync(&*server);
    }
    drop(server);
    let server = backend.open();
    b.sync(&*server);
    assert_eq!(b.store.safety_plan(&plan).unwrap().warning_signs.len(), 80);
    assert_eq!(
        b.store.care_plan(&plan).unwrap(),
        a.store.care_plan(&plan).unwrap()
    );
}

fn ids(device: &TestDevice) -> Vec<DocumentId> {
    device
        .store
        .documents()
        .unwrap()
        .into_iter()
        .map(|d| d.id)
        .collect()
}

pub(crate) fn documents_reach_only_granted_devices<B: Backend>() {
    let backend = B::create();
    let server = backend.open();
    let young_person = TestDevice::new();
    let parent = TestDevice::new();
    let stranger = TestDevice::new();
    let plan = young_person.plan();
    let journal = young_person.store.create_journal().unwrap();
    young_person.grant(&plan, &parent, Role::Reader);
    young_person.sync(&*server);

    parent.sync(&*server);
    assert_eq!(ids(&parent), vec![plan]);
    assert_eq!(
        server.role(&parent.id(), &plan).unwrap(),
        Some(Role::Reader)
    );
    assert_eq!(server.role(&parent.id(), &journal).unwrap(), None);
    assert_eq!(
        server.role(&young_person.id(), &journal).unwrap(),
        Some(Role::Owner)
    );
    stranger.sync(&*server);
    assert!(ids(&stranger).is_empty());

    // Asking for the journal by id gets nothing either.
    let request = Request {
        cursor: None,
        docs: vec![DocEntry {
            id: journal,
            status: DocStatus::Ok,
            message: push_message(&Automerge::new()),
            extensions: Vec::new(),
        }],
        extensions: Vec::new(),
    };
    let response = Response::decode(
        &server
            .sync(&parent.id(), &request.encode(), crate::now_ms())
            .unwrap(),
    )
    .unwrap();
    let asked: Vec<&DocEntry> = response.docs.iter().filter(|d| d.id == journal).collect();
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].status, DocStatus::NotAllowed);
    assert!(asked[0].message.is_empty());

    // Revoked: the next sync brings nothing new.
    young_person.store.revoke(&plan, parent.id()).unwrap();
    young_person
        .store
        .add_safety_item(&plan, SafetyList::WarningSigns, "After the revocation")
        .unwrap();
    young_person.sync(&*server);
    assert_eq!(server.role(&parent.id(), &plan).unwrap(), None);
    let after = parent.sync(&*server);
    assert_eq!(after.documents_received, 0, "{after:?}");
    assert!(
        parent
            .store
            .safety_plan(&plan)
            .unwrap()
            .warning_signs
            .is_empty()
    );
}

pub(crate) fn changes_need_a_writer_and_a_valid_signature<B: Backend>() {
    let backend = B::create();
    let server = backend.open();
    let owner = TestDevice::new();
    let reader = TestDevice::new();
    let plan = owner.plan();
    owner.grant(&plan, &reader, Role::Reader);
    owner.sync(&*server);
    reader.sync(&*server);

    // The reader's store refuses the edit; a change made around it, though
    // signed by the reader, is refused by the server.
    assert!(matches!(
        reader
            .store
            .add_safety_item(&plan, SafetyList::WarningSigns, "by a reader"),
        Err(lynchpin_core::Error::NotAllowed(_))
    ));
    let base = Automerge::load(&reader.store.export(&plan).unwrap()).unwrap();
    let edit_as = |actor: &DeviceId| {
        let mut doc = base.fork().with_actor(actor.actor());
        doc.transact(|tx| tx.put(ROOT, "note", "changed").map(|_| ()))
            .unwrap();
        let hash = doc.get_last_local_change().unwrap().hash();
        (doc, hash)
    };
    let (by_reader, hash) = edit_as(&reader.id());
    let signature = ChangeSignature::sign(reader.store.device_key(), &plan, hash);
    assert_eq!(
        push_signed(&*server, &reader.id(), plan, &by_reader, &[signature]),
        DocStatus::NotAllowed
    );

    // A change that claims the owner's actor id, signed by another key or
    // not at all, is refused.
    let (claimed, hash) = edit_as(&owner.id());
    let forged = ChangeSignature::sign(reader.store.device_key(), &plan, hash);
    assert_eq!(
        push_signed(&*server, &reader.id(), plan, &claimed, &[forged]),
        DocStatus::Unsigned
    );
    assert_eq!(
        push(&*server, &reader.id(), plan, &claimed),
        DocStatus::Unsigned
    );
    let mut bad = ChangeSignature::sign(owner.store.device_key(), &plan, hash);
    bad.signature[0] ^= 1;
    assert_eq!(
        push_signed(&*server, &reader.id(), plan, &claimed, &[bad]),
        DocStatus::Unsigned
    );

    // None of it was stored: the owner gets nothing back.
    let back = owner.sync(&*server);
    assert_eq!(back.documents_received, 0, "{back:?}");
    assert_eq!(
        Automerge::load(&owner.store.export(&plan).unwrap())
            .unwrap()
            .get_heads(),
        base.get_heads()
    );
}

pub(crate) fn the_access_log_records_reads_and_writes<B: Backend>() {
    let backend = B::create();
    let server = backend.open();
    let owner = TestDevice::new();
    let reader = TestDevice::new();
    let plan = owner.plan();
    owner.grant(&plan, &reader, Role::Reader);
    let start = crate::now_ms();
    owner.sync(&*server);
    reader.sync(&*server);
    let end = crate::now_ms();
    // Nothing new: no read is logged for an idle session.
    reader.sync(&*server);
    let log = server.access_log(&plan, 100).unwrap();
    let actions: Vec<(DeviceId, AccessAction)> = log.iter().map(|r| (r.device, r.action)).collect();
    assert_eq!(
        actions,
        vec![
            (reader.id(), AccessAction::Read),
            (owner.id(), AccessAction::Write)
        ]
    );
    assert!(log.iter().all(|r| (start..=end).contains(&r.at_ms)));
    assert!(server.access_log(&plan, 1).unwrap().len() == 1);

    // Retention: entries before the cut-off go, later ones stay.
    assert_eq!(server.purge_access_log(start).unwrap(), 0);
    assert_eq!(server.purge_access_log(end + 1).unwrap(), 2);
    assert!(server.access_log(&plan, 100).unwrap().is_empty());
}

/// An Automerge V1 sync message carrying exactly these raw changes.
fn raw_message(changes: &[&[u8]]) -> Vec<u8> {
    fn leb(out: &mut Vec<u8>, mut v: u64) {
        loop {
            let byte = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }
    // Type 0x42, no heads, no need, no have, then the changes.
    let mut out = vec![0x42, 0, 0, 0];
    leb(&mut out, changes.len() as u64);
    for change in changes {
        leb(&mut out, change.len() as u64);
        out.extend_from_slice(change);
    }
    out
}

pub(crate) fn changes_with_missing_dependencies_are_never_stored<B: Backend>() {
    let backend = B::create();
    let server = backend.open();
    let owner = TestDevice::new();
    let writer = TestDevice::new();
    let plan = owner.plan();
    owner.grant(&plan, &writer, Role::Writer);
    owner.sync(&*server);
    writer.sync(&*server);

    // The writer prepares a change `hidden` it never sends, then a change
    // that claims the owner's actor and next sequence number on top of it:
    // an orphan, which Automerge would queue and a later save could keep.
    let base = Automerge::load(&writer.store.export(&plan).unwrap()).unwrap();
    let mut fork = base.fork().with_actor(writer.id().actor());
    fork.transact(|tx| tx.put(ROOT, "hidden", "x").map(|_| ()))
        .unwrap();
    let mut fork = fork.with_actor(owner.id().actor());
    fork.transact(|tx| tx.put(ROOT, "squatter", "x").map(|_| ()))
        .unwrap();
    let orphan = fork.get_last_local_change().unwrap();
    // With it, a real, signed change of the writer large enough to make
    // the server compact the document in the same request.
    let mut real = base.fork().with_actor(writer.id().actor());
    real.transact(|tx| tx.put(ROOT, "bulk", "y".repeat(40_000)).map(|_| ()))
        .unwrap();
    let change = real.get_last_local_change().unwrap();
    let signature = ChangeSignature::sign(writer.store.device_key(), &plan, change.hash());
    let request = Request {
        cursor: None,
        docs: vec![DocEntry {
            id: plan,
            status: DocStatus::Ok,
            message: raw_message(&[change.raw_bytes(), orphan.raw_bytes()]),
            extensions: DocEntry::signatures_extension(&[signature])
                .into_iter()
                .collect(),
        }],
        extensions: Vec::new(),
    };
    let response = Response::decode(
        &server
            .sync(&writer.id(), &request.encode(), crate::now_ms())
            .unwrap(),
    )
    .unwrap();
    assert!(
        response.docs.iter().all(|d| d.status == DocStatus::Ok),
        "{:?}",
        response.docs.iter().map(|d| d.status).collect::<Vec<_>>()
    );

    // The owner's next change, with the sequence number the orphan took,
    // is accepted, and reaches the writer.
    owner
        .store
        .add_safety_item(&plan, SafetyList::WarningSigns, "After the orphan")
        .unwrap();
    let pushed = owner.sync(&*server);
    assert!(pushed.rejected.is_empty(), "{pushed:?}");
    writer.sync(&*server);
    assert_eq!(
        writer.store.safety_plan(&plan).unwrap().warning_signs[0].text,
        "After the orphan"
    );
    // And the squatter's change was never relayed.
    let copy = Automerge::load(&writer.store.export(&plan).unwrap()).unwrap();
    assert!(
        automerge::ReadDoc::get(&copy, ROOT, "squatter")
            .unwrap()
            .is_none()
    );
}
