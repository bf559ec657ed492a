//! The subcommands of the binary: serve, schema, healthcheck, seed.

mod documents;
mod healthcheck;
mod seed;
mod serve;

use std::process::ExitCode;

use clap::error::{ContextKind, ContextValue, ErrorKind};

pub use documents::{AddDocumentsArgs, add_documents, load_folder};
pub use healthcheck::healthcheck;
pub use seed::{SeedArgs, seed};
pub use serve::{init_tracing, serve};

/// The SDL of the GraphQL schema (with default limits, which do not change the SDL).
pub fn schema_sdl() -> String {
    use clap::Parser;
    #[derive(Parser)]
    struct Defaults {
        #[command(flatten)]
        config: crate::config::Config,
    }
    // Parsing no arguments yields the documented defaults; the environment cannot change the SDL.
    let config = Defaults::parse_from(["schema"]).config;
    crate::graphql::sdl(&config)
}

/// Prints a command-line or environment error as one line that names the variable and what is
/// expected, then exits with status 2 (help and version print as usual).
pub fn report_arg_error(error: clap::Error) -> ExitCode {
    match error.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = error.print();
            ExitCode::SUCCESS
        }
        ErrorKind::ValueValidation | ErrorKind::InvalidValue => {
            let arg = match error.get(ContextKind::InvalidArg) {
                Some(ContextValue::String(arg)) => arg.clone(),
                _ => String::from("a setting"),
            };
            let flag = arg.split_whitespace().next().unwrap_or(&arg).to_owned();
            let env = env_name_of(&flag);
            let value = match error.get(ContextKind::InvalidValue) {
                Some(ContextValue::String(value)) if env.as_deref() != Some("JWT_SECRET") => {
                    format!("{value:?}")
                }
                _ => "the given value".to_owned(),
            };
            let expected = match (
                std::error::Error::source(&error),
                error.get(ContextKind::ValidValue),
            ) {
                (Some(source), _) => source.to_string(),
                (None, Some(ContextValue::Strings(valid))) => format!("expected one of {}", valid.join(", ")),
                _ => "see --help for the accepted values".to_owned(),
            };
            let name = env.map_or_else(|| flag.clone(), |env| format!("{env} ({flag})"));
            eprintln!("configuration error: {name} = {value}: {expected}");
            ExitCode::from(2)
        }
        _ => {
            let _ = error.print();
            ExitCode::from(2)
        }
    }
}

/// The environment variable behind a `--flag`, looked up in the configuration's definition.
fn env_name_of(flag: &str) -> Option<String> {
    use clap::{Args, Command};
    let command = crate::config::Config::augment_args(Command::new("config"));
    command
        .get_arguments()
        .find(|a| a.get_long().is_some_and(|long| format!("--{long}") == flag))
        .and_then(|a| a.get_env())
        .map(|env| env.to_string_lossy().into_owned())
}
