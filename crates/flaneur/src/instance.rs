//! The instance's description (name, description, coverage, logo, colour, contact, licence)
//! from the options of `flaneur serve`, over the reference server's `API_SUMMARY`.
//!
//! Layers, each over the one before: built-in defaults, then `API_SUMMARY` (a JSON object, as
//! Panoramax operators write it), then each `--instance-*` option or its `FLANEUR_*` variable.

use std::collections::BTreeMap;

use anyhow::Context;
use flaneur_api::{InstanceInfo, LocalizedText};
use serde::Deserialize;

/// Options of `flaneur serve` that describe the instance.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct InstanceArgs {
    /// The whole description as JSON, as Panoramax instances read it: `name`, `description`
    /// and `geo_coverage` (text, or an object of texts by language code), `logo`, `color` and
    /// `email`. The options below override its values.
    #[arg(long, env = "API_SUMMARY", value_parser = summary_json)]
    instance_summary: Option<String>,
    /// Name of the instance, shown by clients such as the Panoramax viewer.
    #[arg(long, env = "FLANEUR_INSTANCE_NAME")]
    instance_name: Option<String>,
    /// One sentence saying what the instance holds.
    #[arg(long, env = "FLANEUR_INSTANCE_DESCRIPTION")]
    instance_description: Option<String>,
    /// Where pictures may be taken, for contributors choosing an instance.
    #[arg(long, env = "FLANEUR_INSTANCE_GEO_COVERAGE")]
    instance_geo_coverage: Option<String>,
    /// Address of the instance's logo (the built-in one otherwise).
    #[arg(long, env = "FLANEUR_INSTANCE_LOGO")]
    instance_logo: Option<String>,
    /// Main colour of the instance, as CSS (`#5e499c`).
    #[arg(long, env = "FLANEUR_INSTANCE_COLOR")]
    instance_color: Option<String>,
    /// Address where people can reach the instance's operators.
    #[arg(long, env = "FLANEUR_CONTACT_EMAIL")]
    contact_email: Option<String>,
    /// SPDX id of the licence pictures are published under.
    #[arg(long, env = "FLANEUR_LICENSE_ID")]
    license_id: Option<String>,
    /// Address of that licence's text.
    #[arg(long, env = "FLANEUR_LICENSE_URL")]
    license_url: Option<String>,
}

/// A text of `API_SUMMARY`: one string, or strings by language code.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum SummaryText {
    Plain(String),
    ByLang(BTreeMap<String, String>),
}

impl SummaryText {
    fn into_localized(self) -> Option<LocalizedText> {
        match self {
            SummaryText::Plain(text) => non_empty(&text).map(LocalizedText::english),
            SummaryText::ByLang(langs) => LocalizedText::from_langs(
                langs
                    .into_iter()
                    .filter_map(|(lang, text)| Some((lang, non_empty(&text)?.to_owned())))
                    .collect(),
            ),
        }
    }
}

/// `API_SUMMARY` as Panoramax instances define it; unknown keys are refused, so that a typo
/// does not go unnoticed.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Summary {
    name: Option<SummaryText>,
    description: Option<SummaryText>,
    geo_coverage: Option<SummaryText>,
    logo: Option<String>,
    color: Option<String>,
    email: Option<String>,
}

fn non_empty(value: &str) -> Option<&str> {
    Some(value.trim()).filter(|v| !v.is_empty())
}

const SUMMARY_FORM: &str = "API_SUMMARY (--instance-summary) is not a JSON object of name, \
     description, geo_coverage, logo, color and email";

/// Checks `API_SUMMARY` as the command line is read, so that a bad one is an option error
/// (named with the configuration file's other problems when it comes from there).
fn summary_json(text: &str) -> Result<String, String> {
    if let Some(json) = non_empty(text) {
        serde_json::from_str::<Summary>(json).map_err(|e| {
            format!(
                "API_SUMMARY is not a JSON object of name, description, geo_coverage, logo, \
                 color and email: {e}"
            )
        })?;
    }
    Ok(text.to_owned())
}

impl InstanceArgs {
    /// The instance's description: defaults, then `API_SUMMARY`, then the single options.
    ///
    /// # Errors
    /// Fails when `API_SUMMARY` is not a JSON object of the known keys.
    pub fn to_info(&self) -> anyhow::Result<InstanceInfo> {
        let mut info = InstanceInfo::default();

        // 1. The summary.
        let summary: Summary = match self.instance_summary.as_deref().and_then(non_empty) {
            Some(json) => serde_json::from_str(json).context(SUMMARY_FORM)?,
            None => Summary::default(),
        };
        let texts = [
            (&mut info.name, summary.name),
            (&mut info.description, summary.description),
            (&mut info.geo_coverage, summary.geo_coverage),
        ];
        for (field, text) in texts {
            if let Some(text) = text.and_then(SummaryText::into_localized) {
                *field = text;
            }
        }
        let logo = summary.logo.as_deref().and_then(non_empty);
        info.logo_url = logo.map(str::to_owned).or(info.logo_url);
        set(&mut info.color, summary.color.as_deref());
        set(&mut info.email, summary.email.as_deref());

        // 2. Single options, in English.
        let texts = [
            (&mut info.name, &self.instance_name),
            (&mut info.description, &self.instance_description),
            (&mut info.geo_coverage, &self.instance_geo_coverage),
        ];
        for (field, text) in texts {
            if let Some(text) = text.as_deref().and_then(non_empty) {
                *field = LocalizedText::english(text);
            }
        }
        if let Some(logo) = self.instance_logo.as_deref().and_then(non_empty) {
            info.logo_url = Some(logo.to_owned());
        }
        set(&mut info.color, self.instance_color.as_deref());
        set(&mut info.email, self.contact_email.as_deref());
        set(&mut info.license_id, self.license_id.as_deref());
        set(&mut info.license_url, self.license_url.as_deref());
        Ok(info)
    }
}

/// Replaces `field` with `value` when it is given and not blank.
fn set(field: &mut String, value: Option<&str>) {
    if let Some(v) = value.and_then(non_empty) {
        *field = v.to_owned();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_gives_translations_and_single_options_override_it() {
        let args = InstanceArgs {
            instance_summary: Some(
                r##"{"name": {"fr": "Photos de Rennes", "en": "Rennes pictures"},
                     "description": "Streets of Rennes", "geo_coverage": {"fr": "Rennes"},
                     "logo": "https://rennes.example/logo.svg", "color": "#5e499c",
                     "email": "photos@rennes.example"}"##
                    .to_owned(),
            ),
            instance_color: Some("#112233".to_owned()),
            instance_description: Some("  ".to_owned()),
            ..InstanceArgs::default()
        };
        let info = args.to_info().expect("valid summary");
        assert_eq!(info.name.label, "Rennes pictures");
        assert_eq!(info.name.langs.len(), 2);
        assert_eq!(
            info.description,
            LocalizedText::english("Streets of Rennes")
        );
        assert_eq!(
            info.geo_coverage.label, "Rennes",
            "no English: the first language"
        );
        assert_eq!(
            info.logo_url.as_deref(),
            Some("https://rennes.example/logo.svg")
        );
        assert_eq!(info.color, "#112233");
        assert_eq!(info.email, "photos@rennes.example");
    }

    #[test]
    fn a_summary_that_is_not_the_expected_object_stops_the_start() {
        for summary in ["{\"nmae\": \"x\"}", "not json", "[1]"] {
            let args = InstanceArgs {
                instance_summary: Some(summary.to_owned()),
                ..InstanceArgs::default()
            };
            assert!(args.to_info().is_err(), "{summary}");
        }
    }

    #[test]
    fn without_options_the_defaults_stand() {
        let info = InstanceArgs::default().to_info().expect("defaults");
        assert_eq!(info.name, InstanceInfo::default().name);
        assert!(info.logo_url.is_none());
    }
}
