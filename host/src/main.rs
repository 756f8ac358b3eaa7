//! The `inventag` command line.

use std::{io::IsTerminal, path::PathBuf, process::ExitCode, sync::Arc, time::Duration};

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};
use inventag::{
    call::CallOptions,
    config::Region,
    config::SecretString,
    credentials::{
        ResolveOptions, SecretsManagerMode,
        organizations::{self, OrgOptions},
    },
    run::{RunOptions, RunStatus},
    runtime::Limits,
    scheduler::Progress,
    validator::{Standard, commands, policy::HostNeeds},
    vetting::{self, VettingOptions},
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
    /// Make one read-only AWS call and print its JSON output.
    Call(CallArgs),
    /// Judge an operation as the read-only validator would: print the
    /// verdict and the rule. Exits 0 when allowed, 1 when denied.
    Validate(ValidateArgs),
    /// Print the least-privilege IAM policy (JSON) for the plugins'
    /// declared operations and the host's own needs.
    Policy(PolicyArgs),
    /// List, inspect and vet plugins; make a signing key and sign builds.
    #[command(subcommand)]
    Plugins(PluginsCommand),
}

#[derive(Subcommand)]
enum PluginsCommand {
    /// Every plugin of a directory: kind, name, version, WIT version,
    /// vetting status (locked, signed, unvetted, altered) and sha256.
    List(PluginsListArgs),
    /// One plugin in full: what it declares, its sha256 and status.
    Inspect(PluginsInspectArgs),
    /// Show what a plugin will be allowed to call, with the validator's
    /// verdict on each declared operation, and add it to the lock file.
    Vet(PluginsVetArgs),
    /// Make an Ed25519 key pair for signing plugin builds: the private key
    /// (created mode 600, never printed) and KEY.pub, a line for a
    /// trusted-keys file.
    Keygen(KeygenArgs),
    /// Sign a plugin build with a private key, writing FILE.sig beside it.
    Sign(SignArgs),
}

/// Where the lock and the trusted keys are, shared by `run` and
/// `plugins`.
#[derive(Args)]
struct VettingArgs {
    /// The lock file listing vetted plugins by file name and sha256
    /// (default: inventag-plugins.lock in the plugin directory).
    #[arg(long, value_name = "PATH", env = "INVENTAG_PLUGIN_LOCK")]
    plugin_lock: Option<PathBuf>,

    /// A file of trusted Ed25519 public keys, one `ed25519 <base64>
    /// [comment]` per line: a plugin whose FILE.sig one of them signed is
    /// accepted without a lock entry.
    #[arg(long, value_name = "FILE", env = "INVENTAG_TRUSTED_KEYS")]
    trusted_keys: Option<PathBuf>,
}

impl VettingArgs {
    fn options(&self, allow_unvetted: bool) -> VettingOptions {
        VettingOptions {
            lock: self.plugin_lock.clone(),
            trusted_keys: self.trusted_keys.clone(),
            allow_unvetted,
        }
    }
}

#[derive(Args)]
struct PluginsListArgs {
    /// Directory holding the plugins (.wasm).
    #[arg(long, value_name = "DIR", env = "INVENTAG_PLUGIN_DIR", default_value = "dist/plugins")]
    plugin_dir: PathBuf,

    #[command(flatten)]
    vetting: VettingArgs,

    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: CheckFormat,
}

#[derive(Args)]
struct PluginsInspectArgs {
    /// The plugin file (.wasm).
    file: PathBuf,

    #[command(flatten)]
    vetting: VettingArgs,

    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: CheckFormat,
}

#[derive(Args)]
struct PluginsVetArgs {
    /// The plugin file (.wasm).
    file: PathBuf,

    /// The lock file to add it to (default: inventag-plugins.lock beside
    /// the plugin).
    #[arg(long, value_name = "PATH", env = "INVENTAG_PLUGIN_LOCK")]
    plugin_lock: Option<PathBuf>,

    /// The compliance standard its operations are judged under.
    #[arg(long, value_enum, value_name = "STANDARD", default_value = "general")]
    standard: Standard,

    /// Add it without asking (needed without a terminal).
    #[arg(long, short = 'y')]
    yes: bool,
}

#[derive(Args)]
struct KeygenArgs {
    /// Where the private key goes; never overwritten. The public key goes
    /// to the same path with `.pub` added.
    #[arg(long, value_name = "KEY")]
    out: PathBuf,

    /// A comment for the public key line (a team or a build system).
    #[arg(long, value_name = "TEXT", default_value = "")]
    comment: String,
}

#[derive(Args)]
struct SignArgs {
    /// The plugin file (.wasm) to sign.
    file: PathBuf,

    /// The private key made by `inventag plugins keygen`.
    #[arg(long, value_name = "KEY")]
    key: PathBuf,
}

impl Command {
    /// The `--endpoint-url` given to the command, if any.
    fn endpoint_url(&self) -> Option<&str> {
        match self {
            Command::Run(a) => a.endpoint_url.as_deref(),
            Command::Accounts(AccountsCommand::Check(a)) => a.endpoint_url.as_deref(),
            Command::Call(a) => a.endpoint_url.as_deref(),
            Command::Validate(_) | Command::Policy(_) | Command::Plugins(_) => None,
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

    /// Send every AWS call (STS, Secrets Manager, Organizations, and those
    /// of profile role chains) to this endpoint instead of AWS.
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

    /// The external id for --org-role-name's role (ignored without it).
    /// Prefer the environment variable: a command line is visible to other
    /// users of the machine.
    #[arg(long, value_name = "ID", env = "INVENTAG_EXTERNAL_ID", hide_env_values = true)]
    external_id: Option<String>,

    /// The longest finding one account's credentials may take, in seconds;
    /// past it the account fails and the others go on.
    #[arg(long, value_name = "SECONDS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    credential_timeout: u64,
}

impl CredentialArgs {
    fn options(&self, endpoint_url: Option<String>) -> ResolveOptions {
        ResolveOptions {
            endpoint_url,
            secrets_manager: self.secrets_manager,
            secrets_region: self.secrets_region.as_ref().map(|r| r.to_string()),
            env: None,
            timeout: Duration::from_secs(self.credential_timeout),
            audit: None,
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

    /// Targets (account × region × collector part) collected at once.
    #[arg(long, value_name = "N", default_value_t = 192,
          value_parser = clap::value_parser!(u16).range(1..=4096))]
    concurrency: u16,

    /// Wall-time limit for one target, one document or one plugin's
    /// `describe`, in seconds: a plugin still running then is stopped (and
    /// a host call it waits on abandoned); the other targets go on.
    #[arg(long, value_name = "SECONDS", default_value_t = 600,
          value_parser = clap::value_parser!(u64).range(1..=86400))]
    plugin_deadline: u64,

    /// Memory one plugin instance may use, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 512,
          value_parser = clap::value_parser!(u32).range(16..=65536))]
    plugin_memory: u32,

    /// The longest one AWS call of a plugin may take, retries included, in
    /// seconds; past it the plugin gets a `transport` error.
    #[arg(long, value_name = "SECONDS", default_value_t = 120,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    plugin_call_timeout: u64,

    /// Records one collector target may emit; past it the target ends
    /// `incomplete` with what it emitted.
    #[arg(long, value_name = "N", default_value_t = 1_000_000,
          value_parser = clap::value_parser!(u64).range(1..))]
    plugin_max_records: u64,

    /// The largest one record may be, in KiB (text fields, tags and
    /// attributes); a larger record is refused.
    #[arg(long, value_name = "KIB", default_value_t = 1024,
          value_parser = clap::value_parser!(u32).range(1..=1048576))]
    plugin_max_record_kib: u32,

    /// The largest document a formatter may return, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 1024,
          value_parser = clap::value_parser!(u32).range(1..=65536))]
    plugin_max_document: u32,

    #[command(flatten)]
    vetting: VettingArgs,

    /// Run plugins that are neither in the lock nor signed by a trusted
    /// key (logged at warn, and a high finding in the compliance report).
    #[arg(long)]
    allow_unvetted: bool,

    /// Where precompiled plugins are kept, so a plugin is compiled once
    /// (default: $XDG_CACHE_HOME/inventag/components, else
    /// ~/.cache/inventag/components; created mode 700; refused if others
    /// may write it).
    #[arg(long, value_name = "DIR", env = "INVENTAG_PLUGIN_CACHE")]
    plugin_cache: Option<PathBuf>,

    /// Compile every plugin afresh and keep nothing (nor a call history);
    /// wins over --plugin-cache and INVENTAG_PLUGIN_CACHE.
    #[arg(long)]
    no_plugin_cache: bool,

    #[command(flatten)]
    credentials: CredentialArgs,

    /// The compliance standard every call is held to: general, soc2, pci,
    /// hipaa or gdpr (see the README's table).
    #[arg(long, value_enum, value_name = "STANDARD", default_value = "general")]
    standard: Standard,

    /// Append the audit log (JSON lines, one per AWS call) to this file
    /// instead of writing inventag-audit-<timestamp>.jsonl in the output
    /// directory.
    #[arg(long, value_name = "FILE")]
    audit_log: Option<PathBuf>,
}

#[derive(Args)]
struct ValidateArgs {
    /// The service as the catalogue names it (ec2, s3, elbv2...), or `-`
    /// to read `service:Operation` lines on stdin and print one JSON
    /// verdict per line.
    service: String,

    /// The operation (DescribeInstances); not given with `-`.
    operation: Option<String>,

    /// The compliance standard to judge under.
    #[arg(long, value_enum, value_name = "STANDARD", default_value = "general")]
    standard: Standard,

    /// The call's input, a JSON object, for rules that depend on it
    /// (EC2 user data, Glue passwords, API Gateway key values).
    #[arg(long, value_name = "JSON")]
    input: Option<String>,

    /// Output format of a single verdict.
    #[arg(long, value_enum, default_value = "text")]
    format: CheckFormat,
}

#[derive(Args)]
struct PolicyArgs {
    /// Directory holding the collector plugins (.wasm) to grant.
    #[arg(long, value_name = "DIR", env = "INVENTAG_PLUGIN_DIR", default_value = "dist/plugins")]
    plugin_dir: PathBuf,

    /// The compliance standard: declared operations it denies are left out.
    #[arg(long, value_enum, value_name = "STANDARD", default_value = "general")]
    standard: Standard,

    /// Whether credentials come from AWS Secrets Manager: `on` adds
    /// secretsmanager:GetSecretValue on inventag* secrets; `auto` does in
    /// CodeBuild only, as a run would.
    #[arg(long, value_enum, value_name = "MODE", default_value = "auto")]
    secrets_manager: SecretsManagerMode,

    /// The role --org-role-name would assume; adds
    /// organizations:ListAccounts.
    #[arg(long, value_name = "NAME", value_parser = parse_role_name)]
    org_role_name: Option<String>,

    #[command(flatten)]
    vetting: VettingArgs,

    /// Grant what plugins that are neither in the lock nor signed by a
    /// trusted key declare (their `describe` runs, sandboxed).
    #[arg(long)]
    allow_unvetted: bool,
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

fn init_logging(cli: &Cli) -> Result<(), String> {
    let filter = if cli.quiet {
        "error".to_owned()
    } else {
        match cli.verbose {
            0 => cli.log_level.trim().to_owned(),
            1 => "debug".into(),
            _ => "trace".into(),
        }
    };
    // A bare level, in any case, applies to inventag.
    let lower = filter.to_ascii_lowercase();
    let filter = if matches!(lower.as_str(), "error" | "warn" | "info" | "debug" | "trace") {
        format!("warn,inventag={lower}")
    } else {
        filter
    };
    let filter = tracing_subscriber::EnvFilter::try_new(&filter)
        .map_err(|e| format!("--log-level {filter:?} is not a level or a tracing filter: {e}"))?;
    let registry = tracing_subscriber::registry().with(filter).with(own_events_only());
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    match cli.log_format {
        LogFormat::Text => registry.with(fmt).init(),
        LogFormat::Json => registry.with(fmt.json()).init(),
    }
    Ok(())
}

/// Keeps other crates' events to warnings and errors, whatever the filter
/// asks: below that the AWS SDK prints credential chains (access key ids,
/// external ids), canonical requests and headers (session tokens).
fn own_events_only() -> tracing_subscriber::filter::FilterFn {
    fn keep(meta: &tracing::Metadata<'_>) -> bool {
        *meta.level() <= tracing::Level::WARN || meta.target().starts_with("inventag")
    }
    tracing_subscriber::filter::FilterFn::new(keep)
}

/// Draws a progress line on stderr until dropped, when stderr is a
/// terminal; elsewhere the scheduler's periodic log lines stand in.
struct ProgressLine {
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ProgressLine {
    fn start(progress: Arc<Progress>, show: bool) -> ProgressLine {
        if !show || !std::io::stderr().is_terminal() {
            return ProgressLine { stop: None, thread: None };
        }
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let started = std::time::Instant::now();
        let thread = std::thread::spawn(move || {
            loop {
                let (done, total, resources, problems) = progress.snapshot();
                eprint!(
                    "\r\x1b[2K[{done}/{total} targets] {resources} resources, {problems} \
                     problems, {:.1}s",
                    started.elapsed().as_secs_f64()
                );
                match stopped.recv_timeout(Duration::from_millis(200)) {
                    Err(std::sync::mpsc::RecvTimeoutError::Timeout) => continue,
                    _ => break,
                }
            }
            eprint!("\r\x1b[2K");
        });
        ProgressLine { stop: Some(stop), thread: Some(thread) }
    }
}

impl Drop for ProgressLine {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn run(args: RunArgs, show_progress: bool) -> anyhow::Result<ExitCode> {
    let limits = Limits {
        deadline: Duration::from_secs(args.plugin_deadline),
        memory_bytes: (args.plugin_memory as usize) << 20,
        call_timeout: Duration::from_secs(args.plugin_call_timeout),
        max_records: args.plugin_max_records,
        max_record_bytes: (args.plugin_max_record_kib as usize) << 10,
        max_document_bytes: (args.plugin_max_document as usize) << 20,
    };
    let plugin_cache = match (args.no_plugin_cache, args.plugin_cache) {
        (true, _) => None,
        (false, Some(dir)) => Some(dir),
        (false, None) => inventag::runtime::ComponentCache::default_dir(),
    };
    let credentials = args.credentials.options(args.endpoint_url.clone());
    let progress = Arc::new(Progress::default());
    let line = ProgressLine::start(progress.clone(), show_progress);
    let report = inventag::run::execute(RunOptions {
        progress,
        organization: args.credentials.organization(),
        credentials,
        accounts_file: args.accounts_file,
        formats: args.formats,
        output_dir: args.output_dir,
        regions: args.regions,
        plugin_dir: args.plugin_dir,
        endpoint_url: args.endpoint_url,
        concurrency: usize::from(args.concurrency),
        limits,
        standard: args.standard,
        audit_log: args.audit_log,
        vetting: args.vetting.options(args.allow_unvetted),
        plugin_cache,
    })
    .await
    .context("inventag run");
    drop(line);
    let report = report?;

    for file in &report.files {
        out(&format!("{}\n", file.display()));
    }
    for problem in &report.problems {
        eprintln!("problem: {problem}");
    }
    let (targets, ok) = report.targets;
    eprintln!(
        "{:?}: {} resources, {ok}/{targets} targets ok, {} AWS requests ({} retries, {} \
         throttled, peak {} in flight, {} denied), collected in {:.2}s, {:.2}s in plugins, \
         {:.2}s in all",
        report.status,
        report.resources,
        report.calls,
        report.retries,
        report.throttled,
        report.peak_in_flight,
        report.denied,
        report.collect_time.as_secs_f64(),
        report.plugin_time.as_secs_f64(),
        report.elapsed.as_secs_f64()
    );
    for line in &report.unvetted {
        eprintln!("unvetted plugin ran (--allow-unvetted): {line}");
    }
    if let Some((hits, compiled)) = report.cache {
        eprintln!("plugins: {hits} from the cache, {compiled} compiled");
    }
    if let Some(file) = &report.audit_log {
        eprintln!("audit log: {}", file.display());
    }
    if let Some((file, score)) = &report.compliance {
        eprintln!("compliance report: {} (score {score})", file.display());
    }
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
        CheckFormat::Text => out(&report.to_text()),
        CheckFormat::Json => out(&format!("{}\n", serde_json::to_string_pretty(&report)?)),
    }
    Ok(if report.all_ok() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// Writes to stdout; a reader that went away (a closed pipe) is not an
/// error worth a panic: the work is done, and the exit status says how.
fn out(text: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush());
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
            out(&format!("{}\n", serde_json::to_string_pretty(&output)?));
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("error: {e}");
            Ok(if e.is_usage() { ExitCode::from(EXIT_USAGE) } else { ExitCode::FAILURE })
        }
    }
}

fn validate(args: ValidateArgs) -> anyhow::Result<ExitCode> {
    if args.service == "-" {
        if args.operation.is_some() {
            eprintln!("error: with `-`, operations are read from stdin; give no OPERATION");
            return Ok(ExitCode::from(2));
        }
        let stdin = std::io::stdin().lock();
        commands::validate_lines(args.standard, stdin, std::io::stdout().lock())
            .context("inventag validate -")?;
        return Ok(ExitCode::SUCCESS);
    }
    let Some(operation) = args.operation else {
        eprintln!("error: give SERVICE OPERATION, or `-` to read service:Operation lines");
        return Ok(ExitCode::from(2));
    };
    let input: Option<serde_json::Value> = match &args.input {
        Some(text) => Some(serde_json::from_str(text).context("--input is not JSON")?),
        None => None,
    };
    let judgement =
        commands::validate_one(args.standard, &args.service, &operation, input.as_ref());
    match args.format {
        CheckFormat::Text => out(&commands::render(&judgement)),
        CheckFormat::Json => out(&format!("{}\n", serde_json::to_string(&judgement)?)),
    }
    Ok(if judgement.verdict.is_allowed() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

async fn policy(args: PolicyArgs) -> anyhow::Result<ExitCode> {
    let secrets_manager = match args.secrets_manager {
        SecretsManagerMode::On => true,
        SecretsManagerMode::Off => false,
        SecretsManagerMode::Auto => {
            let env = inventag::credentials::Env::process();
            inventag::credentials::CiEnvironment::detect(&env).secrets_manager_by_default()
        }
    };
    let host = HostNeeds { secrets_manager, organizations: args.org_role_name.is_some() };
    let vetting = args.vetting.options(args.allow_unvetted);
    let (policy, problems) =
        commands::policy_for_dir(&args.plugin_dir, args.standard, &host, &vetting)
            .await
            .context("inventag policy")?;
    for problem in &problems {
        eprintln!("warning: {problem}");
    }
    for left_out in &policy.excluded {
        eprintln!(
            "left out: {} declares {}:{}, denied by {}: {}",
            left_out.plugin, left_out.service, left_out.operation, left_out.rule, left_out.reason
        );
    }
    out(&format!("{}\n", serde_json::to_string_pretty(&policy.document)?));
    Ok(ExitCode::SUCCESS)
}

async fn plugins(command: PluginsCommand) -> anyhow::Result<ExitCode> {
    use vetting::commands;
    match command {
        PluginsCommand::List(args) => {
            let reports = commands::list(&args.plugin_dir, &args.vetting.options(false))
                .await
                .context("inventag plugins list")?;
            match args.format {
                CheckFormat::Text => out(&commands::render_list(&reports)),
                CheckFormat::Json => out(&format!("{}\n", serde_json::to_string_pretty(&reports)?)),
            }
        }
        PluginsCommand::Inspect(args) => {
            let report = commands::inspect(&args.file, &args.vetting.options(false))
                .await
                .context("inventag plugins inspect")?;
            match args.format {
                CheckFormat::Text => out(&commands::render_inspect(&report)),
                CheckFormat::Json => out(&format!("{}\n", serde_json::to_string_pretty(&report)?)),
            }
            if report.declaration.is_none() {
                return Ok(ExitCode::FAILURE);
            }
        }
        PluginsCommand::Vet(args) => {
            let options = VettingOptions { lock: args.plugin_lock, ..Default::default() };
            let plan = commands::vet_plan(&args.file, &options, args.standard)
                .await
                .context("inventag plugins vet")?;
            out(&commands::render_vet(&plan));
            if plan.plugin.declaration.is_none() {
                eprintln!("error: {} did not load; nothing was added", args.file.display());
                return Ok(ExitCode::FAILURE);
            }
            if !args.yes {
                if !std::io::stdin().is_terminal() {
                    eprintln!(
                        "error: not adding {} to {} without a confirmation: there is no \
                         terminal to ask on; read the above and pass --yes",
                        args.file.display(),
                        plan.lock.display()
                    );
                    return Ok(ExitCode::from(2));
                }
                eprint!("add it to {}? [y/N] ", plan.lock.display());
                let mut answer = String::new();
                std::io::stdin().read_line(&mut answer)?;
                if !matches!(answer.trim(), "y" | "Y" | "yes") {
                    eprintln!("not added");
                    return Ok(ExitCode::FAILURE);
                }
            }
            let lock = commands::vet_commit(&plan).context("inventag plugins vet")?;
            eprintln!(
                "added {} (sha256 {}) to {}",
                args.file.display(),
                plan.plugin.sha256,
                lock.display()
            );
        }
        PluginsCommand::Keygen(args) => {
            let (key, public) = vetting::signing::generate(&args.out, &args.comment)
                .context("inventag plugins keygen")?;
            eprintln!(
                "private key: {} (mode 600; keep it secret)\npublic key: {} (key id {}); add \
                 its line to the trusted-keys file of every host that should accept your builds",
                args.out.display(),
                public.display(),
                key.key_id()
            );
        }
        PluginsCommand::Sign(args) => {
            let (sig, digest, key_id) =
                commands::sign(&args.file, &args.key).context("inventag plugins sign")?;
            eprintln!(
                "signed {} (sha256 {digest}) with key {key_id}: {}",
                args.file.display(),
                sig.display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Waits for SIGINT or SIGTERM; gives its name and the exit status a
/// shell reports for it (128 + the signal's number).
async fn interrupted() -> (&'static str, u8) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            return tokio::select! {
                _ = tokio::signal::ctrl_c() => ("SIGINT", 130),
                _ = term.recv() => ("SIGTERM", 143),
            };
        }
    }
    match tokio::signal::ctrl_c().await {
        Ok(()) => ("SIGINT", 130),
        // No handler could be installed: never report a signal.
        Err(_) => std::future::pending().await,
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(message) = init_logging(&cli) {
        eprintln!("error: {message}");
        return ExitCode::from(2);
    }
    if let Some(url) = cli.command.endpoint_url() {
        // Credential providers inside the AWS SDK (profile role chains, SSO)
        // build their own clients from the environment; the override must
        // reach them too, or a local run would call AWS.
        // SAFETY: no other thread exists yet: the async runtime and the
        // logger start below.
        unsafe { std::env::set_var("AWS_ENDPOINT_URL", url) };
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let show_progress = !cli.quiet && matches!(cli.log_format, LogFormat::Text);
    let result = runtime.block_on(async {
        let work = async {
            match cli.command {
                Command::Run(args) => run(args, show_progress).await,
                Command::Accounts(AccountsCommand::Check(args)) => check(args).await,
                Command::Call(args) => call(args).await,
                Command::Validate(args) => validate(args),
                Command::Policy(args) => policy(args).await,
                Command::Plugins(command) => plugins(command).await,
            }
        };
        // Stopped by a signal, the work is dropped rather than the process
        // killed: a document being written is removed, and every AWS call
        // in flight gets its audit record.
        tokio::select! {
            result = work => result,
            (name, code) = interrupted() => {
                eprintln!(
                    "inventag: stopped by {name}; documents not finished were removed, and the \
                     audit log holds every call made"
                );
                Ok(ExitCode::from(code))
            }
        }
    });
    // Tasks still running (account preparation, collection) are dropped
    // here, before the process ends, with the same effect.
    drop(runtime);
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
