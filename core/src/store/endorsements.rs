//! Endorsements on the store: the trust an app configures, endorsing and
//! revoking (ordinary signed edits of the directory), the status of a
//! resource's endorsements, directory queries, and signposts that carry
//! their evidence into a care plan.

use chrono::{DateTime, NaiveDate, Utc};
use sha2::{Digest, Sha256};

use automerge::transaction::Transaction;

use super::{
    Inner, Store, check_kind,
    directory_index::{DirectoryIndex, Need, Touched},
    saved_index::{Damaged, Wanted, fill},
};
use crate::{
    DocumentId, DocumentKind, Error, ItemId, ResourceEndorsements, ResourceMatch, ResourceQuery,
    ResourceRef, SignpostEvidence, Thrive, TrustedOrganisations,
    doc::{self, EditContext, care_plan::MAX_EVIDENCE_ENDORSEMENTS},
    endorse::{
        Certificate, ContentHash, Endorsement, EndorsementId, Revocation, content_hash,
        status::{Context, evaluate_decoded},
    },
};

impl Store {
    /// Sets the organisations whose certificates this app trusts. Until it
    /// is called no endorsement is trusted. Held in memory only: an app
    /// sets it after opening the store, from its own configuration.
    pub fn set_trusted_organisations(&self, trusted: TrustedOrganisations) {
        self.lock().trusted = trusted;
    }

    /// The organisations this app trusts.
    pub fn trusted_organisations(&self) -> TrustedOrganisations {
        self.lock().trusted.clone()
    }

    /// Runs `f` on the directory's index and the trusted organisations,
    /// for a caller that reads no resource in full (entries, content
    /// hashes, statements); see [`Self::with_directory_needing`].
    pub(super) fn with_directory<R>(
        &self,
        id: &DocumentId,
        f: impl FnOnce(&DirectoryIndex, &TrustedOrganisations) -> R,
    ) -> Result<R, Error> {
        self.with_directory_needing(
            id,
            |_, _| ((), Need::Nothing),
            |index, trusted, ()| f(index, trusted),
        )
    }

    /// Runs `plan` on the directory's index and the trusted organisations,
    /// then `f` on its answer once the resources in full that `plan` says
    /// it needs are read (`saved_index.rs` reads them lazily, a group at a
    /// time). The index comes from memory if it is current; else, for a
    /// directory not loaded, from its saved copy if that is current,
    /// without loading the document (`saved_index.rs`); else the document
    /// is loaded and the index in memory, or the saved one, is brought up
    /// to date from the changes since (`directory_index.rs`), or built if
    /// there is neither. Whatever changed is then saved. If what `plan`
    /// needs cannot be read from the saved copy, the index is built from
    /// the document and `plan` runs again on it.
    pub(super) fn with_directory_needing<P, R>(
        &self,
        id: &DocumentId,
        plan: impl Fn(&DirectoryIndex, &TrustedOrganisations) -> (P, Need),
        f: impl FnOnce(&DirectoryIndex, &TrustedOrganisations, P) -> R,
    ) -> Result<R, Error> {
        let mut locked = self.lock();
        let trusted = locked.trusted.clone();
        let inner = &mut *locked;
        self.current_index(inner, id)?;
        {
            let Inner {
                conn,
                sealer,
                docs,
                unloaded_indexes,
                ..
            } = &mut *inner;
            let index = match docs.get_mut(id) {
                Some(loaded) => loaded.directory_index.as_mut(),
                None => unloaded_indexes.get_mut(id),
            }
            .ok_or_else(|| Error::not_found("document", id))?;
            let (planned, need) = plan(index, &trusted);
            if fill(conn, sealer, id, index, &need).is_ok() {
                return Ok(f(index, &trusted, planned));
            }
        }
        // A full part of the saved copy is damaged (reported): build the
        // index from the document, and leave the saved copy alone.
        inner.unloaded_indexes.remove(id);
        let loaded = inner.load(id, self.device_id)?;
        let mut index = DirectoryIndex::build(&loaded.doc, *id, None);
        index.unsaved.hold();
        let index = loaded.directory_index.insert(index);
        let (planned, _) = plan(index, &trusted);
        Ok(f(index, &trusted, planned))
    }

    /// Makes sure the directory's index is current, in memory: beside the
    /// loaded document, or in `unloaded_indexes` if a current saved copy
    /// was read without loading it.
    fn current_index(&self, inner: &mut Inner, id: &DocumentId) -> Result<(), Error> {
        let mut damaged = false;
        if !inner.docs.contains_key(id) {
            if !inner.unloaded_indexes.contains_key(id) {
                check_kind(id, DocumentKind::ResourceDirectory, inner.stored_kind(id)?)?;
                match inner.read_saved_index(id, Wanted::Current) {
                    Ok(Some(index)) => {
                        inner.unloaded_indexes.insert(*id, index);
                    }
                    Ok(None) => {}
                    Err(Damaged) => damaged = true,
                }
            }
            if inner.unloaded_indexes.contains_key(id) {
                return Ok(());
            }
        }
        let in_memory = inner
            .docs
            .get(id)
            .is_some_and(|loaded| loaded.directory_index.is_some());
        let saved = if in_memory || damaged {
            None
        } else {
            match inner.read_saved_index(id, Wanted::Any) {
                Ok(saved) => saved,
                Err(Damaged) => {
                    damaged = true;
                    None
                }
            }
        };
        let loaded = inner.load(id, self.device_id)?;
        check_kind(id, DocumentKind::ResourceDirectory, loaded.kind)?;
        let heads = loaded.doc.get_heads();
        let mut index = match loaded.directory_index.take().or(saved) {
            Some(index) if index.is_current(&heads) => index,
            Some(index) => index.update(&loaded.doc),
            None => DirectoryIndex::build(&loaded.doc, *id, None),
        };
        if damaged {
            index.unsaved.hold();
        }
        let saved = inner.save_index(id, &mut index);
        let loaded = inner
            .docs
            .get_mut(id)
            .ok_or_else(|| Error::not_found("document", id))?;
        loaded.directory_index = Some(index);
        saved
    }

    /// Runs `edit` on a directory as one change, then brings the
    /// directory's index up to date by re-reading only what `touched` names,
    /// if the index was current before the edit and nothing else changed
    /// the document meanwhile (otherwise the next read rebuilds it).
    pub(super) fn edit_directory<R>(
        &self,
        id: &DocumentId,
        what: &'static str,
        touched: impl FnOnce(&R) -> Touched,
        edit: impl FnOnce(&mut Transaction<'_>, &EditContext) -> Result<R, Error>,
    ) -> Result<R, Error> {
        let before = std::cell::OnceCell::new();
        let result = self.edit(id, DocumentKind::ResourceDirectory, what, |tx, ctx| {
            let _ = before.set(tx.get_heads());
            edit(tx, ctx)
        })?;
        let touched = touched(&result);
        let mut inner = self.lock();
        if let (Some(loaded), Some(before)) = (inner.docs.get_mut(id), before.get())
            && let Some(index) = loaded.directory_index.as_mut()
            && index.is_current(before)
            && loaded.doc.get_changes(before).len() == 1
        {
            index.patch(&loaded.doc, &touched);
        }
        Ok(result)
    }

    /// Endorses the current version of a resource: signs an
    /// [`Endorsement`] of its content hash with the clinician's 32-byte
    /// secret and adds it to the directory as one signed change. This
    /// device must be a writer of the directory; the certificate must be
    /// for the clinician's key and valid now. Returns the endorsement's id.
    #[allow(clippy::too_many_arguments)]
    pub fn endorse_resource(
        &self,
        directory: &DocumentId,
        resource: &ItemId,
        clinician_secret: &[u8],
        certificate: &Certificate,
        rationale: &str,
        thrive: &[Thrive],
        valid_until: NaiveDate,
    ) -> Result<EndorsementId, Error> {
        let id = self.edit_directory(
            directory,
            "endorse resource",
            |_| Touched::statements(),
            |tx, ctx| {
                let details = doc::directory::resource(tx, resource)?.details;
                let endorsement = Endorsement::sign(
                    clinician_secret,
                    certificate,
                    *directory,
                    resource,
                    content_hash(&details),
                    rationale,
                    thrive,
                    ctx.now,
                    valid_until,
                )?;
                doc::endorsements::add_endorsement(tx, &endorsement)?;
                Ok(endorsement.id())
            },
        )?;
        tracing::debug!(directory = %directory, endorsement = %id, "resource endorsed");
        Ok(id)
    }

    /// Revokes an endorsement in the directory with the 32-byte secret of
    /// the clinician who made it or of the organisation that certified
    /// them (another key is [`Error::NotAllowed`]), as one signed change.
    pub fn revoke_endorsement(
        &self,
        directory: &DocumentId,
        endorsement: &EndorsementId,
        revoker_secret: &[u8],
    ) -> Result<(), Error> {
        let endorsed = self
            .with_directory(directory, |index, _| {
                index.endorsement(endorsement).cloned()
            })?
            .ok_or_else(|| Error::not_found("endorsement", endorsement))?;
        self.edit_directory(
            directory,
            "revoke endorsement",
            |_| Touched::statements(),
            |tx, ctx| {
                let revocation = Revocation::sign(revoker_secret, &endorsed, ctx.now)?;
                doc::endorsements::add_revocation(tx, &revocation)
            },
        )
    }

    /// Every endorsement of a resource and the best one, as this device
    /// sees them at `now` with its trusted organisations.
    pub fn resource_endorsements(
        &self,
        directory: &DocumentId,
        resource: &ItemId,
        now: DateTime<Utc>,
    ) -> Result<ResourceEndorsements, Error> {
        self.with_directory(directory, |index, trusted| {
            index.endorsements_of(resource, trusted, now)
        })?
        .ok_or_else(|| Error::not_found("resource", resource))
    }

    /// A resource's current content hash (what an endorsement of it now
    /// would be about).
    pub fn resource_content_hash(
        &self,
        directory: &DocumentId,
        resource: &ItemId,
    ) -> Result<ContentHash, Error> {
        self.with_directory(directory, |index, _| index.content_hash(resource))?
            .ok_or_else(|| Error::not_found("resource", resource))
    }

    /// The directory's resources that match `query`, each with its best
    /// endorsement at `now`, ranked as [`ResourceQuery`] describes. Answered
    /// from an index of the directory kept in memory and saved in the
    /// store, brought up to date from the changes when the directory
    /// changes.
    pub fn query_resources(
        &self,
        directory: &DocumentId,
        query: &ResourceQuery,
        now: DateTime<Utc>,
    ) -> Result<Vec<ResourceMatch>, Error> {
        query.validate()?;
        self.with_directory_needing(
            directory,
            |index, trusted| index.query(query, trusted, now),
            |index, _, hits| index.matches(hits),
        )
    }

    /// Signposts a resource from a directory this device holds, with its
    /// evidence: the plan's signpost keeps a snapshot of the resource, its
    /// content hash and the endorsements of that version (up to eight,
    /// newest first, whose signatures verify and that are not revoked), so
    /// that the young person's device can show and check them without the
    /// directory. Otherwise as [`Store::add_signpost`].
    pub fn add_signpost_from_directory(
        &self,
        plan: &DocumentId,
        directory: &DocumentId,
        resource: &ItemId,
        signposted_by: &str,
        reason: &str,
        date: NaiveDate,
    ) -> Result<ItemId, Error> {
        super::care_plan::check_signpost(signposted_by, reason, date)?;
        let evidence = self
            .with_directory_needing(
                directory,
                |index, _| ((), index.need_resource(resource)),
                |index, _, ()| {
                    let snapshot = index.resource(resource)?.details.clone();
                    let hash = index.content_hash(resource)?;
                    let mut current: Vec<&Endorsement> = index
                        .stored(resource)
                        .iter()
                        .filter_map(|s| s.decoded().ok())
                        .filter(|e| {
                            e.content_hash == hash
                                && e.directory == *directory
                                && index
                                    .revocations(&e.id())
                                    .iter()
                                    .all(|r| !crate::endorse::statements::may_revoke(&r.revoker, e))
                        })
                        .collect();
                    current.sort_by_key(|e| std::cmp::Reverse(e.issued_at));
                    Some(SignpostEvidence {
                        snapshot,
                        content_hash: hash,
                        endorsements: current
                            .into_iter()
                            .take(MAX_EVIDENCE_ENDORSEMENTS)
                            .map(Endorsement::encode)
                            .collect(),
                    })
                },
            )?
            .ok_or_else(|| Error::not_found("resource", resource))?;
        let reference = ResourceRef {
            directory: *directory,
            resource: resource.clone(),
        };
        self.insert_signpost(
            plan,
            &reference,
            signposted_by,
            reason,
            date,
            Some(&evidence),
        )
    }

    /// The endorsements a signpost carries, checked on this device at
    /// `now` against the signpost's own snapshot of the resource (so a
    /// snapshot altered after signposting shows as changed). If this device
    /// also holds the directory, revocations made there count too. `None`
    /// if the signpost was made without evidence.
    pub fn signpost_endorsements(
        &self,
        plan: &DocumentId,
        signpost: &ItemId,
        now: DateTime<Utc>,
    ) -> Result<Option<ResourceEndorsements>, Error> {
        let found = self.read(plan, DocumentKind::CarePlan, |doc| {
            doc::care_plan::signpost(doc, signpost)
        })??;
        let Some(evidence) = found.evidence else {
            return Ok(None);
        };
        let directory = found.resource.directory;
        let decoded: Vec<(EndorsementId, Result<Endorsement, _>)> = evidence
            .endorsements
            .iter()
            .map(|bytes| {
                (
                    EndorsementId(Sha256::digest(bytes).into()),
                    Endorsement::decode(bytes),
                )
            })
            .collect();
        let revocations: Vec<Revocation> = match self.with_directory(&directory, |index, _| {
            decoded
                .iter()
                .flat_map(|(id, _)| index.revocations(id).iter().cloned())
                .collect::<Vec<_>>()
        }) {
            Ok(revocations) => revocations,
            Err(Error::NotFound { .. }) => Vec::new(),
            Err(e) => return Err(e),
        };
        let trusted = self.trusted_organisations();
        let cx = Context {
            directory,
            resource: &found.resource.resource,
            current: content_hash(&evidence.snapshot),
            trusted: &trusted,
            now,
        };
        Ok(Some(ResourceEndorsements::new(
            decoded
                .iter()
                .map(|(id, e)| {
                    evaluate_decoded(*id, e.as_ref().map_err(|e| *e), revocations.iter(), &cx)
                })
                .collect(),
        )))
    }
}
