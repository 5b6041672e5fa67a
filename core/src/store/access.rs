//! Grants and change signatures in the store: the calls an app makes to
//! share a document and to see who has it, and the sealed table of the
//! signatures that go with each author's latest change.

use std::collections::BTreeSet;

use automerge::ChangeHash;
use chrono::Utc;
use rusqlite::{OptionalExtension, Transaction, params};

use super::{Inner, Store, aad};
use crate::{
    AccessEntry, DeviceId, DocumentId, Error, Role,
    access::{AuthorSignature, ChangeSignature, Grant},
    crypto::Sealer,
    doc,
};

/// Seals each signature as `seq ‖ change hash ‖ signature`, bound to the
/// document and author.
pub(super) fn seal_signatures(
    sealer: &Sealer,
    id: &DocumentId,
    signatures: &[AuthorSignature],
) -> Result<Vec<(DeviceId, Vec<u8>)>, Error> {
    signatures
        .iter()
        .map(|s| {
            let mut plain = Vec::with_capacity(8 + 32 + 64);
            plain.extend_from_slice(&s.seq.to_be_bytes());
            plain.extend_from_slice(&s.signature.hash.0);
            plain.extend_from_slice(&s.signature.signature);
            let sealed = sealer.seal(&signature_aad(id, &s.author), &plain)?;
            Ok((s.author, sealed))
        })
        .collect()
}

fn signature_aad(id: &DocumentId, author: &DeviceId) -> Vec<u8> {
    let mut aad = aad("signature", id, None);
    aad.extend_from_slice(author.as_bytes());
    aad
}

/// Keeps each author's signature in the same transaction as the change.
pub(super) fn write_signatures(
    tx: &Transaction<'_>,
    id: &DocumentId,
    sealed: &[(DeviceId, Vec<u8>)],
) -> Result<(), Error> {
    for (author, blob) in sealed {
        tx.prepare_cached(
            "INSERT INTO signatures (doc_id, author, blob) VALUES (?1, ?2, ?3)
             ON CONFLICT (doc_id, author) DO UPDATE SET blob = excluded.blob",
        )?
        .execute(params![id.as_bytes(), author.as_bytes(), blob])?;
    }
    Ok(())
}

impl Inner {
    /// The kept signatures of these authors in a document.
    pub(super) fn signatures(
        &self,
        id: &DocumentId,
        authors: &BTreeSet<DeviceId>,
    ) -> Result<Vec<ChangeSignature>, Error> {
        let corrupt = || Error::Corrupt {
            what: "change signature",
        };
        let mut out = Vec::with_capacity(authors.len());
        for author in authors {
            let sealed: Option<Vec<u8>> = self
                .conn
                .prepare_cached("SELECT blob FROM signatures WHERE doc_id = ?1 AND author = ?2")?
                .query_row(params![id.as_bytes(), author.as_bytes()], |row| row.get(0))
                .optional()?;
            let Some(sealed) = sealed else {
                continue;
            };
            let plain = self
                .sealer
                .open(&signature_aad(id, author), &sealed)
                .map_err(|_| corrupt())?;
            let (hash, signature) = plain
                .get(8..40)
                .zip(plain.get(40..104))
                .ok_or_else(corrupt)?;
            out.push(ChangeSignature {
                hash: ChangeHash::try_from(hash).map_err(|_| corrupt())?,
                signature: signature.try_into().map_err(|_| corrupt())?,
            });
        }
        Ok(out)
    }
}

impl Store {
    /// Gives `device` a role on a document: a statement signed by this
    /// device, which must be an admin or owner of the document. It reaches
    /// everyone holding the document at their next sync, and the relay
    /// starts sending the document to `device`.
    pub fn grant(&self, id: &DocumentId, device: DeviceId, role: Role) -> Result<(), Error> {
        self.change_access(id, device, Some(role))
    }

    /// Takes away all of `device`'s access to a document. The relay stops
    /// sending it the document at its next sync; what it already holds
    /// stays on it.
    pub fn revoke(&self, id: &DocumentId, device: DeviceId) -> Result<(), Error> {
        self.change_access(id, device, None)
    }

    fn change_access(
        &self,
        id: &DocumentId,
        subject: DeviceId,
        role: Option<Role>,
    ) -> Result<(), Error> {
        let me = self.device_id();
        let key = self.device_key();
        let statement = std::cell::OnceCell::new();
        self.edit_checked(
            id,
            if role.is_some() { "grant" } else { "revoke" },
            |loaded| {
                loaded
                    .access
                    .permits(&me, &subject, role)
                    .map_err(|_| Error::NotAllowed("change who has access to this document"))?;
                let issued = loaded.access.next_issue_ms(Utc::now().timestamp_millis());
                let _ = statement.set(Grant::issue(key, *id, subject, role, issued));
                Ok(())
            },
            super::ViewRefresh::None,
            |tx, _| match statement.get() {
                Some(grant) => doc::access::add(tx, grant),
                None => Err(Error::NotAllowed("change who has access to this document")),
            },
        )?;
        let mut inner = self.lock();
        if let Some(loaded) = inner.docs.get_mut(id) {
            loaded.refresh_access(id);
        }
        tracing::debug!(document = %id, "access changed");
        Ok(())
    }

    /// Who has access to a document, as this device knows it.
    pub fn access(&self, id: &DocumentId) -> Result<Vec<AccessEntry>, Error> {
        let mut inner = self.lock();
        Ok(inner.load(id, self.device_id())?.access.entries())
    }

    /// This device's role on a document, if it has one.
    pub fn role(&self, id: &DocumentId) -> Result<Option<Role>, Error> {
        let mut inner = self.lock();
        let device = self.device_id();
        Ok(inner.load(id, device)?.access.role(&device))
    }
}
