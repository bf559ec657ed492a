//! The `blog-gateway` binary: a thin shim over the library.

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use blog_gateway::cli;

// glibc's allocator spent a third of the CPU of a nested query in malloc/free bookkeeping.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use blog_gateway::config::Config;

#[derive(Parser)]
#[command(
    name = "blog-gateway",
    version,
    about = "GraphQL gateway and legacy REST API over a blog",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    config: Config,
}

// Parsed once at start-up, so the size of the configuration variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Run the server (the default): creates and migrates the database, then serves.
    Serve(Config),
    /// Print the GraphQL schema (SDL); `schema.graphql` is this output.
    Schema,
    /// Exit 0 when the local server's /api/health says OK (for container health checks).
    Healthcheck {
        /// Base URL of the server to check.
        #[arg(long, env = "HEALTHCHECK_URL")]
        url: Option<String>,
        /// Port of the local server, when no URL is given.
        #[arg(long, env = "PORT", default_value_t = 3000)]
        port: u16,
    },
    /// Fill the database with deterministic demo data (creates and migrates it when needed).
    Seed(cli::SeedArgs),
    /// Manage trusted GraphQL documents (the allow-list of TRUSTED_DOCUMENTS mode).
    #[command(subcommand)]
    Documents(DocumentsCommand),
}

#[derive(Subcommand)]
enum DocumentsCommand {
    /// Register documents; prints the sha256 of each.
    Add(cli::AddDocumentsArgs),
}

fn main() -> ExitCode {
    let matches = Cli::command().try_get_matches();
    let cli = match matches.and_then(|m| Cli::from_arg_matches(&m)) {
        Ok(cli) => cli,
        Err(error) => return cli::report_arg_error(error),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            None => cli::serve(cli.config).await,
            Some(Command::Serve(config)) => cli::serve(config).await,
            Some(Command::Documents(DocumentsCommand::Add(args))) => cli::add_documents(args).await,
            Some(Command::Schema) => {
                print!("{}", cli::schema_sdl());
                Ok(())
            }
            Some(Command::Healthcheck { url, port }) => {
                let url = url.unwrap_or_else(|| format!("http://127.0.0.1:{port}"));
                cli::healthcheck(&url).await
            }
            Some(Command::Seed(args)) => cli::seed(args).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
