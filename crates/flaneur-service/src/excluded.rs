//! Excluded areas: who may list, add and remove which, and why a picture placed in one is
//! refused. Geometry checks and the point test belong to the catalog.

use flaneur_model::{AccountId, ExcludedAreaId, Viewer};
use flaneur_store::{
    AreaScope, ExcludedArea, Exclusion, MAX_LABEL_CHARS, NewExcludedArea, polygons_from_geojson,
};
use serde_json::Value;
use tracing::info;

use crate::{Error, Result, Services};

/// What a refused picture is told, as on Panoramax instances.
pub const REFUSED: &str = "Picture is located within an excluded area";

/// Which kind of area refused a picture, as on Panoramax instances.
pub fn explanation(exclusion: Exclusion) -> &'static str {
    match exclusion {
        Exclusion::General => "The picture is located within a general excluded area.",
        Exclusion::Own => "The picture is located within one of your own excluded area.",
    }
}

/// An area to add, read from a GeoJSON Feature with a Polygon or MultiPolygon geometry and
/// the properties `label` and `is_public`.
///
/// # Errors
/// [`Error::InvalidParameter`] saying what is wrong with the feature.
pub fn area_from_feature(feature: &Value) -> Result<NewExcludedArea> {
    if feature.get("type").and_then(Value::as_str) != Some("Feature") {
        return Err(Error::invalid(
            "Invalid excluded area: send a GeoJSON Feature (\"type\": \"Feature\")",
        ));
    }
    let geometry = feature
        .get("geometry")
        .filter(|g| !g.is_null())
        .ok_or_else(|| Error::invalid("Invalid excluded area: the Feature has no geometry"))?;
    let polygons = polygons_from_geojson(geometry)
        .map_err(|e| Error::invalid(format!("Invalid excluded area geometry: {e}")))?;
    let empty = Value::Object(serde_json::Map::new());
    let properties = match feature.get("properties") {
        None | Some(Value::Null) => &empty,
        Some(p @ Value::Object(_)) => p,
        Some(_) => {
            return Err(Error::invalid(
                "Invalid excluded area: `properties` must be an object",
            ));
        }
    };
    let label = match properties.get("label") {
        None | Some(Value::Null) => None,
        Some(Value::String(l)) if l.chars().count() <= MAX_LABEL_CHARS => Some(l.clone()),
        Some(Value::String(_)) => {
            return Err(Error::invalid(format!(
                "Invalid excluded area: `label` is longer than {MAX_LABEL_CHARS} characters"
            )));
        }
        Some(_) => {
            return Err(Error::invalid(
                "Invalid excluded area: `label` must be a string",
            ));
        }
    };
    let is_public = match properties.get("is_public") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(Error::invalid(
                "Invalid excluded area: `is_public` must be true or false",
            ));
        }
    };
    Ok(NewExcludedArea {
        label,
        is_public,
        account_id: None,
        is_allowed: false,
        polygons,
    })
}

/// Areas read from a GeoJSON FeatureCollection, each as [`area_from_feature`] reads it.
///
/// # Errors
/// [`Error::InvalidParameter`] naming the first wrong feature.
pub fn areas_from_collection(collection: &Value) -> Result<Vec<NewExcludedArea>> {
    if collection.get("type").and_then(Value::as_str) != Some("FeatureCollection") {
        return Err(Error::invalid(
            "Invalid excluded areas: send a GeoJSON FeatureCollection",
        ));
    }
    let features = collection
        .get("features")
        .and_then(Value::as_array)
        .ok_or_else(|| Error::invalid("Invalid excluded areas: `features` must be an array"))?;
    features
        .iter()
        .enumerate()
        .map(|(i, f)| area_from_feature(f).map_err(|e| Error::invalid(format!("feature {i}: {e}"))))
        .collect()
}

fn admin(viewer: Viewer) -> Result<()> {
    match (viewer.account_id(), viewer.is_admin()) {
        (None, _) => Err(Error::LoginRequired),
        (Some(_), false) => Err(Error::Forbidden(
            "You must be logged-in as admin to edit excluded areas".to_owned(),
        )),
        (Some(_), true) => Ok(()),
    }
}

impl Services {
    /// Why a picture of `account` at this position is refused, if it is.
    ///
    /// # Errors
    /// Fails when the catalog cannot be read.
    pub async fn exclusion_at(
        &self,
        lon: f64,
        lat: f64,
        account: AccountId,
    ) -> Result<Option<Exclusion>> {
        Ok(self.catalog.exclusion_at(lon, lat, Some(account)).await?)
    }

    /// The general areas: the public ones, or all of them for an administrator asking so.
    ///
    /// # Errors
    /// [`Error::Forbidden`] when someone else than an administrator asks for all of them.
    pub async fn general_areas(&self, viewer: Viewer, all: bool) -> Result<Vec<ExcludedArea>> {
        if all {
            admin(viewer)?;
        }
        let scope = AreaScope::General {
            include_private: all,
        };
        Ok(self.catalog.excluded_areas(scope).await?)
    }

    /// Adds a general area, as an administrator.
    ///
    /// # Errors
    /// [`Error::Forbidden`] for others than administrators.
    pub async fn add_general_area(
        &self,
        viewer: Viewer,
        area: NewExcludedArea,
    ) -> Result<ExcludedArea> {
        admin(viewer)?;
        let stored = self.catalog.add_excluded_area(&area).await?;
        info!(area.id = %stored.id, "general excluded area added");
        Ok(stored)
    }

    /// Replaces every general area, as an administrator. With `invert`, the areas given are
    /// the allowed ones: pictures are refused outside all of them, and the areas are public.
    ///
    /// # Errors
    /// [`Error::Forbidden`] for others than administrators.
    pub async fn replace_general_areas(
        &self,
        viewer: Viewer,
        mut areas: Vec<NewExcludedArea>,
        invert: bool,
    ) -> Result<Vec<ExcludedArea>> {
        admin(viewer)?;
        for area in &mut areas {
            area.account_id = None;
            area.is_allowed = invert;
            area.is_public |= invert;
        }
        let stored = self.catalog.replace_general_areas(&areas).await?;
        info!(
            areas = stored.len(),
            invert, "general excluded areas replaced"
        );
        Ok(stored)
    }

    /// Deletes a general area, as an administrator; `false` when there is no such area.
    ///
    /// # Errors
    /// [`Error::Forbidden`] for others than administrators.
    pub async fn delete_general_area(&self, viewer: Viewer, id: ExcludedAreaId) -> Result<bool> {
        admin(viewer)?;
        Ok(self.catalog.delete_excluded_area(id, None).await?)
    }

    /// The areas of an account.
    ///
    /// # Errors
    /// Fails when the catalog cannot be read.
    pub async fn own_areas(&self, account: AccountId) -> Result<Vec<ExcludedArea>> {
        Ok(self
            .catalog
            .excluded_areas(AreaScope::Account(account))
            .await?)
    }

    /// Adds an area refusing the pictures of `account` only.
    ///
    /// # Errors
    /// Fails when the catalog cannot be written.
    pub async fn add_own_area(
        &self,
        account: AccountId,
        mut area: NewExcludedArea,
    ) -> Result<ExcludedArea> {
        area.account_id = Some(account);
        area.is_allowed = false;
        Ok(self.catalog.add_excluded_area(&area).await?)
    }

    /// Deletes one of the areas of `account`; `false` when it has no such area.
    ///
    /// # Errors
    /// Fails when the catalog cannot be written.
    pub async fn delete_own_area(&self, account: AccountId, id: ExcludedAreaId) -> Result<bool> {
        Ok(self.catalog.delete_excluded_area(id, Some(account)).await?)
    }
}
