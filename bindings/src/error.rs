//! The one public error of the bindings, and the one place that maps the
//! core's errors to it.
//!
//! Each variant is something an app can act on: ask for the key again, show
//! "not found", fix the input, tell the user they may not, stop and keep the
//! file, try again when online, show the server's refusal. Messages carry
//! field names, steps and opaque ids, never personal data.

use lynchpin_core as lc;

/// What went wrong. In Kotlin these are subclasses of `LynchpinException`,
/// in Swift cases of `LynchpinError`, in Python subclasses of
/// `LynchpinError`.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum LynchpinError {
    /// The key does not open this store. Nothing was overwritten: ask the
    /// keystore again, or for the right key.
    #[error("the key does not open this store")]
    WrongKey,
    /// The store is open elsewhere (another process, or another `Store`
    /// object in this one).
    #[error("the store is open elsewhere")]
    StoreLocked,
    /// The store file, or something stored in it, is damaged or is not a
    /// Lynchpin store. It is left as it is: it may hold the only copy of
    /// someone's work. Do not delete it.
    #[error("the store is corrupt or unreadable: {what}")]
    CorruptStore {
        /// What could not be read, or the step that failed.
        what: String,
    },
    /// The store was written by a newer version of Lynchpin: the app needs
    /// updating. (A document from a newer version is `InvalidDocument`.)
    #[error("written by a newer version of Lynchpin")]
    NewerVersion,
    /// A document, or an item inside one, does not exist.
    #[error("{what} {id} not found")]
    NotFound {
        /// What was looked for: "document", "goal", "meeting" …
        what: String,
        /// The id that was looked for.
        id: String,
    },
    /// An argument breaks a rule; nothing was written.
    #[error("{field}: {problem}")]
    InvalidInput {
        /// The argument or field, as the API names it.
        field: String,
        /// The rule it breaks.
        problem: String,
    },
    /// The document exists but is of another kind (a journal given where a
    /// care plan is expected).
    #[error("document {id} is a {found:?}, not a {expected:?}")]
    WrongKind {
        /// The document.
        id: String,
        /// The kind the call works on.
        expected: DocumentKind,
        /// The kind it is.
        found: DocumentKind,
    },
    /// This device's role on the document does not allow the call (a
    /// reader editing, a writer granting access). Nothing was written.
    #[error("this device may not {action}")]
    NotAllowed {
        /// What was refused.
        action: String,
    },
    /// Bytes given to `import` (or by a peer) are not an acceptable
    /// Lynchpin document.
    #[error("not an acceptable document: {reason}")]
    InvalidDocument {
        /// Why.
        reason: String,
    },
    /// Storage failed (disk full, I/O error). The edit was not stored; try
    /// again later.
    #[error("storage failed")]
    Storage,
    /// The server could not be reached. Nothing was lost: sync again when
    /// connected.
    #[error("the server could not be reached")]
    Offline,
    /// The server refused the request.
    #[error("the server refused the request ({status} {code})")]
    ServerRejected {
        /// The HTTP status.
        status: u16,
        /// The server's error code (`unauthorized`, `rate_limited`,
        /// `invalid_invite` …).
        code: String,
    },
    /// A sync session failed (a malformed frame, a peer's error, too many
    /// round trips). Nothing stored is lost; the next session resumes.
    #[error("sync failed: {reason}")]
    SyncFailed {
        /// What failed, without any document content.
        reason: String,
    },
    /// Something the library relies on failed (the system's random number
    /// generator, a worker thread).
    #[error("internal error: {reason}")]
    Internal {
        /// What failed.
        reason: String,
    },
}

use crate::types::DocumentKind;

impl LynchpinError {
    /// An argument that breaks a rule.
    pub(crate) fn invalid(field: &str, problem: impl Into<String>) -> Self {
        Self::InvalidInput {
            field: field.to_owned(),
            problem: problem.into(),
        }
    }
}

impl From<lc::OpenError> for LynchpinError {
    fn from(e: lc::OpenError) -> Self {
        tracing::warn!(error = %e, "store could not be opened");
        match e {
            lc::OpenError::WrongKey => Self::WrongKey,
            lc::OpenError::Locked => Self::StoreLocked,
            lc::OpenError::NewerSchema { .. } => Self::NewerVersion,
            lc::OpenError::Corrupt { step } => Self::CorruptStore {
                what: format!("while trying to {step}"),
            },
            lc::OpenError::NotAStore => Self::CorruptStore {
                what: "the file is not a Lynchpin store".into(),
            },
            lc::OpenError::Sqlite { step, .. } => Self::CorruptStore {
                what: format!("could not {step}"),
            },
            lc::OpenError::Randomness(_) => Self::Internal {
                reason: "the random number generator is unavailable".into(),
            },
        }
    }
}

impl From<lc::Error> for LynchpinError {
    fn from(e: lc::Error) -> Self {
        match e {
            lc::Error::NotFound { what, id } => Self::NotFound {
                what: what.into(),
                id,
            },
            lc::Error::Invalid(invalid) => {
                Self::invalid(invalid.field, invalid.problem.to_string())
            }
            lc::Error::WrongKind {
                id,
                expected,
                found,
            } => Self::WrongKind {
                id: id.to_string(),
                expected: expected.into(),
                found: found.into(),
            },
            lc::Error::NotAllowed(action) => Self::NotAllowed {
                action: action.into(),
            },
            lc::Error::InvalidStatement(e) => Self::invalid("statement", e.to_string()),
            lc::Error::InvalidDocument(reason) => Self::InvalidDocument {
                reason: reason.into(),
            },
            lc::Error::Corrupt { what } => Self::CorruptStore { what: what.into() },
            lc::Error::Storage(e) => {
                tracing::warn!(error = %e, "storage failed");
                Self::Storage
            }
            lc::Error::Document(e) => {
                tracing::warn!(error = %e, "document operation failed");
                Self::InvalidDocument {
                    reason: "document operation failed".into(),
                }
            }
            lc::Error::Randomness(_) => Self::Internal {
                reason: "the random number generator is unavailable".into(),
            },
            lc::Error::Offline => Self::Offline,
            lc::Error::ServerRejected { status, code } => Self::ServerRejected { status, code },
            lc::Error::Sync(e) => Self::SyncFailed {
                reason: e.to_string(),
            },
        }
    }
}
