//! Filters on listings: a backend-neutral tree of conditions on named properties, as CQL2
//! (OGC Common Query Language) expresses them, and the check of a tree against the
//! properties one listing accepts.
//!
//! Parsing CQL2 text or JSON into a [`Filter`] belongs to the HTTP layer. A checked filter
//! becomes SQL in the crate's own `filter::sql` module, with each catalog backend's dialect and
//! its mapping of property names to columns.

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};

pub(crate) mod sql;

/// A condition on the properties of the rows of a listing.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// Every condition holds.
    And(Vec<Filter>),
    /// At least one condition holds.
    Or(Vec<Filter>),
    /// The condition does not hold.
    Not(Box<Filter>),
    /// Always or never (`TRUE`, `FALSE`).
    Constant(bool),
    /// `property <op> value`.
    Compare {
        /// The property compared.
        property: String,
        /// How it is compared.
        op: CompareOp,
        /// What it is compared with.
        value: Literal,
    },
    /// `property IN (values…)`.
    In {
        /// The property compared.
        property: String,
        /// The values it may take.
        values: Vec<Literal>,
    },
    /// `property IS NULL`.
    IsNull {
        /// The property that has no value.
        property: String,
    },
    /// `property BETWEEN low AND high`, both bounds included.
    Between {
        /// The property compared.
        property: String,
        /// The lowest accepted value.
        low: Literal,
        /// The highest accepted value.
        high: Literal,
    },
    /// `property LIKE pattern`: `%` stands for any text, `_` for one character, `\` escapes.
    Like {
        /// The property matched.
        property: String,
        /// The pattern.
        pattern: String,
    },
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    /// `=`
    Eq,
    /// `<>`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl CompareOp {
    /// The operator as CQL2 and SQL write it.
    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Eq => "=",
            CompareOp::Ne => "<>",
            CompareOp::Lt => "<",
            CompareOp::Le => "<=",
            CompareOp::Gt => ">",
            CompareOp::Ge => ">=",
        }
    }

    /// The operator that holds when the two sides are swapped (`a < b` is `b > a`).
    pub fn swapped(self) -> CompareOp {
        match self {
            CompareOp::Eq | CompareOp::Ne => self,
            CompareOp::Lt => CompareOp::Gt,
            CompareOp::Le => CompareOp::Ge,
            CompareOp::Gt => CompareOp::Lt,
            CompareOp::Ge => CompareOp::Le,
        }
    }
}

/// A value written in a filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// A quoted string; compared with a time property, it is read as an RFC 3339 instant or a
    /// date.
    Text(String),
    /// A number.
    Number(f64),
    /// `TRUE` or `FALSE`.
    Boolean(bool),
    /// An instant (`TIMESTAMP('…')`, or `DATE('…')` at midnight UTC).
    Timestamp(DateTime<Utc>),
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Text(t) => write!(f, "'{t}'"),
            Literal::Number(n) => write!(f, "{n}"),
            Literal::Boolean(b) => write!(f, "{b}"),
            Literal::Timestamp(t) => write!(f, "TIMESTAMP('{}')", t.to_rfc3339()),
        }
    }
}

/// The type of a property that can be filtered on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryableKind {
    /// An instant, compared with timestamps, dates or RFC 3339 strings.
    Timestamp,
    /// Free text.
    Text,
    /// Text taking one of a few values.
    OneOf(&'static [&'static str]),
    /// A number.
    Number,
    /// `true` or `false`.
    Boolean,
}

impl QueryableKind {
    /// What a value of this kind looks like, for error messages.
    fn describe(self) -> String {
        match self {
            QueryableKind::Timestamp => "an RFC 3339 date-time or a date".to_owned(),
            QueryableKind::Text => "a string".to_owned(),
            QueryableKind::OneOf(values) => format!("one of {}", values.join(", ")),
            QueryableKind::Number => "a number".to_owned(),
            QueryableKind::Boolean => "true or false".to_owned(),
        }
    }
}

/// A property a listing accepts in its filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Queryable {
    /// Its name in filters.
    pub name: &'static str,
    /// The type of its values.
    pub kind: QueryableKind,
    /// What it is, for the queryables schema.
    pub description: &'static str,
}

/// Why a filter cannot be used on a listing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    /// The filter names a property the listing does not offer.
    #[error("property '{property}' cannot be filtered on here; accepted properties: {accepted}")]
    UnknownProperty {
        /// The property named.
        property: String,
        /// The accepted ones, comma-separated.
        accepted: String,
    },
    /// A value does not have the type of the property it is compared with.
    #[error("property '{property}' takes {expected}, not {found}")]
    TypeMismatch {
        /// The property compared.
        property: String,
        /// What it takes.
        expected: String,
        /// The value given.
        found: String,
    },
    /// The operator does not apply to the property's type.
    #[error("operator {operator} does not apply to property '{property}'")]
    UnsupportedOperator {
        /// The property.
        property: String,
        /// The operator.
        operator: &'static str,
    },
}

impl Filter {
    /// Checks every property against `queryables` and gives each value the type of its
    /// property: a string compared with a time property becomes a timestamp.
    ///
    /// # Errors
    /// [`FilterError`] naming the first property that is unknown, compared with a value of
    /// another type, or used with an operator its type does not support.
    pub fn checked(self, queryables: &[Queryable]) -> Result<Filter, FilterError> {
        let lookup = |property: &str| {
            queryables
                .iter()
                .find(|q| q.name == property)
                .map(|q| q.kind)
                .ok_or_else(|| FilterError::UnknownProperty {
                    property: property.to_owned(),
                    accepted: queryables
                        .iter()
                        .map(|q| q.name)
                        .collect::<Vec<_>>()
                        .join(", "),
                })
        };
        Ok(match self {
            Filter::And(parts) => Filter::And(check_all(parts, queryables)?),
            Filter::Or(parts) => Filter::Or(check_all(parts, queryables)?),
            Filter::Not(inner) => Filter::Not(Box::new(inner.checked(queryables)?)),
            Filter::Constant(b) => Filter::Constant(b),
            Filter::Compare {
                property,
                op,
                value,
            } => {
                let kind = lookup(&property)?;
                let value = typed(&property, kind, value)?;
                Filter::Compare {
                    property,
                    op,
                    value,
                }
            }
            Filter::In { property, values } => {
                let kind = lookup(&property)?;
                let values = values
                    .into_iter()
                    .map(|v| typed(&property, kind, v))
                    .collect::<Result<_, _>>()?;
                Filter::In { property, values }
            }
            Filter::IsNull { property } => {
                lookup(&property)?;
                Filter::IsNull { property }
            }
            Filter::Between {
                property,
                low,
                high,
            } => {
                let kind = lookup(&property)?;
                if kind == QueryableKind::Boolean {
                    return Err(FilterError::UnsupportedOperator {
                        property,
                        operator: "BETWEEN",
                    });
                }
                let low = typed(&property, kind, low)?;
                let high = typed(&property, kind, high)?;
                Filter::Between {
                    property,
                    low,
                    high,
                }
            }
            Filter::Like { property, pattern } => {
                let kind = lookup(&property)?;
                if !matches!(kind, QueryableKind::Text | QueryableKind::OneOf(_)) {
                    return Err(FilterError::UnsupportedOperator {
                        property,
                        operator: "LIKE",
                    });
                }
                Filter::Like { property, pattern }
            }
        })
    }

    /// Whether the filter names `property` anywhere.
    pub fn mentions(&self, property: &str) -> bool {
        match self {
            Filter::And(parts) | Filter::Or(parts) => parts.iter().any(|p| p.mentions(property)),
            Filter::Not(inner) => inner.mentions(property),
            Filter::Constant(_) => false,
            Filter::Compare { property: p, .. }
            | Filter::In { property: p, .. }
            | Filter::IsNull { property: p }
            | Filter::Between { property: p, .. }
            | Filter::Like { property: p, .. } => p == property,
        }
    }
}

fn check_all(parts: Vec<Filter>, queryables: &[Queryable]) -> Result<Vec<Filter>, FilterError> {
    parts.into_iter().map(|p| p.checked(queryables)).collect()
}

/// `value` as a value of `kind`, or the error saying what `property` takes.
fn typed(property: &str, kind: QueryableKind, value: Literal) -> Result<Literal, FilterError> {
    let mismatch = |value: &Literal| FilterError::TypeMismatch {
        property: property.to_owned(),
        expected: kind.describe(),
        found: value.to_string(),
    };
    match (kind, value) {
        (QueryableKind::Timestamp, Literal::Text(text)) => match parse_instant(&text) {
            Some(t) => Ok(Literal::Timestamp(t)),
            None => Err(mismatch(&Literal::Text(text))),
        },
        (QueryableKind::Timestamp, v @ Literal::Timestamp(_))
        | (QueryableKind::Text, v @ Literal::Text(_))
        | (QueryableKind::Number, v @ Literal::Number(_))
        | (QueryableKind::Boolean, v @ Literal::Boolean(_)) => Ok(v),
        (QueryableKind::OneOf(values), Literal::Text(text)) if values.contains(&text.as_str()) => {
            Ok(Literal::Text(text))
        }
        (_, v) => Err(mismatch(&v)),
    }
}

/// Reads an RFC 3339 instant, or a date taken at midnight UTC.
pub fn parse_instant(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    const QUERYABLES: &[Queryable] = &[
        Queryable {
            name: "updated",
            kind: QueryableKind::Timestamp,
            description: "",
        },
        Queryable {
            name: "visibility",
            kind: QueryableKind::OneOf(&["anyone", "owner-only"]),
            description: "",
        },
    ];

    fn compare(property: &str, value: Literal) -> Filter {
        Filter::Compare {
            property: property.to_owned(),
            op: CompareOp::Ge,
            value,
        }
    }

    #[test]
    fn strings_compared_with_time_properties_become_timestamps() {
        let checked = compare("updated", Literal::Text("2026-01-01".to_owned()))
            .checked(QUERYABLES)
            .ok();
        let midnight = parse_instant("2026-01-01T00:00:00Z").map(Literal::Timestamp);
        assert_eq!(checked, midnight.map(|m| compare("updated", m)));
    }

    #[test]
    fn unknown_properties_are_named_with_the_accepted_ones() {
        let err = compare("status", Literal::Text("ready".to_owned())).checked(QUERYABLES);
        let message = err.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains("'status'"), "{message}");
        assert!(message.contains("updated, visibility"), "{message}");
    }

    #[test]
    fn values_of_another_type_are_refused() {
        let not_a_date = compare("updated", Literal::Text("yesterday".to_owned()));
        assert!(matches!(
            not_a_date.checked(QUERYABLES),
            Err(FilterError::TypeMismatch { .. })
        ));
        let number = compare("updated", Literal::Number(3.0));
        assert!(number.checked(QUERYABLES).is_err());
        let other = compare("visibility", Literal::Text("everyone".to_owned()));
        assert!(other.checked(QUERYABLES).is_err());
    }

    #[test]
    fn like_applies_to_text_only() {
        let like = Filter::Like {
            property: "updated".to_owned(),
            pattern: "2026%".to_owned(),
        };
        assert!(matches!(
            like.checked(QUERYABLES),
            Err(FilterError::UnsupportedOperator { .. })
        ));
    }
}
