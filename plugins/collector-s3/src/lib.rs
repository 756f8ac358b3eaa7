//! The `s3` collector: the S3 buckets of one account that live in the
//! target's region.
//!
//! `ListBuckets` is global: every region's target sees every bucket. So
//! each target keeps only the buckets located in its own region, and every
//! bucket is emitted exactly once, in its region, when that region is
//! scanned. The region comes from `ListBuckets` itself (`BucketRegion`,
//! which AWS fills in when the request has a parameter, so the collector
//! always sends `MaxBuckets`), else from `GetBucketLocation` (whose legacy
//! answers, empty for `us-east-1` and `EU`, become region names).
//!
//! For each kept bucket it then reads, in the bucket's region, the
//! versioning, the default encryption, the bucket's public access block,
//! the policy status (public or not) and the tags. A configuration that is
//! not there (`NoSuchTagSet`, `ServerSideEncryptionConfigurationNotFoundError`,
//! `NoSuchPublicAccessBlockConfiguration`, `NoSuchBucketPolicy`) is "none",
//! not a failure; a read that fails otherwise (access denied) becomes one
//! warning per operation and the bucket is still recorded, without that
//! setting. Nothing reads objects or their keys.
//!
//! Records: the `bucket` type, whose attributes are listed on `bucket`.

use inventag_plugin_sdk::prelude::*;
use inventag_plugin_sdk::value::text;
use serde_json::{Map, Value, json};

/// The service name in the catalogue, in records and in ARNs.
const SERVICE: &str = "s3";

/// The reads of a bucket's settings: the key under which [`bucket`] finds
/// each output, the operation, and the error codes that mean "none set".
const SETTINGS: [(&str, &str, &[&str]); 5] = [
    ("versioning", "GetBucketVersioning", &[]),
    ("encryption", "GetBucketEncryption", &["ServerSideEncryptionConfigurationNotFoundError"]),
    ("public_access_block", "GetPublicAccessBlock", &["NoSuchPublicAccessBlockConfiguration"]),
    ("policy_status", "GetBucketPolicyStatus", &["NoSuchBucketPolicy"]),
    ("tagging", "GetBucketTagging", &["NoSuchTagSet"]),
];

/// The collector, registered with the host by `export_collector!`.
struct S3;

impl Collector for S3 {
    fn describe() -> CollectorInfo {
        let mut operations = vec!["ListBuckets", "GetBucketLocation"];
        operations.extend(SETTINGS.map(|(_, operation, _)| operation));
        CollectorInfo {
            name: "s3".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            summary: "S3 buckets, each in its own region, with versioning, default encryption, \
                      public access block, policy status and tags"
                .to_string(),
            global: false,
            calls: vec![service_calls(SERVICE, &operations)],
            parts: vec!["bucket".to_string()],
        }
    }

    fn collect(target: Target) -> Result<CollectSummary, CollectError> {
        let mut c = Collection::new(&target);
        c.part("bucket", collect_buckets);
        c.finish()
    }
}

export_collector!(S3);

/// Lists every bucket, keeps those of the target's region and records each
/// with its settings.
fn collect_buckets(c: &mut Collection) -> Result<(), AwsError> {
    // Any parameter makes AWS include each bucket's region in the answer.
    let input = json!({"MaxBuckets": 1000});
    for item in c.items(SERVICE, "ListBuckets", &input, "Buckets") {
        let item = item?;
        let Some(name) = item["Name"].as_str().filter(|n| !n.is_empty()) else { continue };
        let Some(region) = bucket_region(c, &item, name) else { continue };
        if region != c.region() {
            continue;
        }
        let mut settings = Map::new();
        for (key, operation, absent) in SETTINGS {
            let mut absent = absent.to_vec();
            absent.push("NoSuchBucket");
            let result =
                aws::or_absent(c.call(SERVICE, operation, &json!({"Bucket": name})), &absent);
            let output = c.detail(&format!("bucket {key} ({operation})"), result);
            // Read and set: the output; read and not set: {}; unread: null.
            let setting = match output {
                Some(Some(output)) => output,
                Some(None) => json!({}),
                None => Value::Null,
            };
            settings.insert(key.to_string(), setting);
        }
        c.emit(bucket(c.target(), &item, &Value::Object(settings)));
        if c.is_stopped() {
            break;
        }
    }
    Ok(())
}

/// The region of a listed bucket: `BucketRegion` when `ListBuckets` gave
/// it, else `GetBucketLocation`'s answer; `None` when the bucket is gone or
/// its location cannot be read (a warning).
fn bucket_region(c: &mut Collection, item: &Value, name: &str) -> Option<String> {
    if let Some(region) = item["BucketRegion"].as_str().filter(|r| !r.is_empty()) {
        return Some(region.to_string());
    }
    let location = c.call(SERVICE, "GetBucketLocation", &json!({"Bucket": name}));
    let location = c.detail("bucket location", aws::or_absent(location, &["NoSuchBucket"]));
    location.flatten().map(|output| aws::bucket_region(&output))
}

/// A bucket (`bucket`) from its `ListBuckets` item and `settings`, the
/// outputs of its setting reads by key (`{}` when the setting is not
/// there, `null` when it could not be read). The ARN is
/// `arn:{partition}:s3:::{name}`, the name the `Name` tag else the
/// bucket's name, created-at `CreationDate`; it has no state. Attributes
/// (each `null` when its read failed):
///
/// - `versioning`: `Enabled`, `Suspended`, or `Disabled` when never set;
///   `mfa_delete`;
/// - `encrypted` (a default encryption rule is set), `encryption`
///   (`AES256`, `aws:kms`, `aws:kms:dsse`), `kms_key_id`,
///   `bucket_key_enabled`;
/// - `public_access_block`: the bucket's four settings
///   (`block_public_acls`, `ignore_public_acls`, `block_public_policy`,
///   `restrict_public_buckets`), or `null` when the bucket has none (the
///   account's own block may still apply); `public_access_blocked`: all
///   four on;
/// - `public`: the bucket policy makes it public (`GetBucketPolicyStatus`;
///   false without a policy).
fn bucket(target: &Target, item: &Value, settings: &Value) -> Resource {
    let name = item["Name"].as_str().unwrap_or_default();
    let versioning = &settings["versioning"];
    let status = if versioning.is_object() {
        Value::from(versioning["Status"].as_str().unwrap_or("Disabled"))
    } else {
        Value::Null
    };
    let rule = &settings["encryption"]["ServerSideEncryptionConfiguration"]["Rules"][0];
    let default = &rule["ApplyServerSideEncryptionByDefault"];
    let block = &settings["public_access_block"]["PublicAccessBlockConfiguration"];
    let flags = [
        ("block_public_acls", "BlockPublicAcls"),
        ("ignore_public_acls", "IgnorePublicAcls"),
        ("block_public_policy", "BlockPublicPolicy"),
        ("restrict_public_buckets", "RestrictPublicBuckets"),
    ];
    let public_access_block = block.is_object().then(|| {
        let pairs =
            flags.map(|(key, member)| (key.to_string(), Value::from(block[member] == true)));
        Value::Object(pairs.into_iter().collect())
    });
    let known = |key: &str| settings[key].is_object();
    let blocked = known("public_access_block")
        .then(|| block.is_object() && flags.iter().all(|(_, member)| block[*member] == true));
    // No policy (`{}`): not public; a status without `IsPublic`: unknown.
    let public = match settings["policy_status"].get("PolicyStatus") {
        None => known("policy_status").then_some(false),
        Some(status) => status["IsPublic"].as_bool(),
    };
    ResourceBuilder::new(target, SERVICE, "bucket", name)
        .arn(arn(&target.partition, SERVICE, "", "", name))
        .aws_tags(&settings["tagging"]["TagSet"])
        .default_name(name)
        .created_at(&item["CreationDate"])
        .attribute("versioning", status)
        .attribute("mfa_delete", text(&versioning["MFADelete"]))
        .attribute("encrypted", known("encryption").then(|| default["SSEAlgorithm"].is_string()))
        .attribute("encryption", text(&default["SSEAlgorithm"]))
        .attribute("kms_key_id", text(&default["KMSMasterKeyID"]))
        .attribute("bucket_key_enabled", rule["BucketKeyEnabled"].as_bool())
        .attribute("public_access_block", public_access_block)
        .attribute("public_access_blocked", blocked)
        .attribute("public", public)
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use inventag_plugin_sdk::testing::{self, attributes};

    fn target() -> Target {
        testing::target("eu-west-1")
    }

    #[test]
    fn bucket_with_every_setting() {
        let item = json!({"Name": "logs", "CreationDate": "2024-01-01T00:00:00Z"});
        let settings = json!({
            "versioning": {"Status": "Enabled"},
            "encryption": {"ServerSideEncryptionConfiguration": {"Rules": [
                {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms",
                    "KMSMasterKeyID": "arn:aws:kms:eu-west-1:111111111111:key/k"},
                 "BucketKeyEnabled": true}]}},
            "public_access_block": {"PublicAccessBlockConfiguration": {
                "BlockPublicAcls": true, "IgnorePublicAcls": true,
                "BlockPublicPolicy": true, "RestrictPublicBuckets": true}},
            "policy_status": {"PolicyStatus": {"IsPublic": false}},
            "tagging": {"TagSet": [{"Key": "team", "Value": ""}, {"Key": "Name", "Value": "Logs"}]},
        });
        let r = bucket(&target(), &item, &settings);
        assert_eq!(r.arn.as_deref(), Some("arn:aws:s3:::logs"));
        assert_eq!((r.id.as_str(), r.name.as_deref()), ("logs", Some("Logs")));
        assert_eq!(r.region, "eu-west-1");
        assert_eq!(r.created_at.as_deref(), Some("2024-01-01T00:00:00Z"));
        assert_eq!(r.tags[0].value, "");
        let a = attributes(&r);
        assert_eq!(a["versioning"], "Enabled");
        assert_eq!(
            (a["encrypted"].clone(), a["encryption"].clone()),
            (json!(true), json!("aws:kms"))
        );
        assert_eq!(a["bucket_key_enabled"], true);
        assert_eq!(a["public_access_block"]["restrict_public_buckets"], true);
        assert_eq!(
            (a["public_access_blocked"].clone(), a["public"].clone()),
            (json!(true), json!(false))
        );
    }

    #[test]
    fn bucket_without_settings() {
        // Read, and nothing set.
        let settings = json!({"versioning": {}, "encryption": {}, "public_access_block": {},
                              "policy_status": {}, "tagging": {}});
        let r = bucket(&target(), &json!({"Name": "bare"}), &settings);
        assert_eq!(r.name.as_deref(), Some("bare"));
        assert!(r.tags.is_empty());
        let a = attributes(&r);
        assert_eq!(a["versioning"], "Disabled");
        assert_eq!((a["encrypted"].clone(), a["kms_key_id"].clone()), (json!(false), Value::Null));
        assert_eq!(a["public_access_block"], Value::Null);
        assert_eq!(
            (a["public_access_blocked"].clone(), a["public"].clone()),
            (json!(false), json!(false))
        );
        // Unread: unknown, not false.
        let unread = json!({"versioning": null, "encryption": null, "public_access_block": null,
                            "policy_status": null, "tagging": null});
        let a = attributes(&bucket(&target(), &json!({"Name": "b"}), &unread));
        for key in
            ["versioning", "encrypted", "public_access_block", "public_access_blocked", "public"]
        {
            assert_eq!(a[key], Value::Null, "{key}");
        }
        let partial = json!({"public_access_block": {"PublicAccessBlockConfiguration": {
            "BlockPublicAcls": true}}, "policy_status": {"PolicyStatus": {"IsPublic": true}}});
        let a = attributes(&bucket(&target(), &json!({"Name": "b"}), &partial));
        assert_eq!(a["public_access_block"]["ignore_public_acls"], false);
        assert_eq!(
            (a["public_access_blocked"].clone(), a["public"].clone()),
            (json!(false), json!(true))
        );
        let no_verdict = json!({"policy_status": {"PolicyStatus": {}}});
        assert_eq!(
            attributes(&bucket(&target(), &json!({"Name": "b"}), &no_verdict))["public"],
            Value::Null
        );
    }
}
