//! The administrators' overview of the instance: what the catalog holds, counted. Only
//! administrators read it; the counts are the catalog's business.

use flaneur_model::Viewer;
use flaneur_store::InstanceStats;

use crate::{Error, Result, Services};

impl Services {
    /// Accounts, pictures, sequences and queued jobs, counted.
    ///
    /// # Errors
    /// [`Error::LoginRequired`] for an anonymous viewer, [`Error::Forbidden`] for an account
    /// that does not administer the instance; a catalog failure.
    pub async fn instance_stats(&self, viewer: Viewer) -> Result<InstanceStats> {
        if viewer.is_anonymous() {
            return Err(Error::LoginRequired);
        }
        if !viewer.is_admin() {
            return Err(Error::Forbidden(
                "Only administrators may read the instance's statistics".to_owned(),
            ));
        }
        Ok(self.catalog.instance_stats().await?)
    }
}
