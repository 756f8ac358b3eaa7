//! Reading AWS output documents.
//!
//! Output documents are JSON shaped by the operation's output shape; these
//! helpers pick members out of them for record attributes without
//! repeating the same `match` in every collector.

use serde_json::Value;

/// A string member as a JSON string, or `null` when it is absent or not a
/// string.
pub fn text(value: &Value) -> Value {
    match value {
        Value::String(_) => value.clone(),
        _ => Value::Null,
    }
}

/// The items of a JSON array; nothing for anything else (`null`, a missing
/// member).
pub fn array(value: &Value) -> &[Value] {
    value.as_array().map(Vec::as_slice).unwrap_or_default()
}

/// The string member `member` of each object of the array `items`, in
/// order, skipping items without it: `strings(&lb["AvailabilityZones"],
/// "ZoneName")`. With an empty `member`, the strings of an array of
/// strings.
pub fn strings(items: &Value, member: &str) -> Vec<Value> {
    array(items)
        .iter()
        .filter_map(|item| if member.is_empty() { item.as_str() } else { item[member].as_str() })
        .map(Value::from)
        .collect()
}

/// The first object of `items` whose member `member` equals `value`, or
/// `null`: the tag description of one load balancer among a batch's,
/// `find_by(&descriptions, "LoadBalancerName", &lb["LoadBalancerName"])`.
pub fn find_by<'a>(items: &'a [Value], member: &str, value: &Value) -> &'a Value {
    const NULL: &Value = &Value::Null;
    if value.is_null() {
        return NULL;
    }
    items.iter().find(|item| &item[member] == value).unwrap_or(NULL)
}

/// An epoch time in seconds as ISO-8601 UTC (`2024-05-01T10:00:00Z`).
pub fn epoch_to_iso8601(seconds: i64) -> String {
    let days = seconds.div_euclid(86_400);
    let rest = seconds.rem_euclid(86_400);
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3_600,
        rest / 60 % 60,
        rest % 60
    )
}

/// An epoch time in seconds given as a number or as its text (SQS's
/// `CreatedTimestamp`), as ISO-8601 UTC; `None` for anything else.
pub fn epoch_value_to_iso8601(value: &Value) -> Option<String> {
    let seconds = match value {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    }?;
    Some(epoch_to_iso8601(seconds))
}

/// Whether a resource policy lets anyone in: an `Allow` statement whose
/// principal is `*` (alone, as `{"AWS": "*"}` or in such a list) and that
/// has no `Condition`. `policy` is the policy as JSON text (as SNS, SQS and
/// most services return it) or already parsed; anything unreadable is not
/// public.
pub fn policy_allows_anyone(policy: &Value) -> bool {
    let parsed;
    let policy = match policy {
        Value::String(text) => {
            parsed = serde_json::from_str::<Value>(text).unwrap_or(Value::Null);
            &parsed
        }
        other => other,
    };
    let statements = match &policy["Statement"] {
        Value::Array(list) => list.as_slice(),
        single @ Value::Object(_) => std::slice::from_ref(single),
        _ => &[],
    };
    let anyone = |principal: &Value| match principal {
        Value::String(p) => p == "*",
        Value::Array(list) => list.iter().any(|p| p == "*"),
        _ => false,
    };
    statements.iter().any(|s| {
        s["Effect"] == "Allow"
            && s.get("Condition").is_none_or(Value::is_null)
            && (anyone(&s["Principal"]) || anyone(&s["Principal"]["AWS"]))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn members_and_lists() {
        assert_eq!(text(&json!("a")), json!("a"));
        assert_eq!(text(&json!(1)), Value::Null);
        assert_eq!(text(&Value::Null), Value::Null);
        assert!(array(&json!({"a": 1})).is_empty());
        assert_eq!(array(&json!([1, 2])).len(), 2);
        let zones = json!([{"ZoneName": "a"}, {"Other": 1}, {"ZoneName": "b"}]);
        assert_eq!(strings(&zones, "ZoneName"), [json!("a"), json!("b")]);
        assert_eq!(strings(&json!(["x", 1, "y"]), ""), [json!("x"), json!("y")]);
        assert!(strings(&Value::Null, "x").is_empty());
        let found = [json!({"Name": "a", "Tags": 1}), json!({"Name": "b", "Tags": 2})];
        assert_eq!(find_by(&found, "Name", &json!("b"))["Tags"], 2);
        assert!(find_by(&found, "Name", &json!("c")).is_null());
        assert!(find_by(&[json!({})], "Name", &Value::Null).is_null());
    }

    #[test]
    fn public_policies() {
        let open =
            r#"{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sns:Publish"}]}"#;
        assert!(policy_allows_anyone(&json!(open)));
        let aws_list = json!({"Statement": {"Effect": "Allow", "Principal": {"AWS": ["x", "*"]}}});
        assert!(policy_allows_anyone(&aws_list));
        let conditional = json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"},
            "Condition": {"StringEquals": {"aws:SourceOwner": "111111111111"}}}]});
        assert!(!policy_allows_anyone(&conditional));
        let denied = json!({"Statement": [{"Effect": "Deny", "Principal": "*"}]});
        assert!(!policy_allows_anyone(&denied));
        let account = json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:root"}}]});
        assert!(!policy_allows_anyone(&account));
        assert!(!policy_allows_anyone(&json!("not json")));
        assert!(!policy_allows_anyone(&Value::Null));
    }

    #[test]
    fn epoch_times() {
        assert_eq!(epoch_to_iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(epoch_to_iso8601(1_714_557_600), "2024-05-01T10:00:00Z");
        assert_eq!(epoch_to_iso8601(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(epoch_to_iso8601(-1), "1969-12-31T23:59:59Z");
        assert_eq!(
            epoch_value_to_iso8601(&json!("1714557600")).as_deref(),
            Some("2024-05-01T10:00:00Z")
        );
        assert_eq!(
            epoch_value_to_iso8601(&json!(1714557600.5)).as_deref(),
            Some("2024-05-01T10:00:00Z")
        );
        assert_eq!(epoch_value_to_iso8601(&json!("soon")), None);
    }
}
