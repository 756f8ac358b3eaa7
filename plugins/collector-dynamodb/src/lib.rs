//! The `dynamodb` collector: the DynamoDB tables of one account and region.
//!
//! `ListTables` gives names only, so each table gets a `DescribeTable` and
//! a `ListTagsOfResource` call. A failed describe or tag read becomes one
//! warning, and the table is still recorded with what is known (its name
//! and ARN). Nothing reads items. Records: the `table` type, whose
//! attributes are listed on `table`.

use inventag_plugin_sdk::prelude::*;
use inventag_plugin_sdk::value::{array, strings, text};
use serde_json::{Value, json};

/// The service name in the catalogue, in records and in ARNs.
const SERVICE: &str = "dynamodb";

/// The collector, registered with the host by `export_collector!`.
struct DynamoDb;

impl Collector for DynamoDb {
    fn describe() -> CollectorInfo {
        CollectorInfo {
            name: "dynamodb".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            summary: "DynamoDB tables".to_string(),
            global: false,
            calls: vec![service_calls(
                SERVICE,
                &["ListTables", "DescribeTable", "ListTagsOfResource"],
            )],
            parts: vec!["table".to_string()],
        }
    }

    fn collect(target: Target) -> Result<CollectSummary, CollectError> {
        let mut c = Collection::new(&target);
        c.collect_items_with(
            "table",
            SERVICE,
            "ListTables",
            &json!({}),
            "TableNames",
            |c, name| {
                let described = c.detail_at(
                    "table description",
                    SERVICE,
                    "DescribeTable",
                    &json!({"TableName": name}),
                    "/Table",
                );
                let arn = match described["TableArn"].as_str() {
                    Some(arn) => Value::from(arn),
                    None => Value::from(arn_in(
                        c.target(),
                        SERVICE,
                        &format!("table/{}", name.as_str().unwrap_or_default()),
                    )),
                };
                let tags = c.detail_at(
                    "table tags",
                    SERVICE,
                    "ListTagsOfResource",
                    &json!({"ResourceArn": arn}),
                    "/Tags",
                );
                json!({"table": described, "arn": arn, "tags": tags})
            },
            table,
        );
        c.finish()
    }
}

export_collector!(DynamoDb);

/// A table (`table`) from its name and `details`: `table` (the
/// `DescribeTable` output's `Table`, `null` when unread), `arn` (AWS's, or
/// built when the table could not be described) and `tags`. State is
/// `TableStatus`, created-at `CreationDateTime`. Attributes:
/// `billing_mode` (`PROVISIONED`, `PAY_PER_REQUEST`), `read_capacity` and
/// `write_capacity` (provisioned units), `item_count` and `size_bytes`
/// (AWS's estimates, updated about every six hours), `table_class`,
/// `encrypted` (always true: DynamoDB encrypts every table), `encryption`
/// (`KMS`, or `AWS_OWNED` for the default key), `kms_key_id`,
/// `stream_enabled`, `stream_view_type`, `replica_regions` (of a global
/// table), `deletion_protection`, `key_schema` (attribute and key type
/// pairs), `global_secondary_indexes` (their names).
fn table(target: &Target, name: &Value, details: &Value) -> Option<Resource> {
    let name = name.as_str().filter(|n| !n.is_empty())?;
    let t = &details["table"];
    let sse = &t["SSEDescription"];
    let encryption = sse["SSEType"].as_str().unwrap_or("AWS_OWNED");
    let billing =
        t["BillingModeSummary"]["BillingMode"].as_str().or(t.is_object().then_some("PROVISIONED"));
    let keys: Vec<Value> = array(&t["KeySchema"])
        .iter()
        .map(|k| json!({"attribute": k["AttributeName"], "key_type": k["KeyType"]}))
        .collect();
    let record = ResourceBuilder::new(target, SERVICE, "table", name)
        .arn(&details["arn"])
        .aws_tags(&details["tags"])
        .default_name(name)
        .state(&t["TableStatus"])
        .created_at(&t["CreationDateTime"])
        .attribute("billing_mode", billing)
        .attribute("read_capacity", t["ProvisionedThroughput"]["ReadCapacityUnits"].as_u64())
        .attribute("write_capacity", t["ProvisionedThroughput"]["WriteCapacityUnits"].as_u64())
        .attribute("item_count", t["ItemCount"].as_u64())
        .attribute("size_bytes", t["TableSizeBytes"].as_u64())
        .attribute("table_class", text(&t["TableClassSummary"]["TableClass"]))
        .attribute("encrypted", true)
        .attribute("encryption", encryption)
        .attribute("kms_key_id", text(&sse["KMSMasterKeyArn"]))
        .attribute(
            "stream_enabled",
            t["StreamSpecification"]["StreamEnabled"].as_bool().unwrap_or(false),
        )
        .attribute("stream_view_type", text(&t["StreamSpecification"]["StreamViewType"]))
        .attribute("replica_regions", strings(&t["Replicas"], "RegionName"))
        .attribute("deletion_protection", t["DeletionProtectionEnabled"].as_bool())
        .attribute("key_schema", keys)
        .attribute("global_secondary_indexes", strings(&t["GlobalSecondaryIndexes"], "IndexName"))
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
    fn described_table() {
        let details = json!({
            "table": {"TableName": "orders", "TableStatus": "ACTIVE",
                "CreationDateTime": "2024-01-01T00:00:00Z", "ItemCount": 5, "TableSizeBytes": 100,
                "BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"},
                "SSEDescription": {"Status": "ENABLED", "SSEType": "KMS", "KMSMasterKeyArn": "arn:k"},
                "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
                "StreamSpecification": {"StreamEnabled": true, "StreamViewType": "NEW_IMAGE"}},
            "arn": "arn:aws:dynamodb:us-east-1:111111111111:table/orders",
            "tags": [{"Key": "Name", "Value": "Orders"}],
        });
        let r = table(&target(), &json!("orders"), &details).unwrap();
        assert_eq!(r.arn.as_deref(), Some("arn:aws:dynamodb:us-east-1:111111111111:table/orders"));
        assert_eq!((r.name.as_deref(), r.state.as_deref()), (Some("Orders"), Some("ACTIVE")));
        let a = attributes(&r);
        assert_eq!(a["billing_mode"], "PAY_PER_REQUEST");
        assert_eq!(
            (a["encryption"].clone(), a["kms_key_id"].clone()),
            (json!("KMS"), json!("arn:k"))
        );
        assert_eq!(a["key_schema"], json!([{"attribute": "id", "key_type": "HASH"}]));
        assert_eq!(a["stream_enabled"], true);
    }

    #[test]
    fn undescribed_table_keeps_name_and_arn() {
        let details = json!({"table": null, "arn": "arn:aws:dynamodb:us-east-1:111111111111:table/t", "tags": null});
        let r = table(&target(), &json!("t"), &details).unwrap();
        assert_eq!(r.name.as_deref(), Some("t"));
        assert_eq!(r.state, None);
        let a = attributes(&r);
        assert_eq!(
            (a["billing_mode"].clone(), a["encryption"].clone()),
            (Value::Null, json!("AWS_OWNED"))
        );
        assert!(table(&target(), &json!(null), &details).is_none());
    }
}
