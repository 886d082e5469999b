//! The parameters every listing of sequences reads (`filter`, `sortby`, `page`,
//! `show_deleted`) and the paging links they lead to: the collection list and one account's
//! collection page the same way.
//!
//! A page position is written `after:<values>_<id>` or `before:<values>_<id>`, the sort
//! values of the sequence at the edge of a page, or `last`. Clients only follow the links;
//! the form is checked against the `sortby` of the request, and refused with a 400 when it
//! does not fit.

use flaneur_model::SequenceId;
use flaneur_service::read::SequencePage;
use flaneur_store::{
    Filter, Literal, PagePosition, SEQUENCE_QUERYABLES, SequenceCursor, SequenceSort,
    SequenceSortField, total_order,
};
use serde_json::Value;

use crate::params::Params;
use crate::url::BaseUrl;
use crate::{ApiError, cql2, stac};

/// Reads `filter`, checked against the properties a listing of sequences offers. The second
/// value says whether the filter opened with the legacy `status IN ('deleted','ready') AND`,
/// which asks for tombstones as `show_deleted=true` does and is taken out of the filter.
///
/// # Errors
/// A 400 when the filter cannot be read, names a property the listing does not offer,
/// compares one with a value of another type, or uses `status` in any other way.
pub(super) fn filter(params: &Params) -> Result<(Option<Filter>, bool), ApiError> {
    let Some(filter) = cql2::from_params(params)? else {
        return Ok((None, false));
    };
    let (rest, asks_deleted) = without_legacy_status(filter);
    let Some(rest) = rest else {
        return Ok((None, asks_deleted));
    };
    if rest.mentions("status") {
        return Err(ApiError::bad_request(
            "Parameter filter cannot use status: list deleted and hidden sequences with \
             show_deleted=true (a filter starting with status IN ('deleted','ready') AND is \
             still read that way)",
        ));
    }
    let checked = rest
        .checked(SEQUENCE_QUERYABLES)
        .map_err(|e| ApiError::bad_request(format!("Parameter filter cannot be used here: {e}")))?;
    Ok((Some(checked), asks_deleted))
}

/// Splits off a leading `status IN ('deleted','ready')`: what is left of the filter, and
/// whether it was there. Federated catalogs sent this form before `show_deleted` existed.
fn without_legacy_status(filter: Filter) -> (Option<Filter>, bool) {
    let is_legacy = |f: &Filter| match f {
        Filter::In { property, values } if property == "status" && values.len() == 2 => {
            ["deleted", "ready"]
                .iter()
                .all(|s| values.contains(&Literal::Text((*s).to_owned())))
        }
        _ => false,
    };
    match filter {
        f if is_legacy(&f) => (None, true),
        Filter::And(mut parts) if parts.first().is_some_and(is_legacy) => {
            parts.remove(0);
            let rest = if parts.len() == 1 {
                parts.remove(0)
            } else {
                Filter::And(parts)
            };
            (Some(rest), true)
        }
        f => (Some(f), false),
    }
}

/// Reads `show_deleted`.
///
/// # Errors
/// A 400 for anything but `true` or `false`.
pub(super) fn show_deleted(params: &Params) -> Result<bool, ApiError> {
    match params.get("show_deleted").map(|v| v.trim()) {
        None | Some("" | "false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(ApiError::bad_request(format!(
            "Parameter show_deleted '{other}' is not a boolean: use true or false"
        ))),
    }
}

/// Reads `sortby`: a comma-separated list of `created`, `updated`, `datetime` or `id`, each
/// with `+` (ascending, the default) or `-` (descending); `default` when absent.
///
/// # Errors
/// A 400 naming the unknown field and the accepted ones.
pub(super) fn sortby(
    params: &Params,
    default: SequenceSort,
) -> Result<Vec<SequenceSort>, ApiError> {
    let Some(text) = params.get("sortby").filter(|t| !t.trim().is_empty()) else {
        return Ok(vec![default]);
    };
    text.split(',')
        .map(|item| {
            // A `+` left unencoded in a URL arrives as a space, hence the trim.
            let item = item.trim();
            let (descending, name) = match item.strip_prefix('-') {
                Some(name) => (true, name),
                None => (false, item.strip_prefix('+').unwrap_or(item)),
            };
            let field = SequenceSortField::from_name(name.trim()).ok_or_else(|| {
                let accepted: Vec<&str> =
                    SequenceSortField::ALL.iter().map(|f| f.as_str()).collect();
                ApiError::bad_request(format!(
                    "Parameter sortby '{item}' is not supported: sort by {}, each with + \
                     (ascending, the default) or - (descending), separated by commas",
                    accepted.join(", ")
                ))
            })?;
            Ok(SequenceSort { field, descending })
        })
        .collect()
}

/// Reads `page` for a listing sorted by `sort`.
///
/// # Errors
/// A 400 when it is not a position this instance writes for that order.
pub(super) fn page(params: &Params, sort: &[SequenceSort]) -> Result<PagePosition, ApiError> {
    let Some(text) = params.get("page").filter(|p| !p.is_empty()) else {
        return Ok(PagePosition::First);
    };
    let bad = || {
        ApiError::bad_request(
            "Parameter page is not one this instance produced for this sortby; follow the \
             links of a previous page instead of building it",
        )
    };
    if text == "last" {
        return Ok(PagePosition::Last);
    }
    let (side, position) = text.split_once(':').ok_or_else(bad)?;
    let (values, id) = match position.rsplit_once('_') {
        Some((values, id)) => (values.split('_').collect::<Vec<_>>(), id),
        None => (Vec::new(), position),
    };
    let values = values
        .iter()
        .map(|v| v.parse::<i64>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| bad())?;
    if values.len() + 1 != total_order(sort).len() {
        return Err(bad());
    }
    let id: SequenceId = id.parse().map_err(|_| bad())?;
    let cursor = SequenceCursor { values, id };
    match side {
        "after" => Ok(PagePosition::After(cursor)),
        "before" => Ok(PagePosition::Before(cursor)),
        _ => Err(bad()),
    }
}

fn cursor_text(cursor: &SequenceCursor) -> String {
    let mut text = String::new();
    for value in &cursor.values {
        text.push_str(&value.to_string());
        text.push('_');
    }
    text.push_str(&cursor.id.to_string());
    text
}

/// The `first`, `prev`, `next` and `last` links of a page, those that lead somewhere; `href`
/// makes the address of a page position (`None` for the first page). `is_first` says whether
/// the page was asked for without a position: any other page links back to the first, even
/// when it came back empty and so has no edge to link back from.
pub(super) fn page_links(
    page: &SequencePage,
    is_first: bool,
    href: impl Fn(Option<String>) -> String,
) -> Vec<Value> {
    let link =
        |rel, page: Option<String>| stac::link(rel, Some("application/json"), href(page), None);
    let mut links = Vec::new();
    if page.prev.is_some() || !is_first {
        links.push(link("first", None));
    }
    if let Some(prev) = &page.prev {
        links.push(link("prev", Some(format!("before:{}", cursor_text(prev)))));
    }
    if let Some(next) = &page.next {
        links.push(link("next", Some(format!("after:{}", cursor_text(next)))));
        links.push(link("last", Some("last".to_owned())));
    }
    links
}

/// The address of a page of the listing at `path`, given its position (`None` for the first
/// page): the caller's other parameters kept, in a stable order so that the same page always
/// has the same address.
pub(super) fn page_href<'a>(
    base: &'a BaseUrl,
    path: &'a str,
    params: &Params,
) -> impl Fn(Option<String>) -> String + 'a {
    let mut keep: Vec<(String, String)> = params
        .iter()
        .filter(|(k, _)| k.as_str() != "page")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    keep.sort();
    move |page| {
        let mut pairs = keep.clone();
        if let Some(p) = page {
            pairs.push(("page".to_owned(), p));
        }
        stac::with_query(base.api(path), &pairs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn sortby_reads_signed_comma_lists() {
        let sort = sortby(
            &params(&[("sortby", " updated,-created")]),
            SequenceSort::CREATED_ASC,
        );
        let expected = vec![
            SequenceSort {
                field: SequenceSortField::Updated,
                descending: false,
            },
            SequenceSort::CREATED_DESC,
        ];
        assert_eq!(sort.ok(), Some(expected));
        assert!(
            sortby(
                &params(&[("sortby", "-visibility")]),
                SequenceSort::CREATED_ASC
            )
            .is_err()
        );
        let default = sortby(&params(&[]), SequenceSort::CREATED_DESC).ok();
        assert_eq!(default, Some(vec![SequenceSort::CREATED_DESC]));
    }

    #[test]
    fn positions_are_read_back_only_for_their_own_order() {
        let sort = [SequenceSort::CREATED_DESC];
        let cursor = SequenceCursor {
            values: vec![-5],
            id: SequenceId::new(),
        };
        let text = format!("after:{}", cursor_text(&cursor));
        let read = page(&params(&[("page", &text)]), &sort).ok();
        assert_eq!(read, Some(PagePosition::After(cursor)));
        let by_two = [
            SequenceSort::CREATED_DESC,
            SequenceSort {
                field: SequenceSortField::Updated,
                descending: false,
            },
        ];
        assert!(page(&params(&[("page", &text)]), &by_two).is_err());
        assert!(page(&params(&[("page", "after:x_y")]), &sort).is_err());
    }

    #[test]
    fn the_legacy_status_filter_asks_for_tombstones() {
        let read = |text: &str| filter(&params(&[("filter", text)]));
        let (rest, deleted) = read("status IN ('deleted','ready') AND updated >= '2026-01-01'")
            .unwrap_or((None, false));
        assert!(deleted && rest.is_some());
        assert_eq!(
            read("status IN ('ready', 'deleted')").ok(),
            Some((None, true))
        );
        assert!(read("status = 'deleted'").is_err());
        assert!(read("updated > '2026-01-01' AND status IN ('deleted','ready')").is_err());
    }
}
