//! [`Viewer::may_see`] as an SQL condition, written once for every catalog: each read of
//! pictures or sequences appends it, so that a query never returns a row its viewer may not
//! see. Which rows are published (`status`) stays with each query; this module decides only
//! who sees what is there.
//!
//! The anonymous condition is the plain `visibility = 'anyone'` the catalogs always ran, so
//! the common read keeps its plans; an account adds its own rows through `account_id`.

use flaneur_model::{Viewer, Visibility};
use sqlx::QueryBuilder;

use crate::filter::sql::FilterDialect;
use crate::filter::{CompareOp, Literal};

/// Appends the condition that `viewer` may see the row of `table` (an alias such as `p`, or
/// `""` for an unqualified table), which has `visibility` and `account_id` columns.
pub(crate) fn push_visible<D: FilterDialect>(
    sql: &mut QueryBuilder<D>,
    viewer: Viewer,
    table: &str,
) {
    let prefix = if table.is_empty() {
        String::new()
    } else {
        format!("{table}.")
    };
    let anyone = Visibility::Anyone.as_str();
    if viewer.is_admin() {
        sql.push("TRUE");
        return;
    }
    let Some(account) = viewer.account_id() else {
        sql.push(format!("{prefix}visibility = '{anyone}'"));
        return;
    };
    let logged = Visibility::LoggedOnly.as_str();
    sql.push(format!(
        "({prefix}visibility IN ('{anyone}', '{logged}') OR "
    ));
    let owner = Literal::Text(account.to_string());
    D::push_id_compare(sql, &format!("{prefix}account_id"), CompareOp::Eq, &owner);
    sql.push(")");
}

/// Appends the condition that `viewer` may see a picture `p` of a sequence `s`: both must be
/// visible to it.
pub(crate) fn push_picture_visible<D: FilterDialect>(sql: &mut QueryBuilder<D>, viewer: Viewer) {
    push_visible(sql, viewer, "p");
    sql.push(" AND ");
    push_visible(sql, viewer, "s");
}

/// The SQL condition that a picture `p` reaches at least as far as its sequence `s`: whoever
/// may see the sequence may see the picture. A sequence's figures (count, time span, bbox)
/// cover only such pictures, as its map line does, so a picture hidden from the sequence's
/// readers shapes nothing they read.
pub(crate) const REACHES_SEQUENCE: &str =
    "(p.visibility = 'anyone' OR p.visibility = s.visibility OR s.visibility = 'owner-only')";

#[cfg(test)]
mod tests {
    use flaneur_model::AccountId;
    use sqlx::Sqlite;

    use super::*;

    fn condition(viewer: Viewer) -> String {
        let mut sql: QueryBuilder<Sqlite> = QueryBuilder::new("");
        push_visible(&mut sql, viewer, "p");
        sql.sql().as_str().to_owned()
    }

    #[tokio::test]
    async fn a_picture_reaches_its_sequence_when_every_reader_of_the_sequence_sees_it() {
        let pool = sqlx::SqlitePool::connect("sqlite::memory:")
            .await
            .expect("database");
        let sql = format!(
            "SELECT {REACHES_SEQUENCE} FROM (SELECT ?1 AS visibility) p, \
             (SELECT ?2 AS visibility) s"
        );
        let owner = AccountId::new();
        let readers = [
            Viewer::ANONYMOUS,
            Viewer::account(AccountId::new(), false),
            Viewer::account(owner, false),
        ];
        for picture in Visibility::ALL {
            for sequence in Visibility::ALL {
                let reaches: bool = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.as_str()))
                    .bind(picture.as_str())
                    .bind(sequence.as_str())
                    .fetch_one(&pool)
                    .await
                    .expect("condition");
                let expected = readers
                    .iter()
                    .all(|r| !r.may_see(sequence, owner) || r.may_see(picture, owner));
                assert_eq!(reaches, expected, "{picture} in {sequence}");
            }
        }
    }

    #[test]
    fn each_viewer_gets_the_condition_of_its_rule() {
        assert_eq!(condition(Viewer::ANONYMOUS), "p.visibility = 'anyone'");
        let admin = Viewer::account(AccountId::new(), true);
        assert_eq!(condition(admin), "TRUE");
        let account = Viewer::account(AccountId::new(), false);
        assert_eq!(
            condition(account),
            "(p.visibility IN ('anyone', 'logged-only') OR p.account_id = ?)"
        );
    }
}
