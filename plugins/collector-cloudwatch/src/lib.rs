//! The `cloudwatch` collector: the CloudWatch alarms of one account and
//! region, metric and composite alike.
//!
//! `DescribeAlarms` lists both kinds in one paginated call; each alarm
//! gets a `ListTagsForResource` call (a failure becomes one warning and
//! the alarm is kept without tags). Records: the `alarm` type, whose
//! attributes are listed on `alarm`.

use inventag_plugin_sdk::prelude::*;
use inventag_plugin_sdk::value::{array, strings, text};
use serde_json::{Value, json};

/// The service name in the catalogue, in records and in ARNs.
const SERVICE: &str = "cloudwatch";

/// The collector, registered with the host by `export_collector!`.
struct CloudWatch;

impl Collector for CloudWatch {
    fn describe() -> CollectorInfo {
        CollectorInfo {
            name: "cloudwatch".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            summary: "CloudWatch metric and composite alarms".to_string(),
            global: false,
            calls: vec![service_calls(SERVICE, &["DescribeAlarms", "ListTagsForResource"])],
            parts: vec!["alarm".to_string()],
        }
    }

    fn collect(target: Target) -> Result<CollectSummary, CollectError> {
        let mut c = Collection::new(&target);
        c.part("alarm", collect_alarms);
        c.finish()
    }
}

export_collector!(CloudWatch);

/// Metric and composite alarms, page by page, each with its tags.
fn collect_alarms(c: &mut Collection) -> Result<(), AwsError> {
    let input = json!({"AlarmTypes": ["MetricAlarm", "CompositeAlarm"]});
    for page in aws::paginate(SERVICE, "DescribeAlarms", c.region(), &input) {
        let page = page?;
        for (member, kind) in [("MetricAlarms", "metric"), ("CompositeAlarms", "composite")] {
            for item in array(&page[member]) {
                let input = json!({"ResourceARN": item["AlarmArn"]});
                let tags =
                    c.detail_at("alarm tags", SERVICE, "ListTagsForResource", &input, "/Tags");
                if let Some(record) = alarm(c.target(), kind, item, &tags) {
                    c.emit(record);
                }
            }
        }
        if c.is_stopped() {
            break;
        }
    }
    Ok(())
}

/// An alarm (`alarm`) of kind `metric` or `composite`, with the tags read
/// for it. The id and name are its name (unless a `Name` tag names it),
/// the ARN AWS's, state `StateValue` (`OK`, `ALARM`,
/// `INSUFFICIENT_DATA`); it has no creation time. Attributes:
/// `alarm_type`, `description`, `actions_enabled`, `alarm_actions`,
/// `namespace`, `metric_name`, `dimensions` (`name=value` texts),
/// `statistic`, `comparison`, `threshold`, `period_s`,
/// `evaluation_periods` (metric alarms), `rule` (composite alarms),
/// `state_updated`.
fn alarm(target: &Target, kind: &str, item: &Value, tags: &Value) -> Option<Resource> {
    let name = item["AlarmName"].as_str().filter(|n| !n.is_empty())?;
    let dimensions: Vec<Value> = array(&item["Dimensions"])
        .iter()
        .map(|d| {
            Value::from(format!(
                "{}={}",
                d["Name"].as_str().unwrap_or_default(),
                d["Value"].as_str().unwrap_or_default()
            ))
        })
        .collect();
    let record = ResourceBuilder::new(target, SERVICE, "alarm", name)
        .arn(&item["AlarmArn"])
        .aws_tags(tags)
        .default_name(name)
        .state(&item["StateValue"])
        .attribute("alarm_type", kind)
        .attribute("description", text(&item["AlarmDescription"]))
        .attribute("actions_enabled", item["ActionsEnabled"].as_bool())
        .attribute("alarm_actions", strings(&item["AlarmActions"], ""))
        .attribute("namespace", text(&item["Namespace"]))
        .attribute("metric_name", text(&item["MetricName"]))
        .attribute("dimensions", dimensions)
        .attribute("statistic", text(&item["Statistic"]))
        .attribute("comparison", text(&item["ComparisonOperator"]))
        .attribute("threshold", item["Threshold"].clone())
        .attribute("period_s", item["Period"].as_u64())
        .attribute("evaluation_periods", item["EvaluationPeriods"].as_u64())
        .attribute("rule", text(&item["AlarmRule"]))
        .attribute("state_updated", text(&item["StateUpdatedTimestamp"]))
        .build();
    Some(record)
}

#[cfg(test)]
mod tests {
    use super::*;
    use inventag_plugin_sdk::testing::{self, attributes};

    #[test]
    fn metric_alarm_record() {
        let target = testing::target("us-east-1");
        let item = json!({"AlarmName": "cpu-high", "AlarmArn": "arn:aws:cloudwatch:us-east-1:111111111111:alarm:cpu-high",
            "StateValue": "OK", "Namespace": "AWS/EC2", "MetricName": "CPUUtilization",
            "Dimensions": [{"Name": "InstanceId", "Value": "i-1"}], "Threshold": 80.0, "Period": 300});
        let r = alarm(&target, "metric", &item, &json!([{"Key": "team", "Value": "ops"}])).unwrap();
        assert_eq!((r.id.as_str(), r.state.as_deref()), ("cpu-high", Some("OK")));
        assert_eq!(
            r.arn.as_deref(),
            Some("arn:aws:cloudwatch:us-east-1:111111111111:alarm:cpu-high")
        );
        let a = attributes(&r);
        assert_eq!(a["dimensions"], json!(["InstanceId=i-1"]));
        assert_eq!(
            (a["threshold"].clone(), a["alarm_type"].clone()),
            (json!(80.0), json!("metric"))
        );
        assert!(alarm(&target, "metric", &json!({}), &Value::Null).is_none());
    }
}
