//! Tuesday: the coordinator publishes the region's resource directory to the
//! team and signposts support from it. The endorsement scenes (issue 7:
//! `endorse_and_signpost`, `endorsed_helpline_edited`) belong in this file.

use chrono::NaiveDate;
use lynchpin_core::{
    Audience, Cost, ResourceContact, ResourceDetails, ResourceKind, ResourceRef, ResourceStatus,
    Role, Thrive,
};

use super::{Records, Result, Signposted, day};
use crate::{cast::Cast, timeline::Timeline};

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

/// Tuesday: the coordinator publishes the region's directory to the team
/// and signposts a peer-support group to Alex and a parent-to-parent course
/// for Robin. Nothing is endorsed yet: endorsements are a later version of
/// the directory (see `main`).
pub fn signpost_resources(t: &mut Timeline, cast: &Cast, records: &Records) -> Result<Signposted> {
    t.scene(
        day::tuesday(),
        "the coordinator signposts support from the directory",
    );
    let tablet = &cast.coordinator;
    let store = &tablet.store;
    let directory = store.create_directory("Testford Wellbeing Network (fictional)")?;
    store.add_resource(
        &directory,
        &resource(
            "Testford Youth Helpline (fictional)",
            "A listening line for young people, day and night.",
            ResourceKind::Helpline,
            Audience::YoungPerson,
            "0808 157 0123",
            "24/7",
            true,
        ),
    )?;
    let group = store.add_resource(
        &directory,
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
        &directory,
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
        store.grant(&directory, device.id(), role)?;
    }
    t.act(
        tablet,
        "publishes the region's directory (a helpline, a peer group, a parents' course) to the \
         team: clinicians write, Alex and Robin read",
    );
    let resources = vec![
        ResourceRef {
            directory,
            resource: group,
        },
        ResourceRef {
            directory,
            resource: course,
        },
    ];
    for (resource, reason) in resources.iter().zip([
        "Meeting others who get it, at Alex's own pace",
        "For Robin: evenings with parents who have been through CAMHS",
    ]) {
        store.add_signpost(
            &records.plan,
            resource,
            "Ada Example",
            reason,
            day::tuesday(),
        )?;
    }
    t.act(
        tablet,
        "signposts the peer group to Alex and the parents' course for Robin (not endorsed: \
         endorsements come in a later version)",
    );
    t.sync(tablet)?;
    for device in [&cast.alex, &cast.parent, &cast.psychologist] {
        t.sync(device)?;
    }
    Ok(Signposted { resources })
}
