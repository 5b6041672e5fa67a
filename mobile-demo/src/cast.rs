//! The people of the story and their devices. Everyone is fictional, and
//! visibly so; every phone number is in Ofcom's ranges reserved for drama.
//!
//! | device | person | store file |
//! | --- | --- | --- |
//! | Alex's phone | Alex, 15, whose plan it is | `alex-phone.lynchpin` |
//! | Parent's phone | Robin Example, Alex's parent | `parent-phone.lynchpin` |
//! | Coordinator's tablet | Ada Example, CAMHS nurse and care coordinator | `coordinator-tablet.lynchpin` |
//! | Psychologist's laptop | Dr Eli Testcase, clinical psychologist | `psychologist-laptop.lynchpin` |

use std::{error::Error, path::Path};

use lynchpin_core::DeviceId;

use crate::{
    device::{Device, Profile},
    relay::Relay,
    timeline::Timeline,
};

/// Alex's phone.
pub const ALEX: Profile = Profile {
    name: "Alex's phone",
    person: "Alex, 15",
    file: "alex-phone",
};

/// The parent's phone.
pub const PARENT: Profile = Profile {
    name: "Parent's phone",
    person: "Robin Example, Alex's parent",
    file: "parent-phone",
};

/// The care coordinator's tablet.
pub const COORDINATOR: Profile = Profile {
    name: "Coordinator's tablet",
    person: "Ada Example, CAMHS nurse, Alex's care coordinator",
    file: "coordinator-tablet",
};

/// The psychologist's laptop.
pub const PSYCHOLOGIST: Profile = Profile {
    name: "Psychologist's laptop",
    person: "Dr Eli Testcase, clinical psychologist",
    file: "psychologist-laptop",
};

/// Every device, in the order the story introduces them.
pub const PROFILES: [Profile; 4] = [COORDINATOR, ALEX, PARENT, PSYCHOLOGIST];

/// The four devices of the care team.
pub struct Cast {
    /// Alex's phone: owner of the plan and of the journal.
    pub alex: Device,
    /// The parent's phone: reads the plan, as Alex allows.
    pub parent: Device,
    /// The care coordinator's tablet: creates and holds the plan.
    pub coordinator: Device,
    /// The psychologist's laptop: writes to the plan.
    pub psychologist: Device,
}

impl Cast {
    /// Opens each device's store in `dir` and enrols it with the relay
    /// using a one-time invite of its own.
    pub fn enrol(
        t: &mut Timeline,
        dir: &Path,
        keep_keys: bool,
        relay: &Relay,
    ) -> Result<Self, Box<dyn Error>> {
        let open = |profile| Device::open(dir, profile, keep_keys);
        let mut cast = Self {
            coordinator: open(COORDINATOR)?,
            alex: open(ALEX)?,
            parent: open(PARENT)?,
            psychologist: open(PSYCHOLOGIST)?,
        };
        for device in cast.all_mut() {
            let invite = relay.invite(device.profile.person)?;
            device.enroll(relay, &invite)?;
            let shown: String = invite.chars().take(4).collect();
            let what = format!(
                "opens its encrypted store, device {}; enrols with invite {shown}-…",
                device.short_id()
            );
            t.act(device, &what);
        }
        Ok(cast)
    }

    /// Every device.
    pub fn all(&self) -> [&Device; 4] {
        [
            &self.alex,
            &self.parent,
            &self.coordinator,
            &self.psychologist,
        ]
    }

    fn all_mut(&mut self) -> [&mut Device; 4] {
        [
            &mut self.coordinator,
            &mut self.alex,
            &mut self.parent,
            &mut self.psychologist,
        ]
    }

    /// Takes every device off the network (`false`) or back on (`true`).
    pub fn set_online(&self, online: bool) {
        for device in self.all() {
            device.set_online(online);
        }
    }

    /// The device with this id, if it is one of the cast.
    pub fn device(&self, id: &DeviceId) -> Option<&Device> {
        self.all().into_iter().find(|d| d.id() == *id)
    }

    /// How the timeline names the device with this id.
    pub fn name_of(&self, id: Option<DeviceId>) -> &'static str {
        id.and_then(|id| self.device(&id))
            .map_or("an unknown device", Device::name)
    }
}
