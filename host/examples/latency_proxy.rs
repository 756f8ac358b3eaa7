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

use std::{
    net::SocketAddr,
    path::PathBuf,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
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
}

struct Args {
    upstream: SocketAddr,
    latency: Duration,
    stats: Option<PathBuf>,
}

fn args() -> Result<Args, String> {
    let mut upstream = None;
    let mut latency = Duration::from_millis(50);
    let mut stats = None;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--upstream" => {
                let addr: SocketAddr = value.parse().map_err(|e| format!("--upstream: {e}"))?;
                if !addr.ip().is_loopback() {
                    return Err("--upstream must be a loopback address".into());
                }
                upstream = Some(addr);
            }
            "--latency-ms" => {
                latency =
                    Duration::from_millis(value.parse().map_err(|e| format!("--latency-ms: {e}"))?);
            }
            "--stats" => stats = Some(PathBuf::from(value)),
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(Args { upstream: upstream.ok_or("--upstream is required")?, latency, stats })
}

/// Reads one request: head lines and a `Content-Length` body.
async fn read_request(
    reader: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
) -> std::io::Result<Option<Vec<u8>>> {
    let mut head = Vec::new();
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await? == 0 {
            return Ok(None);
        }
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
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
    Ok(Some(head))
}

async fn serve(client: TcpStream, args: Arc<Args>, stats: Arc<Stats>) -> std::io::Result<()> {
    let (read, mut write) = client.into_split();
    let mut reader = BufReader::new(read);
    let Some(request) = read_request(&mut reader).await? else { return Ok(()) };
    let started = Instant::now();
    let now = stats.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
    stats.peak.fetch_max(now, Ordering::Relaxed);
    tokio::time::sleep(args.latency).await;
    let result = async {
        let mut upstream = TcpStream::connect(args.upstream).await?;
        upstream.write_all(&request).await?;
        let mut answer = Vec::new();
        upstream.read_to_end(&mut answer).await?;
        write.write_all(&answer).await?;
        write.shutdown().await
    }
    .await;
    stats.in_flight.fetch_sub(1, Ordering::Relaxed);
    stats.requests.fetch_add(1, Ordering::Relaxed);
    let nanos = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
    stats.nanos.fetch_add(nanos, Ordering::Relaxed);
    stats.min_nanos.fetch_min(nanos, Ordering::Relaxed);
    result
}

fn write_stats(path: &PathBuf, stats: &Stats) {
    let requests = stats.requests.load(Ordering::Relaxed);
    let total_ms = stats.nanos.load(Ordering::Relaxed) as f64 / 1e6;
    let mean_ms = if requests == 0 { 0.0 } else { total_ms / requests as f64 };
    let text = format!(
        "{{\"requests\": {requests}, \"mean_ms\": {mean_ms:.3}, \"min_ms\": {:.3}, \
         \"total_ms\": {total_ms:.3}, \"peak_in_flight\": {}}}\n",
        stats.min_nanos.load(Ordering::Relaxed) as f64 / 1e6,
        stats.peak.load(Ordering::Relaxed)
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
