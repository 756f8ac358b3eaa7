//! The `ec2` collector: EC2 instances, EBS volumes, the account's own EBS
//! snapshots and AMIs, key pairs, Elastic IP addresses and network
//! interfaces of one account and region. (VPCs, subnets, security groups
//! and the rest of the network are the `vpc` collector's.)
//!
//! Each resource type is one part, named by its `resource-type`, read with
//! one paginated `Describe*` call; one part failing (access denied, say)
//! becomes a warning and the others go on. Snapshots and images are the
//! account's own (`OwnerIds`/`Owners` `self`), not the public catalogue.
//!
//! Each record has the ARN AWS defines for the resource,
//! `arn:{partition}:ec2:{region}:{owner}:{type}/{id}` with the owning
//! account (for resources shared from another account, that account), or
//! with an empty account for snapshots and images
//! (`arn:aws:ec2:us-east-1::snapshot/snap-1`), as AWS writes them. The name
//! is the `Name` tag, else the resource's own name (an AMI's or key pair's
//! name); tags are in AWS's order. The attributes of each type are listed on
//! the function that builds its record. Key pairs are described without
//! their public key, and nothing reads instance user data.

use inventag_plugin_sdk::prelude::*;
use inventag_plugin_sdk::value::{array, strings, text};
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
            summary: "EC2 instances, EBS volumes, own snapshots and AMIs, key pairs, Elastic IPs \
                      and network interfaces"
                .to_string(),
            global: false,
            calls: vec![service_calls(
                SERVICE,
                &[
                    "DescribeInstances",
                    "DescribeVolumes",
                    "DescribeSnapshots",
                    "DescribeImages",
                    "DescribeKeyPairs",
                    "DescribeAddresses",
                    "DescribeNetworkInterfaces",
                ],
            )],
            parts: [
                "instance",
                "volume",
                "snapshot",
                "image",
                "key-pair",
                "elastic-ip",
                "network-interface",
            ]
            .map(String::from)
            .to_vec(),
        }
    }

    fn collect(target: Target) -> Result<CollectSummary, CollectError> {
        let mut c = Collection::new(&target);
        c.part("instance", collect_instances);
        c.collect_items("volume", SERVICE, "DescribeVolumes", &json!({}), "Volumes", volume);
        let own = json!({"OwnerIds": ["self"]});
        c.collect_items("snapshot", SERVICE, "DescribeSnapshots", &own, "Snapshots", snapshot);
        let own = json!({"Owners": ["self"]});
        c.collect_items("image", SERVICE, "DescribeImages", &own, "Images", image);
        c.collect_items("key-pair", SERVICE, "DescribeKeyPairs", &json!({}), "KeyPairs", key_pair);
        let none = json!({});
        c.collect_items("elastic-ip", SERVICE, "DescribeAddresses", &none, "Addresses", address);
        c.collect_items(
            "network-interface",
            SERVICE,
            "DescribeNetworkInterfaces",
            &none,
            "NetworkInterfaces",
            network_interface,
        );
        c.finish()
    }
}

export_collector!(Ec2);

/// Pages through `DescribeInstances`, whose instances sit inside
/// reservations.
fn collect_instances(c: &mut Collection) -> Result<(), AwsError> {
    for page in aws::paginate(SERVICE, "DescribeInstances", c.region(), &json!({})) {
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

/// Starts a record of type `resource_type` for `item`, whose id is in the
/// member `id_member` (a record needs one), with the ARN
/// `arn:...:ec2:{region}:{account}:{type}/{id}` and the tags of the member
/// `tags_member`. `account` is the owner for the ARN: `Some("")` for the
/// types whose ARNs have no account, `None` for the target's account.
fn start(
    target: &Target,
    resource_type: &str,
    item: &Value,
    id_member: &str,
    account: Option<&str>,
    tags_member: &str,
) -> Option<ResourceBuilder> {
    let id = item[id_member].as_str().filter(|id| !id.is_empty())?;
    let account = account.unwrap_or(&target.account_id);
    let resource = format!("{resource_type}/{id}");
    let arn = arn(&target.partition, SERVICE, &target.region, account, &resource);
    Some(
        ResourceBuilder::new(target, SERVICE, resource_type, id)
            .arn(arn)
            .aws_tags(&item[tags_member]),
    )
}

/// The owner of a resource for its ARN, unless AWS left it out.
fn owner(item: &Value) -> Option<&str> {
    item["OwnerId"].as_str().filter(|o| !o.is_empty())
}

/// An EC2 instance (`instance`). State is `State.Name`, created-at is
/// `LaunchTime`. Attributes: `instance_type`, `vpc_id`, `subnet_id`,
/// `availability_zone`, `private_ip`, `public_ip`, `public` (whether it has
/// a public IP address), `image_id`, `platform` (`PlatformDetails`, such as
/// `Linux/UNIX`, else `Platform`), `architecture`, `key_name`,
/// `security_group_ids`, `iam_instance_profile` (its ARN), `lifecycle`
/// (`spot` or `capacity-block`; `null` for on-demand), `tenancy`.
fn instance(target: &Target, owner: Option<&str>, item: &Value) -> Option<Resource> {
    let platform = item["PlatformDetails"].as_str().or_else(|| item["Platform"].as_str());
    let owner = owner.filter(|o| !o.is_empty());
    let public_ip = text(&item["PublicIpAddress"]);
    let record = start(target, "instance", item, "InstanceId", owner, "Tags")?
        .state(&item["State"]["Name"])
        .created_at(&item["LaunchTime"])
        .attribute("instance_type", text(&item["InstanceType"]))
        .attribute("vpc_id", text(&item["VpcId"]))
        .attribute("subnet_id", text(&item["SubnetId"]))
        .attribute("availability_zone", text(&item["Placement"]["AvailabilityZone"]))
        .attribute("private_ip", text(&item["PrivateIpAddress"]))
        .attribute("public", !public_ip.is_null())
        .attribute("public_ip", public_ip)
        .attribute("image_id", text(&item["ImageId"]))
        .attribute("platform", platform)
        .attribute("architecture", text(&item["Architecture"]))
        .attribute("key_name", text(&item["KeyName"]))
        .attribute("security_group_ids", strings(&item["SecurityGroups"], "GroupId"))
        .attribute("iam_instance_profile", text(&item["IamInstanceProfile"]["Arn"]))
        .attribute("lifecycle", text(&item["InstanceLifecycle"]))
        .attribute("tenancy", text(&item["Placement"]["Tenancy"]))
        .build();
    Some(record)
}

/// An EBS volume (`volume`). State is `State`, created-at is `CreateTime`.
/// Attributes: `size_gib`, `volume_type`, `iops`, `throughput`,
/// `encrypted`, `kms_key_id`, `availability_zone`, `snapshot_id` (the
/// snapshot it was made from), `multi_attach`, `attached_to` (the ids of
/// the instances it is attached to).
fn volume(target: &Target, item: &Value) -> Option<Resource> {
    let record = start(target, "volume", item, "VolumeId", None, "Tags")?
        .state(&item["State"])
        .created_at(&item["CreateTime"])
        .attribute("size_gib", item["Size"].as_u64())
        .attribute("volume_type", text(&item["VolumeType"]))
        .attribute("iops", item["Iops"].as_u64())
        .attribute("throughput", item["Throughput"].as_u64())
        .attribute("encrypted", item["Encrypted"].as_bool())
        .attribute("kms_key_id", text(&item["KmsKeyId"]))
        .attribute("availability_zone", text(&item["AvailabilityZone"]))
        .attribute("snapshot_id", text(&item["SnapshotId"]).as_str().filter(|s| !s.is_empty()))
        .attribute("multi_attach", item["MultiAttachEnabled"].as_bool())
        .attribute("attached_to", strings(&item["Attachments"], "InstanceId"))
        .build();
    Some(record)
}

/// One of the account's own EBS snapshots (`snapshot`; another account's
/// is skipped); its ARN has no account (`arn:aws:ec2:{region}::snapshot/{id}`). State is `State`,
/// created-at is `StartTime`. Attributes: `volume_id`, `volume_size_gib`,
/// `encrypted`, `kms_key_id`, `description`, `storage_tier`, `progress`,
/// `owner_id`.
fn snapshot(target: &Target, item: &Value) -> Option<Resource> {
    // `OwnerIds: ["self"]` already asks for these; a stand-in that ignores
    // it (moto) must not fill the BOM with other accounts' snapshots.
    if owner(item).is_some_and(|o| o != target.account_id) {
        return None;
    }
    let record = start(target, "snapshot", item, "SnapshotId", Some(""), "Tags")?
        .state(&item["State"])
        .created_at(&item["StartTime"])
        .attribute("volume_id", text(&item["VolumeId"]))
        .attribute("volume_size_gib", item["VolumeSize"].as_u64())
        .attribute("encrypted", item["Encrypted"].as_bool())
        .attribute("kms_key_id", text(&item["KmsKeyId"]))
        .attribute("description", text(&item["Description"]))
        .attribute("storage_tier", text(&item["StorageTier"]))
        .attribute("progress", text(&item["Progress"]))
        .attribute("owner_id", owner(item))
        .build();
    Some(record)
}

/// One of the account's own AMIs (`image`); its ARN has no account
/// (`arn:aws:ec2:{region}::image/{id}`). The name is the `Name` tag, else
/// the AMI's name. State is `State`, created-at is `CreationDate`.
/// Attributes: `image_name`, `description`, `public` (launch permission
/// for everyone), `architecture`, `platform` (`PlatformDetails`),
/// `image_type`, `root_device_type`, `virtualization_type`, `ena_support`,
/// `boot_mode`, `deprecation_time`, `snapshot_ids` (of its EBS block
/// devices), `encrypted` (every EBS block device encrypted), `owner_id`.
fn image(target: &Target, item: &Value) -> Option<Resource> {
    let devices = array(&item["BlockDeviceMappings"]);
    let ebs: Vec<&Value> = devices.iter().map(|d| &d["Ebs"]).filter(|e| e.is_object()).collect();
    let encrypted = !ebs.is_empty() && ebs.iter().all(|e| e["Encrypted"] == true);
    let snapshot_ids: Vec<Value> = ebs.iter().map(|e| text(&e["SnapshotId"])).collect();
    let record = start(target, "image", item, "ImageId", Some(""), "Tags")?
        .default_name(&item["Name"])
        .state(&item["State"])
        .created_at(&item["CreationDate"])
        .attribute("image_name", text(&item["Name"]))
        .attribute("description", text(&item["Description"]))
        .attribute("public", item["Public"].as_bool())
        .attribute("architecture", text(&item["Architecture"]))
        .attribute("platform", text(&item["PlatformDetails"]))
        .attribute("image_type", text(&item["ImageType"]))
        .attribute("root_device_type", text(&item["RootDeviceType"]))
        .attribute("virtualization_type", text(&item["VirtualizationType"]))
        .attribute("ena_support", item["EnaSupport"].as_bool())
        .attribute("boot_mode", text(&item["BootMode"]))
        .attribute("deprecation_time", text(&item["DeprecationTime"]))
        .attribute("snapshot_ids", snapshot_ids)
        .attribute("encrypted", encrypted)
        .attribute("owner_id", owner(item))
        .build();
    Some(record)
}

/// A key pair (`key-pair`); the id is `KeyPairId` (`key-...`, else the
/// name), the ARN AWS's `key-pair/{name}`, the name the `Name` tag else
/// the key's name. Created-at is `CreateTime`. Attributes: `key_name`,
/// `key_type` (`rsa`, `ed25519`), `fingerprint`. The public key is not
/// asked for.
fn key_pair(target: &Target, item: &Value) -> Option<Resource> {
    let key_name = item["KeyName"].as_str().filter(|n| !n.is_empty())?;
    let id = item["KeyPairId"].as_str().filter(|i| !i.is_empty()).unwrap_or(key_name);
    let arn = arn_in(target, SERVICE, &format!("key-pair/{key_name}"));
    let record = ResourceBuilder::new(target, SERVICE, "key-pair", id)
        .arn(arn)
        .aws_tags(&item["Tags"])
        .default_name(key_name)
        .created_at(&item["CreateTime"])
        .attribute("key_name", key_name)
        .attribute("key_type", text(&item["KeyType"]))
        .attribute("fingerprint", text(&item["KeyFingerprint"]))
        .build();
    Some(record)
}

/// An Elastic IP address (`elastic-ip`); the id is its `AllocationId` (the
/// address itself for the few without one). It has no state: `associated`
/// says whether it is in use. Attributes: `public_ip`, `public` (always
/// true), `domain` (`vpc`), `associated`, `instance_id`,
/// `network_interface_id`, `private_ip`, `network_border_group`,
/// `public_ipv4_pool`.
fn address(target: &Target, item: &Value) -> Option<Resource> {
    let id_member = if item["AllocationId"].is_string() { "AllocationId" } else { "PublicIp" };
    let record = start(target, "elastic-ip", item, id_member, None, "Tags")?
        .attribute("public_ip", text(&item["PublicIp"]))
        .attribute("public", true)
        .attribute("domain", text(&item["Domain"]))
        .attribute("associated", item["AssociationId"].is_string())
        .attribute("instance_id", text(&item["InstanceId"]))
        .attribute("network_interface_id", text(&item["NetworkInterfaceId"]))
        .attribute("private_ip", text(&item["PrivateIpAddress"]))
        .attribute("network_border_group", text(&item["NetworkBorderGroup"]))
        .attribute("public_ipv4_pool", text(&item["PublicIpv4Pool"]))
        .build();
    Some(record)
}

/// A network interface (`network-interface`); tags come from `TagSet`.
/// State is `Status` (`in-use`, `available`). Attributes:
/// `interface_type`, `description`, `vpc_id`, `subnet_id`,
/// `availability_zone`, `private_ip`, `public_ip` (of its association),
/// `public`, `mac_address`, `security_group_ids`, `attached_to` (the
/// instance id), `requester_managed` (created by an AWS service), `owner_id`.
fn network_interface(target: &Target, item: &Value) -> Option<Resource> {
    let public_ip = text(&item["Association"]["PublicIp"]);
    let record = start(target, "network-interface", item, "NetworkInterfaceId", None, "TagSet")?
        .state(&item["Status"])
        .attribute("interface_type", text(&item["InterfaceType"]))
        .attribute("description", text(&item["Description"]))
        .attribute("vpc_id", text(&item["VpcId"]))
        .attribute("subnet_id", text(&item["SubnetId"]))
        .attribute("availability_zone", text(&item["AvailabilityZone"]))
        .attribute("private_ip", text(&item["PrivateIpAddress"]))
        .attribute("public", !public_ip.is_null())
        .attribute("public_ip", public_ip)
        .attribute("mac_address", text(&item["MacAddress"]))
        .attribute("security_group_ids", strings(&item["Groups"], "GroupId"))
        .attribute("attached_to", text(&item["Attachment"]["InstanceId"]))
        .attribute("requester_managed", item["RequesterManaged"].as_bool())
        .attribute("owner_id", owner(item))
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
    fn instance_record() {
        let item = json!({
            "InstanceId": "i-1", "InstanceType": "t3.micro", "ImageId": "ami-1",
            "State": {"Code": 16, "Name": "running"}, "LaunchTime": "2024-05-01T10:00:00Z",
            "Placement": {"AvailabilityZone": "us-east-1a"}, "VpcId": "vpc-1",
            "SubnetId": "subnet-1", "PrivateIpAddress": "10.0.0.5",
            "PlatformDetails": "Linux/UNIX", "Architecture": "x86_64",
            "SecurityGroups": [{"GroupId": "sg-1", "GroupName": "web"}],
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
        assert_eq!(a["public"], false);
        assert_eq!(a["platform"], "Linux/UNIX");
        assert_eq!(a["security_group_ids"], json!(["sg-1"]));
        assert!(instance(&target(), None, &json!({"State": {}})).is_none());
        let shared = instance(&target(), Some("222222222222"), &json!({"InstanceId": "i-2"}));
        assert_eq!(
            shared.unwrap().arn.as_deref(),
            Some("arn:aws:ec2:us-east-1:222222222222:instance/i-2")
        );
    }

    #[test]
    fn volume_and_snapshot_records() {
        let v = volume(
            &target(),
            &json!({"VolumeId": "vol-1", "Size": 8, "VolumeType": "gp3", "Encrypted": true,
                    "State": "in-use", "CreateTime": "2024-01-01T00:00:00Z", "SnapshotId": "",
                    "Attachments": [{"InstanceId": "i-1"}]}),
        )
        .unwrap();
        assert_eq!(v.state.as_deref(), Some("in-use"));
        let a = attributes(&v);
        assert_eq!(a["attached_to"], json!(["i-1"]));
        assert_eq!(a["size_gib"], 8);
        assert_eq!(a["snapshot_id"], Value::Null);

        let s = snapshot(
            &target(),
            &json!({"SnapshotId": "snap-1", "VolumeId": "vol-1", "VolumeSize": 8,
                    "State": "completed", "StartTime": "2024-01-02T00:00:00Z",
                    "OwnerId": "111111111111", "Encrypted": false}),
        )
        .unwrap();
        assert_eq!(s.arn.as_deref(), Some("arn:aws:ec2:us-east-1::snapshot/snap-1"));
        assert_eq!(s.created_at.as_deref(), Some("2024-01-02T00:00:00Z"));
        assert_eq!(attributes(&s)["volume_size_gib"], 8);
        assert!(snapshot(&target(), &json!({"SnapshotId": "snap-2", "OwnerId": "2"})).is_none());
    }

    #[test]
    fn image_and_key_pair_take_their_own_names() {
        let item = json!({"ImageId": "ami-1", "Name": "golden", "State": "available",
            "Public": false, "CreationDate": "2024-02-01T00:00:00.000Z",
            "BlockDeviceMappings": [
                {"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": "snap-1", "Encrypted": true}},
                {"DeviceName": "/dev/sdb", "VirtualName": "ephemeral0"}]});
        let i = image(&target(), &item).unwrap();
        assert_eq!(i.arn.as_deref(), Some("arn:aws:ec2:us-east-1::image/ami-1"));
        assert_eq!(i.name.as_deref(), Some("golden"));
        let a = attributes(&i);
        assert_eq!(a["snapshot_ids"], json!(["snap-1"]));
        assert_eq!(a["encrypted"], true);
        let mut tagged = item.clone();
        tagged["Tags"] = json!([{"Key": "Name", "Value": "tagged"}]);
        assert_eq!(image(&target(), &tagged).unwrap().name.as_deref(), Some("tagged"));

        let k = key_pair(
            &target(),
            &json!({"KeyName": "deploy", "KeyPairId": "key-1", "KeyType": "ed25519"}),
        )
        .unwrap();
        assert_eq!((k.id.as_str(), k.name.as_deref()), ("key-1", Some("deploy")));
        assert_eq!(k.arn.as_deref(), Some("arn:aws:ec2:us-east-1:111111111111:key-pair/deploy"));
        assert!(key_pair(&target(), &json!({"KeyPairId": "key-1"})).is_none());
    }

    #[test]
    fn address_and_interface_records() {
        let e = address(
            &target(),
            &json!({"AllocationId": "eipalloc-1", "PublicIp": "203.0.113.5", "Domain": "vpc",
                    "AssociationId": "eipassoc-1", "InstanceId": "i-1"}),
        )
        .unwrap();
        assert_eq!(e.id, "eipalloc-1");
        assert_eq!(
            e.arn.as_deref(),
            Some("arn:aws:ec2:us-east-1:111111111111:elastic-ip/eipalloc-1")
        );
        assert_eq!(attributes(&e)["associated"], true);

        let n = network_interface(
            &target(),
            &json!({"NetworkInterfaceId": "eni-1", "Status": "in-use", "VpcId": "vpc-1",
                    "Association": {"PublicIp": "203.0.113.6"},
                    "Attachment": {"InstanceId": "i-1"}, "Groups": [{"GroupId": "sg-1"}],
                    "TagSet": [{"Key": "Name", "Value": "eni"}]}),
        )
        .unwrap();
        assert_eq!(n.name.as_deref(), Some("eni"));
        assert_eq!(n.state.as_deref(), Some("in-use"));
        let a = attributes(&n);
        assert_eq!((a["public"].clone(), a["attached_to"].clone()), (json!(true), json!("i-1")));
    }
}
