//! Change listeners: an app (or the bindings) learns which document changed
//! after each change is stored, whether it came from a local edit, an import
//! or a sync session.
//!
//! Changed ids are collected while the store's lock is held and delivered
//! when it is released (see `Locked`), so a listener may call back into the
//! store. What changed is not part of the notification: a listener re-reads
//! what it shows.

use std::{
    collections::BTreeSet,
    mem,
    ops::{Deref, DerefMut},
    sync::{Arc, Mutex, MutexGuard, PoisonError},
};

use super::{Inner, Store};
use crate::DocumentId;

type Listener = Arc<dyn Fn(&DocumentId) + Send + Sync>;

/// Names a listener added with [`Store::on_change`], to remove it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ListenerId(u64);

/// The listeners of one store.
#[derive(Default)]
pub(super) struct Listeners {
    next: Mutex<(u64, Vec<(u64, Listener)>)>,
}

impl Listeners {
    fn entries(&self) -> MutexGuard<'_, (u64, Vec<(u64, Listener)>)> {
        // A listener never runs under this lock, so a poisoned lock still
        // holds a consistent list.
        self.next.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn notify(&self, changed: &BTreeSet<DocumentId>) {
        let listeners: Vec<Listener> = self.entries().1.iter().map(|(_, l)| l.clone()).collect();
        for id in changed {
            for listener in &listeners {
                listener(id);
            }
        }
    }
}

/// The store's lock. When it is released, the listeners hear about every
/// document whose changes were stored while it was held.
pub(super) struct Locked<'a> {
    guard: Option<MutexGuard<'a, Inner>>,
    listeners: &'a Listeners,
}

impl<'a> Locked<'a> {
    pub(super) fn new(guard: MutexGuard<'a, Inner>, listeners: &'a Listeners) -> Self {
        Self {
            guard: Some(guard),
            listeners,
        }
    }
}

impl Deref for Locked<'_> {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        // `guard` is `None` only inside `drop`.
        self.guard.as_deref().unwrap_or_else(|| unreachable!())
    }
}

impl DerefMut for Locked<'_> {
    fn deref_mut(&mut self) -> &mut Inner {
        self.guard.as_deref_mut().unwrap_or_else(|| unreachable!())
    }
}

impl Drop for Locked<'_> {
    fn drop(&mut self) {
        let Some(mut guard) = self.guard.take() else {
            return;
        };
        let changed = mem::take(&mut guard.changed);
        drop(guard);
        if !changed.is_empty() {
            self.listeners.notify(&changed);
        }
    }
}

impl Store {
    /// Calls `listener` with a document's id after changes to it are
    /// stored: this device's edits (grants included), imports, and changes
    /// received in a sync session. A call that stores changes of several
    /// documents notifies once per document, after it has finished.
    ///
    /// The listener runs on the thread that made the change, after the
    /// store's lock is released: it may read the store, but should be quick,
    /// since the call that made the change returns only after it.
    ///
    /// ```
    /// # use std::sync::{Arc, Mutex};
    /// # use lynchpin_core::{Store, StoreKey};
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let dir = tempfile::tempdir()?;
    /// let store = Store::open(dir.path().join("device.lynchpin"), &StoreKey::new([7; 32]))?;
    /// let seen = Arc::new(Mutex::new(Vec::new()));
    /// let log = seen.clone();
    /// let listener = store.on_change(move |id| log.lock().unwrap().push(*id));
    /// let journal = store.create_journal()?;
    /// assert_eq!(*seen.lock().unwrap(), [journal]);
    /// store.remove_listener(listener);
    /// # Ok(()) }
    /// ```
    pub fn on_change(&self, listener: impl Fn(&DocumentId) + Send + Sync + 'static) -> ListenerId {
        let mut entries = self.listeners.entries();
        entries.0 += 1;
        let id = entries.0;
        entries.1.push((id, Arc::new(listener)));
        ListenerId(id)
    }

    /// Removes a listener; returns whether it was there. It is not called
    /// after this returns, except by a notification already under way on
    /// another thread.
    pub fn remove_listener(&self, listener: ListenerId) -> bool {
        let mut entries = self.listeners.entries();
        let before = entries.1.len();
        entries.1.retain(|(id, _)| *id != listener.0);
        entries.1.len() != before
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use crate::{CarePlanDetails, DocumentId, PlanStatus, SafetyList, Store, StoreKey, SyncScope};

    fn open(dir: &tempfile::TempDir, name: &str) -> Store {
        Store::open(dir.path().join(name), &StoreKey::new([3; 32])).unwrap()
    }

    fn details() -> CarePlanDetails {
        CarePlanDetails {
            subject_name: "Sam".into(),
            status: PlanStatus::Active,
            period_start: None,
            period_end: None,
            next_review: None,
        }
    }

    fn recorder(store: &Store) -> (Arc<Mutex<Vec<DocumentId>>>, super::ListenerId) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let id = store.on_change(move |doc| log.lock().unwrap().push(*doc));
        (seen, id)
    }

    #[test]
    fn edits_notify_and_failed_edits_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir, "a");
        let (seen, listener) = recorder(&store);
        let plan = store.create_care_plan(&details()).unwrap();
        store
            .add_safety_item(&plan, SafetyList::WarningSigns, "Not sleeping")
            .unwrap();
        assert!(
            store
                .add_safety_item(&plan, SafetyList::WarningSigns, " ")
                .is_err()
        );
        store.care_plan(&plan).unwrap();
        assert_eq!(*seen.lock().unwrap(), [plan, plan]);
        assert!(store.remove_listener(listener));
        assert!(!store.remove_listener(listener));
        store.set_code_word(&plan, Some("pineapple")).unwrap();
        assert_eq!(seen.lock().unwrap().len(), 2);
    }

    #[test]
    fn imports_and_sync_notify_and_listeners_may_read_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let a = open(&dir, "a");
        let b = Arc::new(open(&dir, "b"));
        let plan = a.create_care_plan(&details()).unwrap();
        a.grant(&plan, b.device_id(), crate::Role::Writer).unwrap();

        let names = Arc::new(Mutex::new(Vec::new()));
        let (log, reader) = (names.clone(), Arc::downgrade(&b));
        b.on_change(move |id| {
            let store = reader.upgrade().unwrap();
            log.lock()
                .unwrap()
                .push(store.care_plan(id).unwrap().details.subject_name);
        });
        let report = b
            .sync_with(a.device_id(), SyncScope::Granted, |request| {
                a.respond_sync(b.device_id(), &request, &SyncScope::Granted)
            })
            .unwrap();
        assert_eq!(report.documents_received, 1);
        assert_eq!(*names.lock().unwrap(), ["Sam"]);

        a.update_care_plan(
            &plan,
            &CarePlanDetails {
                subject_name: "Sam R".into(),
                ..details()
            },
        )
        .unwrap();
        b.import(&a.export(&plan).unwrap()).unwrap();
        assert_eq!(*names.lock().unwrap(), ["Sam", "Sam R"]);
    }
}
