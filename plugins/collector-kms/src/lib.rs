//! The `kms` collector: the KMS keys of one account and region.
//!
//! Customer-managed keys and AWS-managed keys (`aws/s3`, `aws/ebs`...) are
//! both recorded, the latter marked `aws_managed: true` (AWS creates them
//! in the account when a service first needs one; like the other defaults
//! they are kept, not hidden). `ListKeys` gives ids only, so each key gets
//! a `DescribeKey`; customer-managed keys also a `ListResourceTags` and,
//! for symmetric encryption keys, a `GetKeyRotationStatus` (AWS-managed
//! keys have no tags and rotate every year). One `ListAliases` call names
//! the keys. A failed read becomes one warning and the key is still
//! recorded with what is known. No key material, public key or key policy
//! is read. Records: the `key` type, whose attributes are listed on `key`.

use inventag_plugin_sdk::prelude::*;
use inventag_plugin_sdk::value::{array, text};
use serde_json::{Value, json};

/// The service name in the catalogue, in records and in ARNs.
const SERVICE: &str = "kms";

/// The collector, registered with the host by `export_collector!`.
struct Kms;

impl Collector for Kms {
    fn describe() -> CollectorInfo {
        CollectorInfo {
            name: "kms".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            summary: "KMS keys, customer-managed and AWS-managed (marked)".to_string(),
            global: false,
            calls: vec![service_calls(
                SERVICE,
                &[
                    "ListKeys",
                    "DescribeKey",
                    "ListAliases",
                    "ListResourceTags",
                    "GetKeyRotationStatus",
                ],
            )],
            parts: vec!["key".to_string()],
        }
    }

    fn collect(target: Target) -> Result<CollectSummary, CollectError> {
        let mut c = Collection::new(&target);
        c.part("key", collect_keys);
        c.finish()
    }
}

export_collector!(Kms);

/// Reads the aliases once, then each key's description, tags and rotation.
fn collect_keys(c: &mut Collection) -> Result<(), AwsError> {
    let aliases = aws::paginate_all(SERVICE, "ListAliases", c.region(), &json!({}));
    let aliases = c.detail("key aliases", aliases).unwrap_or_default();
    for item in c.items(SERVICE, "ListKeys", &json!({}), "Keys") {
        let item = item?;
        let Some(key_id) = item["KeyId"].as_str() else { continue };
        let input = json!({"KeyId": key_id});
        let metadata =
            c.detail_at("key description", SERVICE, "DescribeKey", &input, "/KeyMetadata");
        let mut details = json!({"metadata": metadata, "tags": null, "rotation": null});
        if metadata["KeyManager"] == "CUSTOMER" {
            details["tags"] = c.detail_at("key tags", SERVICE, "ListResourceTags", &input, "/Tags");
            if metadata["KeySpec"] == "SYMMETRIC_DEFAULT"
                && metadata["KeyState"] != "PendingDeletion"
            {
                let status = c.call(SERVICE, "GetKeyRotationStatus", &input);
                let absent = ["UnsupportedOperationException", "KMSInvalidStateException"];
                let status = c.detail("key rotation", aws::or_absent(status, &absent));
                details["rotation"] = status.flatten().unwrap_or_default();
            }
        }
        c.emit(key(c.target(), &item, &details, &aliases["Aliases"]));
        if c.is_stopped() {
            break;
        }
    }
    Ok(())
}

/// A key (`key`) from its `ListKeys` item, `details` (`metadata`, the
/// `DescribeKey` output's `KeyMetadata`; `tags`; `rotation`, the
/// `GetKeyRotationStatus` output) and every alias of the region. The id is
/// the key id, the ARN AWS's, the name the `Name` tag else its first alias
/// (without `alias/`); state is `KeyState` (`Enabled`, `PendingDeletion`...),
/// created-at `CreationDate`. Attributes: `aws_managed` and `key_manager`
/// (`AWS` or `CUSTOMER`), `aliases`, `description`, `enabled`,
/// `key_usage` (`ENCRYPT_DECRYPT`, `SIGN_VERIFY`...), `key_spec`, `origin`
/// (`AWS_KMS`, `EXTERNAL`, `AWS_CLOUDHSM`...), `multi_region`,
/// `rotation_enabled` (`true` for AWS-managed keys, `null` when it does
/// not apply or is unknown), `deletion_date`.
fn key(target: &Target, item: &Value, details: &Value, aliases: &Value) -> Resource {
    let key_id = item["KeyId"].as_str().unwrap_or_default();
    let m = &details["metadata"];
    let names: Vec<&str> = array(aliases)
        .iter()
        .filter(|a| a["TargetKeyId"] == key_id)
        .filter_map(|a| a["AliasName"].as_str())
        .collect();
    let first_alias = names.first().map(|n| n.trim_start_matches("alias/"));
    let aws_managed = m["KeyManager"] == "AWS"
        || (m.is_null() && names.iter().any(|n| n.starts_with("alias/aws/")));
    let rotation = if aws_managed {
        Value::from(true)
    } else {
        details["rotation"]["KeyRotationEnabled"].clone()
    };
    ResourceBuilder::new(target, SERVICE, "key", key_id)
        .arn(item["KeyArn"].as_str().or(m["Arn"].as_str()))
        .aws_tags(&details["tags"])
        .default_name(first_alias)
        .state(&m["KeyState"])
        .created_at(&m["CreationDate"])
        .attribute("aws_managed", aws_managed)
        .attribute("key_manager", text(&m["KeyManager"]))
        .attribute("aliases", names)
        .attribute("description", text(&m["Description"]))
        .attribute("enabled", m["Enabled"].as_bool())
        .attribute("key_usage", text(&m["KeyUsage"]))
        .attribute("key_spec", text(&m["KeySpec"]))
        .attribute("origin", text(&m["Origin"]))
        .attribute("multi_region", m["MultiRegion"].as_bool())
        .attribute("rotation_enabled", rotation)
        .attribute("deletion_date", text(&m["DeletionDate"]))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use inventag_plugin_sdk::testing::{self, attributes};

    fn target() -> Target {
        testing::target("us-east-1")
    }

    #[test]
    fn customer_and_aws_managed_keys() {
        let aliases = json!([
            {"AliasName": "alias/app", "TargetKeyId": "k1"},
            {"AliasName": "alias/app-old", "TargetKeyId": "k1"},
            {"AliasName": "alias/aws/s3", "TargetKeyId": "k2"},
            {"AliasName": "alias/unused"}]);
        let item = json!({"KeyId": "k1", "KeyArn": "arn:aws:kms:us-east-1:111111111111:key/k1"});
        let details = json!({
            "metadata": {"KeyId": "k1", "KeyManager": "CUSTOMER", "KeyState": "Enabled",
                "KeySpec": "SYMMETRIC_DEFAULT", "CreationDate": "2024-01-01T00:00:00Z", "Enabled": true},
            "tags": [{"TagKey": "team", "TagValue": "sec"}],
            "rotation": {"KeyRotationEnabled": false}});
        let r = key(&target(), &item, &details, &aliases);
        assert_eq!(r.arn.as_deref(), Some("arn:aws:kms:us-east-1:111111111111:key/k1"));
        assert_eq!((r.name.as_deref(), r.state.as_deref()), (Some("app"), Some("Enabled")));
        assert_eq!((r.tags[0].key.as_str(), r.tags[0].value.as_str()), ("team", "sec"));
        let a = attributes(&r);
        assert_eq!(a["aliases"], json!(["alias/app", "alias/app-old"]));
        assert_eq!(
            (a["aws_managed"].clone(), a["rotation_enabled"].clone()),
            (json!(false), json!(false))
        );

        let item = json!({"KeyId": "k2", "KeyArn": "arn:aws:kms:us-east-1:111111111111:key/k2"});
        let details = json!({"metadata": {"KeyManager": "AWS", "KeyState": "Enabled"}, "tags": null, "rotation": null});
        let a = attributes(&key(&target(), &item, &details, &aliases));
        assert_eq!(
            (a["aws_managed"].clone(), a["rotation_enabled"].clone()),
            (json!(true), json!(true))
        );

        let undescribed = json!({"metadata": null, "tags": null, "rotation": null});
        let r = key(&target(), &item, &undescribed, &Value::Null);
        assert_eq!((r.name.clone(), attributes(&r)["aws_managed"].clone()), (None, json!(false)));
    }
}
