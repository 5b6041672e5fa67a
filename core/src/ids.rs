//! Identifiers: documents, the items inside them, and document kinds.
//!
//! Ids are random UUID v4s, never derived from personal data. Inside a
//! document, items (goals, meetings, resources …) are keyed by an [`ItemId`]
//! so that concurrent additions on different devices never collide.

use std::{fmt, str::FromStr};

use uuid::Uuid;

/// The stable id of a document: a UUID, derived from its creator's key and
/// a random nonce ([`DocumentId::derive`]).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct DocumentId(Uuid);

impl DocumentId {
    #[cfg(test)]
    pub(crate) fn random() -> Self {
        Self(Uuid::new_v4())
    }

    pub(crate) fn from_uuid_bytes(uuid: Uuid) -> Self {
        Self(uuid)
    }

    /// The 16 id bytes, as stored in the database's plain id column.
    pub fn as_bytes(&self) -> &[u8; 16] {
        self.0.as_bytes()
    }

    /// Builds an id from 16 bytes; `None` for any other length.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        Uuid::from_slice(bytes).ok().map(Self)
    }
}

impl FromStr for DocumentId {
    type Err = InvalidId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_uuid(s).map(Self)
    }
}

impl fmt::Display for DocumentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

impl fmt::Debug for DocumentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DocumentId({self})")
    }
}

/// The id of an item inside a document (a goal, meeting, resource, safety-plan
/// item …): a random UUID v4 in its hyphenated lowercase form.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String")]
pub struct ItemId(String);

impl ItemId {
    pub(crate) fn random() -> Self {
        Self(hyphenated(Uuid::new_v4()))
    }

    /// The id as text; it is also the item's key in the document.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The 16 bytes of the UUID, as signed statements carry it.
    pub fn uuid_bytes(&self) -> [u8; 16] {
        // An `ItemId` is only ever built from a parsed UUID.
        Uuid::parse_str(&self.0).map_or([0; 16], |uuid| *uuid.as_bytes())
    }

    /// The id with these 16 UUID bytes.
    pub fn from_uuid_bytes(bytes: [u8; 16]) -> Self {
        Self(hyphenated(Uuid::from_bytes(bytes)))
    }
}

impl FromStr for ItemId {
    type Err = InvalidId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_uuid(s).map(|uuid| Self(hyphenated(uuid)))
    }
}

impl TryFrom<String> for ItemId {
    type Error = InvalidId;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl fmt::Display for ItemId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ItemId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ItemId({})", self.0)
    }
}

/// Text that is not a UUID in hyphenated form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an id must be a UUID in hyphenated form")]
pub struct InvalidId;

/// A UUID's hyphenated lower-case text, written straight into a string of
/// its length (reading a saved directory makes thousands of ids; going
/// through `fmt` costs several times more).
fn hyphenated(uuid: Uuid) -> String {
    let mut buf = [0; uuid::fmt::Hyphenated::LENGTH];
    String::from(&*uuid.hyphenated().encode_lower(&mut buf))
}

fn parse_uuid(s: &str) -> Result<Uuid, InvalidId> {
    if s.len() != 36 {
        return Err(InvalidId);
    }
    Uuid::parse_str(s).map_err(|_| InvalidId)
}

/// What a document holds; it decides the document's schema and, later, who
/// may receive it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum DocumentKind {
    /// A young person's care plan, with its safety plan, meetings and signposts.
    CarePlan,
    /// A young person's own check-ins and notes; private by default.
    Journal,
    /// One organisation's directory of resources.
    ResourceDirectory,
}

impl DocumentKind {
    /// The code stored in the document's header.
    pub fn code(self) -> &'static str {
        match self {
            Self::CarePlan => "care-plan",
            Self::Journal => "journal",
            Self::ResourceDirectory => "resource-directory",
        }
    }

    /// The kind with this header code.
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "care-plan" => Some(Self::CarePlan),
            "journal" => Some(Self::Journal),
            "resource-directory" => Some(Self::ResourceDirectory),
            _ => None,
        }
    }
}

impl fmt::Display for DocumentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_text() {
        let doc = DocumentId::random();
        assert_eq!(doc.to_string().parse::<DocumentId>(), Ok(doc));
        assert_eq!(DocumentId::from_slice(doc.as_bytes()), Some(doc));
        let item = ItemId::random();
        assert_eq!(ItemId::from_uuid_bytes(item.uuid_bytes()), item);
        assert_eq!(item.as_str().parse::<ItemId>(), Ok(item));
    }

    #[test]
    fn item_ids_sort_as_their_bytes_do() {
        let mut ids: Vec<ItemId> = (0..500).map(|_| ItemId::random()).collect();
        // Ids that differ in one nibble each side of a hyphen and of 9/a.
        for text in [
            "00000000-0000-4000-8000-000000000009",
            "00000000-0000-4000-8000-00000000000a",
            "00000000-0000-4000-8000-000000000010",
            "0000000a-0000-4000-8000-000000000000",
            "00000009-ffff-4fff-bfff-ffffffffffff",
        ] {
            ids.push(text.parse().expect("a uuid"));
        }
        let mut by_text = ids.clone();
        by_text.sort();
        ids.sort_by_key(ItemId::uuid_bytes);
        assert_eq!(ids, by_text);
        assert_eq!(
            ItemId::from_uuid_bytes([0xab; 16]).as_str(),
            "abababab-abab-abab-abab-abababababab"
        );
    }

    #[test]
    fn malformed_ids_are_rejected() {
        for bad in [
            "",
            "goal-1",
            "../../etc",
            &"a".repeat(36),
            "00000000000000000000000000000000",
        ] {
            assert_eq!(bad.parse::<ItemId>(), Err(InvalidId), "{bad}");
            assert_eq!(bad.parse::<DocumentId>(), Err(InvalidId), "{bad}");
        }
        assert!(DocumentId::from_slice(&[0; 15]).is_none());
    }

    #[test]
    fn kinds_round_trip_through_codes() {
        for kind in [
            DocumentKind::CarePlan,
            DocumentKind::Journal,
            DocumentKind::ResourceDirectory,
        ] {
            assert_eq!(DocumentKind::from_code(kind.code()), Some(kind));
        }
        assert_eq!(DocumentKind::from_code("plan"), None);
    }
}
