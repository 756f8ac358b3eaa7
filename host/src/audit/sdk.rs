//! The audit hook for the host's own calls made through the AWS SDK
//! (credential resolution: STS, Secrets Manager, Organizations): an SDK
//! interceptor that writes one audit record per operation, with the rule
//! [`HOST_CREDENTIALS_RULE`](super::HOST_CREDENTIALS_RULE). It reads the
//! operation's name, the status and request id of the last response and
//! counts attempts; it never looks at inputs, outputs or headers other
//! than the request id.
//!
//! `sts:AssumeRole` is made by aws-config's role provider with a client of
//! its own, which takes no interceptor; [`AuditedProvider`] wraps the
//! provider instead and records each assumption with its duration and
//! outcome, but without HTTP status or request id.

use std::{
    sync::Arc,
    time::{Instant, SystemTime},
};

use aws_credential_types::provider::{self, ProvideCredentials, SharedCredentialsProvider};
use aws_smithy_runtime_api::{
    box_error::BoxError,
    client::{
        interceptors::{
            Intercept, SharedInterceptor,
            context::{
                BeforeSerializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
                FinalizerInterceptorContextRef,
            },
        },
        orchestrator::Metadata,
        runtime_components::RuntimeComponents,
    },
};
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};

use super::{AuditLog, Call, Exchange, MAX_NAME_CHARS, clean};

/// Where the host's SDK calls of one client go, for the audit records.
#[derive(Clone, Debug)]
pub struct SdkAudit {
    log: Arc<AuditLog>,
    account_id: String,
    region: String,
    service: &'static str,
}

impl SdkAudit {
    /// A hook recording `service` calls about `account_id` in `region`.
    pub fn new(log: Arc<AuditLog>, account_id: &str, region: &str, service: &'static str) -> Self {
        SdkAudit { log, account_id: account_id.to_owned(), region: region.to_owned(), service }
    }

    /// The hook as an interceptor for an SDK client's configuration.
    pub fn interceptor(self) -> SharedInterceptor {
        SharedInterceptor::new(self)
    }
}

/// One operation's attempts and record, kept in its config bag.
#[derive(Clone, Debug)]
struct Timing {
    attempts: u32,
    underway: Arc<Underway>,
}

/// The audit record of one operation, written once: when it finishes, or,
/// if it is dropped before that (the caller's timeout gave up on it, with
/// its config bag), as abandoned, so a request that may have reached AWS
/// has one.
#[derive(Debug)]
struct Underway {
    hook: SdkAudit,
    /// Named once the operation's metadata is in its config bag.
    operation: std::sync::Mutex<String>,
    started: SystemTime,
    clock: Instant,
    written: std::sync::atomic::AtomicBool,
}

impl Underway {
    fn new(hook: SdkAudit, operation: &str) -> Underway {
        Underway {
            hook,
            operation: std::sync::Mutex::new(operation.to_owned()),
            started: SystemTime::now(),
            clock: Instant::now(),
            written: Default::default(),
        }
    }

    fn name(&self, operation: &str) {
        if let Ok(mut name) = self.operation.lock() {
            operation.clone_into(&mut name);
        }
    }

    fn write(&self, exchange: &Exchange, error_code: Option<&str>) {
        if self.written.swap(true, std::sync::atomic::Ordering::Relaxed) {
            return;
        }
        let operation = self.operation.lock().map(|o| o.clone()).unwrap_or_default();
        let call = Call {
            caller: "inventag",
            part: None,
            account_id: &self.hook.account_id,
            region: &self.hook.region,
            service: self.hook.service,
            operation: &operation,
            started: self.started,
            elapsed: self.clock.elapsed(),
        };
        self.hook.log.host_sdk_call(call, exchange, error_code);
    }
}

impl Drop for Underway {
    fn drop(&mut self) {
        self.write(&Exchange::default(), Some("CallAbandoned"));
    }
}

impl Storable for Timing {
    type Storer = StoreReplace<Self>;
}

impl Intercept for SdkAudit {
    fn name(&self) -> &'static str {
        "inventag-audit"
    }

    fn read_before_execution(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let operation = cfg.load::<Metadata>().map_or("unknown", |m| m.name());
        let underway = Arc::new(Underway::new(self.clone(), operation));
        cfg.interceptor_state().store_put(Timing { attempts: 0, underway });
        Ok(())
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(mut timing) = cfg.load::<Timing>().cloned() {
            timing.attempts += 1;
            if let Some(metadata) = cfg.load::<Metadata>() {
                timing.underway.name(metadata.name());
            }
            cfg.interceptor_state().store_put(timing);
        }
        Ok(())
    }

    fn read_after_execution(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let (attempts, underway) = match cfg.load::<Timing>() {
            Some(t) => (t.attempts, t.underway.clone()),
            None => (1, Arc::new(Underway::new(self.clone(), "unknown"))),
        };
        if let Some(metadata) = cfg.load::<Metadata>() {
            underway.name(metadata.name());
        }
        let response = context.response();
        let exchange = Exchange {
            attempts: attempts.max(1),
            http_status: response.map(|r| r.status().as_u16()),
            request_id: response
                .and_then(|r| {
                    ["x-amzn-requestid", "x-amz-request-id"]
                        .iter()
                        .find_map(|h| r.headers().get(*h))
                })
                .map(|v| clean(v, MAX_NAME_CHARS)),
        };
        let failed = matches!(context.output_or_error(), Some(Err(_)));
        let error_code = match (failed, exchange.http_status) {
            (false, _) => None,
            (true, Some(status)) => Some(format!("Http{status}")),
            (true, None) => Some("TransportError".to_owned()),
        };
        underway.write(&exchange, error_code.as_deref());
        Ok(())
    }
}

/// A credentials provider whose every call is recorded as one operation
/// (`sts:AssumeRole` for a role provider).
#[derive(Debug)]
pub struct AuditedProvider {
    inner: SharedCredentialsProvider,
    hook: SdkAudit,
    operation: &'static str,
}

impl AuditedProvider {
    /// Wraps `inner`, recording each call as `operation`.
    pub fn new(inner: SharedCredentialsProvider, hook: SdkAudit, operation: &'static str) -> Self {
        AuditedProvider { inner, hook, operation }
    }
}

impl ProvideCredentials for AuditedProvider {
    fn provide_credentials<'a>(&'a self) -> provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        provider::future::ProvideCredentials::new(async move {
            let underway = Underway::new(self.hook.clone(), self.operation);
            let result = self.inner.provide_credentials().await;
            let exchange = Exchange { attempts: 1, ..Exchange::default() };
            let error_code = result.as_ref().err().map(|_| "CredentialsNotLoaded");
            underway.write(&exchange, error_code);
            result
        })
    }
}
