//! `sandbox-probe`: a test-only collector that reports what the sandbox lets
//! a plugin do.
//!
//! In `collect` it tries to read files, list directories, write a file,
//! read environment variables, open sockets, resolve a name and print, and
//! records each outcome instead of failing. It then makes one legitimate
//! `DescribeVpcs` call (its only declared operation) and emits exactly one
//! record: service `sandbox-probe`, type `probe`, id
//! `probe-{account}-{region}`, with attributes
//! `{"attempts":[{"what","ok","detail"}..],"env_var_count":N,
//! "vpcs_seen":N}` (or `"vpcs_error":"..."` instead of `vpcs_seen`).
//!
//! Nothing here may panic: every outcome, success or error, is data.
//! It is not shipped; tests load it to check the host's sandbox.

use std::io::Write;
use std::net::{TcpStream, ToSocketAddrs, UdpSocket};

use inventag_plugin_sdk::prelude::*;
use serde_json::{Value, json};

/// The port the sandbox tests may listen on.
const PORT: u16 = 47811;
/// The file the probe tries to create.
const WRITE_PATH: &str = "/tmp/inventag-sandbox-probe";
/// The most characters of anything read that go into a detail.
const DETAIL_CHARS: usize = 200;
/// The most directory entries named in a detail.
const LIST_ENTRIES: usize = 20;

/// The collector, registered with the host by `export_collector!`.
struct SandboxProbe;

impl Collector for SandboxProbe {
    fn describe() -> CollectorInfo {
        CollectorInfo {
            name: "sandbox-probe".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            summary: "Test only: reports what the plugin sandbox allows".to_string(),
            global: false,
            calls: vec![service_calls("ec2", &["DescribeVpcs"])],
            parts: Vec::new(),
        }
    }

    fn collect(target: Target) -> Result<CollectSummary, CollectError> {
        let mut attempts = Attempts::default();
        probe_files(&mut attempts);
        let env_var_count = probe_env(&mut attempts);
        probe_network(&mut attempts);
        probe_stdio(&mut attempts);

        let id = format!("probe-{}-{}", target.account_id, target.region);
        let mut record = ResourceBuilder::new(&target, "sandbox-probe", "probe", id)
            .attribute("attempts", attempts.0)
            .attribute("env_var_count", env_var_count);
        let mut warnings = Vec::new();
        record = match aws::call("ec2", "DescribeVpcs", &target.region, &json!({})) {
            Ok(output) => {
                record.attribute("vpcs_seen", output["Vpcs"].as_array().map_or(0, Vec::len))
            }
            Err(e) => {
                let message = e.to_string();
                warnings.push(format!("DescribeVpcs: {message}"));
                record.attribute("vpcs_error", message)
            }
        };
        let record = record.build();
        let mut emitter = Emitter::new();
        let emitted = emitter.push(record).and_then(|()| emitter.flush());
        match emitted {
            Ok(()) => Ok(CollectSummary { emitted: emitter.emitted(), warnings }),
            Err(e) => Err(CollectError {
                message: format!("the host refused the probe record: {e}"),
                access_denied: false,
            }),
        }
    }
}

export_collector!(SandboxProbe);

/// The attempts so far, as JSON objects `{"what","ok","detail"}`.
#[derive(Default)]
struct Attempts(Vec<Value>);

impl Attempts {
    fn record(&mut self, what: impl Into<String>, ok: bool, detail: impl Into<String>) {
        self.0.push(json!({"what": what.into(), "ok": ok, "detail": detail.into()}));
    }

    /// Records a `Result`: the `Ok` text, or the error's text.
    fn outcome<E: std::fmt::Display>(&mut self, what: &str, result: Result<String, E>) {
        match result {
            Ok(detail) => self.record(what, true, detail),
            Err(e) => self.record(what, false, e.to_string()),
        }
    }
}

/// At most [`DETAIL_CHARS`] characters of `text`, marking a cut.
fn clip(text: &str) -> String {
    let mut chars = text.chars();
    let head: String = chars.by_ref().take(DETAIL_CHARS).collect();
    if chars.next().is_some() { format!("{head}...") } else { head }
}

fn probe_files(attempts: &mut Attempts) {
    for path in ["/etc/hostname", "/etc/passwd"] {
        let result = std::fs::read(path).map(|bytes| clip(&String::from_utf8_lossy(&bytes)));
        attempts.outcome(&format!("read {path}"), result);
    }
    for dir in ["/", "."] {
        let result = std::fs::read_dir(dir).map(|entries| {
            let names: Vec<String> = entries
                .map(|entry| match entry {
                    Ok(entry) => entry.file_name().to_string_lossy().into_owned(),
                    Err(e) => format!("<error: {e}>"),
                })
                .take(LIST_ENTRIES)
                .collect();
            format!("{} entries shown: {}", names.len(), names.join(", "))
        });
        attempts.outcome(&format!("list {dir}"), result);
    }
    let result = std::fs::write(WRITE_PATH, b"inventag sandbox probe\n")
        .map(|()| format!("wrote {WRITE_PATH}"));
    attempts.outcome(&format!("write {WRITE_PATH}"), result);
}

/// Reads the probed variables and returns how many variables there are.
fn probe_env(attempts: &mut Attempts) -> usize {
    for name in ["HOME", "PATH", "AWS_SECRET_ACCESS_KEY", "INVENTAG_SANDBOX_SENTINEL"] {
        let what = format!("env {name}");
        match std::env::var_os(name) {
            None => attempts.record(what, false, "not present"),
            // A secret's value never goes into the bill of materials.
            Some(value) if name == "AWS_SECRET_ACCESS_KEY" => {
                attempts.record(what, true, format!("present ({} bytes)", value.len()))
            }
            Some(value) => attempts.record(what, true, clip(&value.to_string_lossy())),
        }
    }
    // `vars_os` rather than `vars`: `vars` panics on a value that is not UTF-8.
    let count = std::env::vars_os().count();
    attempts.record("count env vars", count > 0, format!("{count} variables"));
    count
}

fn probe_network(attempts: &mut Attempts) {
    for host in ["127.0.0.1", "localhost"] {
        let result = TcpStream::connect((host, PORT)).map(|stream| match stream.peer_addr() {
            Ok(peer) => format!("connected to {peer}"),
            Err(_) => "connected".to_string(),
        });
        attempts.outcome(&format!("tcp connect {host}:{PORT}"), result);
    }
    let result = UdpSocket::bind(("127.0.0.1", 0)).map(|socket| match socket.local_addr() {
        Ok(addr) => format!("bound {addr}"),
        Err(_) => "bound".to_string(),
    });
    attempts.outcome("udp bind 127.0.0.1:0", result);
    let result = ("localhost", 0).to_socket_addrs().map(|addrs| {
        let addrs: Vec<String> = addrs.map(|a| a.ip().to_string()).collect();
        format!("resolved to [{}]", addrs.join(", "))
    });
    attempts.outcome("resolve localhost", result);
}

/// Writes to stdout and stderr without `println!`, which panics when the
/// stream is closed.
fn probe_stdio(attempts: &mut Attempts) {
    let line = b"inventag sandbox probe\n";
    let mut stdout = std::io::stdout();
    let result = stdout.write_all(line).and_then(|()| stdout.flush());
    attempts.outcome("print to stdout", result.map(|()| "written".to_string()));
    let mut stderr = std::io::stderr();
    let result = stderr.write_all(line).and_then(|()| stderr.flush());
    attempts.outcome("print to stderr", result.map(|()| "written".to_string()));
}
