//! The `cloudtrail` collector: the CloudTrail trails of one account whose
//! home region is the target's region.
//!
//! `DescribeTrails` without shadow trails lists the trails created in this
//! region, so a multi-region trail is recorded once, in its home region,
//! not once per region it covers. Their tags come from `ListTags`, 20
//! trails per call, and whether each is logging from `GetTrailStatus`; a
//! failed read becomes one warning and the trail is kept with what is
//! known. Records: the `trail` type, whose attributes are listed on
//! `trail`.

use inventag_plugin_sdk::prelude::*;
use inventag_plugin_sdk::value::{find_by, strings, text};
use serde_json::{Value, json};

/// The service name in the catalogue, in records and in ARNs.
const SERVICE: &str = "cloudtrail";

/// The collector, registered with the host by `export_collector!`.
struct CloudTrail;

impl Collector for CloudTrail {
    fn describe() -> CollectorInfo {
        CollectorInfo {
            name: "cloudtrail".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            summary: "CloudTrail trails, each in its home region".to_string(),
            global: false,
            calls: vec![service_calls(SERVICE, &["DescribeTrails", "ListTags", "GetTrailStatus"])],
            parts: vec!["trail".to_string()],
        }
    }

    fn collect(target: Target) -> Result<CollectSummary, CollectError> {
        let mut c = Collection::new(&target);
        c.collect_pages_with(
            "trail",
            SERVICE,
            "DescribeTrails",
            &json!({"includeShadowTrails": false}),
            "trailList",
            |c, trails| {
                let arns = strings(&Value::from(trails.to_vec()), "TrailARN");
                let tags = c.detail_batches(
                    "trail tags",
                    SERVICE,
                    "ListTags",
                    &json!({}),
                    "ResourceIdList",
                    &arns,
                    20,
                    "/ResourceTagList",
                );
                trails
                    .iter()
                    .map(|t| {
                        let status = c.detail_at(
                            "trail status",
                            SERVICE,
                            "GetTrailStatus",
                            &json!({"Name": t["TrailARN"]}),
                            "",
                        );
                        let tags = &find_by(&tags, "ResourceId", &t["TrailARN"])["TagsList"];
                        json!({"tags": tags, "status": status})
                    })
                    .collect()
            },
            trail,
        );
        c.finish()
    }
}

export_collector!(CloudTrail);

/// A trail (`trail`) with `details` (`tags`; `status`, the
/// `GetTrailStatus` output). The id and name are its name (unless a `Name`
/// tag names it), the ARN AWS's `TrailARN`; state is `logging` or
/// `stopped` (unknown when the status could not be read); it has no
/// creation time. Attributes: `home_region`, `multi_region`,
/// `organization_trail`, `include_global_events`, `s3_bucket`,
/// `s3_key_prefix`, `log_file_validation`, `encrypted` and `kms_key_id`,
/// `cloudwatch_log_group`, `sns_topic`, `is_logging`.
fn trail(target: &Target, item: &Value, details: &Value) -> Option<Resource> {
    let logging = details["status"]["IsLogging"].as_bool();
    let record =
        ResourceBuilder::from_item(target, SERVICE, "trail", item, "Name", &details["tags"])?
            .arn(&item["TrailARN"])
            .state(logging.map(|on| if on { "logging" } else { "stopped" }))
            .attribute("home_region", text(&item["HomeRegion"]))
            .attribute("multi_region", item["IsMultiRegionTrail"].as_bool())
            .attribute("organization_trail", item["IsOrganizationTrail"].as_bool())
            .attribute("include_global_events", item["IncludeGlobalServiceEvents"].as_bool())
            .attribute("s3_bucket", text(&item["S3BucketName"]))
            .attribute("s3_key_prefix", text(&item["S3KeyPrefix"]))
            .attribute("log_file_validation", item["LogFileValidationEnabled"].as_bool())
            .attribute("encrypted", item["KmsKeyId"].is_string())
            .attribute("kms_key_id", text(&item["KmsKeyId"]))
            .attribute("cloudwatch_log_group", text(&item["CloudWatchLogsLogGroupArn"]))
            .attribute("sns_topic", text(&item["SnsTopicARN"]))
            .attribute("is_logging", logging)
            .build();
    Some(record)
}

#[cfg(test)]
mod tests {
    use super::*;
    use inventag_plugin_sdk::testing::{self, attributes};

    #[test]
    fn trail_record() {
        let target = testing::target("us-east-1");
        let item = json!({"Name": "main", "TrailARN": "arn:aws:cloudtrail:us-east-1:111111111111:trail/main",
            "HomeRegion": "us-east-1", "IsMultiRegionTrail": true, "S3BucketName": "logs"});
        let details =
            json!({"tags": [{"Key": "env", "Value": "prod"}], "status": {"IsLogging": true}});
        let r = trail(&target, &item, &details).unwrap();
        assert_eq!((r.id.as_str(), r.state.as_deref()), ("main", Some("logging")));
        assert_eq!(r.tags.len(), 1);
        let a = attributes(&r);
        assert_eq!(
            (a["multi_region"].clone(), a["encrypted"].clone()),
            (json!(true), json!(false))
        );
        let unknown = trail(&target, &item, &json!({"tags": null, "status": null})).unwrap();
        assert_eq!(unknown.state, None);
    }
}
