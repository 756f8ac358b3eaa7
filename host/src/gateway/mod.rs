//! The gateway: the only code that talks to AWS. Every call, a plugin's or
//! the host's own, goes through [`Gateway::call`], which checks the region
//! and the operation, asks the [validator](crate::validator), serialises
//! the input for the service's protocol, signs with SigV4, sends, retries
//! what AWS says may be retried, and parses the answer into JSON. Every
//! call, allowed or refused, is recorded in the [audit log](crate::audit).

pub mod catalogue;
mod error;
mod pages;
pub mod protocol;
mod signing;

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
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

/// Who is calling: a plugin as `name@version`, or the host, with the
/// operations it declared.
#[derive(Clone, Debug)]
pub struct Caller {
    /// `name@version`, or `inventag` for the host.
    pub label: String,
    /// What it may call.
    pub grants: Arc<Grants>,
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
            max_attempts: 5,
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
            standard: Standard::General,
            audit: None,
        }
    }
}

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

/// The gateway to AWS.
pub struct Gateway {
    http: reqwest::Client,
    catalogue: Catalogue,
    validator: Validator,
    options: GatewayOptions,
    /// Call counters.
    pub counters: Counters,
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
            .pool_max_idle_per_host(32)
            .user_agent(concat!("inventag/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| GatewayBuildError(e.to_string()))?;
        Ok(Gateway {
            http,
            catalogue: Catalogue::new(),
            validator: Validator::new(options.standard),
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
                tracing::warn!(caller = %caller.label, service, operation, rule, "call denied by the validator");
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
            let result = self.send(&model, account, operation, &region, input, &mut exchange).await;
            if let Some(audit) = &self.options.audit {
                let account_id = account.account_id().as_str();
                let (region, elapsed) = (region.as_str(), clock.elapsed());
                let call = Call {
                    caller: &caller.label,
                    account_id,
                    region,
                    service,
                    operation,
                    started,
                    elapsed,
                };
                audit.sent(call, rule, &exchange, result.as_ref().map(|_| ()));
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

    fn endpoint(&self, model: &ServiceModel, region: &Region) -> String {
        if let Some(url) = &self.options.endpoint_url {
            return url.trim_end_matches('/').to_owned();
        }
        let suffix =
            if region.partition() == "aws-cn" { "amazonaws.com.cn" } else { "amazonaws.com" };
        format!("https://{}.{}.{}", model.metadata.endpoint_prefix, region, suffix)
    }

    async fn send(
        &self,
        model: &ServiceModel,
        account: &AccountCredentials,
        operation: &str,
        region: &Region,
        input: &Value,
        exchange: &mut Exchange,
    ) -> Result<Value, CallError> {
        let wire =
            protocol::serialize(model, operation, input).map_err(CallError::from_protocol)?;
        let url = format!("{}{}", self.endpoint(model, region), wire.path_and_query);
        let policy = &self.options.retry;
        let started = Instant::now();
        let mut refreshed = false;
        let mut attempt = 0;
        loop {
            attempt += 1;
            exchange.attempts = attempt;
            let creds = account.get().await.map_err(|e| {
                CallError::host(ErrorKind::AccessDenied, "CredentialsUnavailable", e.to_string())
            })?;
            let signed =
                signing::sign(&wire, &url, region.as_str(), model.metadata.signing_name(), &creds)
                    .map_err(|m| CallError::host(ErrorKind::InvalidInput, "SigningFailed", m))?;
            let mut request = self.http.request(
                reqwest::Method::from_bytes(wire.method.as_bytes())
                    .expect("protocol methods are valid"),
                &url,
            );
            for (name, value) in wire.headers.iter().chain(signed.iter()) {
                request = request.header(name.as_str(), value.as_str());
            }
            self.counters.sent.fetch_add(1, Ordering::Relaxed);
            let outcome = match request.body(wire.body.clone()).send().await {
                Ok(response) => {
                    exchange.observe(&response);
                    self.read(model, operation, response).await
                }
                Err(e) => Err(CallError::transport(&e)),
            };
            let error = match outcome {
                Ok(value) => {
                    tracing::debug!(
                        attempts = attempt,
                        elapsed_ms = started.elapsed().as_millis() as u64,
                        "ok"
                    );
                    return Ok(value);
                }
                Err(error) => error,
            };
            if error.expired_token && !refreshed {
                refreshed = true;
                account.invalidate().await;
                continue;
            }
            if !error.retryable() || attempt >= policy.max_attempts {
                tracing::debug!(attempts = attempt, code = %error.code, "failed");
                return Err(error);
            }
            self.counters.retries.fetch_add(1, Ordering::Relaxed);
            let ceiling =
                policy.base_delay.saturating_mul(1 << attempt.min(16)).min(policy.max_delay);
            let delay = ceiling.mul_f64(fastrand::f64());
            tracing::debug!(attempt, code = %error.code, delay_ms = delay.as_millis() as u64, "retrying");
            tokio::time::sleep(delay).await;
        }
    }

    async fn read(
        &self,
        model: &ServiceModel,
        operation: &str,
        response: reqwest::Response,
    ) -> Result<Value, CallError> {
        let status = response.status().as_u16();
        let request_id = ["x-amzn-requestid", "x-amz-request-id"]
            .iter()
            .find_map(|h| response.headers().get(*h))
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response.bytes().await.map_err(|e| CallError::transport(&e))?;
        if (200..300).contains(&status) {
            return protocol::parse_output(model, operation, &body)
                .map_err(CallError::from_protocol);
        }
        let parsed = protocol::parse_error(model, &body);
        Err(CallError::from_response(status, parsed, request_id))
    }
}
