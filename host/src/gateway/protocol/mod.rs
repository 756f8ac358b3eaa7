//! AWS wire protocols: turning a JSON input into an HTTP request for an
//! operation, and an HTTP response back into JSON shaped by the output
//! shape. Each protocol lives in its own file; this module picks one from
//! the service's metadata and holds what they share.

mod ec2;
mod xml;

use serde_json::Value;

use super::catalogue::{CatalogueError, ServiceModel};

/// An HTTP request before endpoint and signature are added.
#[derive(Debug, Clone)]
pub struct WireRequest {
    /// `GET`, `POST`, ...
    pub method: &'static str,
    /// The path and query string, starting with `/`.
    pub path_and_query: String,
    /// Headers the protocol needs (content type, target).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

/// Why a JSON input could not become a request.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum InputError {
    /// The input is not a JSON object.
    #[error("the input must be a JSON object")]
    NotAnObject,
    /// A member the input shape does not have.
    #[error("{path}: no such member in the input shape")]
    UnknownMember {
        /// Where, like `Filters[0].Nmae`.
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
    /// AWS's error code.
    pub code: String,
    /// AWS's message.
    pub message: String,
    /// The request id, when the body carries it.
    pub request_id: Option<String>,
}

/// Builds the request for `operation` from a JSON `input`.
pub fn serialize(
    model: &ServiceModel,
    operation: &str,
    input: &Value,
) -> Result<WireRequest, ProtocolError> {
    let op = model.operation(operation)?;
    match model.metadata.protocol.as_str() {
        "ec2" => Ok(ec2::serialize(model, operation, op, input)?),
        other => Err(ProtocolError::Unsupported {
            service: model.service.clone(),
            protocol: other.into(),
        }),
    }
}

/// Parses a successful response body into JSON shaped by the output shape.
pub fn parse_output(
    model: &ServiceModel,
    operation: &str,
    body: &[u8],
) -> Result<Value, ProtocolError> {
    let op = model.operation(operation)?;
    match model.metadata.protocol.as_str() {
        "ec2" => ec2::parse_output(model, op, body),
        other => Err(ProtocolError::Unsupported {
            service: model.service.clone(),
            protocol: other.into(),
        }),
    }
}

/// Parses an error body; an unreadable body gives an empty code.
pub fn parse_error(model: &ServiceModel, body: &[u8]) -> ErrorBody {
    match model.metadata.protocol.as_str() {
        "ec2" | "query" | "rest-xml" => xml::parse_error(body),
        _ => ErrorBody::default(),
    }
}
