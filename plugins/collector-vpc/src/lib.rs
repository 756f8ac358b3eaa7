//! The `vpc` collector: the network of one account and region, from the
//! EC2 API: VPCs, subnets, security groups, internet gateways, NAT
//! gateways, route tables, network ACLs and VPC endpoints. Records have
//! the service `ec2`, as their ARNs do.
//!
//! Each resource type is one part, named by its `resource-type`, read with
//! one paginated `Describe*` call; one part failing becomes a warning and
//! the others go on. What AWS creates by itself is kept and marked, never
//! hidden: the default VPC and its default subnets (`is_default`), every
//! VPC's default security group and default network ACL (`is_default`) and
//! its main route table (`main`).
//!
//! Each record has the ARN AWS gives the resource (`SubnetArn`,
//! `SecurityGroupArn`), else the one AWS defines,
//! `arn:{partition}:ec2:{region}:{owner}:{type}/{id}` with the owning
//! account (for resources shared from another account, that account;
//! `natgateway` is spelt as in AWS's ARNs). The name is the `Name` tag (a
//! security group's own name when it has none); tags are in AWS's order.
//! The attributes of each type are listed on the function that builds it.

use inventag_plugin_sdk::prelude::*;
use inventag_plugin_sdk::value::{array, strings, text};
use serde_json::{Value, json};

/// The service name in the catalogue, in records and in ARNs.
const SERVICE: &str = "ec2";

/// The collector, registered with the host by `export_collector!`.
struct Vpc;

/// Each part: its resource type, operation, list member and record builder.
type Part = (&'static str, &'static str, &'static str, fn(&Target, &Value) -> Option<Resource>);

const PARTS: [Part; 8] = [
    ("vpc", "DescribeVpcs", "Vpcs", vpc),
    ("subnet", "DescribeSubnets", "Subnets", subnet),
    ("security-group", "DescribeSecurityGroups", "SecurityGroups", security_group),
    ("internet-gateway", "DescribeInternetGateways", "InternetGateways", internet_gateway),
    ("nat-gateway", "DescribeNatGateways", "NatGateways", nat_gateway),
    ("route-table", "DescribeRouteTables", "RouteTables", route_table),
    ("network-acl", "DescribeNetworkAcls", "NetworkAcls", network_acl),
    ("vpc-endpoint", "DescribeVpcEndpoints", "VpcEndpoints", vpc_endpoint),
];

impl Collector for Vpc {
    fn describe() -> CollectorInfo {
        CollectorInfo {
            name: "vpc".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            summary: "VPCs, subnets, security groups, internet and NAT gateways, route tables, \
                      network ACLs and VPC endpoints"
                .to_string(),
            global: false,
            calls: vec![service_calls(SERVICE, &PARTS.map(|(_, operation, _, _)| operation))],
            parts: PARTS.map(|(part, _, _, _)| part.to_string()).to_vec(),
        }
    }

    fn collect(target: Target) -> Result<CollectSummary, CollectError> {
        let mut c = Collection::new(&target);
        for (part, operation, member, build) in PARTS {
            c.collect_items(part, SERVICE, operation, &json!({}), member, build);
        }
        c.finish()
    }
}

export_collector!(Vpc);

/// Starts a record of type `resource_type` for `item`, whose id is in the
/// member `id_member` (a record needs one), with AWS's ARN from the member
/// `arn_member` when there is one, else `...:{owner}:{arn_type}/{id}`; the
/// tags and the `Name` tag from `Tags`. Every record gets `owner_id`
/// first, and every type but `vpc` its `vpc_id` second.
fn start(
    target: &Target,
    resource_type: &str,
    arn_type: &str,
    item: &Value,
    id_member: &str,
    arn_member: Option<&str>,
) -> Option<ResourceBuilder> {
    let id = item[id_member].as_str().filter(|id| !id.is_empty())?;
    let owner = item["OwnerId"].as_str().filter(|o| !o.is_empty());
    let given = arn_member.and_then(|m| item[m].as_str()).filter(|a| !a.is_empty());
    let arn = match given {
        Some(arn) => arn.to_string(),
        None => {
            let account = owner.unwrap_or(&target.account_id);
            arn(&target.partition, SERVICE, &target.region, account, &format!("{arn_type}/{id}"))
        }
    };
    let record = ResourceBuilder::new(target, SERVICE, resource_type, id)
        .arn(arn)
        .aws_tags(&item["Tags"])
        .attribute("owner_id", owner);
    Some(if resource_type == "vpc" {
        record
    } else {
        record.attribute("vpc_id", text(&item["VpcId"]))
    })
}

/// A VPC (`vpc`). State is `State`. Attributes: `owner_id`, `cidr_block`
/// (the primary one), `cidr_blocks` (every IPv4 block), `ipv6_cidr_blocks`,
/// `is_default` (the region's default VPC), `instance_tenancy`,
/// `dhcp_options_id`.
fn vpc(target: &Target, item: &Value) -> Option<Resource> {
    let record = start(target, "vpc", "vpc", item, "VpcId", None)?
        .state(&item["State"])
        .attribute("cidr_block", text(&item["CidrBlock"]))
        .attribute("cidr_blocks", strings(&item["CidrBlockAssociationSet"], "CidrBlock"))
        .attribute(
            "ipv6_cidr_blocks",
            strings(&item["Ipv6CidrBlockAssociationSet"], "Ipv6CidrBlock"),
        )
        .attribute("is_default", item["IsDefault"].as_bool())
        .attribute("instance_tenancy", text(&item["InstanceTenancy"]))
        .attribute("dhcp_options_id", text(&item["DhcpOptionsId"]))
        .build();
    Some(record)
}

/// A subnet (`subnet`). State is `State`; the ARN is AWS's `SubnetArn`.
/// Attributes: `owner_id`, `vpc_id`, `cidr_block`, `ipv6_cidr_blocks`,
/// `availability_zone`, `available_ip_count` (free IPv4 addresses),
/// `default_for_az` and `is_default` (a default subnet of the default VPC),
/// `map_public_ip_on_launch` (instances get a public address: `public`).
fn subnet(target: &Target, item: &Value) -> Option<Resource> {
    let record = start(target, "subnet", "subnet", item, "SubnetId", Some("SubnetArn"))?
        .state(&item["State"])
        .attribute("cidr_block", text(&item["CidrBlock"]))
        .attribute(
            "ipv6_cidr_blocks",
            strings(&item["Ipv6CidrBlockAssociationSet"], "Ipv6CidrBlock"),
        )
        .attribute("availability_zone", text(&item["AvailabilityZone"]))
        .attribute("available_ip_count", item["AvailableIpAddressCount"].as_u64())
        .attribute("default_for_az", item["DefaultForAz"].as_bool())
        .attribute("is_default", item["DefaultForAz"].as_bool())
        .attribute("map_public_ip_on_launch", item["MapPublicIpOnLaunch"].as_bool())
        .attribute("public", item["MapPublicIpOnLaunch"].as_bool())
        .build();
    Some(record)
}

/// Whether one of the rules (`IpPermissions` entries) lets in any address:
/// `0.0.0.0/0` or `::/0`.
fn open_to_world(rules: &[Value]) -> bool {
    rules.iter().any(|rule| {
        strings(&rule["IpRanges"], "CidrIp").iter().any(|c| c == "0.0.0.0/0")
            || strings(&rule["Ipv6Ranges"], "CidrIpv6").iter().any(|c| c == "::/0")
    })
}

/// A security group (`security-group`); it has no state; the ARN is AWS's
/// `SecurityGroupArn` when given; the name is the `Name` tag, else the
/// group's name. Attributes: `owner_id`, `vpc_id`, `group_name`,
/// `description`, `is_default` (the VPC's `default` group),
/// `open_to_world` (an ingress rule from `0.0.0.0/0` or `::/0`),
/// `ingress_rules` and `egress_rules` (rule counts), `ingress` and
/// `egress` (the rules as AWS returns them in `IpPermissions` and
/// `IpPermissionsEgress`).
fn security_group(target: &Target, item: &Value) -> Option<Resource> {
    let ingress = array(&item["IpPermissions"]);
    let egress = array(&item["IpPermissionsEgress"]);
    let arn_member = Some("SecurityGroupArn");
    let record = start(target, "security-group", "security-group", item, "GroupId", arn_member)?
        .default_name(&item["GroupName"])
        .attribute("group_name", text(&item["GroupName"]))
        .attribute("description", text(&item["Description"]))
        .attribute("is_default", item["GroupName"] == "default")
        .attribute("open_to_world", open_to_world(ingress))
        .attribute("ingress_rules", ingress.len())
        .attribute("egress_rules", egress.len())
        .attribute("ingress", ingress.to_vec())
        .attribute("egress", egress.to_vec())
        .build();
    Some(record)
}

/// An internet gateway (`internet-gateway`). State is its attachment's
/// (`available`, `attached`), else `detached`. Attributes: `owner_id`,
/// `vpc_id` (the VPC it is attached to), `vpc_ids` (every attachment).
fn internet_gateway(target: &Target, item: &Value) -> Option<Resource> {
    let attachments = &item["Attachments"];
    let state = array(attachments).first().and_then(|a| a["State"].as_str()).unwrap_or("detached");
    let vpc_ids = strings(attachments, "VpcId");
    let arn_type = "internet-gateway";
    let record = start(target, arn_type, arn_type, item, "InternetGatewayId", None)?
        .state(state)
        .attribute("vpc_id", vpc_ids.first().cloned())
        .attribute("vpc_ids", vpc_ids)
        .build();
    Some(record)
}

/// A NAT gateway (`nat-gateway`; ARN type `natgateway`). State is `State`,
/// created-at is `CreateTime`. Attributes: `owner_id`, `vpc_id`,
/// `subnet_id`, `connectivity_type` (`public` or `private`), `public`
/// (a public gateway), `public_ips`, `private_ips`, `allocation_ids`.
fn nat_gateway(target: &Target, item: &Value) -> Option<Resource> {
    let addresses = &item["NatGatewayAddresses"];
    let record = start(target, "nat-gateway", "natgateway", item, "NatGatewayId", None)?
        .state(&item["State"])
        .created_at(&item["CreateTime"])
        .attribute("subnet_id", text(&item["SubnetId"]))
        .attribute("connectivity_type", text(&item["ConnectivityType"]))
        .attribute("public", item["ConnectivityType"] != "private")
        .attribute("public_ips", strings(addresses, "PublicIp"))
        .attribute("private_ips", strings(addresses, "PrivateIp"))
        .attribute("allocation_ids", strings(addresses, "AllocationId"))
        .build();
    Some(record)
}

/// A route table (`route-table`); it has no state. Attributes: `owner_id`,
/// `vpc_id`, `main` (the VPC's main route table), `subnet_ids` (explicit
/// associations), `route_count`, `routes` (each as `destination`, `target`
/// (the gateway, NAT gateway, instance, interface, peering or transit
/// gateway id) and `state`), `internet_route` (a route to an internet
/// gateway: the subnets using it are public).
fn route_table(target: &Target, item: &Value) -> Option<Resource> {
    let associations = &item["Associations"];
    let main = array(associations).iter().any(|a| a["Main"] == true);
    let routes: Vec<Value> = array(&item["Routes"]).iter().map(route).collect();
    let internet_route =
        routes.iter().any(|r| r["target"].as_str().is_some_and(|t| t.starts_with("igw-")));
    let record = start(target, "route-table", "route-table", item, "RouteTableId", None)?
        .attribute("main", main)
        .attribute("subnet_ids", strings(associations, "SubnetId"))
        .attribute("route_count", routes.len())
        .attribute("internet_route", internet_route)
        .attribute("routes", routes)
        .build();
    Some(record)
}

/// One route of a route table, summarised: destination, target and state.
fn route(r: &Value) -> Value {
    let first = |members: &[&str]| {
        members.iter().find_map(|m| r[*m].as_str()).map(Value::from).unwrap_or(Value::Null)
    };
    json!({
        "destination": first(&["DestinationCidrBlock", "DestinationIpv6CidrBlock",
            "DestinationPrefixListId"]),
        "target": first(&["GatewayId", "NatGatewayId", "TransitGatewayId",
            "VpcPeeringConnectionId", "NetworkInterfaceId", "InstanceId",
            "EgressOnlyInternetGatewayId", "LocalGatewayId", "CarrierGatewayId",
            "CoreNetworkArn"]),
        "state": text(&r["State"]),
    })
}

/// A network ACL (`network-acl`); it has no state. Attributes: `owner_id`,
/// `vpc_id`, `is_default` (the VPC's default ACL), `subnet_ids`,
/// `ingress_rules` and `egress_rules` (entry counts), `entries` (as AWS
/// returns them).
fn network_acl(target: &Target, item: &Value) -> Option<Resource> {
    let entries = array(&item["Entries"]);
    let egress = entries.iter().filter(|e| e["Egress"] == true).count();
    let record = start(target, "network-acl", "network-acl", item, "NetworkAclId", None)?
        .attribute("is_default", item["IsDefault"].as_bool())
        .attribute("subnet_ids", strings(&item["Associations"], "SubnetId"))
        .attribute("ingress_rules", entries.len() - egress)
        .attribute("egress_rules", egress)
        .attribute("entries", entries.to_vec())
        .build();
    Some(record)
}

/// A VPC endpoint (`vpc-endpoint`). State is `State`, created-at is
/// `CreationTimestamp`. Attributes: `owner_id`, `vpc_id`, `endpoint_type`
/// (`Interface`, `Gateway`, `GatewayLoadBalancer`...), `service_name`,
/// `subnet_ids`, `route_table_ids`, `security_group_ids`,
/// `private_dns_enabled`, `requester_managed`.
fn vpc_endpoint(target: &Target, item: &Value) -> Option<Resource> {
    let record = start(target, "vpc-endpoint", "vpc-endpoint", item, "VpcEndpointId", None)?
        .state(&item["State"])
        .created_at(&item["CreationTimestamp"])
        .attribute("endpoint_type", text(&item["VpcEndpointType"]))
        .attribute("service_name", text(&item["ServiceName"]))
        .attribute("subnet_ids", strings(&item["SubnetIds"], ""))
        .attribute("route_table_ids", strings(&item["RouteTableIds"], ""))
        .attribute("security_group_ids", strings(&item["Groups"], "GroupId"))
        .attribute("private_dns_enabled", item["PrivateDnsEnabled"].as_bool())
        .attribute("requester_managed", item["RequesterManaged"].as_bool())
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
    fn parts_are_resource_types() {
        for (part, _, _, build) in PARTS {
            let id_member = match part {
                "vpc" => "VpcId",
                "subnet" => "SubnetId",
                "security-group" => "GroupId",
                "internet-gateway" => "InternetGatewayId",
                "nat-gateway" => "NatGatewayId",
                "route-table" => "RouteTableId",
                "network-acl" => "NetworkAclId",
                _ => "VpcEndpointId",
            };
            let r = build(&target(), &json!({id_member: "x-1"})).unwrap();
            assert_eq!((r.resource_type.as_str(), r.service.as_str()), (part, "ec2"));
            assert!(r.arn.unwrap().ends_with("/x-1"));
            assert!(build(&target(), &json!({})).is_none());
        }
    }

    #[test]
    fn default_vpc_and_subnet_are_marked() {
        let shared = vpc(
            &target(),
            &json!({"VpcId": "vpc-1", "OwnerId": "222222222222", "State": "available",
                    "CidrBlock": "10.0.0.0/16", "IsDefault": true,
                    "CidrBlockAssociationSet": [{"CidrBlock": "10.0.0.0/16"}]}),
        )
        .unwrap();
        assert_eq!(shared.arn.as_deref(), Some("arn:aws:ec2:us-east-1:222222222222:vpc/vpc-1"));
        assert_eq!(shared.account_id, "111111111111");
        let a = attributes(&shared);
        assert_eq!(
            (a["is_default"].clone(), a["cidr_blocks"].clone()),
            (json!(true), json!(["10.0.0.0/16"]))
        );

        let s = subnet(
            &target(),
            &json!({"SubnetId": "subnet-1", "SubnetArn": "arn:aws:ec2:x:y:subnet/subnet-1",
                    "VpcId": "vpc-1", "AvailableIpAddressCount": 250, "DefaultForAz": true}),
        )
        .unwrap();
        assert_eq!(s.arn.as_deref(), Some("arn:aws:ec2:x:y:subnet/subnet-1"));
        let a = attributes(&s);
        assert_eq!(a["available_ip_count"], 250);
        assert_eq!((a["is_default"].clone(), a["vpc_id"].clone()), (json!(true), json!("vpc-1")));
    }

    #[test]
    fn security_group_record() {
        let g = security_group(
            &target(),
            &json!({"GroupId": "sg-1", "GroupName": "default", "Description": "d",
                    "IpPermissions": [{"IpProtocol": "-1",
                                       "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
                    "IpPermissionsEgress": []}),
        )
        .unwrap();
        assert_eq!(g.state, None);
        assert_eq!(g.name.as_deref(), Some("default"));
        assert_eq!(
            g.arn.as_deref(),
            Some("arn:aws:ec2:us-east-1:111111111111:security-group/sg-1")
        );
        let a = attributes(&g);
        assert_eq!((a["ingress_rules"].clone(), a["egress_rules"].clone()), (json!(1), json!(0)));
        assert_eq!(
            (a["is_default"].clone(), a["open_to_world"].clone()),
            (json!(true), json!(true))
        );
        assert_eq!(a["ingress"][0]["IpProtocol"], "-1");
    }

    #[test]
    fn gateways_tables_and_acls() {
        let igw = internet_gateway(
            &target(),
            &json!({"InternetGatewayId": "igw-1", "Attachments": [{"VpcId": "vpc-1", "State": "available"}]}),
        )
        .unwrap();
        assert_eq!(igw.state.as_deref(), Some("available"));
        assert_eq!(attributes(&igw)["vpc_id"], "vpc-1");
        let lone = internet_gateway(&target(), &json!({"InternetGatewayId": "igw-2"})).unwrap();
        assert_eq!(lone.state.as_deref(), Some("detached"));
        assert_eq!(attributes(&lone)["vpc_id"], Value::Null);

        let nat = nat_gateway(
            &target(),
            &json!({"NatGatewayId": "nat-1", "State": "available", "VpcId": "vpc-1",
                    "NatGatewayAddresses": [{"PublicIp": "203.0.113.1", "PrivateIp": "10.0.0.9"}]}),
        )
        .unwrap();
        assert_eq!(nat.arn.as_deref(), Some("arn:aws:ec2:us-east-1:111111111111:natgateway/nat-1"));
        assert_eq!(attributes(&nat)["public_ips"], json!(["203.0.113.1"]));

        let rt = route_table(
            &target(),
            &json!({"RouteTableId": "rtb-1", "VpcId": "vpc-1",
                    "Associations": [{"Main": true}, {"Main": false, "SubnetId": "subnet-1"}],
                    "Routes": [{"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local", "State": "active"},
                               {"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": "igw-1", "State": "active"}]}),
        )
        .unwrap();
        let a = attributes(&rt);
        assert_eq!(
            (a["main"].clone(), a["subnet_ids"].clone()),
            (json!(true), json!(["subnet-1"]))
        );
        assert_eq!(
            a["routes"][1],
            json!({"destination": "0.0.0.0/0", "target": "igw-1", "state": "active"})
        );
        assert_eq!(a["internet_route"], true);

        let acl = network_acl(
            &target(),
            &json!({"NetworkAclId": "acl-1", "IsDefault": true,
                    "Entries": [{"Egress": true}, {"Egress": false}, {"Egress": false}]}),
        )
        .unwrap();
        let a = attributes(&acl);
        assert_eq!((a["ingress_rules"].clone(), a["egress_rules"].clone()), (json!(2), json!(1)));
        assert_eq!(a["is_default"], true);

        let e = vpc_endpoint(
            &target(),
            &json!({"VpcEndpointId": "vpce-1", "VpcEndpointType": "Gateway",
                    "RouteTableIds": ["rtb-1"], "State": "available"}),
        )
        .unwrap();
        assert_eq!(attributes(&e)["route_table_ids"], json!(["rtb-1"]));
    }
}
