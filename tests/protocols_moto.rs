//! Every wire protocol, end to end: real HTTP from the library's gateway
//! (and from `inventag call`) to a local moto server seeded with one
//! resource family per protocol. What comes back must be what was seeded.

mod common;

use std::{collections::BTreeSet, path::Path, process::Command, sync::Arc};

use aws_credential_types::{Credentials, provider::SharedCredentialsProvider};
use inventag::{
    config::AccountId,
    credentials::{AccountCredentials, CredentialMethod},
    gateway::{Caller, Gateway, GatewayOptions},
    validator::Grants,
};
use serde_json::{Value, json};

/// Runs the protocol seeding script against `moto`; returns its manifest.
fn seed(moto: &common::Moto, dir: &Path) -> Value {
    let python = std::env::var("INVENTAG_PYTHON").unwrap_or_else(|_| "python3".into());
    let manifest = dir.join("manifest.json");
    let out = Command::new(python)
        .arg(common::repo().join("tests/fixtures/seed_protocols.py"))
        .arg("--manifest")
        .arg(&manifest)
        .env("AWS_ENDPOINT_URL", &moto.url)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .expect("cannot run the seeding script");
    assert!(out.status.success(), "seeding failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&std::fs::read(&manifest).unwrap()).unwrap()
}

struct Client {
    gateway: Arc<Gateway>,
    account: Arc<AccountCredentials>,
    runtime: tokio::runtime::Runtime,
}

impl Client {
    fn new(moto: &common::Moto) -> Client {
        let gateway = Gateway::new(GatewayOptions {
            endpoint_url: Some(moto.url.clone()),
            ..Default::default()
        })
        .unwrap();
        let keys = Credentials::new("AKIAINVENTAGTEST0000", "not-a-secret", None, None, "test");
        let account = AccountCredentials::from_provider(
            AccountId::parse("123456789012").unwrap(),
            CredentialMethod::AccountsFileKeys,
            SharedCredentialsProvider::new(keys),
        );
        let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
        Client { gateway: Arc::new(gateway), account: Arc::new(account), runtime }
    }

    fn caller(service: &str, operation: &str) -> Caller {
        let ops = [operation.to_owned()];
        Caller::new("protocol-test", Arc::new(Grants::new([(service, &ops[..])])))
    }

    /// One call.
    fn call(&self, service: &str, operation: &str, region: &str, input: Value) -> Value {
        let caller = Client::caller(service, operation);
        self.runtime
            .block_on(self.gateway.call(&caller, &self.account, service, operation, region, &input))
            .unwrap_or_else(|e| panic!("{service}:{operation} failed: {e}"))
    }

    /// Every page, merged.
    fn all(&self, service: &str, operation: &str, input: Value) -> Value {
        let caller = Client::caller(service, operation);
        let pages = self.gateway.paginate(
            caller,
            self.account.clone(),
            service,
            operation,
            "us-east-1",
            input,
        );
        self.runtime
            .block_on(pages.merged())
            .unwrap_or_else(|e| panic!("{service}:{operation} pages failed: {e}"))
    }
}

fn strings(value: &Value, field: Option<&str>) -> BTreeSet<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("expected an array, got {value}"))
        .iter()
        .filter_map(|v| match field {
            Some(f) => v[f].as_str(),
            None => v.as_str(),
        })
        .map(str::to_owned)
        .collect()
}

fn names(manifest: &Value, key: &str) -> BTreeSet<String> {
    strings(&manifest[key], None)
}

fn tag_set(tags: &Value) -> BTreeSet<(String, String)> {
    tags.as_array()
        .unwrap_or_else(|| panic!("tags must be an array, got {tags}"))
        .iter()
        // moto leaves out an S3 tag's empty `<Value>`; AWS sends it empty.
        .map(|t| {
            let value = t["Value"].as_str().unwrap_or_default().to_owned();
            (t["Key"].as_str().unwrap().to_owned(), value)
        })
        .collect()
}

fn is_iso8601_utc(text: &Value) -> bool {
    text.as_str().is_some_and(|t| t.len() >= 20 && t.ends_with('Z') && t.as_bytes()[10] == b'T')
}

#[test]
fn every_protocol_reads_back_what_moto_holds() {
    let tmp = tempfile::tempdir().unwrap();
    let moto = common::Moto::start();
    let manifest = seed(&moto, tmp.path());
    let client = Client::new(&moto);

    // ec2: the EC2 protocol, nested lists (reservations, instances, tags).
    let out = client.all("ec2", "DescribeInstances", json!({}));
    let mut seen = BTreeSet::new();
    for reservation in out["Reservations"].as_array().expect("Reservations") {
        for instance in reservation["Instances"].as_array().expect("Instances") {
            let id = instance["InstanceId"].as_str().unwrap().to_owned();
            let want = manifest["ec2_instances"].as_array().unwrap().iter().find(|i| i["id"] == id);
            let want = want.unwrap_or_else(|| panic!("unexpected instance {id}"));
            assert_eq!(tag_set(&instance["Tags"]), tag_set(&want["tags"]), "tags of {id}");
            assert!(is_iso8601_utc(&instance["LaunchTime"]), "{}", instance["LaunchTime"]);
            seen.insert(id);
        }
    }
    assert_eq!(seen, strings(&manifest["ec2_instances"], Some("id")));

    // query: IAM over three pages (MaxItems 3), RDS.
    let out = client.all("iam", "ListRoles", json!({"PathPrefix": "/inventag/", "MaxItems": 3}));
    assert_eq!(strings(&out["Roles"], Some("RoleName")), names(&manifest, "iam_roles"));
    assert!(out.get("Marker").is_none() && out.get("IsTruncated").is_none(), "{out}");
    assert!(out["Roles"].as_array().unwrap().iter().all(|r| is_iso8601_utc(&r["CreateDate"])));
    let out = client.call("rds", "DescribeDBInstances", "us-east-1", json!({}));
    let engines: BTreeSet<(String, String)> = out["DBInstances"]
        .as_array()
        .expect("DBInstances")
        .iter()
        .map(|d| {
            let id = d["DBInstanceIdentifier"].as_str().unwrap().to_owned();
            (id, d["Engine"].as_str().unwrap().to_owned())
        })
        .collect();
    let want: BTreeSet<(String, String)> = manifest["rds_instances"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(engines, want);

    // awsJson 1.1 (ECS) and 1.0 (DynamoDB), both over several pages.
    let out = client.all("ecs", "ListClusters", json!({"maxResults": 2}));
    let arns = strings(&out["clusterArns"], None);
    let cluster_names: BTreeSet<String> =
        arns.iter().filter_map(|a| a.rsplit('/').next()).map(str::to_owned).collect();
    assert_eq!(cluster_names, names(&manifest, "ecs_clusters"));
    let out = client.all("dynamodb", "ListTables", json!({"Limit": 2}));
    assert_eq!(strings(&out["TableNames"], None), names(&manifest, "dynamodb_tables"));

    // REST-JSON: Lambda and EKS.
    let out = client.call("lambda", "ListFunctions", "us-east-1", json!({}));
    assert_eq!(
        strings(&out["Functions"], Some("FunctionName")),
        names(&manifest, "lambda_functions")
    );
    let out = client.call("eks", "ListClusters", "us-east-1", json!({}));
    assert_eq!(strings(&out["clusters"], None), names(&manifest, "eks_clusters"));
    let out = client.call("eks", "DescribeCluster", "us-east-1", json!({"name": "inventag-eks-0"}));
    assert_eq!(out["cluster"]["name"], "inventag-eks-0");

    // REST-XML: S3 buckets, their tags (a one-tag set is still a list) and
    // their regions, `EU`/empty location constraints normalised.
    let out = client.call("s3", "ListBuckets", "us-east-1", json!({}));
    let buckets = manifest["s3_buckets"].as_array().unwrap();
    assert_eq!(
        strings(&out["Buckets"], Some("Name")),
        strings(&manifest["s3_buckets"], Some("name"))
    );
    assert!(out["Buckets"].as_array().unwrap().iter().all(|b| is_iso8601_utc(&b["CreationDate"])));
    for bucket in buckets {
        let name = bucket["name"].as_str().unwrap();
        let region = bucket["region"].as_str().unwrap();
        let tags = client.call("s3", "GetBucketTagging", region, json!({"Bucket": name}));
        assert_eq!(tag_set(&tags["TagSet"]), tag_set(&bucket["tags"]), "tags of {name}");
        let location = client.call("s3", "GetBucketLocation", "us-east-1", json!({"Bucket": name}));
        assert_eq!(location["LocationConstraint"], region, "location of {name}");
    }
}

#[test]
fn inventag_call_prints_one_read_only_call_and_refuses_bad_input() {
    let moto = common::Moto::start();
    let keys = [("AWS_ACCESS_KEY_ID", "AKIAINVENTAGTEST0000"), ("AWS_SECRET_ACCESS_KEY", "x")];
    let run = |args: &[&str]| common::inventag(Some(&moto), None, args, &keys);

    let out = run(&["call", "s3", "ListBuckets"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "inventag call failed:\n{stderr}");
    let doc: Value = serde_json::from_slice(&out.stdout).expect("stdout is one JSON document");
    assert_eq!(doc["Buckets"], json!([]), "{doc}");

    let out = run(&["call", "iam", "ListRoles", "--paginate", "--input", r#"{"MaxItems": 1}"#]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(doc["Roles"].is_array(), "{doc}");

    for (args, needle) in [
        (&["call", "ec2", "DescribeInstances", "--input", "{"][..], "not JSON"),
        (&["call", "ec2", "DescribeInstances", "--input", "[1]"][..], "JSON object"),
        (
            &["call", "ec2", "DescribeInstances", "--input", r#"{"Filters": [{"Nmae": "x"}]}"#][..],
            "Filters[0].Nmae",
        ),
        (&["call", "ec2", "TerminateInstances"][..], "not-read-only"),
        (
            &["call", "s3", "GetObject", "--input", r#"{"Bucket": "b", "Key": "k"}"#][..],
            "sensitive-read",
        ),
        (&["call", "ec2", "DescribeNothing"][..], "UnknownOperation"),
    ] {
        let out = run(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?} should fail with status 2:\n{stderr}");
        assert!(stderr.contains(needle), "{args:?}: {needle:?} missing from:\n{stderr}");
        assert!(!stderr.contains("panicked"), "{args:?} panicked:\n{stderr}");
        assert!(out.stdout.is_empty(), "{args:?} printed output");
    }

    // An AWS error is reported, not a usage error.
    let out = run(&["call", "s3", "GetBucketTagging", "--input", r#"{"Bucket": "absent"}"#]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("NoSuchBucket"));
}
