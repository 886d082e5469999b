//! The peers this instance harvests, as the API shows them.

use flaneur_model::Peer;

use crate::{Result, Services};

impl Services {
    /// Every declared peer with how its harvests went, oldest first.
    ///
    /// # Errors
    /// A catalog failure.
    pub async fn peers(&self) -> Result<Vec<Peer>> {
        Ok(self.catalog.peers().await?)
    }
}
