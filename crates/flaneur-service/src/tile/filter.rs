//! The `filter` of user maps: a CQL2 condition on the visibility of what a tile draws, as
//! Panoramax instances read it on user tiles (`visibility <> 'anyone'` draws only what is
//! hidden from some readers). Parsing belongs to the HTTP layer and the check of its
//! properties to [`Filter::checked`] with [`MAP_QUERYABLES`]; this module says whether a
//! sequence or a picture passes it. The condition is evaluated on what the catalog read for
//! the tile rather than in SQL: it names one property, already read for the visibility rule.

use flaneur_model::Visibility;
use flaneur_store::{CompareOp, Filter, Literal, Queryable, QueryableKind};

/// The properties a map's filter may name.
pub const MAP_QUERYABLES: &[Queryable] = &[Queryable {
    name: "visibility",
    kind: QueryableKind::OneOf(&["anyone", "owner-only", "logged-only"]),
    description: "Who may see the sequence; a picture counts as the narrower of its own \
                  visibility and its sequence's",
}];

/// How many readers a visibility leaves out, to find the narrower of two.
fn narrowness(visibility: Visibility) -> u8 {
    match visibility {
        Visibility::Anyone => 0,
        Visibility::LoggedOnly => 1,
        Visibility::OwnerOnly => 2,
    }
}

/// The narrower of two visibilities: the one a picture of a sequence really has.
pub fn narrower(a: Visibility, b: Visibility) -> Visibility {
    if narrowness(a) >= narrowness(b) { a } else { b }
}

/// Whether something seen by `visibility` passes a filter checked against
/// [`MAP_QUERYABLES`]. Values of other types than text, which the check refuses, never match.
pub fn keeps(filter: &Filter, visibility: Visibility) -> bool {
    let value = visibility.as_str();
    let text = |literal: &Literal| match literal {
        Literal::Text(t) => Some(t.clone()),
        _ => None,
    };
    match filter {
        Filter::And(parts) => parts.iter().all(|p| keeps(p, visibility)),
        Filter::Or(parts) => parts.iter().any(|p| keeps(p, visibility)),
        Filter::Not(inner) => !keeps(inner, visibility),
        Filter::Constant(b) => *b,
        Filter::Compare { op, value: v, .. } => text(v).is_some_and(|v| compares(value, *op, &v)),
        Filter::In { values, .. } => values.iter().any(|v| text(v).is_some_and(|v| v == value)),
        Filter::IsNull { .. } => false,
        Filter::Between { low, high, .. } => match (text(low), text(high)) {
            (Some(low), Some(high)) => low.as_str() <= value && value <= high.as_str(),
            _ => false,
        },
        Filter::Like { pattern, .. } => is_like(value, pattern),
    }
}

fn compares(value: &str, op: CompareOp, other: &str) -> bool {
    match op {
        CompareOp::Eq => value == other,
        CompareOp::Ne => value != other,
        CompareOp::Lt => value < other,
        CompareOp::Le => value <= other,
        CompareOp::Gt => value > other,
        CompareOp::Ge => value >= other,
    }
}

/// Whether `text` matches a `LIKE` pattern: `%` any text, `_` one character, `\` escapes.
fn is_like(text: &str, pattern: &str) -> bool {
    let text: Vec<char> = text.chars().collect();
    let pattern: Vec<char> = pattern.chars().collect();
    // `matched[i]`: whether the pattern read so far matches the first `i` characters.
    let mut matched = vec![false; text.len() + 1];
    matched[0] = true;
    let mut p = 0;
    while p < pattern.len() {
        let (token, escaped) = match pattern[p] {
            '\\' if p + 1 < pattern.len() => (pattern[p + 1], true),
            c => (c, false),
        };
        p += if escaped { 2 } else { 1 };
        let mut next = vec![false; text.len() + 1];
        if token == '%' && !escaped {
            let mut any = false;
            for (i, slot) in next.iter_mut().enumerate() {
                any |= matched[i];
                *slot = any;
            }
        } else {
            for i in 0..text.len() {
                let fits = (token == '_' && !escaped) || text[i] == token;
                next[i + 1] = matched[i] && fits;
            }
        }
        matched = next;
    }
    matched[text.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compare(op: CompareOp, value: &str) -> Filter {
        Filter::Compare {
            property: "visibility".to_owned(),
            op,
            value: Literal::Text(value.to_owned()),
        }
    }

    #[test]
    fn hidden_data_is_kept_by_a_filter_on_what_is_not_public() {
        let hidden = compare(CompareOp::Ne, "anyone");
        assert!(!keeps(&hidden, Visibility::Anyone));
        assert!(keeps(&hidden, Visibility::OwnerOnly));
        assert!(keeps(&hidden, Visibility::LoggedOnly));
        let either = Filter::In {
            property: "visibility".to_owned(),
            values: vec![Literal::Text("anyone".to_owned())],
        };
        assert!(keeps(&either, Visibility::Anyone));
        assert!(!keeps(&Filter::Not(Box::new(either)), Visibility::Anyone));
        let both = Filter::And(vec![hidden, compare(CompareOp::Eq, "owner-only")]);
        assert!(keeps(&both, Visibility::OwnerOnly));
        assert!(!keeps(&both, Visibility::LoggedOnly));
    }

    #[test]
    fn like_patterns_match_as_in_sql() {
        assert!(is_like("owner-only", "owner%"));
        assert!(is_like("owner-only", "%-only"));
        assert!(is_like("anyone", "an_one"));
        assert!(!is_like("anyone", "any"));
        assert!(is_like("50%", "50\\%"));
        assert!(!is_like("505", "50\\%"));
        assert!(is_like("", "%"));
    }

    #[test]
    fn a_picture_counts_as_the_narrower_visibility() {
        let (anyone, owner) = (Visibility::Anyone, Visibility::OwnerOnly);
        assert_eq!(narrower(anyone, owner), owner);
        assert_eq!(narrower(owner, Visibility::LoggedOnly), owner);
        assert_eq!(narrower(anyone, anyone), anyone);
    }
}
