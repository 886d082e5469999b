//! Checked [`Filter`]s as SQL conditions. The walk through the tree is the same for every
//! catalog; each one's [`FilterDialect`] says where its SQL differs: how a value is bound, how
//! text orders, how an id column compares and how `LIKE` matches.
//!
//! Every value is a bound parameter: no text from a filter is ever written into the SQL, only
//! the column names of the listing's own mapping.

use sqlx::{Database, QueryBuilder};

use super::{CompareOp, Filter, FilterError, Literal};
use crate::{Error, Result};

/// Where a listing keeps a property.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Column {
    /// One column (or SQL expression of columns) of text, a number, a boolean or an instant.
    Plain(&'static str),
    /// An id column, which filters name as text.
    Id(&'static str),
    /// An interval between two instant columns, such as a capture time span: a comparison
    /// holds when some instant of the interval satisfies it.
    Span {
        /// The column of the interval's start.
        start: &'static str,
        /// The column of its end.
        end: &'static str,
    },
}

/// How one catalog's SQL writes what a filter says; the conditions must hold for the same rows
/// in every catalog.
pub(crate) trait FilterDialect: Database {
    /// Written after a text column compared by order (`<`, `>=`…) so that text orders by code
    /// point, as CQL2 compares strings.
    const TEXT_ORDER: &'static str;

    /// Binds a value in the type its column holds.
    fn push_literal(sql: &mut QueryBuilder<Self>, value: &Literal);

    /// `column <op> value` on an id column.
    fn push_id_compare(sql: &mut QueryBuilder<Self>, column: &str, op: CompareOp, value: &Literal);

    /// Whether `column` matches a CQL2 `LIKE` pattern (`%`, `_`, `\` escaping the next
    /// character), case included; on an interval, its start.
    fn push_like(sql: &mut QueryBuilder<Self>, column: Column, pattern: &str);
}

/// Appends `filter` as one parenthesised condition; `column` maps each property to where the
/// listing keeps it.
///
/// # Errors
/// [`Error::Filter`] when a property has no column: the filter was not checked against this
/// listing's queryables.
pub(crate) fn push_filter<D: FilterDialect>(
    sql: &mut QueryBuilder<D>,
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
            sql.push(if holds { "TRUE" } else { "FALSE" });
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
            sql.push(if *holds { "TRUE" } else { "FALSE" });
        }
        Filter::Compare {
            property,
            op,
            value,
        } => push_compare(sql, col(property)?, *op, value),
        Filter::In { property, values } => {
            let c = col(property)?;
            if values.is_empty() {
                sql.push("FALSE");
            }
            for (i, value) in values.iter().enumerate() {
                if i > 0 {
                    sql.push(" OR ");
                }
                push_compare(sql, c, CompareOp::Eq, value);
            }
        }
        Filter::IsNull { property } => match col(property)? {
            Column::Plain(c) | Column::Id(c) | Column::Span { start: c, .. } => {
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
                D::push_literal(sql, low);
                sql.push(" AND ");
                D::push_literal(sql, high);
            }
            c @ Column::Id(_) => {
                push_compare(sql, c, CompareOp::Ge, low);
                sql.push(" AND ");
                push_compare(sql, c, CompareOp::Le, high);
            }
            Column::Span { start, end } => {
                sql.push(format!("{start} <= "));
                D::push_literal(sql, high);
                sql.push(format!(" AND {end} >= "));
                D::push_literal(sql, low);
            }
        },
        Filter::Like { property, pattern } => D::push_like(sql, col(property)?, pattern),
    }
    sql.push(")");
    Ok(())
}

/// `column <op> value`; on an interval, whether some instant of it compares so.
fn push_compare<D: FilterDialect>(
    sql: &mut QueryBuilder<D>,
    column: Column,
    op: CompareOp,
    value: &Literal,
) {
    let (c, op) = match (column, op) {
        (Column::Plain(c), op) => (c, op),
        (Column::Id(c), op) => {
            D::push_id_compare(sql, c, op, value);
            return;
        }
        (Column::Span { start, .. }, CompareOp::Lt | CompareOp::Le) => (start, op),
        (Column::Span { end, .. }, CompareOp::Gt | CompareOp::Ge) => (end, op),
        (Column::Span { start, end }, CompareOp::Eq | CompareOp::Ne) => {
            if op == CompareOp::Ne {
                sql.push("NOT ");
            }
            sql.push(format!("({start} <= "));
            D::push_literal(sql, value);
            sql.push(format!(" AND {end} >= "));
            D::push_literal(sql, value);
            sql.push(")");
            return;
        }
    };
    let collate = match (value, op) {
        (Literal::Text(_), CompareOp::Eq | CompareOp::Ne) => "",
        (Literal::Text(_), _) => D::TEXT_ORDER,
        _ => "",
    };
    sql.push(format!("{c}{collate} {} ", op.as_str()));
    D::push_literal(sql, value);
}
