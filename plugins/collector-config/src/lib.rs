//! The `config` collector: the AWS Config configuration recorders and
//! Config rules of one account and region.
//!
//! Recorders come from `DescribeConfigurationRecorders`, with whether each
//! is recording from one `DescribeConfigurationRecorderStatus` call; rules
//! from `DescribeConfigRules`. Rules, and recorders whose ARN AWS gives,
//! get their tags from `ListTagsForResource`; a failed read becomes one
//! warning and the resource is kept with what is known. A rule's input
//! parameters are not recorded. Types: `configuration-recorder` and
//! `config-rule`, whose attributes are listed on the functions that build
//! them.

use inventag_plugin_sdk::prelude::*;
use inventag_plugin_sdk::value::{array, find_by, strings, text};
use serde_json::{Value, json};

/// The service name in the catalogue, in records and in ARNs.
const SERVICE: &str = "config";

/// The collector, registered with the host by `export_collector!`.
struct Config;

impl Collector for Config {
    fn describe() -> CollectorInfo {
        CollectorInfo {
            name: "config".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            summary: "AWS Config configuration recorders and rules".to_string(),
            global: false,
            calls: vec![service_calls(
                SERVICE,
                &[
                    "DescribeConfigurationRecorders",
                    "DescribeConfigurationRecorderStatus",
                    "DescribeConfigRules",
                    "ListTagsForResource",
                ],
            )],
            parts: ["configuration-recorder", "config-rule"].map(String::from).to_vec(),
        }
    }

    fn collect(target: Target) -> Result<CollectSummary, CollectError> {
        let mut c = Collection::new(&target);
        c.part("configuration-recorder", collect_recorders);
        c.collect_items_with(
            "config-rule",
            SERVICE,
            "DescribeConfigRules",
            &json!({}),
            "ConfigRules",
            |c, rule| tags(c, &rule["ConfigRuleArn"]),
            config_rule,
        );
        c.finish()
    }
}

export_collector!(Config);

/// The tags of a recorder or rule by its ARN; `null` without one.
fn tags(c: &mut Collection, arn: &Value) -> Value {
    if !arn.is_string() {
        return Value::Null;
    }
    let input = json!({"ResourceArn": arn});
    c.detail_at("recorder and rule tags", SERVICE, "ListTagsForResource", &input, "/Tags")
}

/// Every recorder, with its status and tags.
fn collect_recorders(c: &mut Collection) -> Result<(), AwsError> {
    let recorders = c.call(SERVICE, "DescribeConfigurationRecorders", &json!({}))?;
    let status = c.call(SERVICE, "DescribeConfigurationRecorderStatus", &json!({}));
    let status = c.detail("recorder status", status).unwrap_or_default();
    let statuses = array(&status["ConfigurationRecordersStatus"]);
    for item in array(&recorders["ConfigurationRecorders"]) {
        let details = json!({
            "status": find_by(statuses, "name", &item["name"]),
            "tags": tags(c, &item["arn"]),
        });
        if let Some(record) = configuration_recorder(c.target(), item, &details) {
            c.emit(record);
        }
    }
    Ok(())
}

/// A configuration recorder (`configuration-recorder`) with `details`
/// (`status`, its `DescribeConfigurationRecorderStatus` entry; `tags`).
/// The id and name are its name (unless a `Name` tag names it), the ARN
/// AWS's `arn` when given (older answers have none: AWS's recorder ARNs
/// end in an id that cannot be built); state is `recording` or `stopped`.
/// Attributes: `recording`, `last_status` (of the last delivery:
/// `SUCCESS`, `FAILURE`, `PENDING`), `role_arn`, `all_supported` (records
/// every supported type), `include_global_resources`, `resource_types`
/// (when it records a list), `recording_frequency` (`CONTINUOUS`,
/// `DAILY`), `service_principal` (a service-linked recorder's).
fn configuration_recorder(target: &Target, item: &Value, details: &Value) -> Option<Resource> {
    let status = &details["status"];
    let recording = status["recording"].as_bool();
    let group = &item["recordingGroup"];
    let record = ResourceBuilder::from_item(
        target,
        SERVICE,
        "configuration-recorder",
        item,
        "name",
        &details["tags"],
    )?
    .arn(&item["arn"])
    .state(recording.map(|on| if on { "recording" } else { "stopped" }))
    .attribute("recording", recording)
    .attribute("last_status", text(&status["lastStatus"]))
    .attribute("role_arn", text(&item["roleARN"]))
    .attribute("all_supported", group["allSupported"].as_bool())
    .attribute("include_global_resources", group["includeGlobalResourceTypes"].as_bool())
    .attribute("resource_types", strings(&group["resourceTypes"], ""))
    .attribute("recording_frequency", text(&item["recordingMode"]["recordingFrequency"]))
    .attribute("service_principal", text(&item["servicePrincipal"]))
    .build();
    Some(record)
}

/// A Config rule (`config-rule`), with the tags read for it. The id and
/// name are its name (unless a `Name` tag names it), the ARN AWS's
/// `ConfigRuleArn`, state `ConfigRuleState` (`ACTIVE`...); it has no
/// creation time. Attributes: `rule_id`, `description`, `source_owner`
/// (`AWS` for managed rules, `CUSTOM_LAMBDA`, `CUSTOM_POLICY`),
/// `source_identifier` (the managed rule's name or the Lambda function's
/// ARN), `resource_types` (its scope), `created_by` (the service that made
/// it, if any), `maximum_execution_frequency`.
fn config_rule(target: &Target, item: &Value, tags: &Value) -> Option<Resource> {
    let record =
        ResourceBuilder::from_item(target, SERVICE, "config-rule", item, "ConfigRuleName", tags)?
            .arn(&item["ConfigRuleArn"])
            .state(&item["ConfigRuleState"])
            .attribute("rule_id", text(&item["ConfigRuleId"]))
            .attribute("description", text(&item["Description"]))
            .attribute("source_owner", text(&item["Source"]["Owner"]))
            .attribute("source_identifier", text(&item["Source"]["SourceIdentifier"]))
            .attribute("resource_types", strings(&item["Scope"]["ComplianceResourceTypes"], ""))
            .attribute("created_by", text(&item["CreatedBy"]))
            .attribute("maximum_execution_frequency", text(&item["MaximumExecutionFrequency"]))
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
    fn recorder_and_rule_records() {
        let recorder = configuration_recorder(&target(),
            &json!({"name": "default", "roleARN": "arn:aws:iam::111111111111:role/config",
                    "recordingGroup": {"allSupported": true, "includeGlobalResourceTypes": true}}),
            &json!({"status": {"name": "default", "recording": true, "lastStatus": "SUCCESS"}, "tags": null}))
        .unwrap();
        assert_eq!(
            (recorder.id.as_str(), recorder.state.as_deref(), recorder.arn.as_deref()),
            ("default", Some("recording"), None)
        );
        let a = attributes(&recorder);
        assert_eq!(a["all_supported"], true);

        let rule = config_rule(&target(), &json!({"ConfigRuleName": "s3-encrypted", "ConfigRuleState": "ACTIVE",
            "ConfigRuleArn": "arn:aws:config:us-east-1:111111111111:config-rule/config-rule-abc",
            "Source": {"Owner": "AWS", "SourceIdentifier": "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED"},
            "InputParameters": "{\"secret\": \"x\"}"}), &json!([{"Key": "team", "Value": ""}]))
        .unwrap();
        assert_eq!(
            rule.arn.as_deref(),
            Some("arn:aws:config:us-east-1:111111111111:config-rule/config-rule-abc")
        );
        assert!(!rule.attributes.contains("secret"));
        let a = attributes(&rule);
        assert_eq!(a["source_owner"], "AWS");
        assert!(config_rule(&target(), &json!({}), &Value::Null).is_none());
    }
}
