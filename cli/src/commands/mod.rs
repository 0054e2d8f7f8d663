//! One module per command.

mod activities;
mod activity;
mod export;
mod limits;
mod login;
mod sync;
mod upload;
mod webhooks;
mod whoami;

use anyhow::Result;

use crate::args::{Command, RouteCommand};
use crate::config::Ctx;

/// Runs `command`.
pub async fn dispatch(ctx: &Ctx, command: Command) -> Result<()> {
    match command {
        Command::Login(args) => login::login(ctx, args).await,
        Command::Logout => login::logout(ctx).await,
        Command::Whoami(args) => whoami::run(ctx, args.format).await,
        Command::Activities(args) => activities::run(ctx, args).await,
        Command::Activity(args) => activity::run(ctx, args).await,
        Command::Export(args) => export::activity(ctx, args).await,
        Command::Route(RouteCommand::Export { id, format, output }) => {
            export::route(ctx, id, format, output).await
        }
        Command::Upload(args) => upload::run(ctx, args).await,
        Command::Sync(args) => sync::run(ctx, args).await,
        Command::Limits(args) => limits::run(ctx, args.format).await,
        Command::Webhooks(command) => webhooks::run(ctx, command).await,
        // Handled before any connection is set up.
        Command::Completions { .. } => Ok(()),
    }
}
