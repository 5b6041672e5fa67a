//! Resource directories (Open Referral HSDS `service`): helplines, peer
//! groups, parent-to-parent training, self-care apps and the like. Each
//! directory is one organisation's document; endorsements are added to the
//! same document in a later version of the schema.

use chrono::NaiveDate;

use super::{Thrive, coded_enum};
use crate::{DocumentId, ItemId};

coded_enum! {
    /// What kind of resource.
    pub enum ResourceKind {
        /// A phone line.
        Helpline = "helpline",
        /// A text line.
        TextLine = "text-line",
        /// A peer-support group.
        PeerSupportGroup = "peer-support-group",
        /// Training run by parents for parents.
        ParentTraining = "parent-training",
        /// A self-care app.
        SelfCareApp = "self-care-app",
        /// A website.
        Website = "website",
        /// A leaflet.
        Leaflet = "leaflet",
        /// A local service.
        LocalService = "local-service",
    }
}

coded_enum! {
    /// HSDS service status.
    pub enum ResourceStatus {
        /// Running.
        Active = "active",
        /// Not running now.
        Inactive = "inactive",
        /// Closed for good.
        Defunct = "defunct",
        /// Closed for a while.
        TemporarilyClosed = "temporarily-closed",
    }
}

coded_enum! {
    /// Who a resource is for.
    pub enum Audience {
        /// Young people.
        YoungPerson = "young-person",
        /// Parents and carers.
        ParentOrCarer = "parent-or-carer",
        /// Both.
        Both = "both",
    }
}

coded_enum! {
    /// What a resource costs the person using it.
    pub enum Cost {
        /// Free.
        Free = "free",
        /// Free, with some paid parts.
        FreeWithPaidOptions = "free-with-paid-options",
        /// Paid.
        Paid = "paid",
    }
}

/// How to reach a resource.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ResourceContact {
    /// Numbers to call.
    pub phones: Vec<String>,
    /// Numbers to text.
    pub text_numbers: Vec<String>,
    /// An e-mail address.
    pub email: Option<String>,
    /// A web address.
    pub url: Option<String>,
}

/// What is known of a resource's evidence.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Assessment {
    /// ORCHA score, 0–100.
    pub orcha_score: Option<u8>,
    /// When the ORCHA score was given.
    pub orcha_date: Option<NaiveDate>,
    /// NICE evidence tier (e.g. "A", "B", "C").
    pub nice_tier: Option<String>,
    /// Recommended by the NHS.
    pub nhs_recommended: bool,
}

/// Everything a directory records about a resource.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ResourceDetails {
    /// Its name.
    pub name: String,
    /// What it offers.
    pub description: String,
    /// What kind of resource.
    pub kind: ResourceKind,
    /// Who runs it.
    pub organisation: String,
    /// Whether it is running.
    pub status: ResourceStatus,
    /// The THRIVE groupings it serves.
    pub thrive: Vec<Thrive>,
    /// Who it is for.
    pub audience: Audience,
    /// Youngest age served.
    pub min_age: Option<u8>,
    /// Oldest age served.
    pub max_age: Option<u8>,
    /// Regions served.
    pub regions: Vec<String>,
    /// What it costs.
    pub cost: Cost,
    /// Languages offered.
    pub languages: Vec<String>,
    /// How to reach it.
    pub contact: ResourceContact,
    /// When it is open ("Mon–Fri 9–5").
    pub opening_hours: String,
    /// Open day and night, every day.
    pub always_open: bool,
    /// Usable without a connection (apps, leaflets).
    pub works_offline: bool,
    /// Evidence.
    pub assessment: Assessment,
    /// When the details were last checked.
    pub last_checked: Option<NaiveDate>,
    /// Who checked them.
    pub checked_by: String,
    /// When they are next due a check.
    pub review_due: Option<NaiveDate>,
}

/// A resource in a directory.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Resource {
    /// The resource's id in its directory.
    pub id: ItemId,
    /// What is recorded about it.
    pub details: ResourceDetails,
}

/// A directory as the device holds it now.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ResourceDirectory {
    /// The directory's document id.
    pub id: DocumentId,
    /// The publishing organisation.
    pub organisation: String,
    /// Its resources, by name.
    pub resources: Vec<Resource>,
}
