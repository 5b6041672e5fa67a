//! # lynchpin-core
//!
//! The offline-first core of Lynchpin: a young person's care plan, safety
//! plan, journal and the resource directories their care team signposts,
//! kept as [Automerge](https://automerge.org) documents in an encrypted
//! SQLite store on each device. Concurrent edits merge without losing
//! anyone's work; safety-critical conflicts are shown, never hidden.
//!
//! This crate does no network I/O and runs no async runtime.
//!
//! ```
//! use lynchpin_core::{CarePlanDetails, PlanStatus, SafetyList, Store, StoreKey};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let dir = tempfile::tempdir()?;
//! let store = Store::open(dir.path().join("device.lynchpin"), &StoreKey::new([7; 32]))?;
//! let plan = store.create_care_plan(&CarePlanDetails {
//!     subject_name: "Alex".into(),
//!     status: PlanStatus::Active,
//!     period_start: None,
//!     period_end: None,
//!     next_review: None,
//! })?;
//! store.add_safety_item(&plan, SafetyList::WarningSigns, "Not sleeping")?;
//! assert_eq!(store.safety_plan(&plan)?.warning_signs[0].text, "Not sleeping");
//! # Ok(()) }
//! ```
//!
//! Layers, from the bottom: [`crypto`] (sealing and device keys), `model`
//! (the domain types, re-exported here), `doc` (how each document kind is
//! laid out in Automerge), `store` ([`Store`]: SQLite, persistence, import
//! and export) and [`generate`] (seeded realistic data for tests and
//! benchmarks).

#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod access;
#[cfg(feature = "client")]
mod client;
pub mod crypto;
mod doc;
pub mod endorse;
mod error;
pub mod generate;
mod ids;
mod model;
mod store;
pub mod sync;
mod validate;

pub use access::{AccessEntry, Role};
#[cfg(feature = "client")]
pub use client::{AccessAction, AccessLogEntry, SyncServer};
pub use crypto::{DeviceId, DeviceKey, StoreKey};
pub use endorse::{
    Certificate, CertificateRequest, ContentHash, Endorsement, EndorsementId, EndorsementState,
    EndorsementStatus, Endorser, NotTrustedReason, PublicKey, ResourceEndorsements, Revocation,
    SigningKeyPair, StatementError, TrustedOrganisations, content_hash,
};
pub use error::{Error, InvalidInput, OpenError, OpenStep, Problem};
pub use ids::{DocumentId, DocumentKind, InvalidId, ItemId};
pub use model::*;
pub use store::{
    DocumentSummary, Durability, ImportOutcome, ListenerId, MAX_IMPORT_BYTES, Store, StoreOptions,
    SyncFailure, SyncScope, SyncSession,
};
pub use validate::{MAX_LIST, MAX_LONG_TEXT, MAX_SHORT_TEXT, MAX_TEXT};
