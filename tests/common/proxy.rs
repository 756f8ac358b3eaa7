//! A recording HTTP/1.1 proxy on loopback: it forwards each request to an
//! upstream (a moto server) unchanged and keeps a copy of what it
//! forwarded, so a test can check what inventag actually sent.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::{TcpListener, TcpStream},
    sync::{Arc, Mutex},
    thread,
};

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
    seen: Arc<Mutex<Vec<Recorded>>>,
}

impl Proxy {
    /// Starts a proxy in front of `upstream` (`127.0.0.1:PORT`).
    pub fn start(upstream: &str) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let upstream = upstream.to_owned();
        let log = seen.clone();
        thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let upstream = upstream.clone();
                let log = log.clone();
                thread::spawn(move || {
                    let _ = serve(client, &upstream, &log);
                });
            }
        });
        Proxy { url, seen }
    }

    /// Everything forwarded so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.seen.lock().unwrap().clone()
    }
}

fn serve(client: TcpStream, upstream: &str, log: &Mutex<Vec<Recorded>>) -> std::io::Result<()> {
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
    log.lock().unwrap().push(Recorded {
        request_line: request_line.trim_end().to_owned(),
        headers: headers.clone(),
        body: body.clone(),
    });

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
