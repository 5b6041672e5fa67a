//! What each side persists between sessions: per (peer, document) the heads
//! both are known to have, and per peer the cursors.

use automerge::ChangeHash;

use super::wire::Cursor;

/// Sync state for one peer and one document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeerDocState {
    /// Heads both sides are known to have.
    pub shared_heads: Vec<ChangeHash>,
    /// Heads this side sent changes up to in an answer, and the cursor of that
    /// answer; they become shared once the peer returns that cursor.
    pub sent: Option<(u64, Vec<ChangeHash>)>,
}

/// What one side keeps about a peer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeerRecord {
    /// As initiator: the peer's cursor from the last complete session.
    pub cursor: Option<Cursor>,
    /// As initiator: this side's clock when that session started; documents
    /// changed after it are offered next time.
    pub synced_clock: u64,
    /// As responder: the highest of this side's cursors the peer has
    /// returned, which proves it received everything sent up to it.
    pub acked_clock: u64,
}

const STATE_VERSION: u8 = 1;
const RECORD_VERSION: u8 = 1;

fn put_uint(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn get_uint(input: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = input.split_first()?;
        *input = rest;
        value |= u64::from(byte & 0x7f).checked_shl(shift)?;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

fn put_heads(out: &mut Vec<u8>, heads: &[ChangeHash]) {
    put_uint(out, heads.len() as u64);
    for head in heads {
        out.extend_from_slice(&head.0);
    }
}

fn get_heads(input: &mut &[u8]) -> Option<Vec<ChangeHash>> {
    let n = usize::try_from(get_uint(input)?).ok()?;
    if n > input.len() / 32 {
        return None;
    }
    let mut heads = Vec::with_capacity(n);
    for _ in 0..n {
        let (head, rest) = input.split_at_checked(32)?;
        *input = rest;
        heads.push(ChangeHash::try_from(head).ok()?);
    }
    Some(heads)
}

impl PeerDocState {
    /// Encodes the state for storage.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![STATE_VERSION];
        put_heads(&mut out, &self.shared_heads);
        match &self.sent {
            Some((cursor, heads)) => {
                out.push(1);
                put_uint(&mut out, *cursor);
                put_heads(&mut out, heads);
            }
            None => out.push(0),
        }
        out
    }

    /// Decodes a stored state; `None` if it is not one.
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        let (&version, mut input) = bytes.split_first()?;
        if version != STATE_VERSION {
            return None;
        }
        let shared_heads = get_heads(&mut input)?;
        let (&flag, rest) = input.split_first()?;
        input = rest;
        let sent = match flag {
            0 => None,
            1 => Some((get_uint(&mut input)?, get_heads(&mut input)?)),
            _ => return None,
        };
        input.is_empty().then_some(Self { shared_heads, sent })
    }

    /// Promotes heads sent in an answer the peer has since acknowledged.
    pub fn promote(&mut self, acked_clock: u64) {
        if let Some((cursor, heads)) = &self.sent
            && *cursor <= acked_clock
        {
            self.shared_heads = heads.clone();
            self.sent = None;
        }
    }
}

impl PeerRecord {
    /// Encodes the record for storage.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![RECORD_VERSION];
        match &self.cursor {
            Some(cursor) => {
                out.push(1);
                out.extend_from_slice(&cursor.epoch);
                put_uint(&mut out, cursor.clock);
            }
            None => out.push(0),
        }
        put_uint(&mut out, self.synced_clock);
        put_uint(&mut out, self.acked_clock);
        out
    }

    /// Decodes a stored record; `None` if it is not one.
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        let (&version, mut input) = bytes.split_first()?;
        if version != RECORD_VERSION {
            return None;
        }
        let (&flag, rest) = input.split_first()?;
        input = rest;
        let cursor = match flag {
            0 => None,
            1 => {
                let (epoch, rest) = input.split_at_checked(16)?;
                input = rest;
                Some(Cursor {
                    epoch: epoch.try_into().ok()?,
                    clock: get_uint(&mut input)?,
                })
            }
            _ => return None,
        };
        let synced_clock = get_uint(&mut input)?;
        let acked_clock = get_uint(&mut input)?;
        input.is_empty().then_some(Self {
            cursor,
            synced_clock,
            acked_clock,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(b: u8) -> ChangeHash {
        ChangeHash([b; 32])
    }

    #[test]
    fn states_and_records_round_trip() {
        let state = PeerDocState {
            shared_heads: vec![hash(1), hash(2)],
            sent: Some((300, vec![hash(3)])),
        };
        assert_eq!(PeerDocState::decode(&state.encode()), Some(state.clone()));
        assert_eq!(
            PeerDocState::decode(&PeerDocState::default().encode()),
            Some(PeerDocState::default())
        );
        let record = PeerRecord {
            cursor: Some(Cursor {
                epoch: [9; 16],
                clock: 1 << 40,
            }),
            synced_clock: 77,
            acked_clock: 12,
        };
        assert_eq!(PeerRecord::decode(&record.encode()), Some(record));
        for cut in 0..state.encode().len() {
            assert_eq!(PeerDocState::decode(&state.encode()[..cut]), None);
        }
        assert_eq!(
            PeerDocState::decode(&[1, 0xff, 0xff, 0xff, 0xff, 0x0f]),
            None
        );
    }

    #[test]
    fn sent_heads_become_shared_once_acknowledged() {
        let mut state = PeerDocState {
            shared_heads: vec![hash(1)],
            sent: Some((10, vec![hash(2)])),
        };
        state.promote(9);
        assert_eq!(state.shared_heads, vec![hash(1)]);
        state.promote(10);
        assert_eq!(state.shared_heads, vec![hash(2)]);
        assert_eq!(state.sent, None);
    }
}
