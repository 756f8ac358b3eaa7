//! Writes a large synthetic bill of materials through the real formatter
//! components and prints, per format, the wall time and the peak memory.
//!
//! ```sh
//! scripts/build-plugins.sh
//! cargo run --release -p inventag --example bench_formatters -- \
//!     [--resources 100000] [--formats excel csv] [--plugin-dir dist/plugins] \
//!     [--plugin-memory 512]
//! ```
//!
//! Each format runs in a child process of its own (this program run again
//! with `--one FORMAT`), so that its peak resident set size (`VmHWM` from
//! `/proc/self/status`) is its own. A child builds the BOM in the host's
//! own types (20 accounts, 4 regions, six resource types, four to eight
//! tags and a few hundred bytes of attributes each), notes the resident
//! size, loads the formatter into the host's runtime with the default
//! limits (512 MiB of guest memory, or `--plugin-memory`), and times
//! `format`, which hands the BOM over in batches exactly as `inventag run`
//! does while the formatter writes its document into the output directory.
//!
//! Columns: `wall_s` is the time of `format` alone; `bom_MiB` the resident
//! size once the BOM is built; `load_MiB` once the component is compiled
//! and loaded; `peak_MiB` the peak resident size while formatting and
//! writing (the kernel's high-water mark is reset after loading);
//! `added_MiB` the peak less `load_MiB`: what formatting cost, that is the
//! guest's linear memory, the batches copied into it and the document.

use std::{path::PathBuf, process::Command, time::Instant};

use inventag::{
    bom::{AccountRef, Bom, Outcome, Resource, RunMetadata, Tag, TargetCoverage},
    output::OutputDir,
    runtime::{Limits, Loaded, Runtime},
};

struct Args {
    resources: usize,
    formats: Vec<String>,
    plugin_dir: PathBuf,
    plugin_memory_mib: usize,
    one: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        resources: 100_000,
        formats: vec!["excel".into(), "csv".into()],
        plugin_dir: PathBuf::from("dist/plugins"),
        plugin_memory_mib: Limits::default().memory_bytes >> 20,
        one: None,
    };
    let mut it = std::env::args().skip(1).peekable();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--resources" => {
                let n = it.next().ok_or("--resources needs a number")?;
                args.resources = n.parse().map_err(|_| format!("--resources {n:?}"))?;
            }
            "--formats" => {
                args.formats.clear();
                while let Some(f) = it.next_if(|a| !a.starts_with("--")) {
                    args.formats.push(f);
                }
            }
            "--plugin-dir" => {
                args.plugin_dir = it.next().ok_or("--plugin-dir needs a path")?.into()
            }
            "--plugin-memory" => {
                let n = it.next().ok_or("--plugin-memory needs MiB")?;
                args.plugin_memory_mib = n.parse().map_err(|_| format!("--plugin-memory {n:?}"))?;
            }
            "--one" => args.one = Some(it.next().ok_or("--one needs a format")?),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(args)
}

/// A field of `/proc/self/status`, in KiB.
fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

const TYPES: [(&str, &str); 6] = [
    ("ec2", "instance"),
    ("ec2", "volume"),
    ("ec2", "security-group"),
    ("s3", "bucket"),
    ("rds", "db-instance"),
    ("lambda", "function"),
];
const REGIONS: [&str; 4] = ["us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2"];
const TAG_KEYS: [&str; 12] = [
    "Name",
    "Environment",
    "Owner",
    "CostCenter",
    "Application",
    "Team",
    "Project",
    "Compliance",
    "DataClassification",
    "Backup",
    "aws:cloudformation:stack-name",
    "Ünïcødé 名前",
];

/// A deterministic BOM of `n` resources, sorted as the host publishes it.
fn synthetic_bom(n: usize) -> Result<(RunMetadata, Bom), String> {
    let accounts: Vec<String> =
        (0..20).map(|i| format!("{:012}", 100_000_000_000u64 + i)).collect();
    let mut resources = Vec::with_capacity(n);
    for i in 0..n {
        let account = &accounts[i % accounts.len()];
        let region = REGIONS[(i / accounts.len()) % REGIONS.len()];
        let (service, ty) = TYPES[i % TYPES.len()];
        let id = format!("{ty}-{i:08x}");
        let tags = (0..4 + i % 5)
            .map(|k| Tag {
                key: TAG_KEYS[(i + k) % TAG_KEYS.len()].to_string(),
                value: format!("value-{}-{}", k, i % 97),
            })
            .collect();
        let attributes = serde_json::json!({
            "size": i % 1000,
            "type": "m5.large",
            "vpc_id": format!("vpc-{:08x}", i % 50),
            "subnet_id": format!("subnet-{:08x}", i % 200),
            "security_groups": [format!("sg-{:08x}", i % 300), format!("sg-{:08x}", i % 301)],
            "description": "=a formula-like description that the formatters must neutralise",
            "encrypted": i % 2 == 0,
        })
        .to_string();
        resources.push(Resource {
            account_id: account.clone(),
            region: region.to_string(),
            service: service.to_string(),
            resource_type: ty.to_string(),
            arn: Some(format!("arn:aws:{service}:{region}:{account}:{ty}/{id}")),
            name: Some(format!("resource {i}")),
            state: Some("available".to_string()),
            created_at: Some("2026-01-02T03:04:05Z".to_string()),
            id,
            tags,
            attributes,
        });
    }
    let mut coverage = Vec::new();
    for a in &accounts {
        for r in REGIONS {
            coverage.push(TargetCoverage {
                account_id: a.clone(),
                account_name: format!("Account {a}"),
                region: r.to_string(),
                collector: "synthetic@0.0.0".to_string(),
                outcome: Outcome::Ok,
                resources: 0,
                messages: vec![],
            });
        }
    }
    let mut store = inventag::bom::ResourceStore::new();
    store.extend(resources).map_err(|e| e.to_string())?;
    let mut bom = Bom { resources: store, coverage };
    bom.normalise().map_err(|e| e.to_string())?;
    let run = RunMetadata {
        run_id: "0f8fad5b-d9cb-469f-a165-70867728950e".to_string(),
        started_at: "2026-01-02T03:04:05Z".to_string(),
        finished_at: "2026-01-02T03:14:05Z".to_string(),
        inventag_version: inventag::VERSION.to_string(),
        environment: "local".to_string(),
        accounts: accounts
            .iter()
            .map(|a| AccountRef {
                account_id: a.clone(),
                account_name: format!("Account {a}"),
                credential_method: Some("profile_name".to_string()),
            })
            .collect(),
        regions: REGIONS.iter().map(|r| r.to_string()).collect(),
        collectors: vec!["synthetic@0.0.0".to_string()],
    };
    Ok((run, bom))
}

/// Runs one format in this process and prints one result line.
fn one(format: &str, args: &Args) -> Result<(), String> {
    let (resources, plugin_dir) = (args.resources, args.plugin_dir.as_path());
    let (run, bom) = synthetic_bom(resources)?;
    // The benchmark makes no AWS call: an empty report, as a run with no
    // call would have.
    let compliance = inventag::audit::AuditLog::new(
        "0f8fad5b-d9cb-469f-a165-70867728950e".to_string(),
        inventag::validator::Standard::General,
        None,
    )
    .report();

    let bom_rss = status_kib("VmRSS:");
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    tokio.block_on(async {
        let limits = Limits { memory_bytes: args.plugin_memory_mib << 20, ..Limits::default() };
        let runtime = Runtime::new(limits).map_err(|e| e.to_string())?;
        let file = plugin_dir.join(format!("formatter-{format}.wasm"));
        let formatter = match runtime.load_file(&file).await.map_err(|e| e.to_string())? {
            Loaded::Formatter(f) => f,
            _ => return Err(format!("{} is not a formatter", file.display())),
        };
        // The peak from here on is formatting's own: the compiled
        // component is loaded, and the kernel is asked to reset VmHWM.
        let _ = std::fs::write("/proc/self/clear_refs", "5");
        let loaded_rss = status_kib("VmRSS:");
        let out = std::env::temp_dir().join(format!("inventag-bench-{}", std::process::id()));
        let dir = OutputDir::open(&out).map_err(|e| e.to_string())?;
        let start = Instant::now();
        let doc = formatter.format(&runtime, &run, &bom, &compliance, &dir, &run.started_at).await;
        let wall = start.elapsed();
        let _ = std::fs::remove_dir_all(&out);
        let doc = doc?;
        let path = doc.path;
        let peak = status_kib("VmHWM:");
        println!(
            "{format:<10} {resources:>9} {:>9.2} {:>12} {:>9} {:>9} {:>9} {:>10}  {}",
            wall.as_secs_f64(),
            doc.bytes,
            bom_rss / 1024,
            loaded_rss / 1024,
            peak / 1024,
            peak.saturating_sub(loaded_rss) / 1024,
            path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        );
        Ok(())
    })
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("bench_formatters: {e}");
            std::process::exit(2);
        }
    };
    if let Some(format) = &args.one {
        if let Err(e) = one(format, &args) {
            eprintln!("bench_formatters: {format}: {e}");
            std::process::exit(1);
        }
        return;
    }
    println!(
        "{:<10} {:>9} {:>9} {:>12} {:>9} {:>9} {:>9} {:>10}  file",
        "format", "resources", "wall_s", "bytes", "bom_MiB", "load_MiB", "peak_MiB", "added_MiB"
    );
    let exe = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("bench_formatters"));
    let mut failed = false;
    for format in &args.formats {
        let status = Command::new(&exe)
            .args(["--one", format, "--resources", &args.resources.to_string()])
            .args(["--plugin-memory", &args.plugin_memory_mib.to_string(), "--plugin-dir"])
            .arg(&args.plugin_dir)
            .status();
        if !matches!(status, Ok(s) if s.success()) {
            failed = true;
        }
    }
    if failed {
        std::process::exit(1);
    }
}
