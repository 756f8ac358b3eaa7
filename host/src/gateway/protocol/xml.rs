//! XML answers walked alongside their output shape, so that a list is an
//! array even with one element, numbers are numbers and timestamps come out
//! as ISO-8601. Shared by the EC2, query and REST-XML protocols.

use aws_smithy_types::date_time::{DateTime, Format};
use roxmltree::Node;
use serde_json::{Map, Number, Value};

use super::{ErrorBody, InputError, ProtocolError};
use crate::gateway::catalogue::{MemberRef, ServiceModel, Shape, ShapeType};

/// Parses the children of `node` as the structure `shape_name`.
pub(super) fn structure_from(
    model: &ServiceModel,
    shape_name: &str,
    node: Node,
) -> Result<Value, ProtocolError> {
    let shape = model.shape(shape_name)?;
    structure(model, shape, node)
}

fn xml_name<'a>(name: &'a str, member: &'a MemberRef) -> &'a str {
    member.location_name.as_deref().unwrap_or(name)
}

fn structure(model: &ServiceModel, shape: &Shape, node: Node) -> Result<Value, ProtocolError> {
    let mut out = Map::new();
    for child in node.children().filter(Node::is_element) {
        let tag = child.tag_name().name();
        let found = shape.members.iter().find(|(name, member)| {
            if xml_name(name, member) == tag {
                return true;
            }
            // A flattened list may be named by its element's location name.
            member.flattened
                && model
                    .shapes
                    .get(&member.shape)
                    .and_then(|s| s.member.as_ref())
                    .and_then(|m| m.location_name.as_deref())
                    == Some(tag)
        });
        let Some((name, member)) = found else { continue };
        let target = model.shape(&member.shape)?;
        let flattened = member.flattened || target.flattened;
        if flattened && matches!(target.kind, ShapeType::List | ShapeType::Map) {
            let slot = out.entry(name.clone()).or_insert_with(|| match target.kind {
                ShapeType::Map => Value::Object(Map::new()),
                _ => Value::Array(Vec::new()),
            });
            if target.kind == ShapeType::List {
                let element = target.member.as_ref().map(|m| m.shape.as_str()).unwrap_or_default();
                let item = value(model, model.shape(element)?, element_format(target), child)?;
                if let Value::Array(items) = slot {
                    items.push(item);
                }
            } else if let (Value::Object(map), Some((k, v))) =
                (slot, map_entry(model, target, child)?)
            {
                map.insert(k, v);
            }
            continue;
        }
        let v = value(model, target, member.timestamp_format.as_deref(), child)?;
        out.insert(name.clone(), v);
    }
    Ok(Value::Object(out))
}

fn element_format(list: &Shape) -> Option<&str> {
    list.member.as_ref().and_then(|m| m.timestamp_format.as_deref())
}

fn value(
    model: &ServiceModel,
    shape: &Shape,
    ts_format: Option<&str>,
    node: Node,
) -> Result<Value, ProtocolError> {
    Ok(match shape.kind {
        ShapeType::Structure => structure(model, shape, node)?,
        ShapeType::List => {
            let element = shape.member.as_ref().map(|m| m.shape.as_str()).unwrap_or_default();
            let element_shape = model.shape(element)?;
            let mut items = Vec::new();
            for child in node.children().filter(Node::is_element) {
                items.push(value(model, element_shape, element_format(shape), child)?);
            }
            Value::Array(items)
        }
        ShapeType::Map => {
            let mut map = Map::new();
            for entry in node.children().filter(Node::is_element) {
                if let Some((k, v)) = map_entry(model, shape, entry)? {
                    map.insert(k, v);
                }
            }
            Value::Object(map)
        }
        kind => {
            scalar(kind, ts_format.or(shape.timestamp_format.as_deref()), node.text().unwrap_or(""))
        }
    })
}

fn map_entry(
    model: &ServiceModel,
    shape: &Shape,
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
            val = Some(value(model, model.shape(&v.shape)?, None, child)?);
        }
    }
    Ok(key.map(|k| (k, val.unwrap_or(Value::Null))))
}

fn scalar(kind: ShapeType, ts_format: Option<&str>, text: &str) -> Value {
    match kind {
        ShapeType::Boolean => Value::Bool(text.trim() == "true"),
        ShapeType::Integer | ShapeType::Long | ShapeType::Short | ShapeType::Byte => text
            .trim()
            .parse::<i64>()
            .map(|n| Value::Number(n.into()))
            .unwrap_or_else(|_| Value::String(text.to_owned())),
        ShapeType::Float | ShapeType::Double => text
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map(Value::Number)
            .unwrap_or_else(|| Value::String(text.to_owned())),
        ShapeType::Timestamp => Value::String(iso8601(text.trim(), ts_format)),
        _ => Value::String(text.to_owned()),
    }
}

/// Normalises a wire timestamp to ISO-8601 UTC; text that is no timestamp
/// is kept as it came.
pub(super) fn iso8601(text: &str, hint: Option<&str>) -> String {
    let order: [Format; 3] = match hint {
        Some("unixTimestamp") => [Format::EpochSeconds, Format::DateTime, Format::HttpDate],
        Some("rfc822") => [Format::HttpDate, Format::DateTime, Format::EpochSeconds],
        _ => [Format::DateTime, Format::HttpDate, Format::EpochSeconds],
    };
    order
        .iter()
        .find_map(|f| DateTime::from_str(text, *f).ok())
        .and_then(|t| t.fmt(Format::DateTime).ok())
        .unwrap_or_else(|| text.to_owned())
}

/// The text form of a scalar input value, checked against its shape.
pub(super) fn scalar_text(
    kind: ShapeType,
    value: &Value,
    path: &str,
) -> Result<String, InputError> {
    let wrong = |expected| InputError::WrongType { path: path.to_owned(), expected };
    match (kind, value) {
        (ShapeType::Boolean, Value::Bool(b)) => Ok(b.to_string()),
        (ShapeType::Boolean, _) => Err(wrong("a boolean")),
        (
            ShapeType::Integer | ShapeType::Long | ShapeType::Short | ShapeType::Byte,
            Value::Number(n),
        ) if n.is_i64() || n.is_u64() => Ok(n.to_string()),
        (ShapeType::Integer | ShapeType::Long | ShapeType::Short | ShapeType::Byte, _) => {
            Err(wrong("an integer"))
        }
        (ShapeType::Float | ShapeType::Double, Value::Number(n)) => Ok(n.to_string()),
        (ShapeType::Float | ShapeType::Double, _) => Err(wrong("a number")),
        (ShapeType::Timestamp, Value::Number(n)) => {
            let secs = n.as_f64().ok_or_else(|| wrong("a timestamp"))?;
            DateTime::from_secs_f64(secs).fmt(Format::DateTime).map_err(|_| wrong("a timestamp"))
        }
        (ShapeType::Timestamp, Value::String(s)) => DateTime::from_str(s, Format::DateTime)
            .ok()
            .and_then(|t| t.fmt(Format::DateTime).ok())
            .ok_or_else(|| wrong("an ISO-8601 timestamp or epoch seconds")),
        (ShapeType::Timestamp, _) => Err(wrong("a timestamp")),
        (ShapeType::Blob, Value::String(s)) => {
            use base64::Engine;
            Ok(base64::engine::general_purpose::STANDARD.encode(s.as_bytes()))
        }
        (ShapeType::Blob, _) => Err(wrong("a string")),
        (_, Value::String(s)) => Ok(s.clone()),
        _ => Err(wrong("a string")),
    }
}

/// Reads `Code`, `Message` and the request id from an XML error body of
/// any of the XML protocols.
pub(super) fn parse_error(body: &[u8]) -> ErrorBody {
    let Ok(text) = std::str::from_utf8(body) else { return ErrorBody::default() };
    let Ok(doc) = roxmltree::Document::parse(text) else { return ErrorBody::default() };
    let first = |names: &[&str]| {
        doc.descendants()
            .find(|n| n.is_element() && names.contains(&n.tag_name().name()))
            .and_then(|n| n.text())
            .map(str::to_owned)
    };
    ErrorBody {
        code: first(&["Code"]).unwrap_or_default(),
        message: first(&["Message", "message"]).unwrap_or_default(),
        request_id: first(&["RequestId", "RequestID"]),
    }
}
