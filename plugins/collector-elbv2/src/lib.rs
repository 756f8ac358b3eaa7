//! The `elbv2` collector: the Application, Network and Gateway Load
//! Balancers, their listeners and the target groups of one account and
//! region (service `elasticloadbalancing`; Classic Load Balancers are the
//! `elb` collector's).
//!
//! Each page of `DescribeLoadBalancers` and `DescribeTargetGroups`, and
//! each load balancer's `DescribeListeners`, gets its tags with
//! `DescribeTags`, 20 resources per call; a failed tag read becomes one
//! warning and the resources are kept without tags. Records have AWS's
//! ARNs. Types: `load-balancer`, `listener` and `target-group`, whose
//! attributes are listed on the functions that build them.

use inventag_plugin_sdk::prelude::*;
use inventag_plugin_sdk::value::{array, find_by, strings, text};
use serde_json::{Value, json};

/// The service name in the catalogue.
const SERVICE: &str = "elbv2";

/// The service in records and ARNs.
const ARN_SERVICE: &str = "elasticloadbalancing";

/// The collector, registered with the host by `export_collector!`.
struct Elbv2;

/// A type listed page by page: its part, operation, list member, ARN
/// member and record builder.
type Listed = (&'static str, &'static str, &'static str, &'static str, Builder);

/// Builds a record from a listed item and its tags.
type Builder = fn(&Target, &Value, &Value) -> Option<Resource>;

impl Collector for Elbv2 {
    fn describe() -> CollectorInfo {
        CollectorInfo {
            name: "elbv2".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            summary: "Application, Network and Gateway Load Balancers and target groups"
                .to_string(),
            global: false,
            calls: vec![service_calls(
                SERVICE,
                &[
                    "DescribeLoadBalancers",
                    "DescribeListeners",
                    "DescribeTargetGroups",
                    "DescribeTags",
                ],
            )],
            parts: ["load-balancer", "listener", "target-group"].map(String::from).to_vec(),
        }
    }

    fn collect(target: Target) -> Result<CollectSummary, CollectError> {
        let mut c = Collection::new(&target);
        let parts: [Listed; 2] = [
            (
                "load-balancer",
                "DescribeLoadBalancers",
                "LoadBalancers",
                "LoadBalancerArn",
                load_balancer,
            ),
            (
                "target-group",
                "DescribeTargetGroups",
                "TargetGroups",
                "TargetGroupArn",
                target_group,
            ),
        ];
        for (part, operation, member, arn_member, build) in parts {
            let what = format!("{part} tags");
            c.collect_pages_with(
                part,
                SERVICE,
                operation,
                &json!({}),
                member,
                |c, items| {
                    let arns = strings(&Value::from(items.to_vec()), arn_member);
                    let found = c.detail_batches(
                        &what,
                        SERVICE,
                        "DescribeTags",
                        &json!({}),
                        "ResourceArns",
                        &arns,
                        20,
                        "/TagDescriptions",
                    );
                    items
                        .iter()
                        .map(|i| find_by(&found, "ResourceArn", &i[arn_member])["Tags"].clone())
                        .collect()
                },
                build,
            );
        }
        c.part("listener", collect_listeners);
        c.finish()
    }
}

/// The listeners of every load balancer, with their tags.
fn collect_listeners(c: &mut Collection) -> Result<(), AwsError> {
    let lbs: Vec<Value> = c
        .items(SERVICE, "DescribeLoadBalancers", &json!({}), "LoadBalancers")
        .collect::<Result<_, _>>()?;
    for lb in lbs {
        let input = json!({"LoadBalancerArn": lb["LoadBalancerArn"]});
        let listeners: Vec<Value> =
            c.items(SERVICE, "DescribeListeners", &input, "Listeners").collect::<Result<_, _>>()?;
        let arns = strings(&Value::from(listeners.clone()), "ListenerArn");
        let found = c.detail_batches(
            "listener tags",
            SERVICE,
            "DescribeTags",
            &json!({}),
            "ResourceArns",
            &arns,
            20,
            "/TagDescriptions",
        );
        for item in &listeners {
            let tags = &find_by(&found, "ResourceArn", &item["ListenerArn"])["Tags"];
            if let Some(record) = listener(c.target(), &lb, item, tags) {
                c.emit(record);
            }
        }
        if c.is_stopped() {
            break;
        }
    }
    Ok(())
}

export_collector!(Elbv2);

/// A load balancer (`load-balancer`), with the tags read for it. The id
/// and name are its name (unless a `Name` tag names it), the ARN AWS's
/// `LoadBalancerArn`, state `State.Code` (`active`, `provisioning`...),
/// created-at `CreatedTime`. Attributes: `type` (`application`, `network`,
/// `gateway`), `scheme`, `internet_facing`, `dns_name`, `vpc_id`,
/// `subnet_ids`, `availability_zones`, `security_group_ids`,
/// `ip_address_type`.
fn load_balancer(target: &Target, item: &Value, tags: &Value) -> Option<Resource> {
    let zones = &item["AvailabilityZones"];
    let record = ResourceBuilder::from_item(
        target,
        ARN_SERVICE,
        "load-balancer",
        item,
        "LoadBalancerName",
        tags,
    )?
    .arn(&item["LoadBalancerArn"])
    .state(&item["State"]["Code"])
    .created_at(&item["CreatedTime"])
    .attribute("type", text(&item["Type"]))
    .attribute("scheme", text(&item["Scheme"]))
    .attribute("internet_facing", item["Scheme"] == "internet-facing")
    .attribute("dns_name", text(&item["DNSName"]))
    .attribute("vpc_id", text(&item["VpcId"]))
    .attribute("subnet_ids", strings(zones, "SubnetId"))
    .attribute("availability_zones", strings(zones, "ZoneName"))
    .attribute("security_group_ids", strings(&item["SecurityGroups"], ""))
    .attribute("ip_address_type", text(&item["IpAddressType"]))
    .build();
    Some(record)
}

/// A listener (`listener`) of the load balancer `lb`, with the tags read
/// for it. The id is the last part of its ARN, the ARN AWS's
/// `ListenerArn`, the name the `Name` tag else `{load balancer}:{port}`;
/// it has no state or creation time. Attributes: `load_balancer_arn`,
/// `protocol`, `port`, `ssl_policy`, `certificate_arns`,
/// `default_actions` (each as `type` and `target_group_arn`).
fn listener(target: &Target, lb: &Value, item: &Value, tags: &Value) -> Option<Resource> {
    let arn = item["ListenerArn"].as_str().filter(|a| !a.is_empty())?;
    let id = arn.rsplit('/').next().unwrap_or(arn);
    let lb_name = lb["LoadBalancerName"].as_str().unwrap_or_default();
    let actions: Vec<Value> = array(&item["DefaultActions"])
        .iter()
        .map(|a| json!({"type": a["Type"], "target_group_arn": a["TargetGroupArn"]}))
        .collect();
    let record = ResourceBuilder::new(target, ARN_SERVICE, "listener", id)
        .arn(arn)
        .aws_tags(tags)
        .default_name(format!("{lb_name}:{}", item["Port"]))
        .attribute("load_balancer_arn", text(&item["LoadBalancerArn"]))
        .attribute("protocol", text(&item["Protocol"]))
        .attribute("port", item["Port"].as_u64())
        .attribute("ssl_policy", text(&item["SslPolicy"]))
        .attribute("certificate_arns", strings(&item["Certificates"], "CertificateArn"))
        .attribute("default_actions", actions)
        .build();
    Some(record)
}

/// A target group (`target-group`), with the tags read for it. The id and
/// name are its name (unless a `Name` tag names it), the ARN AWS's
/// `TargetGroupArn`; it has no state or creation time. Attributes:
/// `target_type` (`instance`, `ip`, `lambda`, `alb`), `protocol`, `port`,
/// `vpc_id`, `load_balancer_arns`, `health_check_protocol`,
/// `health_check_path`, `health_check_enabled`.
fn target_group(target: &Target, item: &Value, tags: &Value) -> Option<Resource> {
    let record = ResourceBuilder::from_item(
        target,
        ARN_SERVICE,
        "target-group",
        item,
        "TargetGroupName",
        tags,
    )?
    .arn(&item["TargetGroupArn"])
    .attribute("target_type", text(&item["TargetType"]))
    .attribute("protocol", text(&item["Protocol"]))
    .attribute("port", item["Port"].as_u64())
    .attribute("vpc_id", text(&item["VpcId"]))
    .attribute("load_balancer_arns", strings(&item["LoadBalancerArns"], ""))
    .attribute("health_check_protocol", text(&item["HealthCheckProtocol"]))
    .attribute("health_check_path", text(&item["HealthCheckPath"]))
    .attribute("health_check_enabled", item["HealthCheckEnabled"].as_bool())
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
    fn load_balancer_and_target_group_records() {
        let arn = "arn:aws:elasticloadbalancing:us-east-1:111111111111:loadbalancer/app/web/50dc6c495c0c9188";
        let lb = load_balancer(
            &target(),
            &json!({"LoadBalancerName": "web", "LoadBalancerArn": arn,
            "Type": "application", "Scheme": "internal", "State": {"Code": "active"},
            "AvailabilityZones": [{"ZoneName": "us-east-1a", "SubnetId": "subnet-1"}]}),
            &Value::Null,
        )
        .unwrap();
        assert_eq!((lb.arn.as_deref(), lb.state.as_deref()), (Some(arn), Some("active")));
        let a = attributes(&lb);
        assert_eq!(
            (a["internet_facing"].clone(), a["subnet_ids"].clone()),
            (json!(false), json!(["subnet-1"]))
        );

        let tg = target_group(&target(), &json!({"TargetGroupName": "api",
            "TargetGroupArn": "arn:aws:elasticloadbalancing:us-east-1:111111111111:targetgroup/api/1",
            "Port": 80, "TargetType": "ip", "LoadBalancerArns": [arn]}), &json!([{"Key": "Name", "Value": "API"}]))
        .unwrap();
        assert_eq!((tg.id.as_str(), tg.name.as_deref()), ("api", Some("API")));
        assert_eq!(attributes(&tg)["load_balancer_arns"], json!([arn]));
        assert!(target_group(&target(), &json!({}), &Value::Null).is_none());

        let listener_arn =
            "arn:aws:elasticloadbalancing:us-east-1:111111111111:listener/app/web/50dc/f1";
        let l = listener(&target(), &json!({"LoadBalancerName": "web"}), &json!({"ListenerArn": listener_arn,
            "LoadBalancerArn": arn, "Port": 443, "Protocol": "HTTPS",
            "Certificates": [{"CertificateArn": "arn:aws:acm:us-east-1:111111111111:certificate/c"}],
            "DefaultActions": [{"Type": "forward", "TargetGroupArn": "arn:tg"}]}), &Value::Null)
        .unwrap();
        assert_eq!((l.id.as_str(), l.name.as_deref()), ("f1", Some("web:443")));
        let a = attributes(&l);
        assert_eq!(
            a["default_actions"],
            json!([{"type": "forward", "target_group_arn": "arn:tg"}])
        );
        assert_eq!(a["port"], 443);
    }
}
