//! Endorsement calls: the organisations this app trusts, endorsing and
//! revoking, a resource's endorsements, directory queries and signposts
//! that carry their evidence.

use std::time::SystemTime;

use chrono::{DateTime, Utc};
use lynchpin_core as lc;

use super::{Result, Store, item};
use crate::{
    LynchpinError,
    types::{ResourceEndorsements, ResourceMatch, ResourceQuery, Thrive, all, date},
};

/// The evaluation time: `now` if given, else the device's clock.
fn at(now: Option<SystemTime>) -> DateTime<Utc> {
    now.map_or_else(Utc::now, DateTime::<Utc>::from)
}

#[uniffi::export]
impl Store {
    /// Sets the organisations (their 32-byte public keys) whose
    /// certificates this app trusts. Until it is called no endorsement is
    /// trusted. Held in memory only: set it after each `open`.
    pub fn set_trusted_organisations(&self, keys: Vec<Vec<u8>>) -> Result<()> {
        let trusted = lc::TrustedOrganisations::from_slices(&keys)?;
        self.inner.set_trusted_organisations(trusted);
        Ok(())
    }

    /// The organisations this app trusts, as 32-byte public keys.
    pub fn trusted_organisations(&self) -> Vec<Vec<u8>> {
        self.inner
            .trusted_organisations()
            .keys()
            .iter()
            .map(|k| k.as_bytes().to_vec())
            .collect()
    }

    /// Endorses the current version of a resource with the clinician's
    /// 32-byte secret and their certificate (the bytes from
    /// `issue_certificate`), for review by `valid_until` (`YYYY-MM-DD`).
    /// This device must be a writer of the directory. Returns the
    /// endorsement's id (64 hex digits).
    #[allow(clippy::too_many_arguments)]
    pub fn endorse_resource(
        &self,
        directory: String,
        resource: String,
        clinician_secret: Vec<u8>,
        certificate: Vec<u8>,
        rationale: String,
        thrive: Vec<Thrive>,
        valid_until: String,
    ) -> Result<String> {
        let certificate = lc::Certificate::decode(&certificate)
            .map_err(|e| LynchpinError::invalid("certificate", e.to_string()))?;
        let id = self.inner.endorse_resource(
            &Self::doc(&directory)?,
            &item("resource", &resource)?,
            &clinician_secret,
            &certificate,
            &rationale,
            &all::<Thrive, lc::Thrive>(thrive),
            date("valid_until", &valid_until)?,
        )?;
        Ok(id.to_string())
    }

    /// Revokes an endorsement with the 32-byte secret of the clinician who
    /// made it or of the organisation that certified them (any other key is
    /// `NotAllowed`).
    pub fn revoke_endorsement(
        &self,
        directory: String,
        endorsement: String,
        revoker_secret: Vec<u8>,
    ) -> Result<()> {
        let endorsement = lc::EndorsementId::parse(&endorsement)?;
        Ok(self
            .inner
            .revoke_endorsement(&Self::doc(&directory)?, &endorsement, &revoker_secret)?)
    }

    /// A resource's endorsements and the best one, checked on this device
    /// at `now` (the device's clock if `null`/`None`).
    #[uniffi::method(default(now = None))]
    pub fn resource_endorsements(
        &self,
        directory: String,
        resource: String,
        now: Option<SystemTime>,
    ) -> Result<ResourceEndorsements> {
        Ok(self
            .inner
            .resource_endorsements(
                &Self::doc(&directory)?,
                &item("resource", &resource)?,
                at(now),
            )?
            .into())
    }

    /// The directory's resources that match `query`, each with its best
    /// endorsement at `now` (the device's clock if `null`/`None`), endorsed
    /// resources first.
    #[uniffi::method(default(now = None))]
    pub fn query_resources(
        &self,
        directory: String,
        query: ResourceQuery,
        now: Option<SystemTime>,
    ) -> Result<Vec<ResourceMatch>> {
        Ok(all(self.inner.query_resources(
            &Self::doc(&directory)?,
            &query.into(),
            at(now),
        )?))
    }

    /// Signposts a resource from a directory this device holds, with its
    /// evidence (a snapshot of the resource and its endorsements), so the
    /// young person's device can check them without the directory. Returns
    /// the signpost's id.
    pub fn add_signpost_from_directory(
        &self,
        plan: String,
        directory: String,
        resource: String,
        signposted_by: String,
        reason: String,
        date: String,
    ) -> Result<String> {
        let id = self.inner.add_signpost_from_directory(
            &Self::doc(&plan)?,
            &Self::doc(&directory)?,
            &item("resource", &resource)?,
            &signposted_by,
            &reason,
            crate::types::date("date", &date)?,
        )?;
        Ok(id.to_string())
    }

    /// The endorsements a signpost carries, checked on this device at `now`
    /// (the device's clock if `null`/`None`); `null`/`None` if it was made
    /// without evidence.
    #[uniffi::method(default(now = None))]
    pub fn signpost_endorsements(
        &self,
        plan: String,
        signpost: String,
        now: Option<SystemTime>,
    ) -> Result<Option<ResourceEndorsements>> {
        Ok(self
            .inner
            .signpost_endorsements(&Self::doc(&plan)?, &item("signpost", &signpost)?, at(now))?
            .map(Into::into))
    }
}
