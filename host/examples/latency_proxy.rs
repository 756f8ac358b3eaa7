//! A loopback HTTP/1.1 proxy that adds a fixed latency to every request,
//! for the benchmark: it stands between inventag and a local moto server
//! so that a run feels the round trips of a real AWS region.
//!
//! ```text
//! latency_proxy --upstream 127.0.0.1:5000 --latency-ms 50 --stats stats.json
//! ```
//!
//! It prints `listening on 127.0.0.1:PORT` once bound, and keeps
//! `stats.json` up to date: requests, their mean and total time through the
//! proxy, and the peak number in flight. Only loopback addresses are
//! accepted on either side.
//!
//! On two cores moto answers about 120 calls a second, so a run of a
//! thousand calls measures moto, not the client. For that case the proxy
//! can record and replay:
//!
//! ```text
//! latency_proxy --upstream 127.0.0.1:5000 --record tape.bin   # pass through, keep answers
//! latency_proxy --replay tape.bin --latency-ms 50              # answer from the tape
//! ```
//!
//! A request is matched on what identifies it to AWS: method, target,
//! host name, `X-Amz-Target`, the credential scope (access key id, region,
//! service) and the body; the date,
//! signature and per-attempt headers are left out. The n-th identical
//! request gets the n-th recorded answer (the last one repeats). A request
//! not on the tape gets a 599 answer and is counted in `misses`, so a
//! replay that strays from its recording shows.

use std::{
    collections::HashMap,
    io::Write,
    net::SocketAddr,
    path::PathBuf,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader},
    net::{TcpListener, TcpStream},
};

#[derive(Default)]
struct Stats {
    requests: AtomicU64,
    nanos: AtomicU64,
    in_flight: AtomicU64,
    peak: AtomicU64,
    min_nanos: AtomicU64,
    misses: AtomicU64,
}

/// Where answers come from.
enum Source {
    /// A live server, optionally keeping every answer on a tape.
    Upstream { addr: SocketAddr, tape: Option<Mutex<std::fs::File>> },
    /// A tape recorded before.
    Replay(Tape),
}

/// Recorded answers by request key, each with a count of times served.
struct Tape {
    answers: HashMap<Vec<u8>, (Vec<Vec<u8>>, AtomicUsize)>,
}

struct Args {
    source: Source,
    latency: Duration,
    stats: Option<PathBuf>,
}

fn loopback(value: &str, flag: &str) -> Result<SocketAddr, String> {
    let addr: SocketAddr = value.parse().map_err(|e| format!("{flag}: {e}"))?;
    if !addr.ip().is_loopback() {
        return Err(format!("{flag} must be a loopback address"));
    }
    Ok(addr)
}

fn args() -> Result<Args, String> {
    let (mut upstream, mut record, mut replay) = (None, None, None);
    let mut latency = Duration::from_millis(50);
    let mut stats = None;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--upstream" => upstream = Some(loopback(&value, "--upstream")?),
            "--latency-ms" => {
                latency =
                    Duration::from_millis(value.parse().map_err(|e| format!("--latency-ms: {e}"))?);
            }
            "--stats" => stats = Some(PathBuf::from(value)),
            "--record" => record = Some(PathBuf::from(value)),
            "--replay" => replay = Some(PathBuf::from(value)),
            other => return Err(format!("unknown flag {other}")),
        }
    }
    let source = match (upstream, replay) {
        (Some(addr), None) => {
            let tape = match record {
                Some(path) => Some(Mutex::new(
                    std::fs::File::create(&path)
                        .map_err(|e| format!("--record {}: {e}", path.display()))?,
                )),
                None => None,
            };
            Source::Upstream { addr, tape }
        }
        (None, Some(path)) if record.is_none() => Source::Replay(read_tape(&path)?),
        (None, None) => return Err("--upstream or --replay is required".into()),
        _ => return Err("--replay takes neither --upstream nor --record".into()),
    };
    Ok(Args { source, latency, stats })
}

/// Reads a tape: records of a 4-byte big-endian length and that many bytes,
/// alternating key and answer.
fn read_tape(path: &PathBuf) -> Result<Tape, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("--replay {}: {e}", path.display()))?;
    let mut answers: HashMap<Vec<u8>, (Vec<Vec<u8>>, AtomicUsize)> = HashMap::new();
    let mut rest = bytes.as_slice();
    let take = |rest: &mut &[u8]| -> Option<Vec<u8>> {
        let (len, tail) = rest.split_first_chunk::<4>()?;
        let len = u32::from_be_bytes(*len) as usize;
        let (item, tail) = (tail.get(..len)?, tail.get(len..)?);
        *rest = tail;
        Some(item.to_vec())
    };
    while !rest.is_empty() {
        let (Some(key), Some(answer)) = (take(&mut rest), take(&mut rest)) else {
            return Err(format!("--replay {}: the tape is truncated", path.display()));
        };
        answers.entry(key).or_insert_with(|| (Vec::new(), AtomicUsize::new(0))).0.push(answer);
    }
    Ok(Tape { answers })
}

/// The largest request body the proxy takes.
const MAX_BODY: usize = 64 << 20;

/// One request read from the client.
struct Request {
    /// What goes upstream: the head with `Connection: close`, then the body.
    bytes: Vec<u8>,
    /// What identifies it on a tape.
    key: Vec<u8>,
}

/// The credential scope of a SigV4 `Authorization` header without its
/// date: access key id, region and service (with an endpoint URL, the
/// region shows nowhere else).
fn credential_scope(authorization: &str) -> String {
    let scope = authorization
        .split("Credential=")
        .nth(1)
        .and_then(|c| c.split([',', ' ']).next())
        .unwrap_or("");
    scope
        .split('/')
        .enumerate()
        .filter(|(i, _)| *i != 1)
        .map(|(_, p)| p)
        .collect::<Vec<_>>()
        .join("/")
}

/// Reads one request: head lines and a `Content-Length` body.
async fn read_request(
    reader: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
) -> std::io::Result<Option<Request>> {
    let mut head = Vec::new();
    let mut length = 0usize;
    let mut key = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await? == 0 {
            return Ok(None);
        }
        if head.is_empty() {
            key.extend_from_slice(line.trim_end().as_bytes());
        }
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            length = v.trim().parse().ok().filter(|n| *n <= MAX_BODY).ok_or_else(|| {
                std::io::Error::other(format!("bad Content-Length: {}", v.trim()))
            })?;
        }
        if let Some((name, value)) = line.split_once(':') {
            let value = value.trim();
            let part = match name.to_ascii_lowercase().as_str() {
                "host" => value.split(':').next().unwrap_or("").to_owned(),
                "x-amz-target" => value.to_owned(),
                "authorization" => credential_scope(value),
                _ => String::new(),
            };
            if !part.is_empty() {
                key.extend_from_slice(name.to_ascii_lowercase().as_bytes());
                key.push(b'=');
                key.extend_from_slice(part.as_bytes());
                key.push(b'\n');
            }
        }
        if lower.starts_with("connection:") {
            continue;
        }
        if line == "\r\n" {
            head.extend_from_slice(b"Connection: close\r\n\r\n");
            break;
        }
        head.extend_from_slice(line.as_bytes());
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).await?;
    head.extend_from_slice(&body);
    key.extend_from_slice(&body);
    Ok(Some(Request { bytes: head, key }))
}

/// The answer to one request, from upstream or the tape.
async fn answer(request: &Request, source: &Source, stats: &Stats) -> std::io::Result<Vec<u8>> {
    match source {
        Source::Upstream { addr, tape } => {
            let mut upstream = TcpStream::connect(addr).await?;
            upstream.write_all(&request.bytes).await?;
            let mut answer = Vec::new();
            upstream.read_to_end(&mut answer).await?;
            if let Some(tape) = tape {
                let mut file = tape.lock().unwrap_or_else(|p| p.into_inner());
                for item in [&request.key, &answer] {
                    file.write_all(&(item.len() as u32).to_be_bytes())?;
                    file.write_all(item)?;
                }
            }
            Ok(answer)
        }
        Source::Replay(tape) => match tape.answers.get(&request.key) {
            Some((answers, served)) => {
                let n = served.fetch_add(1, Ordering::Relaxed);
                Ok(answers[n.min(answers.len() - 1)].clone())
            }
            None => {
                stats.misses.fetch_add(1, Ordering::Relaxed);
                let body = "this request is not on the tape";
                Ok(format!(
                    "HTTP/1.1 599 Not Recorded\r\nContent-Length: {}\r\n\
                     Connection: close\r\n\r\n{body}",
                    body.len()
                )
                .into_bytes())
            }
        },
    }
}

/// Serves one client connection, one request after another: AWS clients
/// keep their connections open, and so does the proxy.
async fn serve(client: TcpStream, args: Arc<Args>, stats: Arc<Stats>) -> std::io::Result<()> {
    let (read, mut write) = client.into_split();
    let mut reader = BufReader::new(read);
    while let Some(request) = read_request(&mut reader).await? {
        let started = Instant::now();
        let now = stats.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
        stats.peak.fetch_max(now, Ordering::Relaxed);
        tokio::time::sleep(args.latency).await;
        let result = async {
            let answer = answer(&request, &args.source, &stats).await?;
            write.write_all(&keep_alive(&answer, request.bytes.starts_with(b"HEAD "))).await
        }
        .await;
        stats.in_flight.fetch_sub(1, Ordering::Relaxed);
        stats.requests.fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        stats.nanos.fetch_add(nanos, Ordering::Relaxed);
        stats.min_nanos.fetch_min(nanos, Ordering::Relaxed);
        result?;
    }
    write.shutdown().await
}

/// An answer read to the end of its connection, framed again for a
/// connection that stays open: `Content-Length` set to the body (a chunked
/// body decoded first), `Connection: keep-alive`. The answer to a `HEAD`
/// keeps its headers as they were, with no body.
fn keep_alive(answer: &[u8], head_request: bool) -> Vec<u8> {
    let split = answer.windows(4).position(|w| w == b"\r\n\r\n").map_or(answer.len(), |p| p + 4);
    let (head, body) = answer.split_at(split);
    let head = String::from_utf8_lossy(head);
    let mut lines = head.split("\r\n").filter(|l| !l.is_empty());
    let mut out = format!("{}\r\n", lines.next().unwrap_or("HTTP/1.1 502 Bad Gateway"));
    let mut chunked = false;
    for line in lines {
        let name = line.split(':').next().unwrap_or("").trim().to_ascii_lowercase();
        if name == "transfer-encoding" {
            chunked = line.to_ascii_lowercase().contains("chunked");
        }
        let framing = matches!(name.as_str(), "connection" | "transfer-encoding")
            || (name == "content-length" && !head_request);
        if !framing {
            out.push_str(line);
            out.push_str("\r\n");
        }
    }
    let body = if head_request {
        Vec::new()
    } else if chunked {
        dechunk(body)
    } else {
        body.to_vec()
    };
    if !head_request {
        out.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    out.push_str("Connection: keep-alive\r\n\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(&body);
    bytes
}

/// The data of a chunked body.
fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = body.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&body[..end])
            .ok()
            .and_then(|s| usize::from_str_radix(s.split(';').next().unwrap_or("").trim(), 16).ok())
            .unwrap_or(0);
        let data = &body[end + 2..];
        if size == 0 || data.len() < size {
            break;
        }
        out.extend_from_slice(&data[..size]);
        body = data.get(size + 2..).unwrap_or(&[]);
    }
    out
}

fn write_stats(path: &PathBuf, stats: &Stats) {
    let requests = stats.requests.load(Ordering::Relaxed);
    let total_ms = stats.nanos.load(Ordering::Relaxed) as f64 / 1e6;
    let mean_ms = if requests == 0 { 0.0 } else { total_ms / requests as f64 };
    let text = format!(
        "{{\"requests\": {requests}, \"mean_ms\": {mean_ms:.3}, \"min_ms\": {:.3}, \
         \"total_ms\": {total_ms:.3}, \"peak_in_flight\": {}, \"misses\": {}}}\n",
        stats.min_nanos.load(Ordering::Relaxed) as f64 / 1e6,
        stats.peak.load(Ordering::Relaxed),
        stats.misses.load(Ordering::Relaxed)
    );
    let tmp = path.with_extension("tmp");
    if std::fs::write(&tmp, text).is_ok() {
        let _ = std::fs::rename(&tmp, path);
    }
}

#[tokio::main]
async fn main() {
    let args = match args() {
        Ok(a) => Arc::new(a),
        Err(e) => {
            eprintln!("latency_proxy: {e}");
            std::process::exit(2);
        }
    };
    let listener = match TcpListener::bind("127.0.0.1:0").await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("latency_proxy: cannot listen on 127.0.0.1: {e}");
            std::process::exit(1);
        }
    };
    let local = listener.local_addr().map(|a| a.to_string()).unwrap_or_default();
    println!("listening on {local}");
    let stats = Arc::new(Stats { min_nanos: AtomicU64::new(u64::MAX), ..Stats::default() });
    if let Some(path) = args.stats.clone() {
        let stats = stats.clone();
        tokio::spawn(async move {
            loop {
                write_stats(&path, &stats);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
    }
    loop {
        match listener.accept().await {
            Ok((client, _)) => {
                tokio::spawn(serve(client, args.clone(), stats.clone()));
            }
            Err(e) => eprintln!("latency_proxy: accept failed: {e}"),
        }
    }
}
