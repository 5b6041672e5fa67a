//! The store's errors.
//!
//! Opening a store can fail in ways an app handles once, at start-up
//! ([`OpenError`]: wrong key, corrupt file, held by another process);
//! everything after that returns [`Error`]. Messages name fields, steps and
//! opaque ids, never the personal data a caller passed in.

use std::fmt;

use crate::{DocumentId, DocumentKind};

/// Why [`Store::open`](crate::Store::open) failed. Nothing on disk was
/// changed, deleted or rewritten by a failed open.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The key does not open this store. Nothing was overwritten.
    #[error("the key does not open this store")]
    WrongKey,
    /// The file is damaged, truncated or not a database. It is left as it is:
    /// it may hold the only copy of someone's work.
    #[error("the store file is corrupt or unreadable (while trying to {step})")]
    Corrupt {
        /// What the store was doing when it noticed.
        step: OpenStep,
    },
    /// The file is a SQLite database of some other application.
    #[error("the file is a database but not a Lynchpin store")]
    NotAStore,
    /// The store was written by a newer version of Lynchpin.
    #[error("the store has schema version {found}; this build reads up to {supported}")]
    NewerSchema {
        /// The schema version in the file.
        found: i64,
        /// The newest schema version this build knows.
        supported: i64,
    },
    /// Another process (or another `Store` in this one) has the store open.
    #[error("the store is open elsewhere")]
    Locked,
    /// The path could not be opened, or SQLite failed for a reason that is not
    /// corruption (disk full, permissions …).
    #[error("could not {step}")]
    Sqlite {
        /// The step that failed.
        step: OpenStep,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },
    /// The system random number generator is unavailable.
    #[error(transparent)]
    Randomness(#[from] crate::crypto::RandomnessUnavailable),
}

/// The steps of opening a store, named in [`OpenError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenStep {
    /// Opening the database file.
    OpenFile,
    /// Reading the database header and schema.
    ReadHeader,
    /// Checking the database's integrity.
    CheckIntegrity,
    /// Checking that the key opens the store.
    CheckKey,
    /// Upgrading the schema.
    Migrate,
    /// Loading the device key.
    LoadDeviceKey,
}

impl fmt::Display for OpenStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::OpenFile => "open the database file",
            Self::ReadHeader => "read the database header",
            Self::CheckIntegrity => "check the database's integrity",
            Self::CheckKey => "check the store key",
            Self::Migrate => "upgrade the schema",
            Self::LoadDeviceKey => "load the device key",
        })
    }
}

/// What went wrong in a store operation after it was opened.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A document or an item inside one does not exist.
    #[error("{what} {id} not found")]
    NotFound {
        /// What was looked for: "document", "goal", "meeting" …
        what: &'static str,
        /// The opaque id that was looked for.
        id: String,
    },
    /// The call was given data that breaks a rule; nothing was written.
    #[error(transparent)]
    Invalid(#[from] InvalidInput),
    /// The document exists but is of another kind.
    #[error("document {id} is a {found}, not a {expected}")]
    WrongKind {
        /// The document.
        id: DocumentId,
        /// The kind the call works on.
        expected: DocumentKind,
        /// The kind the document is.
        found: DocumentKind,
    },
    /// This device's role on the document does not allow the call (a
    /// reader editing, a writer granting access). Nothing was written.
    #[error("this device may not {0}")]
    NotAllowed(&'static str),
    /// Bytes given to [`Store::import`](crate::Store::import) are not a
    /// Lynchpin document, or conflict with the stored one.
    #[error("not an acceptable document: {0}")]
    InvalidDocument(&'static str),
    /// Bytes given to a call are not a valid signed statement (a
    /// certificate request, certificate, endorsement or revocation).
    #[error(transparent)]
    InvalidStatement(#[from] crate::endorse::StatementError),
    /// Stored data could not be decrypted or decoded. It is left as it is.
    #[error("stored {what} is corrupt")]
    Corrupt {
        /// What could not be read: "document", "change", "device key" …
        what: &'static str,
    },
    /// SQLite failed (disk full, I/O error …). The edit was not stored.
    #[error("storage failed")]
    Storage(#[from] rusqlite::Error),
    /// Automerge refused an operation; the edit was not stored.
    #[error("document operation failed")]
    Document(#[from] automerge::AutomergeError),
    /// The system random number generator is unavailable.
    #[error(transparent)]
    Randomness(#[from] crate::crypto::RandomnessUnavailable),
    /// The server could not be reached (no connection, timeout). Nothing was
    /// lost; sync again when connected.
    #[error("the server could not be reached")]
    Offline,
    /// The server refused the request.
    #[error("the server refused the request ({status} {code})")]
    ServerRejected {
        /// The HTTP status.
        status: u16,
        /// The server's error code (`unauthorized`, `rate_limited` …).
        code: String,
    },
    /// A sync session failed: a malformed frame, a peer's error, too many
    /// round trips. Nothing already stored is lost; the next session resumes.
    #[error(transparent)]
    Sync(crate::sync::SyncError),
}

impl Error {
    pub(crate) fn not_found(what: &'static str, id: impl fmt::Display) -> Self {
        Self::NotFound {
            what,
            id: id.to_string(),
        }
    }
}

/// Input that breaks a rule, naming the field and the rule, never the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct InvalidInput {
    /// The field, as the API names it.
    pub field: &'static str,
    /// The rule it breaks.
    pub problem: Problem,
}

impl InvalidInput {
    pub(crate) fn new(field: &'static str, problem: Problem) -> Self {
        Self { field, problem }
    }
}

/// The rules [`InvalidInput`] reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// Must not be empty or only white space.
    Empty,
    /// Longer than allowed (in characters).
    TooLong {
        /// The most characters allowed.
        max: usize,
    },
    /// Holds control characters other than line breaks and tabs.
    ControlCharacters,
    /// A number outside its range.
    OutOfRange {
        /// Smallest allowed value.
        min: i64,
        /// Largest allowed value.
        max: i64,
    },
    /// Not in the expected format.
    Format {
        /// What was expected, e.g. "a phone number".
        expected: &'static str,
    },
    /// More entries than allowed.
    TooMany {
        /// The most entries allowed.
        max: usize,
    },
    /// Two fields that contradict each other (an end before a start …).
    Inconsistent {
        /// The rule that was broken.
        rule: &'static str,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("must not be empty"),
            Self::TooLong { max } => write!(f, "must be at most {max} characters"),
            Self::ControlCharacters => f.write_str("must not contain control characters"),
            Self::OutOfRange { min, max } => write!(f, "must be between {min} and {max}"),
            Self::Format { expected } => write!(f, "must be {expected}"),
            Self::TooMany { max } => write!(f, "must have at most {max} entries"),
            Self::Inconsistent { rule } => f.write_str(rule),
        }
    }
}
