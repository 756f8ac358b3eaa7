//! The `elb` collector: the Classic Load Balancers of one account and
//! region (service `elasticloadbalancing`; Application, Network and Gateway
//! Load Balancers are the `elbv2` collector's).
//!
//! Each page of `DescribeLoadBalancers` gets its tags with `DescribeTags`,
//! 20 load balancers per call; a failed tag read becomes one warning and
//! the load balancers are kept without tags. Records: the `load-balancer`
//! type, whose attributes are listed on `load_balancer`.

use inventag_plugin_sdk::prelude::*;
use inventag_plugin_sdk::value::{array, find_by, strings, text};
use serde_json::{Value, json};

/// The service name in the catalogue.
const SERVICE: &str = "elb";

/// The service in records and ARNs.
const ARN_SERVICE: &str = "elasticloadbalancing";

/// The collector, registered with the host by `export_collector!`.
struct Elb;

impl Collector for Elb {
    fn describe() -> CollectorInfo {
        CollectorInfo {
            name: "elb".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            summary: "Classic Load Balancers".to_string(),
            global: false,
            calls: vec![service_calls(SERVICE, &["DescribeLoadBalancers", "DescribeTags"])],
            parts: vec!["load-balancer".to_string()],
        }
    }

    fn collect(target: Target) -> Result<CollectSummary, CollectError> {
        let mut c = Collection::new(&target);
        c.collect_pages_with(
            "load-balancer",
            SERVICE,
            "DescribeLoadBalancers",
            &json!({}),
            "LoadBalancerDescriptions",
            |c, items| {
                let names = strings(&Value::from(items.to_vec()), "LoadBalancerName");
                let found = c.detail_batches(
                    "load balancer tags",
                    SERVICE,
                    "DescribeTags",
                    &json!({}),
                    "LoadBalancerNames",
                    &names,
                    20,
                    "/TagDescriptions",
                );
                items
                    .iter()
                    .map(|lb| {
                        find_by(&found, "LoadBalancerName", &lb["LoadBalancerName"])["Tags"].clone()
                    })
                    .collect()
            },
            load_balancer,
        );
        c.finish()
    }
}

export_collector!(Elb);

/// A Classic Load Balancer (`load-balancer`), with the tags read for it.
/// The id and name are its name (unless a `Name` tag names it), the ARN
/// `arn:...:elasticloadbalancing:{region}:{account}:loadbalancer/{name}`,
/// created-at `CreatedTime`; it has no state. Attributes: `type`
/// (`classic`), `scheme`, `internet_facing`, `dns_name`, `vpc_id`,
/// `subnet_ids`, `availability_zones`, `security_group_ids`,
/// `instance_ids` (its registered instances), `listeners` (as
/// `protocol`, `port`, `instance_protocol`, `instance_port`,
/// `certificate_id`).
fn load_balancer(target: &Target, item: &Value, tags: &Value) -> Option<Resource> {
    let name = item["LoadBalancerName"].as_str().filter(|n| !n.is_empty())?;
    let listeners: Vec<Value> = array(&item["ListenerDescriptions"])
        .iter()
        .map(|d| &d["Listener"])
        .map(|l| {
            json!({"protocol": l["Protocol"], "port": l["LoadBalancerPort"],
                   "instance_protocol": l["InstanceProtocol"], "instance_port": l["InstancePort"],
                   "certificate_id": l["SSLCertificateId"]})
        })
        .collect();
    let record = ResourceBuilder::new(target, ARN_SERVICE, "load-balancer", name)
        .arn(arn_in(target, ARN_SERVICE, &format!("loadbalancer/{name}")))
        .aws_tags(tags)
        .default_name(name)
        .created_at(&item["CreatedTime"])
        .attribute("type", "classic")
        .attribute("scheme", text(&item["Scheme"]))
        .attribute("internet_facing", item["Scheme"] == "internet-facing")
        .attribute("dns_name", text(&item["DNSName"]))
        .attribute("vpc_id", text(&item["VPCId"]))
        .attribute("subnet_ids", strings(&item["Subnets"], ""))
        .attribute("availability_zones", strings(&item["AvailabilityZones"], ""))
        .attribute("security_group_ids", strings(&item["SecurityGroups"], ""))
        .attribute("instance_ids", strings(&item["Instances"], "InstanceId"))
        .attribute("listeners", listeners)
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
    fn classic_load_balancer_record() {
        let item = json!({"LoadBalancerName": "web", "Scheme": "internet-facing", "VPCId": "vpc-1",
            "Subnets": ["subnet-1"], "AvailabilityZones": ["us-east-1a"], "Instances": [{"InstanceId": "i-1"}],
            "ListenerDescriptions": [{"Listener": {"Protocol": "HTTP", "LoadBalancerPort": 80,
                "InstanceProtocol": "HTTP", "InstancePort": 8080}}]});
        let r = load_balancer(&target(), &item, &json!([{"Key": "env", "Value": ""}])).unwrap();
        assert_eq!(r.service, "elasticloadbalancing");
        assert_eq!(
            r.arn.as_deref(),
            Some("arn:aws:elasticloadbalancing:us-east-1:111111111111:loadbalancer/web")
        );
        assert_eq!((r.name.as_deref(), r.tags.len()), (Some("web"), 1));
        let a = attributes(&r);
        assert_eq!(
            (a["internet_facing"].clone(), a["instance_ids"].clone()),
            (json!(true), json!(["i-1"]))
        );
        assert_eq!(a["listeners"][0]["instance_port"], 8080);
        assert!(load_balancer(&target(), &json!({}), &Value::Null).is_none());
    }
}
