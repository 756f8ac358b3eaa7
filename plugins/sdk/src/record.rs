//! Building [`Resource`] records.
//!
//! [`ResourceBuilder`] fills the account and region from the [`Target`],
//! collects attributes into a JSON object (in insertion order) and
//! serialises it on [`ResourceBuilder::build`]. [`tags_from_aws`] turns the
//! tag lists AWS returns into WIT [`Tag`]s, keeping their order and empty
//! values, and [`name_tag`] picks the `Name` tag out of them.

use serde_json::{Map, Value};

use crate::collector::{Resource, Tag, Target};

/// Builds the ARN `arn:{partition}:{service}:{region}:{account}:{resource}`
/// for a resource of the target's partition and region.
///
/// `account` is usually the target's account; pass the owner's account for
/// resources shared from another account. For a global resource pass an
/// empty `region`, as in AWS's own ARNs.
pub fn arn(partition: &str, service: &str, region: &str, account: &str, resource: &str) -> String {
    format!("arn:{partition}:{service}:{region}:{account}:{resource}")
}

/// Builds the ARN of a resource in the target's partition, region and
/// account: `arn_in(&target, "ec2", "vpc/vpc-1")`. See [`arn`] for other
/// accounts and for global resources.
pub fn arn_in(target: &Target, service: &str, resource: &str) -> String {
    arn(&target.partition, service, &target.region, &target.account_id, resource)
}

/// Turns an AWS tag list into WIT tags, in AWS's order.
///
/// Accepts the usual `[{"Key": .., "Value": ..}]` list, the lower-case
/// `[{"key": .., "value": ..}]` some services use, KMS's
/// `[{"TagKey": .., "TagValue": ..}]`, and a `{"key": "value"}` map. An entry without a key is skipped; a missing or non-string value
/// becomes the empty string (a number or boolean is kept as its text).
/// Anything else (`null`, a missing member) gives no tags.
pub fn tags_from_aws(tags: &Value) -> Vec<Tag> {
    match tags {
        Value::Array(items) => items
            .iter()
            .filter_map(|item| {
                let key = ["Key", "key", "TagKey"].iter().find_map(|k| item.get(*k))?.as_str()?;
                let value = ["Value", "value", "TagValue"].iter().find_map(|k| item.get(*k));
                Some(Tag { key: key.to_string(), value: value.map(text).unwrap_or_default() })
            })
            .collect(),
        Value::Object(map) => {
            map.iter().map(|(key, value)| Tag { key: key.clone(), value: text(value) }).collect()
        }
        _ => Vec::new(),
    }
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null | Value::Array(_) | Value::Object(_) => String::new(),
        other => other.to_string(),
    }
}

/// The value of the first `Name` tag (the key is case-sensitive), unless it
/// is empty.
pub fn name_tag(tags: &[Tag]) -> Option<String> {
    tags.iter().find(|t| t.key == "Name").map(|t| t.value.clone()).filter(|v| !v.is_empty())
}

/// A value for an optional text field of a [`Resource`]: `&str`, `String`,
/// `&String`, `&Value` (a JSON string; anything else is absent) or an
/// `Option` of the first three.
pub trait OptionalText {
    /// The text, or `None` when absent.
    fn into_text(self) -> Option<String>;
}

impl OptionalText for &str {
    fn into_text(self) -> Option<String> {
        Some(self.to_string())
    }
}

impl OptionalText for String {
    fn into_text(self) -> Option<String> {
        Some(self)
    }
}

impl OptionalText for &String {
    fn into_text(self) -> Option<String> {
        Some(self.clone())
    }
}

impl OptionalText for &Value {
    fn into_text(self) -> Option<String> {
        self.as_str().map(str::to_string)
    }
}

impl<T: OptionalText> OptionalText for Option<T> {
    fn into_text(self) -> Option<String> {
        self.and_then(OptionalText::into_text)
    }
}

/// Builds one [`Resource`] record.
///
/// ```ignore
/// let record = ResourceBuilder::new(&target, "ec2", "volume", "vol-1")
///     .arn(arn(&target.partition, "ec2", &target.region, &target.account_id, "volume/vol-1"))
///     .aws_tags(&volume["Tags"])
///     .state(&volume["State"])
///     .created_at(&volume["CreateTime"])
///     .attribute("size_gib", volume["Size"].clone())
///     .build();
/// ```
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct ResourceBuilder {
    record: Resource,
    attributes: Map<String, Value>,
}

impl ResourceBuilder {
    /// Starts a record of the target's account and region, with no tags and
    /// no attributes.
    pub fn new(target: &Target, service: &str, resource_type: &str, id: impl Into<String>) -> Self {
        ResourceBuilder {
            record: Resource {
                account_id: target.account_id.clone(),
                region: target.region.clone(),
                service: service.to_string(),
                resource_type: resource_type.to_string(),
                id: id.into(),
                arn: None,
                name: None,
                state: None,
                created_at: None,
                tags: Vec::new(),
                attributes: String::new(),
            },
            attributes: Map::new(),
        }
    }

    /// Starts a record for an item of an AWS output whose id is its string
    /// member `id_member` (`None` when that is missing or empty), with the
    /// tags `tags` (see [`aws_tags`](Self::aws_tags)) and the `Name` tag,
    /// else the id, as its name:
    /// `ResourceBuilder::from_item(&target, "events", "rule", item, "Name", &tags)?`.
    pub fn from_item(
        target: &Target,
        service: &str,
        resource_type: &str,
        item: &Value,
        id_member: &str,
        tags: &Value,
    ) -> Option<Self> {
        let id = item[id_member].as_str().filter(|id| !id.is_empty())?;
        Some(Self::new(target, service, resource_type, id).aws_tags(tags).default_name(id))
    }

    /// Overrides the region, e.g. `global` for a global service.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.record.region = region.into();
        self
    }

    /// Sets the ARN (or clears it with `None`).
    pub fn arn(mut self, arn: impl OptionalText) -> Self {
        self.record.arn = arn.into_text();
        self
    }

    /// Sets the human name (or clears it with `None`).
    pub fn name(mut self, name: impl OptionalText) -> Self {
        self.record.name = name.into_text();
        self
    }

    /// Sets the human name unless one is set already: after
    /// [`aws_tags`](Self::aws_tags), `.default_name(&item["Name"])` names
    /// the record by its `Name` tag, else by the resource's own name.
    pub fn default_name(mut self, name: impl OptionalText) -> Self {
        if self.record.name.is_none() {
            self.record.name = name.into_text().filter(|n| !n.is_empty());
        }
        self
    }

    /// Sets the lifecycle state AWS reports (`running`).
    pub fn state(mut self, state: impl OptionalText) -> Self {
        self.record.state = state.into_text();
        self
    }

    /// Sets the creation time, an ISO-8601 string as AWS reports it.
    pub fn created_at(mut self, created_at: impl OptionalText) -> Self {
        self.record.created_at = created_at.into_text();
        self
    }

    /// Sets the tags, in the order given.
    pub fn tags(mut self, tags: Vec<Tag>) -> Self {
        self.record.tags = tags;
        self
    }

    /// Sets the tags from an AWS tag list (see [`tags_from_aws`]) and, unless
    /// a name was already set, the name from the `Name` tag.
    pub fn aws_tags(mut self, tags: &Value) -> Self {
        self.record.tags = tags_from_aws(tags);
        if self.record.name.is_none() {
            self.record.name = name_tag(&self.record.tags);
        }
        self
    }

    /// Adds one attribute; a later value for the same key replaces the
    /// earlier one but keeps its position. `None` becomes `null`.
    pub fn attribute(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.attributes.insert(key.to_string(), value.into());
        self
    }

    /// Finishes the record, serialising the attributes to a JSON object.
    pub fn build(self) -> Resource {
        let mut record = self.record;
        record.attributes = Value::Object(self.attributes).to_string();
        record
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn target() -> Target {
        Target {
            account_id: "123456789012".into(),
            account_name: "prod".into(),
            region: "eu-west-1".into(),
            partition: "aws".into(),
            part: None,
        }
    }

    fn pairs(tags: &[Tag]) -> Vec<(&str, &str)> {
        tags.iter().map(|t| (t.key.as_str(), t.value.as_str())).collect()
    }

    #[test]
    fn aws_tag_lists_keep_order_and_empty_values() {
        let tags = tags_from_aws(&json!([
            {"Key": "z", "Value": "1"},
            {"Key": "Name", "Value": ""},
            {"Key": "a"},
            {"Value": "no key"},
            {"key": "lower", "value": "case"},
            {"TagKey": "kms", "TagValue": "style"},
        ]));
        assert_eq!(
            pairs(&tags),
            [("z", "1"), ("Name", ""), ("a", ""), ("lower", "case"), ("kms", "style")]
        );
        let map = tags_from_aws(&json!({"b": "2", "a": "1"}));
        assert_eq!(pairs(&map), [("b", "2"), ("a", "1")]);
        assert!(tags_from_aws(&Value::Null).is_empty());
    }

    #[test]
    fn name_tag_is_case_sensitive_and_never_empty() {
        let tags = tags_from_aws(&json!([{"Key": "name", "Value": "x"}]));
        assert_eq!(name_tag(&tags), None);
        let tags = tags_from_aws(&json!([{"Key": "Name", "Value": ""}]));
        assert_eq!(name_tag(&tags), None);
        let tags = tags_from_aws(&json!([{"Key": "Name", "Value": "web"}]));
        assert_eq!(name_tag(&tags).as_deref(), Some("web"));
    }

    #[test]
    fn builder_fills_target_and_attributes_in_order() {
        let item = json!({"State": "available", "Tags": [{"Key": "Name", "Value": "disk"}]});
        let r = ResourceBuilder::new(&target(), "ec2", "volume", "vol-1")
            .arn(arn("aws", "ec2", "eu-west-1", "123456789012", "volume/vol-1"))
            .aws_tags(&item["Tags"])
            .state(&item["State"])
            .created_at(&item["Missing"])
            .attribute("z", 1)
            .attribute("a", None::<&str>)
            .attribute("m", "x")
            .build();
        assert_eq!(r.account_id, "123456789012");
        assert_eq!(r.region, "eu-west-1");
        assert_eq!(r.arn.as_deref(), Some("arn:aws:ec2:eu-west-1:123456789012:volume/vol-1"));
        assert_eq!(r.arn, Some(arn_in(&target(), "ec2", "volume/vol-1")));
        assert_eq!(r.name.as_deref(), Some("disk"));
        assert_eq!(r.state.as_deref(), Some("available"));
        assert_eq!(r.created_at, None);
        assert_eq!(r.attributes, r#"{"z":1,"a":null,"m":"x"}"#);
    }

    #[test]
    fn an_explicit_name_wins_over_the_name_tag() {
        let r = ResourceBuilder::new(&target(), "s3", "bucket", "b")
            .name("explicit")
            .aws_tags(&json!([{"Key": "Name", "Value": "tag"}]))
            .build();
        assert_eq!(r.name.as_deref(), Some("explicit"));
        assert_eq!(r.attributes, "{}");
        let tagged = ResourceBuilder::new(&target(), "s3", "bucket", "b")
            .aws_tags(&json!([{"Key": "Name", "Value": "tag"}]))
            .default_name("own")
            .build();
        assert_eq!(tagged.name.as_deref(), Some("tag"));
        let untagged = ResourceBuilder::new(&target(), "s3", "bucket", "b")
            .aws_tags(&json!([]))
            .default_name("own")
            .default_name("later")
            .build();
        assert_eq!(untagged.name.as_deref(), Some("own"));
        let empty = ResourceBuilder::new(&target(), "s3", "bucket", "b").default_name("").build();
        assert_eq!(empty.name, None);
        let item = json!({"TopicName": "t", "Empty": ""});
        let tags = json!([{"Key": "Name", "Value": "Topic"}]);
        let named =
            ResourceBuilder::from_item(&target(), "sns", "topic", &item, "TopicName", &tags);
        let named = named.unwrap().build();
        assert_eq!((named.id.as_str(), named.name.as_deref()), ("t", Some("Topic")));
        let own =
            ResourceBuilder::from_item(&target(), "sns", "topic", &item, "TopicName", &json!(null));
        assert_eq!(own.unwrap().build().name.as_deref(), Some("t"));
        assert!(
            ResourceBuilder::from_item(&target(), "sns", "topic", &item, "Empty", &json!([]))
                .is_none()
        );
        assert!(
            ResourceBuilder::from_item(&target(), "sns", "topic", &item, "None", &json!([]))
                .is_none()
        );
    }
}
