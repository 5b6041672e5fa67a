//! The end of the story: what each device holds, what the relay's access
//! log tells Alex, and the demo's own check of its claims. If a claim does
//! not hold, the demo fails (exit code 1) instead of printing a happy ending.

use std::{collections::BTreeMap, error::Error};

use chrono::Utc;
use lynchpin_core::{
    AccessAction, AccessLogEntry, DocumentKind, EndorsementState, Error as CoreError,
    SignpostFeedback,
};

use crate::{
    cast::Cast,
    device::Device,
    scenes::{Records, Signposted, day},
    timeline::Timeline,
};

type Result<T> = std::result::Result<T, Box<dyn Error>>;

fn kind_name(kind: DocumentKind) -> &'static str {
    match kind {
        DocumentKind::CarePlan => "care plan",
        DocumentKind::Journal => "journal",
        DocumentKind::ResourceDirectory => "directory",
    }
}

/// One device's line of the summary.
fn holdings(device: &Device, records: &Records) -> Result<String> {
    let mut kinds: Vec<&str> = device
        .store
        .documents()?
        .into_iter()
        .map(|d| kind_name(d.kind))
        .collect();
    kinds.sort_unstable();
    let role = device
        .store
        .role(&records.plan)?
        .map_or("none", lynchpin_core::Role::name);
    let plan = device.store.care_plan(&records.plan)?;
    let safety = &plan.safety_plan;
    let my_voice = plan
        .meetings
        .iter()
        .find(|m| m.id == records.review)
        .is_some_and(|m| !m.my_voice.is_empty());
    let number = safety
        .crisis_contacts
        .first()
        .and_then(|c| c.details.phone.as_deref())
        .unwrap_or("-");
    Ok(format!(
        "{:<22} {:<7} {:<30} {:>5} {:>7}  {:<8} {:<13} {:>9}",
        device.name(),
        role,
        kinds.join(", "),
        safety.warning_signs.len(),
        safety.reasons_for_living.len(),
        if my_voice { "written" } else { "-" },
        number,
        device.store.conflicts(&records.plan)?.len(),
    ))
}

/// Saturday: prints what each device holds and what the relay's access log
/// shows Alex, then checks the demo's claims on the stores themselves.
pub fn summary(
    t: &mut Timeline,
    cast: &Cast,
    records: &Records,
    signposted: &Signposted,
) -> Result<()> {
    t.scene(day::saturday(), "what each device holds");
    t.narrate(&format!(
        "{:<22} {:<7} {:<30} {:>5} {:>7}  {:<8} {:<13} {:>9}",
        "device", "role", "documents", "signs", "reasons", "my voice", "crisis line", "conflicts"
    ));
    for device in cast.all() {
        t.narrate(&holdings(device, records)?);
    }
    let reference = cast.coordinator.store.care_plan(&records.plan)?;
    let same = cast
        .all()
        .into_iter()
        .map(|d| Ok(d.store.care_plan(&records.plan)? == reference))
        .collect::<Result<Vec<bool>>>()?;
    t.narrate(&format!(
        "Copies of the plan identical on all four devices: {}",
        if same.iter().all(|s| *s) { "yes" } else { "NO" }
    ));
    let mut names = Vec::new();
    for signpost in &signposted.resources {
        let resource = cast
            .alex
            .store
            .resource(&signpost.directory, &signpost.resource)?;
        names.push(resource.details.name);
    }
    t.narrate(&format!(
        "Signposted in the plan with their endorsements, checked offline on Alex's phone: {}",
        names.join("; ")
    ));

    let phone = &cast.alex;
    let relay = phone.relay()?;
    let journal_log = by_device(cast, phone.store.access_log(relay, &records.journal)?);
    t.act(
        phone,
        &format!(
            "Alex reads the relay's access log of the journal: {}",
            tally(&journal_log)
        ),
    );
    let plan_log = by_device(cast, phone.store.access_log(relay, &records.plan)?);
    t.act(
        phone,
        &format!("and of the care plan: {}", tally(&plan_log)),
    );
    let parent = &cast.parent;
    match parent.store.journal(&records.journal) {
        Err(CoreError::NotFound { .. }) => t.act(
            parent,
            "asks for Alex's journal: not on this device; the relay never sent it",
        ),
        Ok(_) => return Err("the parent's phone holds Alex's journal".into()),
        Err(e) => return Err(e.into()),
    }

    check(cast, records, &same, &journal_log)?;
    check_endorsements(cast, records, signposted)
}

/// Reads and writes in an access log, per device name.
type Tally = BTreeMap<&'static str, (usize, usize)>;

fn by_device(cast: &Cast, log: Vec<AccessLogEntry>) -> Tally {
    let mut tally = Tally::new();
    for entry in log {
        let counts = tally.entry(cast.name_of(Some(entry.device))).or_default();
        match entry.action {
            AccessAction::Read => counts.0 += 1,
            AccessAction::Write => counts.1 += 1,
        }
    }
    tally
}

fn tally(log: &Tally) -> String {
    log.iter()
        .map(|(who, (reads, writes))| match (reads, writes) {
            (0, w) => format!("{who} wrote {w}×"),
            (r, 0) => format!("{who} read {r}×"),
            (r, w) => format!("{who} read {r}× and wrote {w}×"),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The demo's claims, checked on the stores: an error names the first that
/// does not hold.
fn check(cast: &Cast, records: &Records, same: &[bool], journal_log: &Tally) -> Result<()> {
    if !same.iter().all(|s| *s) {
        return Err("the devices' copies of the plan differ".into());
    }
    for device in cast.all() {
        if !device.store.conflicts(&records.plan)?.is_empty() {
            return Err(format!("{} still shows a conflict", device.name()).into());
        }
    }
    let on_parent = cast.parent.store.documents()?;
    if on_parent.iter().any(|d| d.kind == DocumentKind::Journal) {
        return Err("the parent's phone holds a journal".into());
    }
    if journal_log.keys().any(|who| *who != cast.alex.name()) {
        return Err("a device other than Alex's phone touched the journal on the relay".into());
    }
    let plan = cast.coordinator.store.care_plan(&records.plan)?;
    let by_alex = |items: &[lynchpin_core::SafetyItem]| {
        items
            .iter()
            .filter(|i| i.added_by == Some(cast.alex.id()))
            .count()
    };
    let safety = &plan.safety_plan;
    if by_alex(&safety.warning_signs) == 0 || by_alex(&safety.reasons_for_living) == 0 {
        return Err("Alex's warning signs or reasons did not reach the coordinator".into());
    }
    if !plan
        .meetings
        .iter()
        .any(|m| m.id == records.review && !m.my_voice.is_empty())
    {
        return Err("Alex's 'my voice' did not reach the coordinator".into());
    }
    Ok(())
}

/// The endorsement claims, checked on the stores with the trust each app
/// was configured with: on every device that holds the directory the peer
/// group and the parents' course are endorsed and the edited helpline is
/// changed since its endorsement; the plan's signposts carry evidence that
/// verifies on Alex's phone; Alex's feedback reached the coordinator.
fn check_endorsements(cast: &Cast, records: &Records, signposted: &Signposted) -> Result<()> {
    let now = Utc::now();
    let directory = &signposted.helpline.directory;
    for device in cast.all() {
        let store = &device.store;
        if store.role(directory)?.is_none() {
            continue;
        }
        for resource in &signposted.resources {
            let state = store
                .resource_endorsements(directory, &resource.resource, now)?
                .state();
            if state != Some(EndorsementState::Endorsed) {
                return Err(format!(
                    "{} shows a signposted resource as {state:?}, not endorsed",
                    device.name()
                )
                .into());
            }
        }
        let helpline = store
            .resource_endorsements(directory, &signposted.helpline.resource, now)?
            .state();
        if helpline != Some(EndorsementState::ChangedSinceEndorsement) {
            return Err(format!(
                "{} shows the edited helpline as {helpline:?}, not changed since endorsement",
                device.name()
            )
            .into());
        }
    }
    for signpost in &signposted.signposts {
        let state = cast
            .alex
            .store
            .signpost_endorsements(&records.plan, signpost, now)?
            .and_then(|s| s.state());
        if state != Some(EndorsementState::Endorsed) {
            return Err(format!(
                "a signpost's evidence on Alex's phone is {state:?}, not endorsed"
            )
            .into());
        }
    }
    let feedback = cast
        .coordinator
        .store
        .care_plan(&records.plan)?
        .signposts
        .into_iter()
        .find(|s| signposted.signposts.first() == Some(&s.id))
        .map(|s| s.feedback);
    if feedback != Some(SignpostFeedback::Helpful) {
        return Err("Alex's feedback on the peer group did not reach the coordinator".into());
    }
    Ok(())
}
