//! The REST protocols (REST-JSON and REST-XML). The model binds each input
//! member to a part of the request: a `{Label}` of the URI template
//! (`{Key+}` keeping its slashes), the query string, a header, a family
//! of prefixed headers, or the body, which is either the one `payload`
//! member or a JSON object / XML element of the unbound members. Answers
//! bind members the same way, plus the status code.

use serde_json::{Map, Value};

use super::{
    InputError, Protocol, ProtocolError, WireRequest, WireResponse, base64, float_text,
    float_value, json, method, percent_encode,
    time::{TimeFormat, Timestamp},
    xml,
};
use crate::gateway::catalogue::{MemberRef, Operation, ServiceModel, Shape, ShapeType};

/// Serialises a REST request.
pub(super) fn serialize(
    model: &ServiceModel,
    protocol: Protocol,
    _name: &str,
    op: &Operation,
    input: &Value,
) -> Result<WireRequest, ProtocolError> {
    let method = method(model, op, "POST")?;
    let template = op.http.request_uri.as_deref().unwrap_or("/");
    let (path_template, constant_query) = match template.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (template, None),
    };
    let empty = Map::new();
    let values = input.as_object().unwrap_or(&empty);
    let shape = op.input_shape().map(|s| model.shape(s)).transpose()?;
    let members: Vec<(&String, &MemberRef, &Value)> = shape
        .map(|s| {
            s.members
                .iter()
                .filter_map(|(n, m)| values.get(n).filter(|v| !v.is_null()).map(|v| (n, m, v)))
                .collect()
        })
        .unwrap_or_default();

    let (path, bucket) = expand_path(model, path_template, shape, values)?;

    let mut query: Vec<String> = constant_query
        .map(|q| q.split('&').filter(|p| !p.is_empty()).map(str::to_owned).collect())
        .unwrap_or_default();
    let mut named: Vec<&str> = query.iter().map(|p| p.split('=').next().unwrap_or("")).collect();
    let mut variable: Vec<(String, String)> = Vec::new();
    let mut headers: Vec<(String, String)> = Vec::new();
    for (name, member, value) in &members {
        let target = model.shape(&member.shape)?;
        match member.location.as_deref() {
            Some("querystring") if target.kind != ShapeType::Map => {
                let key = member.wire_name(name);
                named.push(key);
                for text in texts(model, member, target, value, TimeFormat::Iso8601)? {
                    variable.push((key.to_owned(), text));
                }
            }
            Some("header") => {
                if let Some(text) = header_text(model, member, target, value)? {
                    headers.push((member.wire_name(name).to_owned(), text));
                }
            }
            Some("headers") => {
                let prefix = member.location_name.as_deref().unwrap_or("");
                let value_ref = target.value.clone().unwrap_or_default();
                let value_shape = model.shape(&value_ref.shape)?;
                for (k, v) in value.as_object().into_iter().flatten() {
                    if let Some(text) = header_text(model, &value_ref, value_shape, v)? {
                        headers.push((format!("{prefix}{k}"), text));
                    }
                }
            }
            _ => {}
        }
    }
    // A map bound to the query string fills in the names no member took.
    for (_, member, value) in &members {
        let target = model.shape(&member.shape)?;
        if member.location.as_deref() != Some("querystring") || target.kind != ShapeType::Map {
            continue;
        }
        let value_ref = target.value.clone().unwrap_or_default();
        let value_shape = model.shape(&value_ref.shape)?;
        for (k, v) in value.as_object().into_iter().flatten() {
            if named.contains(&k.as_str()) {
                continue;
            }
            for text in texts(model, &value_ref, value_shape, v, TimeFormat::Iso8601)? {
                variable.push((k.clone(), text));
            }
        }
    }
    query.extend(
        variable
            .iter()
            .map(|(k, v)| format!("{}={}", percent_encode(k, false), percent_encode(v, false))),
    );

    let (body, content_type) = body(model, protocol, op, shape, values)?;
    if let Some(ct) = content_type
        && !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
    {
        headers.push(("Content-Type".into(), ct.into()));
    }
    let mut path_and_query = path;
    if !query.is_empty() {
        path_and_query.push('?');
        path_and_query.push_str(&query.join("&"));
    }
    Ok(WireRequest { method, path_and_query, headers, body, host_prefix: None, bucket })
}

/// Fills the URI template's labels; returns the path and, when the path
/// starts with a `{Bucket}` label, the bucket.
fn expand_path(
    model: &ServiceModel,
    template: &str,
    shape: Option<&Shape>,
    values: &Map<String, Value>,
) -> Result<(String, Option<String>), ProtocolError> {
    let mut path = String::with_capacity(template.len() + 32);
    let mut bucket = None;
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        path.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let close = after.find('}').ok_or_else(|| ProtocolError::Model {
            service: model.service.clone(),
            message: format!("unclosed label in {template}"),
        })?;
        let label = &after[..close];
        let (label, greedy) = match label.strip_suffix('+') {
            Some(l) => (l, true),
            None => (label, false),
        };
        let found = shape.and_then(|s| {
            s.members
                .iter()
                .find(|(n, m)| m.location.as_deref() == Some("uri") && m.wire_name(n) == label)
        });
        let Some((name, member)) = found else {
            return Err(ProtocolError::Model {
                service: model.service.clone(),
                message: format!("no member fills the label {{{label}}} of {template}"),
            });
        };
        let value = values
            .get(name)
            .filter(|v| !v.is_null())
            .ok_or_else(|| InputError::MissingRequired { path: name.clone() })?;
        let target = model.shape(&member.shape)?;
        let text = texts(model, member, target, value, TimeFormat::Iso8601)?
            .into_iter()
            .next()
            .unwrap_or_default();
        if text.is_empty() {
            return Err(InputError::EmptyLabel { path: name.clone() }.into());
        }
        // A dot segment is resolved away by URL normalisation, here or at
        // AWS, and would turn the validated operation into another one.
        let segments: Vec<&str> = if greedy { text.split('/').collect() } else { vec![&text] };
        if segments.iter().any(|s| *s == "." || *s == "..") {
            return Err(InputError::DotSegment { path: name.clone() }.into());
        }
        if label == "Bucket" && !greedy && path == "/" {
            bucket = Some(text.clone());
        }
        path.push_str(&percent_encode(&text, greedy));
        rest = &after[close + 1..];
    }
    path.push_str(rest);
    Ok((path, bucket))
}

/// The texts of a value bound to a label or the query string: one per
/// list element, else one.
fn texts(
    model: &ServiceModel,
    member: &MemberRef,
    shape: &Shape,
    value: &Value,
    default_time: TimeFormat,
) -> Result<Vec<String>, ProtocolError> {
    if shape.kind == ShapeType::List {
        let element = shape.member.clone().unwrap_or_default();
        let element_shape = model.shape(&element.shape)?;
        let mut out = Vec::new();
        for item in value.as_array().into_iter().flatten() {
            out.extend(texts(model, &element, element_shape, item, default_time)?);
        }
        return Ok(out);
    }
    Ok(scalar_text(member, shape, value, default_time).into_iter().collect())
}

fn scalar_text(
    member: &MemberRef,
    shape: &Shape,
    value: &Value,
    default_time: TimeFormat,
) -> Option<String> {
    match shape.kind {
        ShapeType::Timestamp => {
            let format = TimeFormat::named(
                member.timestamp_format.as_deref().or(shape.timestamp_format.as_deref()),
                default_time,
            );
            Timestamp::from_input(value).map(|t| t.to_text(format))
        }
        ShapeType::Float | ShapeType::Double => float_text(value),
        ShapeType::Blob => value.as_str().map(|s| base64(s.as_bytes())),
        ShapeType::String if member.jsonvalue => Some(base64(
            value.as_str().map(str::to_owned).unwrap_or_else(|| value.to_string()).as_bytes(),
        )),
        ShapeType::Boolean
        | ShapeType::Integer
        | ShapeType::Long
        | ShapeType::Short
        | ShapeType::Byte => Some(value.to_string()),
        ShapeType::String => value.as_str().map(str::to_owned),
        ShapeType::Structure | ShapeType::List | ShapeType::Map => None,
    }
}

/// A header's text: lists comma-separated, elements quoted when they hold
/// a comma or a quote; timestamps as HTTP dates by default.
fn header_text(
    model: &ServiceModel,
    member: &MemberRef,
    shape: &Shape,
    value: &Value,
) -> Result<Option<String>, ProtocolError> {
    if shape.kind != ShapeType::List {
        return Ok(scalar_text(member, shape, value, TimeFormat::HttpDate));
    }
    let element = shape.member.clone().unwrap_or_default();
    let element_shape = model.shape(&element.shape)?;
    let mut parts = Vec::new();
    for item in value.as_array().into_iter().flatten() {
        let Some(text) = scalar_text(&element, element_shape, item, TimeFormat::HttpDate) else {
            continue;
        };
        if element_shape.kind == ShapeType::String && (text.contains(',') || text.contains('"')) {
            parts.push(format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\"")));
        } else {
            parts.push(text);
        }
    }
    Ok(Some(parts.join(", ")))
}

type Body = (Vec<u8>, Option<&'static str>);

/// The body and its content type.
fn body(
    model: &ServiceModel,
    protocol: Protocol,
    op: &Operation,
    shape: Option<&Shape>,
    values: &Map<String, Value>,
) -> Result<Body, ProtocolError> {
    let Some(shape) = shape else { return Ok((Vec::new(), None)) };
    if let Some(payload) = &shape.payload {
        let Some(member) = shape.members.get(payload) else {
            return Err(ProtocolError::Model {
                service: model.service.clone(),
                message: format!("payload member {payload} is not a member"),
            });
        };
        let target = model.shape(&member.shape)?;
        let value = values.get(payload).filter(|v| !v.is_null());
        return Ok(match (target.kind, value) {
            (ShapeType::Blob, Some(Value::String(s))) => {
                (s.as_bytes().to_vec(), Some("application/octet-stream"))
            }
            (ShapeType::String, Some(Value::String(s))) => {
                (s.as_bytes().to_vec(), Some("text/plain"))
            }
            (ShapeType::Blob | ShapeType::String, _) => (Vec::new(), None),
            (_, value) if protocol == Protocol::RestJson => {
                let doc = match value {
                    Some(v) => json::write(model, target, None, v)?,
                    None if target.document || target.union => return Ok((Vec::new(), None)),
                    None => Value::Object(Map::new()),
                };
                (json::to_bytes(&doc), Some("application/json"))
            }
            (_, Some(v)) => {
                // The root is named by the member, else by the shape.
                let mut writer = xml::XmlWriter::new(model);
                let root = member
                    .location_name
                    .as_deref()
                    .or(target.location_name.as_deref())
                    .unwrap_or(&member.shape);
                writer.element(root, member, v)?;
                (writer.finish(), Some("application/xml"))
            }
            (_, None) => (Vec::new(), None),
        });
    }
    let has_body_members = shape.members.values().any(|m| m.location.is_none());
    if !has_body_members {
        return Ok((Vec::new(), None));
    }
    if protocol == Protocol::RestJson {
        let doc = json::write(model, shape, None, &Value::Object(values.clone()))?;
        return Ok((json::to_bytes(&doc), Some("application/json")));
    }
    let any_set = shape
        .members
        .iter()
        .any(|(n, m)| m.location.is_none() && values.get(n).is_some_and(|v| !v.is_null()));
    if !any_set {
        return Ok((Vec::new(), None));
    }
    let input = op.input.clone().unwrap_or_default();
    let root = shape
        .location_name
        .clone()
        .or_else(|| input.location_name.clone())
        .unwrap_or_else(|| input.shape.clone());
    let mut writer = xml::XmlWriter::new(model);
    writer.element(&root, &input, &Value::Object(values.clone()))?;
    Ok((writer.finish(), Some("application/xml")))
}

/// Parses a REST answer: bound headers and status code, then the payload
/// or the body's members.
pub(super) fn parse(
    model: &ServiceModel,
    protocol: Protocol,
    op: &Operation,
    response: &WireResponse,
) -> Result<Value, ProtocolError> {
    let Some(shape_name) = op.output_shape() else { return Ok(Value::Object(Map::new())) };
    let shape = model.shape(shape_name)?;
    let mut out = bound_members(model, shape, response)?;
    read_body(model, protocol, shape, response, &mut out, false)?;
    Ok(Value::Object(out))
}

/// The modelled members of a REST error.
pub(super) fn parse_error_members(
    model: &ServiceModel,
    protocol: Protocol,
    error_shape: &str,
    response: &WireResponse,
) -> Result<Value, ProtocolError> {
    let shape = model.shape(error_shape)?;
    let mut out = bound_members(model, shape, response)?;
    read_body(model, protocol, shape, response, &mut out, true)?;
    Ok(Value::Object(out))
}

fn read_body(
    model: &ServiceModel,
    protocol: Protocol,
    shape: &Shape,
    response: &WireResponse,
    out: &mut Map<String, Value>,
    error: bool,
) -> Result<(), ProtocolError> {
    let blank = response.body.iter().all(u8::is_ascii_whitespace);
    if let Some(payload) = &shape.payload {
        let Some(member) = shape.members.get(payload) else { return Ok(()) };
        let target = model.shape(&member.shape)?;
        match target.kind {
            ShapeType::Blob => {
                if !response.body.is_empty() {
                    out.insert(payload.clone(), Value::String(base64(&response.body)));
                }
            }
            ShapeType::String => {
                if !response.body.is_empty() {
                    let text = response.text(&model.service)?;
                    out.insert(payload.clone(), Value::String(text.to_owned()));
                }
            }
            _ if blank => {}
            _ if protocol == Protocol::RestJson => {
                let doc = json::document(model, &response.body)?;
                out.insert(payload.clone(), json::read(model, target, None, &doc)?);
            }
            _ => {
                let text = response.text(&model.service)?;
                let doc = xml::document(model, text)?;
                out.insert(payload.clone(), xml::structure(model, target, doc.root_element())?);
            }
        }
        return Ok(());
    }
    if blank {
        return Ok(());
    }
    let members = if protocol == Protocol::RestJson {
        let doc = json::document(model, &response.body)?;
        json::read(model, shape, None, &doc)?
    } else {
        let text = response.text(&model.service)?;
        let doc = xml::document(model, text)?;
        let root = doc.root_element();
        let node = if error {
            root.descendants()
                .find(|n| n.is_element() && n.tag_name().name() == "Error")
                .unwrap_or(root)
        } else {
            root
        };
        xml::structure(model, shape, node)?
    };
    if let Value::Object(map) = members {
        out.extend(map);
    }
    Ok(())
}

/// Members bound to headers, prefixed headers and the status code.
fn bound_members(
    model: &ServiceModel,
    shape: &Shape,
    response: &WireResponse,
) -> Result<Map<String, Value>, ProtocolError> {
    let mut out = Map::new();
    for (name, member) in &shape.members {
        let target = model.shape(&member.shape)?;
        match member.location.as_deref() {
            Some("statusCode") => {
                out.insert(name.clone(), Value::Number(response.status.into()));
            }
            Some("header") => {
                if let Some(text) = response.header(member.wire_name(name)) {
                    out.insert(name.clone(), header_value(model, member, target, text)?);
                }
            }
            Some("headers") => {
                let prefix = member.location_name.as_deref().unwrap_or("");
                let value_ref = target.value.clone().unwrap_or_default();
                let value_shape = model.shape(&value_ref.shape)?;
                let mut map = Map::new();
                for (k, v) in &response.headers {
                    let matches = k.len() >= prefix.len()
                        && k.is_char_boundary(prefix.len())
                        && k[..prefix.len()].eq_ignore_ascii_case(prefix);
                    if matches {
                        let key = k[prefix.len()..].to_owned();
                        map.insert(key, header_value(model, &value_ref, value_shape, v)?);
                    }
                }
                out.insert(name.clone(), Value::Object(map));
            }
            _ => {}
        }
    }
    Ok(out)
}

/// Splits a list header at commas outside quotes, unquoting elements.
fn split_header_list(text: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut escaped = false;
    for c in text.chars() {
        match c {
            _ if escaped => {
                current.push(c);
                escaped = false;
            }
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ',' if !quoted => items.push(std::mem::take(&mut current).trim().to_owned()),
            c => current.push(c),
        }
    }
    items.push(current.trim().to_owned());
    items
}

fn header_value(
    model: &ServiceModel,
    member: &MemberRef,
    shape: &Shape,
    text: &str,
) -> Result<Value, ProtocolError> {
    if shape.kind == ShapeType::List {
        let element = shape.member.clone().unwrap_or_default();
        let element_shape = model.shape(&element.shape)?;
        let format = TimeFormat::named(
            element.timestamp_format.as_deref().or(element_shape.timestamp_format.as_deref()),
            TimeFormat::HttpDate,
        );
        let mut parts = split_header_list(text);
        if element_shape.kind == ShapeType::Timestamp && format == TimeFormat::HttpDate {
            // `Mon, 16 Dec 2019 23:48:18 GMT` holds a comma of its own.
            parts = parts.chunks(2).map(|pair| pair.join(", ")).collect();
        }
        let mut items = Vec::with_capacity(parts.len());
        for part in parts {
            items.push(header_value(model, &element, element_shape, &part)?);
        }
        return Ok(Value::Array(items));
    }
    Ok(match shape.kind {
        ShapeType::String if member.jsonvalue => {
            // A JSON document sent base64-encoded; the member is a string.
            use base64::Engine;
            base64::engine::general_purpose::STANDARD
                .decode(text.trim())
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .map(Value::String)
                .unwrap_or_else(|| Value::String(text.to_owned()))
        }
        ShapeType::Timestamp => {
            let format = TimeFormat::named(
                member.timestamp_format.as_deref().or(shape.timestamp_format.as_deref()),
                TimeFormat::HttpDate,
            );
            Value::String(
                Timestamp::parse_any(text, format)
                    .map(Timestamp::to_iso8601)
                    .unwrap_or_else(|| text.to_owned()),
            )
        }
        ShapeType::Float | ShapeType::Double => {
            float_value(text).unwrap_or_else(|| Value::String(text.to_owned()))
        }
        _ => xml::scalar(shape, None, text),
    })
}
