//! XML on the wire, walked alongside its shape: answers of the EC2, query
//! and REST-XML protocols become JSON in which a list is an array even
//! with one element (wrapped or flattened), maps are objects, numbers are
//! numbers and timestamps ISO-8601; and REST-XML request bodies are
//! written from JSON inputs.

use std::{cell::RefCell, collections::HashMap, rc::Rc};

use roxmltree::Node;
use serde_json::{Map, Value};

use super::{
    ErrorBody, ProtocolError, WireResponse, base64, float_text, float_value,
    time::{TimeFormat, Timestamp},
};
use crate::gateway::catalogue::{MemberRef, Operation, ServiceModel, Shape, ShapeType};

/// Parses `body` as an XML document.
pub(super) fn document<'a>(
    model: &ServiceModel,
    text: &'a str,
) -> Result<roxmltree::Document<'a>, ProtocolError> {
    if too_deep(text) {
        return Err(ProtocolError::Response {
            service: model.service.clone(),
            message: format!("the body nests elements deeper than {MAX_DEPTH} levels"),
        });
    }
    let options = roxmltree::ParsingOptions { allow_dtd: false, nodes_limit: u32::MAX };
    roxmltree::Document::parse_with_options(text, options).map_err(|e| ProtocolError::Response {
        service: model.service.clone(),
        message: format!("the body is not XML: {e}"),
    })
}

/// The deepest element nesting accepted. AWS's shapes nest a few dozen
/// levels at most; the parsers walk shapes recursively, so a deeper body
/// is refused before it can exhaust the stack.
const MAX_DEPTH: usize = 256;

/// Whether any element lies deeper than [`MAX_DEPTH`]. Checked on the raw
/// text before parsing, since the XML parser itself recurses per level:
/// tags are counted open and closed, skipping comments, CDATA sections,
/// declarations and processing instructions.
fn too_deep(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while let Some(at) = bytes[i..].iter().position(|&b| b == b'<') {
        let start = i + at;
        let rest = &text[start..];
        let skip_to = |end: &str| rest.find(end).map(|e| start + e + end.len());
        let next = if rest.starts_with("<!--") {
            skip_to("-->")
        } else if rest.starts_with("<![CDATA[") {
            skip_to("]]>")
        } else if rest.starts_with("<?") || rest.starts_with("<!") {
            skip_to(">")
        } else if rest.starts_with("</") {
            depth = depth.saturating_sub(1);
            skip_to(">")
        } else {
            let close = skip_to(">");
            let self_closing = close.is_some_and(|c| bytes[c - 2] == b'/');
            if !self_closing {
                depth += 1;
                if depth > MAX_DEPTH {
                    return true;
                }
            }
            close
        };
        match next {
            Some(n) => i = n,
            None => break,
        }
    }
    false
}

/// Parses an EC2 answer: the root element's children are the output's
/// members.
pub(super) fn parse_ec2(
    model: &ServiceModel,
    op: &Operation,
    response: &WireResponse,
) -> Result<Value, ProtocolError> {
    let Some(shape_name) = op.output_shape() else { return Ok(Value::Object(Map::new())) };
    let text = response.text(&model.service)?;
    if text.trim().is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    let doc = document(model, text)?;
    structure(model, model.shape(shape_name)?, doc.root_element())
}

/// Parses a query answer: the output's members are inside the result
/// wrapper (`<ListRolesResult>`) under the root.
pub(super) fn parse_query(
    model: &ServiceModel,
    op: &Operation,
    response: &WireResponse,
) -> Result<Value, ProtocolError> {
    let Some(output) = &op.output else { return Ok(Value::Object(Map::new())) };
    let text = response.text(&model.service)?;
    if text.trim().is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    let doc = document(model, text)?;
    let root = doc.root_element();
    let start = match &output.result_wrapper {
        Some(wrapper) => match child(root, wrapper) {
            Some(node) => node,
            None => return Ok(Value::Object(Map::new())),
        },
        None => root,
    };
    structure(model, model.shape(&output.shape)?, start)
}

fn child<'a, 'input>(node: Node<'a, 'input>, name: &str) -> Option<Node<'a, 'input>> {
    node.children().find(|c| c.is_element() && c.tag_name().name() == name)
}

/// The other element name a flattened list may be repeated under: its
/// element's own name, as some older models write it.
fn element_tag<'a>(member: &'a MemberRef, shape: &'a Shape) -> Option<&'a str> {
    if shape.kind == ShapeType::List && (member.flattened || shape.flattened) {
        return shape.member.as_ref().and_then(|m| m.location_name.as_deref());
    }
    None
}

/// A structure member as found in XML.
struct Slot<'m> {
    tag: &'m str,
    name: &'m String,
    member: &'m MemberRef,
    target: &'m Shape,
    flattened: bool,
}

/// How one structure shape reads: element members by tag (model names
/// first, then the older element names of flattened lists), attributes.
struct Table<'m> {
    elements: Vec<Slot<'m>>,
    attributes: Vec<Slot<'m>>,
}

/// Walks a document with the model, resolving each structure's members
/// once per parse rather than once per element: a large answer repeats
/// the same few structures thousands of times.
struct Reader<'m> {
    model: &'m ServiceModel,
    tables: RefCell<HashMap<*const Shape, Rc<Table<'m>>>>,
}

/// Parses the children (and attributes) of `node` as `shape`.
pub(super) fn structure(
    model: &ServiceModel,
    shape: &Shape,
    node: Node,
) -> Result<Value, ProtocolError> {
    Reader { model, tables: RefCell::default() }.structure(shape, node)
}

impl<'m> Reader<'m> {
    fn table(&self, shape: &'m Shape) -> Result<Rc<Table<'m>>, ProtocolError> {
        if let Some(table) = self.tables.borrow().get(&(shape as *const Shape)) {
            return Ok(table.clone());
        }
        let mut elements = Vec::with_capacity(shape.members.len());
        let mut others = Vec::new();
        let mut attributes = Vec::new();
        for (name, member) in &shape.members {
            if super::bound_in_response(member) {
                continue;
            }
            let target = self.model.shape(&member.shape)?;
            let flattened = member.flattened || target.flattened;
            if member.xml_attribute {
                let wanted = member.wire_name(name);
                let tag = wanted.rsplit(':').next().unwrap_or(wanted);
                attributes.push(Slot { tag, name, member, target, flattened });
                continue;
            }
            elements.push(Slot { tag: member.wire_name(name), name, member, target, flattened });
            if let Some(tag) = element_tag(member, target) {
                others.push(Slot { tag, name, member, target, flattened });
            }
        }
        elements.extend(others);
        let table = Rc::new(Table { elements, attributes });
        self.tables.borrow_mut().insert(shape as *const Shape, table.clone());
        Ok(table)
    }

    fn structure(&self, shape: &'m Shape, node: Node) -> Result<Value, ProtocolError> {
        let table = self.table(shape)?;
        let mut out = Map::new();
        for slot in &table.attributes {
            if let Some(attr) = node.attributes().find(|a| a.name() == slot.tag) {
                let format = slot.member.timestamp_format.as_deref();
                out.insert(slot.name.clone(), scalar(slot.target, format, attr.value()));
            }
        }
        for element in node.children().filter(Node::is_element) {
            let tag = element.tag_name().name();
            let Some(slot) = table.elements.iter().find(|s| s.tag == tag) else { continue };
            match slot.target.kind {
                ShapeType::List if slot.flattened => {
                    let element_ref = slot.target.member.as_ref();
                    let element_shape =
                        self.model.shape(element_ref.map(|m| m.shape.as_str()).unwrap_or(""))?;
                    let format = element_ref.and_then(|m| m.timestamp_format.as_deref());
                    let item = self.value(element_shape, format, element)?;
                    if let Value::Array(items) =
                        out.entry(slot.name.clone()).or_insert_with(|| Value::Array(Vec::new()))
                    {
                        items.push(item);
                    }
                }
                ShapeType::Map if slot.flattened => {
                    let entry = self.map_entry(slot.target, element)?;
                    let map =
                        out.entry(slot.name.clone()).or_insert_with(|| Value::Object(Map::new()));
                    if let (Value::Object(map), Some((k, v))) = (map, entry) {
                        map.insert(k, v);
                    }
                }
                _ => {
                    let format = slot.member.timestamp_format.as_deref();
                    let v = self.value(slot.target, format, element)?;
                    out.insert(slot.name.clone(), v);
                }
            }
        }
        Ok(Value::Object(out))
    }

    /// Parses `node` as a value of `shape`.
    fn value(
        &self,
        shape: &'m Shape,
        ts_format: Option<&str>,
        node: Node,
    ) -> Result<Value, ProtocolError> {
        Ok(match shape.kind {
            ShapeType::Structure => self.structure(shape, node)?,
            ShapeType::List => {
                let element = shape.member.as_ref();
                let element_shape =
                    self.model.shape(element.map(|m| m.shape.as_str()).unwrap_or(""))?;
                let format = element.and_then(|m| m.timestamp_format.as_deref());
                let mut items = Vec::new();
                for child in node.children().filter(Node::is_element) {
                    items.push(self.value(element_shape, format, child)?);
                }
                Value::Array(items)
            }
            ShapeType::Map => {
                let mut map = Map::new();
                for entry in node.children().filter(Node::is_element) {
                    if let Some((k, v)) = self.map_entry(shape, entry)? {
                        map.insert(k, v);
                    }
                }
                Value::Object(map)
            }
            _ => scalar(shape, ts_format, node.text().unwrap_or("")),
        })
    }

    fn map_entry(
        &self,
        shape: &'m Shape,
        entry: Node,
    ) -> Result<Option<(String, Value)>, ProtocolError> {
        let (Some(k), Some(v)) = (&shape.key, &shape.value) else { return Ok(None) };
        let key_tag = k.location_name.as_deref().unwrap_or("key");
        let value_tag = v.location_name.as_deref().unwrap_or("value");
        let mut key = None;
        let mut val = None;
        for child in entry.children().filter(Node::is_element) {
            if child.tag_name().name() == key_tag {
                key = Some(child.text().unwrap_or("").to_owned());
            } else if child.tag_name().name() == value_tag {
                let target = self.model.shape(&v.shape)?;
                val = Some(self.value(target, v.timestamp_format.as_deref(), child)?);
            }
        }
        Ok(key.map(|k| (k, val.unwrap_or(Value::Null))))
    }
}

/// A scalar from its wire text. Text that does not parse as the shape's
/// type is kept as a string rather than lost.
pub(super) fn scalar(shape: &Shape, ts_format: Option<&str>, text: &str) -> Value {
    match shape.kind {
        ShapeType::Boolean => match text.trim() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            other => Value::String(other.to_owned()),
        },
        ShapeType::Integer | ShapeType::Long | ShapeType::Short | ShapeType::Byte => {
            let trimmed = text.trim();
            trimmed
                .parse::<i64>()
                .map(|n| Value::Number(n.into()))
                .or_else(|_| trimmed.parse::<u64>().map(|n| Value::Number(n.into())))
                .unwrap_or_else(|_| Value::String(text.to_owned()))
        }
        ShapeType::Float | ShapeType::Double => {
            float_value(text).unwrap_or_else(|| Value::String(text.to_owned()))
        }
        ShapeType::Timestamp => {
            let hint = TimeFormat::named(
                ts_format.or(shape.timestamp_format.as_deref()),
                TimeFormat::Iso8601,
            );
            Value::String(
                Timestamp::parse_any(text, hint)
                    .map(Timestamp::to_iso8601)
                    .unwrap_or_else(|| text.trim().to_owned()),
            )
        }
        ShapeType::Blob => Value::String(text.trim().to_owned()),
        _ => Value::String(text.to_owned()),
    }
}

/// The `<Error>` element of any XML protocol's error body: under
/// `<ErrorResponse>` (query, REST-XML), under `<Response><Errors>` (EC2),
/// or the root itself (S3).
fn error_node<'a, 'input>(doc: &'a roxmltree::Document<'input>) -> Node<'a, 'input> {
    let root = doc.root_element();
    if root.tag_name().name() == "Error" {
        return root;
    }
    root.descendants().find(|n| n.is_element() && n.tag_name().name() == "Error").unwrap_or(root)
}

/// Reads `Code`, `Message` and the request id from an XML error body of
/// any of the XML protocols.
pub(super) fn parse_error(body: &[u8]) -> ErrorBody {
    let Ok(text) = std::str::from_utf8(body) else { return ErrorBody::default() };
    let options = roxmltree::ParsingOptions { allow_dtd: false, ..Default::default() };
    if too_deep(text) {
        return ErrorBody::default();
    }
    let Ok(doc) = roxmltree::Document::parse_with_options(text, options) else {
        return ErrorBody::default();
    };
    let error = error_node(&doc);
    let field = |names: &[&str]| {
        error
            .children()
            .find(|n| n.is_element() && names.contains(&n.tag_name().name()))
            .map(|n| n.text().unwrap_or("").trim().to_owned())
    };
    let request_id = doc
        .descendants()
        .find(|n| n.is_element() && matches!(n.tag_name().name(), "RequestId" | "RequestID"))
        .and_then(|n| n.text())
        .map(|t| t.trim().to_owned());
    ErrorBody {
        code: field(&["Code"]).unwrap_or_default(),
        message: field(&["Message", "message"]).unwrap_or_default(),
        request_id,
    }
}

/// The modelled members of an XML error, read from its `<Error>`.
pub(super) fn parse_error_members(
    model: &ServiceModel,
    error_shape: &str,
    response: &WireResponse,
) -> Result<Value, ProtocolError> {
    let text = response.text(&model.service)?;
    let doc = document(model, text)?;
    structure(model, model.shape(error_shape)?, error_node(&doc))
}

/// Writes REST-XML request bodies.
pub(super) struct XmlWriter<'a> {
    model: &'a ServiceModel,
    out: String,
}

fn escape(text: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\'' if attribute => out.push_str("&apos;"),
            '\r' => out.push_str("&#xD;"),
            '\n' if attribute => out.push_str("&#xA;"),
            '\t' if attribute => out.push_str("&#x9;"),
            c => out.push(c),
        }
    }
    out
}

impl<'a> XmlWriter<'a> {
    pub(super) fn new(model: &'a ServiceModel) -> XmlWriter<'a> {
        XmlWriter { model, out: String::new() }
    }

    pub(super) fn finish(self) -> Vec<u8> {
        self.out.into_bytes()
    }

    /// Writes `value` as the element `name`; `reference` carries the
    /// member's traits (namespace, timestamp format, flattening).
    pub(super) fn element(
        &mut self,
        name: &str,
        reference: &MemberRef,
        value: &Value,
    ) -> Result<(), ProtocolError> {
        let model = self.model;
        let shape = model.shape(&reference.shape)?;
        let namespace = reference.xml_namespace.as_ref().or(shape.xml_namespace.as_ref());
        let open = |attributes: &str| {
            let ns = namespace
                .map(|n| {
                    let (attr, uri) = n.attribute();
                    format!(" {attr}=\"{}\"", escape(uri, true))
                })
                .unwrap_or_default();
            format!("<{name}{ns}{attributes}>")
        };
        match (shape.kind, value) {
            (ShapeType::Structure, Value::Object(map)) => {
                let mut attributes = String::new();
                for (member_name, member) in &shape.members {
                    if !member.xml_attribute || member.location.is_some() {
                        continue;
                    }
                    let Some(v) = map.get(member_name).filter(|v| !v.is_null()) else { continue };
                    let text = self.text(member, v)?;
                    attributes.push_str(&format!(
                        " {}=\"{}\"",
                        member.wire_name(member_name),
                        escape(&text, true)
                    ));
                }
                self.out.push_str(&open(&attributes));
                for (member_name, member) in &shape.members {
                    if member.xml_attribute || member.location.is_some() {
                        continue;
                    }
                    let Some(v) = map.get(member_name).filter(|v| !v.is_null()) else { continue };
                    self.element(member.wire_name(member_name), member, v)?;
                }
                self.out.push_str(&format!("</{name}>"));
            }
            (ShapeType::List, Value::Array(items)) => {
                let element = shape.member.clone().unwrap_or_default();
                if reference.flattened || shape.flattened {
                    for item in items {
                        self.element(name, &element, item)?;
                    }
                } else {
                    self.out.push_str(&open(""));
                    let item_name = element.location_name.as_deref().unwrap_or("member");
                    for item in items {
                        self.element(item_name, &element, item)?;
                    }
                    self.out.push_str(&format!("</{name}>"));
                }
            }
            (ShapeType::Map, Value::Object(map)) => {
                let (Some(k), Some(v)) = (&shape.key, &shape.value) else {
                    return Err(ProtocolError::Model {
                        service: model.service.clone(),
                        message: format!("map {} lacks key or value", reference.shape),
                    });
                };
                let key_name = k.location_name.as_deref().unwrap_or("key");
                let value_name = v.location_name.as_deref().unwrap_or("value");
                let flattened = reference.flattened || shape.flattened;
                if !flattened {
                    self.out.push_str(&open(""));
                }
                for (key, item) in map {
                    self.out.push_str(if flattened { "" } else { "<entry>" });
                    if flattened {
                        self.out.push_str(&open(""));
                    }
                    self.element(key_name, k, &Value::String(key.clone()))?;
                    self.element(value_name, v, item)?;
                    if flattened {
                        self.out.push_str(&format!("</{name}>"));
                    } else {
                        self.out.push_str("</entry>");
                    }
                }
                if !flattened {
                    self.out.push_str(&format!("</{name}>"));
                }
            }
            _ => {
                let text = self.text(reference, value)?;
                self.out.push_str(&open(""));
                self.out.push_str(&escape(&text, false));
                self.out.push_str(&format!("</{name}>"));
            }
        }
        Ok(())
    }

    fn text(&self, reference: &MemberRef, value: &Value) -> Result<String, ProtocolError> {
        let shape = self.model.shape(&reference.shape)?;
        Ok(match (shape.kind, value) {
            (ShapeType::Timestamp, v) => {
                let format = TimeFormat::named(
                    reference.timestamp_format.as_deref().or(shape.timestamp_format.as_deref()),
                    TimeFormat::Iso8601,
                );
                Timestamp::from_input(v).map(|t| t.to_text(format)).unwrap_or_default()
            }
            (ShapeType::Blob, Value::String(s)) => base64(s.as_bytes()),
            (ShapeType::Float | ShapeType::Double, v) => float_text(v).unwrap_or_default(),
            (_, Value::String(s)) => s.clone(),
            (_, v) => v.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::catalogue::Catalogue;

    #[test]
    fn a_single_reservation_is_still_a_list() {
        let ec2 = Catalogue::new().service("ec2").unwrap();
        let body = br#"<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
            <requestId>r</requestId>
            <reservationSet><item><reservationId>r-1</reservationId>
              <instancesSet><item><instanceId>i-1</instanceId>
                <launchTime>2024-01-02T03:04:05.000Z</launchTime>
                <tagSet><item><key>Name</key><value></value></item></tagSet>
              </item></instancesSet></item></reservationSet>
            </DescribeInstancesResponse>"#;
        let response = WireResponse { status: 200, headers: vec![], body: body.to_vec() };
        let op = ec2.operation("DescribeInstances").unwrap();
        let out = parse_ec2(&ec2, op, &response).unwrap();
        let instance = &out["Reservations"][0]["Instances"][0];
        assert_eq!(instance["InstanceId"], "i-1");
        assert_eq!(instance["LaunchTime"], "2024-01-02T03:04:05Z");
        assert_eq!(instance["Tags"], serde_json::json!([{"Key": "Name", "Value": ""}]));
    }

    #[test]
    fn errors_of_every_xml_shape_give_code_and_message() {
        let query = br#"<ErrorResponse><Error><Type>Sender</Type><Code>NoSuchEntity</Code>
            <Message>gone</Message></Error><RequestId>q-1</RequestId></ErrorResponse>"#;
        let ec2 = br#"<Response><Errors><Error><Code>AuthFailure</Code><Message>no</Message>
            </Error></Errors><RequestID>e-1</RequestID></Response>"#;
        let s3 = br#"<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchBucket</Code>
            <Message>The specified bucket does not exist</Message><BucketName>b</BucketName>
            <RequestId>s-1</RequestId><HostId>h</HostId></Error>"#;
        assert_eq!(parse_error(query).code, "NoSuchEntity");
        assert_eq!(parse_error(query).request_id.as_deref(), Some("q-1"));
        assert_eq!(parse_error(ec2).message, "no");
        assert_eq!(parse_error(ec2).request_id.as_deref(), Some("e-1"));
        assert_eq!(parse_error(s3).code, "NoSuchBucket");
        assert_eq!(parse_error(s3).request_id.as_deref(), Some("s-1"));
        assert_eq!(parse_error(b"not xml"), ErrorBody::default());
    }

    #[test]
    fn a_deeply_nested_body_is_refused_not_a_crash() {
        let ec2 = Catalogue::new().service("ec2").unwrap();
        let deep = format!(
            "<DescribeRegionsResponse>{}{}</DescribeRegionsResponse>",
            "<a>".repeat(20_000),
            "</a>".repeat(20_000)
        );
        let response =
            WireResponse { status: 200, headers: vec![], body: deep.clone().into_bytes() };
        let op = ec2.operation("DescribeRegions").unwrap();
        let err = parse_ec2(&ec2, op, &response).unwrap_err();
        assert!(err.to_string().contains("deeper than"), "{err}");
        assert_eq!(parse_error(deep.as_bytes()), ErrorBody::default());
    }
}
