//! The `sns` collector: the SNS topics of one account and region.
//!
//! `ListTopics` gives ARNs only, so each topic gets a `GetTopicAttributes`
//! and a `ListTagsForResource` call; a failed read becomes one warning and
//! the topic is still recorded with what is known. Subscriptions are not
//! listed (their endpoints are e-mail addresses and phone numbers), only
//! counted. Records: the `topic` type, whose attributes are listed on
//! `topic`.

use inventag_plugin_sdk::prelude::*;
use inventag_plugin_sdk::value::{policy_allows_anyone, text};
use serde_json::{Value, json};

/// The service name in the catalogue, in records and in ARNs.
const SERVICE: &str = "sns";

/// The collector, registered with the host by `export_collector!`.
struct Sns;

impl Collector for Sns {
    fn describe() -> CollectorInfo {
        CollectorInfo {
            name: "sns".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            summary: "SNS topics".to_string(),
            global: false,
            calls: vec![service_calls(
                SERVICE,
                &["ListTopics", "GetTopicAttributes", "ListTagsForResource"],
            )],
            parts: vec!["topic".to_string()],
        }
    }

    fn collect(target: Target) -> Result<CollectSummary, CollectError> {
        let mut c = Collection::new(&target);
        c.collect_items_with(
            "topic",
            SERVICE,
            "ListTopics",
            &json!({}),
            "Topics",
            |c, item| {
                let arn = &item["TopicArn"];
                let attributes = c.detail_at(
                    "topic attributes",
                    SERVICE,
                    "GetTopicAttributes",
                    &json!({"TopicArn": arn}),
                    "/Attributes",
                );
                let tags = c.detail_at(
                    "topic tags",
                    SERVICE,
                    "ListTagsForResource",
                    &json!({"ResourceArn": arn}),
                    "/Tags",
                );
                json!({"attributes": attributes, "tags": tags})
            },
            topic,
        );
        c.finish()
    }
}

export_collector!(Sns);

/// Counts SNS gives as text (`"3"`), as numbers.
fn count(value: &Value) -> Value {
    value.as_str().and_then(|s| s.parse::<u64>().ok()).map(Value::from).unwrap_or(Value::Null)
}

/// A topic (`topic`) from its `ListTopics` item and `details`
/// (`attributes`, the `GetTopicAttributes` map, and `tags`). The id is the
/// topic's name (the last part of its ARN), the name the `Name` tag else
/// the display name else the topic's name; it has no state or creation
/// time. Attributes: `display_name`, `fifo`, `encrypted` (a KMS key is
/// set), `kms_key_id`, `subscriptions_confirmed`, `subscriptions_pending`,
/// `public` (its access policy lets anyone in without a condition), `owner`.
fn topic(target: &Target, item: &Value, details: &Value) -> Option<Resource> {
    let arn = item["TopicArn"].as_str().filter(|a| !a.is_empty())?;
    let id = arn.rsplit(':').next().unwrap_or(arn);
    let a = &details["attributes"];
    let kms = text(&a["KmsMasterKeyId"]).as_str().filter(|k| !k.is_empty()).map(Value::from);
    let display = text(&a["DisplayName"]).as_str().filter(|d| !d.is_empty()).map(Value::from);
    let record = ResourceBuilder::new(target, SERVICE, "topic", id)
        .arn(arn)
        .aws_tags(&details["tags"])
        .default_name(display.as_ref())
        .default_name(id)
        .attribute("display_name", display)
        .attribute("fifo", a["FifoTopic"] == "true")
        .attribute("encrypted", kms.is_some())
        .attribute("kms_key_id", kms)
        .attribute("subscriptions_confirmed", count(&a["SubscriptionsConfirmed"]))
        .attribute("subscriptions_pending", count(&a["SubscriptionsPending"]))
        .attribute("public", a.is_object().then(|| policy_allows_anyone(&a["Policy"])))
        .attribute("owner", text(&a["Owner"]))
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
    fn topic_record() {
        let item = json!({"TopicArn": "arn:aws:sns:us-east-1:111111111111:alerts.fifo"});
        let details = json!({
            "attributes": {"DisplayName": "Alerts", "FifoTopic": "true", "SubscriptionsConfirmed": "2",
                "KmsMasterKeyId": "alias/aws/sns", "Owner": "111111111111",
                "Policy": "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"*\"},\"Action\":\"SNS:Publish\"}]}"},
            "tags": [{"Key": "team", "Value": ""}],
        });
        let r = topic(&target(), &item, &details).unwrap();
        assert_eq!((r.id.as_str(), r.name.as_deref()), ("alerts.fifo", Some("Alerts")));
        assert_eq!(r.arn.as_deref(), Some("arn:aws:sns:us-east-1:111111111111:alerts.fifo"));
        assert_eq!(r.tags[0].value, "");
        let a = attributes(&r);
        assert_eq!((a["fifo"].clone(), a["encrypted"].clone()), (json!(true), json!(true)));
        assert_eq!(a["subscriptions_confirmed"], 2);
        assert_eq!(a["public"], true);

        let bare = topic(&target(), &item, &json!({"attributes": null, "tags": null})).unwrap();
        assert_eq!(bare.name.as_deref(), Some("alerts.fifo"));
        assert_eq!(attributes(&bare)["public"], Value::Null);
        assert!(topic(&target(), &json!({}), &Value::Null).is_none());
    }
}
