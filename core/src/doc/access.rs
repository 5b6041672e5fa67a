//! Grant statements inside a document: the root map `@access`, from the
//! hex SHA-256 of each statement to its bytes. Statements are only ever
//! added; which of them count is decided by [`crate::access::AccessList`].

use automerge::{ObjType, ROOT, ReadDoc, ScalarValue, Value, transaction::Transactable};

use crate::{Error, access::Grant};

/// The root key of the statements map.
const KEY: &str = "@access";

/// Adds a statement (creating the map on a new document).
pub(crate) fn add<T: Transactable + ReadDoc>(tx: &mut T, grant: &Grant) -> Result<(), Error> {
    let map = match tx.get(ROOT, KEY)? {
        Some((Value::Object(ObjType::Map), id)) => id,
        _ => tx.put_object(ROOT, KEY, ObjType::Map)?,
    };
    tx.put(
        &map,
        hex::encode(grant.hash()),
        ScalarValue::Bytes(grant.encode()),
    )?;
    Ok(())
}

/// Every well-formed, correctly signed statement in the document, including
/// values hidden by a concurrent write to the same key.
pub(crate) fn statements<D: ReadDoc>(doc: &D) -> Vec<Grant> {
    statements_checked(doc).0
}

/// [`statements`], and how many values under `@access` are not statements.
pub(crate) fn statements_checked<D: ReadDoc>(doc: &D) -> (Vec<Grant>, usize) {
    let mut out = Vec::new();
    let mut malformed = 0;
    let Ok(maps) = doc.get_all(ROOT, KEY) else {
        return (out, 1);
    };
    for (value, map) in maps {
        if !matches!(value, Value::Object(ObjType::Map)) {
            malformed += 1;
            continue;
        }
        for key in doc.keys(&map) {
            let Ok(values) = doc.get_all(&map, &key) else {
                continue;
            };
            for (value, _) in values {
                // Bounded: past the limit the caller refuses the document.
                if out.len() + malformed > crate::access::MAX_STATEMENTS {
                    return (out, malformed);
                }
                match value {
                    Value::Scalar(scalar) => match scalar.as_ref() {
                        ScalarValue::Bytes(bytes) => match Grant::decode(bytes) {
                            Ok(grant) => out.push(grant),
                            Err(_) => malformed += 1,
                        },
                        _ => malformed += 1,
                    },
                    Value::Object(_) => malformed += 1,
                }
            }
        }
    }
    (out, malformed)
}
