//! Calling AWS through the host, with JSON values instead of JSON strings.
//!
//! The host validates, signs, sends and retries every request; a plugin only
//! names the service, the operation, the region and an input document shaped
//! like the operation's input in the AWS API reference. Outputs come back
//! shaped like botocore's: PascalCase member names, lists always as arrays,
//! timestamps as ISO-8601 strings. Every operation used here must be declared
//! in the collector's `describe()`, or the host answers [`ErrorKind::Denied`].

use core::fmt;

use serde_json::Value;

use crate::collector::inventag::plugin::aws as wit;

pub use wit::ErrorKind;

/// Why an AWS call did not return an output document.
///
/// The same fields as the WIT `aws-error`, plus a readable [`fmt::Display`]
/// (`AccessDenied: not authorised (access-denied, HTTP 403, request 1a2b)`).
#[derive(Clone, Debug)]
pub struct AwsError {
    /// The class of failure.
    pub kind: ErrorKind,
    /// AWS's error code (`UnauthorizedOperation`) or the host's.
    pub code: String,
    /// A readable message; never holds credentials.
    pub message: String,
    /// The HTTP status, when a response arrived.
    pub http_status: Option<u16>,
    /// AWS's request id, when a response arrived.
    pub request_id: Option<String>,
}

/// The error code used when the host's output is not a JSON document.
pub const INVALID_OUTPUT_CODE: &str = "InvalidOutputJson";

impl AwsError {
    /// True when access was refused, by the host's validator
    /// ([`ErrorKind::Denied`]) or by AWS ([`ErrorKind::AccessDenied`]).
    pub fn is_denial(&self) -> bool {
        matches!(self.kind, ErrorKind::Denied | ErrorKind::AccessDenied)
    }

    /// The kind's WIT name (`access-denied`), for messages.
    pub fn kind_name(&self) -> &'static str {
        kind_name(self.kind)
    }

    fn invalid_output(err: serde_json::Error) -> Self {
        AwsError {
            kind: ErrorKind::Service,
            code: INVALID_OUTPUT_CODE.to_string(),
            message: format!("the host returned an output that is not JSON: {err}"),
            http_status: None,
            request_id: None,
        }
    }
}

/// The WIT name of an [`ErrorKind`] (`access-denied`).
pub fn kind_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Denied => "denied",
        ErrorKind::AccessDenied => "access-denied",
        ErrorKind::Throttled => "throttled",
        ErrorKind::RegionDisabled => "region-disabled",
        ErrorKind::InvalidInput => "invalid-input",
        ErrorKind::Unsupported => "unsupported",
        ErrorKind::NotFound => "not-found",
        ErrorKind::Transport => "transport",
        ErrorKind::Service => "service",
    }
}

impl From<wit::AwsError> for AwsError {
    fn from(e: wit::AwsError) -> Self {
        AwsError {
            kind: e.kind,
            code: e.code,
            message: e.message,
            http_status: e.http_status,
            request_id: e.request_id,
        }
    }
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.code.is_empty() {
            write!(f, "{} ({}", self.message, self.kind_name())?;
        } else {
            write!(f, "{}: {} ({}", self.code, self.message, self.kind_name())?;
        }
        if let Some(status) = self.http_status {
            write!(f, ", HTTP {status}")?;
        }
        if let Some(id) = &self.request_id {
            write!(f, ", request {id}")?;
        }
        f.write_str(")")
    }
}

impl std::error::Error for AwsError {}

fn parse_output(text: &str) -> Result<Value, AwsError> {
    serde_json::from_str(text).map_err(AwsError::invalid_output)
}

/// Calls one operation once and returns its output document.
///
/// `input` is usually an object (`&json!({"VpcIds": ["vpc-1"]})`); pass
/// `&json!({})` for no parameters. Use [`paginate`] for list operations.
pub fn call(
    service: &str,
    operation: &str,
    region: &str,
    input: &Value,
) -> Result<Value, AwsError> {
    let output = wit::call(service, operation, region, &input.to_string())?;
    parse_output(&output)
}

/// Starts a paginated call; nothing is sent until the first page is asked for.
///
/// The host follows the operation's pagination token itself; each item of
/// the returned iterator is one page's output document. The iterator stops
/// after the last page, and after the first error (which it yields once).
pub fn paginate(service: &str, operation: &str, region: &str, input: &Value) -> Pages {
    Pages { inner: Some(wit::paginate(service, operation, region, &input.to_string())) }
}

/// Calls a paginated operation to its last page and returns every page
/// merged into one document.
///
/// The host concatenates each result member of the operation's paginator
/// (`Reservations`, `Contents`...) across pages and removes the pagination
/// token; the other members are the first page's. Prefer [`paginate`] or
/// [`paginate_items`] when the result may be large, since the whole
/// document sits in guest memory.
pub fn paginate_all(
    service: &str,
    operation: &str,
    region: &str,
    input: &Value,
) -> Result<Value, AwsError> {
    let output = wit::paginate_all(service, operation, region, &input.to_string())?;
    parse_output(&output)
}

/// Treats the errors whose AWS code is one of `codes` as "nothing there":
/// `Ok(None)` instead of an error.
///
/// Several reads answer a missing configuration with an error rather than
/// an empty output (S3's `NoSuchTagSet`,
/// `ServerSideEncryptionConfigurationNotFoundError`...); this keeps such an
/// answer from counting as a failure:
///
/// ```ignore
/// let tags = aws::or_absent(aws::call("s3", "GetBucketTagging", r, &input), &["NoSuchTagSet"])?;
/// ```
pub fn or_absent(
    result: Result<Value, AwsError>,
    codes: &[&str],
) -> Result<Option<Value>, AwsError> {
    match result {
        Ok(output) => Ok(Some(output)),
        Err(e) if codes.contains(&e.code.as_str()) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The region of an S3 bucket from a `GetBucketLocation` output.
///
/// The host already rewrites that output so that `LocationConstraint` is
/// the region's name; this applies the same rule (absent or empty means
/// `us-east-1`, `EU` means `eu-west-1`) to any output, raw or not.
pub fn bucket_region(get_bucket_location_output: &Value) -> String {
    match get_bucket_location_output.get("LocationConstraint").and_then(Value::as_str) {
        None | Some("") => "us-east-1".to_string(),
        Some("EU") => "eu-west-1".to_string(),
        Some(region) => region.to_string(),
    }
}

/// Iterates over the items of one list member of every page.
///
/// `member` names the list in each page's output (`"Volumes"`), or is a
/// JSON pointer to it when it starts with `/` (`"/DistributionList/Items"`);
/// a page without it contributes nothing. For lists inside lists such as
/// `Reservations[].Instances[]`, iterate over [`paginate`] instead.
pub fn paginate_items(
    service: &str,
    operation: &str,
    region: &str,
    input: &Value,
    member: &str,
) -> Items {
    Items {
        pages: paginate(service, operation, region, input),
        member: member.to_string(),
        current: Vec::new().into_iter(),
    }
}

/// The pages of a paginated call; see [`paginate`].
#[derive(Debug)]
pub struct Pages {
    inner: Option<wit::Pages>,
}

impl Iterator for Pages {
    type Item = Result<Value, AwsError>;

    fn next(&mut self) -> Option<Self::Item> {
        let pages = self.inner.as_ref()?;
        match pages.next() {
            Ok(Some(text)) => {
                let page = parse_output(&text);
                if page.is_err() {
                    self.inner = None;
                }
                Some(page)
            }
            Ok(None) => {
                self.inner = None;
                None
            }
            Err(e) => {
                self.inner = None;
                Some(Err(e.into()))
            }
        }
    }
}

/// The items of one list member across all pages; see [`paginate_items`].
#[derive(Debug)]
pub struct Items {
    pages: Pages,
    member: String,
    current: std::vec::IntoIter<Value>,
}

impl Iterator for Items {
    type Item = Result<Value, AwsError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(item) = self.current.next() {
                return Some(Ok(item));
            }
            let mut page = match self.pages.next()? {
                Ok(page) => page,
                Err(e) => return Some(Err(e)),
            };
            let list = if self.member.starts_with('/') {
                page.pointer_mut(&self.member)
            } else {
                page.get_mut(&self.member)
            };
            self.current = match list.map(Value::take) {
                Some(Value::Array(items)) => items.into_iter(),
                _ => Vec::new().into_iter(),
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_bucket_locations_become_region_names() {
        assert_eq!(bucket_region(&serde_json::json!({})), "us-east-1");
        assert_eq!(bucket_region(&serde_json::json!({"LocationConstraint": ""})), "us-east-1");
        assert_eq!(bucket_region(&serde_json::json!({"LocationConstraint": "EU"})), "eu-west-1");
        assert_eq!(
            bucket_region(&serde_json::json!({"LocationConstraint": "ap-south-1"})),
            "ap-south-1"
        );
    }

    #[test]
    fn absent_codes_are_not_errors() {
        let e = |code: &str| AwsError {
            kind: ErrorKind::Service,
            code: code.into(),
            message: String::new(),
            http_status: Some(404),
            request_id: None,
        };
        let absent = or_absent(Err(e("NoSuchTagSet")), &["NoSuchTagSet"]).unwrap();
        assert!(absent.is_none());
        assert!(or_absent(Err(e("AccessDenied")), &["NoSuchTagSet"]).is_err());
        let some = or_absent(Ok(serde_json::json!({"a": 1})), &[]).unwrap();
        assert_eq!(some, Some(serde_json::json!({"a": 1})));
    }

    #[test]
    fn errors_read_well() {
        let e = AwsError {
            kind: ErrorKind::AccessDenied,
            code: "UnauthorizedOperation".into(),
            message: "not authorised".into(),
            http_status: Some(403),
            request_id: Some("r-1".into()),
        };
        assert!(e.is_denial());
        assert_eq!(
            e.to_string(),
            "UnauthorizedOperation: not authorised (access-denied, HTTP 403, request r-1)"
        );
        let e = AwsError { kind: ErrorKind::Transport, code: String::new(), ..e };
        assert!(!e.is_denial());
        assert_eq!(e.to_string(), "not authorised (transport, HTTP 403, request r-1)");
    }
}
