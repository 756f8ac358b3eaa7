//! JSON documents on the wire: the awsJson 1.0 and 1.1 protocols (a POST
//! to `/` naming the operation in `X-Amz-Target`), and the JSON bodies
//! that REST-JSON shares with them. Members go by their location names on
//! the wire and by their model names in the host's JSON; timestamps are
//! epoch seconds unless the model says otherwise; blobs are base64.

use serde_json::{Map, Value};

use super::{
    ErrorBody, ProtocolError, WireRequest, WireResponse, base64, float_text, float_value,
    time::{TimeFormat, Timestamp},
};
use crate::gateway::catalogue::{MemberRef, Operation, ServiceModel, Shape, ShapeType};

/// Serialises an awsJson request.
pub(super) fn serialize_rpc(
    model: &ServiceModel,
    name: &str,
    op: &Operation,
    input: &Value,
) -> Result<WireRequest, ProtocolError> {
    let body = match op.input_shape() {
        Some(shape_name) => write(model, model.shape(shape_name)?, None, input)?,
        None => Value::Object(Map::new()),
    };
    let version = model.metadata.json_version.as_deref().unwrap_or("1.0");
    let mut headers =
        vec![("Content-Type".to_owned(), format!("application/x-amz-json-{version}"))];
    if let Some(prefix) = &model.metadata.target_prefix {
        headers.push(("X-Amz-Target".to_owned(), format!("{prefix}.{name}")));
    }
    Ok(WireRequest {
        method: "POST",
        path_and_query: "/".into(),
        headers,
        body: to_bytes(&body),
        host_prefix: None,
        bucket: None,
    })
}

pub(super) fn to_bytes(value: &Value) -> Vec<u8> {
    // Serialising a Value into memory cannot fail.
    serde_json::to_vec(value).unwrap_or_default()
}

/// The wire JSON of a checked input value of `shape`.
pub(super) fn write(
    model: &ServiceModel,
    shape: &Shape,
    ts_format: Option<&str>,
    value: &Value,
) -> Result<Value, ProtocolError> {
    if shape.document {
        return Ok(value.clone());
    }
    Ok(match (shape.kind, value) {
        (ShapeType::Structure, Value::Object(map)) => {
            let mut out = Map::new();
            for (name, member) in &shape.members {
                let Some(v) = map.get(name).filter(|v| !v.is_null()) else { continue };
                if member.location.is_some() {
                    // Bound to the URI, query string or headers instead.
                    continue;
                }
                out.insert(member.wire_name(name).to_owned(), write_member(model, member, v)?);
            }
            Value::Object(out)
        }
        (ShapeType::List, Value::Array(items)) => {
            let element = shape.member.as_ref().map(|m| m.shape.as_str()).unwrap_or_default();
            let element_shape = model.shape(element)?;
            let format = shape.member.as_ref().and_then(|m| m.timestamp_format.as_deref());
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                if item.is_null() {
                    out.push(Value::Null);
                } else {
                    out.push(write(model, element_shape, format, item)?);
                }
            }
            Value::Array(out)
        }
        (ShapeType::Map, Value::Object(map)) => {
            let value_ref = shape.value.as_ref().map(|m| m.shape.as_str()).unwrap_or_default();
            let value_shape = model.shape(value_ref)?;
            let mut out = Map::new();
            for (k, v) in map {
                let item =
                    if v.is_null() { Value::Null } else { write(model, value_shape, None, v)? };
                out.insert(k.clone(), item);
            }
            Value::Object(out)
        }
        (ShapeType::Timestamp, v) => {
            let format = TimeFormat::named(
                ts_format.or(shape.timestamp_format.as_deref()),
                TimeFormat::EpochSeconds,
            );
            match Timestamp::from_input(v) {
                Some(t) if format == TimeFormat::EpochSeconds => t.to_epoch_number(),
                Some(t) => Value::String(t.to_text(format)),
                None => Value::Null,
            }
        }
        (ShapeType::Blob, Value::String(s)) => Value::String(base64(s.as_bytes())),
        (ShapeType::Float | ShapeType::Double, Value::String(_)) => {
            float_text(value).map(Value::String).unwrap_or(Value::Null)
        }
        (_, v) => v.clone(),
    })
}

fn write_member(
    model: &ServiceModel,
    member: &MemberRef,
    value: &Value,
) -> Result<Value, ProtocolError> {
    if member.jsonvalue && !value.is_string() {
        return Ok(Value::String(value.to_string()));
    }
    write(model, model.shape(&member.shape)?, member.timestamp_format.as_deref(), value)
}

/// Parses a JSON body, empty meaning `{}`.
pub(super) fn document(model: &ServiceModel, body: &[u8]) -> Result<Value, ProtocolError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Map::new()));
    }
    serde_json::from_slice(body).map_err(|e| ProtocolError::Response {
        service: model.service.clone(),
        message: format!("the body is not JSON: {e}"),
    })
}

/// Parses an awsJson answer.
pub(super) fn parse_rpc(
    model: &ServiceModel,
    op: &Operation,
    response: &WireResponse,
) -> Result<Value, ProtocolError> {
    let Some(shape_name) = op.output_shape() else { return Ok(Value::Object(Map::new())) };
    let doc = document(model, &response.body)?;
    read(model, model.shape(shape_name)?, None, &doc)
}

/// The host's JSON of a wire value of `shape`: model member names, lists
/// as arrays, timestamps ISO-8601, nulls dropped (kept in sparse lists and
/// maps).
pub(super) fn read(
    model: &ServiceModel,
    shape: &Shape,
    ts_format: Option<&str>,
    value: &Value,
) -> Result<Value, ProtocolError> {
    if shape.document {
        return Ok(value.clone());
    }
    Ok(match (shape.kind, value) {
        (ShapeType::Structure, Value::Object(map)) => {
            let mut out = Map::new();
            for (name, member) in &shape.members {
                if super::bound_in_response(member) {
                    continue;
                }
                let Some(v) = map.get(member.wire_name(name)).filter(|v| !v.is_null()) else {
                    continue;
                };
                let target = model.shape(&member.shape)?;
                out.insert(
                    name.clone(),
                    read(model, target, member.timestamp_format.as_deref(), v)?,
                );
            }
            Value::Object(out)
        }
        (ShapeType::List, Value::Array(items)) => {
            let element = shape.member.as_ref().map(|m| m.shape.as_str()).unwrap_or_default();
            let element_shape = model.shape(element)?;
            let format = shape.member.as_ref().and_then(|m| m.timestamp_format.as_deref());
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                if item.is_null() {
                    if shape.sparse {
                        out.push(Value::Null);
                    }
                    continue;
                }
                out.push(read(model, element_shape, format, item)?);
            }
            Value::Array(out)
        }
        (ShapeType::Map, Value::Object(map)) => {
            let value_ref = shape.value.as_ref().map(|m| m.shape.as_str()).unwrap_or_default();
            let value_shape = model.shape(value_ref)?;
            let mut out = Map::new();
            for (k, v) in map {
                if v.is_null() {
                    if shape.sparse {
                        out.insert(k.clone(), Value::Null);
                    }
                    continue;
                }
                out.insert(k.clone(), read(model, value_shape, None, v)?);
            }
            Value::Object(out)
        }
        (ShapeType::Timestamp, v) => {
            let hint = TimeFormat::named(
                ts_format.or(shape.timestamp_format.as_deref()),
                TimeFormat::EpochSeconds,
            );
            let parsed = match v {
                Value::Number(n) => n.as_f64().and_then(Timestamp::from_epoch),
                Value::String(s) => Timestamp::parse_any(s, hint),
                _ => None,
            };
            parsed.map(|t| Value::String(t.to_iso8601())).unwrap_or_else(|| v.clone())
        }
        (ShapeType::Float | ShapeType::Double, Value::String(s)) => {
            float_value(s).unwrap_or_else(|| value.clone())
        }
        (_, v) => v.clone(),
    })
}

/// Reads code, message and request id from a JSON error: the
/// `x-amzn-errortype` header, else `__type` or `code` in the body, with any
/// `namespace#` prefix and `:uri` suffix removed; query-compatible services
/// give their historic code in `x-amzn-query-error`.
pub(super) fn parse_error(model: &ServiceModel, response: &WireResponse) -> ErrorBody {
    let body = document(model, &response.body).unwrap_or(Value::Null);
    let text = |keys: &[&str]| keys.iter().find_map(|k| body.get(*k).and_then(Value::as_str));
    let raw = response.header("x-amzn-errortype").or_else(|| text(&["__type", "code", "Code"]));
    let mut code = raw.map(sanitize_code).unwrap_or_default();
    if let Some((legacy, _fault)) =
        response.header("x-amzn-query-error").and_then(|q| q.split_once(';'))
        && !legacy.is_empty()
    {
        code = legacy.to_owned();
    }
    ErrorBody {
        code,
        message: text(&["message", "Message", "errorMessage"]).unwrap_or_default().to_owned(),
        request_id: None,
    }
}

/// `aws.protocoltests#FooError:http://...` to `FooError`.
pub(super) fn sanitize_code(raw: &str) -> String {
    let code = raw.split(':').next().unwrap_or(raw);
    let code = code.rsplit('#').next().unwrap_or(code);
    code.trim().to_owned()
}

/// The modelled members of an awsJson error.
pub(super) fn parse_error_members(
    model: &ServiceModel,
    error_shape: &str,
    response: &WireResponse,
) -> Result<Value, ProtocolError> {
    let doc = document(model, &response.body)?;
    read(model, model.shape(error_shape)?, None, &doc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::catalogue::Catalogue;

    fn error(headers: &[(&str, &str)], body: &str) -> ErrorBody {
        let model = Catalogue::new().service("dynamodb").unwrap();
        let response = WireResponse {
            status: 400,
            headers: headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            body: body.as_bytes().to_vec(),
        };
        super::super::parse_error(&model, &response)
    }

    #[test]
    fn json_error_codes_lose_namespace_and_uri_from_body_or_header() {
        let body = r#"{"__type": "com.amazonaws.dynamodb.v20120810#ThrottlingException",
            "message": "slow"}"#;
        let e = error(&[("x-amzn-RequestId", "req-1")], body);
        assert_eq!((e.code.as_str(), e.message.as_str()), ("ThrottlingException", "slow"));
        assert_eq!(e.request_id.as_deref(), Some("req-1"));
        let e = error(
            &[("X-Amzn-Errortype", "AccessDeniedException:http://internal.amazon.com/coral/")],
            r#"{"Message": "no"}"#,
        );
        assert_eq!((e.code.as_str(), e.message.as_str()), ("AccessDeniedException", "no"));
        let e = error(
            &[("x-amzn-query-error", "AWS.SimpleQueueService.NonExistentQueue;Sender")],
            r#"{"__type": "com.amazonaws.sqs#QueueDoesNotExist"}"#,
        );
        assert_eq!(e.code, "AWS.SimpleQueueService.NonExistentQueue");
        assert_eq!(error(&[], "not json").code, "");
    }
}
