//! Checked filters as PostgreSQL conditions: where PostgreSQL's SQL differs from the
//! shared translation in [`crate::filter::sql`].
//!
//! The conditions hold for the same rows as the SQLite catalog's: ids are `uuid` columns here
//! and text there, so a text compared with an id is read as an id only when it is one written
//! as the catalog writes them (lowercase, hyphenated), and compared as text otherwise; text is
//! ordered by code point (`COLLATE "C"`), as SQLite orders it.

use chrono::{DateTime, Utc};
use sqlx::{Postgres, QueryBuilder};
use uuid::Uuid;

use super::codec::stored;
use crate::filter::sql::{Column, FilterDialect};
use crate::filter::{CompareOp, Literal};

impl FilterDialect for Postgres {
    const TEXT_ORDER: &'static str = " COLLATE \"C\"";

    /// Binds a value in the type its column holds; instants cut to the microsecond, as stored.
    fn push_literal(sql: &mut QueryBuilder<Postgres>, value: &Literal) {
        match value {
            Literal::Text(t) => sql.push_bind(t.clone()),
            Literal::Number(n) => sql.push_bind(*n),
            Literal::Boolean(b) => sql.push_bind(*b),
            Literal::Timestamp(t) => sql.push_bind(stored(*t)),
        };
    }

    /// `id <op> value` on a `uuid` column: as ids when the text is an id as the catalog writes
    /// them (so the id index serves), as text otherwise, ordered by code point.
    fn push_id_compare(
        sql: &mut QueryBuilder<Postgres>,
        column: &str,
        op: CompareOp,
        value: &Literal,
    ) {
        match value {
            Literal::Text(t) => match canonical_id(t) {
                Some(id) => {
                    sql.push(format!("{column} {} ", op.as_str())).push_bind(id);
                }
                None => {
                    sql.push(format!("{column}::text COLLATE \"C\" {} ", op.as_str()))
                        .push_bind(t.clone());
                }
            },
            other => {
                sql.push(format!("{column}::text {} ", op.as_str()))
                    .push_bind(other.to_string());
            }
        }
    }

    /// PostgreSQL's `LIKE` respects case and escapes with `\`, as CQL2's does; an id is matched
    /// as the text it is written as.
    fn push_like(sql: &mut QueryBuilder<Postgres>, column: Column, pattern: &str) {
        let c = match column {
            Column::Plain(c) | Column::Span { start: c, .. } => c.to_owned(),
            Column::Id(c) => format!("{c}::text"),
        };
        sql.push(format!("{c} LIKE "))
            .push_bind(escaped_like(pattern));
    }
}

/// A CQL2 `LIKE` pattern as PostgreSQL reads the same one: a `\` ending the pattern escapes
/// nothing and stands for itself (PostgreSQL refuses such a pattern).
fn escaped_like(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 1);
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '\\' {
            out.push(chars.next().unwrap_or('\\'));
        }
    }
    out
}

/// The id `text` writes, when it writes it exactly as ids are stored and shown (lowercase,
/// hyphenated): only then do the text and the id compare alike with every other id.
pub(super) fn canonical_id(text: &str) -> Option<Uuid> {
    Uuid::parse_str(text)
        .ok()
        .filter(|id| id.hyphenated().to_string() == text)
}

/// Binds an instant given in microseconds since the epoch, as the SQLite catalog stores them
/// and page positions carry them. One beyond what PostgreSQL holds becomes an infinity, which
/// compares with every stored instant as the number would.
pub(super) fn push_micros(sql: &mut QueryBuilder<Postgres>, micros: i64) {
    /// The earliest instant PostgreSQL holds: 4714-11-24 BC, midnight UTC.
    const EARLIEST_MICROS: i64 = -210_866_803_200_000_000;
    match DateTime::<Utc>::from_timestamp_micros(micros) {
        _ if micros < EARLIEST_MICROS => sql.push("'-infinity'::timestamptz"),
        Some(t) => sql.push_bind(t),
        None => sql.push("'infinity'::timestamptz"),
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;
    use crate::Result;
    use crate::filter::Filter;
    use crate::filter::sql::push_filter;

    fn columns(property: &str) -> Option<Column> {
        match property {
            "updated" => Some(Column::Plain("updated_at")),
            "datetime" => Some(Column::Span {
                start: "min_captured_at",
                end: "max_captured_at",
            }),
            "title" => Some(Column::Plain("title")),
            "id" => Some(Column::Id("id")),
            _ => None,
        }
    }

    fn sql_of(filter: &Filter) -> Result<String> {
        let mut sql = QueryBuilder::<Postgres>::new("");
        push_filter(&mut sql, filter, &columns)?;
        Ok(sql.sql().as_str().to_owned())
    }

    fn compare(property: &str, op: CompareOp, value: Literal) -> Filter {
        Filter::Compare {
            property: property.to_owned(),
            op,
            value,
        }
    }

    #[test]
    fn values_are_bound_never_written_into_the_sql() {
        let filter = Filter::Or(vec![
            compare(
                "title",
                CompareOp::Eq,
                Literal::Text("x'); DROP TABLE sequences; --".to_owned()),
            ),
            Filter::Not(Box::new(Filter::Like {
                property: "title".to_owned(),
                pattern: "a%".to_owned(),
            })),
        ]);
        let sql = sql_of(&filter).unwrap_or_default();
        assert_eq!(sql, "((title = $1) OR (NOT (title LIKE $2)))", "{sql}");
    }

    #[test]
    fn intervals_compare_by_the_end_that_can_satisfy_the_condition() {
        let at = Literal::Number(5.0);
        let gt = compare("datetime", CompareOp::Gt, at.clone());
        assert_eq!(sql_of(&gt).ok().as_deref(), Some("(max_captured_at > $1)"));
        let eq = compare("datetime", CompareOp::Eq, at);
        assert_eq!(
            sql_of(&eq).ok().as_deref(),
            Some("((min_captured_at <= $1 AND max_captured_at >= $2))")
        );
    }

    #[test]
    fn text_orders_by_code_point() {
        let lt = compare("title", CompareOp::Lt, Literal::Text("b".to_owned()));
        assert_eq!(
            sql_of(&lt).ok().as_deref(),
            Some("(title COLLATE \"C\" < $1)")
        );
    }

    #[test]
    fn ids_compare_as_ids_only_when_written_as_the_catalog_writes_them() {
        let id = Uuid::new_v4();
        let exact = compare("id", CompareOp::Eq, Literal::Text(id.to_string()));
        assert_eq!(sql_of(&exact).ok().as_deref(), Some("(id = $1)"));
        let upper = id.to_string().to_uppercase();
        let shouted = compare("id", CompareOp::Eq, Literal::Text(upper));
        assert_eq!(
            sql_of(&shouted).ok().as_deref(),
            Some("(id::text COLLATE \"C\" = $1)")
        );
        assert_eq!(canonical_id(&id.simple().to_string()), None);
        let like = Filter::Like {
            property: "id".to_owned(),
            pattern: "0%".to_owned(),
        };
        assert_eq!(sql_of(&like).ok().as_deref(), Some("(id::text LIKE $1)"));
    }

    #[test]
    fn a_trailing_backslash_stands_for_itself() {
        assert_eq!(escaped_like("a%b_c"), "a%b_c");
        assert_eq!(escaped_like("100\\%"), "100\\%");
        assert_eq!(escaped_like("end\\"), "end\\\\");
    }

    #[test]
    fn properties_without_a_column_are_an_error() {
        let filter = Filter::IsNull {
            property: "status".to_owned(),
        };
        assert!(matches!(sql_of(&filter), Err(Error::Filter(_))));
    }
}
