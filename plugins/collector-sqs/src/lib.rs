//! The `sqs` collector: the SQS queues of one account and region.
//!
//! `ListQueues` gives URLs only, so each queue gets a `GetQueueAttributes`
//! (all attributes) and a `ListQueueTags` call; a failed read becomes one
//! warning and the queue is still recorded with what is known. Nothing
//! reads messages. Records: the `queue` type, whose attributes are listed
//! on `queue`.

use inventag_plugin_sdk::prelude::*;
use inventag_plugin_sdk::value::{epoch_value_to_iso8601, policy_allows_anyone, text};
use serde_json::{Value, json};

/// The service name in the catalogue, in records and in ARNs.
const SERVICE: &str = "sqs";

/// The collector, registered with the host by `export_collector!`.
struct Sqs;

impl Collector for Sqs {
    fn describe() -> CollectorInfo {
        CollectorInfo {
            name: "sqs".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            summary: "SQS queues".to_string(),
            global: false,
            calls: vec![service_calls(
                SERVICE,
                &["ListQueues", "GetQueueAttributes", "ListQueueTags"],
            )],
            parts: vec!["queue".to_string()],
        }
    }

    fn collect(target: Target) -> Result<CollectSummary, CollectError> {
        let mut c = Collection::new(&target);
        c.collect_items_with(
            "queue",
            SERVICE,
            "ListQueues",
            &json!({}),
            "QueueUrls",
            |c, url| {
                let input = json!({"QueueUrl": url, "AttributeNames": ["All"]});
                let attributes = c.detail_at(
                    "queue attributes",
                    SERVICE,
                    "GetQueueAttributes",
                    &input,
                    "/Attributes",
                );
                let tags = c.detail_at(
                    "queue tags",
                    SERVICE,
                    "ListQueueTags",
                    &json!({"QueueUrl": url}),
                    "/Tags",
                );
                json!({"attributes": attributes, "tags": tags})
            },
            queue,
        );
        c.finish()
    }
}

export_collector!(Sqs);

/// A number SQS gives as text (`"30"`), as a number.
fn number(value: &Value) -> Value {
    value.as_str().and_then(|s| s.parse::<u64>().ok()).map(Value::from).unwrap_or(Value::Null)
}

/// A queue (`queue`) from its URL and `details` (`attributes`, the
/// `GetQueueAttributes` map, and `tags`). The id is the queue's name (the
/// last part of its URL), the ARN AWS's `QueueArn` (else built), the name
/// the `Name` tag else the queue's name, created-at `CreatedTimestamp`;
/// it has no state. Attributes: `url`, `fifo`, `visibility_timeout_s`,
/// `message_retention_s`, `delay_s`, `receive_wait_time_s`,
/// `max_message_size_bytes`, `encrypted` (SSE-KMS or SSE-SQS),
/// `kms_key_id`, `sqs_managed_sse`, `dead_letter_target` (the ARN of its
/// dead-letter queue) and `max_receive_count`, `approximate_messages`,
/// `public` (its access policy lets anyone in without a condition),
/// `last_modified`.
fn queue(target: &Target, url: &Value, details: &Value) -> Option<Resource> {
    let url = url.as_str().filter(|u| !u.is_empty())?;
    let name = url.trim_end_matches('/').rsplit('/').next().filter(|n| !n.is_empty())?;
    let a = &details["attributes"];
    let arn =
        a["QueueArn"].as_str().map(str::to_string).unwrap_or_else(|| arn_in(target, SERVICE, name));
    let kms = text(&a["KmsMasterKeyId"]).as_str().filter(|k| !k.is_empty()).map(Value::from);
    let sqs_sse = a["SqsManagedSseEnabled"] == "true";
    let redrive: Value =
        a["RedrivePolicy"].as_str().and_then(|p| serde_json::from_str(p).ok()).unwrap_or_default();
    let record = ResourceBuilder::new(target, SERVICE, "queue", name)
        .arn(arn)
        .aws_tags(&details["tags"])
        .default_name(name)
        .created_at(epoch_value_to_iso8601(&a["CreatedTimestamp"]))
        .attribute("url", url)
        .attribute("fifo", a["FifoQueue"] == "true" || name.ends_with(".fifo"))
        .attribute("visibility_timeout_s", number(&a["VisibilityTimeout"]))
        .attribute("message_retention_s", number(&a["MessageRetentionPeriod"]))
        .attribute("delay_s", number(&a["DelaySeconds"]))
        .attribute("receive_wait_time_s", number(&a["ReceiveMessageWaitTimeSeconds"]))
        .attribute("max_message_size_bytes", number(&a["MaximumMessageSize"]))
        .attribute("encrypted", a.is_object().then_some(kms.is_some() || sqs_sse))
        .attribute("kms_key_id", kms)
        .attribute("sqs_managed_sse", sqs_sse)
        .attribute("dead_letter_target", text(&redrive["deadLetterTargetArn"]))
        .attribute(
            "max_receive_count",
            redrive["maxReceiveCount"]
                .as_u64()
                .map(Value::from)
                .unwrap_or_else(|| number(&redrive["maxReceiveCount"])),
        )
        .attribute("approximate_messages", number(&a["ApproximateNumberOfMessages"]))
        .attribute("public", a.is_object().then(|| policy_allows_anyone(&a["Policy"])))
        .attribute("last_modified", epoch_value_to_iso8601(&a["LastModifiedTimestamp"]))
        .build();
    Some(record)
}

#[cfg(test)]
mod tests {
    use super::*;
    use inventag_plugin_sdk::testing::{self, attributes};

    fn target() -> Target {
        testing::target("eu-west-1")
    }

    #[test]
    fn queue_record() {
        let url = json!("https://sqs.eu-west-1.amazonaws.com/111111111111/jobs");
        let details = json!({
            "attributes": {"QueueArn": "arn:aws:sqs:eu-west-1:111111111111:jobs",
                "CreatedTimestamp": "1714557600", "VisibilityTimeout": "30",
                "SqsManagedSseEnabled": "true",
                "RedrivePolicy": "{\"deadLetterTargetArn\":\"arn:aws:sqs:eu-west-1:111111111111:dlq\",\"maxReceiveCount\":5}"},
            "tags": {"team": "core", "Name": ""},
        });
        let r = queue(&target(), &url, &details).unwrap();
        assert_eq!((r.id.as_str(), r.name.as_deref()), ("jobs", Some("jobs")));
        assert_eq!(r.arn.as_deref(), Some("arn:aws:sqs:eu-west-1:111111111111:jobs"));
        assert_eq!(r.created_at.as_deref(), Some("2024-05-01T10:00:00Z"));
        assert_eq!(r.tags.len(), 2);
        let a = attributes(&r);
        assert_eq!(
            (a["visibility_timeout_s"].clone(), a["encrypted"].clone()),
            (json!(30), json!(true))
        );
        assert_eq!(a["dead_letter_target"], "arn:aws:sqs:eu-west-1:111111111111:dlq");
        assert_eq!((a["max_receive_count"].clone(), a["public"].clone()), (json!(5), json!(false)));
    }

    #[test]
    fn unread_queue_keeps_a_built_arn() {
        let url = json!("https://sqs.eu-west-1.amazonaws.com/111111111111/jobs.fifo");
        let r = queue(&target(), &url, &json!({"attributes": null, "tags": null})).unwrap();
        assert_eq!(r.arn.as_deref(), Some("arn:aws:sqs:eu-west-1:111111111111:jobs.fifo"));
        let a = attributes(&r);
        assert_eq!((a["fifo"].clone(), a["encrypted"].clone()), (json!(true), Value::Null));
        assert!(queue(&target(), &json!(""), &Value::Null).is_none());
    }
}
