//! Looking resources up in a directory: what a clinician (or a young
//! person) asks for, and what comes back. The matching and ranking rules
//! are on [`ResourceQuery`]; the store answers from a decoded index of the
//! directory.

use std::sync::Arc;

use super::{Audience, Cost, Resource, ResourceKind, Thrive};
use crate::{
    EndorsementStatus,
    error::InvalidInput,
    validate::{self, MAX_SHORT_TEXT},
};

/// What to look for in a directory. Every field left at its default
/// matches everything; the fields set must all match.
///
/// - `thrive`: the resource serves that THRIVE grouping.
/// - `audience`: `YoungPerson` matches resources for young people or for
///   both; `ParentOrCarer` those for parents and carers or for both;
///   `Both` only those for both.
/// - `age`: within the resource's minimum and maximum age (a missing bound
///   does not limit).
/// - `region`: one of the resource's regions, ignoring case; a resource
///   with no regions serves everywhere and always matches.
/// - `kind`, `cost`: equal.
/// - `endorsed_only`: the resource's best endorsement is
///   [`Endorsed`](crate::EndorsementState::Endorsed) at the query's time.
/// - `text`: every word (split on white space) occurs in the name or the
///   description, ignoring case (Unicode lower case; no accent folding,
///   no stemming).
///
/// Results are ranked: endorsed resources first, then those whose
/// endorsement is only due for review, then the rest; within each, more
/// query words in the name first; then active resources before inactive,
/// temporarily closed and defunct ones; then by name and id (the
/// directory's order). `limit` keeps the first that many.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceQuery {
    /// A THRIVE grouping the resource serves.
    pub thrive: Option<Thrive>,
    /// Who it is for.
    pub audience: Option<Audience>,
    /// The age of the person it is for.
    pub age: Option<u8>,
    /// A region it serves.
    pub region: Option<String>,
    /// Its kind.
    pub kind: Option<ResourceKind>,
    /// Its cost.
    pub cost: Option<Cost>,
    /// Only resources with a valid, current endorsement.
    pub endorsed_only: bool,
    /// Words to find in the name or description.
    pub text: Option<String>,
    /// At most this many results.
    pub limit: Option<usize>,
}

impl ResourceQuery {
    pub(crate) fn validate(&self) -> Result<(), InvalidInput> {
        if let Some(region) = &self.region {
            validate::optional("region", region, MAX_SHORT_TEXT)?;
        }
        if let Some(text) = &self.text {
            validate::optional("text", text, MAX_SHORT_TEXT)?;
        }
        Ok(())
    }
}

/// A resource that matched a query, with its endorsement status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceMatch {
    /// The resource. Shared with the store's index of the directory, so a
    /// query that matches the whole directory copies nothing; it does not
    /// change when the directory does.
    pub resource: Arc<Resource>,
    /// Its best endorsement at the query's time; `None` if it has none.
    pub endorsement: Option<EndorsementStatus>,
}
