//! Property: devices syncing through a relay over a faulty network — requests
//! and answers dropped, duplicated, delivered late and out of order,
//! sessions cut off mid-way — always converge once the network heals, and
//! lose no edit.
//!
//! The relay is the server's own storage (`lynchpin_server`'s SQLite store,
//! in process, so faults can be injected between the engine's calls), and
//! also a device store answering directly, as in a clinic with no server.
//! `LYNCHPIN_PROPTEST_CASES` raises the number of cases (default 16).

use std::{cell::RefCell, collections::BTreeSet};

use lynchpin_core::{
    CarePlanDetails, DeviceId, DocumentId, ItemId, MeetingDetails, MeetingText, PlanStatus, Role,
    SafetyList, Store, StoreKey, SyncScope,
};
use lynchpin_server::storage::{ServerStore, sqlite::SqliteStore};
use proptest::prelude::*;

/// Who answers the devices.
enum Relay {
    Server(SqliteStore),
    Device(Box<Store>),
}

impl Relay {
    fn id(&self) -> DeviceId {
        match self {
            Self::Server(server) => server.server_id(),
            Self::Device(store) => store.device_id(),
        }
    }

    fn respond(&self, peer: DeviceId, request: &[u8]) -> Result<Vec<u8>, String> {
        match self {
            Self::Server(server) => server
                .sync(&peer, request, lynchpin_server::now_ms())
                .map_err(|e| e.to_string()),
            Self::Device(store) => store
                .respond_sync(peer, request, &SyncScope::All)
                .map_err(|e| e.to_string()),
        }
    }
}

#[derive(Debug, Clone)]
enum Fault {
    None,
    DropRequest,
    DropAnswer,
    DuplicateRequest,
    StaleAnswer,
    ReplayOldRequest,
}

#[derive(Debug, Clone)]
enum Step {
    AddItem {
        device: usize,
    },
    Type {
        device: usize,
    },
    Sync {
        device: usize,
        faults: Vec<Fault>,
        cut_after: Option<u8>,
    },
}

fn fault() -> impl Strategy<Value = Fault> {
    prop_oneof![
        4 => Just(Fault::None),
        1 => Just(Fault::DropRequest),
        1 => Just(Fault::DropAnswer),
        1 => Just(Fault::DuplicateRequest),
        1 => Just(Fault::StaleAnswer),
        1 => Just(Fault::ReplayOldRequest),
    ]
}

fn step(devices: usize) -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (0..devices).prop_map(|device| Step::AddItem { device }),
        2 => (0..devices).prop_map(|device| Step::Type { device }),
        4 => (0..devices, prop::collection::vec(fault(), 1..6), prop::option::of(0u8..3))
            .prop_map(|(device, faults, cut_after)| Step::Sync { device, faults, cut_after }),
    ]
}

struct World {
    _dir: tempfile::TempDir,
    relay: Relay,
    devices: Vec<Store>,
    plan: DocumentId,
    meeting: ItemId,
    /// Every safety item text added, anywhere.
    items: BTreeSet<String>,
    /// Every fragment typed into the notes, anywhere.
    fragments: Vec<String>,
    /// Past requests and answers, for replays and stale deliveries.
    old_requests: RefCell<Vec<(DeviceId, Vec<u8>)>>,
    old_answers: RefCell<Vec<Vec<u8>>>,
}

fn world(devices: usize, server: bool) -> World {
    let dir = tempfile::tempdir().unwrap();
    let key = StoreKey::new([3; 32]);
    let relay = if server {
        Relay::Server(SqliteStore::open(dir.path().join("server")).unwrap())
    } else {
        Relay::Device(Box::new(
            Store::open(dir.path().join("relay.db"), &key).unwrap(),
        ))
    };
    let devices: Vec<Store> = (0..devices)
        .map(|i| Store::open(dir.path().join(format!("d{i}.db")), &key).unwrap())
        .collect();
    let plan = devices[0]
        .create_care_plan(&CarePlanDetails {
            subject_name: "Alex".into(),
            status: PlanStatus::Active,
            period_start: None,
            period_end: None,
            next_review: None,
        })
        .unwrap();
    let meeting = devices[0]
        .add_meeting(
            &plan,
            &MeetingDetails {
                date: chrono::NaiveDate::from_ymd_opt(2026, 11, 27).unwrap(),
                attendees: vec![],
            },
        )
        .unwrap();
    for other in &devices[1..] {
        devices[0]
            .grant(&plan, other.device_id(), Role::Writer)
            .unwrap();
    }
    let world = World {
        _dir: dir,
        relay,
        devices,
        plan,
        meeting,
        items: BTreeSet::new(),
        fragments: Vec::new(),
        old_requests: RefCell::new(Vec::new()),
        old_answers: RefCell::new(Vec::new()),
    };
    // Everyone starts from the plan, over a clean network.
    for i in 0..world.devices.len() {
        world.sync(i, &[], None).unwrap();
    }
    for i in 0..world.devices.len() {
        world.sync(i, &[], None).unwrap();
    }
    world
}

impl World {
    /// One session of device `i` with the relay over a channel with `faults`
    /// (one per exchange, then clean), cut after `cut_after` exchanges.
    fn sync(&self, i: usize, faults: &[Fault], cut_after: Option<u8>) -> Result<(), String> {
        let device = &self.devices[i];
        let me = device.device_id();
        let mut exchanges = 0u8;
        let result = device.sync_with(self.relay.id(), SyncScope::All, |request| {
            let fault = faults
                .get(usize::from(exchanges))
                .cloned()
                .unwrap_or(Fault::None);
            exchanges += 1;
            if cut_after.is_some_and(|cut| exchanges > cut) {
                return Err("connection cut".to_string());
            }
            self.old_requests.borrow_mut().push((me, request.clone()));
            let answer = |request: &[u8]| self.relay.respond(me, request);
            match fault {
                Fault::None => {}
                Fault::DropRequest => return Err("request lost".into()),
                Fault::DropAnswer => {
                    let lost = answer(&request)?;
                    self.old_answers.borrow_mut().push(lost);
                    return Err("answer lost".into());
                }
                Fault::DuplicateRequest => {
                    answer(&request)?;
                }
                Fault::StaleAnswer => {
                    if let Some(stale) = self.old_answers.borrow().last().cloned() {
                        return Ok(stale);
                    }
                }
                Fault::ReplayOldRequest => {
                    let old = self.old_requests.borrow().first().cloned();
                    if let Some((peer, old)) = old {
                        let _ = self.relay.respond(peer, &old);
                    }
                }
            }
            let fresh = answer(&request)?;
            self.old_answers.borrow_mut().push(fresh.clone());
            Ok(fresh)
        });
        result.map(|_| ()).map_err(|e| e.to_string())
    }
}

fn run(devices: usize, steps: Vec<Step>, server: bool) {
    let mut w = world(devices, server);
    for (n, step) in steps.into_iter().enumerate() {
        match step {
            Step::AddItem { device } => {
                let text = format!("d{device}-item{n}");
                w.devices[device]
                    .add_safety_item(&w.plan, SafetyList::WarningSigns, &text)
                    .unwrap();
                w.items.insert(text);
            }
            Step::Type { device } => {
                let fragment = format!("[d{device}:{n}]");
                let notes = w.devices[device].care_plan(&w.plan).unwrap().meetings[0]
                    .notes
                    .clone();
                let at = notes.chars().count();
                w.devices[device]
                    .splice_meeting_text(&w.plan, &w.meeting, MeetingText::Notes, at, 0, &fragment)
                    .unwrap();
                w.fragments.push(fragment);
            }
            Step::Sync {
                device,
                faults,
                cut_after,
            } => {
                // Failures are expected here; nothing may be lost by them.
                let _ = w.sync(device, &faults, cut_after);
            }
        }
    }
    // The network heals: two clean passes in turns.
    for _ in 0..2 {
        for i in 0..w.devices.len() {
            w.sync(i, &[], None).unwrap();
        }
    }
    let reference = w.devices[0].care_plan(&w.plan).unwrap();
    for device in &w.devices[1..] {
        assert_eq!(device.care_plan(&w.plan).unwrap(), reference);
    }
    if let Relay::Device(relay) = &w.relay {
        assert_eq!(relay.care_plan(&w.plan).unwrap(), reference);
    }
    let items: BTreeSet<String> = reference
        .safety_plan
        .warning_signs
        .iter()
        .map(|i| i.text.clone())
        .collect();
    assert_eq!(items, w.items, "every added item is everywhere");
    let notes = &reference.meetings[0].notes;
    for fragment in &w.fragments {
        assert!(
            notes.contains(fragment.as_str()),
            "{fragment} missing from {notes}"
        );
    }
}

fn cases() -> u32 {
    std::env::var("LYNCHPIN_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(16)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn through_the_server_a_faulty_network_never_loses_an_edit(
        (devices, steps) in (2usize..=4).prop_flat_map(|n| (Just(n), prop::collection::vec(step(n), 1..40)))
    ) {
        run(devices, steps, true);
    }

    #[test]
    fn directly_between_devices_a_faulty_network_never_loses_an_edit(
        (devices, steps) in (2usize..=4).prop_flat_map(|n| (Just(n), prop::collection::vec(step(n), 1..40)))
    ) {
        run(devices, steps, false);
    }
}

/// A case the property found: an edit, then a session whose first answer
/// is a stale one meant for another device.
#[test]
fn a_stale_answer_does_not_strand_an_edit() {
    for _ in 0..20 {
        run(
            3,
            vec![
                Step::AddItem { device: 1 },
                Step::Sync {
                    device: 1,
                    faults: vec![Fault::StaleAnswer],
                    cut_after: None,
                },
            ],
            true,
        );
    }
}
