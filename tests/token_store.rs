//! Tests of the token stores: the in-memory store, the JSON file store (round trip,
//! permissions, atomic replacement, errors naming the path but not the contents), and a
//! user-implemented store behind `dyn TokenStore`. All values are made up.

use std::path::Path;
use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;
use stravalib::ErrorKind;
use stravalib::auth::{
    AthleteSummary, FileTokenStore, MemoryTokenStore, Scope, TokenSet, TokenStore,
};

const ACCESS: &str = "at-0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3";
const REFRESH: &str = "rt-9f8e7d6c5b4a39281706f5e4d3c2b1a0f9e8d7c6";

fn tokens(n: i64) -> TokenSet {
    let athlete: AthleteSummary = serde_json::from_value(serde_json::json!({
        "id": 987_654,
        "firstname": "Testa",
        "premium": false,
        "badge_type_id": 0
    }))
    .unwrap();
    TokenSet::new(
        format!("{ACCESS}-{n}"),
        format!("{REFRESH}-{n}"),
        1_893_456_000 + n,
    )
    .with_scopes([Scope::Read, Scope::ActivityReadAll])
    .with_athlete(athlete)
}

/// Writes a token file by hand with owner-only permissions, as `FileTokenStore` requires
/// of a file it loads (on Unix).
fn write_owner_only(path: &Path, contents: impl AsRef<[u8]>) {
    std::fs::write(path, contents).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}

/// Names in `dir` other than `keep`.
fn stray_files(dir: &Path, keep: &str) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name != keep)
        .collect()
}

#[tokio::test]
async fn memory_store_round_trip_and_shared_clones() {
    let store = MemoryTokenStore::new();
    assert_eq!(store.load().await.unwrap(), None);
    store.save(&tokens(1)).await.unwrap();
    assert_eq!(store.load().await.unwrap(), Some(tokens(1)));
    let clone = store.clone();
    clone.save(&tokens(2)).await.unwrap();
    assert_eq!(store.load().await.unwrap(), Some(tokens(2)));
    assert_eq!(
        MemoryTokenStore::with_tokens(tokens(3))
            .load()
            .await
            .unwrap(),
        Some(tokens(3))
    );
    let debug = format!("{store:?}");
    assert!(
        !debug.contains(ACCESS) && !debug.contains(REFRESH),
        "{debug}"
    );
}

#[tokio::test]
async fn file_store_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.json");
    let store = FileTokenStore::new(&path);
    assert_eq!(store.path(), path);
    assert_eq!(
        store.load().await.unwrap(),
        None,
        "missing file is Ok(None)"
    );

    store.save(&tokens(1)).await.unwrap();
    let loaded = store.load().await.unwrap().unwrap();
    assert_eq!(loaded, tokens(1));
    let athlete = loaded.athlete.unwrap();
    assert_eq!(athlete.id, Some(987_654));
    assert_eq!(
        athlete.extra.get("badge_type_id"),
        Some(&serde_json::json!(0))
    );

    // The file is plain JSON that another process (or a future version) can read.
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(json["access_token"], format!("{ACCESS}-1"));
    assert_eq!(json["refresh_token"], format!("{REFRESH}-1"));
    assert_eq!(json["expires_at"], 1_893_456_001);
    assert_eq!(json["token_type"], "Bearer");
    assert_eq!(
        json["scopes"],
        serde_json::json!(["read", "activity:read_all"])
    );

    // Replacing works and leaves nothing else in the directory.
    store.save(&tokens(2)).await.unwrap();
    assert_eq!(store.load().await.unwrap(), Some(tokens(2)));
    assert_eq!(stray_files(dir.path(), "tokens.json"), Vec::<String>::new());

    // A minimal file written by hand loads too.
    std::fs::write(
        &path,
        format!(r#"{{"access_token":"{ACCESS}","refresh_token":"{REFRESH}","expires_at":5}}"#),
    )
    .unwrap();
    assert_eq!(
        store.load().await.unwrap(),
        Some(TokenSet::new(ACCESS, REFRESH, 5))
    );
}

#[cfg(unix)]
#[tokio::test]
async fn file_store_writes_owner_only_permissions() {
    use std::os::unix::fs::PermissionsExt as _;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.json");
    // A pre-existing world-readable file is replaced by a 0600 one.
    std::fs::write(&path, b"{}").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();

    let store = FileTokenStore::new(&path);
    store.save(&tokens(1)).await.unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "mode was {mode:o}");

    store.save(&tokens(2)).await.unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "mode was {mode:o}");

    // Created fresh, too.
    let fresh = dir.path().join("fresh.json");
    FileTokenStore::new(&fresh).save(&tokens(3)).await.unwrap();
    let mode = std::fs::metadata(&fresh).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "mode was {mode:o}");
}

#[tokio::test]
async fn failed_save_keeps_the_old_file_intact() {
    let dir = tempfile::tempdir().unwrap();
    // A name so long (250 bytes) that the file can exist but no longer sibling (the
    // temporary file is `.{name}.{random}.tmp`) can be created: every save fails before
    // the rename, even when the tests run as root and permissions cannot be used.
    let name = format!("{}.json", "t".repeat(245));
    let path = dir.path().join(&name);
    let old = serde_json::to_vec(&tokens(1)).unwrap();
    write_owner_only(&path, &old);

    let store = FileTokenStore::new(&path);
    let err = store.save(&tokens(2)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TokenStore);
    assert!(err.message().contains(&name), "{err}");
    let shown = format!("{err} {err:?}");
    assert!(
        !shown.contains(ACCESS) && !shown.contains(REFRESH),
        "{shown}"
    );

    assert_eq!(std::fs::read(&path).unwrap(), old, "old file untouched");
    assert_eq!(store.load().await.unwrap(), Some(tokens(1)));
    assert_eq!(stray_files(dir.path(), &name), Vec::<String>::new());
}

#[tokio::test]
async fn failed_rename_leaves_no_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    // The target is a non-empty directory: the temporary file is written, then the rename
    // fails (for root too), and the temporary file must be removed.
    let target = dir.path().join("tokens.json");
    std::fs::create_dir(&target).unwrap();
    std::fs::write(target.join("keep"), b"x").unwrap();

    let err = FileTokenStore::new(&target)
        .save(&tokens(1))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TokenStore);
    assert!(
        err.message().contains(&target.display().to_string()),
        "{err}"
    );
    let shown = format!("{err} {err:?}");
    assert!(
        !shown.contains(ACCESS) && !shown.contains(REFRESH),
        "{shown}"
    );
    assert_eq!(stray_files(dir.path(), "tokens.json"), Vec::<String>::new());
    assert_eq!(std::fs::read(target.join("keep")).unwrap(), b"x");
}

#[tokio::test]
async fn leftover_temp_file_from_a_crash_does_not_affect_the_target() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.json");
    let store = FileTokenStore::new(&path);
    store.save(&tokens(1)).await.unwrap();
    // What a crash in the middle of writing would leave: a partial temporary sibling.
    let partial = dir.path().join(".tokens.json.00000000deadbeef.tmp");
    std::fs::write(&partial, br#"{"access_token":"at-par"#).unwrap();

    assert_eq!(store.load().await.unwrap(), Some(tokens(1)));
    store.save(&tokens(2)).await.unwrap();
    assert_eq!(store.load().await.unwrap(), Some(tokens(2)));
    // Only the target and the unrelated leftover remain; the new save left nothing.
    let mut strays = stray_files(dir.path(), "tokens.json");
    strays.sort();
    assert_eq!(strays, [".tokens.json.00000000deadbeef.tmp".to_owned()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_saves_never_expose_a_partial_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.json");
    let store = Arc::new(FileTokenStore::new(&path));
    store.save(&tokens(0)).await.unwrap();

    let mut tasks = Vec::new();
    for n in 1..=20 {
        // Separate store values for the same path, as separate processes would have.
        let writer = FileTokenStore::new(&path);
        tasks.push(tokio::spawn(async move {
            writer.save(&tokens(n)).await.unwrap();
        }));
    }
    let reader = {
        let store = Arc::clone(&store);
        tokio::spawn(async move {
            for _ in 0..200 {
                let loaded = store.load().await.expect("every read parses");
                assert!(loaded.is_some());
                tokio::task::yield_now().await;
            }
        })
    };
    for task in tasks {
        task.await.unwrap();
    }
    reader.await.unwrap();

    let last = store.load().await.unwrap().unwrap();
    assert!((1..=20).any(|n| last == tokens(n)));
    assert_eq!(stray_files(dir.path(), "tokens.json"), Vec::<String>::new());
}

#[tokio::test]
async fn corrupt_file_is_a_token_store_error_naming_the_path_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("corrupt-tokens.json");
    let leaky = "rt-leaky-6b5a4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f";
    for content in [
        format!(r#"{{"access_token":"{ACCESS}","refresh_token":"{leaky}""#),
        format!(r#"{{"access_token":12,"refresh_token":"{leaky}","expires_at":1}}"#),
        format!(
            r#"{{"access_token":"{ACCESS}","refresh_token":"{leaky}","expires_at":"{leaky}"}}"#
        ),
        "not json at all".to_owned(),
    ] {
        write_owner_only(&path, &content);
        let err = FileTokenStore::new(&path).load().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TokenStore, "{content}");
        assert!(err.message().contains(&path.display().to_string()), "{err}");
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains(leaky) && !shown.contains(ACCESS), "{shown}");
    }
}

#[tokio::test]
async fn unreadable_path_and_missing_directory_are_token_store_errors() {
    let dir = tempfile::tempdir().unwrap();
    // A directory where the file should be.
    let err = FileTokenStore::new(dir.path()).load().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TokenStore);
    assert!(err.message().contains(&dir.path().display().to_string()));

    let missing = dir.path().join("no-such-dir").join("tokens.json");
    let err = FileTokenStore::new(&missing)
        .save(&tokens(1))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TokenStore);
    assert!(
        err.message().contains(&missing.display().to_string()),
        "{err}"
    );
    assert!(std::error::Error::source(&err).is_some());
}

/// A user-written store: counts calls and keeps the last set.
#[derive(Debug, Default)]
struct CountingStore {
    saved: Mutex<Vec<TokenSet>>,
}

impl TokenStore for CountingStore {
    fn load(&self) -> BoxFuture<'_, stravalib::Result<Option<TokenSet>>> {
        let last = self.saved.lock().unwrap().last().cloned();
        Box::pin(async move { Ok(last) })
    }

    fn save<'a>(&'a self, tokens: &'a TokenSet) -> BoxFuture<'a, stravalib::Result<()>> {
        Box::pin(async move {
            self.saved.lock().unwrap().push(tokens.clone());
            Ok(())
        })
    }
}

#[tokio::test]
async fn stores_work_as_trait_objects() {
    let dir = tempfile::tempdir().unwrap();
    let stores: Vec<Arc<dyn TokenStore>> = vec![
        Arc::new(MemoryTokenStore::new()),
        Arc::new(FileTokenStore::new(dir.path().join("t.json"))),
        Arc::new(CountingStore::default()),
    ];
    for store in &stores {
        assert_eq!(store.load().await.unwrap(), None);
        store.save(&tokens(7)).await.unwrap();
        assert_eq!(store.load().await.unwrap(), Some(tokens(7)));
        let debug = format!("{store:?}");
        assert!(
            !debug.contains(ACCESS) && !debug.contains(REFRESH),
            "{debug}"
        );
    }
    let boxed: Box<dyn TokenStore> = Box::new(MemoryTokenStore::with_tokens(tokens(8)));
    assert_eq!(boxed.load().await.unwrap(), Some(tokens(8)));

    fn assert_send<T: Send>(_: T) {}
    assert_send(stores[1].load());
}
