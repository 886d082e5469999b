//! The real `panoramax_cli login` on an instance with browser logins: the CLI generates a
//! token and prints its claim link, a browser logged in at the stand-in provider confirms the
//! claim, and the CLI then uploads for that account with the token it stored, until the
//! account revokes it.

use std::path::PathBuf;

use reqwest::StatusCode;
use serde_json::Value;

use crate::login::{Browser, confirm_claim, form_csrf, location, navigate, oidc_server, site};
use crate::login_provider::Provider;
use crate::panoramax_cli::{copy_pictures, report, run_cli};
use crate::server::Server;
use crate::{SONY, pictures};

/// The CLI of `FLANEUR_PANORAMAX_CLI`; `None`, with the reason printed, when it is not
/// installed and the run does not require every outside tool.
#[expect(
    clippy::print_stderr,
    reason = "a skipped test says so in the test output"
)]
fn cli_or_skip() -> Option<PathBuf> {
    let required = std::env::var("FLANEUR_REQUIRE_SERVICES").as_deref() == Ok("1");
    let cli = std::env::var_os("FLANEUR_PANORAMAX_CLI").map(PathBuf::from);
    if required || cli.as_ref().is_some_and(|c| c.is_file()) {
        return Some(crate::panoramax_cli::panoramax_cli());
    }
    eprintln!(
        "skipped: panoramax-cli is not installed (FLANEUR_PANORAMAX_CLI is unset or names no \
         file); scripts/test.sh installs it"
    );
    None
}

/// The claim link among the words the CLI printed.
fn claim_link(stdout: &str) -> Option<String> {
    stdout
        .split_whitespace()
        .find(|word| word.contains("/api/auth/tokens/") && word.ends_with("/claim"))
        .map(str::to_owned)
}

/// The number of sequences of an account.
fn sequences_of(server: &Server, account: &str) -> usize {
    let collection = server.get_ok(&format!("/users/{account}/collection"));
    collection["links"]
        .as_array()
        .expect("links")
        .iter()
        .filter(|l| l["rel"] == "child")
        .count()
}

#[test]
fn panoramax_cli_login_is_confirmed_in_the_browser_then_uploads_until_revoked() {
    let Some(cli) = cli_or_skip() else {
        return;
    };
    let provider = Provider::start();
    let server = oidc_server(&provider);
    let work = tempfile::tempdir().expect("CLI home");
    let cli_run = |args: &[&str], paths: &[&std::path::Path]| {
        let output = run_cli(&cli, &server, work.path(), args, paths);
        let said = report(&output, &server);
        (output, said)
    };

    // 1. The CLI generates a token, stores it and prints its claim link.
    let (output, said) = cli_run(&["login"], &[]);
    assert!(output.status.success(), "{said}");
    let claim = claim_link(&String::from_utf8_lossy(&output.stdout))
        .unwrap_or_else(|| panic!("no claim link printed\n{said}"));
    assert!(claim.starts_with(&site(&server)), "{claim}\n{said}");
    let stored = std::fs::read_to_string(work.path().join("config/geovisio/config.toml"))
        .expect("stored credentials");
    assert!(stored.contains("jwt_token"), "{stored}");

    // 2. Before the claim, the CLI refuses to upload: it is not logged in yet.
    let (_pictures_home, folder) = copy_pictures(&pictures(&SONY[1..3]));
    let (output, said) = cli_run(&["upload", "--wait"], &[&folder]);
    assert!(
        !output.status.success(),
        "uploaded before the claim\n{said}"
    );
    assert!(said.contains("not authenticated"), "{said}");

    // 3. The browser part: the link sends to the provider's login and back, then shows the
    //    confirmation, whose button claims the token.
    let mut browser = Browser::new();
    let first = navigate(&mut browser, &claim);
    assert_eq!(first.status(), StatusCode::FOUND, "{}", server.logs());
    let authorize = location(&browser.get(&location(&first)));
    let back = location(&browser.get(&authorize));
    let done = browser.get(&back);
    assert_eq!(done.status(), StatusCode::FOUND, "{}", server.logs());
    let page = navigate(
        &mut browser,
        &format!("{}{}", site(&server), location(&done)),
    );
    assert_eq!(page.status(), StatusCode::OK);
    let csrf = form_csrf(&page.text().expect("confirmation page"));
    let confirmed = confirm_claim(&mut browser, &claim, &csrf);
    assert_eq!(confirmed.status(), StatusCode::FOUND, "{}", server.logs());
    let walker = browser.cookies["user_id"].clone();

    // 4. The CLI now says whose token it holds.
    let (output, said) = cli_run(&["login"], &[]);
    assert!(output.status.success(), "{said}");
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("Already logged to instance as walker"),
        "{said}"
    );

    // 5. Its upload, with the stored token, lands in walker's sequence.
    let (output, said) = cli_run(&["upload", "--wait"], &[&folder]);
    assert!(output.status.success(), "{said}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("logged in as walker"), "{said}");
    assert!(stdout.contains("2 pictures uploaded"), "{said}");
    assert_eq!(sequences_of(&server, &walker), 1, "{said}");

    // 6. Walker revokes the token from the browser: the next upload is refused before
    //    anything is sent.
    let tokens: Value = browser
        .get(&format!("{}/users/me/tokens", server.api))
        .json()
        .expect("tokens");
    let token_id = tokens
        .as_array()
        .and_then(|t| {
            t.iter()
                .find(|t| stored.contains(t["id"].as_str().unwrap_or("-")))
        })
        .and_then(|t| t["id"].as_str())
        .unwrap_or_else(|| panic!("the CLI's token is not among walker's: {tokens}"))
        .to_owned();
    let revoke = browser
        .request(
            reqwest::Method::DELETE,
            &format!("{}/users/me/tokens/{token_id}", server.api),
        )
        .header("X-CSRF-Token", browser.cookies["flaneur_csrf"].clone());
    let revoked = browser.send(revoke);
    assert_eq!(revoked.status(), StatusCode::OK, "{}", server.logs());
    let (again, _) = copy_pictures(&pictures(&SONY[3..4]));
    let folder = again.path().join("pictures");
    let (output, said) = cli_run(&["upload", "--wait"], &[&folder]);
    assert!(
        !output.status.success(),
        "uploaded with a revoked token\n{said}"
    );
    assert!(said.contains("not authenticated"), "{said}");
    assert_eq!(sequences_of(&server, &walker), 1, "{said}");
}
