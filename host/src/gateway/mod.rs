//! The gateway: the only code that talks to AWS. Every call, a plugin's or
//! the host's own, goes through [`Gateway::call`], which checks the region
//! and the operation, asks the [validator](crate::validator), serialises
//! the input for the service's protocol, signs with SigV4, sends, retries
//! what AWS says may be retried, and parses the answer into JSON. Every
//! call, allowed or refused, is recorded in the [audit log](crate::audit).
//!
//! Where a request goes is decided here too: a global service's partition
//! endpoint and signing region, an operation's host prefix, S3's bucket
//! addressing and its one retry in the bucket's region ([`s3`]).

pub mod catalogue;
mod error;
pub mod governor;
mod pages;
pub mod protocol;
pub mod s3;
mod signing;

use std::{
    sync::{
        Arc,
        atomic::{AtomicU32, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use serde_json::Value;
use tracing::Instrument;

pub use error::{CallError, ErrorKind};
pub use pages::Pages;

use crate::{
    audit::{AuditLog, Call, Exchange},
    config::Region,
    credentials::AccountCredentials,
    validator::{Grants, Standard, Validator, Verdict},
};
use catalogue::{Catalogue, ServiceModel};
use protocol::{WireRequest, WireResponse};

/// Who is calling: a plugin as `name@version`, or the host, with the
/// operations it declared.
#[derive(Clone, Debug)]
pub struct Caller {
    /// `name@version`, or `inventag` for the host.
    pub label: String,
    /// What it may call.
    pub grants: Arc<Grants>,
    /// The collector part being collected, when the call is a part's.
    pub part: Option<String>,
    /// The regions it may call, when it is held to some: a collector may
    /// call only the regions the run scans for its account.
    pub regions: Option<Arc<[String]>>,
    /// Calls made so far through this caller (one per target), which rank
    /// its next call in the governor's queues: the deeper a target is in
    /// its chain of dependent calls, the sooner its next call goes.
    pub calls: Arc<AtomicU32>,
}

impl Caller {
    /// A caller with `grants`, held to no part or region list.
    pub fn new(label: impl Into<String>, grants: Arc<Grants>) -> Caller {
        Caller { label: label.into(), grants, part: None, regions: None, calls: Arc::default() }
    }
}

/// How the gateway retries.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// Attempts per call, the first included.
    pub max_attempts: u32,
    /// The first back-off; it doubles per attempt, with full jitter.
    pub base_delay: Duration,
    /// The longest back-off.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(10),
        }
    }
}

/// Gateway settings.
#[derive(Clone, Debug)]
pub struct GatewayOptions {
    /// Send every call here instead of AWS (a local stand-in such as moto).
    pub endpoint_url: Option<String>,
    /// Retry behaviour.
    pub retry: RetryPolicy,
    /// The most pages one paginated call may fetch.
    pub page_cap: u32,
    /// The timeout of one HTTP exchange.
    pub request_timeout: Duration,
    /// Per-scope limits, pacing, retry budget and circuit breakers.
    pub governor: governor::GovernorOptions,
    /// The compliance standard the validator holds calls to.
    pub standard: Standard,
    /// Where every call, allowed or denied, is recorded.
    pub audit: Option<Arc<AuditLog>>,
}

impl Default for GatewayOptions {
    fn default() -> Self {
        GatewayOptions {
            endpoint_url: None,
            retry: RetryPolicy::default(),
            page_cap: 1000,
            request_timeout: Duration::from_secs(60),
            governor: governor::GovernorOptions::default(),
            standard: Standard::General,
            audit: None,
        }
    }
}

/// The largest answer read from AWS.
const MAX_RESPONSE_BYTES: usize = 256 << 20;

/// Call counters for the run summary.
#[derive(Debug, Default)]
pub struct Counters {
    /// HTTP requests sent, retries included.
    pub sent: AtomicU64,
    /// Calls refused before sending.
    pub denied: AtomicU64,
    /// Retries.
    pub retries: AtomicU64,
}

/// The runtime the HTTP exchanges run on, apart from the threads that run
/// plugin code: a plugin busy for a few milliseconds with a large answer
/// would otherwise hold up the answers of other calls on its thread, and
/// every chain of calls would grow by those waits.
struct IoRuntime(Option<tokio::runtime::Runtime>);

impl IoRuntime {
    fn new() -> std::io::Result<IoRuntime> {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get().clamp(1, 4));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .thread_name("inventag-io")
            .enable_all()
            .build()?;
        Ok(IoRuntime(Some(runtime)))
    }

    fn handle(&self) -> &tokio::runtime::Handle {
        self.0.as_ref().expect("taken only on drop").handle()
    }
}

impl Drop for IoRuntime {
    fn drop(&mut self) {
        // Dropped from async code at the end of a run, where waiting for
        // its threads is not allowed; exchanges still open are abandoned.
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

/// The gateway to AWS.
pub struct Gateway {
    http: reqwest::Client,
    io: IoRuntime,
    catalogue: Catalogue,
    validator: Validator,
    options: GatewayOptions,
    /// Call counters.
    pub counters: Counters,
    /// Limits and health per scope.
    pub governor: governor::Governor,
}

/// Why the gateway could not be built.
#[derive(Debug, thiserror::Error)]
#[error("cannot build the HTTP client: {0}")]
pub struct GatewayBuildError(String);

impl Gateway {
    /// A gateway with its own HTTP client.
    pub fn new(options: GatewayOptions) -> Result<Gateway, GatewayBuildError> {
        // The TLS stack needs one process-wide crypto provider; a second
        // install attempt (tests build several gateways) is harmless.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(10))
            .timeout(options.request_timeout)
            .pool_max_idle_per_host(256)
            .user_agent(concat!("inventag/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| GatewayBuildError(e.to_string()))?;
        let io = IoRuntime::new().map_err(|e| GatewayBuildError(e.to_string()))?;
        Ok(Gateway {
            http,
            io,
            catalogue: Catalogue::new(),
            validator: Validator::new(options.standard),
            governor: governor::Governor::new(options.governor.clone()),
            options,
            counters: Counters::default(),
        })
    }

    /// The operation catalogue.
    pub fn catalogue(&self) -> &Catalogue {
        &self.catalogue
    }

    /// Checks a call without sending it: region shape, service and
    /// operation in the catalogue, then the validator's verdict.
    pub fn admit(
        &self,
        caller: &Caller,
        service: &str,
        operation: &str,
        region: &str,
    ) -> Result<(Arc<ServiceModel>, Region), CallError> {
        self.admit_with(caller, service, operation, region, None).map(|(m, r, _)| (m, r))
    }

    /// [`admit`](Self::admit), judging the input too when given, and
    /// recording a refusal in the audit log. Returns the allowing rule.
    pub fn screen(
        &self,
        caller: &Caller,
        account: &AccountCredentials,
        service: &str,
        operation: &str,
        region: &str,
        input: Option<&Value>,
    ) -> Result<(Arc<ServiceModel>, Region, &'static str), CallError> {
        let (started, clock) = (std::time::SystemTime::now(), Instant::now());
        let admitted = self.admit_with(caller, service, operation, region, input);
        if let (Err(e), Some(audit)) = (&admitted, &self.options.audit) {
            let account_id = account.account_id().as_str();
            let elapsed = clock.elapsed();
            let call = Call {
                caller: &caller.label,
                part: caller.part.as_deref(),
                account_id,
                region,
                service,
                operation,
                started,
                elapsed,
            };
            audit.refused(call, e);
        }
        admitted
    }

    fn admit_with(
        &self,
        caller: &Caller,
        service: &str,
        operation: &str,
        region: &str,
        input: Option<&Value>,
    ) -> Result<(Arc<ServiceModel>, Region, &'static str), CallError> {
        let region = Region::parse(region).map_err(|e| {
            CallError::host(ErrorKind::InvalidInput, "InvalidRegion", e.to_string())
        })?;
        if let Some(scanned) = &caller.regions
            && !scanned.iter().any(|r| r == region.as_str())
        {
            self.counters.denied.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(caller = %caller.label, region = %region, "call to a region not scanned");
            return Err(CallError::host(
                ErrorKind::Denied,
                "region-not-scanned",
                format!(
                    "{region} is not a region this run scans for the account ({}); a collector \
                     may call only those",
                    scanned.join(", ")
                ),
            ));
        }
        if !self.catalogue.contains(service) {
            self.counters.denied.fetch_add(1, Ordering::Relaxed);
            return Err(CallError::host(
                ErrorKind::Unsupported,
                "UnknownService",
                format!("service {service:?} is not in the operation catalogue"),
            ));
        }
        let model = self.catalogue.service(service).map_err(CallError::from_catalogue)?;
        model.operation(operation).map_err(CallError::from_catalogue)?;
        match self.validator.check(&caller.grants, service, operation, input) {
            Verdict::Denied { rule, reason } => {
                self.counters.denied.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(
                    caller = %caller.label,
                    service,
                    operation,
                    rule,
                    "call denied by the validator"
                );
                Err(CallError::host(ErrorKind::Denied, rule, reason))
            }
            Verdict::Allowed { rule } => Ok((model, region, rule)),
        }
    }

    /// Makes one validated call and returns its output document.
    pub async fn call(
        &self,
        caller: &Caller,
        account: &AccountCredentials,
        service: &str,
        operation: &str,
        region: &str,
        input: &Value,
    ) -> Result<Value, CallError> {
        let span = tracing::debug_span!(
            "aws.call",
            caller = %caller.label,
            account = %account.account_id(),
            region,
            service,
            operation,
        );
        async {
            let (model, region, rule) =
                self.screen(caller, account, service, operation, region, Some(input))?;
            let (started, clock) = (std::time::SystemTime::now(), Instant::now());
            let mut exchange = Exchange::default();
            let rank = caller.calls.fetch_add(1, Ordering::Relaxed);
            let mut record = self.options.audit.clone().map(|audit| CallRecord {
                audit,
                caller: caller.label.clone(),
                part: caller.part.clone(),
                account_id: account.account_id().to_string(),
                region: region.to_string(),
                service: service.to_owned(),
                operation: operation.to_owned(),
                rule: rule.to_owned(),
                started,
                clock,
                written: false,
            });
            let result =
                self.send(&model, account, operation, &region, input, rank, &mut exchange).await;
            if let Some(record) = record.as_mut() {
                record.write(&exchange, result.as_ref().map(|_| ()));
            }
            result
        }
        .instrument(span)
        .await
    }

    /// Starts a paginated call; see [`Pages`].
    pub fn paginate(
        self: &Arc<Self>,
        caller: Caller,
        account: Arc<AccountCredentials>,
        service: &str,
        operation: &str,
        region: &str,
        input: Value,
    ) -> Pages {
        Pages::new(self.clone(), caller, account, service, operation, region, input)
    }

    /// Where a request goes and the region it is signed for: the endpoint
    /// override as given (path-style, no host prefix), else the service's
    /// global endpoint in the region's partition, else its regional one;
    /// S3 buckets with DNS-safe names move into the host name.
    fn target(&self, model: &ServiceModel, region: &Region, wire: &WireRequest) -> Target {
        let global = model.metadata.global_endpoints.get(region.partition());
        let signing_region =
            global.map(|g| g.signing_region.clone()).unwrap_or_else(|| region.to_string());
        if let Some(url) = &self.options.endpoint_url {
            return Target { url: request_url(url, None, &wire.path_and_query), signing_region };
        }
        let suffix =
            if region.partition() == "aws-cn" { "amazonaws.com.cn" } else { "amazonaws.com" };
        let host = match global {
            Some(g) => g.hostname.clone(),
            None => format!("{}.{}.{}", model.metadata.endpoint_prefix, region, suffix),
        };
        if model.service == "s3"
            && let Some(bucket) = wire.bucket.as_deref().filter(|b| s3::virtual_host_bucket(b))
        {
            let path = wire.path_and_query.strip_prefix('/').unwrap_or(&wire.path_and_query);
            let rest = path.strip_prefix(bucket).unwrap_or(path);
            let rest = if rest.starts_with('/') { rest.to_owned() } else { format!("/{rest}") };
            let url = format!("https://{bucket}.{host}{rest}");
            return Target { url, signing_region };
        }
        let base = format!("https://{host}");
        Target {
            url: request_url(&base, wire.host_prefix.as_deref(), &wire.path_and_query),
            signing_region,
        }
    }

    async fn send(
        &self,
        model: &ServiceModel,
        account: &AccountCredentials,
        operation: &str,
        region: &Region,
        input: &Value,
        rank: u32,
        exchange: &mut Exchange,
    ) -> Result<Value, CallError> {
        let wire =
            protocol::serialize(model, operation, input).map_err(CallError::from_protocol)?;
        let method = reqwest::Method::from_bytes(wire.method.as_bytes()).map_err(|_| {
            CallError::host(ErrorKind::Unsupported, "UnsupportedMethod", wire.method.to_owned())
        })?;
        let mut region = region.clone();
        let mut target = self.target(model, &region, &wire);
        let is_s3 = model.service == "s3";
        let policy = &self.options.retry;
        let started = Instant::now();
        let mut refreshed = false;
        let mut redirected = false;
        let mut attempt = 0;
        let (acct, service) = (account.account_id().as_str(), model.service.as_str());
        if let Err(message) = self.governor.circuit(acct, service) {
            return Err(CallError::host(ErrorKind::Service, "CircuitOpen", message));
        }
        loop {
            attempt += 1;
            exchange.attempts = attempt;
            let creds = account.get().await.map_err(|e| {
                CallError::host(ErrorKind::AccessDenied, "CredentialsUnavailable", e.to_string())
            })?;
            let signed = signing::sign(
                &wire,
                &target.url,
                &target.signing_region,
                model.metadata.signing_name(),
                &creds,
                is_s3,
            )
            .map_err(|m| CallError::host(ErrorKind::InvalidInput, "SigningFailed", m))?;
            let mut request = self.http.request(method.clone(), &target.url);
            for (name, value) in wire.headers.iter().chain(signed.iter()) {
                request = request.header(name.as_str(), value.as_str());
            }
            let permit = self.governor.acquire(acct, region.as_str(), service, rank).await;
            self.counters.sent.fetch_add(1, Ordering::Relaxed);
            let mut sent =
                AbortOnDrop(self.io.handle().spawn(receive(request.body(wire.body.clone()))));
            let outcome = match (&mut sent.0).await {
                Ok(Ok(Received { status, headers, body })) => {
                    exchange.observe(status, &headers);
                    body.and_then(|body| {
                        self.read(model, operation, WireResponse { status, headers, body })
                    })
                }
                Ok(Err(failure)) => Err(failure),
                // A panic in the HTTP stack is a host bug, not a network
                // fault to retry.
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Err(e) => Err(Failure::Call(CallError::host(
                    ErrorKind::Transport,
                    "ExchangeAbandoned",
                    e.to_string(),
                ))),
            };
            drop(permit);
            let error = match outcome {
                Ok(value) => {
                    self.governor.succeeded(acct, region.as_str(), service);
                    self.governor.finished(acct, service, governor::Health::Answered);
                    tracing::debug!(
                        attempts = attempt,
                        elapsed_ms = started.elapsed().as_millis() as u64,
                        "ok"
                    );
                    return Ok(value);
                }
                Err(Failure::Redirect(to, error)) => {
                    // S3 names the bucket's region; one more try there.
                    match Region::parse(&to) {
                        Ok(to) if is_s3 && !redirected && to != region => {
                            redirected = true;
                            tracing::debug!(from = %region, to = %to, "bucket lives elsewhere");
                            region = to;
                            target = self.target(model, &region, &wire);
                            continue;
                        }
                        _ => error,
                    }
                }
                Err(Failure::Call(error)) => error,
            };
            if error.expired_token && !refreshed {
                refreshed = true;
                account.invalidate().await;
                continue;
            }
            if error.kind == ErrorKind::Throttled {
                self.governor.throttled(acct, region.as_str(), service);
            }
            if !error.retryable()
                || attempt >= policy.max_attempts
                || !self.governor.take_retry(acct)
            {
                let health = if error.retryable() {
                    governor::Health::Failed
                } else {
                    governor::Health::Answered
                };
                self.governor.finished(acct, service, health);
                tracing::debug!(attempts = attempt, code = %error.code, "failed");
                return Err(error);
            }
            self.counters.retries.fetch_add(1, Ordering::Relaxed);
            let ceiling =
                policy.base_delay.saturating_mul(1 << attempt.min(16)).min(policy.max_delay);
            let delay = ceiling.mul_f64(fastrand::f64());
            let delay_ms = delay.as_millis() as u64;
            tracing::debug!(attempt, code = %error.code, delay_ms, "retrying");
            tokio::time::sleep(delay).await;
        }
    }

    fn read(
        &self,
        model: &ServiceModel,
        operation: &str,
        wire: WireResponse,
    ) -> Result<Value, Failure> {
        let status = wire.status;
        if (200..300).contains(&status) {
            let mut output = protocol::parse_output(model, operation, &wire)
                .map_err(|e| Failure::Call(CallError::from_protocol(e)))?;
            if model.service == "s3" && operation == "GetBucketLocation" {
                s3::normalise_bucket_location(&mut output, &wire.body);
            }
            return Ok(output);
        }
        let parsed = protocol::parse_error(model, &wire);
        let error = CallError::from_response(status, parsed);
        match wire.header("x-amz-bucket-region") {
            Some(region) if matches!(status, 301 | 307 | 400) => {
                Err(Failure::Redirect(region.to_owned(), error))
            }
            _ => Err(Failure::Call(error)),
        }
    }
}

/// The audit record of an allowed call, written once: when the call
/// finishes, or, if it is dropped before that (its plugin's call timeout
/// or deadline gave up on it, or the run was stopped), as abandoned, so
/// every call that may have reached AWS has one.
struct CallRecord {
    audit: Arc<AuditLog>,
    caller: String,
    part: Option<String>,
    account_id: String,
    region: String,
    service: String,
    operation: String,
    rule: String,
    started: std::time::SystemTime,
    clock: Instant,
    written: bool,
}

impl CallRecord {
    fn write(&mut self, exchange: &Exchange, outcome: Result<(), &CallError>) {
        if std::mem::replace(&mut self.written, true) {
            return;
        }
        let call = Call {
            caller: &self.caller,
            part: self.part.as_deref(),
            account_id: &self.account_id,
            region: &self.region,
            service: &self.service,
            operation: &self.operation,
            started: self.started,
            elapsed: self.clock.elapsed(),
        };
        self.audit.sent(call, &self.rule, exchange, outcome);
    }
}

impl Drop for CallRecord {
    fn drop(&mut self) {
        let abandoned = CallError::host(
            ErrorKind::Transport,
            "CallAbandoned",
            "the caller stopped waiting (its call timeout or deadline)".to_owned(),
        );
        self.write(&Exchange::default(), Err(&abandoned));
    }
}

/// An exchange on the I/O runtime, stopped when the call that waits on it
/// is abandoned (a plugin's deadline or call timeout).
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// An answer's status and headers, and its body or why it could not be
/// read: the audit records the first two either way.
struct Received {
    status: u16,
    headers: Vec<(String, String)>,
    body: Result<Vec<u8>, Failure>,
}

/// Sends one request and reads its whole answer, on the I/O runtime.
async fn receive(request: reqwest::RequestBuilder) -> Result<Received, Failure> {
    let mut response = request.send().await.map_err(|e| Failure::Call(CallError::transport(&e)))?;
    let status = response.status().as_u16();
    let headers: Vec<(String, String)> = response
        .headers()
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect();
    // One answer may not hold the host's memory hostage: AWS pages its
    // lists, so an answer this large is a fault, not an inventory.
    let too_large = || {
        Failure::Call(CallError::host(
            ErrorKind::Service,
            "ResponseTooLarge",
            format!("the answer is over {} MiB", MAX_RESPONSE_BYTES >> 20),
        ))
    };
    let body = async {
        if response.content_length().is_some_and(|n| n > MAX_RESPONSE_BYTES as u64) {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) =
            response.chunk().await.map_err(|e| Failure::Call(CallError::transport(&e)))?
        {
            if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
    .await;
    Ok(Received { status, headers, body })
}

/// The URL and signing region of one request.
struct Target {
    url: String,
    signing_region: String,
}

/// How one exchange failed.
enum Failure {
    /// An error to classify, retry or return.
    Call(CallError),
    /// S3 said the bucket lives in another region.
    Redirect(String, CallError),
}

/// The URL of a request: `endpoint` (a base URL that may carry a path,
/// such as `http://127.0.0.1:5000` or `https://example.com/custom`) with
/// `host_prefix` before its host and `path_and_query` after its path.
pub fn request_url(endpoint: &str, host_prefix: Option<&str>, path_and_query: &str) -> String {
    let endpoint = endpoint.trim_end_matches('/');
    let (scheme, rest) = endpoint.split_once("://").unwrap_or(("https", endpoint));
    let (authority, base_path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    format!("{scheme}://{}{authority}{base_path}{path_and_query}", host_prefix.unwrap_or(""))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn target(
        endpoint: Option<&str>,
        service: &str,
        op: &str,
        region: &str,
        input: Value,
    ) -> Target {
        let gateway = Gateway::new(GatewayOptions {
            endpoint_url: endpoint.map(str::to_owned),
            ..Default::default()
        })
        .unwrap();
        let model = gateway.catalogue().service(service).unwrap();
        let wire = protocol::serialize(&model, op, &input).unwrap();
        gateway.target(&model, &Region::parse(region).unwrap(), &wire)
    }

    #[test]
    fn global_services_use_their_partition_endpoint_and_signing_region() {
        let t = target(None, "iam", "ListRoles", "eu-west-1", json!({}));
        assert_eq!(
            (t.url.as_str(), t.signing_region.as_str()),
            ("https://iam.amazonaws.com/", "us-east-1")
        );
        let t = target(None, "iam", "ListRoles", "cn-northwest-1", json!({}));
        assert_eq!(t.url, "https://iam.cn-north-1.amazonaws.com.cn/");
        assert_eq!(t.signing_region, "cn-north-1");
        let t = target(None, "iam", "ListRoles", "us-gov-east-1", json!({}));
        assert_eq!(
            (t.url.as_str(), t.signing_region.as_str()),
            ("https://iam.us-gov.amazonaws.com/", "us-gov-west-1")
        );
        let t = target(None, "route53", "ListHostedZones", "ap-south-1", json!({}));
        assert_eq!(t.url, "https://route53.amazonaws.com/2013-04-01/hostedzone");
        assert_eq!(t.signing_region, "us-east-1");
        let t = target(None, "cloudfront", "ListDistributions", "eu-west-1", json!({}));
        assert!(t.url.starts_with("https://cloudfront.amazonaws.com/2020-05-31/distribution"));
        let t = target(None, "organizations", "ListAccounts", "eu-west-1", json!({}));
        assert_eq!(t.url, "https://organizations.us-east-1.amazonaws.com/");
        assert_eq!(t.signing_region, "us-east-1");
    }

    #[test]
    fn regional_services_use_the_region() {
        let t = target(None, "lambda", "ListFunctions", "eu-west-1", json!({"MaxItems": 5}));
        assert_eq!(t.url, "https://lambda.eu-west-1.amazonaws.com/2015-03-31/functions?MaxItems=5");
        assert_eq!(t.signing_region, "eu-west-1");
        let t = target(None, "ec2", "DescribeInstances", "cn-north-1", json!({}));
        assert_eq!(t.url, "https://ec2.cn-north-1.amazonaws.com.cn/");
    }

    #[test]
    fn s3_buckets_go_in_the_host_only_when_dns_safe_and_not_overridden() {
        let tagging = |bucket: &str| json!({"Bucket": bucket});
        let t = target(None, "s3", "GetBucketTagging", "eu-west-1", tagging("my-bucket"));
        assert_eq!(t.url, "https://my-bucket.s3.eu-west-1.amazonaws.com/?tagging");
        let t = target(None, "s3", "GetBucketTagging", "eu-west-1", tagging("my.dotted.bucket"));
        assert_eq!(t.url, "https://s3.eu-west-1.amazonaws.com/my.dotted.bucket?tagging");
        let t = target(
            None,
            "s3",
            "ListObjectsV2",
            "us-east-1",
            json!({"Bucket": "b-1", "Prefix": "a/b"}),
        );
        assert_eq!(t.url, "https://b-1.s3.us-east-1.amazonaws.com/?list-type=2&prefix=a%2Fb");
        let local = Some("http://127.0.0.1:5000/");
        let t = target(local, "s3", "GetBucketTagging", "eu-west-1", tagging("my-bucket"));
        assert_eq!(t.url, "http://127.0.0.1:5000/my-bucket?tagging");
        assert_eq!(t.signing_region, "eu-west-1");
    }

    #[test]
    fn labels_are_percent_encoded_greedy_ones_keeping_slashes() {
        let input = json!({"Bucket": "b.x", "Key": "dir/a b+c.txt"});
        let t = target(None, "s3", "GetObjectTagging", "us-east-1", input);
        assert_eq!(t.url, "https://s3.us-east-1.amazonaws.com/b.x/dir/a%20b%2Bc.txt?tagging");
        let input = json!({"FunctionName": "arn:aws:lambda:us-east-1:1:function:f"});
        let t = target(None, "lambda", "GetFunctionConfiguration", "us-east-1", input);
        assert_eq!(
            t.url,
            "https://lambda.us-east-1.amazonaws.com/2015-03-31/functions/\
             arn%3Aaws%3Alambda%3Aus-east-1%3A1%3Afunction%3Af/configuration"
        );
    }

    #[test]
    fn host_prefixes_come_from_dns_safe_labels_and_not_with_an_override() {
        let input = json!({"AccountId": "123456789012"});
        let t = target(None, "s3control", "ListAccessPoints", "us-east-1", input.clone());
        assert!(
            t.url.starts_with("https://123456789012.s3-control.us-east-1.amazonaws.com/"),
            "{}",
            t.url
        );
        let t = target(
            Some("http://127.0.0.1:5000"),
            "s3control",
            "ListAccessPoints",
            "us-east-1",
            input,
        );
        assert!(t.url.starts_with("http://127.0.0.1:5000/v20180820/accesspoint"), "{}", t.url);
        let gateway = Gateway::new(GatewayOptions::default()).unwrap();
        let model = gateway.catalogue().service("s3control").unwrap();
        let evil = json!({"AccountId": "evil.example.com#"});
        assert!(protocol::serialize(&model, "ListAccessPoints", &evil).is_err());
    }
}
