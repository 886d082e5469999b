//! The administrators' overview (`/api/admin/stats`): what the instance holds, counted, for
//! administrators only.

use reqwest::StatusCode;
use serde_json::json;

use crate::accounts::{account_with_token, get_as};
use crate::server::Server;
use crate::{SONY, pictures};

#[test]
fn administrators_read_what_the_instance_holds_counted() {
    let dir = tempfile::tempdir().expect("data folder");
    let root = account_with_token(dir.path(), "root", true);
    let ana = account_with_token(dir.path(), "ana", false);
    let server = Server::start_in(dir.path());
    server.upload_sequence("public", &pictures(&SONY[..2]), "anyone");
    server.upload_sequence("hidden", &pictures(&SONY[2..3]), "owner-only");

    let (status, stats) = get_as(&server, "/admin/stats", &root);
    assert_eq!(status, StatusCode::OK, "{stats}");
    // The default account (an administrator), root and ana.
    assert_eq!(
        stats["accounts"],
        json!({ "total": 3, "by_role": { "admin": 2, "user": 1 } })
    );
    assert_eq!(
        stats["pictures"],
        json!({ "total": 3, "by_status": { "ready": 3 } })
    );
    assert_eq!(stats["sequences"]["total"], json!(2), "{stats}");
    assert_eq!(
        stats["sequences"]["by_visibility"],
        json!({ "anyone": 1, "owner-only": 1 })
    );
    assert_eq!(stats["sequences"]["by_status"], json!({ "ready": 2 }));
    assert!(stats["jobs"]["queued"].is_i64(), "{stats}");

    let (status, body) = get_as(&server, "/admin/stats", &ana);
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = get_as(&server, "/admin/stats", "anonymous");
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
}
