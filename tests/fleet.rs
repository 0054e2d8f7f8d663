//! A small fleet (the `fleet` example): worker processes sharing one budget and the
//! athletes' tokens in Redis, checked by the sandbox's own figures.
#![cfg(feature = "redis")]

use std::process::Command;
use std::time::Duration;

/// `target/<profile>/examples/fleet`, built by `cargo test --features redis` (or
/// `cargo build --features redis --example fleet` before `--test fleet`).
fn fleet_example() -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).unwrap();
    let binary = profile_dir
        .join("examples")
        .join(format!("fleet{}", std::env::consts::EXE_SUFFIX));
    if !binary.exists() {
        let status = Command::new(env!("CARGO"))
            .args(["build", "--features", "redis", "--example", "fleet"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building the fleet example failed");
    }
    binary
}

/// The numbers of `fleet: N requests, R rate-limited (429), max M per window (limit L),
/// F refreshes for A athletes, T tokens lost`.
fn figures(line: &str) -> Vec<u64> {
    line.replace("(429)", "")
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect()
}

fn run(extra: &[&str]) -> Vec<u64> {
    let mut child = Command::new(fleet_example())
        .args(["--workers", "3", "--athletes", "10", "--requests", "200"])
        .args(extra)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("the fleet example (built with --features redis)");
    // Bounded: the fleet itself gives up on workers after 5 minutes.
    let deadline = std::time::Instant::now() + Duration::from_secs(400);
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("the fleet ran for more than 400 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .find(|l| l.starts_with("fleet: "))
        .unwrap_or_else(|| panic!("no fleet line in {stdout:?}"));
    assert!(output.status.success(), "{line}");
    figures(line)
}

#[test]
fn a_small_fleet_shares_the_budget_and_loses_no_token() {
    let [n, r, m, l, f, a, t] = run(&[])[..] else {
        panic!("seven figures")
    };
    assert!(n >= 200, "every request served: {n}");
    assert_eq!(r, 0, "no 429");
    assert!(m <= l, "at most the limit per window: {m} > {l}");
    assert_eq!((f, a), (10, 10), "one refresh per athlete's expiry");
    assert_eq!(t, 0, "no token lost");
}

#[test]
fn workers_killed_mid_refresh_lose_no_token() {
    // One worker dies holding an athlete's refresh lock; another is killed while its token
    // request is at the server (which rotated the token and answers late): the fleet waits
    // for the locks to expire and refreshes both athletes with what the store holds.
    let [n, r, m, l, f, a, t] = run(&["--kill-mid-refresh"])[..] else {
        panic!("seven figures")
    };
    assert!(n >= 200);
    assert_eq!(r, 0);
    assert!(m <= l);
    assert_eq!(
        (f, a, t),
        (11, 10, 0),
        "the killed worker's refresh counted, none lost"
    );
}
