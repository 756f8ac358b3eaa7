//! The `rds` collector: the RDS DB instances, DB clusters (Aurora, and the
//! Neptune and DocumentDB clusters the RDS API also lists), manual DB
//! snapshots and DB subnet groups of one account and region.
//!
//! Each type is one part, named by its `resource-type`, read with one
//! paginated `Describe*` call. Instances, clusters and snapshots carry
//! their tags (`TagList`); subnet groups do not, so each gets a
//! `ListTagsForResource` call (a failure becomes one warning and the group
//! is kept without tags). Records have AWS's ARNs and the `Name` tag, else
//! the identifier, as their name. Snapshots are the manual ones
//! (`SnapshotType: manual`): automated snapshots come and go with the
//! retention window. No secret is recorded: the master user's secret
//! (`MasterUserSecret`) and password are never copied.

use inventag_plugin_sdk::prelude::*;
use inventag_plugin_sdk::value::{array, strings, text};
use serde_json::{Value, json};

/// The service name in the catalogue, in records and in ARNs.
const SERVICE: &str = "rds";

/// The collector, registered with the host by `export_collector!`.
struct Rds;

impl Collector for Rds {
    fn describe() -> CollectorInfo {
        CollectorInfo {
            name: "rds".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            summary: "RDS DB instances, DB clusters, manual DB snapshots and DB subnet groups"
                .to_string(),
            global: false,
            calls: vec![service_calls(
                SERVICE,
                &[
                    "DescribeDBInstances",
                    "DescribeDBClusters",
                    "DescribeDBSnapshots",
                    "DescribeDBSubnetGroups",
                    "ListTagsForResource",
                ],
            )],
            parts: ["db-instance", "db-cluster", "db-snapshot", "db-subnet-group"]
                .map(String::from)
                .to_vec(),
        }
    }

    fn collect(target: Target) -> Result<CollectSummary, CollectError> {
        let mut c = Collection::new(&target);
        let none = json!({});
        c.collect_items(
            "db-instance",
            SERVICE,
            "DescribeDBInstances",
            &none,
            "DBInstances",
            db_instance,
        );
        c.collect_items(
            "db-cluster",
            SERVICE,
            "DescribeDBClusters",
            &none,
            "DBClusters",
            db_cluster,
        );
        let manual = json!({"SnapshotType": "manual"});
        c.collect_items(
            "db-snapshot",
            SERVICE,
            "DescribeDBSnapshots",
            &manual,
            "DBSnapshots",
            db_snapshot,
        );
        c.collect_items_with(
            "db-subnet-group",
            SERVICE,
            "DescribeDBSubnetGroups",
            &none,
            "DBSubnetGroups",
            |c, item| {
                let input = json!({"ResourceName": item["DBSubnetGroupArn"]});
                c.detail_at(
                    "db-subnet-group tags",
                    SERVICE,
                    "ListTagsForResource",
                    &input,
                    "/TagList",
                )
            },
            db_subnet_group,
        );
        c.finish()
    }
}

export_collector!(Rds);

/// Starts a record whose id is in `id_member` (a record needs one), with
/// AWS's ARN from `arn_member`, the tags `tags`, and the `Name` tag else
/// the id as its name.
fn start(
    target: &Target,
    resource_type: &str,
    item: &Value,
    id_member: &str,
    arn_member: &str,
    tags: &Value,
) -> Option<ResourceBuilder> {
    let id = item[id_member].as_str().filter(|id| !id.is_empty())?;
    Some(
        ResourceBuilder::new(target, SERVICE, resource_type, id)
            .arn(&item[arn_member])
            .aws_tags(tags)
            .default_name(id),
    )
}

/// A DB instance (`db-instance`). State is `DBInstanceStatus`, created-at
/// `InstanceCreateTime`. Attributes: `instance_class`, `engine`,
/// `engine_version`, `storage_type`, `allocated_storage_gib`,
/// `multi_az`, `availability_zone`, `publicly_accessible`, `encrypted`,
/// `kms_key_id`, `endpoint` (host name) and `port`, `vpc_id`,
/// `subnet_group`, `security_group_ids`, `cluster_id` (for a cluster's
/// member), `deletion_protection`, `backup_retention_days`.
fn db_instance(target: &Target, item: &Value) -> Option<Resource> {
    let group = &item["DBSubnetGroup"];
    let record = start(
        target,
        "db-instance",
        item,
        "DBInstanceIdentifier",
        "DBInstanceArn",
        &item["TagList"],
    )?
    .state(&item["DBInstanceStatus"])
    .created_at(&item["InstanceCreateTime"])
    .attribute("instance_class", text(&item["DBInstanceClass"]))
    .attribute("engine", text(&item["Engine"]))
    .attribute("engine_version", text(&item["EngineVersion"]))
    .attribute("storage_type", text(&item["StorageType"]))
    .attribute("allocated_storage_gib", item["AllocatedStorage"].as_u64())
    .attribute("multi_az", item["MultiAZ"].as_bool())
    .attribute("availability_zone", text(&item["AvailabilityZone"]))
    .attribute("publicly_accessible", item["PubliclyAccessible"].as_bool())
    .attribute("encrypted", item["StorageEncrypted"].as_bool())
    .attribute("kms_key_id", text(&item["KmsKeyId"]))
    .attribute("endpoint", text(&item["Endpoint"]["Address"]))
    .attribute("port", item["Endpoint"]["Port"].as_u64())
    .attribute("vpc_id", text(&group["VpcId"]))
    .attribute("subnet_group", text(&group["DBSubnetGroupName"]))
    .attribute("security_group_ids", strings(&item["VpcSecurityGroups"], "VpcSecurityGroupId"))
    .attribute("cluster_id", text(&item["DBClusterIdentifier"]))
    .attribute("deletion_protection", item["DeletionProtection"].as_bool())
    .attribute("backup_retention_days", item["BackupRetentionPeriod"].as_u64())
    .build();
    Some(record)
}

/// A DB cluster (`db-cluster`). State is `Status`, created-at
/// `ClusterCreateTime`. Attributes: `engine`, `engine_version`,
/// `engine_mode` (`provisioned`, `serverless`...), `instance_class` (of
/// Multi-AZ DB clusters), `members` (its DB instance ids), `multi_az`,
/// `availability_zones`, `publicly_accessible`, `encrypted`, `kms_key_id`,
/// `endpoint`, `reader_endpoint`, `port`, `subnet_group`,
/// `security_group_ids`, `deletion_protection`, `backup_retention_days`.
fn db_cluster(target: &Target, item: &Value) -> Option<Resource> {
    let record =
        start(target, "db-cluster", item, "DBClusterIdentifier", "DBClusterArn", &item["TagList"])?
            .state(&item["Status"])
            .created_at(&item["ClusterCreateTime"])
            .attribute("engine", text(&item["Engine"]))
            .attribute("engine_version", text(&item["EngineVersion"]))
            .attribute("engine_mode", text(&item["EngineMode"]))
            .attribute("instance_class", text(&item["DBClusterInstanceClass"]))
            .attribute("members", strings(&item["DBClusterMembers"], "DBInstanceIdentifier"))
            .attribute("multi_az", item["MultiAZ"].as_bool())
            .attribute("availability_zones", strings(&item["AvailabilityZones"], ""))
            .attribute("publicly_accessible", item["PubliclyAccessible"].as_bool())
            .attribute("encrypted", item["StorageEncrypted"].as_bool())
            .attribute("kms_key_id", text(&item["KmsKeyId"]))
            .attribute("endpoint", text(&item["Endpoint"]))
            .attribute("reader_endpoint", text(&item["ReaderEndpoint"]))
            .attribute("port", item["Port"].as_u64())
            .attribute("subnet_group", text(&item["DBSubnetGroup"]))
            .attribute(
                "security_group_ids",
                strings(&item["VpcSecurityGroups"], "VpcSecurityGroupId"),
            )
            .attribute("deletion_protection", item["DeletionProtection"].as_bool())
            .attribute("backup_retention_days", item["BackupRetentionPeriod"].as_u64())
            .build();
    Some(record)
}

/// A manual DB snapshot (`db-snapshot`). State is `Status`, created-at
/// `SnapshotCreateTime`. Attributes: `instance_id` (the DB instance it
/// was taken of), `snapshot_type`, `engine`, `engine_version`,
/// `allocated_storage_gib`, `encrypted`, `kms_key_id`, `vpc_id`,
/// `availability_zone`.
fn db_snapshot(target: &Target, item: &Value) -> Option<Resource> {
    let record = start(
        target,
        "db-snapshot",
        item,
        "DBSnapshotIdentifier",
        "DBSnapshotArn",
        &item["TagList"],
    )?
    .state(&item["Status"])
    .created_at(&item["SnapshotCreateTime"])
    .attribute("instance_id", text(&item["DBInstanceIdentifier"]))
    .attribute("snapshot_type", text(&item["SnapshotType"]))
    .attribute("engine", text(&item["Engine"]))
    .attribute("engine_version", text(&item["EngineVersion"]))
    .attribute("allocated_storage_gib", item["AllocatedStorage"].as_u64())
    .attribute("encrypted", item["Encrypted"].as_bool())
    .attribute("kms_key_id", text(&item["KmsKeyId"]))
    .attribute("vpc_id", text(&item["VpcId"]))
    .attribute("availability_zone", text(&item["AvailabilityZone"]))
    .build();
    Some(record)
}

/// A DB subnet group (`db-subnet-group`), with the tags read for it.
/// State is `SubnetGroupStatus`. Attributes: `description`, `vpc_id`,
/// `subnet_ids`, `availability_zones` (of its subnets, without repeats).
fn db_subnet_group(target: &Target, item: &Value, tags: &Value) -> Option<Resource> {
    let subnets = &item["Subnets"];
    let mut zones: Vec<Value> = Vec::new();
    for subnet in array(subnets) {
        let zone = text(&subnet["SubnetAvailabilityZone"]["Name"]);
        if !zone.is_null() && !zones.contains(&zone) {
            zones.push(zone);
        }
    }
    let record =
        start(target, "db-subnet-group", item, "DBSubnetGroupName", "DBSubnetGroupArn", tags)?
            .state(&item["SubnetGroupStatus"])
            .attribute("description", text(&item["DBSubnetGroupDescription"]))
            .attribute("vpc_id", text(&item["VpcId"]))
            .attribute("subnet_ids", strings(subnets, "SubnetIdentifier"))
            .attribute("availability_zones", zones)
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
    fn instance_record() {
        let item = json!({"DBInstanceIdentifier": "db1", "DBInstanceStatus": "available",
            "DBInstanceArn": "arn:aws:rds:eu-west-1:111111111111:db:db1",
            "DBInstanceClass": "db.t3.micro", "Engine": "postgres", "AllocatedStorage": 20,
            "Endpoint": {"Address": "db1.x.rds.amazonaws.com", "Port": 5432},
            "DBSubnetGroup": {"VpcId": "vpc-1", "DBSubnetGroupName": "g"},
            "VpcSecurityGroups": [{"VpcSecurityGroupId": "sg-1"}],
            "PubliclyAccessible": false, "StorageEncrypted": true,
            "MasterUserSecret": {"SecretArn": "arn:aws:secretsmanager:..."},
            "TagList": [{"Key": "env", "Value": "prod"}]});
        let r = db_instance(&target(), &item).unwrap();
        assert_eq!(r.arn.as_deref(), Some("arn:aws:rds:eu-west-1:111111111111:db:db1"));
        assert_eq!((r.name.as_deref(), r.state.as_deref()), (Some("db1"), Some("available")));
        assert_eq!(r.tags[0].key, "env");
        assert!(!r.attributes.contains("secretsmanager"));
        let a = attributes(&r);
        assert_eq!((a["port"].clone(), a["vpc_id"].clone()), (json!(5432), json!("vpc-1")));
        assert_eq!(a["security_group_ids"], json!(["sg-1"]));
        assert_eq!(a["publicly_accessible"], false);
    }

    #[test]
    fn cluster_snapshot_and_subnet_group_records() {
        let cluster = db_cluster(&target(), &json!({"DBClusterIdentifier": "c1", "Status": "available",
            "DBClusterArn": "arn:aws:rds:eu-west-1:111111111111:cluster:c1",
            "DBClusterMembers": [{"DBInstanceIdentifier": "db1"}], "AvailabilityZones": ["eu-west-1a"]}))
        .unwrap();
        assert_eq!(attributes(&cluster)["members"], json!(["db1"]));
        assert_eq!(attributes(&cluster)["availability_zones"], json!(["eu-west-1a"]));

        let snap = db_snapshot(
            &target(),
            &json!({"DBSnapshotIdentifier": "s1", "Status": "available",
            "DBSnapshotArn": "arn:aws:rds:eu-west-1:111111111111:snapshot:s1",
            "SnapshotType": "manual", "SnapshotCreateTime": "2024-01-01T00:00:00Z"}),
        )
        .unwrap();
        assert_eq!(snap.created_at.as_deref(), Some("2024-01-01T00:00:00Z"));

        let group = db_subnet_group(
            &target(),
            &json!({"DBSubnetGroupName": "g", "VpcId": "vpc-1", "SubnetGroupStatus": "Complete",
                    "DBSubnetGroupArn": "arn:aws:rds:eu-west-1:111111111111:subgrp:g",
                    "Subnets": [
                        {"SubnetIdentifier": "subnet-1", "SubnetAvailabilityZone": {"Name": "eu-west-1a"}},
                        {"SubnetIdentifier": "subnet-2", "SubnetAvailabilityZone": {"Name": "eu-west-1a"}}]}),
            &json!([{"Key": "Name", "Value": "main"}]),
        )
        .unwrap();
        assert_eq!(group.name.as_deref(), Some("main"));
        let a = attributes(&group);
        assert_eq!(a["subnet_ids"], json!(["subnet-1", "subnet-2"]));
        assert_eq!(a["availability_zones"], json!(["eu-west-1a"]));
        assert!(db_subnet_group(&target(), &json!({}), &Value::Null).is_none());
    }
}
