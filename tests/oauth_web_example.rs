//! The `oauth_web` example, end to end against the sandbox: the home page's link, Strava's
//! redirect, the state check, the code exchange, the file token store, the athlete shown.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use stravalib_sandbox::Sandbox;

/// `target/<profile>/examples/oauth_web`, built by `cargo test` with the other examples
/// (or on demand when only this test is run).
fn example_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target layout");
    let binary = profile_dir.join("examples").join("oauth_web");
    if !binary.exists() {
        let status = Command::new(env!("CARGO"))
            .args(["build", "--example", "oauth_web"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building the example failed");
    }
    binary
}

struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_with_strava_stores_tokens_and_shows_the_athlete() {
    let sandbox = Sandbox::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(example_binary())
        .current_dir(dir.path())
        .env("STRAVA_CLIENT_ID", sandbox.client_id().to_string())
        .env("STRAVA_CLIENT_SECRET", sandbox.client_secret())
        .env("STRAVA_OAUTH_BASE", sandbox.oauth_base())
        .env("STRAVA_API_BASE", sandbox.api_base())
        .env("OAUTH_WEB_ADDR", "127.0.0.1:0")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the example starts");
    let stdout = child.stdout.take().unwrap();
    let _guard = KillOnDrop(child);
    // First line: "open http://127.0.0.1:PORT/".
    let first = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).map(|_| line)
    });
    let line = tokio::time::timeout(Duration::from_secs(30), first)
        .await
        .expect("the example prints its address within 30 s")
        .unwrap()
        .unwrap();
    let home = line
        .trim()
        .strip_prefix("open ")
        .expect("an address")
        .to_owned();

    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = http.get(&home).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Connect with Strava"), "{page}");
    let link = page
        .split("href=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a link")
        .replace("&amp;", "&");
    assert!(link.starts_with(&sandbox.oauth_base()), "{link}");
    assert!(link.contains("state="), "{link}");

    // Strava (the sandbox) approves and redirects back with a code and our state.
    let answer = http.get(&link).send().await.unwrap();
    assert_eq!(answer.status().as_u16(), 302);
    let back = answer.headers()["location"].to_str().unwrap().to_owned();
    assert!(back.starts_with(&format!("{home}authorization?")), "{back}");

    // A forged state is refused before any exchange.
    let forged = back.replace("state=", "state=forged");
    let refused = http
        .get(&forged)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(refused.contains("unknown state"), "{refused}");

    let done = http.get(&back).send().await.unwrap().text().await.unwrap();
    assert!(done.contains("Connected"), "{done}");
    let athlete_id = sandbox.athlete_id(0).unwrap().to_string();
    let stored = dir
        .path()
        .join("strava-tokens")
        .join(format!("{athlete_id}.json"));
    let text = std::fs::read_to_string(&stored).expect("tokens saved");
    assert!(text.contains("access_token"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&stored).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    // The page shows the athlete the sandbox authorized, never a token.
    assert!(done.contains(&athlete_id), "{done}");
    assert!(!done.contains("access_token"));

    // Two more visitors at once, each with a state of their own, for athletes 1 and 2.
    let link_of = |page: String| {
        page.split("href=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("a link")
            .replace("&amp;", "&")
    };
    let home_b = http.get(&home).send().await.unwrap().text().await.unwrap();
    let home_c = http.get(&home).send().await.unwrap().text().await.unwrap();
    let mut backs = Vec::new();
    for (index, page) in [(1, home_b), (2, home_c)] {
        sandbox.authorize_as(index);
        let answer = http.get(link_of(page)).send().await.unwrap();
        assert_eq!(answer.status().as_u16(), 302);
        backs.push(answer.headers()["location"].to_str().unwrap().to_owned());
    }
    // They come back in the other order.
    for (index, back) in [(2, &backs[1]), (1, &backs[0])] {
        let done = http.get(back).send().await.unwrap().text().await.unwrap();
        let id = sandbox.athlete_id(index).unwrap().to_string();
        assert!(done.contains("Connected") && done.contains(&id), "{done}");
        let file = dir.path().join("strava-tokens").join(format!("{id}.json"));
        assert!(file.exists(), "athlete {id}'s tokens in their own file");
    }
    assert!(
        stored.exists(),
        "the first athlete's tokens are still there"
    );
    // A state is used once.
    let again = http
        .get(&backs[0])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(again.contains("unknown"), "{again}");
}
