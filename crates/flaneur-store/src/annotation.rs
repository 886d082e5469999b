//! What the catalog answers about annotations besides the annotations themselves, and the rule
//! both catalogs apply to a change of their tags.

use std::collections::BTreeSet;

use flaneur_model::{Annotation, SemanticTag, TagAction, TagChange};

/// What became of an annotation a change was written to.
#[derive(Debug, Clone, PartialEq)]
pub enum AnnotationOutcome {
    /// It holds tags after the change, as given.
    Tagged(Annotation),
    /// The change left it without tags: it was deleted, or, new, never made.
    Emptied,
    /// Its picture does not exist (or, for a change by id, the annotation does not).
    Missing,
    /// The id proposed for a new annotation is another annotation's; nothing was written.
    IdTaken,
}

/// The tags of an object holding `current` once `changes` are applied in order, sorted by key
/// then value.
pub(crate) fn apply_changes(current: &[SemanticTag], changes: &[TagChange]) -> Vec<SemanticTag> {
    let mut tags: BTreeSet<SemanticTag> = current.iter().cloned().collect();
    for change in changes {
        match change.action {
            TagAction::Add => tags.insert(change.tag.clone()),
            TagAction::Delete => tags.remove(&change.tag),
        };
    }
    tags.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(value: &str) -> SemanticTag {
        SemanticTag {
            key: "k".to_owned(),
            value: value.to_owned(),
        }
    }

    #[test]
    fn changes_apply_in_order() {
        let change = |value: &str, action| TagChange {
            tag: tag(value),
            action,
        };
        let changes = [
            change("c", TagAction::Add),
            change("a", TagAction::Delete),
            change("c", TagAction::Delete),
            change("c", TagAction::Add),
            change("z", TagAction::Delete),
        ];
        assert_eq!(
            apply_changes(&[tag("b"), tag("a")], &changes),
            [tag("b"), tag("c")]
        );
    }
}
