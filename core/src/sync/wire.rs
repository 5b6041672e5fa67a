//! The sync wire format: versioned binary frames, with limits.
//!
//! Every frame starts with the magic bytes `LYN`, a protocol version byte and
//! a frame type. Integers are unsigned LEB128; byte strings are length-
//! prefixed. Each document entry carries an extension list (type, bytes) so
//! that later versions can add per-change signatures and per-document grants
//! without changing any message already in use: a reader skips extension
//! types it does not know unless the type is marked critical (odd), in which
//! case it refuses the frame. docs/PROTOCOL.md is the normative description;
//! keep the two in step.

use std::fmt;

use crate::{DocumentId, access::ChangeSignature};

/// The magic bytes that start every frame.
pub const MAGIC: &[u8; 3] = b"LYN";
/// The protocol version this build speaks.
pub const PROTOCOL_VERSION: u8 = 1;
/// The largest frame accepted, in bytes.
pub const MAX_FRAME_BYTES: usize = 32 * 1024 * 1024;
/// The most document entries in one frame.
pub const MAX_DOCUMENTS: usize = 10_000;
/// The most extensions on one document entry or frame.
pub const MAX_EXTENSIONS: usize = 64;

/// Document-entry extension: the change signatures that cover the changes
/// in the entry's message (optional, so a peer that does not check
/// signatures may skip it). Payload: a count, then per signature the
/// 32-byte change hash and the 64-byte Ed25519 signature.
pub const EXT_SIGNATURES: u64 = 2;
/// The most signatures in one [`EXT_SIGNATURES`] extension.
pub const MAX_SIGNATURES: usize = 4096;

/// Frame extension: the exchange id. An initiator puts 16 fresh random
/// bytes on every request and a responder returns them on its answer, so
/// that the initiator takes only the answer to the request it just sent —
/// not a late answer to an earlier one, nor one meant for another device,
/// whose cursor would acknowledge changes this device never received.
pub const EXT_EXCHANGE: u64 = 4;
/// The length of an exchange id.
pub const EXCHANGE_ID_BYTES: usize = 16;

const FRAME_REQUEST: u8 = 1;
const FRAME_RESPONSE: u8 = 2;
const FRAME_ERROR: u8 = 3;

/// Where a responder's change log stood when it answered: the responder's
/// epoch (a random id that changes if its store is recreated) and its change
/// clock. The initiator returns it on the next request so the responder
/// sends only documents changed since.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cursor {
    /// The responder's store epoch.
    pub epoch: [u8; 16],
    /// The responder's change clock.
    pub clock: u64,
}

/// An extension on a document entry or frame: a type and opaque bytes.
/// Odd types are critical: a reader that does not know one refuses the frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extension {
    /// The extension type.
    pub kind: u64,
    /// Its payload.
    pub data: Vec<u8>,
}

/// How a responder treated a document the initiator sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocStatus {
    /// Accepted (or nothing to accept).
    Ok,
    /// The message or the changes in it were malformed; nothing was stored.
    Invalid,
    /// The sender may not write or read this document; nothing was stored.
    NotAllowed,
    /// Too large for the responder's limits; nothing was stored.
    TooLarge,
    /// A change's signature was missing or did not verify; nothing was
    /// stored.
    Unsigned,
}

impl DocStatus {
    fn code(self) -> u8 {
        match self {
            Self::Ok => 0,
            Self::Invalid => 1,
            Self::NotAllowed => 2,
            Self::TooLarge => 3,
            Self::Unsigned => 4,
        }
    }

    fn from_code(code: u8) -> Result<Self, WireError> {
        Ok(match code {
            0 => Self::Ok,
            1 => Self::Invalid,
            2 => Self::NotAllowed,
            3 => Self::TooLarge,
            4 => Self::Unsigned,
            _ => return Err(WireError::Malformed("unknown document status")),
        })
    }
}

/// One document's part of a frame: an Automerge sync message (possibly
/// empty, when only a status is reported) and extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocEntry {
    /// The document.
    pub id: DocumentId,
    /// How the sender treated this document's last message (responses only;
    /// `Ok` in requests).
    pub status: DocStatus,
    /// An encoded `automerge::sync::Message`, or empty.
    pub message: Vec<u8>,
    /// Extensions: [`EXT_SIGNATURES`]; unknown optional ones are kept.
    pub extensions: Vec<Extension>,
}

impl DocEntry {
    /// The change signatures the entry carries. A malformed extension is
    /// an error; none is an empty list.
    pub fn signatures(&self) -> Result<Vec<ChangeSignature>, WireError> {
        let mut out = Vec::new();
        for ext in self.extensions.iter().filter(|e| e.kind == EXT_SIGNATURES) {
            let mut r = Reader(&ext.data);
            let n = r.len(MAX_SIGNATURES, "signatures")?;
            for _ in 0..n {
                let hash = automerge::ChangeHash(r.array::<32>()?);
                let signature = r.array::<64>()?;
                out.push(ChangeSignature { hash, signature });
            }
            r.finish()?;
        }
        Ok(out)
    }

    /// The extension carrying `signatures`, or none for an empty list.
    pub fn signatures_extension(signatures: &[ChangeSignature]) -> Option<Extension> {
        if signatures.is_empty() {
            return None;
        }
        let mut w = Writer(Vec::with_capacity(2 + signatures.len() * 96));
        w.uint(signatures.len() as u64);
        for s in signatures {
            w.0.extend_from_slice(&s.hash.0);
            w.0.extend_from_slice(&s.signature);
        }
        Some(Extension {
            kind: EXT_SIGNATURES,
            data: w.0,
        })
    }
}

/// A request from the initiator of a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The cursor from the responder's last complete answer, if any.
    pub cursor: Option<Cursor>,
    /// Sync messages for documents the initiator has news about.
    pub docs: Vec<DocEntry>,
    /// Frame-level extensions.
    pub extensions: Vec<Extension>,
}

impl Request {
    /// The request's exchange id ([`EXT_EXCHANGE`]), if it carries a well-formed one.
    pub fn exchange(&self) -> Option<[u8; EXCHANGE_ID_BYTES]> {
        exchange_of(&self.extensions)
    }
}

/// The responder's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Where the responder's change log stands after this answer.
    pub cursor: Cursor,
    /// Whether documents changed up to the cursor remain to be sent (the
    /// answer was cut at the size limit); the initiator asks again.
    pub more: bool,
    /// Sync messages and statuses.
    pub docs: Vec<DocEntry>,
    /// Frame-level extensions.
    pub extensions: Vec<Extension>,
}

impl Response {
    /// The exchange id the answer returns ([`EXT_EXCHANGE`]), if it carries a well-formed one.
    pub fn exchange(&self) -> Option<[u8; EXCHANGE_ID_BYTES]> {
        exchange_of(&self.extensions)
    }
}

/// The frame extension carrying an exchange id.
pub fn exchange_extension(id: [u8; EXCHANGE_ID_BYTES]) -> Extension {
    Extension {
        kind: EXT_EXCHANGE,
        data: id.to_vec(),
    }
}

fn exchange_of(extensions: &[Extension]) -> Option<[u8; EXCHANGE_ID_BYTES]> {
    extensions
        .iter()
        .find(|e| e.kind == EXT_EXCHANGE)
        .and_then(|e| e.data.as_slice().try_into().ok())
}

/// Error codes a peer sends in an error frame (and the server in its JSON
/// errors). See docs/PROTOCOL.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// The frame could not be decoded.
    Malformed,
    /// The peer speaks another protocol version.
    UnsupportedVersion,
    /// The frame is larger than allowed.
    TooLarge,
    /// The sender is not known or its signature is wrong.
    Unauthorized,
    /// The sender may not do this.
    Forbidden,
    /// Too many requests; try later.
    RateLimited,
    /// The responder failed; try later.
    Internal,
}

impl ErrorCode {
    /// The numeric code.
    pub fn code(self) -> u16 {
        match self {
            Self::Malformed => 1,
            Self::UnsupportedVersion => 2,
            Self::TooLarge => 3,
            Self::Unauthorized => 4,
            Self::Forbidden => 5,
            Self::RateLimited => 6,
            Self::Internal => 7,
        }
    }

    /// The short name used in JSON errors.
    pub fn name(self) -> &'static str {
        match self {
            Self::Malformed => "malformed",
            Self::UnsupportedVersion => "unsupported_version",
            Self::TooLarge => "too_large",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::RateLimited => "rate_limited",
            Self::Internal => "internal",
        }
    }

    fn from_code(code: u16) -> Self {
        match code {
            1 => Self::Malformed,
            2 => Self::UnsupportedVersion,
            3 => Self::TooLarge,
            4 => Self::Unauthorized,
            5 => Self::Forbidden,
            6 => Self::RateLimited,
            _ => Self::Internal,
        }
    }
}

/// A frame could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// Not a Lynchpin frame.
    #[error("not a Lynchpin sync frame")]
    NotAFrame,
    /// The peer speaks another protocol version.
    #[error("protocol version {found} is not supported (this peer speaks {PROTOCOL_VERSION})")]
    UnsupportedVersion {
        /// The version in the frame.
        found: u8,
    },
    /// A limit was exceeded.
    #[error("frame exceeds a limit: {0}")]
    TooLarge(&'static str),
    /// The frame is cut short or inconsistent.
    #[error("malformed frame: {0}")]
    Malformed(&'static str),
    /// The frame carries a critical extension this peer does not know.
    #[error("unknown critical extension {0}")]
    UnknownCriticalExtension(u64),
    /// The peer answered with an error frame.
    #[error("peer reported {code:?}: {message}")]
    Peer {
        /// The error code.
        code: ErrorCode,
        /// The peer's message.
        message: String,
    },
}

impl WireError {
    /// The error code to report to the peer for this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::UnsupportedVersion { .. } => ErrorCode::UnsupportedVersion,
            Self::TooLarge(_) => ErrorCode::TooLarge,
            Self::Peer { code, .. } => *code,
            _ => ErrorCode::Malformed,
        }
    }
}

struct Writer(Vec<u8>);

impl Writer {
    fn new(frame: u8) -> Self {
        let mut buf = Vec::with_capacity(64);
        buf.extend_from_slice(MAGIC);
        buf.push(PROTOCOL_VERSION);
        buf.push(frame);
        Self(buf)
    }

    fn uint(&mut self, mut value: u64) {
        loop {
            let byte = (value & 0x7f) as u8;
            value >>= 7;
            if value == 0 {
                self.0.push(byte);
                return;
            }
            self.0.push(byte | 0x80);
        }
    }

    fn bytes(&mut self, bytes: &[u8]) {
        self.uint(bytes.len() as u64);
        self.0.extend_from_slice(bytes);
    }

    fn extensions(&mut self, extensions: &[Extension]) {
        self.uint(extensions.len() as u64);
        for ext in extensions {
            self.uint(ext.kind);
            self.bytes(&ext.data);
        }
    }

    fn docs(&mut self, docs: &[DocEntry]) {
        self.uint(docs.len() as u64);
        for doc in docs {
            self.0.extend_from_slice(doc.id.as_bytes());
            self.0.push(doc.status.code());
            self.bytes(&doc.message);
            self.extensions(&doc.extensions);
        }
    }

    fn cursor(&mut self, cursor: &Cursor) {
        self.0.extend_from_slice(&cursor.epoch);
        self.uint(cursor.clock);
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        if n > self.0.len() {
            return Err(WireError::Malformed("cut short"));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn byte(&mut self) -> Result<u8, WireError> {
        self.take(1)?
            .first()
            .copied()
            .ok_or(WireError::Malformed("cut short"))
    }

    fn uint(&mut self) -> Result<u64, WireError> {
        let mut value: u64 = 0;
        for shift in (0..64).step_by(7) {
            let byte = self.byte()?;
            let part = u64::from(byte & 0x7f);
            if shift == 63 && part > 1 {
                return Err(WireError::Malformed("integer overflow"));
            }
            value |= part << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(WireError::Malformed("integer overflow"))
    }

    fn len(&mut self, max: usize, what: &'static str) -> Result<usize, WireError> {
        let n = usize::try_from(self.uint()?).map_err(|_| WireError::TooLarge(what))?;
        if n > max {
            return Err(WireError::TooLarge(what));
        }
        Ok(n)
    }

    fn bytes(&mut self) -> Result<Vec<u8>, WireError> {
        let n = self.len(MAX_FRAME_BYTES, "byte string")?;
        Ok(self.take(n)?.to_vec())
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], WireError> {
        self.take(N)?
            .try_into()
            .map_err(|_| WireError::Malformed("cut short"))
    }

    fn extensions(&mut self) -> Result<Vec<Extension>, WireError> {
        let n = self.len(MAX_EXTENSIONS, "extensions")?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let kind = self.uint()?;
            let data = self.bytes()?;
            // Keep optional ones (the caller reads the types it knows);
            // refuse critical ones, of which version 1 defines none.
            if kind % 2 == 1 {
                return Err(WireError::UnknownCriticalExtension(kind));
            }
            out.push(Extension { kind, data });
        }
        Ok(out)
    }

    fn docs(&mut self) -> Result<Vec<DocEntry>, WireError> {
        let n = self.len(MAX_DOCUMENTS, "documents")?;
        let mut out = Vec::with_capacity(n.min(1024));
        for _ in 0..n {
            let id = DocumentId::from_slice(&self.array::<16>()?)
                .ok_or(WireError::Malformed("document id"))?;
            let status = DocStatus::from_code(self.byte()?)?;
            let message = self.bytes()?;
            let extensions = self.extensions()?;
            out.push(DocEntry {
                id,
                status,
                message,
                extensions,
            });
        }
        Ok(out)
    }

    fn cursor(&mut self) -> Result<Cursor, WireError> {
        Ok(Cursor {
            epoch: self.array::<16>()?,
            clock: self.uint()?,
        })
    }

    fn finish(&self) -> Result<(), WireError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(WireError::Malformed("trailing bytes"))
        }
    }
}

/// Checks the frame header and returns the frame type and the payload.
fn open_frame(bytes: &[u8]) -> Result<(u8, Reader<'_>), WireError> {
    if bytes.len() > MAX_FRAME_BYTES {
        return Err(WireError::TooLarge("frame"));
    }
    let mut r = Reader(bytes);
    if r.take(3).map_err(|_| WireError::NotAFrame)? != MAGIC {
        return Err(WireError::NotAFrame);
    }
    let version = r.byte().map_err(|_| WireError::NotAFrame)?;
    if version != PROTOCOL_VERSION {
        return Err(WireError::UnsupportedVersion { found: version });
    }
    let frame = r.byte()?;
    if frame == FRAME_ERROR {
        let code = ErrorCode::from_code(u16::try_from(r.uint()?).unwrap_or(u16::MAX));
        let message = String::from_utf8_lossy(&r.bytes()?)
            .chars()
            .take(200)
            .collect();
        return Err(WireError::Peer { code, message });
    }
    Ok((frame, r))
}

impl Request {
    /// Encodes the request as a frame.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new(FRAME_REQUEST);
        match &self.cursor {
            Some(cursor) => {
                w.0.push(1);
                w.cursor(cursor);
            }
            None => w.0.push(0),
        }
        w.docs(&self.docs);
        w.extensions(&self.extensions);
        w.0
    }

    /// Decodes a request frame.
    pub fn decode(bytes: &[u8]) -> Result<Self, WireError> {
        let (frame, mut r) = open_frame(bytes)?;
        if frame != FRAME_REQUEST {
            return Err(WireError::Malformed("expected a request"));
        }
        let cursor = match r.byte()? {
            0 => None,
            1 => Some(r.cursor()?),
            _ => return Err(WireError::Malformed("cursor flag")),
        };
        let docs = r.docs()?;
        let extensions = r.extensions()?;
        r.finish()?;
        Ok(Self {
            cursor,
            docs,
            extensions,
        })
    }
}

impl Response {
    /// Encodes the response as a frame.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new(FRAME_RESPONSE);
        w.cursor(&self.cursor);
        w.0.push(u8::from(self.more));
        w.docs(&self.docs);
        w.extensions(&self.extensions);
        w.0
    }

    /// Decodes a response frame (an error frame decodes as [`WireError::Peer`]).
    pub fn decode(bytes: &[u8]) -> Result<Self, WireError> {
        let (frame, mut r) = open_frame(bytes)?;
        if frame != FRAME_RESPONSE {
            return Err(WireError::Malformed("expected a response"));
        }
        let cursor = r.cursor()?;
        let more = match r.byte()? {
            0 => false,
            1 => true,
            _ => return Err(WireError::Malformed("more flag")),
        };
        let docs = r.docs()?;
        let extensions = r.extensions()?;
        r.finish()?;
        Ok(Self {
            cursor,
            more,
            docs,
            extensions,
        })
    }
}

/// Encodes an error frame.
pub fn encode_error(code: ErrorCode, message: &str) -> Vec<u8> {
    let mut w = Writer::new(FRAME_ERROR);
    w.uint(u64::from(code.code()));
    w.bytes(message.as_bytes());
    w.0
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.clock, hex::encode(&self.epoch[..4]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(byte: u8) -> DocEntry {
        DocEntry {
            id: DocumentId::from_slice(&[byte; 16]).unwrap(),
            status: DocStatus::Ok,
            message: vec![0x43, 1, 2, 3],
            extensions: vec![Extension {
                kind: 2,
                data: vec![9; 70],
            }],
        }
    }

    #[test]
    fn frames_round_trip() {
        let request = Request {
            cursor: Some(Cursor {
                epoch: [7; 16],
                clock: 300,
            }),
            docs: vec![doc(1), doc(2)],
            extensions: vec![],
        };
        assert_eq!(Request::decode(&request.encode()).unwrap(), request);
        let empty = Request {
            cursor: None,
            docs: vec![],
            extensions: vec![],
        };
        assert_eq!(empty.encode().len(), 8);
        assert_eq!(Request::decode(&empty.encode()).unwrap(), empty);
        let response = Response {
            cursor: Cursor {
                epoch: [1; 16],
                clock: u64::MAX,
            },
            more: true,
            docs: vec![DocEntry {
                status: DocStatus::NotAllowed,
                ..doc(3)
            }],
            extensions: vec![],
        };
        assert_eq!(Response::decode(&response.encode()).unwrap(), response);
    }

    #[test]
    fn bad_frames_are_errors_not_panics() {
        let good = Request {
            cursor: Some(Cursor {
                epoch: [7; 16],
                clock: 1,
            }),
            docs: vec![doc(1)],
            extensions: vec![],
        }
        .encode();
        for cut in 0..good.len() {
            assert!(Request::decode(&good[..cut]).is_err(), "cut at {cut}");
        }
        let mut trailing = good.clone();
        trailing.push(0);
        assert_eq!(
            Request::decode(&trailing),
            Err(WireError::Malformed("trailing bytes"))
        );
        assert_eq!(
            Request::decode(b"GET / HTTP/1.1"),
            Err(WireError::NotAFrame)
        );
        let mut v2 = good.clone();
        v2[3] = 2;
        assert_eq!(
            Request::decode(&v2),
            Err(WireError::UnsupportedVersion { found: 2 })
        );
        // A document count far beyond the limit.
        let mut huge = Writer::new(FRAME_REQUEST);
        huge.0.push(0);
        huge.uint(1 << 40);
        assert_eq!(
            Request::decode(&huge.0),
            Err(WireError::TooLarge("documents"))
        );
        // A length that runs past the end.
        let mut long = Writer::new(FRAME_REQUEST);
        long.0.push(0);
        long.uint(1);
        long.0.extend_from_slice(&[1; 16]);
        long.0.push(0);
        long.uint(1000);
        assert!(Request::decode(&long.0).is_err());
        // Ten-byte integers that overflow.
        let mut overflow = Writer::new(FRAME_REQUEST);
        overflow.0.push(0);
        overflow.0.extend_from_slice(&[0xff; 11]);
        assert!(Request::decode(&overflow.0).is_err());
        // Random bytes after a valid header never panic.
        let mut rng = crate::generate::Rng::new(3);
        for _ in 0..2_000 {
            let mut bytes = Writer::new(FRAME_REQUEST).0;
            for _ in 0..rng.below(64) {
                bytes.push(rng.next_u64() as u8);
            }
            let _ = Request::decode(&bytes);
            let _ = Response::decode(&bytes);
        }
    }

    #[test]
    fn critical_extensions_are_refused_and_optional_ones_kept() {
        let mut entry = doc(1);
        entry.extensions = vec![Extension {
            kind: 3,
            data: vec![],
        }];
        let request = Request {
            cursor: None,
            docs: vec![entry],
            extensions: vec![],
        };
        assert_eq!(
            Request::decode(&request.encode()),
            Err(WireError::UnknownCriticalExtension(3))
        );
    }

    #[test]
    fn error_frames_decode_as_peer_errors() {
        let frame = encode_error(ErrorCode::Unauthorized, "unknown device");
        assert_eq!(
            Response::decode(&frame),
            Err(WireError::Peer {
                code: ErrorCode::Unauthorized,
                message: "unknown device".into()
            })
        );
    }
}
