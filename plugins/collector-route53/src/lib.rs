//! The `route53` collector: the Route 53 hosted zones of one account.
//!
//! Route 53 is global: the collector declares `global`, runs once per
//! account and files its records under the region `global`, with the ARN
//! AWS defines, which has no region or account
//! (`arn:aws:route53:::hostedzone/Z123`). `ListHostedZones` gives every
//! zone; each gets a `GetHostedZone` call (a private zone's VPCs, a public
//! zone's name servers) and a `ListTagsForResource` call; a failed read
//! becomes one warning and the zone is kept with what is known. Records are
//! not read. Records: the `hosted-zone` type, whose attributes are listed
//! on `hosted_zone`.

use inventag_plugin_sdk::prelude::*;
use inventag_plugin_sdk::value::{array, strings, text};
use serde_json::{Value, json};

/// The service name in the catalogue, in records and in ARNs.
const SERVICE: &str = "route53";

/// The collector, registered with the host by `export_collector!`.
struct Route53;

impl Collector for Route53 {
    fn describe() -> CollectorInfo {
        CollectorInfo {
            name: "route53".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            summary: "Route 53 hosted zones".to_string(),
            global: true,
            calls: vec![service_calls(
                SERVICE,
                &["ListHostedZones", "GetHostedZone", "ListTagsForResource"],
            )],
            parts: vec!["hosted-zone".to_string()],
        }
    }

    fn collect(target: Target) -> Result<CollectSummary, CollectError> {
        let mut c = Collection::new(&target);
        c.collect_items_with(
            "hosted-zone",
            SERVICE,
            "ListHostedZones",
            &json!({}),
            "HostedZones",
            |c, item| {
                let id = zone_id(item);
                let zone = c.detail_at(
                    "hosted zone details",
                    SERVICE,
                    "GetHostedZone",
                    &json!({"Id": id}),
                    "",
                );
                let input = json!({"ResourceType": "hostedzone", "ResourceId": id});
                let tags = c.detail_at(
                    "hosted zone tags",
                    SERVICE,
                    "ListTagsForResource",
                    &input,
                    "/ResourceTagSet/Tags",
                );
                json!({"zone": zone, "tags": tags})
            },
            hosted_zone,
        );
        c.finish()
    }
}

export_collector!(Route53);

/// A zone's id without the `/hostedzone/` prefix AWS gives it.
fn zone_id(item: &Value) -> &str {
    let id = item["Id"].as_str().unwrap_or_default();
    id.strip_prefix("/hostedzone/").unwrap_or(id)
}

/// A hosted zone (`hosted-zone`) from its `ListHostedZones` item and
/// `details` (`zone`, the `GetHostedZone` output; `tags`); region
/// `global`. The id is the zone id (`Z123...`), the name the `Name` tag
/// else the domain without its final dot; it has no state or creation
/// time. Attributes: `domain_name` (as AWS writes it, `example.com.`),
/// `private_zone`, `public` (not private), `record_count`, `comment`,
/// `vpcs` (a private zone's, as `vpc_id` and `region`), `name_servers` (a
/// public zone's), `linked_service` (the service principal that manages
/// it, if any).
fn hosted_zone(target: &Target, item: &Value, details: &Value) -> Option<Resource> {
    let id = zone_id(item);
    if id.is_empty() {
        return None;
    }
    let domain = item["Name"].as_str().unwrap_or_default();
    let private = item["Config"]["PrivateZone"].as_bool();
    let vpcs: Vec<Value> = array(&details["zone"]["VPCs"])
        .iter()
        .map(|v| json!({"vpc_id": v["VPCId"], "region": v["VPCRegion"]}))
        .collect();
    let record = ResourceBuilder::new(target, SERVICE, "hosted-zone", id)
        .region("global")
        .arn(arn(&target.partition, SERVICE, "", "", &format!("hostedzone/{id}")))
        .aws_tags(&details["tags"])
        .default_name(domain.trim_end_matches('.'))
        .attribute("domain_name", domain)
        .attribute("private_zone", private)
        .attribute("public", private.map(|p| !p))
        .attribute("record_count", item["ResourceRecordSetCount"].as_u64())
        .attribute("comment", text(&item["Config"]["Comment"]))
        .attribute("vpcs", vpcs)
        .attribute("name_servers", strings(&details["zone"]["DelegationSet"]["NameServers"], ""))
        .attribute("linked_service", text(&item["LinkedService"]["ServicePrincipal"]))
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
    fn private_zone_record() {
        let item = json!({"Id": "/hostedzone/Z1", "Name": "corp.example.", "ResourceRecordSetCount": 3,
            "Config": {"PrivateZone": true, "Comment": "internal"}});
        let details = json!({"zone": {"VPCs": [{"VPCId": "vpc-1", "VPCRegion": "eu-west-1"}]},
            "tags": [{"Key": "team", "Value": "net"}]});
        let r = hosted_zone(&target(), &item, &details).unwrap();
        assert_eq!((r.id.as_str(), r.region.as_str()), ("Z1", "global"));
        assert_eq!(r.arn.as_deref(), Some("arn:aws:route53:::hostedzone/Z1"));
        assert_eq!(r.name.as_deref(), Some("corp.example"));
        let a = attributes(&r);
        assert_eq!(a["vpcs"], json!([{"vpc_id": "vpc-1", "region": "eu-west-1"}]));
        assert_eq!((a["public"].clone(), a["record_count"].clone()), (json!(false), json!(3)));
        assert!(hosted_zone(&target(), &json!({}), &Value::Null).is_none());
    }
}
