//! A decoded, indexed copy of a resource directory, kept beside the loaded
//! Automerge document so that queries and endorsement checks do not read
//! Automerge, hash content or verify signatures each time.
//!
//! The index remembers the document heads it was built at. This device's
//! own edits of the directory update it in place (the one resource, or the
//! statements, they touched); any other change (an import, a sync) makes
//! the store rebuild it on first use. It is never stale. What depends on the app's trust
//! settings or on the time — every endorsement's state — is worked out per
//! call from the decoded, signature-checked statements, which is cheap.

use std::{collections::HashMap, sync::Arc};

use automerge::{Automerge, ChangeHash};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::{
    DocumentId, EndorsementState, ItemId, Resource, ResourceDirectory, ResourceEndorsements,
    ResourceMatch, ResourceQuery, ResourceStatus, TrustedOrganisations,
    doc::{directory, endorsements},
    endorse::{
        ContentHash, Endorsement, EndorsementId, Revocation, StatementError, content_hash,
        status::{Context, evaluate_decoded},
    },
    model::Audience,
};

/// One endorsement value from the directory, decoded and checked once.
pub(crate) struct StoredEndorsement {
    pub(crate) id: EndorsementId,
    pub(crate) decoded: Result<Endorsement, StatementError>,
}

/// Per resource, what matching needs without touching the document.
struct Entry {
    hash: ContentHash,
    name: String,
    description: String,
    regions: Vec<String>,
}

/// See the module docs.
pub(crate) struct DirectoryIndex {
    heads: Vec<ChangeHash>,
    id: DocumentId,
    organisation: String,
    /// The resources by name (then id), shared with query results.
    resources: Vec<Arc<Resource>>,
    /// Beside `resources`, index for index.
    entries: Vec<Entry>,
    by_id: HashMap<ItemId, usize>,
    endorsements: HashMap<ItemId, Vec<StoredEndorsement>>,
    /// Revocations whose signature verifies, by the endorsement they name.
    revocations: HashMap<EndorsementId, Vec<Revocation>>,
    /// How many edits were applied in place since it was built.
    #[cfg(test)]
    pub(crate) patched: usize,
}

impl DirectoryIndex {
    /// Whether the index was built at these heads.
    pub(crate) fn is_current(&self, heads: &[ChangeHash]) -> bool {
        self.heads == heads
    }

    /// Reads, hashes and checks everything in the directory `id`. The
    /// statements `previous` (an older index of the same directory) had
    /// already decoded are reused: an id is the hash of the bytes, so the
    /// same id is the same statement, and its signatures are not verified
    /// again.
    pub(crate) fn build(doc: &Automerge, id: DocumentId, previous: Option<Self>) -> Self {
        let mut known = previous.map(|mut p| p.take_decoded()).unwrap_or_default();
        let directory = directory::read(doc, id);
        let resources: Vec<Arc<Resource>> = directory.resources.into_iter().map(Arc::new).collect();
        let entries: Vec<Entry> = resources.iter().map(|r| Entry::of(r)).collect();
        let by_id = positions(&resources);
        let (endorsements, revocations) = read_statements(doc, id, &mut known);
        Self {
            heads: doc.get_heads(),
            id,
            organisation: directory.organisation,
            resources,
            entries,
            by_id,
            endorsements,
            revocations,
            #[cfg(test)]
            patched: 0,
        }
    }

    /// Brings the index up to date after this device's own edit of the
    /// directory, made when the index was current: `touched` says what the
    /// edit changed. Re-reads that resource (or the statements) only.
    pub(crate) fn patch(&mut self, doc: &Automerge, touched: &Touched) {
        match touched {
            Touched::Resource(resource) => {
                let read = directory::resource(doc, resource).ok();
                match (self.position(resource), read) {
                    (Some(i), Some(r)) => {
                        if let (Some(slot), Some(entry)) =
                            (self.resources.get_mut(i), self.entries.get_mut(i))
                        {
                            *entry = Entry::of(&r);
                            *slot = Arc::new(r);
                        }
                    }
                    (Some(i), None) => {
                        if i < self.resources.len() {
                            self.resources.remove(i);
                            self.entries.remove(i);
                        }
                    }
                    (None, Some(r)) => {
                        self.entries.push(Entry::of(&r));
                        self.resources.push(Arc::new(r));
                    }
                    (None, None) => {}
                }
                // Keep the directory's order: by name, then id.
                let mut both: Vec<(Arc<Resource>, Entry)> = std::mem::take(&mut self.resources)
                    .into_iter()
                    .zip(std::mem::take(&mut self.entries))
                    .collect();
                both.sort_by(|(a, _), (b, _)| {
                    a.details.name.cmp(&b.details.name).then(a.id.cmp(&b.id))
                });
                (self.resources, self.entries) = both.into_iter().unzip();
                self.by_id = positions(&self.resources);
            }
            Touched::Statements => {
                let mut known = self.take_decoded();
                let (endorsements, revocations) = read_statements(doc, self.id, &mut known);
                self.endorsements = endorsements;
                self.revocations = revocations;
            }
        }
        self.heads = doc.get_heads();
        #[cfg(test)]
        {
            self.patched += 1;
        }
    }

    /// The decoded statements, by id, for reuse.
    fn take_decoded(&mut self) -> HashMap<EndorsementId, Result<Endorsement, StatementError>> {
        std::mem::take(&mut self.endorsements)
            .into_values()
            .flatten()
            .map(|s| (s.id, s.decoded))
            .collect()
    }

    /// The whole directory, copied.
    pub(crate) fn directory(&self) -> ResourceDirectory {
        ResourceDirectory {
            id: self.id,
            organisation: self.organisation.clone(),
            resources: self.resources.iter().map(|r| Resource::clone(r)).collect(),
        }
    }

    /// One resource.
    pub(crate) fn resource(&self, resource: &ItemId) -> Option<&Resource> {
        self.position(resource)
            .and_then(|i| self.resources.get(i))
            .map(|r| &**r)
    }

    /// The position of a resource.
    fn position(&self, resource: &ItemId) -> Option<usize> {
        self.by_id.get(resource).copied()
    }

    /// A resource's current content hash.
    pub(crate) fn content_hash(&self, resource: &ItemId) -> Option<ContentHash> {
        self.position(resource)
            .and_then(|i| self.entries.get(i))
            .map(|e| e.hash)
    }

    /// The endorsement values filed under a resource.
    pub(crate) fn stored(&self, resource: &ItemId) -> &[StoredEndorsement] {
        self.endorsements.get(resource).map_or(&[], Vec::as_slice)
    }

    /// A decoded endorsement by id, in any resource.
    pub(crate) fn endorsement(&self, id: &EndorsementId) -> Option<&Endorsement> {
        self.endorsements
            .values()
            .flatten()
            .find(|s| s.id == *id)
            .and_then(|s| s.decoded.as_ref().ok())
    }

    /// The revocations that name an endorsement.
    pub(crate) fn revocations(&self, id: &EndorsementId) -> &[Revocation] {
        self.revocations.get(id).map_or(&[], Vec::as_slice)
    }

    /// Every endorsement of a resource, evaluated at `now`; `None` if the
    /// directory has no such resource.
    pub(crate) fn endorsements_of(
        &self,
        resource: &ItemId,
        trusted: &TrustedOrganisations,
        now: DateTime<Utc>,
    ) -> Option<ResourceEndorsements> {
        let current = self.content_hash(resource)?;
        let cx = Context {
            directory: self.id,
            resource,
            current,
            trusted,
            now,
        };
        Some(ResourceEndorsements::new(
            self.stored(resource)
                .iter()
                .map(|s| {
                    evaluate_decoded(
                        s.id,
                        s.decoded.as_ref().map_err(|e| *e),
                        self.revocations(&s.id).iter(),
                        &cx,
                    )
                })
                .collect(),
        ))
    }

    /// Answers a query (rules and ranking on [`ResourceQuery`]).
    pub(crate) fn query(
        &self,
        q: &ResourceQuery,
        trusted: &TrustedOrganisations,
        now: DateTime<Utc>,
    ) -> Vec<ResourceMatch> {
        let words: Vec<String> = q
            .text
            .as_deref()
            .unwrap_or("")
            .split_whitespace()
            .map(str::to_lowercase)
            .collect();
        let region = q.region.as_deref().map(str::to_lowercase);
        let mut hits = Vec::new();
        for (i, (resource, entry)) in self.resources.iter().zip(&self.entries).enumerate() {
            let d = &resource.details;
            if q.thrive.is_some_and(|t| !d.thrive.contains(&t))
                || q.kind.is_some_and(|k| d.kind != k)
                || q.cost.is_some_and(|c| d.cost != c)
                || q.audience.is_some_and(|a| !serves(a, d.audience))
                || q.age.is_some_and(|age| {
                    d.min_age.is_some_and(|m| age < m) || d.max_age.is_some_and(|m| age > m)
                })
                || region.as_ref().is_some_and(|r| {
                    !entry.regions.is_empty() && !entry.regions.iter().any(|x| x == r)
                })
                || !words.iter().all(|w| {
                    entry.name.contains(w.as_str()) || entry.description.contains(w.as_str())
                })
            {
                continue;
            }
            let best = if self.endorsements.contains_key(&resource.id) {
                self.endorsements_of(&resource.id, trusted, now)
                    .and_then(|e| e.best)
            } else {
                None
            };
            let state = best.as_ref().map(|b| b.state);
            if q.endorsed_only && state != Some(EndorsementState::Endorsed) {
                continue;
            }
            let tier = match state {
                Some(EndorsementState::Endorsed) => 0u8,
                Some(EndorsementState::ReviewOverdue) => 1,
                _ => 2,
            };
            let in_name = words
                .iter()
                .filter(|w| entry.name.contains(w.as_str()))
                .count();
            let inactive = d.status != ResourceStatus::Active;
            hits.push(((tier, std::cmp::Reverse(in_name), inactive, i), best));
        }
        hits.sort_unstable_by_key(|hit| hit.0);
        hits.truncate(q.limit.unwrap_or(usize::MAX));
        hits.into_iter()
            .filter_map(|((.., i), endorsement)| {
                Some(ResourceMatch {
                    resource: Arc::clone(self.resources.get(i)?),
                    endorsement,
                })
            })
            .collect()
    }
}

/// Whether a resource for `audience` serves people the query asks for.
fn serves(asked: Audience, audience: Audience) -> bool {
    match asked {
        Audience::Both => audience == Audience::Both,
        _ => audience == asked || audience == Audience::Both,
    }
}

/// Every statement in the directory, decoded (reusing `known`) and filed:
/// endorsements by the resource they name, revocations by the endorsement
/// they name.
#[allow(clippy::type_complexity)]
fn read_statements(
    doc: &Automerge,
    id: DocumentId,
    known: &mut HashMap<EndorsementId, Result<Endorsement, StatementError>>,
) -> (
    HashMap<ItemId, Vec<StoredEndorsement>>,
    HashMap<EndorsementId, Vec<Revocation>>,
) {
    let raw = endorsements::read(doc);
    let mut stored: HashMap<ItemId, Vec<StoredEndorsement>> = HashMap::new();
    let mut unattributed = raw.junk;
    for (key_resource, bytes) in raw.endorsements {
        let id = EndorsementId(Sha256::digest(&bytes).into());
        let decoded = known
            .remove(&id)
            .unwrap_or_else(|| Endorsement::decode(&bytes));
        // A statement is filed under the resource it names; one that
        // does not decode, under the resource its key names.
        let resource = match &decoded {
            Ok(e) => Some(e.resource.clone()),
            Err(_) => key_resource,
        };
        let Some(resource) = resource else {
            unattributed += 1;
            continue;
        };
        let list = stored.entry(resource).or_default();
        if list.iter().any(|s| s.id == id) {
            continue;
        }
        list.push(StoredEndorsement { id, decoded });
    }
    let mut revocations: HashMap<EndorsementId, Vec<Revocation>> = HashMap::new();
    for bytes in raw.revocations {
        match Revocation::decode(&bytes) {
            Ok(r) => revocations.entry(r.endorsement).or_default().push(r),
            Err(_) => unattributed += 1,
        }
    }
    if unattributed > 0 {
        tracing::debug!(
            directory = %id,
            count = unattributed,
            "ignored statement values that name no resource"
        );
    }
    (stored, revocations)
}

/// Each resource's position.
fn positions(resources: &[Arc<Resource>]) -> HashMap<ItemId, usize> {
    resources
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.clone(), i))
        .collect()
}

impl Entry {
    fn of(r: &Resource) -> Self {
        Self {
            hash: content_hash(&r.details),
            name: r.details.name.to_lowercase(),
            description: r.details.description.to_lowercase(),
            regions: r.details.regions.iter().map(|s| s.to_lowercase()).collect(),
        }
    }
}

/// What one of this device's own edits of a directory changed.
#[derive(Debug, Clone)]
pub(crate) enum Touched {
    /// One resource: added, updated or removed.
    Resource(ItemId),
    /// The endorsement or revocation statements.
    Statements,
}
