//! The responder's side: one request in, one response out, with everything
//! needed to continue persisted by the host in between.

use std::collections::HashMap;

use super::{
    DocOutcome, Host, RESPONSE_BUDGET_BYTES, SyncError, entry_for, generate_for, receive,
    session_state,
    wire::{Cursor, DocEntry, DocStatus, Request, Response, exchange_extension},
};
use crate::{DeviceId, DocumentId};

/// Answers one request from `peer`. A malformed request is an error (the
/// transport reports it to the peer) and changes nothing.
pub fn respond<H: Host>(
    host: &mut H,
    peer: &DeviceId,
    request: &[u8],
) -> Result<Vec<u8>, H::Error> {
    let request = Request::decode(request).map_err(SyncError::from)?;
    // The answer returns the request's exchange id, so that the initiator
    // can tell it from any other answer.
    let extensions: Vec<_> = request
        .exchange()
        .map(exchange_extension)
        .into_iter()
        .collect();
    let epoch = host.epoch()?;
    let mut record = host.load_peer(peer)?;
    // The cursor the peer returns acknowledges every answer up to it.
    let after = match request.cursor {
        Some(Cursor { epoch: e, clock }) if e == epoch => {
            if clock > record.acked_clock {
                record.acked_clock = clock;
                host.store_peer(peer, &record)?;
            }
            clock
        }
        _ => 0,
    };

    let mut states = HashMap::new();
    let mut docs: Vec<DocEntry> = Vec::new();
    let mut statuses: HashMap<DocumentId, DocStatus> = HashMap::new();
    for entry in request.docs {
        if !host.may_sync(peer, &entry.id)? {
            statuses.insert(entry.id, DocStatus::NotAllowed);
            continue;
        }
        let mut persisted = host.load_state(peer, &entry.id)?;
        persisted.promote(record.acked_clock);
        let mut state = session_state(&persisted);
        let Ok(signatures) = entry.signatures() else {
            statuses.insert(entry.id, DocStatus::Invalid);
            continue;
        };
        let (ok, outcome) = host.with_document(peer, &entry.id, &signatures, |doc| {
            receive(doc, &mut state, &entry.message)
        })?;
        let status = match (ok, outcome) {
            (false, _) => DocStatus::Invalid,
            (true, DocOutcome::Rejected(status)) => status,
            (true, _) => DocStatus::Ok,
        };
        // Changes that could not be applied yet were not stored: answer from
        // what both sides were known to hold, so the initiator sees they
        // did not arrive and offers them again.
        if status == DocStatus::Ok && outcome != DocOutcome::Incomplete {
            persisted.shared_heads = state.shared_heads.clone();
            states.insert(entry.id, (persisted, state));
        }
        statuses.insert(entry.id, status);
    }

    let now = host.clock()?;
    let mut order: Vec<DocumentId> = statuses.keys().copied().collect();
    order.sort();
    let answered: std::collections::HashSet<DocumentId> = order.iter().copied().collect();
    let changed: Vec<(DocumentId, u64)> = host
        .changed(peer, after, now)?
        .into_iter()
        .filter(|(id, _)| !answered.contains(id))
        .collect();

    let mut size = 0usize;
    let mut cursor = now;
    let mut more = false;
    let mut to_store = Vec::new();
    for (id, clock) in order
        .into_iter()
        .map(|id| (id, None))
        .chain(changed.into_iter().map(|(id, clock)| (id, Some(clock))))
    {
        if let Some(clock) = clock
            && size >= RESPONSE_BUDGET_BYTES
        {
            // Everything up to the previous document is in; the peer asks again.
            more = true;
            cursor = clock.saturating_sub(1);
            break;
        }
        let status = statuses.get(&id).copied().unwrap_or(DocStatus::Ok);
        let entry = if status == DocStatus::Ok {
            let (mut persisted, mut state) = match states.remove(&id) {
                Some(pair) => pair,
                None => {
                    let mut persisted = host.load_state(peer, &id)?;
                    persisted.promote(record.acked_clock);
                    let state = session_state(&persisted);
                    (persisted, state)
                }
            };
            let generated = generate_for(host, peer, &id, &mut state)?;
            if let Some(generated) = &generated
                && !generated.message.changes.is_empty()
            {
                persisted.sent = Some((u64::MAX, generated.heads.clone()));
            }
            to_store.push((id, persisted));
            match generated {
                Some(generated) => entry_for(host, peer, id, generated)?,
                None => continue,
            }
        } else {
            DocEntry {
                id,
                status,
                message: Vec::new(),
                extensions: Vec::new(),
            }
        };
        size += entry.message.len() + 32;
        docs.push(entry);
    }
    // What was sent counts as received once the peer returns this cursor.
    for (id, mut persisted) in to_store {
        if let Some((sent_cursor, _)) = &mut persisted.sent
            && *sent_cursor == u64::MAX
        {
            *sent_cursor = cursor;
        }
        host.store_state(peer, &id, &persisted)?;
    }
    let response = Response {
        cursor: Cursor {
            epoch,
            clock: cursor,
        },
        more,
        docs,
        extensions,
    };
    Ok(response.encode())
}
