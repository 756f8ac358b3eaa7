//! AWS wire protocols: turning a JSON input into an HTTP request for an
//! operation, and an HTTP response back into JSON shaped by the output
//! shape. Five protocols are spoken:
//!
//! - `query` and `ec2`: form-encoded requests, XML answers (`query.rs`
//!   serialises both, `xml.rs` parses);
//! - `json` (awsJson 1.0 and 1.1): a JSON body and an `X-Amz-Target`
//!   (`json.rs`);
//! - `rest-json` and `rest-xml`: members bound to the URI, query string,
//!   headers and body by the model (`rest.rs`).
//!
//! Whatever the protocol, an input is first checked against its shape
//! (`check.rs`), so an unknown member or a wrong type is a
//! typed [`InputError`] naming its path before anything is built. Outputs
//! have lists as arrays (even of one), timestamps as ISO-8601 UTC strings
//! and blobs as base64.

mod check;
mod json;
mod query;
mod rest;
pub(crate) mod time;
mod xml;

use serde_json::Value;

use super::catalogue::{CatalogueError, Operation, ServiceModel};

/// A wire protocol this host speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Protocol {
    /// EC2's own query dialect.
    Ec2,
    /// The AWS query protocol (IAM, RDS, STS...).
    Query,
    /// awsJson 1.0 or 1.1 (DynamoDB, ECS...).
    Json,
    /// REST with JSON bodies (Lambda, EKS...).
    RestJson,
    /// REST with XML bodies (S3, Route 53, CloudFront).
    RestXml,
}

impl Protocol {
    /// The protocol of a model's name for it, if this host speaks it.
    pub fn from_name(name: &str) -> Option<Protocol> {
        Some(match name {
            "ec2" => Protocol::Ec2,
            "query" => Protocol::Query,
            "json" => Protocol::Json,
            "rest-json" => Protocol::RestJson,
            "rest-xml" => Protocol::RestXml,
            _ => return None,
        })
    }

    /// The protocol to speak to a service: the first of its `protocols`
    /// this host supports, else its `protocol`.
    pub fn of(model: &ServiceModel) -> Result<Protocol, ProtocolError> {
        let meta = &model.metadata;
        meta.protocols
            .iter()
            .find_map(|p| Protocol::from_name(p))
            .or_else(|| Protocol::from_name(&meta.protocol))
            .ok_or_else(|| ProtocolError::Unsupported {
                service: model.service.clone(),
                protocol: meta.protocol.clone(),
            })
    }

    /// Whether answers are XML.
    fn is_xml(self) -> bool {
        matches!(self, Protocol::Ec2 | Protocol::Query | Protocol::RestXml)
    }
}

/// An HTTP request before endpoint and signature are added.
#[derive(Debug, Clone)]
pub struct WireRequest {
    /// `GET`, `POST`, ...
    pub method: &'static str,
    /// The path and query string, starting with `/`, percent-encoded.
    pub path_and_query: String,
    /// Headers the protocol needs (content type, target, bound members).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// What goes before the endpoint's host name (`foo.bar.`), from the
    /// operation's host prefix.
    pub host_prefix: Option<String>,
    /// The bucket named by a path that starts with `/{Bucket}`, so that the
    /// gateway may move it into the host name (S3 virtual-host style).
    pub bucket: Option<String>,
}

/// An HTTP response, as the parsers see it.
#[derive(Debug, Clone, Default)]
pub struct WireResponse {
    /// The status code.
    pub status: u16,
    /// The headers, names in any case.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl WireResponse {
    /// The first header named `name`, compared without case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn text(&self, service: &str) -> Result<&str, ProtocolError> {
        std::str::from_utf8(&self.body).map_err(|e| ProtocolError::Response {
            service: service.to_owned(),
            message: format!("the body is not UTF-8: {e}"),
        })
    }
}

/// Why a JSON input could not become a request. Every variant names the
/// input path at fault, like `Filters[0].Nmae`.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum InputError {
    /// The input is not a JSON object.
    #[error("the input must be a JSON object")]
    NotAnObject,
    /// A member the input shape does not have.
    #[error("{path}: no such member in the input shape")]
    UnknownMember {
        /// Where.
        path: String,
    },
    /// A value of the wrong JSON type.
    #[error("{path}: expected {expected}")]
    WrongType {
        /// Where.
        path: String,
        /// What the shape wants.
        expected: &'static str,
    },
    /// A member the shape requires is missing.
    #[error("{path}: required member is missing")]
    MissingRequired {
        /// Where.
        path: String,
    },
    /// A member that fills part of the URL or host name is empty.
    #[error("{path}: must not be empty (it is part of the request's URL)")]
    EmptyLabel {
        /// Where.
        path: String,
    },
    /// A member that fills part of the URL holds a `.` or `..` segment,
    /// which would move the request to another path (another operation).
    #[error("{path}: `.` and `..` path segments are not allowed in a URL label")]
    DotSegment {
        /// Where.
        path: String,
    },
}

/// Why a protocol step failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// The input did not fit the shape.
    #[error(transparent)]
    Input(#[from] InputError),
    /// The catalogue lacks something.
    #[error(transparent)]
    Catalogue(#[from] CatalogueError),
    /// The service speaks a protocol this host does not.
    #[error("{service} speaks the {protocol} protocol, which this version does not support yet")]
    Unsupported {
        /// The service.
        service: String,
        /// Its protocol.
        protocol: String,
    },
    /// The operation needs a feature this read-only host does not offer
    /// (event streams, streaming uploads).
    #[error("{service}:{operation} needs {feature}, which this host does not support")]
    UnsupportedFeature {
        /// The service.
        service: String,
        /// The operation.
        operation: String,
        /// What it needs.
        feature: &'static str,
    },
    /// The model describes something the serialisers cannot follow.
    #[error("the model of {service} is unusable: {message}")]
    Model {
        /// The service.
        service: String,
        /// What is wrong.
        message: String,
    },
    /// The response body could not be parsed.
    #[error("cannot parse the {service} response: {message}")]
    Response {
        /// The service.
        service: String,
        /// What failed.
        message: String,
    },
}

/// An error body, as parsed from any protocol.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorBody {
    /// AWS's error code, without namespace or suffix.
    pub code: String,
    /// AWS's message.
    pub message: String,
    /// The request id, from the body or the headers.
    pub request_id: Option<String>,
}

/// Builds the request for `operation` from a JSON `input`.
pub fn serialize(
    model: &ServiceModel,
    operation: &str,
    input: &Value,
) -> Result<WireRequest, ProtocolError> {
    let op = model.operation(operation)?;
    let protocol = Protocol::of(model)?;
    if streams_events(model, op)? {
        return Err(ProtocolError::UnsupportedFeature {
            service: model.service.clone(),
            operation: operation.to_owned(),
            feature: "an event stream",
        });
    }
    check::input(model, op, input)?;
    let empty = Value::Object(Default::default());
    let input = if input.is_null() { &empty } else { input };
    let mut wire = match protocol {
        Protocol::Ec2 | Protocol::Query => query::serialize(model, protocol, operation, op, input),
        Protocol::Json => json::serialize_rpc(model, operation, op, input),
        Protocol::RestJson | Protocol::RestXml => {
            rest::serialize(model, protocol, operation, op, input)
        }
    }?;
    wire.host_prefix = host_prefix(model, op, input)?;
    Ok(wire)
}

/// Whether the operation sends or answers an event stream, which this host
/// neither writes nor decodes.
fn streams_events(model: &ServiceModel, op: &Operation) -> Result<bool, ProtocolError> {
    for shape_name in [op.input_shape(), op.output_shape()].into_iter().flatten() {
        let shape = model.shape(shape_name)?;
        for member in shape.members.values() {
            if model.shape(&member.shape)?.eventstream {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

/// Fills the operation's host prefix (`{AccountId}.`) from its `hostLabel`
/// members. A label must be a DNS label, so an input can never steer the
/// request to another domain.
fn host_prefix(
    model: &ServiceModel,
    op: &Operation,
    input: &Value,
) -> Result<Option<String>, ProtocolError> {
    let Some(template) = &op.http.host_prefix else { return Ok(None) };
    let shape = op.input_shape().map(|s| model.shape(s)).transpose()?;
    let damaged =
        |message: String| ProtocolError::Model { service: model.service.clone(), message };
    let mut out = String::new();
    let mut rest = template.as_str();
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let close =
            after.find('}').ok_or_else(|| damaged(format!("bad host prefix {template}")))?;
        let label = &after[..close];
        let member = shape
            .and_then(|s| s.members.iter().find(|(n, m)| m.host_label && n.as_str() == label))
            .map(|(n, _)| n)
            .ok_or_else(|| damaged(format!("no member fills {{{label}}} of {template}")))?;
        let value = input.get(member).and_then(Value::as_str).unwrap_or_default();
        if value.is_empty() {
            return Err(InputError::EmptyLabel { path: member.clone() }.into());
        }
        if !value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') || value.len() > 63 {
            return Err(InputError::WrongType {
                path: member.clone(),
                expected: "a host name label (letters, digits and hyphens)",
            }
            .into());
        }
        out.push_str(value);
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    Ok(Some(out))
}

/// Parses a successful response into JSON shaped by the output shape.
pub fn parse_output(
    model: &ServiceModel,
    operation: &str,
    response: &WireResponse,
) -> Result<Value, ProtocolError> {
    let op = model.operation(operation)?;
    match Protocol::of(model)? {
        Protocol::Ec2 => xml::parse_ec2(model, op, response),
        Protocol::Query => xml::parse_query(model, op, response),
        Protocol::Json => json::parse_rpc(model, op, response),
        protocol @ (Protocol::RestJson | Protocol::RestXml) => {
            rest::parse(model, protocol, op, response)
        }
    }
}

/// Parses an error response: code, message and request id. An unreadable
/// body gives an empty code, which the caller replaces by the status.
pub fn parse_error(model: &ServiceModel, response: &WireResponse) -> ErrorBody {
    let header_id = ["x-amzn-requestid", "x-amz-request-id", "x-amzn-request-id"]
        .iter()
        .find_map(|h| response.header(h))
        .map(str::to_owned);
    let protocol = Protocol::of(model).unwrap_or(Protocol::Json);
    let mut body = if protocol.is_xml() {
        xml::parse_error(&response.body)
    } else {
        json::parse_error(model, response)
    };
    if body.request_id.is_none() {
        body.request_id = header_id;
    }
    body
}

/// Parses the modelled members of an error (`error_shape` names the
/// exception structure) from an error response.
pub fn parse_error_members(
    model: &ServiceModel,
    error_shape: &str,
    response: &WireResponse,
) -> Result<Value, ProtocolError> {
    match Protocol::of(model)? {
        Protocol::Ec2 | Protocol::Query => xml::parse_error_members(model, error_shape, response),
        Protocol::Json => json::parse_error_members(model, error_shape, response),
        protocol @ (Protocol::RestJson | Protocol::RestXml) => {
            rest::parse_error_members(model, protocol, error_shape, response)
        }
    }
}

/// Whether an answer carries `member` outside its body (a header, a family
/// of headers, the status code). Other locations mean nothing in answers.
pub(crate) fn bound_in_response(member: &super::catalogue::MemberRef) -> bool {
    matches!(member.location.as_deref(), Some("header" | "headers" | "statusCode"))
}

/// The method of an operation as a static string.
fn method(
    model: &ServiceModel,
    op: &Operation,
    default: &'static str,
) -> Result<&'static str, ProtocolError> {
    let Some(name) = op.http.method.as_deref() else { return Ok(default) };
    ["GET", "POST", "PUT", "DELETE", "HEAD", "PATCH"]
        .into_iter()
        .find(|m| m.eq_ignore_ascii_case(name))
        .ok_or_else(|| ProtocolError::Model {
            service: model.service.clone(),
            message: format!("unknown HTTP method {name:?}"),
        })
}

/// Percent-encodes `text` for a URI: everything but the unreserved
/// characters, and `/` too unless `keep_slash`.
pub(crate) fn percent_encode(text: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        let unreserved = b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~');
        if unreserved || (keep_slash && b == b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `a=1&b=2` with both sides percent-encoded.
pub(crate) fn form_encode(pairs: &[(String, String)]) -> String {
    let mut out = String::new();
    for (k, v) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(&percent_encode(k, false));
        out.push('=');
        out.push_str(&percent_encode(v, false));
    }
    out
}

/// The text of a float input: a number, or `NaN`, `Infinity`,
/// `-Infinity` as AWS writes them.
pub(crate) fn float_text(value: &Value) -> Option<String> {
    match value {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if matches!(s.as_str(), "NaN" | "Infinity" | "-Infinity") => {
            Some(s.clone())
        }
        _ => None,
    }
}

/// A float output from wire text: a JSON number, or the special values as
/// strings, since JSON has no numbers for them.
pub(crate) fn float_value(text: &str) -> Option<Value> {
    let text = text.trim();
    match text {
        "NaN" | "Infinity" | "-Infinity" => Some(Value::String(text.to_owned())),
        _ => text.parse::<f64>().ok().and_then(serde_json::Number::from_f64).map(Value::Number),
    }
}

/// Base64 of raw bytes.
pub(crate) fn base64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
mod dot_segment_tests {
    use super::*;
    use crate::gateway::catalogue::Catalogue;

    #[test]
    fn dot_segments_in_url_labels_are_refused() {
        let catalogue = Catalogue::new();
        let iot = catalogue.service("iot").unwrap();
        let input = serde_json::json!({"arn": "../confirmdestination/TOKEN"});
        let err = serialize(&iot, "GetTopicRuleDestination", &input).unwrap_err();
        assert!(err.to_string().contains("`..`"), "{err}");
        let s3 = catalogue.service("s3").unwrap();
        for (bucket, key) in [("b", "../../other/secret.txt"), ("..", "k"), ("b", "a/./c")] {
            let input = serde_json::json!({"Bucket": bucket, "Key": key});
            assert!(serialize(&s3, "GetObjectTagging", &input).is_err(), "{bucket} {key}");
        }
        let fine = serde_json::json!({"Bucket": "b", "Key": "a/b..c/.d"});
        assert!(serialize(&s3, "GetObjectTagging", &fine).is_ok());
    }
}
