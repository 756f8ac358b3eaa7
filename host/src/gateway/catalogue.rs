//! The operation catalogue: every AWS service's protocol, operations,
//! shapes and paginators, generated from botocore's models by
//! `scripts/gen-catalogue.py` and embedded compressed. A service's model is
//! decompressed and parsed on its first use and shared afterwards.

use std::{
    collections::HashMap,
    io::Read,
    sync::{Arc, Mutex},
};

use indexmap::IndexMap;
use serde::Deserialize;

include!(concat!(env!("OUT_DIR"), "/catalogue_index.rs"));

/// Why a service or operation could not be found.
#[derive(Debug, thiserror::Error, Clone)]
#[non_exhaustive]
pub enum CatalogueError {
    /// No service of that name.
    #[error("service {0:?} is not in the operation catalogue")]
    UnknownService(String),
    /// No operation of that name in the service.
    #[error("{service} has no operation {operation:?}")]
    UnknownOperation {
        /// The service.
        service: String,
        /// The operation asked for.
        operation: String,
    },
    /// The embedded model could not be read; a build problem.
    #[error("the embedded model of {service} is damaged: {message}")]
    Damaged {
        /// The service.
        service: String,
        /// What failed.
        message: String,
    },
}

/// Service metadata: how to reach and speak to it.
#[derive(Debug, Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    /// The wire protocol (`ec2`, `query`, `json`, `rest-json`, `rest-xml`).
    pub protocol: String,
    /// Protocols the service accepts, most preferred first.
    #[serde(default)]
    pub protocols: Vec<String>,
    /// The API version sent with query protocols.
    pub api_version: String,
    /// The host name prefix.
    pub endpoint_prefix: String,
    /// The SigV4 signing name, when it differs from the prefix.
    #[serde(default)]
    pub signing_name: Option<String>,
    /// The `X-Amz-Target` prefix of JSON protocols.
    #[serde(default)]
    pub target_prefix: Option<String>,
    /// The JSON protocol version.
    #[serde(default)]
    pub json_version: Option<String>,
    /// The human service id.
    #[serde(default)]
    pub service_id: Option<String>,
    /// Whether a JSON service still answers errors with query-protocol
    /// codes in the `x-amzn-query-error` header.
    #[serde(default)]
    pub aws_query_compatible: Option<serde_json::Value>,
    /// The single endpoint of a non-regional service (IAM, Route 53,
    /// CloudFront, Organizations...), by partition (`aws`, `aws-cn`,
    /// `aws-us-gov`).
    #[serde(default)]
    pub global_endpoints: HashMap<String, GlobalEndpoint>,
}

impl Metadata {
    /// The name requests are signed for.
    pub fn signing_name(&self) -> &str {
        self.signing_name.as_deref().unwrap_or(&self.endpoint_prefix)
    }
}

/// The one endpoint a non-regional service has in a partition.
#[derive(Debug, Deserialize, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct GlobalEndpoint {
    /// The host name (`iam.amazonaws.com`).
    pub hostname: String,
    /// The region requests are signed for (`us-east-1`).
    pub signing_region: String,
}

/// An operation's HTTP binding and shapes.
#[derive(Debug, Deserialize, Clone)]
pub struct Operation {
    /// Method, request URI and host prefix.
    #[serde(default)]
    pub http: Http,
    /// The input shape, with the request body's root name and namespace.
    #[serde(default)]
    pub input: Option<MemberRef>,
    /// The output shape, with the query protocols' result wrapper.
    #[serde(default)]
    pub output: Option<MemberRef>,
}

impl Operation {
    /// The input shape's name.
    pub fn input_shape(&self) -> Option<&str> {
        self.input.as_ref().map(|r| r.shape.as_str())
    }

    /// The output shape's name.
    pub fn output_shape(&self) -> Option<&str> {
        self.output.as_ref().map(|r| r.shape.as_str())
    }
}

/// An HTTP binding.
#[derive(Debug, Deserialize, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct Http {
    /// `GET`, `POST`, ...
    #[serde(default)]
    pub method: Option<String>,
    /// The URI template, with `{Label}` and greedy `{Label+}` parts and
    /// possibly a constant query string.
    #[serde(default)]
    pub request_uri: Option<String>,
    /// The status code of a successful answer.
    #[serde(default)]
    pub response_code: Option<u16>,
    /// A template prepended to the endpoint's host name
    /// (`{AccountId}.`), filled from `hostLabel` members.
    #[serde(default)]
    pub host_prefix: Option<String>,
}

/// An XML namespace on a member or a request body's root.
#[derive(Debug, Deserialize, Clone, PartialEq, Eq)]
#[serde(untagged)]
pub enum XmlNamespace {
    /// A bare URI.
    Uri(String),
    /// A URI with an optional prefix.
    Prefixed {
        /// The namespace prefix (`xsi`), none for the default namespace.
        #[serde(default)]
        prefix: Option<String>,
        /// The namespace URI.
        uri: String,
    },
}

impl XmlNamespace {
    /// The attribute that declares it: `("xmlns", uri)` or
    /// `("xmlns:prefix", uri)`.
    pub fn attribute(&self) -> (String, &str) {
        match self {
            XmlNamespace::Uri(uri) | XmlNamespace::Prefixed { prefix: None, uri } => {
                ("xmlns".to_owned(), uri)
            }
            XmlNamespace::Prefixed { prefix: Some(p), uri } => (format!("xmlns:{p}"), uri),
        }
    }
}

/// A reference from a structure, list or map (or an operation) to a shape,
/// with the serialization traits that apply where it is used.
#[derive(Debug, Deserialize, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct MemberRef {
    /// The target shape's name.
    pub shape: String,
    /// The element, key, header or label name on the wire.
    #[serde(default)]
    pub location_name: Option<String>,
    /// The EC2 protocol's query key.
    #[serde(default)]
    pub query_name: Option<String>,
    /// `header`, `headers`, `querystring`, `uri` or `statusCode` for REST
    /// protocols; absent for the body.
    #[serde(default)]
    pub location: Option<String>,
    /// Whether a list or map is flattened in XML and query strings.
    #[serde(default)]
    pub flattened: bool,
    /// Whether the member is an XML attribute.
    #[serde(default)]
    pub xml_attribute: bool,
    /// The member's XML namespace.
    #[serde(default)]
    pub xml_namespace: Option<XmlNamespace>,
    /// A timestamp format override.
    #[serde(default)]
    pub timestamp_format: Option<String>,
    /// A string holding JSON, sent base64-encoded in a header.
    #[serde(default)]
    pub jsonvalue: bool,
    /// A token the SDK fills in for idempotent writes.
    #[serde(default)]
    pub idempotency_token: bool,
    /// A member that fills a label of the host prefix.
    #[serde(default)]
    pub host_label: bool,
    /// A streaming body.
    #[serde(default)]
    pub streaming: bool,
    /// The event-stream payload member.
    #[serde(default)]
    pub eventpayload: bool,
    /// The query protocol's element wrapping an operation's output.
    #[serde(default)]
    pub result_wrapper: Option<String>,
}

impl MemberRef {
    /// The name on the wire: the location name, else `name`.
    pub fn wire_name<'a>(&'a self, name: &'a str) -> &'a str {
        self.location_name.as_deref().unwrap_or(name)
    }
}

/// A shape's kind.
#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ShapeType {
    /// A record of named members.
    Structure,
    /// A list.
    List,
    /// A map.
    Map,
    /// Text.
    String,
    /// A 32-bit integer.
    Integer,
    /// A 64-bit integer.
    Long,
    /// A 16-bit integer.
    Short,
    /// An 8-bit integer.
    Byte,
    /// A float.
    Float,
    /// A double.
    Double,
    /// A boolean.
    Boolean,
    /// A time.
    Timestamp,
    /// Bytes.
    Blob,
}

/// One shape of a service model.
#[derive(Debug, Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
pub struct Shape {
    /// The kind.
    #[serde(rename = "type")]
    pub kind: ShapeType,
    /// A structure's members, in model order.
    #[serde(default)]
    pub members: IndexMap<String, MemberRef>,
    /// The members a structure must have.
    #[serde(default)]
    pub required: Vec<String>,
    /// A list's element.
    #[serde(default)]
    pub member: Option<MemberRef>,
    /// A map's key.
    #[serde(default)]
    pub key: Option<MemberRef>,
    /// A map's value.
    #[serde(default)]
    pub value: Option<MemberRef>,
    /// Whether a list or map is flattened in XML.
    #[serde(default)]
    pub flattened: bool,
    /// The element name of the shape itself, where it has one.
    #[serde(default)]
    pub location_name: Option<String>,
    /// A timestamp format.
    #[serde(default)]
    pub timestamp_format: Option<String>,
    /// Whether the structure is an error.
    #[serde(default)]
    pub exception: bool,
    /// The member that is the whole HTTP body of a REST operation.
    #[serde(default)]
    pub payload: Option<String>,
    /// A structure of which exactly one member is set.
    #[serde(default)]
    pub union: bool,
    /// A free-form JSON document.
    #[serde(default)]
    pub document: bool,
    /// An event-stream union.
    #[serde(default)]
    pub eventstream: bool,
    /// A streaming blob.
    #[serde(default)]
    pub streaming: bool,
    /// The shape's XML namespace.
    #[serde(default)]
    pub xml_namespace: Option<XmlNamespace>,
    /// A list or map whose elements may be null.
    #[serde(default)]
    pub sparse: bool,
}

/// A paginator definition.
#[derive(Debug, Deserialize, Clone)]
pub struct Paginator {
    /// The input member(s) that carry the token.
    pub input_token: OneOrMany,
    /// The output path(s) the next token is read from.
    pub output_token: OneOrMany,
    /// The input member limiting page size.
    #[serde(default)]
    pub limit_key: Option<String>,
    /// Output member(s) holding the results.
    #[serde(default)]
    pub result_key: Option<OneOrMany>,
    /// An output flag saying more pages exist.
    #[serde(default)]
    pub more_results: Option<String>,
    /// Output members that are the same on every page.
    #[serde(default)]
    pub non_aggregate_keys: Option<OneOrMany>,
}

/// A string or a list of strings, as paginator definitions write them.
#[derive(Debug, Deserialize, Clone)]
#[serde(untagged)]
pub enum OneOrMany {
    /// One.
    One(String),
    /// Several.
    Many(Vec<String>),
}

impl OneOrMany {
    /// The entries as a slice-like list.
    pub fn items(&self) -> Vec<&str> {
        match self {
            OneOrMany::One(s) => vec![s.as_str()],
            OneOrMany::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

/// One service's model.
#[derive(Debug, Deserialize)]
pub struct ServiceModel {
    /// The catalogue name (`ec2`).
    pub service: String,
    /// How to reach and speak to it.
    pub metadata: Metadata,
    /// Operations by name.
    pub operations: HashMap<String, Operation>,
    /// Shapes by name.
    pub shapes: HashMap<String, Shape>,
    /// Paginators by operation name.
    #[serde(default)]
    pub paginators: HashMap<String, Paginator>,
}

impl ServiceModel {
    /// An operation by its exact name.
    pub fn operation(&self, name: &str) -> Result<&Operation, CatalogueError> {
        self.operations.get(name).ok_or_else(|| CatalogueError::UnknownOperation {
            service: self.service.clone(),
            operation: name.to_owned(),
        })
    }

    /// A shape by name; models are closed, so a missing one is damage.
    pub fn shape(&self, name: &str) -> Result<&Shape, CatalogueError> {
        self.shapes.get(name).ok_or_else(|| CatalogueError::Damaged {
            service: self.service.clone(),
            message: format!("shape {name} is referenced but not defined"),
        })
    }
}

/// The catalogue of every embedded service, parsed lazily.
#[derive(Default)]
pub struct Catalogue {
    loaded: Mutex<HashMap<String, Arc<ModelSlot>>>,
}

/// One service's model, parsed by the first caller that needs it while the
/// others wait for it: a run's first few hundred calls to one service
/// arrive together, and parsing a model as large as EC2's once each would
/// cost seconds of processor time.
type ModelSlot = std::sync::OnceLock<Result<Arc<ServiceModel>, CatalogueError>>;

impl Catalogue {
    /// An empty cache over the embedded models.
    pub fn new() -> Catalogue {
        Catalogue::default()
    }

    /// The slot of `service`; a panic elsewhere while the map was held
    /// leaves it usable.
    fn slot(&self, service: &str) -> Arc<ModelSlot> {
        let mut loaded = self.loaded.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        loaded.entry(service.to_owned()).or_default().clone()
    }

    /// Whether the catalogue knows `service`, without loading it.
    pub fn contains(&self, service: &str) -> bool {
        EMBEDDED.binary_search_by(|(name, _)| (*name).cmp(service)).is_ok()
    }

    /// The names of every service in the catalogue.
    pub fn service_names(&self) -> impl Iterator<Item = &'static str> {
        EMBEDDED.iter().map(|(name, _)| *name)
    }

    /// A service's model, parsed on first use.
    pub fn service(&self, service: &str) -> Result<Arc<ServiceModel>, CatalogueError> {
        let index = EMBEDDED
            .binary_search_by(|(name, _)| (*name).cmp(service))
            .map_err(|_| CatalogueError::UnknownService(service.to_owned()))?;
        self.slot(service).get_or_init(|| parse(service, EMBEDDED[index].1)).clone()
    }
}

/// Inflates and parses one embedded model.
fn parse(service: &str, packed: &[u8]) -> Result<Arc<ServiceModel>, CatalogueError> {
    let damaged =
        |message: String| CatalogueError::Damaged { service: service.to_owned(), message };
    let mut text = Vec::new();
    flate2::read::GzDecoder::new(packed)
        .read_to_end(&mut text)
        .map_err(|e| damaged(e.to_string()))?;
    let model: ServiceModel = serde_json::from_slice(&text).map_err(|e| damaged(e.to_string()))?;
    Ok(Arc::new(model))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ec2_model_loads_with_paginator() {
        let cat = Catalogue::new();
        let ec2 = cat.service("ec2").unwrap();
        assert_eq!(ec2.metadata.protocol, "ec2");
        let op = ec2.operation("DescribeInstances").unwrap();
        assert_eq!(op.input_shape(), Some("DescribeInstancesRequest"));
        let pager = &ec2.paginators["DescribeInstances"];
        assert_eq!(pager.output_token.items(), vec!["NextToken"]);
    }

    #[test]
    fn every_embedded_model_loads_with_a_protocol_this_host_speaks_or_names() {
        let cat = Catalogue::new();
        let mut unsupported = Vec::new();
        for name in cat.service_names() {
            let model = cat.service(name).unwrap_or_else(|e| panic!("{e}"));
            if crate::gateway::protocol::Protocol::of(&model).is_err() {
                unsupported.push(name);
            }
        }
        assert!(cat.service_names().count() > 400);
        // Only services that speak nothing but CBOR are out of reach.
        assert!(unsupported.len() <= 4, "{unsupported:?}");
        let iam = cat.service("iam").unwrap();
        assert_eq!(iam.metadata.global_endpoints["aws"].hostname, "iam.amazonaws.com");
    }

    #[test]
    fn unknown_names_are_typed_errors() {
        let cat = Catalogue::new();
        assert!(matches!(cat.service("nope"), Err(CatalogueError::UnknownService(_))));
        let ec2 = cat.service("ec2").unwrap();
        assert!(matches!(
            ec2.operation("DescribeNothing"),
            Err(CatalogueError::UnknownOperation { .. })
        ));
        assert!(cat.contains("s3") && !cat.contains("../s3"));
    }
}
