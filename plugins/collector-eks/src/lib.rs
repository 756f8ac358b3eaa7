//! The `eks` collector: the EKS clusters and their managed node groups in
//! one account and region.
//!
//! `ListClusters` gives names, so each cluster gets a `DescribeCluster`;
//! node groups come from `ListNodegroups` for each cluster and a
//! `DescribeNodegroup` each. Both descriptions carry the tags. A failed
//! description becomes one warning and the resource is still recorded from
//! its name. Records have AWS's ARNs. Types: `cluster` and `nodegroup`
//! (spelt as in AWS's API and ARNs), whose attributes are listed on the
//! functions that build them.

use inventag_plugin_sdk::prelude::*;
use inventag_plugin_sdk::value::{strings, text};
use serde_json::{Value, json};

/// The service name in the catalogue, in records and in ARNs.
const SERVICE: &str = "eks";

/// The collector, registered with the host by `export_collector!`.
struct Eks;

impl Collector for Eks {
    fn describe() -> CollectorInfo {
        CollectorInfo {
            name: "eks".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            summary: "EKS clusters and managed node groups".to_string(),
            global: false,
            calls: vec![service_calls(
                SERVICE,
                &["ListClusters", "DescribeCluster", "ListNodegroups", "DescribeNodegroup"],
            )],
            parts: ["cluster", "nodegroup"].map(String::from).to_vec(),
        }
    }

    fn collect(target: Target) -> Result<CollectSummary, CollectError> {
        let mut c = Collection::new(&target);
        c.collect_items_with(
            "cluster",
            SERVICE,
            "ListClusters",
            &json!({}),
            "clusters",
            |c, name| {
                c.detail_at(
                    "cluster details",
                    SERVICE,
                    "DescribeCluster",
                    &json!({"name": name}),
                    "/cluster",
                )
            },
            cluster,
        );
        c.part("nodegroup", collect_node_groups);
        c.finish()
    }
}

export_collector!(Eks);

/// The node groups of every cluster.
fn collect_node_groups(c: &mut Collection) -> Result<(), AwsError> {
    let clusters: Vec<Value> =
        c.items(SERVICE, "ListClusters", &json!({}), "clusters").collect::<Result<_, _>>()?;
    for cluster in clusters {
        let input = json!({"clusterName": cluster});
        for name in c.items(SERVICE, "ListNodegroups", &input, "nodegroups") {
            let name = name?;
            let input = json!({"clusterName": cluster, "nodegroupName": name});
            let mut item = c.detail_at(
                "node group details",
                SERVICE,
                "DescribeNodegroup",
                &input,
                "/nodegroup",
            );
            if item.is_null() {
                item = json!({"clusterName": cluster, "nodegroupName": name});
            }
            if let Some(record) = node_group(c.target(), &item) {
                c.emit(record);
            }
            if c.is_stopped() {
                return Ok(());
            }
        }
    }
    Ok(())
}

/// A cluster (`cluster`) from its name and `DescribeCluster`'s `cluster`
/// (`null` when unread). The ARN is AWS's, else built; state is `status`,
/// created-at `createdAt`. Attributes: `kubernetes_version`,
/// `platform_version`, `endpoint`, `public_endpoint` (the API endpoint is
/// reachable from the internet) and `public_access_cidrs`,
/// `private_endpoint`, `vpc_id`, `subnet_ids`, `security_group_ids`
/// (with the cluster security group), `role_arn`, `encrypted` (secrets
/// are envelope-encrypted with KMS) and `kms_key_id`.
fn cluster(target: &Target, name: &Value, item: &Value) -> Option<Resource> {
    let name = name.as_str().filter(|n| !n.is_empty())?;
    let vpc = &item["resourcesVpcConfig"];
    let mut groups = strings(&vpc["securityGroupIds"], "");
    groups.extend(vpc["clusterSecurityGroupId"].as_str().map(Value::from));
    let key = &item["encryptionConfig"][0]["provider"]["keyArn"];
    let record = ResourceBuilder::new(target, SERVICE, "cluster", name)
        .arn(
            item["arn"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| arn_in(target, SERVICE, &format!("cluster/{name}"))),
        )
        .aws_tags(&item["tags"])
        .default_name(name)
        .state(&item["status"])
        .created_at(&item["createdAt"])
        .attribute("kubernetes_version", text(&item["version"]))
        .attribute("platform_version", text(&item["platformVersion"]))
        .attribute("endpoint", text(&item["endpoint"]))
        .attribute("public_endpoint", vpc["endpointPublicAccess"].as_bool())
        .attribute("public_access_cidrs", strings(&vpc["publicAccessCidrs"], ""))
        .attribute("private_endpoint", vpc["endpointPrivateAccess"].as_bool())
        .attribute("vpc_id", text(&vpc["vpcId"]))
        .attribute("subnet_ids", strings(&vpc["subnetIds"], ""))
        .attribute("security_group_ids", groups)
        .attribute("role_arn", text(&item["roleArn"]))
        .attribute("encrypted", key.is_string())
        .attribute("kms_key_id", text(key))
        .build();
    Some(record)
}

/// A managed node group (`nodegroup`) from `DescribeNodegroup`'s
/// `nodegroup` (or only its cluster and name when unread). The id is its
/// name (unique within its cluster; the ARN names the cluster too), the name the `Name` tag else the node group's
/// name, state `status`, created-at `createdAt`. Attributes: `cluster`,
/// `kubernetes_version`, `release_version`, `capacity_type` (`ON_DEMAND`,
/// `SPOT`), `instance_types`, `ami_type`, `disk_size_gib`, `min_size`,
/// `max_size`, `desired_size`, `subnet_ids`, `node_role`.
fn node_group(target: &Target, item: &Value) -> Option<Resource> {
    let cluster = item["clusterName"].as_str().unwrap_or_default();
    let scaling = &item["scalingConfig"];
    let record = ResourceBuilder::from_item(
        target,
        SERVICE,
        "nodegroup",
        item,
        "nodegroupName",
        &item["tags"],
    )?
    .arn(&item["nodegroupArn"])
    .state(&item["status"])
    .created_at(&item["createdAt"])
    .attribute("cluster", cluster)
    .attribute("kubernetes_version", text(&item["version"]))
    .attribute("release_version", text(&item["releaseVersion"]))
    .attribute("capacity_type", text(&item["capacityType"]))
    .attribute("instance_types", strings(&item["instanceTypes"], ""))
    .attribute("ami_type", text(&item["amiType"]))
    .attribute("disk_size_gib", item["diskSize"].as_u64())
    .attribute("min_size", scaling["minSize"].as_u64())
    .attribute("max_size", scaling["maxSize"].as_u64())
    .attribute("desired_size", scaling["desiredSize"].as_u64())
    .attribute("subnet_ids", strings(&item["subnets"], ""))
    .attribute("node_role", text(&item["nodeRole"]))
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
    fn cluster_and_node_group_records() {
        let item = json!({"name": "k", "arn": "arn:aws:eks:us-east-1:111111111111:cluster/k",
            "status": "ACTIVE", "version": "1.30", "tags": {"env": "prod"},
            "resourcesVpcConfig": {"vpcId": "vpc-1", "subnetIds": ["subnet-1"], "securityGroupIds": ["sg-1"],
                "clusterSecurityGroupId": "sg-2", "endpointPublicAccess": true},
            "encryptionConfig": [{"resources": ["secrets"], "provider": {"keyArn": "arn:k"}}]});
        let r = cluster(&target(), &json!("k"), &item).unwrap();
        assert_eq!((r.state.as_deref(), r.tags[0].key.as_str()), (Some("ACTIVE"), "env"));
        let a = attributes(&r);
        assert_eq!(a["security_group_ids"], json!(["sg-1", "sg-2"]));
        assert_eq!(
            (a["public_endpoint"].clone(), a["encrypted"].clone()),
            (json!(true), json!(true))
        );
        let bare = cluster(&target(), &json!("k"), &Value::Null).unwrap();
        assert_eq!(bare.arn.as_deref(), Some("arn:aws:eks:us-east-1:111111111111:cluster/k"));

        let ng = node_group(&target(), &json!({"nodegroupName": "workers", "clusterName": "k",
            "nodegroupArn": "arn:aws:eks:us-east-1:111111111111:nodegroup/k/workers/1",
            "scalingConfig": {"minSize": 1, "maxSize": 3, "desiredSize": 2}, "instanceTypes": ["t3.large"]})).unwrap();
        assert_eq!((ng.id.as_str(), ng.resource_type.as_str()), ("workers", "nodegroup"));
        assert_eq!(attributes(&ng)["desired_size"], 2);
        assert!(node_group(&target(), &json!({})).is_none());
    }
}
