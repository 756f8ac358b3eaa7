//! The `cloudfront` collector: the CloudFront distributions of one account.
//!
//! CloudFront is global: the collector declares `global`, runs once per
//! account and files its records under the region `global`, with AWS's
//! ARNs, which have no region (`arn:aws:cloudfront::111111111111:
//! distribution/E1ABC`). `ListDistributions` gives every distribution's
//! summary; each gets a `ListTagsForResource` call (a failure becomes one
//! warning and the distribution is kept without tags). Records: the
//! `distribution` type, whose attributes are listed on `distribution`.

use inventag_plugin_sdk::prelude::*;
use inventag_plugin_sdk::value::{strings, text};
use serde_json::{Value, json};

/// The service name in the catalogue, in records and in ARNs.
const SERVICE: &str = "cloudfront";

/// The collector, registered with the host by `export_collector!`.
struct CloudFront;

impl Collector for CloudFront {
    fn describe() -> CollectorInfo {
        CollectorInfo {
            name: "cloudfront".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            summary: "CloudFront distributions".to_string(),
            global: true,
            calls: vec![service_calls(SERVICE, &["ListDistributions", "ListTagsForResource"])],
            parts: vec!["distribution".to_string()],
        }
    }

    fn collect(target: Target) -> Result<CollectSummary, CollectError> {
        let mut c = Collection::new(&target);
        c.collect_items_with(
            "distribution",
            SERVICE,
            "ListDistributions",
            &json!({}),
            "/DistributionList/Items",
            |c, item| {
                let input = json!({"Resource": item["ARN"]});
                c.detail_at(
                    "distribution tags",
                    SERVICE,
                    "ListTagsForResource",
                    &input,
                    "/Tags/Items",
                )
            },
            distribution,
        );
        c.finish()
    }
}

export_collector!(CloudFront);

/// A distribution (`distribution`), with the tags read for it; region
/// `global`. The id is its `Id`, the name the `Name` tag else its first
/// alternate domain name else its `Comment`; state is `Status`
/// (`Deployed`, `InProgress`); it has no creation time. Attributes:
/// `domain_name` (`d111.cloudfront.net`), `aliases`, `enabled`, `public`
/// (always true: a distribution serves the internet), `origins` (origin
/// domain names), `price_class`, `http_version`, `ipv6_enabled`,
/// `web_acl_id`, `certificate_arn` (ACM), `minimum_protocol_version`,
/// `viewer_protocol_policy` (of the default behaviour), `comment`,
/// `last_modified`.
fn distribution(target: &Target, item: &Value, tags: &Value) -> Option<Resource> {
    let id = item["Id"].as_str().filter(|i| !i.is_empty())?;
    let aliases = strings(&item["Aliases"]["Items"], "");
    let comment = text(&item["Comment"]).as_str().filter(|c| !c.is_empty()).map(Value::from);
    let certificate = &item["ViewerCertificate"];
    let web_acl = text(&item["WebACLId"]).as_str().filter(|w| !w.is_empty()).map(Value::from);
    let record = ResourceBuilder::new(target, SERVICE, "distribution", id)
        .region("global")
        .arn(&item["ARN"])
        .aws_tags(tags)
        .default_name(aliases.first())
        .default_name(comment.as_ref())
        .state(&item["Status"])
        .attribute("domain_name", text(&item["DomainName"]))
        .attribute("aliases", aliases.clone())
        .attribute("enabled", item["Enabled"].as_bool())
        .attribute("public", true)
        .attribute("origins", strings(&item["Origins"]["Items"], "DomainName"))
        .attribute("price_class", text(&item["PriceClass"]))
        .attribute("http_version", text(&item["HttpVersion"]))
        .attribute("ipv6_enabled", item["IsIPV6Enabled"].as_bool())
        .attribute("web_acl_id", web_acl)
        .attribute("certificate_arn", text(&certificate["ACMCertificateArn"]))
        .attribute("minimum_protocol_version", text(&certificate["MinimumProtocolVersion"]))
        .attribute(
            "viewer_protocol_policy",
            text(&item["DefaultCacheBehavior"]["ViewerProtocolPolicy"]),
        )
        .attribute("comment", comment)
        .attribute("last_modified", text(&item["LastModifiedTime"]))
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
    fn distribution_record() {
        let item = json!({"Id": "E1", "ARN": "arn:aws:cloudfront::111111111111:distribution/E1",
            "Status": "Deployed", "DomainName": "d1.cloudfront.net", "Enabled": true,
            "Aliases": {"Quantity": 1, "Items": ["www.example.com"]},
            "Origins": {"Quantity": 1, "Items": [{"Id": "o", "DomainName": "b.s3.amazonaws.com"}]},
            "ViewerCertificate": {"ACMCertificateArn": "arn:aws:acm:us-east-1:111111111111:certificate/c"},
            "WebACLId": "", "Comment": ""});
        let r = distribution(&target(), &item, &json!([{"Key": "env", "Value": "prod"}])).unwrap();
        assert_eq!(r.region, "global");
        assert_eq!(r.arn.as_deref(), Some("arn:aws:cloudfront::111111111111:distribution/E1"));
        assert_eq!(
            (r.name.as_deref(), r.state.as_deref()),
            (Some("www.example.com"), Some("Deployed"))
        );
        let a = attributes(&r);
        assert_eq!(a["origins"], json!(["b.s3.amazonaws.com"]));
        assert_eq!((a["web_acl_id"].clone(), a["comment"].clone()), (Value::Null, Value::Null));
        let plain =
            distribution(&target(), &json!({"Id": "E2", "Comment": "static site"}), &Value::Null)
                .unwrap();
        assert_eq!(plain.name.as_deref(), Some("static site"));
        assert!(distribution(&target(), &json!({}), &Value::Null).is_none());
    }
}
