//! Tokens of many athletes on one machine: the directory store, its lock files, and an
//! `App` handing out a client per athlete.

mod support;

use std::time::Duration;

use stravalib::Client;
use stravalib::auth::{DirTokenStore, KeyedTokenStore, Scope, TokenSet};
use stravalib_sandbox::Sandbox;
use support::{app_on, bounded};

#[tokio::test]
async fn the_directory_store_keeps_each_athletes_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let store = DirTokenStore::new(dir.path());
    let a = TokenSet::new("access-a", "refresh-a", 1_800_000_000);
    store.save(1, &a).await.unwrap();
    assert_eq!(store.load(1).await.unwrap(), Some(a.clone()));
    assert_eq!(store.load(2).await.unwrap(), None);
    assert_eq!(
        DirTokenStore::new(dir.path()).load(1).await.unwrap(),
        Some(a)
    );
    assert!(dir.path().join("1.json").exists());
}

#[tokio::test]
async fn lock_files_are_exclusive_and_expire() {
    let dir = tempfile::tempdir().unwrap();
    let impatient = DirTokenStore::new(dir.path())
        .with_lock_times(Duration::from_millis(300), Duration::from_millis(50));
    let patient = DirTokenStore::new(dir.path())
        .with_lock_times(Duration::from_millis(300), Duration::from_secs(5));
    let held = impatient.lock_refresh(5).await.unwrap().unwrap();
    assert!(impatient.lock_refresh(5).await.is_err(), "held");
    held.release().await;
    let again = impatient.lock_refresh(5).await.unwrap().unwrap();
    again.abandon();
    let started = std::time::Instant::now();
    let next = bounded("the lock file expiring", patient.lock_refresh(5))
        .await
        .unwrap()
        .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(200));
    next.release().await;
    assert!(!dir.path().join("5.lock").exists(), "released");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_apps_on_one_directory_refresh_an_athlete_once() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = Sandbox::builder()
        .seed(5)
        .athletes(3)
        .start()
        .await
        .unwrap();
    let athlete = sandbox.athlete_id(1).unwrap();
    let old = sandbox.issue_tokens(1, Scope::ALL);
    DirTokenStore::new(dir.path())
        .save(athlete, &old)
        .await
        .unwrap();
    sandbox.clock().advance(Duration::from_secs(7 * 3600));
    let apps = [
        app_on(&sandbox, DirTokenStore::new(dir.path())),
        app_on(&sandbox, DirTokenStore::new(dir.path())),
    ];
    let clients: Vec<Client> = (0..4)
        .map(|i| apps[i % 2].client_for(athlete).unwrap())
        .collect();
    let calls = clients.iter().map(|c| c.get_logged_in_athlete().send());
    for answer in bounded("the requests", futures::future::join_all(calls)).await {
        assert_eq!(
            answer.unwrap().id.map(|id| id.get()),
            Some(u128::from(athlete))
        );
    }
    let stored = apps[0].tokens(athlete).await.unwrap().unwrap();
    assert_ne!(stored.refresh_token, old.refresh_token, "rotated");
    for client in &clients {
        assert_eq!(client.tokens().unwrap().access_token, stored.access_token);
    }
    // An athlete with no stored tokens gets an unauthorized answer, not someone else's.
    let stranger = apps[0].client_for(sandbox.athlete_id(2).unwrap()).unwrap();
    let err = stranger.get_logged_in_athlete().send().await.unwrap_err();
    assert!(err.is_unauthorized(), "{err}");
}
