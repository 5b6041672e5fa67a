//! Observers: the app hears which document changed after each stored
//! change, whether it came from this device, an import or a sync.
//!
//! Built on the core's change listeners (`lynchpin_core::Store::on_change`):
//! the store notifies after every stored change, so no call here has to
//! remember to. Subscribing delivers the current state first (one
//! `on_update` per document in scope, before `subscribe` returns) and
//! returns a [`Subscription`]; the observer stops being called when that is
//! dropped (Kotlin: `close()`; Swift: released; Python: deleted) or
//! cancelled.

use std::{
    panic::{AssertUnwindSafe, catch_unwind},
    sync::{Arc, Mutex, PoisonError, Weak},
};

use lynchpin_core as lc;

use crate::{LynchpinError, Store, types::document_id};

/// Implemented by the app to hear about changes.
///
/// `on_update` runs on the thread that made the change (a UI thread, a
/// sync worker …), after the store's lock is released, and the call that
/// made the change returns only after it: keep it short, and hand work to
/// your own thread or dispatcher. Reading the store from it is allowed; an
/// exception thrown from it is logged and otherwise ignored.
#[uniffi::export(foreign)]
pub trait DocumentObserver: Send + Sync {
    /// A document changed (or, right after subscribing, is there to be
    /// shown): re-read what you show of it.
    fn on_update(&self, document: String);
}

/// A live subscription. The observer is called until this is dropped or
/// cancelled.
#[derive(uniffi::Object)]
pub struct Subscription {
    store: Weak<lc::Store>,
    listener: Mutex<Option<lc::ListenerId>>,
}

#[uniffi::export]
impl Subscription {
    /// Stops the subscription now (dropping it does the same).
    pub fn cancel(&self) {
        let listener = self
            .listener
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let (Some(listener), Some(store)) = (listener, self.store.upgrade()) {
            store.remove_listener(listener);
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.cancel();
    }
}

/// Calls the foreign observer; a failure on the foreign side must not
/// unwind into the store call that made the change.
fn deliver(observer: &dyn DocumentObserver, document: &lc::DocumentId) {
    let id = document.to_string();
    if catch_unwind(AssertUnwindSafe(|| observer.on_update(id))).is_err() {
        tracing::warn!(document = %document, "a document observer failed");
    }
}

#[uniffi::export]
impl Store {
    /// Calls `observer` whenever `document` changes, or — with
    /// `null`/`None` — whenever any document changes (new ones arriving by
    /// sync included). It is first called once for the document (or for
    /// each document on the device) before this returns.
    ///
    /// The store keeps the observer until the subscription ends: if the
    /// observer holds the store, end the subscription to release both.
    pub fn subscribe(
        &self,
        document: Option<String>,
        observer: Arc<dyn DocumentObserver>,
    ) -> Result<Arc<Subscription>, LynchpinError> {
        let only = document
            .as_deref()
            .map(|d| document_id("document", d))
            .transpose()?;
        let current = match only {
            Some(id) => {
                self.inner.kind(&id)?;
                vec![id]
            }
            None => self.inner.documents()?.into_iter().map(|d| d.id).collect(),
        };
        let listening = observer.clone();
        let listener = self.inner.on_change(move |changed| {
            if only.is_none_or(|id| id == *changed) {
                deliver(listening.as_ref(), changed);
            }
        });
        let subscription = Arc::new(Subscription {
            store: Arc::downgrade(&self.inner),
            listener: Mutex::new(Some(listener)),
        });
        for id in &current {
            deliver(observer.as_ref(), id);
        }
        Ok(subscription)
    }
}
