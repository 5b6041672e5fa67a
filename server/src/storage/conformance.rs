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
    CarePlanDetails, DeviceId, DocumentId, PlanStatus, SafetyList, Store, StoreKey, SyncScope,
    sync::{
        SyncReport,
        wire::{DocEntry, DocStatus, Request, Response},
    },
};
use tempfile::TempDir;

use super::{Enrollment, NewInvite, ServerStore, StorageError};

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
                server.sync(&id, &request)
            })
            .unwrap()
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
    let plan = a.plan();
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
    // A device new to the reopened server gets everything.
    let c = TestDevice::new();
    c.sync(&*server);
    assert_eq!(c.store.safety_plan(&plan).unwrap().warning_signs.len(), 2);
}

pub(crate) fn a_malformed_frame_is_an_error_and_stores_nothing<B: Backend>() {
    let backend = B::create();
    let server = backend.open();
    let a = TestDevice::new();
    let plan = a.plan();
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
        match server.sync(&a.id(), bad) {
            Err(StorageError::Frame(_)) => {}
            other => panic!("expected a frame error, got {other:?}"),
        }
    }
    let mut v2 = request.clone();
    v2[3] = 2;
    assert!(matches!(
        server.sync(&a.id(), &v2),
        Err(StorageError::Frame(
            lynchpin_core::sync::wire::WireError::UnsupportedVersion { found: 2 }
        ))
    ));
    // None of that stored the plan: another device finds nothing.
    let b = TestDevice::new();
    let pulled = b.sync(&*server);
    assert_eq!(pulled.documents_received, 0, "{pulled:?}");
    assert!(b.store.documents().unwrap().is_empty());
    // The intact request still works.
    let response = server.sync(&a.id(), &request).unwrap();
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
    let request = Request {
        cursor: None,
        docs: vec![DocEntry {
            id,
            status: DocStatus::Ok,
            message: push_message(doc),
            extensions: Vec::new(),
        }],
        extensions: Vec::new(),
    };
    let response = Response::decode(&server.sync(from, &request.encode()).unwrap()).unwrap();
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
    let response = Response::decode(&server.sync(&from, &request.encode()).unwrap()).unwrap();
    assert_eq!(response.docs[0].status, DocStatus::Invalid);
    // Nothing of it was stored.
    let b = TestDevice::new();
    assert_eq!(b.sync(&*server).documents_received, 0);
    assert!(b.store.documents().unwrap().is_empty());
    // The same plan under its own id is accepted and relayed.
    assert_eq!(push(&*server, &from, plan, &real), DocStatus::Ok);
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
    let plan = a.plan();
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
    assert_eq!(
        push(&*server, &device(1), plan, &renamed),
        DocStatus::Invalid
    );
    // Retyping it is refused too.
    let mut retyped = Automerge::load(&a.store.export(&plan).unwrap()).unwrap();
    retyped
        .transact(|tx| tx.put(ROOT, "@kind", "journal").map(|_| ()))
        .unwrap();
    assert_eq!(
        push(&*server, &device(1), plan, &retyped),
        DocStatus::Invalid
    );
    // Other devices still get the plan as it was.
    let b = TestDevice::new();
    b.sync(&*server);
    assert_eq!(
        b.store.care_plan(&plan).unwrap(),
        a.store.care_plan(&plan).unwrap()
    );
    // An ordinary change to the same plan is accepted.
    let mut edited = Automerge::load(&a.store.export(&plan).unwrap()).unwrap();
    edited
        .transact(|tx| tx.put(ROOT, "extra", "value").map(|_| ()))
        .unwrap();
    assert_eq!(push(&*server, &device(1), plan, &edited), DocStatus::Ok);
}

pub(crate) fn many_changes_stay_readable<B: Backend>() {
    let backend = B::create();
    let server = backend.open();
    let a = TestDevice::new();
    let b = TestDevice::new();
    let plan = a.plan();
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
