//! `strava-sandbox`: the embedded Strava of `stravalib_sandbox`, standalone, for apps in
//! any language.
//!
//! ```text
//! cargo run -p stravalib-sandbox -- --port 8080 --seed 7
//! curl -H "Authorization: Bearer $STRAVA_ACCESS_TOKEN" http://127.0.0.1:8080/api/v3/athlete
//! ```

const USAGE: &str = "\
usage: strava-sandbox [--port N] [--seed N] [--athletes N] [--activities N]
                      [--rate-limits SHORT,DAILY,READ_SHORT,READ_DAILY] [--compress]
                      [--clock-speed N] [--token-lifetime SECS]

Serves an offline Strava API v3 and OAuth on 127.0.0.1 until interrupted (Ctrl-C).
Prints the base URLs, the app's client id and secret, and tokens for athlete 0.

  --port N          port to listen on (default 0: any free port)
  --seed N          seed of the generated data and credentials (default 1)
  --athletes N      number of athletes (default 3)
  --activities N    activities per athlete (default 120)
  --rate-limits L   15-minute, daily, read 15-minute, read daily limits
                    (default 200,2000,100,1000): the application's limits,
                    whatever token or process the requests come with
  --clock-speed N   the sandbox clock runs N times faster than real time
                    (default 1; 900: a 15-minute window passes in a second)
  --token-lifetime SECS
                    access tokens live SECS seconds of sandbox time
                    (default 21600, six hours)
  --compress        gzip or brotli answers when the request asks (Accept-Encoding)
  -h, --help        this help";

#[derive(Debug)]
struct Args {
    port: u16,
    seed: u64,
    athletes: usize,
    activities: usize,
    limits: Option<[u32; 4]>,
    clock_speed: u32,
    token_lifetime: Option<u64>,
    compress: bool,
}

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Option<Args>, String> {
    fn number<T: std::str::FromStr>(flag: &str, value: Option<String>) -> Result<T, String> {
        let value = value.ok_or_else(|| format!("{flag} needs a value"))?;
        value
            .trim()
            .parse()
            .map_err(|_| format!("{flag}: `{value}` is not a valid number"))
    }
    let mut out = Args {
        port: 0,
        seed: 1,
        athletes: 3,
        activities: 120,
        limits: None,
        clock_speed: 1,
        token_lifetime: None,
        compress: false,
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        let mut value = || inline.clone().or_else(|| args.next());
        match flag.as_str() {
            "-h" | "--help" => return Ok(None),
            "--port" => out.port = number(&flag, value())?,
            "--seed" => out.seed = number(&flag, value())?,
            "--athletes" => {
                out.athletes = number(&flag, value())?;
                if out.athletes == 0 {
                    return Err("--athletes must be at least 1".to_owned());
                }
            }
            "--activities" => out.activities = number(&flag, value())?,
            "--clock-speed" => {
                out.clock_speed = number(&flag, value())?;
                if out.clock_speed == 0 {
                    return Err("--clock-speed must be at least 1".to_owned());
                }
            }
            "--token-lifetime" => {
                let secs: u64 = number(&flag, value())?;
                if secs == 0 {
                    return Err("--token-lifetime must be at least 1".to_owned());
                }
                out.token_lifetime = Some(secs);
            }
            "--compress" => out.compress = true,
            "--rate-limits" => {
                let text = value().ok_or("--rate-limits needs a value")?;
                let parts: Vec<u32> = text
                    .split(',')
                    .map(|p| p.trim().parse::<u32>())
                    .collect::<Result<_, _>>()
                    .map_err(|_| format!("--rate-limits: `{text}` is not four numbers"))?;
                match parts[..] {
                    [a, b, c, d] if a > 0 && b > 0 && c > 0 && d > 0 => {
                        out.limits = Some([a, b, c, d])
                    }
                    _ => {
                        return Err(format!(
                            "--rate-limits: `{text}` is not four positive numbers"
                        ));
                    }
                }
            }
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(Some(out))
}

fn main() {
    use std::io::Write;

    use stravalib::auth::Scope;
    use stravalib_sandbox::Sandbox;

    let args = match parse_args(std::env::args().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{USAGE}");
            return;
        }
        Err(message) => {
            eprintln!("strava-sandbox: {message}\n\n{USAGE}");
            std::process::exit(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("strava-sandbox: cannot start the runtime: {e}");
            std::process::exit(1);
        }
    };
    runtime.block_on(async move {
        let mut builder = Sandbox::builder()
            .port(args.port)
            .seed(args.seed)
            .athletes(args.athletes)
            .activities_per_athlete(args.activities)
            .clock_speed(args.clock_speed)
            .compression(args.compress);
        if let Some(secs) = args.token_lifetime {
            builder = builder.token_lifetime(std::time::Duration::from_secs(secs));
        }
        if let Some([a, b, c, d]) = args.limits {
            builder = builder.rate_limits(a, b, c, d);
        }
        let sandbox = match builder.start().await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("strava-sandbox: {e}");
                std::process::exit(1);
            }
        };
        let tokens = sandbox.issue_tokens(0, Scope::ALL);
        let mut out = std::io::stdout().lock();
        let _ = writeln!(
            out,
            "stravalib sandbox on {} (seed {}, {} athletes, {} activities each)",
            sandbox.base_url(),
            sandbox.seed(),
            sandbox.athlete_count(),
            sandbox.activities_per_athlete()
        );
        let _ = writeln!(out, "STRAVA_API_BASE={}", sandbox.api_base());
        let _ = writeln!(out, "STRAVA_OAUTH_BASE={}", sandbox.oauth_base());
        let _ = writeln!(out, "STRAVA_CLIENT_ID={}", sandbox.client_id());
        let _ = writeln!(out, "STRAVA_CLIENT_SECRET={}", sandbox.client_secret());
        let _ = writeln!(out, "STRAVA_ACCESS_TOKEN={}", tokens.access_token.expose());
        let _ = writeln!(
            out,
            "STRAVA_REFRESH_TOKEN={}",
            tokens.refresh_token.expose()
        );
        let _ = writeln!(
            out,
            "# athlete {} ({}), every scope, token expires {}; Ctrl-C stops the server",
            sandbox.athlete_id(0).unwrap_or_default(),
            tokens
                .athlete
                .as_ref()
                .and_then(|a| a.firstname.clone())
                .unwrap_or_default(),
            tokens.expires_at_time().to_rfc3339()
        );
        let _ = writeln!(
            out,
            "# server-side figures: {}/_sandbox/stats (clock speed {}x)",
            sandbox.base_url(),
            sandbox.clock().speed()
        );
        let _ = out.flush();
        drop(out);
        // Serve until the process is interrupted.
        std::future::pending::<()>().await;
        drop(sandbox);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Result<Option<Args>, String> {
        parse_args(list.iter().map(|s| s.to_string()))
    }

    #[test]
    fn parses_flags() {
        let a = args(&[
            "--port",
            "8080",
            "--seed=7",
            "--athletes",
            "2",
            "--activities",
            "50000",
        ])
        .unwrap()
        .unwrap();
        assert_eq!(
            (a.port, a.seed, a.athletes, a.activities),
            (8080, 7, 2, 50_000)
        );
        let a = args(&["--rate-limits", "5,50,3,30"]).unwrap().unwrap();
        assert_eq!(a.limits, Some([5, 50, 3, 30]));
        let a = args(&["--clock-speed", "900", "--token-lifetime=60"])
            .unwrap()
            .unwrap();
        assert_eq!((a.clock_speed, a.token_lifetime), (900, Some(60)));
        assert!(args(&["--help"]).unwrap().is_none());
    }

    #[test]
    fn rejects_bad_arguments() {
        assert!(args(&["--port", "http"]).unwrap_err().contains("--port"));
        assert!(args(&["--port"]).unwrap_err().contains("needs a value"));
        assert!(args(&["--colour"]).unwrap_err().contains("unknown"));
        assert!(args(&["--athletes", "0"]).is_err());
        assert!(args(&["--rate-limits", "1,2"]).is_err());
        assert!(args(&["--clock-speed", "0"]).is_err());
        assert!(args(&["--token-lifetime", "soon"]).is_err());
    }
}
