//! The `iam` collector: the IAM users, roles, customer-managed policies
//! (`Scope: Local`; AWS's own managed policies are the same in every
//! account and are left out), groups and instance profiles of one account.
//!
//! IAM is global: the collector declares `global`, runs once per account
//! (in the partition's home region) and files its records under the region
//! `global`, with AWS's ARNs, which have no region
//! (`arn:aws:iam::111111111111:role/admin`). Each type is one part, named
//! by its `resource-type`. The id is the resource's name, which names it in
//! every IAM call (the unique `AID...`/`ARO...` id is an attribute); the
//! name is the `Name` tag, else the resource's name. IAM's list calls do
//! not return tags, so each user, role, policy and instance profile gets a
//! `List*Tags` call (groups have no tags), unless its list item carries
//! them; a failed tag read becomes one warning and the record is kept
//! without tags. No secrets are read: no
//! access keys, passwords, login profiles or policy documents, only each
//! role's trust policy, reduced to the principals it trusts.

use inventag_plugin_sdk::prelude::*;
use inventag_plugin_sdk::value::{strings, text};
use serde_json::{Value, json};

/// The service name in the catalogue, in records and in ARNs.
const SERVICE: &str = "iam";

/// One resource type: its list call and item member, the item members
/// holding its name and unique id, its tag read (operation, the input
/// member naming the resource, and the item member giving that value),
/// and the function adding the type's own attributes.
struct Part {
    resource_type: &'static str,
    list: &'static str,
    member: &'static str,
    name: &'static str,
    unique_id: &'static str,
    tags: Option<(&'static str, &'static str, &'static str)>,
    attributes: fn(ResourceBuilder, &Value) -> ResourceBuilder,
}

const PARTS: [Part; 5] = [
    Part {
        resource_type: "user",
        list: "ListUsers",
        member: "Users",
        name: "UserName",
        unique_id: "UserId",
        tags: Some(("ListUserTags", "UserName", "UserName")),
        attributes: user,
    },
    Part {
        resource_type: "role",
        list: "ListRoles",
        member: "Roles",
        name: "RoleName",
        unique_id: "RoleId",
        tags: Some(("ListRoleTags", "RoleName", "RoleName")),
        attributes: role,
    },
    Part {
        resource_type: "policy",
        list: "ListPolicies",
        member: "Policies",
        name: "PolicyName",
        unique_id: "PolicyId",
        tags: Some(("ListPolicyTags", "PolicyArn", "Arn")),
        attributes: policy,
    },
    Part {
        resource_type: "group",
        list: "ListGroups",
        member: "Groups",
        name: "GroupName",
        unique_id: "GroupId",
        tags: None,
        attributes: |record, _| record,
    },
    Part {
        resource_type: "instance-profile",
        list: "ListInstanceProfiles",
        member: "InstanceProfiles",
        name: "InstanceProfileName",
        unique_id: "InstanceProfileId",
        tags: Some(("ListInstanceProfileTags", "InstanceProfileName", "InstanceProfileName")),
        attributes: instance_profile,
    },
];

/// The collector, registered with the host by `export_collector!`.
struct Iam;

impl Collector for Iam {
    fn describe() -> CollectorInfo {
        let mut operations: Vec<&str> = PARTS.iter().map(|p| p.list).collect();
        operations.extend(PARTS.iter().filter_map(|p| p.tags.map(|(operation, _, _)| operation)));
        CollectorInfo {
            name: "iam".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            summary: "IAM users, roles, customer-managed policies, groups and instance profiles"
                .to_string(),
            global: true,
            calls: vec![service_calls(SERVICE, &operations)],
            parts: PARTS.iter().map(|p| p.resource_type.to_string()).collect(),
        }
    }

    fn collect(target: Target) -> Result<CollectSummary, CollectError> {
        let mut c = Collection::new(&target);
        for part in &PARTS {
            // Customer-managed policies only.
            let input =
                if part.list == "ListPolicies" { json!({"Scope": "Local"}) } else { json!({}) };
            let what = format!("{} tags", part.resource_type);
            c.collect_items_with(
                part.resource_type,
                SERVICE,
                part.list,
                &input,
                part.member,
                |c, item| match part.tags {
                    // A listing that carries the tags saves the call.
                    _ if item["Tags"].as_array().is_some_and(|t| !t.is_empty()) => {
                        item["Tags"].clone()
                    }
                    Some((operation, input_member, item_member)) => {
                        let input = json!({input_member: item[item_member]});
                        c.detail_at(&what, SERVICE, operation, &input, "/Tags")
                    }
                    None => Value::Null,
                },
                |target, item, tags| record(target, part, item, tags),
            );
        }
        c.finish()
    }
}

export_collector!(Iam);

/// Every IAM record: id and name from the part's name member, region
/// `global`, AWS's `Arn`, the tags read for it, created-at `CreateDate`,
/// and the attributes `unique_id` and `path` before the type's own.
fn record(target: &Target, part: &Part, item: &Value, tags: &Value) -> Option<Resource> {
    let name = item[part.name].as_str().filter(|n| !n.is_empty())?;
    let record = ResourceBuilder::new(target, SERVICE, part.resource_type, name)
        .region("global")
        .arn(&item["Arn"])
        .aws_tags(tags)
        .default_name(name)
        .created_at(&item["CreateDate"])
        .attribute("unique_id", text(&item[part.unique_id]))
        .attribute("path", text(&item["Path"]));
    Some((part.attributes)(record, item).build())
}

/// A user (`user`). Attributes: `unique_id`, `path`, `password_last_used`
/// (when it last signed in to the console; `null` if never or unknown),
/// `permissions_boundary` (the boundary policy's ARN).
fn user(record: ResourceBuilder, item: &Value) -> ResourceBuilder {
    record.attribute("password_last_used", text(&item["PasswordLastUsed"])).attribute(
        "permissions_boundary",
        text(&item["PermissionsBoundary"]["PermissionsBoundaryArn"]),
    )
}

/// A role (`role`). Attributes: `unique_id`, `path`, `description`,
/// `max_session_duration` (seconds), `permissions_boundary`,
/// `service_linked` (under `/aws-service-role/`, created and managed by an
/// AWS service), `trusted_principals` (who may assume it, from its trust
/// policy's `Allow` statements: `*`, account or role ARNs, services such as
/// `ec2.amazonaws.com`, identity providers).
fn role(record: ResourceBuilder, item: &Value) -> ResourceBuilder {
    let path = item["Path"].as_str().unwrap_or_default();
    record
        .attribute("description", text(&item["Description"]))
        .attribute("max_session_duration", item["MaxSessionDuration"].as_u64())
        .attribute(
            "permissions_boundary",
            text(&item["PermissionsBoundary"]["PermissionsBoundaryArn"]),
        )
        .attribute("service_linked", path.starts_with("/aws-service-role/"))
        .attribute("trusted_principals", trusted_principals(&item["AssumeRolePolicyDocument"]))
}

/// A customer-managed policy (`policy`). Attributes: `unique_id`, `path`,
/// `description`, `default_version_id`, `attachment_count`,
/// `permissions_boundary_usage_count`, `attachable`, `updated_at`.
fn policy(record: ResourceBuilder, item: &Value) -> ResourceBuilder {
    record
        .attribute("description", text(&item["Description"]))
        .attribute("default_version_id", text(&item["DefaultVersionId"]))
        .attribute("attachment_count", item["AttachmentCount"].as_u64())
        .attribute(
            "permissions_boundary_usage_count",
            item["PermissionsBoundaryUsageCount"].as_u64(),
        )
        .attribute("attachable", item["IsAttachable"].as_bool())
        .attribute("updated_at", text(&item["UpdateDate"]))
}

/// An instance profile (`instance-profile`). Attributes: `unique_id`,
/// `path`, `role_names` and `role_arns` (the role it hands to instances).
/// (A group (`group`) has only `unique_id` and `path`.)
fn instance_profile(record: ResourceBuilder, item: &Value) -> ResourceBuilder {
    record
        .attribute("role_names", strings(&item["Roles"], "RoleName"))
        .attribute("role_arns", strings(&item["Roles"], "Arn"))
}

/// The principals a role's trust policy allows, in order and without
/// repeats. The document arrives as JSON text, URL-encoded as the IAM API
/// returns it, or already decoded; anything unreadable gives no principals.
fn trusted_principals(document: &Value) -> Vec<Value> {
    let policy = match document {
        Value::String(text) => {
            let decoded = if text.trim_start().starts_with('{') {
                text.clone()
            } else {
                percent_decode(text)
            };
            serde_json::from_str(&decoded).unwrap_or(Value::Null)
        }
        other => other.clone(),
    };
    let statements = match &policy["Statement"] {
        Value::Array(list) => list.clone(),
        single @ Value::Object(_) => vec![single.clone()],
        _ => Vec::new(),
    };
    let mut principals: Vec<Value> = Vec::new();
    let mut add = |p: &Value| {
        if p.is_string() && !principals.contains(p) {
            principals.push(p.clone());
        }
    };
    for statement in statements.iter().filter(|s| s["Effect"] == "Allow") {
        match &statement["Principal"] {
            Value::Object(kinds) => {
                for value in kinds.values() {
                    match value {
                        Value::Array(list) => list.iter().for_each(&mut add),
                        one => add(one),
                    }
                }
            }
            other => add(other),
        }
    }
    principals
}

/// Decodes `%XX` escapes (and `+` as a space, as form encoding writes it).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |at: usize| bytes.get(at).and_then(|b| (*b as char).to_digit(16));
        match (bytes[i], hex(i + 1), hex(i + 2)) {
            (b'%', Some(high), Some(low)) => {
                out.push((high * 16 + low) as u8);
                i += 3;
                continue;
            }
            (b'+', _, _) => out.push(b' '),
            (b, _, _) => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use inventag_plugin_sdk::testing::{self, attributes};

    fn target() -> Target {
        testing::target("us-east-1")
    }

    #[test]
    fn role_record_is_global_with_trusted_principals() {
        let document = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22Service%22%3A%22ec2.amazonaws.com%22%2C%22AWS%22%3A%5B%22arn%3Aaws%3Aiam%3A%3A222222222222%3Aroot%22%5D%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%5D%7D";
        let item = json!({"RoleName": "app", "RoleId": "AROA1", "Path": "/",
            "Arn": "arn:aws:iam::111111111111:role/app", "CreateDate": "2024-01-01T00:00:00Z",
            "MaxSessionDuration": 3600, "AssumeRolePolicyDocument": document});
        let tags = json!([{"Key": "team", "Value": "core"}]);
        let r = record(&target(), &PARTS[1], &item, &tags).unwrap();
        assert_eq!(
            (r.region.as_str(), r.id.as_str(), r.name.as_deref()),
            ("global", "app", Some("app"))
        );
        assert_eq!(r.arn.as_deref(), Some("arn:aws:iam::111111111111:role/app"));
        assert_eq!(r.tags.len(), 1);
        let a = attributes(&r);
        assert_eq!(a["unique_id"], "AROA1");
        assert_eq!(
            a["trusted_principals"],
            json!(["ec2.amazonaws.com", "arn:aws:iam::222222222222:root"])
        );
        assert_eq!(a["service_linked"], false);
    }

    #[test]
    fn trust_policies_in_every_form() {
        let decoded = json!(r#"{"Statement": {"Effect": "Allow", "Principal": "*"}}"#);
        assert_eq!(trusted_principals(&decoded), [json!("*")]);
        let denied = json!({"Statement": [{"Effect": "Deny", "Principal": {"AWS": "x"}}]});
        assert!(trusted_principals(&denied).is_empty());
        assert!(trusted_principals(&json!("%7Bbroken")).is_empty());
        assert!(trusted_principals(&Value::Null).is_empty());
        assert_eq!(percent_decode("a%20b+c%2"), "a b c%2");
        assert_eq!(percent_decode("%C3%A9%zz"), "é%zz");
    }

    #[test]
    fn every_part_builds_from_its_name_member() {
        for part in &PARTS {
            let item = json!({part.name: "n", part.unique_id: "u",
                "Arn": format!("arn:aws:iam::111111111111:{}/n", part.resource_type),
                "Roles": [{"RoleName": "r", "Arn": "arn:aws:iam::111111111111:role/r"}]});
            let r = record(&target(), part, &item, &Value::Null).unwrap();
            assert_eq!((r.resource_type.as_str(), r.id.as_str()), (part.resource_type, "n"));
            assert_eq!(attributes(&r)["unique_id"], "u");
            assert!(record(&target(), part, &json!({}), &Value::Null).is_none());
        }
        let profile = record(
            &target(),
            &PARTS[4],
            &json!({"InstanceProfileName": "p",
            "Roles": [{"RoleName": "r", "Arn": "arn:aws:iam::1:role/r"}]}),
            &Value::Null,
        )
        .unwrap();
        assert_eq!(attributes(&profile)["role_names"], json!(["r"]));
    }
}
