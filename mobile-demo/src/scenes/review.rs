//! Friday: back online. Every device syncs through the relay and shows the
//! crisis-number conflict with its authors; at the review the coordinator
//! resolves it and every copy converges.

use lynchpin_core::{ConflictField, ContactField, DocumentId};

use super::{CRISIS_NUMBER_PSYCHOLOGIST, Records, Result, day};
use crate::{cast::Cast, device::Device, timeline::Timeline};

/// Shows every conflicting value on `device`, with its author.
fn show_conflicts(t: &mut Timeline, cast: &Cast, device: &Device, plan: &DocumentId) -> Result<()> {
    let conflicts = device.store.conflicts(plan)?;
    if conflicts.is_empty() {
        t.act(device, "safety plan: no conflict");
    }
    for conflict in conflicts {
        let field = match &conflict.field {
            ConflictField::CrisisContact { field, .. } => match field {
                ContactField::Phone => "crisis line's number".to_string(),
                other => format!("crisis line's {other:?}"),
            },
            ConflictField::SafetyItem { list, .. } => format!("an item of {list}"),
            ConflictField::CodeWord => "the code word".to_string(),
        };
        let values: Vec<String> = conflict
            .values
            .iter()
            .map(|v| {
                format!(
                    "{} (by {})",
                    v.value.as_deref().unwrap_or("cleared"),
                    cast.name_of(v.author)
                )
            })
            .collect();
        t.act(
            device,
            &format!(
                "⚠ {field} has {} values: {}",
                values.len(),
                values.join(" | ")
            ),
        );
    }
    Ok(())
}

/// Friday morning: the connections return, every device syncs through the
/// relay, and every device shows the crisis-line conflict.
pub fn back_online(t: &mut Timeline, cast: &Cast, records: &Records) -> Result<()> {
    t.scene(
        day::friday(),
        "morning: back online, everyone syncs through the relay",
    );
    cast.set_online(true);
    // Two rounds: the first carries each device's week to the relay, the
    // second brings everyone what the others sent after them.
    for device in [
        &cast.alex,
        &cast.parent,
        &cast.psychologist,
        &cast.coordinator,
    ] {
        t.sync(device)?;
    }
    for device in [&cast.alex, &cast.parent, &cast.psychologist] {
        t.sync(device)?;
    }
    let notes = cast
        .coordinator
        .store
        .care_plan(&records.plan)?
        .meetings
        .into_iter()
        .find(|m| m.id == records.review)
        .map(|m| m.notes)
        .unwrap_or_default();
    let notes: Vec<&str> = notes.lines().collect();
    t.narrate(&format!(
        "The review notes both clinicians typed offline, merged by character: \"{}\"",
        notes.join(" / ")
    ));
    t.narrate(
        "The crisis number was changed on two devices at once. Automerge keeps both, and \
         Lynchpin shows both, with their authors, on every device:",
    );
    for device in cast.all() {
        show_conflicts(t, cast, device, &records.plan)?;
    }
    Ok(())
}

/// Friday, the review: the coordinator checks the number, resolves the
/// conflict and records the decisions; everyone converges.
pub fn review_meeting(t: &mut Timeline, cast: &Cast, records: &Records) -> Result<()> {
    t.scene(day::friday(), "the review meeting resolves the conflict");
    let tablet = &cast.coordinator;
    let field = tablet
        .store
        .conflicts(&records.plan)?
        .into_iter()
        .map(|c| c.field)
        .find(|f| {
            matches!(
                f,
                ConflictField::CrisisContact {
                    field: ContactField::Phone,
                    ..
                }
            )
        })
        .ok_or("the crisis-line conflict did not reach the coordinator")?;
    tablet
        .store
        .resolve_conflict(&records.plan, &field, Some(CRISIS_NUMBER_PSYCHOLOGIST))?;
    t.act(
        tablet,
        &format!(
            "rings the line's switchboard, keeps {CRISIS_NUMBER_PSYCHOLOGIST} and resolves the \
             conflict"
        ),
    );
    let review = &records.review;
    tablet.store.add_decision(
        &records.plan,
        review,
        "Phased return to school: mornings from Monday 30 November.",
    )?;
    tablet
        .store
        .record_goal_score(&records.plan, &records.goal, day::friday(), 4)?;
    t.act(
        tablet,
        "records the decision (mornings at school first) and Alex's goal score, 4/10",
    );
    t.sync(tablet)?;
    for device in [&cast.alex, &cast.parent, &cast.psychologist] {
        t.sync(device)?;
    }
    let mut resolved = true;
    for device in cast.all() {
        resolved &= device.store.conflicts(&records.plan)?.is_empty();
    }
    if resolved {
        t.narrate(&format!(
            "Every device now shows one crisis number, {CRISIS_NUMBER_PSYCHOLOGIST}, and no conflict."
        ));
    } else {
        for device in cast.all() {
            show_conflicts(t, cast, device, &records.plan)?;
        }
    }
    Ok(())
}
