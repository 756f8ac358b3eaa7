//! Checks a JSON input against its shape before any protocol sees it: an
//! unknown member, a value of the wrong type or a missing required member
//! is a typed [`InputError`] naming its path (`Filters[0].Nmae`). A `null`
//! member counts as absent. The serialisers rely on this check and so
//! never meet a value that does not fit.

use serde_json::Value;

use super::{InputError, ProtocolError, float_text, time::Timestamp};
use crate::gateway::catalogue::{Operation, ServiceModel, Shape, ShapeType};

/// Checks an operation's whole input.
pub(super) fn input(
    model: &ServiceModel,
    op: &Operation,
    input: &Value,
) -> Result<(), ProtocolError> {
    let Some(shape_name) = op.input_shape() else {
        return match input {
            Value::Null => Ok(()),
            Value::Object(map) => match map.iter().find(|(_, v)| !v.is_null()) {
                Some((name, _)) => Err(InputError::UnknownMember { path: name.clone() }.into()),
                None => Ok(()),
            },
            _ => Err(InputError::NotAnObject.into()),
        };
    };
    let shape = model.shape(shape_name)?;
    match input {
        Value::Null => value(model, shape, &Value::Object(Default::default()), ""),
        Value::Object(_) => value(model, shape, input, ""),
        _ => Err(InputError::NotAnObject.into()),
    }
}

/// `parent.name`, or `name` at the top.
pub(super) fn join(parent: &str, name: &str) -> String {
    if parent.is_empty() { name.to_owned() } else { format!("{parent}.{name}") }
}

fn wrong(path: &str, expected: &'static str) -> ProtocolError {
    InputError::WrongType {
        path: if path.is_empty() { "input".into() } else { path.into() },
        expected,
    }
    .into()
}

fn value(model: &ServiceModel, shape: &Shape, v: &Value, path: &str) -> Result<(), ProtocolError> {
    if shape.document {
        return Ok(());
    }
    match shape.kind {
        ShapeType::Structure => {
            let map = v.as_object().ok_or_else(|| wrong(path, "an object"))?;
            let mut set = 0;
            for (name, item) in map {
                let member = shape
                    .members
                    .get(name)
                    .ok_or_else(|| InputError::UnknownMember { path: join(path, name) })?;
                if item.is_null() {
                    continue;
                }
                set += 1;
                if member.jsonvalue {
                    continue;
                }
                value(model, model.shape(&member.shape)?, item, &join(path, name))?;
            }
            // Idempotency tokens are the SDK's to fill, for writes only.
            let missing = shape.required.iter().find(|r| {
                map.get(r.as_str()).is_none_or(Value::is_null)
                    && !shape.members.get(r.as_str()).is_some_and(|m| m.idempotency_token)
            });
            if let Some(missing) = missing {
                return Err(InputError::MissingRequired { path: join(path, missing) }.into());
            }
            if shape.union && set > 1 {
                return Err(wrong(path, "exactly one member of the union"));
            }
        }
        ShapeType::List => {
            let items = v.as_array().ok_or_else(|| wrong(path, "an array"))?;
            let element = shape.member.as_ref().ok_or_else(|| damaged(model, path))?;
            let element_shape = model.shape(&element.shape)?;
            for (i, item) in items.iter().enumerate() {
                let at = format!("{path}[{i}]");
                if item.is_null() {
                    if shape.sparse {
                        continue;
                    }
                    return Err(wrong(&at, "a value, not null"));
                }
                value(model, element_shape, item, &at)?;
            }
        }
        ShapeType::Map => {
            let map = v.as_object().ok_or_else(|| wrong(path, "an object"))?;
            let value_ref = shape.value.as_ref().ok_or_else(|| damaged(model, path))?;
            let value_shape = model.shape(&value_ref.shape)?;
            for (key, item) in map {
                let at = join(path, key);
                if item.is_null() {
                    if shape.sparse {
                        continue;
                    }
                    return Err(wrong(&at, "a value, not null"));
                }
                value(model, value_shape, item, &at)?;
            }
        }
        ShapeType::String => {
            v.as_str().ok_or_else(|| wrong(path, "a string"))?;
        }
        ShapeType::Boolean => {
            v.as_bool().ok_or_else(|| wrong(path, "a boolean"))?;
        }
        ShapeType::Integer | ShapeType::Long | ShapeType::Short | ShapeType::Byte => {
            if !(v.is_i64() || v.is_u64()) {
                return Err(wrong(path, "an integer"));
            }
        }
        ShapeType::Float | ShapeType::Double => {
            float_text(v).ok_or_else(|| wrong(path, "a number"))?;
        }
        ShapeType::Timestamp => {
            Timestamp::from_input(v)
                .ok_or_else(|| wrong(path, "an ISO-8601 timestamp or epoch seconds"))?;
        }
        ShapeType::Blob => {
            v.as_str().ok_or_else(|| wrong(path, "a string"))?;
        }
    }
    Ok(())
}

fn damaged(model: &ServiceModel, path: &str) -> ProtocolError {
    ProtocolError::Model {
        service: model.service.clone(),
        message: format!("the shape at {path} lacks its element shapes"),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::gateway::catalogue::Catalogue;

    fn check(operation: &str, input: Value) -> Result<(), ProtocolError> {
        let ec2 = Catalogue::new().service("ec2").unwrap();
        let op = ec2.operation(operation).unwrap();
        super::input(&ec2, op, &input)
    }

    #[test]
    fn a_misspelt_nested_member_is_named_by_its_path() {
        let err = check("DescribeInstances", json!({"Filters": [{"Nmae": "x"}]})).unwrap_err();
        assert_eq!(err.to_string(), "Filters[0].Nmae: no such member in the input shape");
    }

    #[test]
    fn wrong_types_and_missing_members_are_named() {
        let err = check("DescribeInstances", json!({"MaxResults": "5"})).unwrap_err();
        assert_eq!(err.to_string(), "MaxResults: expected an integer");
        let err = check("DescribeInstances", json!({"Filters": [{"Values": [1]}]})).unwrap_err();
        assert_eq!(err.to_string(), "Filters[0].Values[0]: expected a string");
        let err = check("DescribeInstanceAttribute", json!({"Attribute": "kernel"})).unwrap_err();
        assert_eq!(err.to_string(), "InstanceId: required member is missing");
        assert!(matches!(
            check("DescribeInstances", json!([1])),
            Err(ProtocolError::Input(InputError::NotAnObject))
        ));
    }

    #[test]
    fn event_streams_are_refused_as_unsupported() {
        let lambda = Catalogue::new().service("lambda").unwrap();
        let input = json!({"FunctionName": "f"});
        let err = super::super::serialize(&lambda, "InvokeWithResponseStream", &input);
        assert!(matches!(err, Err(ProtocolError::UnsupportedFeature { .. })), "{err:?}");
    }

    #[test]
    fn nulls_are_absent_and_times_take_two_forms() {
        check("DescribeInstances", json!({"Filters": null, "MaxResults": 5})).unwrap();
        let spot = |t: Value| check("DescribeSpotPriceHistory", json!({"StartTime": t}));
        spot(json!("2024-01-02T03:04:05Z")).unwrap();
        spot(json!(1704164645)).unwrap();
        assert!(spot(json!("last tuesday")).is_err());
    }
}
