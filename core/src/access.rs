//! Who may read and change a document: signed grant statements, the access
//! list they add up to, and the signatures every change carries.
//!
//! ## Grants
//!
//! A [`Grant`] is a statement signed by a device key: "device S has role R
//! on document D" (or no role: a revocation). Statements are kept inside the
//! document they are about, so they travel, merge and persist with it and
//! every peer holding the document holds the same set. Statements are never
//! removed; a later one overrides an earlier one.
//!
//! The set adds up to an [`AccessList`] the same way on every peer:
//!
//! 1. The *genesis* statement makes the document's creator its owner. A
//!    document's id is derived from the creator's key and a nonce
//!    ([`DocumentId::derive`]), and the genesis carries the nonce, so exactly
//!    one device can be the creator of a given id.
//! 2. Every other statement with a valid signature is applied in the order
//!    of (issue time, statement hash). A statement takes effect only if its
//!    issuer is an admin or owner at that point; owners are changed only by
//!    themselves, and only an owner makes another owner.
//!
//! An issuer stamps a new statement later than every statement it has seen,
//! so a device with a slow clock cannot order its revocation before the
//! grant it revokes.
//!
//! ## Change signatures
//!
//! Every change is signed by its author's device key over
//! `"lynchpin/change/v1" ‖ document id ‖ change hash`. A change's hash
//! covers its dependencies, and an author's changes form a chain (each has
//! the previous one among its ancestors), so a signature over an author's
//! latest change vouches for every earlier change of that author too. A
//! store keeps, per document and author, the signature over the author's
//! latest change, and a sync message carries the signature of each author
//! whose changes it carries. [`verify_changes`] checks that every new change
//! is covered by a valid signature of its author and that the author may
//! write.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use automerge::{Automerge, ChangeHash};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::{DeviceId, DeviceKey, DocumentId};

/// What a device may do with a document. Roles are ordered: each includes
/// the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Receives the document; its changes are refused.
    Reader,
    /// Reads and changes the document.
    Writer,
    /// Also grants and revokes access (except an owner's).
    Admin,
    /// An admin whose access only they can change: the young person on
    /// their own care plan and journal, and the document's creator.
    Owner,
}

impl Role {
    fn code(role: Option<Self>) -> u8 {
        match role {
            None => 0,
            Some(Self::Reader) => 1,
            Some(Self::Writer) => 2,
            Some(Self::Admin) => 3,
            Some(Self::Owner) => 4,
        }
    }

    fn from_code(code: u8) -> Option<Option<Self>> {
        Some(match code {
            0 => None,
            1 => Some(Self::Reader),
            2 => Some(Self::Writer),
            3 => Some(Self::Admin),
            4 => Some(Self::Owner),
            _ => return None,
        })
    }

    /// The short name used in the server's JSON.
    pub fn name(self) -> &'static str {
        match self {
            Self::Reader => "reader",
            Self::Writer => "writer",
            Self::Admin => "admin",
            Self::Owner => "owner",
        }
    }
}

const GRANT_MAGIC: &[u8; 4] = b"LYNG";
const GRANT_VERSION: u8 = 1;
const GRANT_CONTEXT: &[u8] = b"lynchpin/grant/v1";
const CHANGE_CONTEXT: &[u8] = b"lynchpin/change/v1";
const DOCUMENT_ID_CONTEXT: &[u8] = b"lynchpin/document-id/v1";
/// Length of an encoded statement without the genesis nonce.
const GRANT_BODY_LEN: usize = 4 + 1 + 16 + 32 + 1 + 32 + 8 + 1;
const SIGNATURE_LEN: usize = 64;

/// A signed statement giving a device a role on a document, or taking it
/// away (`role` is `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// The document.
    pub document: DocumentId,
    /// The device the statement is about.
    pub subject: DeviceId,
    /// Its role from now on; `None` revokes all access.
    pub role: Option<Role>,
    /// The device that signed the statement.
    pub issuer: DeviceId,
    /// When it was issued, in milliseconds since the Unix epoch (UTC).
    pub issued_ms: i64,
    /// For the genesis statement only: the nonce the document id was
    /// derived from.
    pub genesis_nonce: Option<[u8; 16]>,
    signature: [u8; 64],
}

/// Why bytes are not a valid [`Grant`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum GrantError {
    /// The bytes are not a grant statement of a known version.
    #[error("not a grant statement")]
    Malformed,
    /// The signature does not verify against the issuer's key.
    #[error("the grant statement's signature is not valid")]
    BadSignature,
}

impl Grant {
    /// Signs a statement with `issuer`'s key.
    pub fn issue(
        issuer: &DeviceKey,
        document: DocumentId,
        subject: DeviceId,
        role: Option<Role>,
        issued_ms: i64,
    ) -> Self {
        Self::sign(issuer, document, subject, role, issued_ms, None)
    }

    /// The statement that makes the creator of a document its owner, for a
    /// document whose id was derived from the creator's key and `nonce`.
    pub fn genesis(creator: &DeviceKey, nonce: [u8; 16], issued_ms: i64) -> Self {
        let id = creator.device_id();
        Self::sign(
            creator,
            DocumentId::derive(&id, &nonce),
            id,
            Some(Role::Owner),
            issued_ms,
            Some(nonce),
        )
    }

    fn sign(
        issuer: &DeviceKey,
        document: DocumentId,
        subject: DeviceId,
        role: Option<Role>,
        issued_ms: i64,
        genesis_nonce: Option<[u8; 16]>,
    ) -> Self {
        let mut grant = Self {
            document,
            subject,
            role,
            issuer: issuer.device_id(),
            issued_ms,
            genesis_nonce,
            signature: [0; 64],
        };
        grant.signature = issuer.sign(&grant.signed_bytes());
        grant
    }

    /// When it was issued.
    pub fn issued_at(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(self.issued_ms).unwrap_or_default()
    }

    fn body(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(GRANT_BODY_LEN + 16 + SIGNATURE_LEN);
        out.extend_from_slice(GRANT_MAGIC);
        out.push(GRANT_VERSION);
        out.extend_from_slice(self.document.as_bytes());
        out.extend_from_slice(self.subject.as_bytes());
        out.push(Role::code(self.role));
        out.extend_from_slice(self.issuer.as_bytes());
        out.extend_from_slice(&self.issued_ms.to_be_bytes());
        match &self.genesis_nonce {
            Some(nonce) => {
                out.push(1);
                out.extend_from_slice(nonce);
            }
            None => out.push(0),
        }
        out
    }

    fn signed_bytes(&self) -> Vec<u8> {
        [GRANT_CONTEXT, &self.body()].concat()
    }

    /// The statement's canonical bytes, signature included.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = self.body();
        out.extend_from_slice(&self.signature);
        out
    }

    /// SHA-256 of [`Grant::encode`]: the statement's identity.
    pub fn hash(&self) -> [u8; 32] {
        Sha256::digest(self.encode()).into()
    }

    /// Decodes a statement and checks its signature.
    pub fn decode(bytes: &[u8]) -> Result<Self, GrantError> {
        let malformed = GrantError::Malformed;
        let (body, signature) = bytes.split_last_chunk::<SIGNATURE_LEN>().ok_or(malformed)?;
        let mut input = body;
        let mut take = |n: usize| -> Result<&[u8], GrantError> {
            let (head, rest) = input.split_at_checked(n).ok_or(malformed)?;
            input = rest;
            Ok(head)
        };
        if take(4)? != GRANT_MAGIC || take(1)? != [GRANT_VERSION] {
            return Err(malformed);
        }
        let document = DocumentId::from_slice(take(16)?).ok_or(malformed)?;
        let subject = DeviceId::from_slice(take(32)?).ok_or(malformed)?;
        let role = take(1)?
            .first()
            .and_then(|&code| Role::from_code(code))
            .ok_or(malformed)?;
        let issuer = DeviceId::from_slice(take(32)?).ok_or(malformed)?;
        let issued_ms = i64::from_be_bytes(take(8)?.try_into().map_err(|_| malformed)?);
        let genesis_nonce = match take(1)? {
            [0] => None,
            [1] => Some(take(16)?.try_into().map_err(|_| malformed)?),
            _ => return Err(malformed),
        };
        if !input.is_empty() {
            return Err(malformed);
        }
        let grant = Self {
            document,
            subject,
            role,
            issuer,
            issued_ms,
            genesis_nonce,
            signature: *signature,
        };
        if !grant.issuer.verify(&grant.signed_bytes(), &grant.signature) {
            return Err(GrantError::BadSignature);
        }
        Ok(grant)
    }

    /// Whether this is a valid genesis: the creator names itself owner of
    /// the document whose id its key and nonce derive.
    fn is_genesis(&self) -> bool {
        self.genesis_nonce.is_some_and(|nonce| {
            self.issuer == self.subject
                && self.role == Some(Role::Owner)
                && DocumentId::derive(&self.issuer, &nonce) == self.document
        })
    }
}

/// One device's access, as [`AccessList::entries`] lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AccessEntry {
    /// The device.
    pub device: DeviceId,
    /// Its role.
    pub role: Role,
    /// Who gave it (the device itself, for the creator).
    pub granted_by: DeviceId,
    /// When.
    pub granted_at: DateTime<Utc>,
}

/// The access a set of grant statements adds up to (see the module docs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessList {
    current: BTreeMap<DeviceId, AccessEntry>,
    /// Devices that held a writing role at any point.
    ever_wrote: BTreeSet<DeviceId>,
    /// The latest issue time among the statements that took effect.
    latest_ms: i64,
    /// Per device, the issue time of the latest statement that took effect
    /// and left it below admin (or without access).
    demoted_ms: BTreeMap<DeviceId, i64>,
}

impl AccessList {
    /// Replays the statements about `document` (others are ignored).
    pub fn replay<'a>(document: &DocumentId, grants: impl IntoIterator<Item = &'a Grant>) -> Self {
        let mut list = Self::default();
        let mut ordered: Vec<(&Grant, [u8; 32])> = Vec::new();
        for grant in grants {
            if grant.document != *document {
                continue;
            }
            if grant.genesis_nonce.is_some() {
                if grant.is_genesis() && !list.current.contains_key(&grant.subject) {
                    list.set(grant);
                }
                continue;
            }
            ordered.push((grant, grant.hash()));
        }
        ordered.sort_by(|(a, ha), (b, hb)| (a.issued_ms, ha).cmp(&(b.issued_ms, hb)));
        for (grant, _) in ordered {
            if list
                .permits(&grant.issuer, &grant.subject, grant.role)
                .is_ok()
            {
                list.set(grant);
            }
        }
        list
    }

    fn set(&mut self, grant: &Grant) {
        self.latest_ms = self.latest_ms.max(grant.issued_ms);
        if grant.role < Some(Role::Admin) {
            let at = self.demoted_ms.entry(grant.subject).or_insert(i64::MIN);
            *at = (*at).max(grant.issued_ms);
        }
        match grant.role {
            Some(role) => {
                if role >= Role::Writer {
                    self.ever_wrote.insert(grant.subject);
                }
                self.current.insert(
                    grant.subject,
                    AccessEntry {
                        device: grant.subject,
                        role,
                        granted_by: grant.issuer,
                        granted_at: grant.issued_at(),
                    },
                );
            }
            None => {
                self.current.remove(&grant.subject);
            }
        }
    }

    /// Whether `issuer` may give `subject` the role `role` (or revoke it).
    pub fn permits(
        &self,
        issuer: &DeviceId,
        subject: &DeviceId,
        role: Option<Role>,
    ) -> Result<(), AccessDenied> {
        let issuer_role = self.role(issuer);
        if issuer_role < Some(Role::Admin) {
            return Err(AccessDenied::NotAdmin);
        }
        if self.role(subject) == Some(Role::Owner) && subject != issuer {
            return Err(AccessDenied::Owner);
        }
        if role == Some(Role::Owner) && issuer_role != Some(Role::Owner) {
            return Err(AccessDenied::Owner);
        }
        Ok(())
    }

    /// A device's current role, if it has one.
    pub fn role(&self, device: &DeviceId) -> Option<Role> {
        self.current.get(device).map(|entry| entry.role)
    }

    /// Whether the device may change the document now.
    pub fn may_write(&self, device: &DeviceId) -> bool {
        self.role(device) >= Some(Role::Writer)
    }

    /// Whether the device held a writing role at any point: its changes
    /// are genuine contributions even if its access has since ended.
    pub fn has_written(&self, device: &DeviceId) -> bool {
        self.ever_wrote.contains(device)
    }

    /// Every device with access, by role (owners first), then device id.
    pub fn entries(&self) -> Vec<AccessEntry> {
        let mut entries: Vec<AccessEntry> = self.current.values().cloned().collect();
        entries.sort_by(|a, b| b.role.cmp(&a.role).then(a.device.cmp(&b.device)));
        entries
    }

    /// When the device was last put below admin, if ever: a statement it
    /// issues stamped no later than that is refused as backdated.
    pub fn demoted_ms(&self, device: &DeviceId) -> Option<i64> {
        self.demoted_ms.get(device).copied()
    }

    /// The time a new statement should carry: now, or just after the latest
    /// statement if the device clock is behind it.
    pub fn next_issue_ms(&self, now_ms: i64) -> i64 {
        now_ms.max(self.latest_ms.saturating_add(1))
    }
}

/// Why a grant or revocation may not be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AccessDenied {
    /// Only admins and owners grant and revoke.
    #[error("only an admin of the document may change who has access")]
    NotAdmin,
    /// An owner's access is changed only by the owner, and only an owner
    /// makes another owner.
    #[error("an owner's access is changed only by that owner")]
    Owner,
}

impl DocumentId {
    /// The id of a document created by `creator` with `nonce`: the first 16
    /// bytes of SHA-256(`"lynchpin/document-id/v1"` ‖ creator key ‖ nonce),
    /// marked as a UUID version 8.
    pub fn derive(creator: &DeviceId, nonce: &[u8; 16]) -> Self {
        let digest = Sha256::new()
            .chain_update(DOCUMENT_ID_CONTEXT)
            .chain_update(creator.as_bytes())
            .chain_update(nonce)
            .finalize();
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(digest.get(..16).unwrap_or(&[0; 16]));
        Self::from_uuid_bytes(uuid::Builder::from_custom_bytes(bytes).into_uuid())
    }
}

/// The bytes a change signature is made over.
fn change_message(document: &DocumentId, hash: &ChangeHash) -> Vec<u8> {
    [CHANGE_CONTEXT, document.as_bytes(), &hash.0].concat()
}

/// A signature over one change, by the change's author.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChangeSignature {
    /// The change.
    pub hash: ChangeHash,
    /// Ed25519 over `"lynchpin/change/v1" ‖ document id ‖ hash`.
    pub signature: [u8; 64],
}

impl ChangeSignature {
    /// Signs a change of `document` with the device key.
    pub fn sign(key: &DeviceKey, document: &DocumentId, hash: ChangeHash) -> Self {
        Self {
            hash,
            signature: key.sign(&change_message(document, &hash)),
        }
    }

    /// Whether `author` made this signature.
    pub fn verify(&self, author: &DeviceId, document: &DocumentId) -> bool {
        author.verify(&change_message(document, &self.hash), &self.signature)
    }
}

/// A signature kept for an author: over its latest change, at `seq`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthorSignature {
    /// The author.
    pub author: DeviceId,
    /// The sequence number of the signed change in the author's chain.
    pub seq: u64,
    /// The signature.
    pub signature: ChangeSignature,
}

/// Whose right to write [`verify_changes`] checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteRule {
    /// The author may write now (the relay server, which orders uploads).
    Current,
    /// The author may write now or could at some point (devices, which may
    /// receive a change made before a revocation after it).
    Ever,
}

/// Why new changes were refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// A change's author is not a device key.
    #[error("a change's author is not a device")]
    UnknownAuthor,
    /// A change is not covered by a valid signature of its author.
    #[error("a change's signature is missing or not valid")]
    Unsigned,
    /// A change's author may not write this document.
    #[error("a change's author may not write this document")]
    NotAllowed,
    /// The changes removed or altered grant statements.
    #[error("the changes remove grant statements")]
    StatementsRemoved,
    /// The document has no valid genesis statement.
    #[error("the document has no valid creator")]
    NoCreator,
    /// A grant statement is malformed, unsigned, about another document or
    /// stamped too far in the future.
    #[error("a grant statement is not valid")]
    BadStatement,
    /// A statement was stamped no later than the one that had already put
    /// its issuer below admin.
    #[error("a grant statement is backdated")]
    Backdated,
    /// The document would hold more than [`MAX_STATEMENTS`] statements.
    #[error("too many grant statements")]
    TooManyStatements,
}

impl Refusal {
    /// The document status a responder reports for this refusal.
    pub fn status(self) -> crate::sync::wire::DocStatus {
        use crate::sync::wire::DocStatus;
        match self {
            Self::UnknownAuthor | Self::Unsigned => DocStatus::Unsigned,
            Self::NotAllowed
            | Self::StatementsRemoved
            | Self::NoCreator
            | Self::BadStatement
            | Self::Backdated
            | Self::TooManyStatements => DocStatus::NotAllowed,
        }
    }
}

/// How far ahead of the receiver's clock a new statement may be stamped.
pub const MAX_STATEMENT_SKEW_MS: i64 = 24 * 3_600_000;

/// The most grant statements one document may hold.
pub const MAX_STATEMENTS: usize = 1_000;

/// Checks the changes `doc` gained since `before` (heads) against the
/// signatures received with them and the document's grants, at `now_ms` on
/// the receiver's clock:
///
/// - every new change is covered by a valid signature of its author (one
///   signature per author is checked: the one over its latest change), and
///   its author may write by `rule`;
/// - the grant statements still include every one in `statements_before`,
///   are all well formed and signed, and number at most [`MAX_STATEMENTS`];
/// - no new statement is stamped more than [`MAX_STATEMENT_SKEW_MS`] ahead
///   of `now_ms`, nor (backdated) no later than a statement that had
///   already put its issuer below admin.
///
/// Returns, per author of new changes, the signature to keep.
pub fn verify_changes(
    id: &DocumentId,
    doc: &Automerge,
    before: &[ChangeHash],
    statements_before: &BTreeSet<[u8; 32]>,
    signatures: &[ChangeSignature],
    rule: WriteRule,
    now_ms: i64,
) -> Result<Vec<AuthorSignature>, Refusal> {
    let new = doc.get_changes_meta(before);
    if new.is_empty() {
        return Ok(Vec::new());
    }
    let (grants, malformed) = crate::doc::access::statements_checked(doc);
    if malformed > 0 || grants.iter().any(|g| g.document != *id) {
        return Err(Refusal::BadStatement);
    }
    if grants.len() > MAX_STATEMENTS {
        return Err(Refusal::TooManyStatements);
    }
    let hashes: Vec<[u8; 32]> = grants.iter().map(Grant::hash).collect();
    let held: BTreeSet<[u8; 32]> = hashes.iter().copied().collect();
    if !statements_before.is_subset(&held) {
        return Err(Refusal::StatementsRemoved);
    }
    let access = AccessList::replay(id, &grants);
    if access.entries().is_empty() {
        return Err(Refusal::NoCreator);
    }
    let earlier = AccessList::replay(
        id,
        grants
            .iter()
            .zip(&hashes)
            .filter(|(_, h)| statements_before.contains(*h))
            .map(|(g, _)| g),
    );
    for (grant, hash) in grants.iter().zip(&hashes) {
        if statements_before.contains(hash) {
            continue;
        }
        if grant.issued_ms > now_ms.saturating_add(MAX_STATEMENT_SKEW_MS) {
            return Err(Refusal::BadStatement);
        }
        if earlier
            .demoted_ms(&grant.issuer)
            .is_some_and(|at| grant.issued_ms <= at)
        {
            return Err(Refusal::Backdated);
        }
    }

    // One candidate per author: the signature over its highest change.
    let mut candidates: HashMap<DeviceId, AuthorSignature> = HashMap::new();
    for signature in signatures {
        let Some(meta) = doc.get_change_meta_by_hash(&signature.hash) else {
            continue;
        };
        let Some(author) = DeviceId::from_actor(&meta.actor) else {
            continue;
        };
        if candidates.get(&author).is_none_or(|c| c.seq < meta.seq) {
            candidates.insert(
                author,
                AuthorSignature {
                    author,
                    seq: meta.seq,
                    signature: *signature,
                },
            );
        }
    }
    let mut keep: BTreeMap<DeviceId, AuthorSignature> = BTreeMap::new();
    for change in &new {
        let author = DeviceId::from_actor(&change.actor).ok_or(Refusal::UnknownAuthor)?;
        let kept = match keep.entry(author) {
            std::collections::btree_map::Entry::Occupied(kept) => *kept.get(),
            std::collections::btree_map::Entry::Vacant(slot) => {
                let signature = candidates
                    .get(&author)
                    .filter(|c| c.signature.verify(&author, id))
                    .ok_or(Refusal::Unsigned)?;
                let allowed = match rule {
                    WriteRule::Current => access.may_write(&author),
                    WriteRule::Ever => access.has_written(&author),
                };
                if !allowed {
                    return Err(Refusal::NotAllowed);
                }
                *slot.insert(*signature)
            }
        };
        if kept.seq < change.seq {
            return Err(Refusal::Unsigned);
        }
    }
    Ok(keep.into_values().collect())
}

/// Whether the document holds changes Automerge could not apply yet
/// (their dependencies are missing). Such changes are never stored: hosts
/// save with [`save_applied`] and reload the document instead of keeping
/// it in memory.
pub fn has_orphans(doc: &Automerge) -> bool {
    use automerge::ReadDoc;
    !doc.get_missing_deps(&[]).is_empty()
}

/// The document's `save()` without changes that are not applied yet.
pub fn save_applied(doc: &Automerge) -> Vec<u8> {
    doc.save_with_options(automerge::SaveOptions {
        deflate: true,
        retain_orphans: false,
    })
}

/// The grant statements a document holds (well formed and correctly
/// signed; whether each counts is for [`AccessList::replay`]).
pub fn statements(doc: &Automerge) -> Vec<Grant> {
    crate::doc::access::statements(doc)
}

/// The authors of the changes with these hashes (unknown hashes skipped).
pub fn authors_of(doc: &Automerge, hashes: &[ChangeHash]) -> BTreeSet<DeviceId> {
    hashes
        .iter()
        .filter_map(|hash| doc.get_change_meta_by_hash(hash))
        .filter_map(|meta| DeviceId::from_actor(&meta.actor))
        .collect()
}

#[cfg(test)]
mod tests;
