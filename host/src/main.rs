//! The `inventag` command line.

use std::{path::PathBuf, process::ExitCode, time::Duration};

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};
use inventag::{
    config::Region,
    config::SecretString,
    credentials::{
        ResolveOptions, SecretsManagerMode,
        organizations::{self, OrgOptions},
    },
    run::{RunOptions, RunStatus},
    runtime::Limits,
};
use tracing_subscriber::{layer::SubscriberExt, util::SubscriberInitExt};

/// Exit status of a run whose documents were written but some targets or
/// formats failed.
const EXIT_PARTIAL: u8 = 3;

#[derive(Parser)]
#[command(name = "inventag", version, about = "Bill of materials for everything you run in AWS")]
struct Cli {
    #[command(subcommand)]
    command: Command,

    /// Log filter: error, warn, info, debug, trace, or a tracing filter
    /// such as `inventag=debug`.
    #[arg(long, global = true, env = "INVENTAG_LOG", default_value = "info")]
    log_level: String,

    /// Log line format on stderr.
    #[arg(long, global = true, value_enum, default_value = "text")]
    log_format: LogFormat,

    /// Only errors on stderr.
    #[arg(long, short, global = true)]
    quiet: bool,

    /// More detail on stderr (`-v` debug, `-vv` trace).
    #[arg(long, short, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Scan the accounts of an accounts file and write the BOM.
    Run(RunArgs),
    /// Work with accounts files.
    #[command(subcommand)]
    Accounts(AccountsCommand),
}

impl Command {
    /// The `--endpoint-url` given to the command, if any.
    fn endpoint_url(&self) -> Option<&str> {
        match self {
            Command::Run(a) => a.endpoint_url.as_deref(),
            Command::Accounts(AccountsCommand::Check(a)) => a.endpoint_url.as_deref(),
        }
    }
}

#[derive(Subcommand)]
enum AccountsCommand {
    /// Resolve every account's credentials as a run would, confirm each
    /// with STS, and print the method that won, the caller ARN and every
    /// failed attempt. Exits 0 only when every account resolves.
    Check(CheckArgs),
}

#[derive(Args)]
struct CheckArgs {
    /// The accounts file to check. Optional with --org-role-name.
    #[arg(long, value_name = "FILE", required_unless_present = "org_role_name")]
    accounts_file: Option<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: CheckFormat,

    /// Send STS and Secrets Manager calls to this endpoint instead of AWS.
    #[arg(long, value_name = "URL", env = "AWS_ENDPOINT_URL", value_parser = parse_endpoint)]
    endpoint_url: Option<String>,

    #[command(flatten)]
    credentials: CredentialArgs,
}

#[derive(Clone, Copy, ValueEnum)]
enum CheckFormat {
    Text,
    Json,
}

/// How credentials are looked for, shared by `run` and `accounts check`.
#[derive(Args)]
struct CredentialArgs {
    /// Whether AWS Secrets Manager is a credential source: `auto` turns it
    /// on in CodeBuild only.
    #[arg(long, value_enum, value_name = "MODE", default_value = "auto")]
    secrets_manager: SecretsManagerMode,

    /// The region credential secrets are read in (default: AWS_REGION,
    /// AWS_DEFAULT_REGION, then us-east-1).
    #[arg(long, value_name = "REGION", value_parser = parse_region)]
    secrets_region: Option<Region>,

    /// List the organization's active accounts (Organizations ListAccounts,
    /// with the base credentials) and reach each by assuming this role in
    /// it. Accounts the accounts file lists keep their own settings.
    #[arg(long, value_name = "NAME", value_parser = parse_role_name)]
    org_role_name: Option<String>,

    /// The external id for --org-role-name's role. Prefer the environment
    /// variable: a command line is visible to other users of the machine.
    #[arg(
        long,
        value_name = "ID",
        env = "INVENTAG_EXTERNAL_ID",
        hide_env_values = true,
        requires = "org_role_name"
    )]
    external_id: Option<String>,
}

impl CredentialArgs {
    fn options(&self, endpoint_url: Option<String>) -> ResolveOptions {
        ResolveOptions {
            endpoint_url,
            secrets_manager: self.secrets_manager,
            secrets_region: self.secrets_region.as_ref().map(|r| r.to_string()),
            env: None,
        }
    }

    fn organization(&self) -> Option<OrgOptions> {
        self.org_role_name.as_ref().map(|role_name| OrgOptions {
            role_name: role_name.clone(),
            external_id: self.external_id.clone().map(SecretString::new),
        })
    }
}

fn parse_role_name(text: &str) -> Result<String, String> {
    organizations::check_role_name(text).map(|()| text.to_owned())
}

#[derive(Args)]
struct RunArgs {
    /// The accounts file (JSON, or YAML with a .yaml/.yml extension):
    /// which accounts to scan, how to reach each, which regions. Optional
    /// with --org-role-name.
    #[arg(long, value_name = "FILE", required_unless_present = "org_role_name")]
    accounts_file: Option<PathBuf>,

    /// Formats to write, by name: excel, word, json, csv, markdown,
    /// cyclonedx (each a formatter plugin in the plugin directory). Several
    /// may be given: --formats excel word json csv.
    #[arg(long, value_name = "FORMAT", num_args = 1.., default_value = "json")]
    formats: Vec<String>,

    /// Directory the documents are written to; created if missing. Files
    /// are named inventag-bom-<UTC timestamp>.<ext>.
    #[arg(long, value_name = "DIR", default_value = "bom")]
    output_dir: PathBuf,

    /// Regions to scan in every account, overriding the accounts file.
    /// Without either, each account's enabled regions are discovered.
    #[arg(long, value_name = "REGION", num_args = 1.., value_parser = parse_region)]
    regions: Option<Vec<Region>>,

    /// Directory holding collector and formatter plugins (.wasm).
    #[arg(long, value_name = "DIR", env = "INVENTAG_PLUGIN_DIR", default_value = "dist/plugins")]
    plugin_dir: PathBuf,

    /// Send every AWS call to this endpoint instead of AWS, e.g. a local
    /// stand-in such as moto.
    #[arg(long, value_name = "URL", env = "AWS_ENDPOINT_URL", value_parser = parse_endpoint)]
    endpoint_url: Option<String>,

    /// Targets (account × region × collector) collected at once.
    #[arg(long, value_name = "N", default_value_t = 16)]
    concurrency: usize,

    /// Wall-time limit for one target or one document, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 600)]
    plugin_deadline: u64,

    /// Memory one plugin instance may use, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 512)]
    plugin_memory: usize,

    #[command(flatten)]
    credentials: CredentialArgs,
}

fn parse_region(text: &str) -> Result<Region, String> {
    Region::parse(text).map_err(|e| e.to_string())
}

fn parse_endpoint(text: &str) -> Result<String, String> {
    let ok = (text.starts_with("http://") || text.starts_with("https://"))
        && !text.contains(char::is_whitespace)
        && text.len() > "http://".len();
    if ok {
        Ok(text.to_owned())
    } else {
        Err(format!("{text:?} is not an http:// or https:// URL"))
    }
}

fn init_logging(cli: &Cli) {
    let filter = if cli.quiet {
        "error".to_owned()
    } else {
        match cli.verbose {
            0 => cli.log_level.clone(),
            1 => "debug".into(),
            _ => "trace".into(),
        }
    };
    // A bare level applies to inventag; the AWS SDK's own chatter stays at
    // warn unless a full filter asks for it.
    let filter = if matches!(filter.as_str(), "error" | "warn" | "info" | "debug" | "trace") {
        format!("warn,inventag={filter}")
    } else {
        filter
    };
    let filter = tracing_subscriber::EnvFilter::try_new(&filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,inventag=info"));
    let registry = tracing_subscriber::registry().with(filter).with(no_signing_detail());
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Text => registry.with(fmt).init(),
        LogFormat::Json => registry.with(fmt.json()).init(),
    }
}

/// Drops the AWS SDK's signing and wire events below info, whatever the
/// filter asks: at debug and trace they print canonical requests and
/// headers, which carry session tokens.
fn no_signing_detail() -> tracing_subscriber::filter::FilterFn {
    fn keep(meta: &tracing::Metadata<'_>) -> bool {
        let noisy = ["aws_sigv4", "aws_smithy_runtime", "aws_smithy_http", "hyper", "reqwest"];
        *meta.level() <= tracing::Level::INFO
            || !noisy.iter().any(|prefix| meta.target().starts_with(prefix))
    }
    tracing_subscriber::filter::FilterFn::new(keep)
}

async fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let limits = Limits {
        deadline: Duration::from_secs(args.plugin_deadline),
        memory_bytes: args.plugin_memory << 20,
        ..Limits::default()
    };
    let credentials = args.credentials.options(args.endpoint_url.clone());
    let report = inventag::run::execute(RunOptions {
        organization: args.credentials.organization(),
        credentials,
        accounts_file: args.accounts_file,
        formats: args.formats,
        output_dir: args.output_dir,
        regions: args.regions,
        plugin_dir: args.plugin_dir,
        endpoint_url: args.endpoint_url,
        concurrency: args.concurrency,
        limits,
    })
    .await
    .context("inventag run")?;

    for file in &report.files {
        println!("{}", file.display());
    }
    for problem in &report.problems {
        eprintln!("problem: {problem}");
    }
    let (targets, ok) = report.targets;
    eprintln!(
        "{:?}: {} resources, {ok}/{targets} targets ok, {} AWS requests, {:.2}s",
        report.status,
        report.resources,
        report.calls,
        report.elapsed.as_secs_f64()
    );
    Ok(match report.status {
        RunStatus::Complete => ExitCode::SUCCESS,
        RunStatus::Partial => ExitCode::from(EXIT_PARTIAL),
        RunStatus::Failed => ExitCode::FAILURE,
    })
}

async fn check(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let options = args.credentials.options(args.endpoint_url.clone());
    let org = args.credentials.organization();
    let report =
        inventag::accounts_check::check(args.accounts_file.as_deref(), org.as_ref(), options)
            .await
            .context("inventag accounts check")?;
    match args.format {
        CheckFormat::Text => print!("{}", report.to_text()),
        CheckFormat::Json => println!("{}", serde_json::to_string_pretty(&report)?),
    }
    Ok(if report.all_ok() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(url) = cli.command.endpoint_url() {
        // Credential providers inside the AWS SDK (profile role chains, SSO)
        // build their own clients from the environment; the override must
        // reach them too, or a local run would call AWS.
        // SAFETY: no other thread exists yet: the async runtime and the
        // logger start below.
        unsafe { std::env::set_var("AWS_ENDPOINT_URL", url) };
    }
    init_logging(&cli);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Run(args) => run(args).await,
            Command::Accounts(AccountsCommand::Check(args)) => check(args).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
