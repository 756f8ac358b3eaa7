//! The gateway's error: what a plugin sees through the WIT `aws-error`,
//! classified so that retries, coverage and plugins can act on it.

use std::fmt;

use super::{
    catalogue::CatalogueError,
    protocol::{ErrorBody, ProtocolError},
};

/// The class of a failed call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    /// Refused by the validator; never sent.
    Denied,
    /// AWS refused the permission.
    AccessDenied,
    /// Throttled, retries exhausted.
    Throttled,
    /// Region disabled or not opted in.
    RegionDisabled,
    /// The input did not fit.
    InvalidInput,
    /// Not supported by this host.
    Unsupported,
    /// Not found.
    NotFound,
    /// No answer.
    Transport,
    /// Any other AWS error.
    Service,
}

/// A failed call.
#[derive(Clone, Debug)]
pub struct CallError {
    /// The class.
    pub kind: ErrorKind,
    /// AWS's code, or the host's (`InvalidRegion`, a validator rule).
    pub code: String,
    /// Readable text; never holds credentials.
    pub message: String,
    /// The HTTP status, when a response came.
    pub http_status: Option<u16>,
    /// AWS's request id, when a response came.
    pub request_id: Option<String>,
    /// Whether AWS said the credentials expired.
    pub expired_token: bool,
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)?;
        if let Some(status) = self.http_status {
            write!(f, " (HTTP {status})")?;
        }
        Ok(())
    }
}

impl std::error::Error for CallError {}

const THROTTLING: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
    "TooManyRequests",
    "ThrottledRequestException",
];

const ACCESS_DENIED: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnauthorizedAccess",
    "AuthFailure",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "SignatureDoesNotMatch",
    "Forbidden",
    "AuthorizationError",
    "AuthorizationErrorException",
    "NotAuthorizedException",
    "AllAccessDisabled",
    "InvalidAccessKeyId",
];

const EXPIRED: &[&str] =
    &["ExpiredToken", "ExpiredTokenException", "RequestExpired", "TokenRefreshRequired"];

const REGION_DISABLED: &[&str] =
    &["OptInRequired", "InvalidRegion", "UnrecognizedRegion", "RegionDisabledException"];

impl CallError {
    /// An error the host raised itself, before or instead of sending.
    pub fn host(kind: ErrorKind, code: &str, message: String) -> CallError {
        CallError {
            kind,
            code: code.to_owned(),
            message,
            http_status: None,
            request_id: None,
            expired_token: false,
        }
    }

    pub(super) fn from_catalogue(e: CatalogueError) -> CallError {
        let code = match &e {
            CatalogueError::UnknownService(_) => "UnknownService",
            CatalogueError::UnknownOperation { .. } => "UnknownOperation",
            _ => "CatalogueDamaged",
        };
        CallError::host(ErrorKind::Unsupported, code, e.to_string())
    }

    pub(super) fn from_protocol(e: ProtocolError) -> CallError {
        match e {
            ProtocolError::Input(input) => {
                CallError::host(ErrorKind::InvalidInput, "InvalidInput", input.to_string())
            }
            ProtocolError::Catalogue(c) => CallError::from_catalogue(c),
            ProtocolError::Unsupported { .. } => {
                CallError::host(ErrorKind::Unsupported, "UnsupportedProtocol", e.to_string())
            }
            ProtocolError::UnsupportedFeature { .. } => {
                CallError::host(ErrorKind::Unsupported, "UnsupportedFeature", e.to_string())
            }
            ProtocolError::Model { .. } => {
                CallError::host(ErrorKind::Unsupported, "CatalogueDamaged", e.to_string())
            }
            other => CallError::host(ErrorKind::Service, "UnparsableResponse", other.to_string()),
        }
    }

    pub(super) fn transport(e: &reqwest::Error) -> CallError {
        // reqwest's text names the URL, which holds no secret (signatures
        // travel in headers), but is noisy; keep the cause only.
        let what = if e.is_timeout() {
            "timed out"
        } else if e.is_connect() {
            "could not connect"
        } else {
            "the exchange failed"
        };
        let mut message = what.to_owned();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            message.push_str(": ");
            message.push_str(&s.to_string());
            source = s.source();
        }
        CallError::host(ErrorKind::Transport, "TransportError", message)
    }

    /// Classifies an error answer of any protocol, whose code, message and
    /// request id the protocol parser read.
    pub(super) fn from_response(status: u16, body: ErrorBody) -> CallError {
        let code = if body.code.is_empty() { format!("Http{status}") } else { body.code };
        let code_str = code.as_str();
        let kind = if THROTTLING.contains(&code_str) || status == 429 {
            ErrorKind::Throttled
        } else if ACCESS_DENIED.contains(&code_str) || status == 403 {
            ErrorKind::AccessDenied
        } else if REGION_DISABLED.contains(&code_str) {
            ErrorKind::RegionDisabled
        } else if code_str.contains("NotFound") || status == 404 {
            ErrorKind::NotFound
        } else if code_str.starts_with("InvalidParameter") || code_str == "ValidationException" {
            ErrorKind::InvalidInput
        } else {
            ErrorKind::Service
        };
        CallError {
            kind,
            expired_token: EXPIRED.contains(&code_str),
            code,
            message: body.message,
            http_status: Some(status),
            request_id: body.request_id,
        }
    }

    /// Whether another attempt may succeed: throttling, server faults and
    /// lost connections.
    pub fn retryable(&self) -> bool {
        match self.kind {
            ErrorKind::Throttled | ErrorKind::Transport => true,
            ErrorKind::Service => self.http_status.is_some_and(|s| s >= 500),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, code: &str) -> CallError {
        CallError::from_response(status, ErrorBody { code: code.into(), ..Default::default() })
    }

    #[test]
    fn classification() {
        assert_eq!(response(400, "RequestLimitExceeded").kind, ErrorKind::Throttled);
        assert!(response(400, "RequestLimitExceeded").retryable());
        assert_eq!(response(403, "UnauthorizedOperation").kind, ErrorKind::AccessDenied);
        assert_eq!(response(401, "OptInRequired").kind, ErrorKind::RegionDisabled);
        assert!(response(503, "").retryable());
        assert_eq!(response(503, "").code, "Http503");
        assert!(!response(400, "InvalidParameterValue").retryable());
        assert!(response(400, "ExpiredToken").expired_token);
    }
}
