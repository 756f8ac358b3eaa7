//! The EC2 protocol: a form-encoded POST whose keys flatten the input
//! (`Filter.1.Name=...`), and an XML answer whose lists are wrapped in
//! `<item>` elements.

use serde_json::Value;

use super::{InputError, ProtocolError, WireRequest, xml};
use crate::gateway::catalogue::{MemberRef, Operation, ServiceModel, ShapeType};

/// Serialises `input` as the EC2 protocol's form body.
pub(super) fn serialize(
    model: &ServiceModel,
    name: &str,
    op: &Operation,
    input: &Value,
) -> Result<WireRequest, ProtocolError> {
    let mut pairs: Vec<(String, String)> = vec![
        ("Action".into(), name.into()),
        ("Version".into(), model.metadata.api_version.clone()),
    ];
    let object = match input {
        Value::Object(map) => map,
        Value::Null => &serde_json::Map::new(),
        _ => return Err(InputError::NotAnObject.into()),
    };
    if let Some(shape_name) = &op.input {
        let shape = model.shape(shape_name)?;
        for (member_name, value) in object {
            let member = shape
                .members
                .get(member_name)
                .ok_or_else(|| InputError::UnknownMember { path: member_name.clone() })?;
            let key = query_key(member_name, member);
            write_value(model, member, value, &key, member_name, &mut pairs)?;
        }
    } else if !object.is_empty() {
        let path = object.keys().next().cloned().unwrap_or_default();
        return Err(InputError::UnknownMember { path }.into());
    }
    let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
    Ok(WireRequest {
        method: "POST",
        path_and_query: "/".into(),
        headers: vec![(
            "content-type".into(),
            "application/x-www-form-urlencoded; charset=utf-8".into(),
        )],
        body: body.into_bytes(),
    })
}

/// The EC2 key of a member: its `queryName`, else its `locationName` with
/// the first letter upper-cased, else its name.
fn query_key(name: &str, member: &MemberRef) -> String {
    if let Some(q) = &member.query_name {
        return q.clone();
    }
    let base = member.location_name.as_deref().unwrap_or(name);
    let mut chars = base.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn write_value(
    model: &ServiceModel,
    member: &MemberRef,
    value: &Value,
    key: &str,
    path: &str,
    out: &mut Vec<(String, String)>,
) -> Result<(), ProtocolError> {
    let shape = model.shape(&member.shape)?;
    let wrong = |expected| InputError::WrongType { path: path.to_owned(), expected };
    match shape.kind {
        ShapeType::Structure => {
            let map = value.as_object().ok_or_else(|| wrong("an object"))?;
            for (name, v) in map {
                let inner = shape
                    .members
                    .get(name)
                    .ok_or_else(|| InputError::UnknownMember { path: format!("{path}.{name}") })?;
                let sub_key = format!("{key}.{}", query_key(name, inner));
                write_value(model, inner, v, &sub_key, &format!("{path}.{name}"), out)?;
            }
        }
        ShapeType::List => {
            let items = value.as_array().ok_or_else(|| wrong("an array"))?;
            let element =
                shape.member.as_ref().ok_or_else(|| wrong("a list with a member shape"))?;
            for (i, item) in items.iter().enumerate() {
                write_value(
                    model,
                    element,
                    item,
                    &format!("{key}.{}", i + 1),
                    &format!("{path}[{i}]"),
                    out,
                )?;
            }
        }
        ShapeType::Map => {
            let map = value.as_object().ok_or_else(|| wrong("an object"))?;
            let (Some(k), Some(v)) = (&shape.key, &shape.value) else {
                return Err(wrong("a map with key and value shapes").into());
            };
            for (i, (name, item)) in map.iter().enumerate() {
                let entry = format!("{key}.{}", i + 1);
                out.push((
                    format!("{entry}.{}", k.location_name.as_deref().unwrap_or("Key")),
                    name.clone(),
                ));
                let value_key =
                    format!("{entry}.{}", v.location_name.as_deref().unwrap_or("Value"));
                write_value(model, v, item, &value_key, &format!("{path}.{name}"), out)?;
            }
        }
        _ => out.push((key.to_owned(), xml::scalar_text(shape.kind, value, path)?)),
    }
    Ok(())
}

/// Parses an EC2 answer: the root element's children are the output's
/// members.
pub(super) fn parse_output(
    model: &ServiceModel,
    op: &Operation,
    body: &[u8],
) -> Result<Value, ProtocolError> {
    let Some(shape_name) = &op.output else { return Ok(Value::Object(Default::default())) };
    let text = std::str::from_utf8(body).map_err(|e| ProtocolError::Response {
        service: model.service.clone(),
        message: e.to_string(),
    })?;
    let doc = roxmltree::Document::parse(text).map_err(|e| ProtocolError::Response {
        service: model.service.clone(),
        message: e.to_string(),
    })?;
    xml::structure_from(model, shape_name, doc.root_element())
}
