//! One device of the care team: its encrypted store, its key, its
//! enrolment with the relay, and whether it has a connection right now.
//!
//! A real app keeps the 32-byte store key in the Android Keystore or the iOS
//! Keychain. The demo generates a random key per device and, only when the
//! run is kept (`--keep DIR`), writes it beside the store as
//! `<device>.key` (64 hex digits) so that the stores can be opened again
//! for inspection: the kept folder stands in for the keystore and says so in
//! its `README.txt`.

use std::{
    cell::Cell,
    error::Error,
    fmt::Write as _,
    fs,
    path::{Path, PathBuf},
};

use lynchpin_core::{DeviceId, Error as CoreError, Store, StoreKey, SyncServer, sync::SyncReport};

use crate::relay::Relay;

/// The address a device uses while it has no connection: nothing listens on
/// port 0, so every request fails to connect, as with no signal at all.
const NO_CONNECTION: &str = "http://127.0.0.1:0";

/// Who a device belongs to and where its files go.
#[derive(Debug, Clone, Copy)]
pub struct Profile {
    /// How the timeline names the device ("Alex's phone").
    pub name: &'static str,
    /// Its owner as the plan names them ("Alex").
    pub person: &'static str,
    /// The file name of its store and key, without extension.
    pub file: &'static str,
}

/// A device with its own encrypted store.
pub struct Device {
    /// Who it belongs to.
    pub profile: Profile,
    /// Its store.
    pub store: Store,
    relay: Option<SyncServer>,
    online: Cell<bool>,
}

/// What a sync attempt did.
pub enum Synced {
    /// A whole session with the relay.
    Report(SyncReport),
    /// No connection: nothing was exchanged and nothing was lost.
    Offline,
}

impl Device {
    /// Opens a new store in `dir` under a fresh random key; with `keep_key`,
    /// writes the key beside it (see the module docs).
    pub fn open(dir: &Path, profile: Profile, keep_key: bool) -> Result<Self, Box<dyn Error>> {
        let key = StoreKey::generate()?;
        if keep_key {
            write_key(&key_path(dir, profile.file), &key)?;
        }
        let store = Store::open(store_path(dir, profile.file), &key)
            .map_err(|e| format!("opening {}'s store: {e}", profile.name))?;
        Ok(Self {
            profile,
            store,
            relay: None,
            online: Cell::new(true),
        })
    }

    /// This device's id.
    pub fn id(&self) -> DeviceId {
        self.store.device_id()
    }

    /// Its name in the timeline.
    pub fn name(&self) -> &'static str {
        self.profile.name
    }

    /// The first characters of its id, enough to tell devices apart.
    pub fn short_id(&self) -> String {
        self.id().to_string().chars().take(8).collect()
    }

    /// Enrols with the relay using a one-time invite code.
    pub fn enroll(&mut self, relay: &Relay, invite: &str) -> Result<(), Box<dyn Error>> {
        let server = self
            .store
            .enroll(&relay.url(), invite)
            .map_err(|e| format!("enrolling {}: {e}", self.profile.name))?;
        self.relay = Some(server);
        Ok(())
    }

    /// The relay this device enrolled with.
    pub fn relay(&self) -> Result<&SyncServer, Box<dyn Error>> {
        self.relay
            .as_ref()
            .ok_or_else(|| format!("{} is not enrolled", self.profile.name).into())
    }

    /// Loses (`false`) or regains (`true`) its connection.
    pub fn set_online(&self, online: bool) {
        self.online.set(online);
    }

    /// Whether it has a connection.
    pub fn is_online(&self) -> bool {
        self.online.get()
    }

    /// Syncs with the relay if it can. Without a connection the store's
    /// sync fails with [`CoreError::Offline`], which is reported, not
    /// raised: offline is normal. Any other failure is an error.
    pub fn sync(&self) -> Result<Synced, Box<dyn Error>> {
        let relay = self.relay()?;
        let unreachable;
        let server = if self.is_online() {
            relay
        } else {
            unreachable = SyncServer {
                url: NO_CONNECTION.into(),
                id: relay.id,
            };
            &unreachable
        };
        match self.store.sync(server) {
            Ok(report) => Ok(Synced::Report(report)),
            Err(CoreError::Offline) => Ok(Synced::Offline),
            Err(e) => Err(format!("{} could not sync: {e}", self.profile.name).into()),
        }
    }
}

/// The store file of a device in `dir`.
pub fn store_path(dir: &Path, file: &str) -> PathBuf {
    dir.join(format!("{file}.lynchpin"))
}

/// The key file of a device in a kept folder.
pub fn key_path(dir: &Path, file: &str) -> PathBuf {
    dir.join(format!("{file}.key"))
}

/// Writes the key as 64 hex digits, readable by its owner only.
fn write_key(path: &Path, key: &StoreKey) -> Result<(), Box<dyn Error>> {
    let mut hex = String::with_capacity(65);
    for byte in key.as_bytes() {
        write!(hex, "{byte:02x}")?;
    }
    hex.push('\n');
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    std::io::Write::write_all(&mut options.open(path)?, hex.as_bytes())
        .map_err(|e| format!("writing {}: {e}", path.display()))?;
    Ok(())
}

/// A sync report in one line: documents, round trips and bytes.
pub fn describe(report: &SyncReport) -> String {
    let mut line = format!(
        "sent {}, received {} · {} round trip{} · {} up, {} down",
        documents(report.documents_sent),
        documents(report.documents_received),
        report.round_trips,
        if report.round_trips == 1 { "" } else { "s" },
        bytes(report.bytes_sent),
        bytes(report.bytes_received),
    );
    if !report.rejected.is_empty() {
        let _ = write!(line, " · {} refused by the relay", report.rejected.len());
    }
    line
}

fn documents(n: usize) -> String {
    match n {
        0 => "nothing".into(),
        1 => "1 document".into(),
        n => format!("{n} documents"),
    }
}

fn bytes(n: usize) -> String {
    if n < 1024 {
        format!("{n} B")
    } else {
        format!("{:.1} kB", n as f64 / 1024.0)
    }
}
