//! Checked [`Filter`]s as SQLite conditions. Every value is a bound parameter: no text from a
//! filter is ever written into the SQL, only the column names of the listing's own mapping.
//!
//! The SQL is kept to what PostgreSQL reads as well, so the other backend can follow the same
//! shape; the one exception is `LIKE`, run as SQLite's `GLOB` to respect case as CQL2 does
//! (PostgreSQL's own `LIKE` already does).

use sqlx::{QueryBuilder, Sqlite};

use super::codec::to_micros;
use crate::filter::{CompareOp, Filter, FilterError, Literal};
use crate::{Error, Result};

/// Where a listing keeps a property.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Column {
    /// One column (or SQL expression of columns).
    Plain(&'static str),
    /// An interval between two columns, such as a capture time span: a comparison holds when
    /// some instant of the interval satisfies it.
    Span {
        /// The column of the interval's start.
        start: &'static str,
        /// The column of its end.
        end: &'static str,
    },
}

/// Appends `filter` as one parenthesised condition; `column` maps each property to where the
/// listing keeps it.
///
/// # Errors
/// [`Error::Filter`] when a property has no column: the filter was not checked against this
/// listing's queryables.
pub(super) fn push_filter(
    sql: &mut QueryBuilder<Sqlite>,
    filter: &Filter,
    column: &dyn Fn(&str) -> Option<Column>,
) -> Result<()> {
    let col = |property: &str| {
        column(property).ok_or_else(|| {
            Error::Filter(FilterError::UnknownProperty {
                property: property.to_owned(),
                accepted: String::new(),
            })
        })
    };
    sql.push("(");
    match filter {
        Filter::And(parts) | Filter::Or(parts) if parts.is_empty() => {
            let holds = matches!(filter, Filter::And(_));
            sql.push(if holds { "1 = 1" } else { "1 = 0" });
        }
        Filter::And(parts) | Filter::Or(parts) => {
            let joint = if matches!(filter, Filter::And(_)) {
                " AND "
            } else {
                " OR "
            };
            for (i, part) in parts.iter().enumerate() {
                if i > 0 {
                    sql.push(joint);
                }
                push_filter(sql, part, column)?;
            }
        }
        Filter::Not(inner) => {
            sql.push("NOT ");
            push_filter(sql, inner, column)?;
        }
        Filter::Constant(holds) => {
            sql.push(if *holds { "1 = 1" } else { "1 = 0" });
        }
        Filter::Compare {
            property,
            op,
            value,
        } => push_compare(sql, col(property)?, *op, value),
        Filter::In { property, values } => {
            let c = col(property)?;
            if values.is_empty() {
                sql.push("1 = 0");
            }
            for (i, value) in values.iter().enumerate() {
                if i > 0 {
                    sql.push(" OR ");
                }
                push_compare(sql, c, CompareOp::Eq, value);
            }
        }
        Filter::IsNull { property } => match col(property)? {
            Column::Plain(c) | Column::Span { start: c, .. } => {
                sql.push(format!("{c} IS NULL"));
            }
        },
        Filter::Between {
            property,
            low,
            high,
        } => match col(property)? {
            Column::Plain(c) => {
                sql.push(format!("{c} BETWEEN "));
                push_literal(sql, low);
                sql.push(" AND ");
                push_literal(sql, high);
            }
            Column::Span { start, end } => {
                sql.push(format!("{start} <= "));
                push_literal(sql, high);
                sql.push(format!(" AND {end} >= "));
                push_literal(sql, low);
            }
        },
        Filter::Like { property, pattern } => match col(property)? {
            // SQLite's LIKE ignores the case of ASCII letters, CQL2's does not: GLOB matches
            // as CQL2 does.
            Column::Plain(c) | Column::Span { start: c, .. } => {
                sql.push(format!("{c} GLOB "))
                    .push_bind(like_to_glob(pattern));
            }
        },
    }
    sql.push(")");
    Ok(())
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

/// `column <op> value`; on an interval, whether some instant of it compares so.
fn push_compare(sql: &mut QueryBuilder<Sqlite>, column: Column, op: CompareOp, value: &Literal) {
    let (c, op) = match (column, op) {
        (Column::Plain(c), op) => (c, op),
        (Column::Span { start, .. }, CompareOp::Lt | CompareOp::Le) => (start, op),
        (Column::Span { end, .. }, CompareOp::Gt | CompareOp::Ge) => (end, op),
        (Column::Span { start, end }, CompareOp::Eq | CompareOp::Ne) => {
            if op == CompareOp::Ne {
                sql.push("NOT ");
            }
            sql.push(format!("({start} <= "));
            push_literal(sql, value);
            sql.push(format!(" AND {end} >= "));
            push_literal(sql, value);
            sql.push(")");
            return;
        }
    };
    sql.push(format!("{c} {} ", op.as_str()));
    push_literal(sql, value);
}

/// Binds a value in the type its column holds: instants as microseconds, booleans as 0/1.
fn push_literal(sql: &mut QueryBuilder<Sqlite>, value: &Literal) {
    match value {
        Literal::Text(t) => sql.push_bind(t.clone()),
        Literal::Number(n) => sql.push_bind(*n),
        Literal::Boolean(b) => sql.push_bind(i64::from(*b)),
        Literal::Timestamp(t) => sql.push_bind(to_micros(*t)),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

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
