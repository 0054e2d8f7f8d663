//! `strava login` and `logout` against a sandbox served from the test: the browser's part
//! is played by the test (it opens the printed URL and follows Strava's redirect to the
//! tool's callback server), the CSRF state is checked, the tokens are saved 0600 with the
//! scopes granted, refreshed and rotated by the library's token store, and revoked.

mod common;

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::{TestSandbox, strava, temp_dir, wait_bounded};
use serde_json::Value;

/// The sandbox's app settings, without tokens.
fn app_env(t: &TestSandbox) -> Vec<(&'static str, String)> {
    t.env()
        .into_iter()
        .filter(|(name, _)| *name != "STRAVA_ACCESS_TOKEN")
        .collect()
}

/// Starts `strava login --no-browser ARGS`; returns the child, the authorization URL it
/// printed, and the rest of its stderr (read on a thread).
fn start_login(
    t: &TestSandbox,
    config: &Path,
    args: &[&str],
) -> (Child, String, mpsc::Receiver<String>) {
    let mut all = vec!["login", "--no-browser"];
    all.extend_from_slice(args);
    let mut command = strava(config, &all);
    command
        .envs(app_env(t))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("strava starts");
    let stderr = child.stderr.take().unwrap();
    let (lines, received) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let url = loop {
        let line = received
            .recv_timeout(Duration::from_secs(30))
            .expect("strava prints the authorization URL");
        let line = line.trim();
        if line.starts_with("http") && line.contains("/authorize?") {
            break line.to_owned();
        }
    };
    (child, url, received)
}

fn finish(mut child: Child, rest: mpsc::Receiver<String>) -> (Option<i32>, String, String) {
    let mut stdout = child.stdout.take().unwrap();
    let code = wait_bounded(&mut child, Duration::from_secs(60));
    let mut out = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut out).unwrap();
    let err: Vec<String> = rest.iter().collect();
    (code, out, err.join("\n"))
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn login_saves_rotates_and_logout_revokes() {
    let t = TestSandbox::start(3);
    let dir = temp_dir();
    let config = dir.path();
    let (child, url, rest) = start_login(
        &t,
        config,
        &["--scope", "read,activity:read_all,profile:read_all"],
    );
    assert!(url.contains("state=") && url.contains("redirect_uri=http%3A%2F%2F127.0.0.1%3A"));
    // The athlete approves: Strava redirects the browser to the callback.
    let page = t
        .block_on(async { reqwest::get(&url).await?.text().await })
        .expect("the callback answers");
    assert!(page.contains("Signed in"), "{page}");
    let (code, stdout, stderr) = finish(child, rest);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(stdout.starts_with("Signed in as "), "{stdout}");
    assert!(
        stdout.contains("scopes: read,activity:read_all,profile:read_all"),
        "{stdout}"
    );
    for secret in t.secrets() {
        assert!(!stdout.contains(&secret) && !stderr.contains(&secret));
    }

    let tokens_file = config.join("tokens.json");
    let saved: Value = serde_json::from_slice(&std::fs::read(&tokens_file).unwrap()).unwrap();
    #[cfg(unix)]
    {
        assert_eq!(mode(&tokens_file), 0o600);
        assert_eq!(mode(&config.join("app.json")), 0o600);
    }

    // Later commands use the saved login (no tokens in the environment)...
    let mut whoami = strava(config, &["whoami", "--format", "json"]);
    whoami.envs(app_env(&t));
    let doc: Value = serde_json::from_str(&common::run(whoami).ok().stdout).unwrap();
    assert_eq!(doc["login"], "saved");
    assert_eq!(
        doc["scopes"],
        serde_json::json!(["read", "activity:read_all", "profile:read_all"])
    );

    // ...even with nothing but the config dir: app.json remembers the app and the bases.
    let alone = common::run(strava(config, &["whoami"])).ok();
    assert!(alone.stdout.contains("saved login"), "{}", alone.stdout);

    // Six hours on, Strava refuses the access token; the library refreshes it and the
    // store saves the rotated refresh token (still 0600, scopes kept).
    t.sandbox.clock().advance(Duration::from_secs(7 * 3600));
    common::run(strava(config, &["whoami"])).ok();
    let rotated: Value = serde_json::from_slice(&std::fs::read(&tokens_file).unwrap()).unwrap();
    assert_ne!(rotated["refresh_token"], saved["refresh_token"]);
    assert_ne!(rotated["access_token"], saved["access_token"]);
    assert_eq!(rotated["scopes"], saved["scopes"]);
    #[cfg(unix)]
    assert_eq!(mode(&tokens_file), 0o600);

    let out = common::run(strava(config, &["logout"])).ok();
    assert!(out.stdout.contains("revoked and deleted"), "{}", out.stdout);
    assert!(!tokens_file.exists());
    let gone = common::run(strava(config, &["whoami"])).expect_code(1);
    assert!(
        gone.stderr.starts_with("error: not signed in"),
        "{}",
        gone.stderr
    );
    // The revoked refresh token no longer works on Strava.
    let mut old = strava(config, &["whoami"]);
    old.envs(app_env(&t)).env(
        "STRAVA_REFRESH_TOKEN",
        rotated["refresh_token"].as_str().unwrap(),
    );
    common::run(old).expect_code(1);
    let again = common::run(strava(config, &["logout"])).ok();
    assert!(again.stdout.contains("Not signed in"));
}

#[test]
fn a_forged_state_is_refused() {
    let t = TestSandbox::start(2);
    let dir = temp_dir();
    let (child, url, rest) = start_login(&t, dir.path(), &[]);
    let parsed = url::Url::parse(&url).unwrap();
    let redirect = parsed
        .query_pairs()
        .find(|(k, _)| k == "redirect_uri")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    // Another page sends the browser to the callback with a code of its choosing.
    let forged = format!("{redirect}?code=attacker-code&state=forged&scope=read");
    let status = t
        .block_on(async { reqwest::get(&forged).await.map(|r| r.status()) })
        .unwrap();
    assert_eq!(status.as_u16(), 400);
    let (code, stdout, stderr) = finish(child, rest);
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    assert!(stderr.contains("state mismatch"), "{stderr}");
    assert!(!dir.path().join("tokens.json").exists());
}

#[test]
fn sandbox_login_follows_its_own_consent_redirect() {
    let dir = temp_dir();
    let run = common::run(strava(dir.path(), &["--sandbox", "login", "--no-browser"])).ok();
    assert!(run.stdout.starts_with("Signed in as "), "{}", run.stdout);
    assert!(
        run.stderr.contains("following its consent redirect"),
        "{}",
        run.stderr
    );
    let tokens = dir.path().join("sandbox").join("tokens.json");
    assert!(tokens.exists());
    #[cfg(unix)]
    assert_eq!(mode(&tokens), 0o600);
    // Apart from the real login.
    assert!(!dir.path().join("tokens.json").exists());
    let app: Value = serde_json::from_slice(
        &std::fs::read(dir.path().join("sandbox").join("app.json")).unwrap(),
    )
    .unwrap();
    assert!(
        app.get("api_base").is_none(),
        "the sandbox's port is not remembered"
    );
}

#[test]
fn login_needs_the_app() {
    let dir = temp_dir();
    let run = common::run(strava(dir.path(), &["login", "--no-browser"])).expect_code(1);
    assert!(
        run.stderr.contains("needs the app's client id and secret"),
        "{}",
        run.stderr
    );
    let half = {
        let mut command = strava(dir.path(), &["login", "--no-browser"]);
        command.env("STRAVA_CLIENT_ID", "1234");
        common::run(command).expect_code(1)
    };
    assert!(half.stderr.contains("go together"), "{}", half.stderr);
}

#[cfg(unix)]
#[test]
fn a_token_file_others_can_read_is_refused_and_login_replaces_it() {
    use std::os::unix::fs::PermissionsExt as _;
    let t = TestSandbox::start(2);
    let dir = temp_dir();
    let tokens_file = dir.path().join("tokens.json");
    std::fs::write(
        &tokens_file,
        br#"{"access_token":"a","refresh_token":"r","expires_at":0}"#,
    )
    .unwrap();
    std::fs::set_permissions(&tokens_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut whoami = strava(dir.path(), &["whoami"]);
    whoami.envs(app_env(&t));
    let refused = common::run(whoami).expect_code(1);
    assert!(refused.stderr.contains("chmod 600"), "{}", refused.stderr);
    assert_eq!(refused.stderr.lines().count(), 1, "{}", refused.stderr);

    let (child, url, rest) = start_login(&t, dir.path(), &[]);
    t.block_on(async { reqwest::get(&url).await?.text().await })
        .unwrap();
    let (code, stdout, stderr) = finish(child, rest);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert_eq!(mode(&tokens_file), 0o600);
}
