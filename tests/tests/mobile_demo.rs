//! `cargo run -p mobile-demo` keeps its promises. The test runs the demo
//! binary with `--keep DIR` and checks what it claims from the kept store
//! files and the relay's database, never from its printed text: the four
//! copies of the plan are equal, the crisis-number conflict was real and is
//! resolved, the parent's phone has no journal and the relay never sent it
//! one, and Alex's offline work reached the coordinator. With the trusted
//! organisation's key configured as the demo's apps were: the two endorsed
//! resources are endorsed on every device that holds the directory, the
//! edited helpline shows as changed since its endorsement there, and the
//! plan's signposts carry evidence that verifies on Alex's phone.
//!
//! The kept folder's layout is the demo's contract (mobile-demo/src/main.rs):
//! `<device>.lynchpin` and `<device>.key` (the store's key in hex) for each
//! device, `trusted-organisations.txt` (organisation public keys in hex, one
//! a line), and `relay/` for the server's data.

use std::{
    collections::BTreeSet,
    fs,
    path::{Path, PathBuf},
    process::Command,
    sync::OnceLock,
    time::{Duration, Instant},
};

use automerge::{ActorId, Automerge, ScalarValue, legacy};
use chrono::Utc;
use lynchpin_core::{
    DeviceId, DocumentId, DocumentKind, EndorsementState, Role, SignpostFeedback, Store,
    TrustedOrganisations,
};
use lynchpin_server::storage::{AccessAction, ServerStore, sqlite::SqliteStore};
use lynchpin_tests::key_from_hex;

const ALEX: &str = "alex-phone";
const PARENT: &str = "parent-phone";
const COORDINATOR: &str = "coordinator-tablet";
const PSYCHOLOGIST: &str = "psychologist-laptop";

/// The demo binary, built for this test run's profile so that it is the
/// current source's (cargo does nothing if it is up to date).
fn demo_binary() -> PathBuf {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY
        .get_or_init(|| lynchpin_tests::build_binary("mobile-demo"))
        .clone()
}

/// Opens a kept store with the key the demo wrote beside it.
fn open(dir: &Path, device: &str) -> Store {
    let hex = fs::read_to_string(dir.join(format!("{device}.key"))).expect("read a key file");
    let key = key_from_hex(hex.trim()).expect("64 hex digits");
    Store::open(dir.join(format!("{device}.lynchpin")), &key).expect("open a kept store")
}

/// The one document of `kind` in a store.
fn only(store: &Store, kind: DocumentKind) -> DocumentId {
    let ids: Vec<DocumentId> = store
        .documents()
        .unwrap()
        .into_iter()
        .filter(|d| d.kind == kind)
        .map(|d| d.id)
        .collect();
    assert_eq!(ids.len(), 1, "documents of kind {kind}: {ids:?}");
    ids[0]
}

/// The organisations the demo's apps trusted, from the kept folder.
fn trusted_organisations(dir: &Path) -> TrustedOrganisations {
    let text = fs::read_to_string(dir.join("trusted-organisations.txt"))
        .expect("read trusted-organisations.txt");
    let keys: Vec<Vec<u8>> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let line = line.trim();
            assert!(line.len() == 64 && line.is_ascii(), "a key in hex: {line}");
            (0..32)
                .map(|i| u8::from_str_radix(&line[2 * i..2 * i + 2], 16).expect("hex digits"))
                .collect()
        })
        .collect();
    assert_eq!(keys.len(), 1, "one trusted organisation");
    TrustedOrganisations::from_slices(&keys).expect("Ed25519 public keys")
}

fn document(store: &Store, id: &DocumentId) -> Automerge {
    Automerge::load(&store.export(id).unwrap()).unwrap()
}

/// Every change that replaced more than one concurrent value of a crisis
/// contact's `phone` (a resolution: the store deletes the concurrent values
/// and puts the chosen one): its author, the authors of the values it
/// replaced, and the value it wrote.
fn phone_resolutions(doc: &Automerge) -> Vec<(ActorId, BTreeSet<ActorId>, Option<ScalarValue>)> {
    let mut found = Vec::new();
    for change in doc.get_changes(&[]) {
        let change = change.decode();
        let on_phone = change
            .operations
            .iter()
            .filter(|op| matches!(&op.key, legacy::Key::Map(key) if key == "phone"));
        let mut replaced = BTreeSet::new();
        let mut written = None;
        for op in on_phone {
            if op.pred.len() > 1 {
                replaced.extend(op.pred.iter().map(|id| id.1.clone()));
            }
            if let legacy::OpType::Put(value) = &op.action {
                written = Some(value.clone());
            }
        }
        if !replaced.is_empty() {
            found.push((change.actor_id.clone(), replaced, written));
        }
    }
    found
}

#[test]
fn the_demo_keeps_its_promises() {
    let temp = tempfile::tempdir().unwrap();
    let kept = temp.path().join("kept");
    let binary = demo_binary();
    let started = Instant::now();
    let output = Command::new(&binary)
        .arg("--keep")
        .arg(&kept)
        .output()
        .expect("run mobile-demo");
    let took = started.elapsed();
    assert!(
        output.status.success(),
        "mobile-demo failed with {}:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(took < Duration::from_secs(30), "the demo took {took:?}");

    let alex = open(&kept, ALEX);
    let parent = open(&kept, PARENT);
    let coordinator = open(&kept, COORDINATOR);
    let psychologist = open(&kept, PSYCHOLOGIST);
    let everyone = [&alex, &parent, &coordinator, &psychologist];
    let plan = only(&coordinator, DocumentKind::CarePlan);
    let journal = only(&alex, DocumentKind::Journal);

    // All four hold the same plan: the same Automerge history, the same view.
    let heads = |store: &Store| {
        let mut heads = document(store, &plan).get_heads();
        heads.sort();
        heads
    };
    let reference = coordinator.care_plan(&plan).unwrap();
    for store in everyone {
        assert_eq!(only(store, DocumentKind::CarePlan), plan);
        assert_eq!(heads(store), heads(&coordinator));
        assert_eq!(store.care_plan(&plan).unwrap(), reference);
    }

    // The conflict was real (two devices wrote the number concurrently)
    // and is resolved: the coordinator's write replaced both values, and no
    // device shows a conflict.
    let resolutions = phone_resolutions(&document(&coordinator, &plan));
    let [(resolver, replaced, value)] = resolutions.as_slice() else {
        panic!("expected one resolution of the crisis number, found {resolutions:?}");
    };
    assert_eq!(*resolver, coordinator.device_id().actor());
    assert_eq!(
        *replaced,
        BTreeSet::from([
            coordinator.device_id().actor(),
            psychologist.device_id().actor()
        ])
    );
    let number = reference.safety_plan.crisis_contacts[0]
        .details
        .phone
        .clone();
    assert_eq!(
        value.as_ref().and_then(|v| v.as_str()).map(str::to_owned),
        number
    );
    assert!(number.is_some());
    for store in everyone {
        assert!(store.conflicts(&plan).unwrap().is_empty());
    }

    // The plan is shared with the parent as a reader; the journal with no
    // one. The parent's store has no journal at all.
    assert_eq!(parent.role(&plan).unwrap(), Some(Role::Reader));
    let journal_access: Vec<DeviceId> = alex
        .access(&journal)
        .unwrap()
        .into_iter()
        .map(|e| e.device)
        .collect();
    assert_eq!(journal_access, vec![alex.device_id()]);
    assert!(alex.journal(&journal).unwrap().check_ins.len() >= 2);
    for store in [&parent, &coordinator, &psychologist] {
        assert!(
            store
                .documents()
                .unwrap()
                .iter()
                .all(|d| d.kind != DocumentKind::Journal && d.id != journal)
        );
    }

    // The relay holds the journal (Alex's phone wrote it there) and never
    // sent it to any device, the parent's least of all.
    let relay = SqliteStore::open(kept.join("relay")).expect("open the relay's database");
    let log = relay.access_log(&journal, 10_000).unwrap();
    assert!(
        log.iter()
            .any(|e| e.device == alex.device_id() && e.action == AccessAction::Write),
        "{log:?}"
    );
    assert!(
        log.iter()
            .all(|e| e.device == alex.device_id() && e.action == AccessAction::Write),
        "{log:?}"
    );
    assert_eq!(relay.role(&parent.device_id(), &journal).unwrap(), None);
    assert!(
        relay
            .access_log(&plan, 10_000)
            .unwrap()
            .iter()
            .any(|e| e.device == parent.device_id() && e.action == AccessAction::Read),
        "the parent's phone read the plan from the relay"
    );

    // Alex's warning signs, reasons for living and "my voice", written
    // offline, are on the coordinator's tablet.
    let on_tablet = coordinator.safety_plan(&plan).unwrap();
    let on_phone = alex.safety_plan(&plan).unwrap();
    let by_alex = |items: &[lynchpin_core::SafetyItem]| -> Vec<String> {
        items
            .iter()
            .filter(|i| i.added_by == Some(alex.device_id()))
            .map(|i| i.text.clone())
            .collect()
    };
    assert!(!by_alex(&on_phone.warning_signs).is_empty());
    assert!(!by_alex(&on_phone.reasons_for_living).is_empty());
    assert_eq!(
        by_alex(&on_tablet.warning_signs),
        by_alex(&on_phone.warning_signs)
    );
    assert_eq!(
        by_alex(&on_tablet.reasons_for_living),
        by_alex(&on_phone.reasons_for_living)
    );
    let my_voice = |store: &Store| -> Vec<String> {
        store
            .care_plan(&plan)
            .unwrap()
            .meetings
            .into_iter()
            .map(|m| m.my_voice)
            .filter(|v| !v.is_empty())
            .collect()
    };
    assert_eq!(my_voice(&alex).len(), 1);
    assert_eq!(my_voice(&coordinator), my_voice(&alex));

    // Endorsements, as each app saw them: trust the organisation the demo
    // configured. Every device holds the directory (its grants give the
    // clinicians write and Alex and the parent read), so each works out the
    // statuses from it: the signposted peer group and parents' course are
    // endorsed, the helpline whose number was edited is not any more.
    let trusted = trusted_organisations(&kept);
    let directory = only(&coordinator, DocumentKind::ResourceDirectory);
    let now = Utc::now();
    let signposts = reference.signposts.clone();
    assert_eq!(signposts.len(), 2, "{signposts:?}");
    let signposted: BTreeSet<_> = signposts
        .iter()
        .map(|s| s.resource.resource.clone())
        .collect();
    let mut holders = 0;
    for store in everyone {
        store.set_trusted_organisations(trusted.clone());
        if store.role(&directory).unwrap().is_none() {
            continue;
        }
        holders += 1;
        let resources = store.directory(&directory).unwrap().resources;
        assert_eq!(resources.len(), 3);
        for resource in resources {
            let status = store
                .resource_endorsements(&directory, &resource.id, now)
                .unwrap();
            let expected = if signposted.contains(&resource.id) {
                EndorsementState::Endorsed
            } else {
                assert!(resource.details.name.contains("Helpline"));
                EndorsementState::ChangedSinceEndorsement
            };
            assert_eq!(status.state(), Some(expected), "{}", resource.details.name);
            let endorser = status.best.unwrap().endorser.unwrap();
            assert!(trusted.trusts(&endorser.organisation_key));
        }
    }
    assert_eq!(holders, 4, "every device holds the directory");

    // The signposts in Alex's plan carry their evidence, and its
    // endorsements verify on Alex's phone; Alex's feedback reached the team.
    for signpost in &signposts {
        let evidence = signpost.evidence.as_ref().expect("a signpost's evidence");
        assert!(!evidence.endorsements.is_empty());
        let status = alex
            .signpost_endorsements(&plan, &signpost.id, now)
            .unwrap()
            .expect("evidence");
        assert_eq!(status.state(), Some(EndorsementState::Endorsed));
        assert!(status.all.iter().all(|s| s.not_trusted.is_none()));
    }
    assert!(
        signposts
            .iter()
            .any(|s| s.feedback == SignpostFeedback::Helpful && s.feedback_at.is_some())
    );
}

#[test]
fn the_demo_refuses_a_folder_that_is_not_empty() {
    let temp = tempfile::tempdir().unwrap();
    fs::write(temp.path().join("something.txt"), "kept from before").unwrap();
    let output = Command::new(demo_binary())
        .arg("--keep")
        .arg(temp.path())
        .output()
        .expect("run mobile-demo");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("is not empty"), "{stderr}");
    // Nothing was added to the folder.
    assert_eq!(fs::read_dir(temp.path()).unwrap().count(), 1);
}
