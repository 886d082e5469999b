//! Reports of problems with pictures and sequences: making one, reading and reviewing it,
//! listing them. Who may do what is the services' decision.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::routing::on;
use flaneur_model::{
    Account, Report, ReportChange, ReportId, ReportIssue, ReportQuery, ReportStatus, Viewer,
};
use flaneur_service::report::{ReportInput, ReportView};
use flaneur_store::{CompareOp, Filter, Literal};
use serde_json::{Map, Value, json};

use super::{Route, logged};
use crate::auth::LoggedIn;
use crate::params::{self, Params};
use crate::stac::openapi::{JSON, Operation};
use crate::url::BaseUrl;
use crate::{ApiError, ApiResult, AppState, ReadAs, cql2, stac};

const REPORTS: &str = "Reports";

/// Most reports of one list.
pub const MAX_LIMIT: usize = 1000;

fn report_json(base: &BaseUrl, report: &Report, view: ReportView) -> Value {
    let mut body = json!({
        "id": report.id,
        "issue": report.issue.as_str(),
        "status": report.status.as_str(),
        "picture_id": report.picture_id,
        "sequence_id": report.sequence_id,
        "ts_opened": report.created_at,
        "ts_closed": report.closed_at,
        "reporter_account_id": report.reporter,
        "resolver_account_id": report.resolver,
        "reporter_comments": report.reporter_comments,
        "resolver_comments": report.resolver_comments,
        "links": [stac::link(
            "self",
            Some("application/json"),
            base.api(&format!("/reports/{}", report.id)),
            None,
        )],
    });
    if view == ReportView::Full {
        body["reporter_email"] = json!(report.reporter_email);
    }
    body
}

/// The JSON object of a body, or a 400 naming `what`.
fn json_object(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    what: &str,
) -> Result<Map<String, Value>, ApiError> {
    let body = params::json_body(headers, body, &format!("{what} should be JSON"))?;
    match serde_json::from_slice(&body) {
        Ok(Value::Object(fields)) => Ok(fields),
        Ok(_) => Err(ApiError::bad_request(format!(
            "{what} should be a JSON object"
        ))),
        Err(e) => Err(ApiError::bad_request(format!(
            "{what} is not valid JSON: {e}"
        ))),
    }
}

/// A string field, absent or null as `None`.
fn text(fields: &Map<String, Value>, name: &str) -> Result<Option<String>, ApiError> {
    match fields.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::bad_request(format!("{name} should be a string"))),
    }
}

/// A string field, absent, null or blank as `None`.
fn given_text(fields: &Map<String, Value>, name: &str) -> Result<Option<String>, ApiError> {
    Ok(text(fields, name)?.filter(|t| !t.trim().is_empty()))
}

/// A field read with `FromStr` (ids, issues, statuses).
fn parsed<T: std::str::FromStr>(
    fields: &Map<String, Value>,
    name: &str,
) -> Result<Option<T>, ApiError>
where
    T::Err: std::fmt::Display,
{
    text(fields, name)?
        .map(|t| {
            t.parse()
                .map_err(|e: T::Err| ApiError::bad_request(format!("invalid {name}: {e}")))
        })
        .transpose()
}

fn report_id(text: &str) -> Result<ReportId, ApiError> {
    params::path_id(text, "Report doesn't exist")
}

/// `POST /api/reports`: a report of a picture or a sequence, by anyone.
pub async fn create(
    State(state): State<AppState>,
    ReadAs(viewer): ReadAs,
    base: BaseUrl,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let fields = json_object(&headers, body, "The report")?;
    let issue: ReportIssue = parsed(&fields, "issue")?.ok_or_else(|| {
        ApiError::bad_request(format!(
            "issue is missing: one of {}",
            ReportIssue::ALL
                .iter()
                .map(|i| i.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })?;
    let input = ReportInput {
        issue,
        picture_id: parsed(&fields, "picture_id")?,
        sequence_id: parsed(&fields, "sequence_id")?,
        // Forms, the Panoramax viewer's among them, send the fields left empty as empty
        // strings: nothing was given.
        reporter_email: given_text(&fields, "reporter_email")?,
        reporter_comments: given_text(&fields, "reporter_comments")?,
    };
    let report = state.services.create_report(viewer, input).await?;
    Ok(Json(report_json(&base, &report, ReportView::Public)))
}

/// `GET /api/reports/{id}`.
pub async fn one(
    State(state): State<AppState>,
    ReadAs(viewer): ReadAs,
    base: BaseUrl,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let (report, view) = state.services.report(viewer, report_id(&id)?).await?;
    Ok(Json(report_json(&base, &report, view)))
}

/// `PATCH /api/reports/{id}`: status, issue, reporter's email, resolver's comments.
pub async fn patch(
    State(state): State<AppState>,
    LoggedIn(account): LoggedIn,
    base: BaseUrl,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let viewer = account.viewer();
    let id = report_id(&id)?;
    let fields = json_object(&headers, body, "The change of the report")?;
    if let Some(name) = fields
        .keys()
        .find(|k| !["issue", "status", "reporter_email", "resolver_comments"].contains(&k.as_str()))
    {
        return Err(ApiError::bad_request(format!(
            "{name} cannot be changed; a report's issue, status, reporter_email and \
             resolver_comments can"
        )));
    }
    let change = ReportChange {
        issue: parsed(&fields, "issue")?,
        status: parsed(&fields, "status")?,
        reporter_email: text(&fields, "reporter_email")?,
        resolver_comments: text(&fields, "resolver_comments")?,
        resolver: None,
    };
    let (report, view) = state.services.update_report(viewer, id, change).await?;
    Ok(Json(report_json(&base, &report, view)))
}

/// The query of a list: `filter` on `status`, `reporter` and `owner` (`'me'` is the caller),
/// open reports by default; `limit`.
fn list_query(viewer: Viewer, params: &Params) -> Result<ReportQuery, ApiError> {
    let mut query = ReportQuery {
        statuses: ReportStatus::OPEN.to_vec(),
        limit: params::limit(params, MAX_LIMIT)?.unwrap_or(100),
        ..ReportQuery::default()
    };
    let Some(text) = params.get("filter").filter(|t| !t.trim().is_empty()) else {
        return Ok(query);
    };
    let filter = cql2::parse_text(text)
        .map_err(|e| ApiError::bad_request(format!("Unsupported filter parameter: {e}")))?;
    query.statuses = ReportStatus::ALL.to_vec();
    let conditions = match filter {
        Filter::And(all) => all,
        other => vec![other],
    };
    for condition in conditions {
        let (property, values) = match condition {
            Filter::Compare {
                property,
                op: CompareOp::Eq,
                value,
            } => (property, vec![value]),
            Filter::In { property, values } => (property, values),
            _ => return Err(unsupported_filter()),
        };
        let values = values
            .into_iter()
            .map(|v| match v {
                Literal::Text(t) => Ok(t),
                _ => Err(unsupported_filter()),
            })
            .collect::<Result<Vec<_>, _>>()?;
        match property.as_str() {
            "status" => {
                let statuses = values
                    .iter()
                    .map(|s| s.parse())
                    .collect::<Result<Vec<ReportStatus>, _>>()
                    .map_err(|e| ApiError::bad_request(format!("Unsupported filter: {e}")))?;
                query.statuses.retain(|s| statuses.contains(s));
            }
            "reporter" | "owner" => {
                let [value] = values.as_slice() else {
                    return Err(unsupported_filter());
                };
                let account = if value == "me" {
                    viewer.account_id()
                } else {
                    value.parse().ok()
                }
                .ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "{property} should be 'me' or an account id, not '{value}'"
                    ))
                })?;
                if property == "reporter" {
                    query.reporter = Some(account);
                } else {
                    query.owner = Some(account);
                }
            }
            other => {
                return Err(ApiError::bad_request(format!(
                    "Unsupported filter: '{other}' cannot be filtered on; status, reporter \
                     and owner can"
                )));
            }
        }
    }
    Ok(query)
}

fn unsupported_filter() -> ApiError {
    ApiError::bad_request(
        "Unsupported filter: give conditions `status IN ('open', …)`, `status = '…'`, \
         `reporter = 'me'` or `owner = 'me'` (or an account id), joined by AND",
    )
}

fn list_json(base: &BaseUrl, reports: &[Report], view: ReportView) -> Value {
    let reports: Vec<Value> = reports.iter().map(|r| report_json(base, r, view)).collect();
    json!({ "reports": reports, "links": [] })
}

/// Which reports a list holds.
#[derive(Debug, Clone, Copy)]
enum Listing {
    /// Every report, for administrators, in full.
    All,
    /// Those the caller made or that are about its data, in full for administrators only.
    Mine,
}

/// The body of a list of reports, as `account` may read it.
async fn list_reports(
    state: &AppState,
    account: &Account,
    base: &BaseUrl,
    params: &Params,
    listing: Listing,
) -> ApiResult<Json<Value>> {
    let viewer = account.viewer();
    let query = list_query(viewer, params)?;
    let (reports, view) = match listing {
        Listing::All => (
            state.services.reports(viewer, &query).await?,
            ReportView::Full,
        ),
        Listing::Mine if viewer.is_admin() => (
            state.services.my_reports(viewer, &query).await?,
            ReportView::Full,
        ),
        Listing::Mine => (
            state.services.my_reports(viewer, &query).await?,
            ReportView::Public,
        ),
    };
    Ok(Json(list_json(base, &reports, view)))
}

/// `GET /api/reports`: every report, for administrators.
pub async fn list(
    State(state): State<AppState>,
    LoggedIn(account): LoggedIn,
    base: BaseUrl,
    Query(params): Query<Params>,
) -> ApiResult<Json<Value>> {
    list_reports(&state, &account, &base, &params, Listing::All).await
}

/// `GET /api/users/me/reports`: the reports the caller made or that are about its data.
pub async fn mine(
    State(state): State<AppState>,
    LoggedIn(account): LoggedIn,
    base: BaseUrl,
    Query(params): Query<Params>,
) -> ApiResult<Json<Value>> {
    list_reports(&state, &account, &base, &params, Listing::Mine).await
}

/// `GET /api/admin/reports/stats`: counts by status and by issue.
pub async fn stats(
    State(state): State<AppState>,
    ReadAs(viewer): ReadAs,
) -> ApiResult<Json<Value>> {
    let counts = state.services.report_counts(viewer).await?;
    let mut by_status = Map::new();
    let mut by_issue = Map::new();
    let mut total = 0;
    for count in &counts {
        let add = |map: &mut Map<String, Value>, key: &str| {
            let now = map.get(key).and_then(Value::as_i64).unwrap_or(0);
            map.insert(key.to_owned(), json!(now + count.count));
        };
        add(&mut by_status, count.status.as_str());
        add(&mut by_issue, count.issue.as_str());
        total += count.count;
    }
    Ok(Json(json!({
        "total": total,
        "by_status": by_status,
        "by_issue": by_issue,
    })))
}

/// The routes of reports.
pub fn routes() -> Vec<Route> {
    use axum::http::Method as M;
    let object = || json!({ "type": "object" });
    let filter = |o: Operation| {
        o.query(
            "filter",
            "CQL2 text on `status`, `reporter` and `owner` (`'me'`: the caller), joined by \
             AND; default `status IN ('open', 'open_autofix', 'waiting')`",
            json!({ "type": "string" }),
        )
        .query(
            "limit",
            "Most reports to list",
            json!({ "type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 100 }),
        )
    };
    vec![
        Route::contribution(
            M::POST,
            "/api/reports",
            |m| on(m, create),
            Operation::new(REPORTS, "Report a problem with a picture or a sequence")
                .describe(
                    "Anyone may report what they see: `issue`, `picture_id` and/or \
                     `sequence_id`, `reporter_email`, `reporter_comments`. A report of \
                     `blur_missing`, `inappropriate`, `privacy` or `copyright` by a logged-in \
                     account hides the picture (or sequence) from everyone but its owner at \
                     once, and is `open_autofix`; an anonymous one waits for review.",
                )
                .body(&[(JSON, object())])
                .answer(200, "The report", JSON, object())
                .errors(&[400, 404, 415]),
        ),
        Route::new(
            M::GET,
            "/api/reports",
            |m| on(m, list),
            filter(logged(
                Operation::new(REPORTS, "Every report (administrators)")
                    .answer(200, "The reports, most recent first", JSON, object())
                    .errors(&[400]),
            )),
        ),
        Route::new(
            M::GET,
            "/api/reports/{id}",
            |m| on(m, one),
            logged(
                Operation::new(REPORTS, "One report")
                    .describe(
                        "Administrators read all of it; its reporter and the owner of the \
                         reported data read it without the reporter's email.",
                    )
                    .path("id", "The report", crate::stac::openapi::schemas::uuid())
                    .answer(200, "The report", JSON, object())
                    .errors(&[404]),
            ),
        ),
        Route::new(
            M::PATCH,
            "/api/reports/{id}",
            |m| on(m, patch),
            logged(
                Operation::new(REPORTS, "Review a report")
                    .describe(
                        "Its reporter may set `status` to `waiting` or `closed_solved`; the \
                         owner of the reported data also to `closed_ignored`, and \
                         `resolver_comments`; administrators change anything (`issue`, \
                         `reporter_email` too). Closing records the time.",
                    )
                    .path("id", "The report", crate::stac::openapi::schemas::uuid())
                    .body(&[(JSON, object())])
                    .answer(200, "The report as changed", JSON, object())
                    .errors(&[400, 404, 415]),
            ),
        ),
        Route::new(
            M::GET,
            "/api/users/me/reports",
            |m| on(m, mine),
            filter(logged(
                Operation::new(
                    REPORTS,
                    "Reports the caller made or that are about its data",
                )
                .answer(200, "The reports, most recent first", JSON, object())
                .errors(&[400]),
            )),
        ),
        Route::new(
            M::GET,
            "/api/admin/reports/stats",
            |m| on(m, stats),
            logged(
                Operation::new(
                    REPORTS,
                    "How many reports there are, by status and by issue",
                )
                .answer(200, "The counts", JSON, object()),
            ),
        ),
    ]
}
