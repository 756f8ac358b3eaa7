//! The `ec2` collector: EC2 instances, EBS volumes, VPCs, subnets and
//! security groups of one account and region.
//!
//! Every list is read with a paginated `Describe*` call (VPCs as one merged
//! document of every page, through `aws::paginate_all`). Each record has
//! the ARN AWS gives the resource (`arn:{partition}:ec2:{region}:{owner}:
//! {type}/{id}`, with the owner account for resources shared from another
//! account), the `Name` tag as its name and the tags in AWS's order. The
//! attributes of each resource type are listed on the function that builds
//! its record. One operation failing (access denied, say) does not stop the
//! others: it becomes a warning, and the collection fails only when every
//! operation failed.

use inventag_plugin_sdk::prelude::*;
use serde_json::{Value, json};

/// The service name in the catalogue, in records and in ARNs.
const SERVICE: &str = "ec2";

/// The collector, registered with the host by `export_collector!`.
struct Ec2;

impl Collector for Ec2 {
    fn describe() -> CollectorInfo {
        CollectorInfo {
            name: "ec2".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            summary: "EC2 instances, EBS volumes, VPCs, subnets and security groups".to_string(),
            global: false,
            calls: vec![service_calls(
                SERVICE,
                &[
                    "DescribeInstances",
                    "DescribeVolumes",
                    "DescribeVpcs",
                    "DescribeSubnets",
                    "DescribeSecurityGroups",
                ],
            )],
            parts: ["instances", "volumes", "vpcs", "subnets", "security groups"]
                .map(String::from)
                .to_vec(),
        }
    }

    fn collect(target: Target) -> Result<CollectSummary, CollectError> {
        let mut c = Collection::new(&target);
        c.part("instances", collect_instances);
        let none = json!({});
        c.collect_items("volumes", SERVICE, "DescribeVolumes", &none, "Volumes", volume);
        c.part("vpcs", collect_vpcs);
        c.collect_items("subnets", SERVICE, "DescribeSubnets", &none, "Subnets", subnet);
        c.collect_items(
            "security groups",
            SERVICE,
            "DescribeSecurityGroups",
            &none,
            "SecurityGroups",
            security_group,
        );
        let result = c.finish();
        match &result {
            Ok(summary) => log::info(format!(
                "collected {} EC2 resources in {} ({} warnings)",
                summary.emitted,
                target.region,
                summary.warnings.len()
            )),
            Err(e) => log::error(format!("EC2 collection failed: {}", e.message)),
        }
        result
    }
}

export_collector!(Ec2);

/// Pages through `DescribeInstances`, whose instances sit inside
/// reservations.
fn collect_instances(c: &mut Collection) -> Result<(), AwsError> {
    let region = c.target().region.clone();
    for page in aws::paginate(SERVICE, "DescribeInstances", &region, &json!({})) {
        let page = page?;
        for reservation in array(&page["Reservations"]) {
            let owner = reservation["OwnerId"].as_str();
            for item in array(&reservation["Instances"]) {
                if let Some(record) = instance(c.target(), owner, item) {
                    c.emit(record);
                }
            }
            if c.is_stopped() {
                return Ok(());
            }
        }
    }
    Ok(())
}

/// The items of a JSON array; nothing for anything else.
fn array(value: &Value) -> &[Value] {
    value.as_array().map(Vec::as_slice).unwrap_or_default()
}

/// Starts a record of type `resource_type` for `item`, whose id is in the
/// member `id_member`, with its ARN, tags and name. `arn_member` names the
/// member holding AWS's own ARN, when the output has one; `owner` is the
/// owning account when AWS reports it.
fn start(
    target: &Target,
    resource_type: &str,
    item: &Value,
    id_member: &str,
    arn_member: Option<&str>,
    owner: Option<&str>,
) -> Option<ResourceBuilder> {
    let id = item[id_member].as_str().filter(|id| !id.is_empty())?;
    let given_arn = arn_member.and_then(|m| item[m].as_str()).filter(|a| !a.is_empty());
    let arn = match given_arn {
        Some(arn) => arn.to_string(),
        None => {
            let account = owner.filter(|o| !o.is_empty()).unwrap_or(&target.account_id);
            let resource = format!("{resource_type}/{id}");
            arn_of(target, account, &resource)
        }
    };
    Some(ResourceBuilder::new(target, SERVICE, resource_type, id).arn(arn).aws_tags(&item["Tags"]))
}

fn arn_of(target: &Target, account: &str, resource: &str) -> String {
    arn(&target.partition, SERVICE, &target.region, account, resource)
}

/// An EC2 instance (`instance`). State is `State.Name`, created-at is
/// `LaunchTime`. Attributes: `instance_type`, `vpc_id`, `subnet_id`,
/// `availability_zone`, `private_ip`, `public_ip`, `image_id`, `platform`
/// (`PlatformDetails`, such as `Linux/UNIX`, else `Platform`), `architecture`.
fn instance(target: &Target, owner: Option<&str>, item: &Value) -> Option<Resource> {
    let platform = item["PlatformDetails"].as_str().or_else(|| item["Platform"].as_str());
    let record = start(target, "instance", item, "InstanceId", None, owner)?
        .state(&item["State"]["Name"])
        .created_at(&item["LaunchTime"])
        .attribute("instance_type", text(&item["InstanceType"]))
        .attribute("vpc_id", text(&item["VpcId"]))
        .attribute("subnet_id", text(&item["SubnetId"]))
        .attribute("availability_zone", text(&item["Placement"]["AvailabilityZone"]))
        .attribute("private_ip", text(&item["PrivateIpAddress"]))
        .attribute("public_ip", text(&item["PublicIpAddress"]))
        .attribute("image_id", text(&item["ImageId"]))
        .attribute("platform", platform)
        .attribute("architecture", text(&item["Architecture"]))
        .build();
    Some(record)
}

/// An EBS volume (`volume`). State is `State`, created-at is `CreateTime`.
/// Attributes: `size_gib`, `volume_type`, `encrypted`, `availability_zone`,
/// `attached_to` (the ids of the instances it is attached to).
fn volume(target: &Target, item: &Value) -> Option<Resource> {
    let attached_to: Vec<Value> = array(&item["Attachments"])
        .iter()
        .filter_map(|a| a["InstanceId"].as_str())
        .map(Value::from)
        .collect();
    let record = start(target, "volume", item, "VolumeId", None, None)?
        .state(&item["State"])
        .created_at(&item["CreateTime"])
        .attribute("size_gib", item["Size"].as_u64())
        .attribute("volume_type", text(&item["VolumeType"]))
        .attribute("encrypted", item["Encrypted"].as_bool())
        .attribute("availability_zone", text(&item["AvailabilityZone"]))
        .attribute("attached_to", attached_to)
        .build();
    Some(record)
}

/// A VPC (`vpc`). State is `State`. Attributes: `cidr_block`, `is_default`,
/// `owner_id`.
/// VPCs are few, so they are read in one merged document of every page.
fn collect_vpcs(c: &mut Collection) -> Result<(), AwsError> {
    let region = c.target().region.clone();
    let all = aws::paginate_all(SERVICE, "DescribeVpcs", &region, &json!({}))?;
    for item in all["Vpcs"].as_array().into_iter().flatten() {
        if let Some(record) = vpc(c.target(), item) {
            c.emit(record);
        }
    }
    Ok(())
}

fn vpc(target: &Target, item: &Value) -> Option<Resource> {
    let owner = item["OwnerId"].as_str();
    let record = start(target, "vpc", item, "VpcId", None, owner)?
        .state(&item["State"])
        .attribute("cidr_block", text(&item["CidrBlock"]))
        .attribute("is_default", item["IsDefault"].as_bool())
        .attribute("owner_id", owner)
        .build();
    Some(record)
}

/// A subnet (`subnet`). State is `State`; the ARN is AWS's `SubnetArn`.
/// Attributes: `vpc_id`, `cidr_block`, `availability_zone`,
/// `available_ip_count`, `default_for_az`, `owner_id`.
fn subnet(target: &Target, item: &Value) -> Option<Resource> {
    let owner = item["OwnerId"].as_str();
    let record = start(target, "subnet", item, "SubnetId", Some("SubnetArn"), owner)?
        .state(&item["State"])
        .attribute("vpc_id", text(&item["VpcId"]))
        .attribute("cidr_block", text(&item["CidrBlock"]))
        .attribute("availability_zone", text(&item["AvailabilityZone"]))
        .attribute("available_ip_count", item["AvailableIpAddressCount"].as_u64())
        .attribute("default_for_az", item["DefaultForAz"].as_bool())
        .attribute("owner_id", owner)
        .build();
    Some(record)
}

/// A security group (`security-group`); it has no state. Attributes:
/// `group_name`, `description`, `vpc_id`, `owner_id`, `ingress_rules` and
/// `egress_rules` (rule counts), `ingress` and `egress` (the rules as AWS
/// returns them in `IpPermissions` and `IpPermissionsEgress`).
fn security_group(target: &Target, item: &Value) -> Option<Resource> {
    let owner = item["OwnerId"].as_str();
    let ingress = array(&item["IpPermissions"]);
    let egress = array(&item["IpPermissionsEgress"]);
    let record = start(target, "security-group", item, "GroupId", Some("SecurityGroupArn"), owner)?
        .attribute("group_name", text(&item["GroupName"]))
        .attribute("description", text(&item["Description"]))
        .attribute("vpc_id", text(&item["VpcId"]))
        .attribute("owner_id", owner)
        .attribute("ingress_rules", ingress.len())
        .attribute("egress_rules", egress.len())
        .attribute("ingress", ingress.to_vec())
        .attribute("egress", egress.to_vec())
        .build();
    Some(record)
}

/// A string member as a JSON string, or `null` when absent or not a string.
fn text(value: &Value) -> Value {
    match value {
        Value::String(_) => value.clone(),
        _ => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> Target {
        Target {
            account_id: "111111111111".into(),
            account_name: "prod".into(),
            region: "us-east-1".into(),
            partition: "aws".into(),
            part: None,
        }
    }

    fn attributes(r: &Resource) -> Value {
        serde_json::from_str(&r.attributes).unwrap()
    }

    #[test]
    fn instance_record() {
        let item = json!({
            "InstanceId": "i-1", "InstanceType": "t3.micro", "ImageId": "ami-1",
            "State": {"Code": 16, "Name": "running"}, "LaunchTime": "2024-05-01T10:00:00Z",
            "Placement": {"AvailabilityZone": "us-east-1a"}, "VpcId": "vpc-1",
            "SubnetId": "subnet-1", "PrivateIpAddress": "10.0.0.5",
            "PlatformDetails": "Linux/UNIX", "Architecture": "x86_64",
            "Tags": [{"Key": "Name", "Value": "web"}, {"Key": "Empty", "Value": ""}],
        });
        let r = instance(&target(), Some("111111111111"), &item).unwrap();
        assert_eq!(r.arn.as_deref(), Some("arn:aws:ec2:us-east-1:111111111111:instance/i-1"));
        assert_eq!(r.name.as_deref(), Some("web"));
        assert_eq!(r.state.as_deref(), Some("running"));
        assert_eq!(r.created_at.as_deref(), Some("2024-05-01T10:00:00Z"));
        assert_eq!(r.tags.len(), 2);
        let a = attributes(&r);
        assert_eq!(a["availability_zone"], "us-east-1a");
        assert_eq!(a["public_ip"], Value::Null);
        assert_eq!(a["platform"], "Linux/UNIX");
        assert!(instance(&target(), None, &json!({"State": {}})).is_none());
    }

    #[test]
    fn volume_vpc_subnet_and_group_records() {
        let v = volume(
            &target(),
            &json!({"VolumeId": "vol-1", "Size": 8, "VolumeType": "gp3", "Encrypted": true,
                    "State": "in-use", "CreateTime": "2024-01-01T00:00:00Z",
                    "Attachments": [{"InstanceId": "i-1"}]}),
        )
        .unwrap();
        assert_eq!(v.state.as_deref(), Some("in-use"));
        assert_eq!(attributes(&v)["attached_to"], json!(["i-1"]));
        assert_eq!(attributes(&v)["size_gib"], 8);

        let shared = vpc(
            &target(),
            &json!({"VpcId": "vpc-1", "OwnerId": "222222222222", "State": "available",
                    "CidrBlock": "10.0.0.0/16", "IsDefault": false}),
        )
        .unwrap();
        assert_eq!(shared.arn.as_deref(), Some("arn:aws:ec2:us-east-1:222222222222:vpc/vpc-1"));
        assert_eq!(shared.account_id, "111111111111");

        let s = subnet(
            &target(),
            &json!({"SubnetId": "subnet-1", "SubnetArn": "arn:aws:ec2:x:y:subnet/subnet-1",
                    "AvailableIpAddressCount": 250, "DefaultForAz": true}),
        )
        .unwrap();
        assert_eq!(s.arn.as_deref(), Some("arn:aws:ec2:x:y:subnet/subnet-1"));
        assert_eq!(attributes(&s)["available_ip_count"], 250);

        let g = security_group(
            &target(),
            &json!({"GroupId": "sg-1", "GroupName": "default", "Description": "d",
                    "IpPermissions": [{"IpProtocol": "-1"}], "IpPermissionsEgress": []}),
        )
        .unwrap();
        assert_eq!(g.state, None);
        assert_eq!(g.name, None);
        assert_eq!(
            g.arn.as_deref(),
            Some("arn:aws:ec2:us-east-1:111111111111:security-group/sg-1")
        );
        let a = attributes(&g);
        assert_eq!((a["ingress_rules"].clone(), a["egress_rules"].clone()), (json!(1), json!(0)));
        assert_eq!(a["ingress"], json!([{"IpProtocol": "-1"}]));
    }
}
