//! The query and EC2 protocols' requests: a form-encoded POST of
//! `Action`, `Version` and the input flattened into dotted keys
//! (`Filter.1.Name=...`). The two dialects differ in how lists are keyed
//! (`Names.member.1` against `Name.1`) and in EC2's `queryName` and
//! capitalised location names.

use serde_json::Value;

use super::{
    InputError, Protocol, ProtocolError, WireRequest, base64, float_text, form_encode,
    time::{TimeFormat, Timestamp},
};
use crate::gateway::catalogue::{MemberRef, Operation, ServiceModel, ShapeType};

struct Writer<'a> {
    model: &'a ServiceModel,
    ec2: bool,
    pairs: Vec<(String, String)>,
}

/// Serialises `input` as a query-protocol form body.
pub(super) fn serialize(
    model: &ServiceModel,
    protocol: Protocol,
    name: &str,
    op: &Operation,
    input: &Value,
) -> Result<WireRequest, ProtocolError> {
    let mut writer = Writer {
        model,
        ec2: protocol == Protocol::Ec2,
        pairs: vec![
            ("Action".into(), name.into()),
            ("Version".into(), model.metadata.api_version.clone()),
        ],
    };
    if let Some(shape_name) = op.input_shape() {
        let top = MemberRef { shape: shape_name.to_owned(), ..Default::default() };
        writer.value(&top, input, "", "")?;
    }
    Ok(WireRequest {
        method: "POST",
        path_and_query: "/".into(),
        headers: vec![(
            "Content-Type".into(),
            "application/x-www-form-urlencoded; charset=utf-8".into(),
        )],
        body: form_encode(&writer.pairs).into_bytes(),
        host_prefix: None,
        bucket: None,
    })
}

fn capitalised(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn dotted(prefix: &str, name: &str) -> String {
    if prefix.is_empty() { name.to_owned() } else { format!("{prefix}.{name}") }
}

impl Writer<'_> {
    /// The key of a structure member: EC2's `queryName`, else the location
    /// name or the member's name (capitalised for EC2).
    fn member_key(&self, name: &str, member: &MemberRef) -> String {
        if self.ec2 {
            if let Some(q) = &member.query_name {
                return q.clone();
            }
            return capitalised(member.wire_name(name));
        }
        member.wire_name(name).to_owned()
    }

    fn value(
        &mut self,
        member: &MemberRef,
        value: &Value,
        key: &str,
        path: &str,
    ) -> Result<(), ProtocolError> {
        let model = self.model;
        let shape = model.shape(&member.shape)?;
        let wrong = |expected| InputError::WrongType { path: path.to_owned(), expected };
        match shape.kind {
            ShapeType::Structure => {
                let map = value.as_object().ok_or_else(|| wrong("an object"))?;
                for (name, m) in &shape.members {
                    let Some(v) = map.get(name).filter(|v| !v.is_null()) else { continue };
                    let sub_key = dotted(key, &self.member_key(name, m));
                    self.value(m, v, &sub_key, &super::check::join(path, name))?;
                }
            }
            ShapeType::List => {
                let items = value.as_array().ok_or_else(|| wrong("an array"))?;
                let element = shape.member.as_ref().ok_or_else(|| wrong("a list"))?;
                let list_key = if self.ec2 {
                    key.to_owned()
                } else if items.is_empty() {
                    self.pairs.push((key.to_owned(), String::new()));
                    return Ok(());
                } else if member.flattened || shape.flattened {
                    // A flattened list repeats the member's own name; a
                    // member without one takes its element's name.
                    match (&member.location_name, &element.location_name) {
                        (None, Some(name)) => match key.rsplit_once('.') {
                            Some((parent, _)) => format!("{parent}.{name}"),
                            None => name.clone(),
                        },
                        _ => key.to_owned(),
                    }
                } else {
                    format!("{key}.{}", element.location_name.as_deref().unwrap_or("member"))
                };
                for (i, item) in items.iter().enumerate() {
                    let at = format!("{path}[{i}]");
                    self.value(element, item, &format!("{list_key}.{}", i + 1), &at)?;
                }
            }
            ShapeType::Map => {
                let map = value.as_object().ok_or_else(|| wrong("an object"))?;
                let (Some(k), Some(v)) = (&shape.key, &shape.value) else {
                    return Err(wrong("a map").into());
                };
                let entries = if member.flattened || shape.flattened {
                    key.to_owned()
                } else {
                    format!("{key}.entry")
                };
                let key_name = k.location_name.as_deref().unwrap_or("key");
                let value_name = v.location_name.as_deref().unwrap_or("value");
                for (i, (name, item)) in map.iter().enumerate() {
                    let entry = format!("{entries}.{}", i + 1);
                    self.pairs.push((format!("{entry}.{key_name}"), name.clone()));
                    let at = super::check::join(path, name);
                    self.value(v, item, &format!("{entry}.{value_name}"), &at)?;
                }
            }
            kind => {
                let format =
                    member.timestamp_format.as_deref().or(shape.timestamp_format.as_deref());
                let text = scalar(kind, value, format).ok_or_else(|| wrong("a scalar"))?;
                self.pairs.push((key.to_owned(), text));
            }
        }
        Ok(())
    }
}

/// The text of a scalar in a query string or form: booleans as
/// `true`/`false`, blobs base64, timestamps ISO-8601 unless the model
/// says otherwise.
pub(super) fn scalar(kind: ShapeType, value: &Value, ts_format: Option<&str>) -> Option<String> {
    match kind {
        ShapeType::Boolean => value.as_bool().map(|b| b.to_string()),
        ShapeType::Integer | ShapeType::Long | ShapeType::Short | ShapeType::Byte => {
            value.is_number().then(|| value.to_string())
        }
        ShapeType::Float | ShapeType::Double => float_text(value),
        ShapeType::Timestamp => Timestamp::from_input(value)
            .map(|t| t.to_text(TimeFormat::named(ts_format, TimeFormat::Iso8601))),
        ShapeType::Blob => value.as_str().map(|s| base64(s.as_bytes())),
        ShapeType::String => value.as_str().map(str::to_owned),
        ShapeType::Structure | ShapeType::List | ShapeType::Map => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::gateway::catalogue::Catalogue;

    fn body(service: &str, operation: &str, input: Value) -> String {
        let model = Catalogue::new().service(service).unwrap();
        let wire = super::super::serialize(&model, operation, &input).unwrap();
        String::from_utf8(wire.body).unwrap()
    }

    #[test]
    fn ec2_lists_are_numbered_without_member() {
        let b = body(
            "ec2",
            "DescribeInstances",
            json!({"Filters": [{"Name": "tag:a b", "Values": ["x/y"]}], "MaxResults": 5}),
        );
        assert_eq!(
            b,
            "Action=DescribeInstances&Version=2016-11-15&Filter.1.Name=tag%3Aa%20b\
             &Filter.1.Value.1=x%2Fy&MaxResults=5"
        );
    }

    #[test]
    fn query_lists_use_member() {
        let b = body("iam", "ListRoles", json!({"PathPrefix": "/", "MaxItems": 10}));
        assert_eq!(b, "Action=ListRoles&Version=2010-05-08&MaxItems=10&PathPrefix=%2F");
        let b = body(
            "rds",
            "DescribeDBInstances",
            json!({"Filters": [{"Name": "engine", "Values": ["mysql"]}]}),
        );
        assert_eq!(
            b,
            "Action=DescribeDBInstances&Version=2014-10-31&Filters.Filter.1.Name=engine\
             &Filters.Filter.1.Values.Value.1=mysql"
        );
    }
}
