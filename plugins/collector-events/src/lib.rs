//! The `events` collector: the EventBridge event buses and rules of one
//! account and region.
//!
//! `ListEventBuses` lists the buses, the `default` bus among them (kept,
//! and marked `is_default`); `ListRules` is asked for each bus, since it
//! lists the default bus's rules otherwise. Every bus and rule gets a
//! `ListTagsForResource` call (a failure becomes one warning and the
//! resource is kept without tags). A bus's resource policy is reduced to
//! whether it lets anyone in. Types: `event-bus` and `rule`, whose
//! attributes are listed on the functions that build them.

use inventag_plugin_sdk::prelude::*;
use inventag_plugin_sdk::value::{policy_allows_anyone, text};
use serde_json::{Value, json};

/// The service name in the catalogue, in records and in ARNs.
const SERVICE: &str = "events";

/// The collector, registered with the host by `export_collector!`.
struct Events;

impl Collector for Events {
    fn describe() -> CollectorInfo {
        CollectorInfo {
            name: "events".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            summary: "EventBridge event buses and rules".to_string(),
            global: false,
            calls: vec![service_calls(
                SERVICE,
                &["ListEventBuses", "ListRules", "ListTagsForResource"],
            )],
            parts: ["event-bus", "rule"].map(String::from).to_vec(),
        }
    }

    fn collect(target: Target) -> Result<CollectSummary, CollectError> {
        let mut c = Collection::new(&target);
        // ListEventBuses has no paginator; 100 buses is its page size and the
        // account quota.
        let buses = json!({"Limit": 100});
        c.collect_items_with(
            "event-bus",
            SERVICE,
            "ListEventBuses",
            &buses,
            "EventBuses",
            tags,
            event_bus,
        );
        c.part("rule", collect_rules);
        c.finish()
    }
}

export_collector!(Events);

/// The tags of a bus or rule, by its `Arn`.
fn tags(c: &mut Collection, item: &Value) -> Value {
    let input = json!({"ResourceARN": item["Arn"]});
    c.detail_at("event bus and rule tags", SERVICE, "ListTagsForResource", &input, "/Tags")
}

/// The rules of every bus.
fn collect_rules(c: &mut Collection) -> Result<(), AwsError> {
    let buses: Vec<Value> = c
        .items(SERVICE, "ListEventBuses", &json!({"Limit": 100}), "EventBuses")
        .collect::<Result<_, _>>()?;
    for bus in buses {
        let input = json!({"EventBusName": bus["Name"]});
        for item in c.items(SERVICE, "ListRules", &input, "Rules") {
            let item = item?;
            let tags = tags(c, &item);
            if let Some(record) = rule(c.target(), &item, &tags) {
                c.emit(record);
            }
        }
        if c.is_stopped() {
            break;
        }
    }
    Ok(())
}

/// An event bus (`event-bus`), with the tags read for it. The id and name
/// are its name (unless a `Name` tag names it), the ARN AWS's, created-at
/// `CreationTime`; it has no state. Attributes: `is_default` (the
/// account's `default` bus), `description`, `public` (its policy lets
/// anyone in without a condition), `has_policy`, `last_modified`.
fn event_bus(target: &Target, item: &Value, tags: &Value) -> Option<Resource> {
    let record = ResourceBuilder::from_item(target, SERVICE, "event-bus", item, "Name", tags)?
        .arn(&item["Arn"])
        .created_at(&item["CreationTime"])
        .attribute("is_default", item["Name"] == "default")
        .attribute("description", text(&item["Description"]))
        .attribute("public", policy_allows_anyone(&item["Policy"]))
        .attribute("has_policy", item["Policy"].is_string())
        .attribute("last_modified", text(&item["LastModifiedTime"]))
        .build();
    Some(record)
}

/// A rule (`rule`), with the tags read for it. The id and name are its
/// name (unless a `Name` tag names it; rule names are unique per bus, the
/// ARN names the bus), the ARN AWS's, state `State` (`ENABLED`,
/// `DISABLED`); it has no creation time. Attributes: `event_bus`,
/// `description`, `schedule_expression`, `event_pattern` (as AWS gives it,
/// JSON text), `role_arn`, `managed_by` (the AWS service that owns it).
fn rule(target: &Target, item: &Value, tags: &Value) -> Option<Resource> {
    let record = ResourceBuilder::from_item(target, SERVICE, "rule", item, "Name", tags)?
        .arn(&item["Arn"])
        .state(&item["State"])
        .attribute("event_bus", text(&item["EventBusName"]))
        .attribute("description", text(&item["Description"]))
        .attribute("schedule_expression", text(&item["ScheduleExpression"]))
        .attribute("event_pattern", text(&item["EventPattern"]))
        .attribute("role_arn", text(&item["RoleArn"]))
        .attribute("managed_by", text(&item["ManagedBy"]))
        .build();
    Some(record)
}

#[cfg(test)]
mod tests {
    use super::*;
    use inventag_plugin_sdk::testing::{self, attributes};

    fn target() -> Target {
        testing::target("us-east-1")
    }

    #[test]
    fn bus_and_rule_records() {
        let bus = event_bus(
            &target(),
            &json!({"Name": "default",
            "Arn": "arn:aws:events:us-east-1:111111111111:event-bus/default"}),
            &Value::Null,
        )
        .unwrap();
        let a = attributes(&bus);
        assert_eq!((a["is_default"].clone(), a["public"].clone()), (json!(true), json!(false)));

        let r = rule(
            &target(),
            &json!({"Name": "nightly", "State": "ENABLED", "EventBusName": "default",
            "Arn": "arn:aws:events:us-east-1:111111111111:rule/nightly",
            "ScheduleExpression": "cron(0 3 * * ? *)"}),
            &json!([{"Key": "team", "Value": "ops"}]),
        )
        .unwrap();
        assert_eq!((r.id.as_str(), r.state.as_deref()), ("nightly", Some("ENABLED")));
        let a = attributes(&r);
        assert_eq!(a["schedule_expression"], "cron(0 3 * * ? *)");
        assert!(rule(&target(), &json!({}), &Value::Null).is_none());
    }
}
