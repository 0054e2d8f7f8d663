//! A token file others can read is refused on load (issue "Hardening", item 7): the
//! error has kind `TokenStore`, names the path and the fix (`chmod 600 <path>`), and never
//! shows the file's content. `FileTokenStore::allow_loose_permissions(true)` opts out.
//! Unix only: elsewhere no permission check is made.
#![cfg(unix)]

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use httpmock::MockServer;
use stravalib::ErrorKind;
use stravalib::auth::{FileTokenStore, TokenSet, TokenStore};

const ACCESS: &str = "at-perm-3c2b1a0f9e8d7c6b5a4938271605f4e3d2c1b0a9";
const REFRESH: &str = "rt-perm-a9b8c7d6e5f40312a1b2c3d4e5f60718293a4b5c";

fn write_token_file(path: &Path, mode: u32) {
    std::fs::write(
        path,
        format!(r#"{{"access_token":"{ACCESS}","refresh_token":"{REFRESH}","expires_at":5}}"#),
    )
    .unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn expected() -> TokenSet {
    TokenSet::new(ACCESS, REFRESH, 5)
}

#[tokio::test]
async fn a_world_readable_token_file_is_refused_naming_the_path_and_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.json");
    write_token_file(&path, 0o644);

    let err = FileTokenStore::new(&path).load().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TokenStore, "{err:?}");
    let shown = format!("{err} {err:?}");
    assert!(err.message().contains(&path.display().to_string()), "{err}");
    assert!(
        err.message()
            .contains(&format!("chmod 600 {}", path.display())),
        "names the fix: {err}"
    );
    assert!(err.message().contains("644"), "names the mode: {err}");
    assert!(
        !shown.contains(ACCESS) && !shown.contains(REFRESH),
        "never the content: {shown}"
    );
    // Refusing changed nothing: the file and its mode are as they were.
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o644);
}

#[tokio::test]
async fn group_access_is_refused_too() {
    let dir = tempfile::tempdir().unwrap();
    for mode in [0o640, 0o604, 0o660, 0o620, 0o602, 0o666, 0o777] {
        let path = dir.path().join(format!("tokens-{mode:o}.json"));
        write_token_file(&path, mode);
        let err = FileTokenStore::new(&path).load().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TokenStore, "mode {mode:o}: {err:?}");
        assert!(
            err.message()
                .contains(&format!("chmod 600 {}", path.display())),
            "mode {mode:o}: {err}"
        );
    }
}

#[tokio::test]
async fn owner_only_files_load() {
    let dir = tempfile::tempdir().unwrap();
    for mode in [0o600, 0o400, 0o700] {
        let path = dir.path().join(format!("tokens-{mode:o}.json"));
        write_token_file(&path, mode);
        assert_eq!(
            FileTokenStore::new(&path).load().await.unwrap(),
            Some(expected()),
            "mode {mode:o}"
        );
    }
}

#[tokio::test]
async fn the_opt_out_loads_a_loose_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared-tokens.json");
    write_token_file(&path, 0o644);
    let store = FileTokenStore::new(&path).allow_loose_permissions(true);
    assert_eq!(store.load().await.unwrap(), Some(expected()));
    // A clone keeps the setting; switching it back off refuses again.
    assert_eq!(store.clone().load().await.unwrap(), Some(expected()));
    let strict = store.allow_loose_permissions(false);
    assert!(strict.load().await.is_err());
}

#[tokio::test]
async fn a_save_makes_a_loose_file_loadable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.json");
    write_token_file(&path, 0o644);
    let store = FileTokenStore::new(&path);
    assert!(store.load().await.is_err());
    // Saving replaces it with an owner-only file, which then loads.
    store.save(&expected()).await.unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert_eq!(store.load().await.unwrap(), Some(expected()));
}

#[tokio::test]
async fn a_missing_file_is_still_nothing_stored() {
    let dir = tempfile::tempdir().unwrap();
    let store = FileTokenStore::new(dir.path().join("none.json"));
    assert_eq!(store.load().await.unwrap(), None);
}

/// Through a client: the refusal stops the first call before anything is sent.
#[tokio::test]
async fn a_client_with_a_loose_token_file_sends_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.json");
    write_token_file(&path, 0o644);
    let server = MockServer::start_async().await;
    let any = server
        .mock_async(|_, then| {
            then.status(200).json_body(serde_json::json!({"id": 1}));
        })
        .await;
    let client = stravalib::Client::builder()
        .base_url(server.url("/api/v3"))
        .oauth_base(server.url("/oauth"))
        .token_store(FileTokenStore::new(&path))
        .build()
        .unwrap();
    let err = client.get_athlete().await.expect_err("refused");
    assert_eq!(err.kind(), ErrorKind::TokenStore, "{err:?}");
    assert!(err.message().contains("chmod 600"), "{err}");
    let shown = format!("{err} {err:?}");
    assert!(
        !shown.contains(ACCESS) && !shown.contains(REFRESH),
        "{shown}"
    );
    any.assert_calls_async(0).await;
}
