//! Pagination (and S3's redirects) against a scripted endpoint: a small
//! HTTP server on 127.0.0.1 that answers canned pages, so the awkward
//! endings real services produce can be replayed exactly: an empty last
//! token, an empty page that still carries a token, a token that repeats,
//! an endless service stopped by the page cap, S3's truncated listing whose
//! next marker is the last key, and a bucket that lives in another region.

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

/// One request as the server saw it.
#[derive(Clone, Debug)]
struct Request {
    target: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// Answers a request with a status, extra headers and a body.
type Script = Box<dyn Fn(&Request) -> (u16, Vec<(&'static str, String)>, String) + Send + Sync>;

/// A scripted endpoint; every request is kept.
struct Endpoint {
    url: String,
    requests: Arc<Mutex<Vec<Request>>>,
}

/// Answers a request's target and body with a response body.
type Pages = Box<dyn Fn(&str, &str) -> String + Send + Sync>;

/// A server answering 200 with the body the script gives for the
/// request's target and body.
fn serve(content_type: &'static str, script: Pages) -> Endpoint {
    serve_replies(
        content_type,
        Box::new(move |r: &Request| (200, Vec::new(), script(&r.target, &r.body))),
    )
}

fn serve_replies(content_type: &'static str, script: Script) -> Endpoint {
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
                let mut headers = Vec::new();
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some((name, value)) = line.split_once(':') {
                        if name.eq_ignore_ascii_case("content-length") {
                            length = value.trim().parse().unwrap_or(0);
                        }
                        headers.push((name.to_owned(), value.trim().to_owned()));
                    }
                }
                let mut body = vec![0; length];
                if reader.read_exact(&mut body).is_err() {
                    break;
                }
                let body = String::from_utf8_lossy(&body).into_owned();
                let request = Request { target, headers, body };
                let (status, extra, answer) = script(&request);
                seen.lock().unwrap().push(request);
                let extra: String = extra.iter().map(|(k, v)| format!("{k}: {v}\r\n")).collect();
                let response = format!(
                    "HTTP/1.1 {status} Scripted\r\nContent-Type: {content_type}\r\n\
                     Content-Length: {}\r\nx-amzn-RequestId: scripted\r\n{extra}\r\n{answer}",
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
    Caller::new("pagination-test", Arc::new(Grants::new([(service, &ops[..])])))
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
        endpoint.requests.lock().unwrap().iter().map(|r| token(&r.body)).collect();
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
    let requests = endpoint.requests.lock().unwrap().clone();
    let targets: Vec<&str> = requests.iter().map(|r| r.target.as_str()).collect();
    assert_eq!(targets, ["/bkt", "/bkt?marker=b"], "path-style with an endpoint override");
    // S3 signs the payload's hash (here of the empty body).
    let empty_sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    assert!(requests.iter().all(|r| r.header("x-amz-content-sha256") == Some(empty_sha256)));
    let signed = requests[0].header("authorization").unwrap_or_default();
    assert!(signed.contains("x-amz-content-sha256"), "{signed}");
}

/// One S3 call through a gateway pointed at `endpoint`.
fn s3_call(endpoint: &Endpoint, region: &str) -> Result<Value, CallError> {
    let (gateway, account) = gateway(endpoint, 10);
    let caller = caller("s3", "GetBucketTagging");
    let input = json!({"Bucket": "far-away"});
    runtime().block_on(gateway.call(&caller, &account, "s3", "GetBucketTagging", region, &input))
}

fn scope(request: &Request) -> String {
    let auth = request.header("authorization").unwrap_or_default();
    auth.split("Credential=").nth(1).unwrap_or("").split(',').next().unwrap_or("").to_owned()
}

#[test]
fn an_s3_redirect_is_followed_once_in_the_bucket_region() {
    let endpoint = serve_replies(
        "application/xml",
        Box::new(|request: &Request| {
            if scope(request).contains("/eu-west-1/s3/") {
                let body = "<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet>\
                            </Tagging>";
                return (200, Vec::new(), body.to_owned());
            }
            let error = "<Error><Code>PermanentRedirect</Code><Message>elsewhere</Message></Error>";
            (301, vec![("x-amz-bucket-region", "eu-west-1".to_owned())], error.to_owned())
        }),
    );
    let out = s3_call(&endpoint, "us-east-1").expect("the redirect should be followed");
    assert_eq!(out["TagSet"], json!([{"Key": "k", "Value": "v"}]));
    let scopes: Vec<String> = endpoint.requests.lock().unwrap().iter().map(scope).collect();
    assert_eq!(scopes.len(), 2, "{scopes:?}");
    assert!(scopes[0].contains("/us-east-1/s3/") && scopes[1].contains("/eu-west-1/s3/"));
}

#[test]
fn an_s3_redirect_is_followed_only_once() {
    let endpoint = serve_replies(
        "application/xml",
        Box::new(|request: &Request| {
            // Always somewhere else than where the request was signed.
            let elsewhere =
                if scope(request).contains("/eu-west-1/") { "ap-south-1" } else { "eu-west-1" };
            let error = "<Error><Code>PermanentRedirect</Code><Message>elsewhere</Message></Error>";
            (301, vec![("x-amz-bucket-region", elsewhere.to_owned())], error.to_owned())
        }),
    );
    let error = s3_call(&endpoint, "us-east-1").expect_err("a second redirect must fail");
    assert_eq!(error.code, "PermanentRedirect");
    assert_eq!(error.http_status, Some(301));
    assert_eq!(endpoint.requests.lock().unwrap().len(), 2);
}
