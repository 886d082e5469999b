//! Checked filters as SQLite conditions: where SQLite's SQL differs from the shared
//! translation in [`crate::filter::sql`]. Ids are text here, compared as any other text;
//! `LIKE` runs as SQLite's `GLOB` to respect case as CQL2 does (PostgreSQL's own `LIKE`
//! already does).

use sqlx::{QueryBuilder, Sqlite};

use super::codec::to_micros;
use crate::filter::sql::{Column, FilterDialect};
use crate::filter::{CompareOp, Literal};

impl FilterDialect for Sqlite {
    // SQLite compares text byte by byte, which for UTF-8 is by code point.
    const TEXT_ORDER: &'static str = "";

    /// Binds a value in the type its column holds: instants as microseconds, booleans as 0/1.
    fn push_literal(sql: &mut QueryBuilder<Sqlite>, value: &Literal) {
        match value {
            Literal::Text(t) => sql.push_bind(t.clone()),
            Literal::Number(n) => sql.push_bind(*n),
            Literal::Boolean(b) => sql.push_bind(i64::from(*b)),
            Literal::Timestamp(t) => sql.push_bind(to_micros(*t)),
        };
    }

    // Ids are text here: an id column compares as any other column does.
    fn push_id_compare(
        sql: &mut QueryBuilder<Sqlite>,
        column: &str,
        op: CompareOp,
        value: &Literal,
    ) {
        sql.push(format!("{column} {} ", op.as_str()));
        Self::push_literal(sql, value);
    }

    // SQLite's LIKE ignores the case of ASCII letters, CQL2's does not: GLOB matches as CQL2
    // does.
    fn push_like(sql: &mut QueryBuilder<Sqlite>, column: Column, pattern: &str) {
        let (Column::Plain(c) | Column::Id(c) | Column::Span { start: c, .. }) = column;
        sql.push(format!("{c} GLOB "))
            .push_bind(like_to_glob(pattern));
    }
}

/// A CQL2 `LIKE` pattern (`%`, `_`, `\` escaping the next character) as the SQLite `GLOB`
/// pattern that matches the same texts, case included.
fn like_to_glob(pattern: &str) -> String {
    let mut glob = String::with_capacity(pattern.len() + 2);
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        let literal = match c {
            '%' => {
                glob.push('*');
                continue;
            }
            '_' => {
                glob.push('?');
                continue;
            }
            '\\' => chars.next().unwrap_or('\\'),
            other => other,
        };
        match literal {
            '*' | '?' | '[' => {
                glob.push('[');
                glob.push(literal);
                glob.push(']');
            }
            other => glob.push(other),
        }
    }
    glob
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::Filter;
    use crate::filter::sql::push_filter;
    use crate::{Error, Result};

    fn columns(property: &str) -> Option<Column> {
        match property {
            "updated" => Some(Column::Plain("updated_at")),
            "datetime" => Some(Column::Span {
                start: "min_captured_at",
                end: "max_captured_at",
            }),
            "title" => Some(Column::Plain("title")),
            _ => None,
        }
    }

    fn sql_of(filter: &Filter) -> Result<String> {
        let mut sql = QueryBuilder::<Sqlite>::new("");
        push_filter(&mut sql, filter, &columns)?;
        Ok(sql.sql().as_str().to_owned())
    }

    #[test]
    fn values_are_bound_never_written_into_the_sql() {
        let filter = Filter::Or(vec![
            Filter::Compare {
                property: "title".to_owned(),
                op: CompareOp::Eq,
                value: Literal::Text("x'); DROP TABLE sequences; --".to_owned()),
            },
            Filter::Not(Box::new(Filter::Like {
                property: "title".to_owned(),
                pattern: "a%".to_owned(),
            })),
        ]);
        let sql = sql_of(&filter).unwrap_or_default();
        assert_eq!(sql, "((title = ?) OR (NOT (title GLOB ?)))", "{sql}");
    }

    #[test]
    fn intervals_compare_by_the_end_that_can_satisfy_the_condition() {
        let at = Literal::Number(5.0);
        let gt = Filter::Compare {
            property: "datetime".to_owned(),
            op: CompareOp::Gt,
            value: at.clone(),
        };
        assert_eq!(sql_of(&gt).ok().as_deref(), Some("(max_captured_at > ?)"));
        let eq = Filter::Compare {
            property: "datetime".to_owned(),
            op: CompareOp::Eq,
            value: at,
        };
        assert_eq!(
            sql_of(&eq).ok().as_deref(),
            Some("((min_captured_at <= ? AND max_captured_at >= ?))")
        );
    }

    #[test]
    fn like_patterns_become_globs_matching_the_same_texts() {
        assert_eq!(like_to_glob("a%b_c"), "a*b?c");
        assert_eq!(like_to_glob("100\\%*[x]?"), "100%[*][[]x][?]");
        assert_eq!(like_to_glob("end\\"), "end\\");
    }

    #[test]
    fn properties_without_a_column_are_an_error() {
        let filter = Filter::IsNull {
            property: "status".to_owned(),
        };
        assert!(matches!(sql_of(&filter), Err(Error::Filter(_))));
    }
}
