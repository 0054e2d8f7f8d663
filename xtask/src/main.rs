//! stravalib's maintainer tools, one binary with a subcommand per tool, run from anywhere in
//! the workspace through the alias in `.cargo/config.toml`:
//!
//! ```text
//! cargo xtask spec-diff [--ours PATH] [--deviations PATH] [--verbose] THEIRS.json
//! cargo xtask conformance DIR [--spec openapi/strava.json]
//! cargo xtask replay RECORDINGS_DIR
//! cargo xtask fidelity SHARED_DIR [--ledger openapi/fidelity.json]
//! ```
//!
//! - `spec-diff`: Strava's published API description against `openapi/`, structurally
//!   ([`spec_diff`]);
//! - `conformance`: recorded Strava traffic against the generated types ([`conformance`]);
//! - `replay`: recorded paging and upload traffic through the `Client` ([`replay`]);
//! - `fidelity`: the sandbox's answers against Strava's description and recorded answers
//!   ([`fidelity`]).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

mod conformance;
mod fidelity;
mod replay;
mod spec_diff;

const USAGE: &str = "usage: cargo xtask COMMAND [ARGS...]

Commands:
  spec-diff     compare Strava's published API description with openapi/
  conformance   check recorded Strava traffic against the generated types
  replay        replay recorded paging and upload traffic through the Client
  fidelity      check the sandbox's answers against Strava's description and recordings

`cargo xtask COMMAND --help` describes a command's arguments.";

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let command = args.next();
    let args: Vec<OsString> = args.collect();
    match command.as_ref().and_then(|c| c.to_str()) {
        Some("spec-diff") => spec_diff::main(&args),
        Some("conformance") => conformance::main(&args),
        Some("replay") => replay::main(&args),
        Some("fidelity") => fidelity::main(&args),
        Some("-h" | "--help") => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        other => {
            match other {
                Some(other) => eprintln!("xtask: unknown command `{other}`\n\n{USAGE}"),
                None if command.is_some() => eprintln!("xtask: unknown command\n\n{USAGE}"),
                None => eprintln!("{USAGE}"),
            }
            ExitCode::from(2)
        }
    }
}

/// The workspace root (the `stravalib` package), where `openapi/` lives: default paths
/// of the tools are relative to it.
fn project_root() -> PathBuf {
    let xtask = Path::new(env!("CARGO_MANIFEST_DIR"));
    xtask.parent().unwrap_or(xtask).to_path_buf()
}
