//! The `tagging` collector: every tagged resource of one account and
//! region that the Resource Groups Tagging API knows (`GetResources`),
//! whatever its service.
//!
//! It emits one record per tagged ARN, with the tags, the `Name` tag as
//! its name and the attribute `found_by: "tagging"`. The host merges those
//! tags into the record of the same ARN a service collector produced, and
//! keeps a tagging record as a resource of its own only when no collector
//! produced its ARN: so the BOM also lists tagged resources of services no
//! collector covers. Untagged resources are invisible to this API.
//!
//! The record's service, resource type and id are read from the ARN (see
//! `parse_arn`), with the type names the service collectors use where
//! they differ from AWS's ARN spelling (`loadbalancer` → `load-balancer`,
//! rds `db` → `db-instance`, `hostedzone` → `hosted-zone`...). A record is
//! filed under the target's region even when its ARN has none (CloudFront
//! distributions, listed by the API in `us-east-1`). EBS snapshot and AMI
//! ARNs are written as AWS documents them and the `ec2` collector records
//! them, without an account (`arn:aws:ec2:us-east-1::snapshot/snap-1`),
//! whichever form the API answers with, so that their tags meet the
//! collector's record. The types depend on what the account holds, so the
//! collector declares no parts.

use inventag_plugin_sdk::prelude::*;
use serde_json::{Value, json};

/// The service name in the catalogue.
const SERVICE: &str = "resourcegroupstaggingapi";

/// The collector, registered with the host by `export_collector!`.
struct Tagging;

impl Collector for Tagging {
    fn describe() -> CollectorInfo {
        CollectorInfo {
            name: "tagging".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            summary: "Every tagged resource the Resource Groups Tagging API knows, by ARN"
                .to_string(),
            global: false,
            calls: vec![service_calls(SERVICE, &["GetResources"])],
            parts: Vec::new(),
        }
    }

    fn collect(target: Target) -> Result<CollectSummary, CollectError> {
        let mut c = Collection::new(&target);
        let input = json!({"ResourcesPerPage": 100});
        c.collect_items(
            "tagged resources",
            SERVICE,
            "GetResources",
            &input,
            "ResourceTagMappingList",
            tagged,
        );
        c.finish()
    }
}

export_collector!(Tagging);

/// The parts of an ARN that make a record.
#[derive(Debug, PartialEq)]
struct ParsedArn {
    /// The ARN's service (`ec2`, `elasticloadbalancing`).
    service: String,
    /// The resource type, as the collectors name it (`load-balancer`).
    resource_type: String,
    /// The resource's id within its type (`i-1`, `app/web/50dc`).
    id: String,
}

/// The names the collectors give types that ARNs spell otherwise, by ARN
/// service and ARN type.
const TYPE_NAMES: [(&str, &str, &str); 14] = [
    ("ec2", "natgateway", "nat-gateway"),
    ("elasticloadbalancing", "loadbalancer", "load-balancer"),
    ("elasticloadbalancing", "targetgroup", "target-group"),
    ("elasticloadbalancing", "listener-rule", "listener-rule"),
    ("rds", "db", "db-instance"),
    ("rds", "cluster", "db-cluster"),
    ("rds", "snapshot", "db-snapshot"),
    ("rds", "cluster-snapshot", "db-cluster-snapshot"),
    ("rds", "subgrp", "db-subnet-group"),
    ("rds", "pg", "db-parameter-group"),
    ("rds", "cluster-pg", "db-cluster-parameter-group"),
    ("rds", "og", "option-group"),
    ("route53", "hostedzone", "hosted-zone"),
    ("route53", "healthcheck", "health-check"),
];

/// A type name in the collectors' style: lower-case kebab
/// (`DBProxy` → `db-proxy`, `log_group` → `log-group`).
fn kebab(raw: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = raw.chars().collect();
    for (i, &ch) in chars.iter().enumerate() {
        if ch == '_' || ch == ' ' {
            out.push('-');
        } else if ch.is_uppercase() {
            let prev_lower =
                i > 0 && (chars[i - 1].is_lowercase() || chars[i - 1].is_ascii_digit());
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            let prev_upper = i > 0 && chars[i - 1].is_uppercase();
            if i > 0 && !out.ends_with('-') && (prev_lower || (prev_upper && next_lower)) {
                out.push('-');
            }
            out.extend(ch.to_lowercase());
        } else {
            out.push(ch);
        }
    }
    out
}

/// Reads an ARN: `arn:{partition}:{service}:{region}:{account}:{resource}`,
/// where the resource is `{type}/{id}`, `{type}:{id}` (whichever separator
/// comes first), or a bare name for the services whose ARNs have no type:
/// S3 buckets, SQS queues and SNS topics (`topic:subscription-id` is an SNS
/// subscription). API Gateway's paths become `rest-api` (`/restapis/{id}`)
/// and `api` (`/apis/{id}`), deeper paths their last collection in the
/// singular (`/restapis/a/stages/prod` → `stage`, id `a/stages/prod`).
/// Lambda function and log group ARNs lose their version or `:*` suffix.
/// `None` for anything that is not an ARN.
fn parse_arn(arn: &str) -> Option<ParsedArn> {
    let mut parts = arn.splitn(6, ':');
    if parts.next()? != "arn" {
        return None;
    }
    let (_partition, service, _region, _account) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let resource = parts.next().filter(|r| !r.is_empty())?;
    if service.is_empty() {
        return None;
    }
    let typed = |resource_type: &str, id: &str| ParsedArn {
        service: service.to_string(),
        resource_type: resource_type.to_string(),
        id: id.to_string(),
    };
    if let Some(path) = resource.strip_prefix('/') {
        // API Gateway: /restapis/{id}, /apis/{id}, /restapis/{id}/stages/{name}...
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        return match segments.as_slice() {
            ["restapis", id] => Some(typed("rest-api", id)),
            ["apis", id] => Some(typed("api", id)),
            [.., kind, _] => Some(typed(&kebab(kind.trim_end_matches('s')), path)),
            _ => Some(typed("resource", path)),
        };
    }
    let split = resource.find(['/', ':']).map(|at| (&resource[..at], &resource[at + 1..]));
    let parsed = match (service, split) {
        ("s3", None) => typed("bucket", resource),
        ("s3", Some(_)) if !resource.contains(':') && !resource.starts_with("accesspoint/") => {
            typed("object", resource)
        }
        ("sqs", _) => typed("queue", resource),
        ("sns", None) => typed("topic", resource),
        ("sns", Some(_)) => typed("subscription", resource),
        ("lambda", Some(("function", rest))) => {
            typed("function", rest.split(':').next().unwrap_or(rest))
        }
        ("lambda", Some(("layer", rest))) => typed("layer", rest.split(':').next().unwrap_or(rest)),
        ("logs", Some(("log-group", rest))) => typed("log-group", rest.trim_end_matches(":*")),
        (_, Some((raw_type, id))) if !raw_type.is_empty() && !id.is_empty() => {
            let name = TYPE_NAMES
                .iter()
                .find(|(s, t, _)| *s == service && *t == raw_type)
                .map(|(_, _, name)| name.to_string())
                .unwrap_or_else(|| kebab(raw_type));
            typed(&name, id)
        }
        _ => typed("resource", resource),
    };
    Some(parsed)
}

/// The ARN as AWS documents it for the types whose ARNs have no account
/// (EBS snapshots and AMIs); any other ARN as it is.
fn canonical_arn(arn: &str, parsed: &ParsedArn) -> String {
    let accountless =
        parsed.service == "ec2" && ["snapshot", "image"].contains(&parsed.resource_type.as_str());
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts.as_slice() {
        [head @ .., _account, resource] if accountless && head.len() == 4 => {
            format!("{}::{resource}", head.join(":"))
        }
        _ => arn.to_string(),
    }
}

/// A tagged resource (`GetResources` item): service, type and id from its
/// ARN, its tags, the `Name` tag as name, filed under the target's region
/// and account. Attributes: `found_by` (`"tagging"`). An item whose ARN
/// cannot be read is skipped.
fn tagged(target: &Target, item: &Value) -> Option<Resource> {
    let arn = item["ResourceARN"].as_str()?;
    let parsed = parse_arn(arn)?;
    let arn = canonical_arn(arn, &parsed);
    let record = ResourceBuilder::new(target, &parsed.service, &parsed.resource_type, parsed.id)
        .arn(arn)
        .aws_tags(&item["Tags"])
        .attribute("found_by", "tagging")
        .build();
    Some(record)
}

#[cfg(test)]
mod tests {
    use super::*;
    use inventag_plugin_sdk::testing;

    fn parsed(arn: &str) -> (String, String, String) {
        let p = parse_arn(arn).unwrap_or_else(|| panic!("{arn} did not parse"));
        (p.service, p.resource_type, p.id)
    }

    fn triple(service: &str, resource_type: &str, id: &str) -> (String, String, String) {
        (service.into(), resource_type.into(), id.into())
    }

    #[test]
    fn arns_of_every_shape() {
        let cases = [
            ("arn:aws:sqs:us-east-1:111111111111:jobs", triple("sqs", "queue", "jobs")),
            ("arn:aws:sns:us-east-1:111111111111:alerts", triple("sns", "topic", "alerts")),
            (
                "arn:aws:sns:us-east-1:111111111111:alerts:1f2e",
                triple("sns", "subscription", "alerts:1f2e"),
            ),
            ("arn:aws:s3:::my-bucket", triple("s3", "bucket", "my-bucket")),
            (
                "arn:aws:lambda:us-east-1:111111111111:function:api",
                triple("lambda", "function", "api"),
            ),
            (
                "arn:aws:lambda:us-east-1:111111111111:function:api:live",
                triple("lambda", "function", "api"),
            ),
            ("arn:aws:lambda:us-east-1:111111111111:layer:lib:3", triple("lambda", "layer", "lib")),
            (
                "arn:aws:dynamodb:us-east-1:111111111111:table/orders",
                triple("dynamodb", "table", "orders"),
            ),
            ("arn:aws:ec2:us-east-1:111111111111:instance/i-1", triple("ec2", "instance", "i-1")),
            (
                "arn:aws:ec2:us-east-1:111111111111:natgateway/nat-1",
                triple("ec2", "nat-gateway", "nat-1"),
            ),
            ("arn:aws:ec2:us-east-1::snapshot/snap-1", triple("ec2", "snapshot", "snap-1")),
            (
                "arn:aws:elasticloadbalancing:us-east-1:111111111111:loadbalancer/app/web/50dc6c495c0c9188",
                triple("elasticloadbalancing", "load-balancer", "app/web/50dc6c495c0c9188"),
            ),
            (
                "arn:aws:elasticloadbalancing:us-east-1:111111111111:loadbalancer/classic",
                triple("elasticloadbalancing", "load-balancer", "classic"),
            ),
            (
                "arn:aws:elasticloadbalancing:us-east-1:111111111111:targetgroup/api/1",
                triple("elasticloadbalancing", "target-group", "api/1"),
            ),
            ("arn:aws:rds:us-east-1:111111111111:db:main", triple("rds", "db-instance", "main")),
            ("arn:aws:rds:us-east-1:111111111111:subgrp:g", triple("rds", "db-subnet-group", "g")),
            (
                "arn:aws:cloudwatch:us-east-1:111111111111:alarm:cpu:high",
                triple("cloudwatch", "alarm", "cpu:high"),
            ),
            (
                "arn:aws:logs:us-east-1:111111111111:log-group:/aws/lambda/api:*",
                triple("logs", "log-group", "/aws/lambda/api"),
            ),
            ("arn:aws:route53:::hostedzone/Z1", triple("route53", "hosted-zone", "Z1")),
            (
                "arn:aws:cloudfront::111111111111:distribution/E1",
                triple("cloudfront", "distribution", "E1"),
            ),
            ("arn:aws:kms:us-east-1:111111111111:key/k-1", triple("kms", "key", "k-1")),
            (
                "arn:aws:ecs:us-east-1:111111111111:task-definition/api:7",
                triple("ecs", "task-definition", "api:7"),
            ),
            (
                "arn:aws:eks:us-east-1:111111111111:nodegroup/k/w/uuid",
                triple("eks", "nodegroup", "k/w/uuid"),
            ),
            ("arn:aws:apigateway:us-east-1::/restapis/a1", triple("apigateway", "rest-api", "a1")),
            ("arn:aws:apigateway:us-east-1::/apis/b2", triple("apigateway", "api", "b2")),
            (
                "arn:aws:apigateway:us-east-1::/restapis/a1/stages/prod",
                triple("apigateway", "stage", "restapis/a1/stages/prod"),
            ),
            (
                "arn:aws:ssm:us-east-1:111111111111:parameter/app/db",
                triple("ssm", "parameter", "app/db"),
            ),
            (
                "arn:aws-cn:codebuild:cn-north-1:111111111111:project/build",
                triple("codebuild", "project", "build"),
            ),
            (
                "arn:aws:states:us-east-1:111111111111:stateMachine:flow",
                triple("states", "state-machine", "flow"),
            ),
            ("arn:aws:iam::111111111111:root", triple("iam", "resource", "root")),
        ];
        for (arn, want) in cases {
            assert_eq!(parsed(arn), want, "{arn}");
        }
        for bad in [
            "",
            "arn",
            "arn:aws:sqs",
            "arn:aws::us-east-1:1:x",
            "urn:aws:sqs:r:a:q",
            "arn:aws:sqs:r:a:",
        ] {
            assert!(parse_arn(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn kebab_names() {
        assert_eq!(kebab("stateMachine"), "state-machine");
        assert_eq!(kebab("DBProxy"), "db-proxy");
        assert_eq!(kebab("log_group"), "log-group");
        assert_eq!(kebab("security-group"), "security-group");
        assert_eq!(kebab("hostedzone"), "hostedzone");
    }

    #[test]
    fn tagged_record() {
        let target = testing::target("us-east-1");
        let item = json!({"ResourceARN": "arn:aws:cloudfront::111111111111:distribution/E1",
            "Tags": [{"Key": "Name", "Value": "cdn"}, {"Key": "empty", "Value": ""}]});
        let r = tagged(&target, &item).unwrap();
        assert_eq!(
            (r.service.as_str(), r.resource_type.as_str(), r.id.as_str()),
            ("cloudfront", "distribution", "E1")
        );
        assert_eq!((r.region.as_str(), r.name.as_deref()), ("us-east-1", Some("cdn")));
        assert_eq!(r.tags[1].value, "");
        assert_eq!(r.attributes, r#"{"found_by":"tagging"}"#);
        assert!(tagged(&target, &json!({"ResourceARN": "nonsense"})).is_none());
        for (given, canonical) in [
            (
                "arn:aws:ec2:us-east-1:111111111111:snapshot/snap-1",
                "arn:aws:ec2:us-east-1::snapshot/snap-1",
            ),
            ("arn:aws:ec2:us-east-1::image/ami-1", "arn:aws:ec2:us-east-1::image/ami-1"),
            (
                "arn:aws:ec2:us-east-1:111111111111:volume/vol-1",
                "arn:aws:ec2:us-east-1:111111111111:volume/vol-1",
            ),
        ] {
            let r = tagged(&target, &json!({"ResourceARN": given, "Tags": []})).unwrap();
            assert_eq!(r.arn.as_deref(), Some(canonical), "{given}");
        }
    }
}
