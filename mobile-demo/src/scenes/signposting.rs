//! Tuesday: the coordinator publishes the region's resource directory to the
//! team; an organisation certifies her clinician key, and she endorses
//! support from the directory and signposts it into Alex's plan with its
//! evidence. Friday: an endorsed helpline's number is edited and every
//! device shows that it changed since its endorsement.

use chrono::{Days, Duration, NaiveDate, Utc};
use lynchpin_core::{
    Audience, Certificate, CertificateRequest, Cost, DocumentId, EndorsementState,
    EndorsementStatus, ItemId, ResourceContact, ResourceDetails, ResourceEndorsements,
    ResourceKind, ResourceRef, ResourceStatus, Role, SigningKeyPair, SignpostFeedback, Thrive,
};

use super::{ORGANISATION, Records, Result, Signposted, day};
use crate::{cast::Cast, device::Device, timeline::Timeline};

/// The helpline's number in the directory on Tuesday, and after Friday's edit.
const HELPLINE_NUMBER: &str = "0808 157 0123";
const HELPLINE_NUMBER_EDITED: &str = "0808 157 0456";
/// Who endorses, as her certificate names her.
const CLINICIAN: &str = "Ada Example";
const PROFESSION: &str = "CAMHS nurse (RMN)";
const REGISTRATION: &str = "NMC 00X0000E (fictional)";

fn resource(
    name: &str,
    description: &str,
    kind: ResourceKind,
    audience: Audience,
    phone: &str,
    hours: &str,
    always_open: bool,
) -> ResourceDetails {
    ResourceDetails {
        name: name.into(),
        description: description.into(),
        kind,
        organisation: "Testford Wellbeing Network (fictional)".into(),
        status: ResourceStatus::Active,
        thrive: vec![Thrive::GettingAdvice, Thrive::GettingHelp],
        audience,
        min_age: (audience == Audience::YoungPerson).then_some(11),
        max_age: (audience == Audience::YoungPerson).then_some(18),
        regions: vec!["Testford".into()],
        cost: Cost::Free,
        languages: vec!["English".into()],
        contact: ResourceContact {
            phones: vec![phone.into()],
            text_numbers: Vec::new(),
            email: None,
            url: Some("https://example.org/testford".into()),
        },
        opening_hours: hours.into(),
        always_open,
        works_offline: false,
        assessment: Default::default(),
        last_checked: Some(day::monday()),
        checked_by: "Ada Example".into(),
        review_due: NaiveDate::from_ymd_opt(2027, 5, 1),
    }
}

/// The region's directory as Tuesday's first scene publishes it.
pub struct Directory {
    /// The directory document.
    pub id: DocumentId,
    /// Testford Youth Helpline.
    pub helpline: ItemId,
    /// The young people's peer group.
    pub group: ItemId,
    /// The parent-to-parent course.
    pub course: ItemId,
}

/// Tuesday: the coordinator publishes the region's directory to the team:
/// clinicians write to it, Alex and the parent read it (the directory is
/// the organisation's document, and reading it needs no more than that).
pub fn publish_directory(t: &mut Timeline, cast: &Cast) -> Result<Directory> {
    t.scene(
        day::tuesday(),
        "the coordinator publishes the region's directory to the team",
    );
    let tablet = &cast.coordinator;
    let store = &tablet.store;
    let id = store.create_directory("Testford Wellbeing Network (fictional)")?;
    let helpline = store.add_resource(
        &id,
        &resource(
            "Testford Youth Helpline (fictional)",
            "A listening line for young people, day and night.",
            ResourceKind::Helpline,
            Audience::YoungPerson,
            HELPLINE_NUMBER,
            "24/7",
            true,
        ),
    )?;
    let group = store.add_resource(
        &id,
        &resource(
            "Testford Young People's Peer Group (fictional)",
            "Young people who have been there, meeting weekly with a trained peer supporter.",
            ResourceKind::PeerSupportGroup,
            Audience::YoungPerson,
            "01632 960200",
            "Wednesdays 17:00–18:30",
            false,
        ),
    )?;
    let course = store.add_resource(
        &id,
        &resource(
            "Parents Together: Testford parent-to-parent course (fictional)",
            "Six evenings run by parents of young people who have used CAMHS.",
            ResourceKind::ParentTraining,
            Audience::ParentOrCarer,
            "01632 960300",
            "Thursdays 19:00–21:00",
            false,
        ),
    )?;
    for (device, role) in [
        (&cast.alex, Role::Reader),
        (&cast.parent, Role::Reader),
        (&cast.psychologist, Role::Writer),
    ] {
        store.grant(&id, device.id(), role)?;
    }
    t.act(
        tablet,
        "publishes the region's directory (a helpline, a peer group, a parents' course) to the \
         team: clinicians write, Alex and Robin read",
    );
    Ok(Directory {
        id,
        helpline,
        group,
        course,
    })
}

/// Tuesday: the organisation certifies the coordinator's clinician key;
/// she endorses the peer group, the parents' course and the helpline, and
/// signposts the first two into Alex's plan with their evidence. Every
/// device then shows the endorsements, worked out on the device itself.
pub fn endorse_and_signpost(
    t: &mut Timeline,
    cast: &Cast,
    records: &Records,
    directory: &Directory,
    organisation: &SigningKeyPair,
) -> Result<Signposted> {
    t.scene(
        day::tuesday(),
        "the coordinator endorses support and signposts it, with its evidence",
    );
    // The clinician's key stays with her (in her tablet's key store); the
    // organisation's admin tool signs her certificate request.
    let clinician = SigningKeyPair::generate()?;
    let request = CertificateRequest::new(
        clinician.secret_bytes().as_ref(),
        CLINICIAN,
        PROFESSION,
        REGISTRATION,
    )?;
    let now = Utc::now();
    let certificate = Certificate::issue(
        organisation.secret_bytes().as_ref(),
        &request,
        ORGANISATION,
        now - Duration::hours(1),
        now + Duration::days(365),
    )?;
    t.narrate(&format!(
        "{ORGANISATION} certifies Ada's clinician key: {CLINICIAN}, {PROFESSION}, registration \
         {REGISTRATION}, valid until {}",
        certificate.valid_until.format("%-d %B %Y")
    ));
    t.narrate(
        "(Signatures carry the devices' real clock, so the dates shown below are today's, \
         not the story's.)",
    );
    let tablet = &cast.coordinator;
    let store = &tablet.store;
    // Review dates count from the real clock, as the signatures' times do.
    let review_by = now.date_naive() + Days::new(180);
    for (resource, what, rationale, thrive) in [
        (
            &directory.group,
            "the peer group",
            "Peer-led, with a trained supporter and a safeguarding lead; suits young people \
             waiting for or alongside CAMHS.",
            &[Thrive::GettingAdvice, Thrive::GettingHelp][..],
        ),
        (
            &directory.course,
            "the parents' course",
            "Run by trained parent peers to a set curriculum; helps carers support safety \
             plans at home.",
            &[Thrive::GettingAdvice][..],
        ),
        (
            &directory.helpline,
            "the helpline",
            "Free, 24/7, staff trained in safety planning; the right number out of hours.",
            &[Thrive::GettingAdvice, Thrive::GettingRiskSupport][..],
        ),
    ] {
        store.endorse_resource(
            &directory.id,
            resource,
            clinician.secret_bytes().as_ref(),
            &certificate,
            rationale,
            thrive,
            review_by,
        )?;
        t.act(
            tablet,
            &format!(
                "endorses {what} ({}; review by {}): \"{rationale}\"",
                thrive
                    .iter()
                    .map(|g| g.code())
                    .collect::<Vec<_>>()
                    .join(", "),
                review_by.format("%-d %b %Y"),
            ),
        );
    }
    let mut signposts = Vec::new();
    for (resource, reason) in [
        (
            &directory.group,
            "Meeting others who get it, at Alex's own pace",
        ),
        (
            &directory.course,
            "For Robin: evenings with parents who have been through CAMHS",
        ),
    ] {
        signposts.push(store.add_signpost_from_directory(
            &records.plan,
            &directory.id,
            resource,
            CLINICIAN,
            reason,
            day::tuesday(),
        )?);
    }
    t.act(
        tablet,
        "signposts the peer group to Alex and the parents' course for Robin, each with its \
         evidence (a snapshot of the resource and its endorsements)",
    );
    t.sync(tablet)?;
    for device in [&cast.alex, &cast.parent, &cast.psychologist] {
        t.sync(device)?;
    }
    let signposted = Signposted {
        resources: vec![
            ResourceRef {
                directory: directory.id,
                resource: directory.group.clone(),
            },
            ResourceRef {
                directory: directory.id,
                resource: directory.course.clone(),
            },
        ],
        helpline: ResourceRef {
            directory: directory.id,
            resource: directory.helpline.clone(),
        },
        signposts,
    };
    for device in cast.all() {
        show_statuses(t, device, records, &signposted, true)?;
    }
    Ok(signposted)
}

/// Friday, after the review: Alex says the peer group helped, and someone
/// with write access edits the endorsed helpline's number. After syncing,
/// every device shows that the helpline changed since its endorsement.
pub fn endorsed_helpline_edited(
    t: &mut Timeline,
    cast: &Cast,
    records: &Records,
    signposted: &Signposted,
) -> Result<()> {
    t.scene(
        day::friday(),
        "afternoon: feedback, and an endorsed helpline's number is edited",
    );
    let phone = &cast.alex;
    let group = signposted
        .signposts
        .first()
        .ok_or("nothing was signposted")?;
    phone
        .store
        .set_signpost_feedback(&records.plan, group, SignpostFeedback::Helpful)?;
    t.act(
        phone,
        "marks the peer group signpost 'helpful' (Alex went on Wednesday)",
    );
    t.sync(phone)?;

    let laptop = &cast.psychologist;
    let helpline = &signposted.helpline;
    let mut details = laptop
        .store
        .resource(&helpline.directory, &helpline.resource)?
        .details;
    details.contact.phones = vec![HELPLINE_NUMBER_EDITED.into()];
    laptop
        .store
        .update_resource(&helpline.directory, &helpline.resource, &details)?;
    t.act(
        laptop,
        &format!(
            "edits the helpline's number in the directory ({HELPLINE_NUMBER} → \
             {HELPLINE_NUMBER_EDITED}): a writer may, but the endorsement was of the old version"
        ),
    );
    t.sync(laptop)?;
    for device in [&cast.coordinator, &cast.parent, &cast.alex] {
        t.sync(device)?;
    }
    let feedback = cast
        .coordinator
        .store
        .care_plan(&records.plan)?
        .signposts
        .into_iter()
        .find(|s| s.id == *group)
        .map(|s| s.feedback);
    t.act(
        &cast.coordinator,
        &format!(
            "sees Alex's feedback on the peer group: {}",
            feedback.map_or("-", |f| f.code())
        ),
    );
    for device in cast.all() {
        show_statuses(t, device, records, signposted, false)?;
    }
    Ok(())
}

/// What `device` shows for the endorsed resources: from the directory if it
/// holds it (its grants decide), and on Alex's phone also for the plan's
/// signposts from their own evidence, which needs no directory. `tuesday`
/// shows every endorsed resource and Alex's signposts; otherwise only the
/// helpline (and the signposts on a device without the directory).
fn show_statuses(
    t: &mut Timeline,
    device: &Device,
    records: &Records,
    signposted: &Signposted,
    tuesday: bool,
) -> Result<()> {
    let now = Utc::now();
    let store = &device.store;
    let directory = &signposted.helpline.directory;
    let holds_directory = store.role(directory)?.is_some();
    if holds_directory {
        let mut shown = vec![&signposted.helpline];
        if tuesday {
            shown = signposted.resources.iter().chain(shown).collect();
        }
        for resource in shown {
            let name = store.resource(directory, &resource.resource)?.details.name;
            let status = store.resource_endorsements(directory, &resource.resource, now)?;
            t.act(
                device,
                &format!("{}: {}", short(&name), status_line(&status)),
            );
        }
    }
    let is_alex = device.profile.file == crate::cast::ALEX.file;
    if !holds_directory || (tuesday && is_alex) {
        for signpost in store.care_plan(&records.plan)?.signposts {
            let name = signpost
                .evidence
                .as_ref()
                .map_or("a signpost".to_string(), |e| short(&e.snapshot.name));
            let line = match store.signpost_endorsements(&records.plan, &signpost.id, now)? {
                Some(status) => status_line(&status),
                None => "no evidence".into(),
            };
            t.act(
                device,
                &format!("in the plan, from the signpost's evidence: {name}: {line}"),
            );
        }
    }
    Ok(())
}

/// A resource's name without the "(fictional)" every name carries.
fn short(name: &str) -> String {
    name.trim_end_matches(" (fictional)").to_string()
}

/// How a device words a resource's endorsement status.
fn status_line(status: &ResourceEndorsements) -> String {
    let Some(best) = &status.best else {
        return "not endorsed".into();
    };
    let by = describe_endorser(best);
    match best.state {
        EndorsementState::Endorsed => format!("endorsed by {by}"),
        EndorsementState::ReviewOverdue => format!("review overdue (endorsed by {by})"),
        EndorsementState::ChangedSinceEndorsement => {
            format!("⚠ changed since endorsement (endorsed by {by})")
        }
        EndorsementState::Revoked => format!("endorsement revoked (was by {by})"),
        EndorsementState::NotTrusted => format!(
            "endorsement not trusted ({})",
            best.not_trusted
                .map_or("unknown".to_string(), |r| format!("{r:?}"))
        ),
    }
}

fn describe_endorser(status: &EndorsementStatus) -> String {
    let who = status.endorser.as_ref().map_or("someone".to_string(), |e| {
        format!("{}, {}", e.name, e.profession)
    });
    match status.issued_at {
        Some(at) => format!("{who}, on {}", at.format("%-d %B %Y")),
        None => who,
    }
}
