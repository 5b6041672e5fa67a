//! # lynchpin (the bindings)
//!
//! The Lynchpin API for Kotlin, Swift and Python, generated with UniFFI
//! (proc-macros only) from this crate. It wraps `lynchpin_core` and adds no
//! behaviour of its own: ids and dates are parsed at the boundary, records
//! are mirrors of the core's types (converted with `From`/`TryFrom`; the
//! core's types carry no FFI attributes) and every error is mapped, in one
//! place, to [`LynchpinError`].
//!
//! | file | what |
//! | --- | --- |
//! | `store/` | the [`Store`] object: opening, documents, access, and one file per document kind |
//! | `observe.rs` | [`DocumentObserver`] and [`Subscription`] |
//! | `endorse.rs` | keys and certificates for clinicians' endorsements |
//! | `sync.rs` | async `sync`/`enroll`, progress, the sans-IO session calls |
//! | `types/` | the records and enums |
//! | `error.rs` | [`LynchpinError`] and the mapping from the core's errors |
//! | `bin/uniffi-bindgen.rs` | the generator, built from this workspace |
//!
//! `scripts/bindings` builds the library and generates the bindings;
//! bindings/README.md shows them in use.

mod endorse;
mod error;
mod observe;
mod store;
mod sync;
mod types;

pub use endorse::{
    create_certificate_request, generate_signing_keys, issue_certificate, public_key_of,
};
pub use error::LynchpinError;
pub use observe::{DocumentObserver, Subscription};
pub use store::Store;
pub use sync::{SyncProgress, SyncProgressListener, SyncSession, SyncStart, SyncStep};
pub use types::*;

uniffi::setup_scaffolding!();
