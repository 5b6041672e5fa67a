//! Resource directories: helplines, peer groups, self-care apps and the
//! like, one organisation's directory per document.

use lynchpin_core as lc;

use super::{Audience, Cost, ResourceKind, ResourceStatus, Thrive, all, date_text, optional_date};
use crate::LynchpinError;

/// How to reach a resource.
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct ResourceContact {
    /// Phone numbers.
    #[uniffi(default = [])]
    pub phones: Vec<String>,
    /// Numbers to text.
    #[uniffi(default = [])]
    pub text_numbers: Vec<String>,
    /// Email address.
    #[uniffi(default = None)]
    pub email: Option<String>,
    /// Web address.
    #[uniffi(default = None)]
    pub url: Option<String>,
}

impl From<lc::ResourceContact> for ResourceContact {
    fn from(c: lc::ResourceContact) -> Self {
        Self {
            phones: c.phones,
            text_numbers: c.text_numbers,
            email: c.email,
            url: c.url,
        }
    }
}

impl From<ResourceContact> for lc::ResourceContact {
    fn from(c: ResourceContact) -> Self {
        Self {
            phones: c.phones,
            text_numbers: c.text_numbers,
            email: c.email,
            url: c.url,
        }
    }
}

/// Independent assessments of a resource (ORCHA, NICE, NHS).
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct Assessment {
    /// ORCHA score, 0–100.
    #[uniffi(default = None)]
    pub orcha_score: Option<u8>,
    /// When it was scored (`YYYY-MM-DD`).
    #[uniffi(default = None)]
    pub orcha_date: Option<String>,
    /// NICE evidence tier.
    #[uniffi(default = None)]
    pub nice_tier: Option<String>,
    /// Whether the NHS recommends it.
    #[uniffi(default = false)]
    pub nhs_recommended: bool,
}

impl From<lc::Assessment> for Assessment {
    fn from(a: lc::Assessment) -> Self {
        Self {
            orcha_score: a.orcha_score,
            orcha_date: a.orcha_date.map(date_text),
            nice_tier: a.nice_tier,
            nhs_recommended: a.nhs_recommended,
        }
    }
}

impl TryFrom<Assessment> for lc::Assessment {
    type Error = LynchpinError;

    fn try_from(a: Assessment) -> Result<Self, Self::Error> {
        Ok(Self {
            orcha_date: optional_date("orcha_date", &a.orcha_date)?,
            orcha_score: a.orcha_score,
            nice_tier: a.nice_tier,
            nhs_recommended: a.nhs_recommended,
        })
    }
}

/// A resource, as given to add or update one.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ResourceDetails {
    /// Its name.
    pub name: String,
    /// What it offers.
    pub description: String,
    /// What it is.
    pub kind: ResourceKind,
    /// Who runs it.
    pub organisation: String,
    /// Whether it is running.
    pub status: ResourceStatus,
    /// The THRIVE groupings it suits.
    pub thrive: Vec<Thrive>,
    /// Who it is for.
    pub audience: Audience,
    /// Youngest age served.
    #[uniffi(default = None)]
    pub min_age: Option<u8>,
    /// Oldest age served.
    #[uniffi(default = None)]
    pub max_age: Option<u8>,
    /// Where it is available.
    pub regions: Vec<String>,
    /// What it costs.
    pub cost: Cost,
    /// Languages offered.
    pub languages: Vec<String>,
    /// How to reach it.
    pub contact: ResourceContact,
    /// When it is open.
    pub opening_hours: String,
    /// Whether it is open around the clock.
    pub always_open: bool,
    /// Whether it works without a connection.
    pub works_offline: bool,
    /// Independent assessments.
    pub assessment: Assessment,
    /// When the entry was last checked (`YYYY-MM-DD`).
    #[uniffi(default = None)]
    pub last_checked: Option<String>,
    /// Who checked it.
    pub checked_by: String,
    /// When it should be checked again (`YYYY-MM-DD`).
    #[uniffi(default = None)]
    pub review_due: Option<String>,
}

impl From<lc::ResourceDetails> for ResourceDetails {
    fn from(d: lc::ResourceDetails) -> Self {
        Self {
            name: d.name,
            description: d.description,
            kind: d.kind.into(),
            organisation: d.organisation,
            status: d.status.into(),
            thrive: all(d.thrive),
            audience: d.audience.into(),
            min_age: d.min_age,
            max_age: d.max_age,
            regions: d.regions,
            cost: d.cost.into(),
            languages: d.languages,
            contact: d.contact.into(),
            opening_hours: d.opening_hours,
            always_open: d.always_open,
            works_offline: d.works_offline,
            assessment: d.assessment.into(),
            last_checked: d.last_checked.map(date_text),
            checked_by: d.checked_by,
            review_due: d.review_due.map(date_text),
        }
    }
}

impl TryFrom<ResourceDetails> for lc::ResourceDetails {
    type Error = LynchpinError;

    fn try_from(d: ResourceDetails) -> Result<Self, Self::Error> {
        Ok(Self {
            last_checked: optional_date("last_checked", &d.last_checked)?,
            review_due: optional_date("review_due", &d.review_due)?,
            assessment: d.assessment.try_into()?,
            name: d.name,
            description: d.description,
            kind: d.kind.into(),
            organisation: d.organisation,
            status: d.status.into(),
            thrive: all(d.thrive),
            audience: d.audience.into(),
            min_age: d.min_age,
            max_age: d.max_age,
            regions: d.regions,
            cost: d.cost.into(),
            languages: d.languages,
            contact: d.contact.into(),
            opening_hours: d.opening_hours,
            always_open: d.always_open,
            works_offline: d.works_offline,
            checked_by: d.checked_by,
        })
    }
}

/// A resource of a directory.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Resource {
    /// The resource's id.
    pub id: String,
    /// What it is.
    pub details: ResourceDetails,
}

impl From<lc::Resource> for Resource {
    fn from(r: lc::Resource) -> Self {
        Self {
            id: r.id.to_string(),
            details: r.details.into(),
        }
    }
}

/// One organisation's directory of resources.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ResourceDirectory {
    /// The document id.
    pub id: String,
    /// The publishing organisation.
    pub organisation: String,
    /// Its resources.
    pub resources: Vec<Resource>,
}

impl From<lc::ResourceDirectory> for ResourceDirectory {
    fn from(d: lc::ResourceDirectory) -> Self {
        Self {
            id: d.id.to_string(),
            organisation: d.organisation,
            resources: all(d.resources),
        }
    }
}
