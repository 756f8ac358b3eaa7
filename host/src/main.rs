//! The `inventag` command line.

use std::{path::PathBuf, process::ExitCode, time::Duration};

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};
use inventag::{
    call::CallOptions,
    config::Region,
    run::{RunOptions, RunStatus},
    runtime::Limits,
};

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
    /// Make one read-only AWS call and print its JSON output.
    Call(CallArgs),
}

#[derive(Args)]
struct CallArgs {
    /// The service, as in `inventag call ec2 ...` (botocore's names: ec2,
    /// s3, iam, rds, ecs, dynamodb, lambda, eks...).
    service: String,

    /// The operation, as in the AWS API reference (DescribeInstances).
    operation: String,

    /// The input document, a JSON object shaped like the operation's
    /// input, e.g. '{"Filters": [{"Name": "tag:env", "Values": ["prod"]}]}'.
    #[arg(long, value_name = "JSON")]
    input: Option<String>,

    /// The region to call.
    #[arg(long, value_name = "REGION", env = "AWS_REGION", default_value = "us-east-1",
        value_parser = parse_region)]
    region: Region,

    /// The AWS profile whose credentials sign the call; without it, the
    /// default credential chain.
    #[arg(long, value_name = "NAME")]
    profile: Option<String>,

    /// Follow pagination tokens to the last page and print every page
    /// merged into one document.
    #[arg(long)]
    paginate: bool,

    /// Send the call to this endpoint instead of AWS, e.g. a local
    /// stand-in such as moto.
    #[arg(long, value_name = "URL", env = "AWS_ENDPOINT_URL", value_parser = parse_endpoint)]
    endpoint_url: Option<String>,
}

#[derive(Args)]
struct RunArgs {
    /// The accounts file (JSON, or YAML with a .yaml/.yml extension):
    /// which accounts to scan, how to reach each, which regions.
    #[arg(long, value_name = "FILE")]
    accounts_file: PathBuf,

    /// Formats to write, by name: `json` ships with inventag; `excel`,
    /// `word`, `csv` and others are used when their formatter plugin is in
    /// the plugin directory. Several may be given.
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
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

async fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let limits = Limits {
        deadline: Duration::from_secs(args.plugin_deadline),
        memory_bytes: args.plugin_memory << 20,
        ..Limits::default()
    };
    let report = inventag::run::execute(RunOptions {
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

/// Exit status of `inventag call` refused for its input.
const EXIT_USAGE: u8 = 2;

async fn call(args: CallArgs) -> anyhow::Result<ExitCode> {
    let options = CallOptions {
        service: args.service,
        operation: args.operation,
        input: args.input,
        region: args.region,
        profile: args.profile,
        paginate: args.paginate,
        endpoint_url: args.endpoint_url,
    };
    match inventag::call::execute(options).await {
        Ok(output) => {
            println!("{}", serde_json::to_string_pretty(&output)?);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("error: {e}");
            Ok(if e.is_usage() { ExitCode::from(EXIT_USAGE) } else { ExitCode::FAILURE })
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
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
            Command::Call(args) => call(args).await,
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
