//! Times the plugin runtime: loading a component cold (compiled) and from
//! the component cache, instantiating a collector per target, and one
//! `aws` host call from a plugin through the gateway.
//!
//! ```sh
//! scripts/build-plugins.sh
//! cargo run --release -p inventag --example plugin_bench -- \
//!     [--plugin-dir dist/plugins] [--test-plugin-dir dist/test-plugins] \
//!     [--targets 200] [--calls 2000]
//! ```
//!
//! Loading: every plugin of the plugin directory, each in a fresh runtime,
//! compiled (no cache), then stored in a new cache, then loaded from it by
//! another fresh runtime; the figures are the sums over the directory and
//! include each plugin's `describe`. Instantiation: the benchmark-only
//! synthetic collector (`dist/test-plugins/test-synthetic.wasm`) collects
//! `--targets` targets of zero records, one after another, each in a fresh
//! store, so the time is instantiation plus one empty `collect`. Host
//! calls: the same collector makes `--calls` calls of `ec2:DescribeVpcs`
//! against a loopback server that answers each at once; each call crosses
//! into the host, is validated, signed, sent over a kept-alive loopback
//! connection, parsed into JSON and handed back.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::TcpListener,
    path::{Path, PathBuf},
    sync::Arc,
    time::{Duration, Instant},
};

use aws_credential_types::{Credentials, provider::SharedCredentialsProvider};
use inventag::{
    config::AccountId,
    credentials::{AccountCredentials, CredentialMethod},
    gateway::{Gateway, GatewayOptions},
    runtime::{Limits, Loaded, LoadedCollector, Runtime, TargetSpec},
    vetting::Digest,
};

struct Args {
    plugin_dir: PathBuf,
    test_plugin_dir: PathBuf,
    targets: u32,
    calls: u32,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        plugin_dir: PathBuf::from("dist/plugins"),
        test_plugin_dir: PathBuf::from("dist/test-plugins"),
        targets: 200,
        calls: 2000,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--plugin-dir" => args.plugin_dir = value()?.into(),
            "--test-plugin-dir" => args.test_plugin_dir = value()?.into(),
            "--targets" => args.targets = value()?.parse().map_err(|e| format!("{e}"))?,
            "--calls" => args.calls = value()?.parse().map_err(|e| format!("{e}"))?,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(args)
}

/// A loopback server answering every request with an empty
/// `DescribeVpcs` response, on kept-alive connections.
fn loopback_ec2() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream);
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let mut length = 0;
                    loop {
                        let mut header = String::new();
                        if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
                            break;
                        }
                        if let Some((name, value)) = header.split_once(':') {
                            if name.eq_ignore_ascii_case("content-length") {
                                length = value.trim().parse().unwrap_or(0);
                            }
                        }
                    }
                    let mut body = vec![0; length];
                    if reader.read_exact(&mut body).is_err() {
                        return;
                    }
                    let answer = "<DescribeVpcsResponse xmlns=\"http://ec2.amazonaws.com/doc/\
                                  2016-11-15/\"><requestId>bench</requestId><vpcSet/>\
                                  </DescribeVpcsResponse>";
                    let response = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\
                         x-amzn-RequestId: bench\r\n\r\n{answer}",
                        answer.len()
                    );
                    if reader.get_mut().write_all(response.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    url
}

async fn load_all(runtime: &Runtime, files: &[(PathBuf, Vec<u8>)]) -> Result<Duration, String> {
    let started = Instant::now();
    for (file, bytes) in files {
        runtime
            .load_bytes(file, bytes.clone(), Digest::of(bytes))
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(started.elapsed())
}

async fn synthetic(runtime: &Runtime, dir: &Path) -> Result<Arc<LoadedCollector>, String> {
    match runtime.load_file(&dir.join("test-synthetic.wasm")).await.map_err(|e| e.to_string())? {
        Loaded::Collector(c) => Ok(c),
        Loaded::Formatter(_) => Err("test-synthetic.wasm is not a collector".into()),
    }
}

async fn bench(args: Args) -> Result<(), String> {
    let mut files = Vec::new();
    for file in Runtime::plugin_files(&args.plugin_dir).map_err(|e| e.to_string())? {
        let bytes = std::fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        files.push((file, bytes));
    }
    let total: usize = files.iter().map(|(_, b)| b.len()).sum();
    let cache = tempfile::tempdir().map_err(|e| e.to_string())?;
    let fresh = || Runtime::new(Limits::default()).map_err(|e| e.to_string());
    let cold = load_all(&fresh()?, &files).await?;
    let storing =
        load_all(&fresh()?.with_cache(cache.path()).map_err(|e| e.to_string())?, &files).await?;
    let cached_rt = fresh()?.with_cache(cache.path()).map_err(|e| e.to_string())?;
    let cached = load_all(&cached_rt, &files).await?;
    let hits = cached_rt.cache().map_or(0, |c| c.hits());
    println!(
        "load {} plugins ({:.1} MiB of components), including describe:",
        files.len(),
        total as f64 / (1 << 20) as f64
    );
    println!("  cold (compiled)            {:>9.1} ms", cold.as_secs_f64() * 1e3);
    println!("  compiled and cached        {:>9.1} ms", storing.as_secs_f64() * 1e3);
    println!("  from the cache ({hits} hits)   {:>9.1} ms", cached.as_secs_f64() * 1e3);

    let runtime = fresh()?;
    let collector = synthetic(&runtime, &args.test_plugin_dir).await?;
    let gateway = Arc::new(
        Gateway::new(GatewayOptions { endpoint_url: Some(loopback_ec2()), ..Default::default() })
            .map_err(|e| e.to_string())?,
    );
    let keys = Credentials::new("AKIAINVENTAGBENCH000", "not-a-secret", None, None, "bench");
    let credentials = Arc::new(AccountCredentials::from_provider(
        AccountId::parse("123456789012").map_err(|e| e.to_string())?,
        CredentialMethod::AccountsFileKeys,
        SharedCredentialsProvider::new(keys),
    ));
    let spec = |account_name: String| TargetSpec {
        account_id: "123456789012".into(),
        account_name,
        region: "us-east-1".into(),
        record_region: "us-east-1".into(),
        partition: "aws".into(),
        gateway: gateway.clone(),
        credentials: credentials.clone(),
        part: None,
        regions: Arc::from(["us-east-1".to_owned()]),
        sink: None,
    };

    let started = Instant::now();
    for _ in 0..args.targets {
        let run = collector.collect(&runtime, spec("synthetic-0".into())).await;
        if !run.coverage.messages.is_empty() {
            return Err(format!("an empty target failed: {:?}", run.coverage.messages));
        }
    }
    let per_target = started.elapsed() / args.targets.max(1);
    println!(
        "instantiate and collect an empty target: {:>9.1} µs per target ({} targets)",
        per_target.as_secs_f64() * 1e6,
        args.targets
    );

    // One warm-up target opens the connection and fills the credential
    // cache; the timed one makes every call.
    let _ = collector.collect(&runtime, spec("host-calls-10".into())).await;
    let started = Instant::now();
    let run = collector.collect(&runtime, spec(format!("host-calls-{}", args.calls))).await;
    let elapsed = started.elapsed();
    if !run.coverage.messages.is_empty() {
        return Err(format!("the host-call target failed: {:?}", run.coverage.messages));
    }
    println!(
        "aws host call (ec2:DescribeVpcs to loopback): {:>9.1} µs per call ({} calls)",
        (elapsed / args.calls.max(1)).as_secs_f64() * 1e6,
        args.calls
    );
    Ok(())
}

fn main() {
    let args = match parse_args() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    let tokio = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    if let Err(e) = tokio.block_on(bench(args)) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
