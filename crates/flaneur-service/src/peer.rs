//! The peers this instance harvests, as the API shows them, and where the files of their
//! pictures are.

use flaneur_model::{Peer, PeerId, PictureId, Viewer};

use crate::read::Asset;
use crate::{Result, Services};

impl Services {
    /// Every declared peer with how its harvests went, oldest first.
    ///
    /// # Errors
    /// A catalog failure.
    pub async fn peers(&self) -> Result<Vec<Peer>> {
        Ok(self.catalog.peers().await?)
    }

    /// One peer.
    ///
    /// # Errors
    /// A catalog failure.
    pub async fn peer(&self, id: PeerId) -> Result<Option<Peer>> {
        Ok(self.catalog.peer(id).await?)
    }

    /// Where a file of a harvested picture is at its instance: the address its item gives
    /// for the asset (`hd`, `sd`, `thumb`, or a tile from its tile template). `None` for a
    /// picture of this instance, and for a harvested one whose item gives no `http` or
    /// `https` address for it: only addresses the peer gave are ever sent to clients.
    ///
    /// # Errors
    /// The same as for an unknown picture when `viewer` may not see it; a catalog failure.
    pub async fn remote_picture_file(
        &self,
        id: PictureId,
        viewer: Viewer,
        asset: Asset,
    ) -> Result<Option<String>> {
        let (picture, _) = self.visible_picture(None, id, viewer).await?;
        let Some(origin) = picture.origin else {
            return Ok(None);
        };
        let href = |key: &str, pointer: &str| {
            let value = origin.doc.get(key)?.pointer(pointer)?;
            value.as_str().map(str::to_owned)
        };
        let address = match asset {
            Asset::Hd => href("assets", "/hd/href"),
            Asset::Sd => href("assets", "/sd/href"),
            Asset::Thumb => href("assets", "/thumb/href"),
            Asset::Tile { col, row } => href("asset_templates", "/tiles/href").map(|t| {
                t.replace("{TileCol}", &col.to_string())
                    .replace("{TileRow}", &row.to_string())
            }),
        };
        Ok(address.filter(|a| is_web_address(a)))
    }
}

/// Whether an address is an absolute `http` or `https` one, safe to send clients to.
fn is_web_address(address: &str) -> bool {
    url::Url::parse(address).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
}

#[cfg(test)]
mod tests {
    use super::is_web_address;

    #[test]
    fn only_web_addresses_are_followed() {
        assert!(is_web_address(
            "https://peer.example.org/api/pictures/x/hd.jpg"
        ));
        assert!(is_web_address(
            "http://127.0.0.1:5001/api/pictures/x/sd.jpg"
        ));
        for bad in [
            "javascript:alert(1)",
            "data:image/jpeg;base64,AAAA",
            "/api/pictures/x/hd.jpg",
            "file:///etc/passwd",
            "",
        ] {
            assert!(!is_web_address(bad), "{bad}");
        }
    }
}
