//! Seeded generators of realistic, visibly fictional data for tests,
//! benchmarks and demos: a two-year care plan and a resource directory of
//! any size.
//!
//! The same seed gives the same content. Names are invented, phone numbers
//! come from Ofcom's ranges reserved for drama (07700 900xxx, 0808 157 0xxx,
//! 01632 960xxx) and addresses use example.org, so nothing generated here can
//! reach a real person in a crisis.

use chrono::{Days, NaiveDate};

use crate::{
    ActivityDetails, ActivityStatus, Assessment, Audience, CarePlanDetails, Cost,
    CrisisContactDetails, DocumentId, Error, GoalAchievement, GoalDetails, GoalLifecycle,
    MeetingDetails, MeetingText, PlanStatus, ResourceContact, ResourceDetails, ResourceKind,
    ResourceStatus, SafetyList, Store, TeamMemberDetails, TeamRole, Thrive,
};

/// A small, fast, seeded pseudo-random generator (SplitMix64). Not for keys.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        (self.next_u64() % n as u64) as usize
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u8) -> bool {
        self.below(100) < usize::from(percent)
    }

    /// One element of a slice; `None` if it is empty.
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> Option<T> {
        items.get(self.below(items.len())).copied()
    }
}

const FIRST_NAMES: &[&str] = &[
    "Alex", "Sam", "Jordan", "Riley", "Casey", "Morgan", "Jamie", "Robin", "Taylor", "Quinn",
];
const CLINICIANS: &[&str] = &[
    "Dr Ada Example",
    "Nurse Ben Sample",
    "Cleo Placeholder (OT)",
    "Dev Fictional (SW)",
    "Dr Eli Testcase",
];
const WORDS: &[&str] = &[
    "sleep",
    "school",
    "friends",
    "anxious",
    "better",
    "walk",
    "music",
    "talked",
    "mum",
    "dad",
    "exams",
    "calm",
    "breathing",
    "tired",
    "week",
    "plan",
    "helped",
    "worried",
    "football",
    "drawing",
    "phone",
    "bedtime",
    "teacher",
    "group",
    "online",
    "safe",
    "angry",
    "proud",
    "tried",
    "again",
    "next",
    "time",
    "felt",
    "okay",
    "hard",
    "good",
    "bus",
    "dog",
    "park",
];
const REGIONS: &[&str] = &[
    "North Exampleshire",
    "South Sampleton",
    "East Placeholdia",
    "West Fictionbury",
    "Testford City",
];
const LANGUAGES: &[&str] = &["English", "Welsh", "Polish", "Urdu", "Bengali", "Somali"];
const WARNING_SIGNS: &[&str] = &[
    "Staying in my room all day",
    "Not replying to friends",
    "Stopping eating properly",
    "Lying awake past 2am",
    "Thinking nobody would notice if I was gone",
];
const COPING: &[&str] = &[
    "Listen to my calm playlist",
    "Go for a walk with the dog",
    "Box breathing for five minutes",
    "Draw in my sketchbook",
    "Have a hot shower",
];

fn one(rng: &mut Rng, items: &[&'static str]) -> &'static str {
    rng.pick(items).unwrap_or_default()
}

/// A sentence of `words` fictional words.
pub fn sentence(rng: &mut Rng, words: usize) -> String {
    let mut out = String::new();
    for i in 0..words {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(one(rng, WORDS));
    }
    out.push('.');
    out
}

/// A mobile number from Ofcom's drama range: 07700 900000–900999.
pub fn drama_mobile(rng: &mut Rng) -> String {
    format!("07700 900{:03}", rng.below(1000))
}

/// A freephone number from Ofcom's drama range: 0808 157 0000–0999.
pub fn drama_freephone(rng: &mut Rng) -> String {
    format!("0808 157 0{:03}", rng.below(1000))
}

/// A landline number from Ofcom's drama range: 01632 960000–960999.
pub fn drama_landline(rng: &mut Rng) -> String {
    format!("01632 960{:03}", rng.below(1000))
}

fn date(start: NaiveDate, days: u64) -> NaiveDate {
    start.checked_add_days(Days::new(days)).unwrap_or(start)
}

/// Realistic details of one resource.
pub fn resource_details(rng: &mut Rng, index: usize) -> ResourceDetails {
    let kind = rng.pick(ResourceKind::ALL).unwrap_or(ResourceKind::Website);
    let min_age = rng.pick(&[None, Some(11), Some(13), Some(16)]).flatten();
    let thrive: Vec<Thrive> = Thrive::ALL
        .iter()
        .copied()
        .filter(|_| rng.chance(35))
        .collect();
    let phones = match kind {
        ResourceKind::Helpline | ResourceKind::LocalService => vec![drama_freephone(rng)],
        ResourceKind::PeerSupportGroup | ResourceKind::ParentTraining => vec![drama_landline(rng)],
        _ => Vec::new(),
    };
    let text_numbers = if kind == ResourceKind::TextLine {
        vec![drama_mobile(rng)]
    } else {
        Vec::new()
    };
    let last_checked = date(
        NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default(),
        rng.below(300) as u64,
    );
    ResourceDetails {
        name: format!("{} {} {}", one(rng, REGIONS), kind_label(kind), index + 1),
        description: sentence(rng, 20),
        kind,
        organisation: format!("{} Wellbeing Trust (fictional)", one(rng, REGIONS)),
        status: if rng.chance(95) {
            ResourceStatus::Active
        } else {
            ResourceStatus::TemporarilyClosed
        },
        thrive: if thrive.is_empty() {
            vec![Thrive::GettingAdvice]
        } else {
            thrive
        },
        audience: rng.pick(Audience::ALL).unwrap_or(Audience::Both),
        min_age,
        max_age: min_age.map(|_| 25),
        regions: vec![one(rng, REGIONS).to_string()],
        cost: rng.pick(Cost::ALL).unwrap_or(Cost::Free),
        languages: vec!["English".into(), one(rng, LANGUAGES).to_string()],
        contact: ResourceContact {
            phones,
            text_numbers,
            email: Some(format!("hello{}@example.org", index + 1)),
            url: Some(format!("https://example.org/resources/{}", index + 1)),
        },
        opening_hours: "Mon–Fri 09:00–17:00".into(),
        always_open: kind == ResourceKind::Helpline && rng.chance(50),
        works_offline: matches!(kind, ResourceKind::SelfCareApp | ResourceKind::Leaflet),
        assessment: Assessment {
            orcha_score: (kind == ResourceKind::SelfCareApp).then(|| 50 + rng.below(50) as u8),
            orcha_date: (kind == ResourceKind::SelfCareApp).then_some(last_checked),
            nice_tier: None,
            nhs_recommended: rng.chance(20),
        },
        last_checked: Some(last_checked),
        checked_by: one(rng, CLINICIANS).to_string(),
        review_due: Some(date(last_checked, 365)),
    }
}

fn kind_label(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::Helpline => "Helpline",
        ResourceKind::TextLine => "Text Line",
        ResourceKind::PeerSupportGroup => "Peer Group",
        ResourceKind::ParentTraining => "Parent-to-Parent Course",
        ResourceKind::SelfCareApp => "Self-care App",
        ResourceKind::Website => "Website",
        ResourceKind::Leaflet => "Leaflet",
        ResourceKind::LocalService => "Drop-in",
    }
}

/// Creates a directory of `count` resources in `store`, one edit each.
pub fn directory(store: &Store, seed: u64, count: usize) -> Result<DocumentId, Error> {
    let mut rng = Rng::new(seed);
    let id = store.create_directory("Fictional Region Wellbeing Directory")?;
    for i in 0..count {
        store.add_resource(&id, &resource_details(&mut rng, i))?;
    }
    Ok(id)
}

/// Creates a two-year care plan in `store`: a team, three goals scored most
/// weeks, a safety plan with crisis contacts, `meetings` review meetings whose
/// "my voice" and notes are typed in bursts, activities and decisions.
/// With 100 meetings it makes 4,638 edits (338 plus 43 per meeting); 110 make 5,068.
pub fn two_year_plan(store: &Store, seed: u64, meetings: usize) -> Result<DocumentId, Error> {
    let mut rng = Rng::new(seed);
    let start = NaiveDate::from_ymd_opt(2024, 9, 2).unwrap_or_default();
    let plan = store.create_care_plan(&CarePlanDetails {
        subject_name: one(&mut rng, FIRST_NAMES).to_string(),
        status: PlanStatus::Active,
        period_start: Some(start),
        period_end: Some(date(start, 730)),
        next_review: Some(date(start, 730)),
    })?;
    store.set_thrive(&plan, Thrive::GettingHelp, start)?;
    for (name, role) in [
        ("Young person", TeamRole::YoungPerson),
        ("Parent", TeamRole::FamilyMember),
        ("Dr Ada Example", TeamRole::CareCoordinator),
        ("Nurse Ben Sample", TeamRole::Clinician),
    ] {
        let member = store.add_team_member(
            &plan,
            &TeamMemberDetails {
                display_name: name.into(),
                role,
                device: None,
                since: Some(start),
                until: None,
            },
        )?;
        if role == TeamRole::CareCoordinator {
            store.set_coordinator(&plan, &member)?;
        }
    }
    for text in WARNING_SIGNS {
        store.add_safety_item(&plan, SafetyList::WarningSigns, text)?;
    }
    for text in COPING {
        store.add_safety_item(&plan, SafetyList::CopingStrategies, text)?;
    }
    store.add_safety_item(&plan, SafetyList::ReasonsForLiving, "My dog, Biscuit")?;
    store.add_safety_item(
        &plan,
        SafetyList::ReasonsForLiving,
        "Seeing my little brother grow up",
    )?;
    store.add_safety_item(&plan, SafetyList::PeopleToAsk, "My aunt (fictional)")?;
    store.add_safety_item(
        &plan,
        SafetyList::SafeSurroundings,
        "Keep medicines with mum",
    )?;
    store.set_code_word(&plan, Some("pineapple"))?;
    store.add_crisis_contact(
        &plan,
        &CrisisContactDetails {
            name: "Crisis line (fictional)".into(),
            phone: Some(drama_freephone(&mut rng)),
            text_number: Some(drama_mobile(&mut rng)),
            hours: "24/7".into(),
            region: "North Exampleshire".into(),
            last_checked: Some(start),
        },
    )?;
    let mut goals = Vec::new();
    for text in [
        "Go back to school full days",
        "Sleep before midnight most nights",
        "Feel able to talk to mum when things are hard",
    ] {
        goals.push(store.add_goal(
            &plan,
            &GoalDetails {
                description: text.into(),
                expressed_by: "Young person".into(),
                lifecycle: GoalLifecycle::Active,
                achievement: Some(GoalAchievement::InProgress),
                target_date: Some(date(start, 365)),
            },
        )?);
    }
    let weeks = 104u64;
    for week in 0..weeks {
        for goal in &goals {
            let score = (2 + week * 6 / weeks) as usize + rng.below(3);
            store.record_goal_score(&plan, goal, date(start, week * 7), score.min(10) as u8)?;
        }
    }
    for m in 0..meetings {
        let day = (m as u64 * 730) / meetings.max(1) as u64;
        let meeting = store.add_meeting(
            &plan,
            &MeetingDetails {
                date: date(start, day),
                attendees: vec![
                    "Young person".into(),
                    "Parent".into(),
                    "Dr Ada Example".into(),
                ],
            },
        )?;
        let mut voice = String::new();
        for _ in 0..10 {
            let burst = format!("{} ", sentence(&mut rng, 6));
            store.splice_meeting_text(
                &plan,
                &meeting,
                MeetingText::MyVoice,
                voice.chars().count(),
                0,
                &burst,
            )?;
            voice.push_str(&burst);
        }
        let mut notes = String::new();
        for _ in 0..30 {
            let burst = format!("{} ", sentence(&mut rng, 8));
            store.splice_meeting_text(
                &plan,
                &meeting,
                MeetingText::Notes,
                notes.chars().count(),
                0,
                &burst,
            )?;
            notes.push_str(&burst);
        }
        store.add_decision(&plan, &meeting, &sentence(&mut rng, 10))?;
        store.add_meeting_action(
            &plan,
            &meeting,
            &ActivityDetails {
                description: sentence(&mut rng, 8),
                status: ActivityStatus::Scheduled,
                performer: one(&mut rng, CLINICIANS).to_string(),
                scheduled: Some(date(start, day + 14)),
                goal: goals.first().cloned(),
                resource: None,
            },
        )?;
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence() {
        let mut a = Rng::new(42);
        let mut b = Rng::new(42);
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
        assert_ne!(Rng::new(1).next_u64(), Rng::new(2).next_u64());
    }

    #[test]
    fn generated_resources_are_valid_and_use_drama_numbers() {
        let mut rng = Rng::new(7);
        for i in 0..500 {
            let details = resource_details(&mut rng, i);
            details.validate().unwrap();
            for phone in details
                .contact
                .phones
                .iter()
                .chain(&details.contact.text_numbers)
            {
                assert!(
                    phone.starts_with("07700 900")
                        || phone.starts_with("0808 157 0")
                        || phone.starts_with("01632 960"),
                    "{phone}"
                );
            }
        }
    }
}
