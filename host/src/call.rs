//! `inventag call`: one read-only AWS operation from the command line,
//! through the same gateway as the plugins' calls. The host is the caller
//! (`inventag`), granted exactly the operation asked for; the validator
//! still refuses anything that is not a read or that returns secrets, and
//! the input is checked against the operation's shape before anything is
//! sent. The output is the operation's JSON document, or every page
//! merged with `paginate`.

use std::sync::Arc;

use serde_json::Value;

use crate::{
    config::{AccountId, Region},
    credentials::{AccountCredentials, CredentialMethod},
    gateway::{CallError, Caller, Gateway, GatewayOptions},
    validator::Grants,
};

/// What `inventag call` is asked.
#[derive(Clone, Debug)]
pub struct CallOptions {
    /// The service, as the catalogue names it (`ec2`, `s3`, `iam`).
    pub service: String,
    /// The operation, as the API reference names it (`DescribeInstances`).
    pub operation: String,
    /// The input document as JSON text; none means `{}`.
    pub input: Option<String>,
    /// The region to call.
    pub region: Region,
    /// A named AWS profile; none means the default credential chain.
    pub profile: Option<String>,
    /// Follow the pagination tokens and merge every page.
    pub paginate: bool,
    /// An endpoint standing in for AWS.
    pub endpoint_url: Option<String>,
}

/// Why `inventag call` gave no output.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CallCommandError {
    /// `--input` is not JSON.
    #[error("--input is not JSON: {0}")]
    InputNotJson(serde_json::Error),
    /// `--input` is JSON but not an object.
    #[error("--input must be a JSON object, like '{{\"MaxResults\": 5}}'")]
    InputNotObject,
    /// The gateway could not start.
    #[error("{0}")]
    Gateway(String),
    /// No credentials source could be built.
    #[error("no credentials: {0}")]
    Credentials(String),
    /// The call was refused or failed; the error says by whom.
    #[error("{service}:{operation}: {error}")]
    Call {
        /// The service.
        service: String,
        /// The operation.
        operation: String,
        /// What happened.
        error: Box<CallError>,
    },
}

impl CallCommandError {
    /// Whether the user's input, rather than AWS or the host, is at fault.
    pub fn is_usage(&self) -> bool {
        match self {
            CallCommandError::InputNotJson(_) | CallCommandError::InputNotObject => true,
            CallCommandError::Call { error, .. } => {
                matches!(
                    error.kind,
                    crate::gateway::ErrorKind::InvalidInput | crate::gateway::ErrorKind::Denied
                ) || matches!(error.code.as_str(), "UnknownService" | "UnknownOperation")
            }
            _ => false,
        }
    }
}

/// The account id shown in logs for `inventag call`, whose account is not
/// known before the call.
const UNKNOWN_ACCOUNT: &str = "000000000000";

/// Parses `--input`: JSON text holding an object; none is `{}`.
pub fn parse_input(text: Option<&str>) -> Result<Value, CallCommandError> {
    let Some(text) = text else { return Ok(Value::Object(Default::default())) };
    match serde_json::from_str(text).map_err(CallCommandError::InputNotJson)? {
        v @ Value::Object(_) => Ok(v),
        _ => Err(CallCommandError::InputNotObject),
    }
}

/// Makes the call and returns its output document.
pub async fn execute(options: CallOptions) -> Result<Value, CallCommandError> {
    let input = parse_input(options.input.as_deref())?;
    let failed = |error: CallError| CallCommandError::Call {
        service: options.service.clone(),
        operation: options.operation.clone(),
        error: Box::new(error),
    };

    let gateway = Arc::new(
        Gateway::new(GatewayOptions {
            endpoint_url: options.endpoint_url.clone(),
            ..Default::default()
        })
        .map_err(|e| CallCommandError::Gateway(e.to_string()))?,
    );
    let operations = [options.operation.clone()];
    let caller = Caller::new(
        "inventag",
        Arc::new(Grants::new([(options.service.as_str(), &operations[..])])),
    );
    // Refuse before resolving credentials: a denied call needs none.
    gateway
        .admit(&caller, &options.service, &options.operation, options.region.as_str())
        .map_err(failed)?;

    let credentials = Arc::new(credentials(&options).await?);
    let output = if options.paginate {
        gateway
            .paginate(
                caller,
                credentials,
                &options.service,
                &options.operation,
                options.region.as_str(),
                input,
            )
            .merged()
            .await
    } else {
        gateway
            .call(
                &caller,
                &credentials,
                &options.service,
                &options.operation,
                options.region.as_str(),
                &input,
            )
            .await
    };
    output.map_err(failed)
}

async fn credentials(options: &CallOptions) -> Result<AccountCredentials, CallCommandError> {
    let config =
        crate::credentials::sdk_config(options.profile.as_deref(), options.endpoint_url.as_deref())
            .await;
    let provider = config.credentials_provider().ok_or_else(|| {
        CallCommandError::Credentials("no credentials provider could be built".into())
    })?;
    let method = if options.profile.is_some() {
        CredentialMethod::ProfileName
    } else {
        CredentialMethod::DefaultChain
    };
    let account = AccountId::parse(UNKNOWN_ACCOUNT).map_err(CallCommandError::Credentials)?;
    Ok(AccountCredentials::from_provider(account, method, provider))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_must_be_a_json_object() {
        assert_eq!(parse_input(None).unwrap(), serde_json::json!({}));
        assert!(matches!(parse_input(Some("{")), Err(CallCommandError::InputNotJson(_))));
        assert!(matches!(parse_input(Some("[1]")), Err(CallCommandError::InputNotObject)));
        assert!(parse_input(Some("{\"MaxResults\": 5}")).is_ok());
    }
}
