//! A recording HTTP/1.1 proxy on loopback: it forwards each request to an
//! upstream (a moto server) unchanged and keeps a copy of what it
//! forwarded, so a test can check what inventag actually sent. It can
//! also inject faults into EC2 `Describe*` calls: throttling, server
//! errors, and access denied for one account's key. Which attempt gets a
//! fault is a function of the seed, the caller's credential scope (key,
//! region), the request body and how many times that request was seen, so
//! one call's faults do not depend on the order concurrent requests arrive
//! in; moto issues new keys on every seeding, so each run draws anew.

use std::{
    collections::HashMap,
    hash::{DefaultHasher, Hash, Hasher},
    io::{BufRead, BufReader, Read, Write},
    net::{TcpListener, TcpStream},
    sync::{Arc, Mutex},
    thread,
};

/// Faults to inject into EC2 `Describe*` calls.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// Share of attempts answered `RequestLimitExceeded` (HTTP 503).
    pub throttle: f64,
    /// Share of attempts answered `InternalError` (HTTP 500).
    pub fail: f64,
    /// Seed of the fault choice.
    pub seed: u64,
    /// `(access key id, action)`: always answered `UnauthorizedOperation`.
    pub deny: Vec<(String, String)>,
    /// Actions never answered: the connection is held open, silent.
    pub hang: Vec<String>,
}

/// What the proxy did, by kind.
#[derive(Clone, Debug, Default)]
pub struct Injected {
    /// Throttling answers sent.
    pub throttled: usize,
    /// Server errors sent.
    pub failed: usize,
    /// Access-denied answers sent.
    pub denied: usize,
}

struct Shared {
    seen: Mutex<Vec<Recorded>>,
    faults: Faults,
    counts: Mutex<HashMap<u64, u64>>,
    injected: Mutex<Injected>,
}

/// One forwarded request.
#[derive(Clone, Debug)]
pub struct Recorded {
    /// The request line, like `POST / HTTP/1.1`.
    pub request_line: String,
    /// Header lines as sent.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

/// The proxy; it runs until the test process ends.
pub struct Proxy {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    shared: Arc<Shared>,
}

impl Proxy {
    /// Starts a proxy in front of `upstream` (`127.0.0.1:PORT`).
    pub fn start(upstream: &str) -> Proxy {
        Proxy::with_faults(upstream, Faults::default())
    }

    /// Starts a proxy that injects `faults`.
    pub fn with_faults(upstream: &str, faults: Faults) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let shared = Arc::new(Shared {
            seen: Mutex::new(Vec::new()),
            faults,
            counts: Mutex::new(HashMap::new()),
            injected: Mutex::new(Injected::default()),
        });
        let upstream = upstream.to_owned();
        let state = shared.clone();
        thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let upstream = upstream.clone();
                let state = state.clone();
                thread::spawn(move || {
                    let _ = serve(client, &upstream, &state);
                });
            }
        });
        Proxy { url, shared }
    }

    /// Everything received so far, faulted requests included.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.seen.lock().unwrap().clone()
    }

    /// The faults injected so far.
    pub fn injected(&self) -> Injected {
        self.shared.injected.lock().unwrap().clone()
    }
}

/// The credential scope of a SigV4 `Authorization` header:
/// `KEY/DATE/REGION/SERVICE/aws4_request`.
fn credential_scope(headers: &[(String, String)]) -> String {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        .and_then(|(_, v)| v.split("Credential=").nth(1))
        .and_then(|c| c.split(',').next())
        .unwrap_or_default()
        .to_owned()
}

/// The access key id of a SigV4 `Authorization` header.
fn key_id(headers: &[(String, String)]) -> String {
    credential_scope(headers).split('/').next().unwrap_or_default().to_owned()
}

/// The fault for one request, if any: status, code.
fn fault(state: &Shared, headers: &[(String, String)], body: &[u8]) -> Option<(u16, &'static str)> {
    let text = String::from_utf8_lossy(body);
    if !text.contains("Action=Describe") {
        return None;
    }
    let key = key_id(headers);
    let f = &state.faults;
    if f.deny.iter().any(|(k, action)| *k == key && text.contains(&format!("Action={action}&"))) {
        state.injected.lock().unwrap().denied += 1;
        return Some((403, "UnauthorizedOperation"));
    }
    // Keyed by account, region and request, so one call's attempts see the
    // same sequence whatever other calls run beside it.
    let mut h = DefaultHasher::new();
    (f.seed, credential_scope(headers), &text).hash(&mut h);
    let request = h.finish();
    let seen = {
        let mut counts = state.counts.lock().unwrap();
        let n = counts.entry(request).or_insert(0);
        *n += 1;
        *n
    };
    let mut h = DefaultHasher::new();
    (request, seen).hash(&mut h);
    let roll = (h.finish() % 1_000_000) as f64 / 1_000_000.0;
    if roll < f.throttle {
        state.injected.lock().unwrap().throttled += 1;
        Some((503, "RequestLimitExceeded"))
    } else if roll < f.throttle + f.fail {
        state.injected.lock().unwrap().failed += 1;
        Some((500, "InternalError"))
    } else {
        None
    }
}

fn serve(client: TcpStream, upstream: &str, state: &Shared) -> std::io::Result<()> {
    let mut reader = BufReader::new(client.try_clone()?);
    let mut client = client;
    let mut request_line = String::new();
    if reader.read_line(&mut request_line)? == 0 {
        return Ok(());
    }
    let mut headers = Vec::new();
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().unwrap_or(0);
            }
            headers.push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    state.seen.lock().unwrap().push(Recorded {
        request_line: request_line.trim_end().to_owned(),
        headers: headers.clone(),
        body: body.clone(),
    });
    let text = String::from_utf8_lossy(&body);
    if state.faults.hang.iter().any(|a| text.contains(&format!("Action={a}&"))) {
        // Hold the connection without a word until the client gives up.
        let mut rest = Vec::new();
        let _ = reader.read_to_end(&mut rest);
        return Ok(());
    }
    if let Some((status, code)) = fault(state, &headers, &body) {
        let xml = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{code}\
             </Code><Message>injected by the test proxy</Message></Error></Errors>\
             <RequestID>proxy-fault</RequestID></Response>"
        );
        let head = format!(
            "HTTP/1.1 {status} Fault\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n",
            xml.len()
        );
        client.write_all(head.as_bytes())?;
        client.write_all(xml.as_bytes())?;
        return client.flush();
    }

    // One upstream connection per request, closed by the upstream
    // after its answer; the answer goes back with `Connection: close`.
    let mut up = TcpStream::connect(upstream)?;
    let mut head = request_line.clone();
    for (k, v) in &headers {
        if !k.eq_ignore_ascii_case("connection") {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
    }
    head.push_str("Connection: close\r\n\r\n");
    up.write_all(head.as_bytes())?;
    up.write_all(&body)?;
    let mut answer = Vec::new();
    up.read_to_end(&mut answer)?;
    client.write_all(&answer)?;
    client.flush()?;
    Ok(())
}
