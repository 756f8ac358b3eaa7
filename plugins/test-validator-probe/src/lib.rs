//! `validator-probe`: a test-only collector that tries what no plugin may
//! do through the host's `aws` import, and reports what it was told.
//!
//! It declares `ec2:DescribeInstances` (a real read, so the attempts aim at
//! real instances), and four operations the validator must refuse even
//! though they are declared: `ec2:TerminateInstances`, `s3:PutObject`,
//! `iam:CreateUser` and `secretsmanager:GetSecretValue`. It also calls
//! `ec2:DescribeImages`, which it does not declare, once with `call` and
//! once with `paginate`.
//!
//! It emits exactly one record: service `validator-probe`, type `probe`,
//! id `probe-{account}-{region}`, with attributes
//! `{"instances_seen": N, "attempts": [{"service", "operation", "via",
//! "ok", "kind", "code"}]}`. Nothing here panics: every outcome is data.
//! It is not shipped; tests load it to check the validator.

use inventag_plugin_sdk::{aws::kind_name, prelude::*};
use serde_json::{Value, json};

/// The bucket, user and secret names the probe aims at; tests check that
/// none of them reaches the audit log.
const BUCKET: &str = "probe-bucket-7c1d";
/// See [`BUCKET`].
const USER: &str = "probe-user-7c1d";
/// See [`BUCKET`].
const SECRET: &str = "probe-secret-7c1d";

/// The collector, registered with the host by `export_collector!`.
struct ValidatorProbe;

impl Collector for ValidatorProbe {
    fn describe() -> CollectorInfo {
        CollectorInfo {
            name: "validator-probe".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            summary: "Test only: tries writes, secret reads and undeclared calls".to_string(),
            global: false,
            calls: vec![
                service_calls("ec2", &["DescribeInstances", "TerminateInstances"]),
                service_calls("s3", &["PutObject"]),
                service_calls("iam", &["CreateUser"]),
                service_calls("secretsmanager", &["GetSecretValue"]),
            ],
            parts: Vec::new(),
        }
    }

    fn collect(target: Target) -> Result<CollectSummary, CollectError> {
        let region = target.region.clone();
        let mut instances = Vec::new();
        let mut warnings = Vec::new();
        for page in aws::paginate("ec2", "DescribeInstances", &region, &json!({})) {
            match page {
                Ok(page) => {
                    for reservation in page["Reservations"].as_array().into_iter().flatten() {
                        for instance in reservation["Instances"].as_array().into_iter().flatten() {
                            if let Some(id) = instance["InstanceId"].as_str() {
                                instances.push(id.to_string());
                            }
                        }
                    }
                }
                Err(e) => warnings.push(format!("DescribeInstances: {e}")),
            }
        }

        let mut attempts = Vec::new();
        let mut attempt = |service: &str, operation: &str, input: Value| {
            let result = aws::call(service, operation, &region, &input).map(|_| ());
            attempts.push(outcome(service, operation, "call", result));
        };
        attempt("ec2", "TerminateInstances", json!({"InstanceIds": instances}));
        attempt("s3", "PutObject", json!({"Bucket": BUCKET, "Key": "probe.txt", "Body": "eA=="}));
        attempt("iam", "CreateUser", json!({"UserName": USER}));
        attempt("secretsmanager", "GetSecretValue", json!({"SecretId": SECRET}));
        attempt("ec2", "DescribeImages", json!({"Owners": ["self"]}));
        let paged = aws::paginate("ec2", "DescribeImages", &region, &json!({"Owners": ["self"]}))
            .try_fold((), |(), page| page.map(|_| ()));
        attempts.push(outcome("ec2", "DescribeImages", "paginate", paged));

        let id = format!("probe-{}-{}", target.account_id, target.region);
        let record = ResourceBuilder::new(&target, "validator-probe", "probe", id)
            .attribute("instances_seen", instances.len())
            .attribute("attempts", attempts)
            .build();
        let mut emitter = Emitter::new();
        match emitter.push(record).and_then(|()| emitter.flush()) {
            Ok(()) => Ok(CollectSummary { emitted: emitter.emitted(), warnings }),
            Err(e) => Err(CollectError {
                message: format!("the host refused the probe record: {e}"),
                access_denied: false,
            }),
        }
    }
}

export_collector!(ValidatorProbe);

/// One attempt as `{"service", "operation", "via", "ok", "kind", "code"}`.
fn outcome(service: &str, operation: &str, via: &str, result: Result<(), AwsError>) -> Value {
    match result {
        Ok(()) => json!({
            "service": service, "operation": operation, "via": via,
            "ok": true, "kind": null, "code": null,
        }),
        Err(e) => json!({
            "service": service, "operation": operation, "via": via,
            "ok": false, "kind": kind_name(e.kind), "code": e.code,
        }),
    }
}
