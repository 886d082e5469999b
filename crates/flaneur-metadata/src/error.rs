//! Why a picture's metadata could not be read: the file is no JPEG, its header is cut short or
//! broken, or mandatory values (position, capture time) are missing or out of range.
//!
//! Each failure has a stable machine code ([`ReadError::kind`]) and a user-facing text
//! ([`ReadError::message`]) worded like the reference server's, since both end up in HTTP
//! answers. Mapping them to HTTP statuses is left to the API crate.

use serde::Serialize;

/// A mandatory value the picture lacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MissingField {
    /// No usable capture date and time.
    Datetime,
    /// No usable GPS position.
    Location,
}

impl MissingField {
    /// Stable snake_case name (`datetime`, `location`).
    pub fn as_str(&self) -> &'static str {
        match self {
            MissingField::Datetime => "datetime",
            MissingField::Location => "location",
        }
    }

    /// The sentence the reference server gives for this missing value.
    pub fn message(&self) -> &'static str {
        match self {
            MissingField::Datetime => "No valid date in picture EXIF tags",
            MissingField::Location => {
                "No GPS coordinates or broken coordinates in picture EXIF tags"
            }
        }
    }
}

/// Why [`read`](crate::read) could not give a picture's metadata.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReadError {
    /// The bytes do not start like a JPEG (PNG, text, empty file...).
    #[error("not a jpeg file")]
    NotJpeg,
    /// The bytes end before the JPEG header does (before the first scan).
    #[error("jpeg header is truncated before the image data")]
    Truncated,
    /// The JPEG header is structurally broken.
    #[error("jpeg header is malformed: {reason}")]
    Malformed {
        /// What was wrong, with the byte offset where it was found.
        reason: String,
    },
    /// Position and/or capture time are missing, in the order `Datetime`, `Location`.
    #[error("picture lacks mandatory metadata: {}", field_names(.fields))]
    MissingFields {
        /// The missing values, never empty.
        fields: Vec<MissingField>,
    },
    /// Every clock the picture has is clearly broken (never set, in the future, a GPS week
    /// rollover behind the other). Counts as a missing `datetime` for clients.
    #[error("picture has no plausible capture time: {reason}")]
    ImplausibleTime {
        /// Which clocks were refused and why.
        reason: String,
    },
    /// A value is present but unusable: coordinates out of range, partial GPano crop...
    #[error("picture has an invalid {field}: {reason}")]
    InvalidValue {
        /// Which value: `latitude`, `longitude`, `crop`...
        field: &'static str,
        /// Why it was refused.
        reason: String,
    },
}

impl ReadError {
    /// Stable snake_case code for clients and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            ReadError::NotJpeg => "not_jpeg",
            ReadError::Truncated => "truncated",
            ReadError::Malformed { .. } => "malformed_jpeg",
            ReadError::MissingFields { .. } => "missing_fields",
            ReadError::InvalidValue { .. } => "invalid_value",
            ReadError::ImplausibleTime { .. } => "implausible_time",
        }
    }

    /// Text for the person who sent the picture. For missing fields it is exactly the
    /// reference server's text, which clients may match on.
    pub fn message(&self) -> String {
        match self {
            ReadError::MissingFields { fields } => match fields.as_slice() {
                [one] => one.message().to_owned(),
                many => {
                    // The reference lists the position before the date, whatever the order
                    // of its `missing_mandatory_tags`.
                    let mut text = String::from("The picture is missing mandatory metadata:");
                    for field in [MissingField::Location, MissingField::Datetime] {
                        if many.contains(&field) {
                            text.push_str("\n\t- ");
                            text.push_str(field.message());
                        }
                    }
                    text
                }
            },
            ReadError::ImplausibleTime { reason } => {
                format!("{} ({reason})", MissingField::Datetime.message())
            }
            ReadError::NotJpeg => "The sent file is not a valid JPEG".to_owned(),
            other => capitalize(&other.to_string()),
        }
    }

    /// The missing fields (`datetime` for an implausible time), empty for other errors.
    pub fn missing_fields(&self) -> &[MissingField] {
        match self {
            ReadError::MissingFields { fields } => fields,
            ReadError::ImplausibleTime { .. } => &[MissingField::Datetime],
            _ => &[],
        }
    }
}

fn field_names(fields: &[MissingField]) -> String {
    let names: Vec<&str> = fields.iter().map(MissingField::as_str).collect();
    names.join(", ")
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_messages_match_the_reference_server() {
        let both = ReadError::MissingFields {
            fields: vec![MissingField::Datetime, MissingField::Location],
        };
        assert_eq!(
            both.message(),
            "The picture is missing mandatory metadata:\n\
             \t- No GPS coordinates or broken coordinates in picture EXIF tags\n\
             \t- No valid date in picture EXIF tags"
        );
        let location = ReadError::MissingFields {
            fields: vec![MissingField::Location],
        };
        assert_eq!(
            location.message(),
            "No GPS coordinates or broken coordinates in picture EXIF tags"
        );
        assert_eq!(location.kind(), "missing_fields");
        assert_eq!(
            location.to_string(),
            "picture lacks mandatory metadata: location"
        );
    }
}
