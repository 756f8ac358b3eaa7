//! The `acm` collector: the ACM certificates of one account and region.
//!
//! `ListCertificates` returns only RSA 2048 certificates unless asked for
//! the other key types, so it is asked for every key type; its summaries
//! carry what a BOM needs (domains, status, type, expiry, use). Each
//! certificate gets a `ListTagsForCertificate` call (a failure becomes one
//! warning and the certificate is kept without tags). Neither the
//! certificate nor its chain or key is read. Records: the `certificate`
//! type, whose attributes are listed on `certificate`.

use inventag_plugin_sdk::prelude::*;
use inventag_plugin_sdk::value::{strings, text};
use serde_json::{Value, json};

/// The service name in the catalogue, in records and in ARNs.
const SERVICE: &str = "acm";

/// Every key type, so that `ListCertificates` lists them all.
const KEY_TYPES: [&str; 7] = [
    "RSA_1024",
    "RSA_2048",
    "RSA_3072",
    "RSA_4096",
    "EC_prime256v1",
    "EC_secp384r1",
    "EC_secp521r1",
];

/// The collector, registered with the host by `export_collector!`.
struct Acm;

impl Collector for Acm {
    fn describe() -> CollectorInfo {
        CollectorInfo {
            name: "acm".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            summary: "ACM certificates".to_string(),
            global: false,
            calls: vec![service_calls(SERVICE, &["ListCertificates", "ListTagsForCertificate"])],
            parts: vec!["certificate".to_string()],
        }
    }

    fn collect(target: Target) -> Result<CollectSummary, CollectError> {
        let mut c = Collection::new(&target);
        c.collect_items_with(
            "certificate",
            SERVICE,
            "ListCertificates",
            &json!({"Includes": {"keyTypes": KEY_TYPES}}),
            "CertificateSummaryList",
            |c, item| {
                let input = json!({"CertificateArn": item["CertificateArn"]});
                c.detail_at("certificate tags", SERVICE, "ListTagsForCertificate", &input, "/Tags")
            },
            certificate,
        );
        c.finish()
    }
}

export_collector!(Acm);

/// A certificate (`certificate`), with the tags read for it. The id is the
/// last part of its ARN, the name the `Name` tag else its domain name,
/// state `Status` (`ISSUED`, `PENDING_VALIDATION`, `EXPIRED`...),
/// created-at `CreatedAt` (else `ImportedAt`). Attributes: `domain_name`,
/// `subject_alternative_names`, `type` (`AMAZON_ISSUED`, `IMPORTED`,
/// `PRIVATE`), `key_algorithm`, `in_use`, `not_before`, `not_after`
/// (expiry), `renewal_eligibility`, `exported`, `managed_by`.
fn certificate(target: &Target, item: &Value, tags: &Value) -> Option<Resource> {
    let arn = item["CertificateArn"].as_str().filter(|a| !a.is_empty())?;
    let id = arn.rsplit('/').next().unwrap_or(arn);
    let created = item["CreatedAt"].as_str().or(item["ImportedAt"].as_str());
    let record = ResourceBuilder::new(target, SERVICE, "certificate", id)
        .arn(arn)
        .aws_tags(tags)
        .default_name(&item["DomainName"])
        .state(&item["Status"])
        .created_at(created)
        .attribute("domain_name", text(&item["DomainName"]))
        .attribute(
            "subject_alternative_names",
            strings(&item["SubjectAlternativeNameSummaries"], ""),
        )
        .attribute("type", text(&item["Type"]))
        .attribute("key_algorithm", text(&item["KeyAlgorithm"]))
        .attribute("in_use", item["InUse"].as_bool())
        .attribute("not_before", text(&item["NotBefore"]))
        .attribute("not_after", text(&item["NotAfter"]))
        .attribute("renewal_eligibility", text(&item["RenewalEligibility"]))
        .attribute("exported", item["Exported"].as_bool())
        .attribute("managed_by", text(&item["ManagedBy"]))
        .build();
    Some(record)
}

#[cfg(test)]
mod tests {
    use super::*;
    use inventag_plugin_sdk::testing::{self, attributes};

    #[test]
    fn certificate_record() {
        let target = testing::target("us-east-1");
        let item = json!({"CertificateArn": "arn:aws:acm:us-east-1:111111111111:certificate/abc",
            "DomainName": "example.com", "SubjectAlternativeNameSummaries": ["example.com", "*.example.com"],
            "Status": "ISSUED", "Type": "AMAZON_ISSUED", "NotAfter": "2025-01-01T00:00:00Z",
            "ImportedAt": "2024-01-01T00:00:00Z"});
        let r = certificate(&target, &item, &json!([{"Key": "env", "Value": ""}])).unwrap();
        assert_eq!((r.id.as_str(), r.name.as_deref()), ("abc", Some("example.com")));
        assert_eq!(r.created_at.as_deref(), Some("2024-01-01T00:00:00Z"));
        let a = attributes(&r);
        assert_eq!(a["subject_alternative_names"], json!(["example.com", "*.example.com"]));
        assert!(certificate(&target, &json!({}), &Value::Null).is_none());
    }
}
