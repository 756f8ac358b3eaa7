//! Pagination against a scripted endpoint: a small HTTP server on
//! 127.0.0.1 that answers canned pages, so the awkward endings real
//! services produce can be replayed exactly: an empty last token, an empty
//! page that still carries a token, a token that repeats, an endless
//! service stopped by the page cap, and S3's truncated listing whose next
//! marker is the last key.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::TcpListener,
    sync::{Arc, Mutex},
};

use aws_credential_types::{Credentials, provider::SharedCredentialsProvider};
use inventag::{
    config::AccountId,
    credentials::{AccountCredentials, CredentialMethod},
    gateway::{CallError, Caller, Gateway, GatewayOptions},
    validator::Grants,
};
use serde_json::{Value, json};

/// Answers a request body with a response body.
type Script = Box<dyn Fn(&str, &str) -> String + Send + Sync>;

/// A scripted endpoint; every request's target and body are kept.
struct Endpoint {
    url: String,
    requests: Arc<Mutex<Vec<(String, String)>>>,
}

fn serve(content_type: &'static str, script: Script) -> Endpoint {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(Mutex::new(Vec::new()));
    let seen = requests.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let seen = seen.clone();
            let script = &script;
            // One connection at a time is enough: the gateway sends one
            // page after another.
            let mut reader = BufReader::new(stream);
            loop {
                let mut request_line = String::new();
                if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
                    break;
                }
                let target = request_line.split_whitespace().nth(1).unwrap_or("").to_owned();
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some((name, value)) = line.split_once(':')
                        && name.eq_ignore_ascii_case("content-length")
                    {
                        length = value.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; length];
                if reader.read_exact(&mut body).is_err() {
                    break;
                }
                let body = String::from_utf8_lossy(&body).into_owned();
                let answer = script(&target, &body);
                seen.lock().unwrap().push((target, body));
                let response = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
                     x-amzn-RequestId: scripted\r\n\r\n{answer}",
                    answer.len()
                );
                if reader.get_mut().write_all(response.as_bytes()).is_err() {
                    break;
                }
            }
        }
    });
    Endpoint { url, requests }
}

fn gateway(endpoint: &Endpoint, page_cap: u32) -> (Arc<Gateway>, Arc<AccountCredentials>) {
    let gateway = Arc::new(
        Gateway::new(GatewayOptions {
            endpoint_url: Some(endpoint.url.clone()),
            page_cap,
            ..Default::default()
        })
        .unwrap(),
    );
    let keys = Credentials::new("AKIAINVENTAGTEST0000", "not-a-secret", None, None, "test");
    let account = Arc::new(AccountCredentials::from_provider(
        AccountId::parse("123456789012").unwrap(),
        CredentialMethod::AccountsFileKeys,
        SharedCredentialsProvider::new(keys),
    ));
    (gateway, account)
}

fn caller(service: &str, operation: &str) -> Caller {
    let ops = [operation.to_owned()];
    Caller { label: "pagination-test".into(), grants: Arc::new(Grants::new([(service, &ops[..])])) }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

/// Every page one by one, and the error that ended them, if any.
fn pages(
    endpoint: &Endpoint,
    page_cap: u32,
    service: &str,
    operation: &str,
    input: Value,
) -> (Vec<Value>, Option<CallError>) {
    let (gateway, account) = gateway(endpoint, page_cap);
    let caller = caller(service, operation);
    runtime().block_on(async {
        let mut pages = gateway.paginate(caller, account, service, operation, "us-east-1", input);
        let mut got = Vec::new();
        loop {
            match pages.next().await {
                Ok(Some(page)) => got.push(page),
                Ok(None) => return (got, None),
                Err(e) => return (got, Some(e)),
            }
        }
    })
}

/// The `nextToken` an ECS request carried.
fn token(body: &str) -> Option<String> {
    serde_json::from_str::<Value>(body).ok()?["nextToken"].as_str().map(str::to_owned)
}

fn ecs(script: fn(Option<&str>) -> Value) -> Endpoint {
    serve(
        "application/x-amz-json-1.1",
        Box::new(move |_, body| script(token(body).as_deref()).to_string()),
    )
}

#[test]
fn an_empty_last_token_ends_the_pages() {
    let endpoint = ecs(|token| match token {
        None => json!({"clusterArns": ["arn:a"], "nextToken": "t1"}),
        Some("t1") => json!({"clusterArns": ["arn:b"], "nextToken": ""}),
        Some(other) => panic!("unexpected token {other}"),
    });
    let (got, error) = pages(&endpoint, 10, "ecs", "ListClusters", json!({}));
    assert!(error.is_none(), "{error:?}");
    assert_eq!(got.len(), 2);
    assert_eq!(got[1]["clusterArns"], json!(["arn:b"]));
    let sent: Vec<Option<String>> =
        endpoint.requests.lock().unwrap().iter().map(|(_, b)| token(b)).collect();
    assert_eq!(sent, vec![None, Some("t1".to_owned())]);
}

#[test]
fn merged_pages_concatenate_results_and_drop_the_token() {
    let endpoint = ecs(|token| match token {
        None => json!({"clusterArns": ["arn:a"], "nextToken": "t1"}),
        Some("t1") => json!({"clusterArns": [], "nextToken": "t2"}),
        Some("t2") => json!({"clusterArns": ["arn:b", "arn:c"], "nextToken": ""}),
        Some(other) => panic!("unexpected token {other}"),
    });
    let (gateway, account) = gateway(&endpoint, 10);
    let pages = gateway.paginate(
        caller("ecs", "ListClusters"),
        account,
        "ecs",
        "ListClusters",
        "us-east-1",
        json!({}),
    );
    let merged = runtime().block_on(pages.merged()).unwrap();
    assert_eq!(merged, json!({"clusterArns": ["arn:a", "arn:b", "arn:c"]}));
}

#[test]
fn an_empty_page_that_carries_a_token_is_followed() {
    let endpoint = ecs(|token| match token {
        None => json!({"clusterArns": [], "nextToken": "t1"}),
        Some("t1") => json!({"clusterArns": [], "nextToken": "t2"}),
        Some("t2") => json!({"clusterArns": ["arn:c"]}),
        Some(other) => panic!("unexpected token {other}"),
    });
    let (got, error) = pages(&endpoint, 10, "ecs", "ListClusters", json!({}));
    assert!(error.is_none(), "{error:?}");
    assert_eq!(got.len(), 3);
    assert_eq!(got[2]["clusterArns"], json!(["arn:c"]));
}

#[test]
fn a_repeating_token_is_a_pagination_loop_error() {
    let endpoint = ecs(|_| json!({"clusterArns": ["arn:a"], "nextToken": "same"}));
    let (got, error) = pages(&endpoint, 10, "ecs", "ListClusters", json!({}));
    let error = error.expect("a repeated token must fail");
    assert_eq!(error.code, "PaginationLoop", "{error}");
    assert_eq!(got.len(), 1, "the page that repeated the token is not handed out");
    assert_eq!(endpoint.requests.lock().unwrap().len(), 2);
}

#[test]
fn the_page_cap_bounds_an_endless_service() {
    let endpoint = serve(
        "application/x-amz-json-1.1",
        Box::new(|_, body| {
            let n = token(body).and_then(|t| t.parse::<u32>().ok()).unwrap_or(0);
            json!({"clusterArns": [format!("arn:{n}")], "nextToken": (n + 1).to_string()})
                .to_string()
        }),
    );
    let (got, error) = pages(&endpoint, 3, "ecs", "ListClusters", json!({}));
    assert_eq!(error.map(|e| e.code).as_deref(), Some("PageCapReached"));
    assert_eq!(got.len(), 3);
}

#[test]
fn a_truncated_s3_listing_continues_after_its_last_key() {
    let endpoint = serve(
        "application/xml",
        Box::new(|target, _| {
            let marker = target.split(['?', '&']).find_map(|p| p.strip_prefix("marker="));
            let (keys, truncated) = match marker {
                None => (vec!["a", "b"], true),
                Some("b") => (vec!["c"], false),
                Some(other) => panic!("unexpected marker {other}"),
            };
            let contents: String =
                keys.iter().map(|k| format!("<Contents><Key>{k}</Key></Contents>")).collect();
            format!(
                "<ListBucketResult><Name>bkt</Name><IsTruncated>{truncated}</IsTruncated>\
                 {contents}</ListBucketResult>"
            )
        }),
    );
    let (got, error) = pages(&endpoint, 10, "s3", "ListObjects", json!({"Bucket": "bkt"}));
    assert!(error.is_none(), "{error:?}");
    let keys: Vec<&str> = got
        .iter()
        .flat_map(|p| p["Contents"].as_array().unwrap().iter())
        .map(|c| c["Key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["a", "b", "c"]);
    let targets: Vec<String> =
        endpoint.requests.lock().unwrap().iter().map(|(t, _)| t.clone()).collect();
    assert_eq!(targets, ["/bkt", "/bkt?marker=b"], "path-style with an endpoint override");
}
