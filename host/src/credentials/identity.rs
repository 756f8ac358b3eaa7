//! The identity check: once a source has given credentials, STS
//! `GetCallerIdentity` says whose they are. Credentials for another account
//! than the accounts file names are refused, so a mixed-up secret never
//! scans the wrong account under the right name.

use aws_config::{BehaviorVersion, Region as SdkRegion};
use aws_credential_types::{Credentials, provider::SharedCredentialsProvider};
use aws_sdk_sts::error::ProvideErrorMetadata;

/// Who the credentials belong to.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct CallerIdentity {
    /// The account id STS reports.
    pub account: String,
    /// The caller's ARN.
    pub arn: String,
}

/// Asks STS who `credentials` belong to.
#[tracing::instrument(name = "credentials.identity", skip_all)]
pub async fn caller_identity(
    credentials: Credentials,
    endpoint_url: Option<&str>,
    audit: Option<crate::audit::sdk::SdkAudit>,
) -> Result<CallerIdentity, String> {
    let mut config = aws_sdk_sts::config::Builder::new()
        .behavior_version(BehaviorVersion::latest())
        .region(SdkRegion::new("us-east-1"))
        .credentials_provider(SharedCredentialsProvider::new(credentials));
    if let Some(url) = endpoint_url {
        config = config.endpoint_url(url);
    }
    if let Some(hook) = audit {
        config = config.interceptor(hook);
    }
    let client = aws_sdk_sts::Client::from_conf(config.build());
    let output = client.get_caller_identity().send().await.map_err(|e| match e.code() {
        Some(code) => format!("{code}: {}", e.message().unwrap_or("no message")),
        None => super::error_chain(&e),
    })?;
    match (output.account(), output.arn()) {
        (Some(account), Some(arn)) => {
            Ok(CallerIdentity { account: account.to_owned(), arn: arn.to_owned() })
        }
        _ => Err("GetCallerIdentity answered without an account or ARN".into()),
    }
}
