//! Tokens of many athletes in Redis (the `redis` feature): the keyed store, and refreshes
//! that are single-flight across processes (independent connection managers and apps).
#![cfg(feature = "redis")]

mod support;

mod redis_support;

use std::time::Duration;

use stravalib::Client;
use stravalib::auth::{KeyedTokenStore, RedisTokenStore, Scope, TokenSet};
use stravalib_sandbox::Sandbox;

use redis_support::RedisServer;
use support::{app_on, bounded};

#[tokio::test]
async fn the_keyed_store_keeps_each_athletes_tokens() {
    let redis = RedisServer::start().await;
    let one = RedisTokenStore::new(redis.connect().await, "app");
    let other_process = RedisTokenStore::new(redis.connect().await, "app");
    let other_app = RedisTokenStore::new(redis.connect().await, "another-app");
    let a = TokenSet::new("access-a", "refresh-a", 1_800_000_000).with_scopes([Scope::Read]);
    let b = TokenSet::new("access-b", "refresh-b", 1_800_000_001);
    one.save(1, &a).await.unwrap();
    one.save(2, &b).await.unwrap();
    assert_eq!(other_process.load(1).await.unwrap(), Some(a));
    assert_eq!(other_process.load(2).await.unwrap(), Some(b.clone()));
    assert_eq!(other_process.load(3).await.unwrap(), None);
    assert_eq!(other_app.load(1).await.unwrap(), None);
    let b2 = TokenSet::new("access-b2", "refresh-b2", 1_800_000_002);
    other_process.save(2, &b2).await.unwrap();
    assert_eq!(one.load(2).await.unwrap(), Some(b2));
}

#[tokio::test]
async fn the_refresh_lock_is_exclusive_and_expires() {
    let redis = RedisServer::start().await;
    let a = RedisTokenStore::new(redis.connect().await, "app")
        .with_lock_times(Duration::from_millis(300), Duration::from_millis(50));
    let b = RedisTokenStore::new(redis.connect().await, "app")
        .with_lock_times(Duration::from_millis(300), Duration::from_secs(5));
    let held = a.lock_refresh(7).await.unwrap().expect("a lock");
    let refused = a.lock_refresh(7).await.unwrap_err();
    assert!(refused.to_string().contains("athlete 7"), "{refused}");
    // Another athlete's lock is independent.
    b.lock_refresh(8).await.unwrap().unwrap().release().await;
    held.release().await;
    // Redis sets the lock's 300 ms lifetime after `started`: whatever the load, the next
    // holder gets it no sooner than 300 ms later (a little less allowed for granularity).
    let started = std::time::Instant::now();
    let again = b
        .lock_refresh(7)
        .await
        .unwrap()
        .expect("released: free again");
    // Its holder dies: the lock is never released, and expires.
    again.abandon();
    let next = bounded("the lock expiring", b.lock_refresh(7))
        .await
        .unwrap()
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(280),
        "waited for the expiry: {:?}",
        started.elapsed()
    );
    next.release().await;
}

/// Tokens of athlete 0, saved in `store`, then expired by the sandbox clock.
async fn expired_tokens(sandbox: &Sandbox, store: &RedisTokenStore) -> (u64, TokenSet) {
    let athlete = sandbox.athlete_id(0).unwrap();
    let tokens = sandbox.issue_tokens(0, Scope::ALL);
    store.save(athlete, &tokens).await.unwrap();
    sandbox.clock().advance(Duration::from_secs(7 * 3600));
    (athlete, tokens)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_refreshing_one_athlete_refresh_once_and_lose_nothing() {
    let redis = RedisServer::start().await;
    let sandbox = Sandbox::builder()
        .seed(11)
        .athletes(2)
        .start()
        .await
        .unwrap();
    let store_a = RedisTokenStore::new(redis.connect().await, "app");
    let store_b = RedisTokenStore::new(redis.connect().await, "app");
    let (athlete, old) = expired_tokens(&sandbox, &store_a).await;
    let app_a = app_on(&sandbox, store_a.clone());
    let app_b = app_on(&sandbox, store_b);
    // Several clients per process, all finding the token expired at once.
    let clients: Vec<Client> = (0..6)
        .map(|i| {
            let app = if i % 2 == 0 { &app_a } else { &app_b };
            app.client_for(athlete).unwrap()
        })
        .collect();
    let calls = clients.iter().map(|c| c.get_logged_in_athlete().send());
    let answers = bounded("the requests", futures::future::join_all(calls)).await;
    for answer in answers {
        assert_eq!(
            answer.unwrap().id.map(|id| id.get()),
            Some(u128::from(athlete))
        );
    }
    let stored = store_a.load(athlete).await.unwrap().unwrap();
    assert_ne!(stored.access_token, old.access_token, "refreshed");
    assert_ne!(stored.refresh_token, old.refresh_token, "rotated");
    for client in &clients {
        let tokens = client.tokens().unwrap();
        assert_eq!(
            tokens.access_token, stored.access_token,
            "one refresh for all"
        );
        assert_eq!(tokens.refresh_token, stored.refresh_token);
    }
    // Nothing lost: the stored refresh token still works.
    sandbox.clock().advance(Duration::from_secs(7 * 3600));
    let later = app_on(&sandbox, RedisTokenStore::new(redis.connect().await, "app"))
        .client_for(athlete)
        .unwrap();
    bounded("a later request", later.get_logged_in_athlete().send())
        .await
        .unwrap();
    let newest = store_a.load(athlete).await.unwrap().unwrap();
    assert_ne!(newest.access_token, stored.access_token);
}

#[tokio::test]
async fn a_refresh_lock_whose_holder_died_expires_and_the_next_refresh_proceeds() {
    let redis = RedisServer::start().await;
    let sandbox = Sandbox::builder()
        .seed(12)
        .athletes(1)
        .start()
        .await
        .unwrap();
    let times = (Duration::from_millis(400), Duration::from_secs(10));
    let store =
        RedisTokenStore::new(redis.connect().await, "app").with_lock_times(times.0, times.1);
    let (athlete, old) = expired_tokens(&sandbox, &store).await;
    // A process took the lock and died before refreshing. Redis set the lock (and its
    // 400 ms lifetime) after `started`, and the request cannot refresh before the lock
    // expires: at least 400 ms pass, however slowly the client is built (a little less
    // allowed for the two clocks' granularity).
    let dead = RedisTokenStore::new(redis.connect().await, "app").with_lock_times(times.0, times.1);
    let started = std::time::Instant::now();
    dead.lock_refresh(athlete).await.unwrap().unwrap().abandon();
    let client = app_on(&sandbox, store.clone()).client_for(athlete).unwrap();
    bounded("the request", client.get_logged_in_athlete().send())
        .await
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(380),
        "waited for the lock: {:?}",
        started.elapsed()
    );
    let stored = store.load(athlete).await.unwrap().unwrap();
    assert_ne!(stored.refresh_token, old.refresh_token);
    assert_eq!(client.tokens().unwrap().access_token, stored.access_token);
}
