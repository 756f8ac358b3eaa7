//! The `cloudformation` collector: the CloudFormation stacks of one account
//! and region.
//!
//! `DescribeStacks` lists every stack that is not deleted, with its tags,
//! in one paginated call. Parameters and outputs are not recorded (they
//! may hold values a team should not have put there), nor templates.
//! Records: the `stack` type, whose attributes are listed on `stack`.

use inventag_plugin_sdk::prelude::*;
use inventag_plugin_sdk::value::{strings, text};
use serde_json::{Value, json};

/// The service name in the catalogue, in records and in ARNs.
const SERVICE: &str = "cloudformation";

/// The collector, registered with the host by `export_collector!`.
struct CloudFormation;

impl Collector for CloudFormation {
    fn describe() -> CollectorInfo {
        CollectorInfo {
            name: "cloudformation".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            summary: "CloudFormation stacks".to_string(),
            global: false,
            calls: vec![service_calls(SERVICE, &["DescribeStacks"])],
            parts: vec!["stack".to_string()],
        }
    }

    fn collect(target: Target) -> Result<CollectSummary, CollectError> {
        let mut c = Collection::new(&target);
        c.collect_items("stack", SERVICE, "DescribeStacks", &json!({}), "Stacks", stack);
        c.finish()
    }
}

export_collector!(CloudFormation);

/// A stack (`stack`). The id and name are its name (unless a `Name` tag
/// names it), the ARN its `StackId`, state `StackStatus`, created-at
/// `CreationTime`. Attributes: `description`, `last_updated`,
/// `status_reason`, `termination_protection`, `drift_status`,
/// `parent_id` and `root_id` (for nested stacks), `role_arn`,
/// `capabilities`, `notification_arns`.
fn stack(target: &Target, item: &Value) -> Option<Resource> {
    let record =
        ResourceBuilder::from_item(target, SERVICE, "stack", item, "StackName", &item["Tags"])?
            .arn(&item["StackId"])
            .state(&item["StackStatus"])
            .created_at(&item["CreationTime"])
            .attribute("description", text(&item["Description"]))
            .attribute("last_updated", text(&item["LastUpdatedTime"]))
            .attribute("status_reason", text(&item["StackStatusReason"]))
            .attribute("termination_protection", item["EnableTerminationProtection"].as_bool())
            .attribute("drift_status", text(&item["DriftInformation"]["StackDriftStatus"]))
            .attribute("parent_id", text(&item["ParentId"]))
            .attribute("root_id", text(&item["RootId"]))
            .attribute("role_arn", text(&item["RoleARN"]))
            .attribute("capabilities", strings(&item["Capabilities"], ""))
            .attribute("notification_arns", strings(&item["NotificationARNs"], ""))
            .build();
    Some(record)
}

#[cfg(test)]
mod tests {
    use super::*;
    use inventag_plugin_sdk::testing;

    #[test]
    fn stack_record_without_parameters_or_outputs() {
        let target = testing::target("us-east-1");
        let item = json!({"StackName": "app", "StackStatus": "CREATE_COMPLETE",
            "StackId": "arn:aws:cloudformation:us-east-1:111111111111:stack/app/1",
            "CreationTime": "2024-01-01T00:00:00Z", "Tags": [{"Key": "env", "Value": "prod"}],
            "Parameters": [{"ParameterKey": "DbPassword", "ParameterValue": "hunter2"}],
            "Outputs": [{"OutputKey": "Url", "OutputValue": "https://x"}]});
        let r = stack(&target, &item).unwrap();
        assert_eq!((r.id.as_str(), r.state.as_deref()), ("app", Some("CREATE_COMPLETE")));
        assert_eq!(
            r.arn.as_deref(),
            Some("arn:aws:cloudformation:us-east-1:111111111111:stack/app/1")
        );
        assert!(!r.attributes.contains("hunter2") && !r.attributes.contains("https://x"));
        assert!(stack(&target, &json!({})).is_none());
    }
}
