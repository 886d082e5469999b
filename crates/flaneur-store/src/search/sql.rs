//! The item search filter as SQL, for every catalog: semantic tag conditions as `EXISTS`
//! tests on the tags of the picture, of its sequence and of its annotations, every other
//! condition through [`crate::filter::sql`] with the catalog's dialect.

use sqlx::{Encode, QueryBuilder, Type};

use super::{SortField, SortKey, TagProperty, leaf_property};
use crate::Result;
use crate::filter::sql::{Column, FilterDialect, push_filter};
use crate::filter::{Filter, Literal};

/// Appends a checked item search filter, on pictures `p` joined to their sequence through
/// `sequence_pictures sp`.
///
/// # Errors
/// [`crate::Error::Filter`] when a property has no column: the filter was not checked by
/// [`crate::checked_picture_filter`].
pub(crate) fn push_picture_filter<D: FilterDialect>(
    sql: &mut QueryBuilder<D>,
    filter: &Filter,
) -> Result<()>
where
    String: for<'q> Encode<'q, D> + Type<D>,
{
    match filter {
        Filter::And(parts) | Filter::Or(parts) if !parts.is_empty() => {
            let joint = if matches!(filter, Filter::And(_)) {
                " AND "
            } else {
                " OR "
            };
            sql.push("(");
            for (i, part) in parts.iter().enumerate() {
                if i > 0 {
                    sql.push(joint);
                }
                push_picture_filter(sql, part)?;
            }
            sql.push(")");
        }
        Filter::Not(inner) => {
            sql.push("(NOT ");
            push_picture_filter(sql, inner)?;
            sql.push(")");
        }
        leaf => match leaf_property(leaf).and_then(TagProperty::of) {
            Some(tags) => push_tag_condition(sql, tags, leaf),
            None => push_filter(sql, leaf, &picture_column)?,
        },
    }
    Ok(())
}

/// Where search keeps each of [`crate::PICTURE_QUERYABLES`].
fn picture_column(property: &str) -> Option<Column> {
    Some(match property {
        "datetime" => Column::Plain("p.captured_at"),
        "created" => Column::Plain("p.created_at"),
        "updated" => Column::Plain("p.updated_at"),
        "id" => Column::Id("p.id"),
        "collection" => Column::Id("sp.sequence_id"),
        "status" => Column::Plain("p.status"),
        _ => return None,
    })
}

/// A checked tag condition: whether the picture, its sequence or one of its annotations has a
/// tag of the key (any tag for `semantics`), with one of the values when the condition names
/// values.
fn push_tag_condition<D: FilterDialect>(
    sql: &mut QueryBuilder<D>,
    tags: TagProperty<'_>,
    leaf: &Filter,
) where
    String: for<'q> Encode<'q, D> + Type<D>,
{
    let values: &[Literal] = match leaf {
        Filter::Compare { value, .. } => std::slice::from_ref(value),
        Filter::In { values, .. } => values,
        _ => &[],
    };
    if matches!(leaf, Filter::IsNull { .. }) {
        sql.push("NOT ");
    }
    sql.push("(");
    // The tags of the picture, of its sequence and of the picture's annotations, as on
    // Panoramax instances: a search for a road sign finds the pictures where a part shows one.
    let owners = [
        "picture_semantics t WHERE t.picture_id = p.id",
        "sequence_semantics t WHERE t.sequence_id = sp.sequence_id",
        "annotation_semantics t JOIN annotations a ON a.id = t.annotation_id \
         WHERE a.picture_id = p.id",
    ];
    for (i, owner) in owners.into_iter().enumerate() {
        if i > 0 {
            sql.push(" OR ");
        }
        sql.push(format!("EXISTS (SELECT 1 FROM {owner}"));
        if let TagProperty::Key(key) = tags {
            sql.push(" AND t.key = ").push_bind(key.to_owned());
        }
        if !values.is_empty() {
            sql.push(" AND t.value IN (");
            let mut list = sql.separated(", ");
            for value in values {
                match value {
                    Literal::Text(t) => list.push_bind(t.clone()),
                    other => list.push_bind(other.to_string()),
                };
            }
            sql.push(")");
        }
        sql.push(")");
    }
    sql.push(")");
}

/// The `pictures p` column a sort field reads: the same name in both catalogs' schemas.
pub(crate) fn sort_column(field: SortField) -> &'static str {
    match field {
        SortField::Captured => "p.captured_at",
        SortField::Created => "p.created_at",
        SortField::Updated => "p.updated_at",
        SortField::Id => "p.id",
    }
}

/// ` ORDER BY …` of a search batch: `keys` as given, or every direction turned when reading
/// `backward` towards a previous page.
pub(crate) fn order_by(keys: &[SortKey], backward: bool) -> String {
    let terms: Vec<String> = keys
        .iter()
        .map(|key| {
            let descending = key.descending != backward;
            let direction = if descending { "DESC" } else { "ASC" };
            format!("{} {direction}", sort_column(key.field))
        })
        .collect();
    format!(" ORDER BY {}", terms.join(", "))
}
