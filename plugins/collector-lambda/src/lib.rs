//! The `lambda` collector: the Lambda functions and layers of one account
//! and region.
//!
//! Functions come from `ListFunctions` (their `$LATEST` configuration) and
//! get their tags from `ListTags`, one call per function (a failure becomes
//! one warning and the function is kept without tags). Layers come from
//! `ListLayers`, with their latest version; layers have no tags. Records
//! have AWS's ARNs (a function's without version, a layer's without
//! version) and the `Name` tag, else the function's or layer's name.
//!
//! `ListFunctions` answers with each function's environment variables.
//! They are never recorded, neither names nor values: the record builder
//! copies the members listed on it and nothing else. Nothing reads code
//! (`GetFunction`, which hands out a link to it, is never called).

use inventag_plugin_sdk::prelude::*;
use inventag_plugin_sdk::value::{strings, text};
use serde_json::{Value, json};

/// The service name in the catalogue, in records and in ARNs.
const SERVICE: &str = "lambda";

/// The collector, registered with the host by `export_collector!`.
struct Lambda;

impl Collector for Lambda {
    fn describe() -> CollectorInfo {
        CollectorInfo {
            name: "lambda".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            summary: "Lambda functions (never their environment) and layers".to_string(),
            global: false,
            calls: vec![service_calls(SERVICE, &["ListFunctions", "ListTags", "ListLayers"])],
            parts: ["function", "layer"].map(String::from).to_vec(),
        }
    }

    fn collect(target: Target) -> Result<CollectSummary, CollectError> {
        let mut c = Collection::new(&target);
        let none = json!({});
        c.collect_items_with(
            "function",
            SERVICE,
            "ListFunctions",
            &none,
            "Functions",
            |c, item| {
                let input = json!({"Resource": item["FunctionArn"]});
                c.detail_at("function tags", SERVICE, "ListTags", &input, "/Tags")
            },
            function,
        );
        c.collect_items("layer", SERVICE, "ListLayers", &none, "Layers", layer);
        c.finish()
    }
}

export_collector!(Lambda);

/// A function (`function`), with the tags read for it. State is `State`
/// when the list gives it (it often does not). Attributes: `runtime`
/// (`null` for container images), `handler`, `package_type` (`Zip`,
/// `Image`), `architectures`, `memory_mb`, `timeout_s`,
/// `ephemeral_storage_mb`, `code_size_bytes`, `last_modified`,
/// `description`, `role` (its execution role's ARN), `kms_key_arn`,
/// `vpc_id`, `subnet_ids`, `security_group_ids`, `layers` (layer version
/// ARNs), `tracing_mode`, `log_group`. Never its environment.
fn function(target: &Target, item: &Value, tags: &Value) -> Option<Resource> {
    let vpc = &item["VpcConfig"];
    let vpc_id = text(&vpc["VpcId"]).as_str().filter(|v| !v.is_empty()).map(Value::from);
    let record =
        ResourceBuilder::from_item(target, SERVICE, "function", item, "FunctionName", tags)?
            .arn(&item["FunctionArn"])
            .state(&item["State"])
            .attribute("runtime", text(&item["Runtime"]))
            .attribute("handler", text(&item["Handler"]))
            .attribute("package_type", text(&item["PackageType"]))
            .attribute("architectures", strings(&item["Architectures"], ""))
            .attribute("memory_mb", item["MemorySize"].as_u64())
            .attribute("timeout_s", item["Timeout"].as_u64())
            .attribute("ephemeral_storage_mb", item["EphemeralStorage"]["Size"].as_u64())
            .attribute("code_size_bytes", item["CodeSize"].as_u64())
            .attribute("last_modified", text(&item["LastModified"]))
            .attribute("description", text(&item["Description"]))
            .attribute("role", text(&item["Role"]))
            .attribute("kms_key_arn", text(&item["KMSKeyArn"]))
            .attribute("vpc_id", vpc_id)
            .attribute("subnet_ids", strings(&vpc["SubnetIds"], ""))
            .attribute("security_group_ids", strings(&vpc["SecurityGroupIds"], ""))
            .attribute("layers", strings(&item["Layers"], "Arn"))
            .attribute("tracing_mode", text(&item["TracingConfig"]["Mode"]))
            .attribute("log_group", text(&item["LoggingConfig"]["LogGroup"]))
            .build();
    Some(record)
}

/// A layer (`layer`); it has no tags or state; created-at is its latest
/// version's `CreatedDate`. Attributes: `latest_version`,
/// `latest_version_arn`, `description`, `compatible_runtimes`,
/// `compatible_architectures`, `license`.
fn layer(target: &Target, item: &Value) -> Option<Resource> {
    let name = item["LayerName"].as_str().filter(|n| !n.is_empty())?;
    let latest = &item["LatestMatchingVersion"];
    let record = ResourceBuilder::new(target, SERVICE, "layer", name)
        .arn(&item["LayerArn"])
        .name(name)
        .created_at(&latest["CreatedDate"])
        .attribute("latest_version", latest["Version"].as_u64())
        .attribute("latest_version_arn", text(&latest["LayerVersionArn"]))
        .attribute("description", text(&latest["Description"]))
        .attribute("compatible_runtimes", strings(&latest["CompatibleRuntimes"], ""))
        .attribute("compatible_architectures", strings(&latest["CompatibleArchitectures"], ""))
        .attribute("license", text(&latest["LicenseInfo"]))
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
    fn function_never_carries_its_environment() {
        let item = json!({"FunctionName": "api",
            "FunctionArn": "arn:aws:lambda:us-east-1:111111111111:function:api",
            "Runtime": "python3.12", "MemorySize": 256, "Timeout": 30,
            "LastModified": "2024-05-01T10:00:00.000+0000",
            "Environment": {"Variables": {"DB_PASSWORD": "hunter2"}},
            "VpcConfig": {"VpcId": "", "SubnetIds": [], "SecurityGroupIds": []},
            "Layers": [{"Arn": "arn:aws:lambda:us-east-1:111111111111:layer:lib:3"}]});
        let r = function(&target(), &item, &json!({"team": "web", "empty": ""})).unwrap();
        assert_eq!(r.arn.as_deref(), Some("arn:aws:lambda:us-east-1:111111111111:function:api"));
        assert_eq!(r.name.as_deref(), Some("api"));
        assert_eq!(r.tags.iter().map(|t| t.key.as_str()).collect::<Vec<_>>(), ["team", "empty"]);
        let text = format!("{r:?}");
        assert!(!text.contains("hunter2") && !text.contains("DB_PASSWORD"), "{text}");
        let a = attributes(&r);
        assert_eq!(
            (a["runtime"].clone(), a["memory_mb"].clone()),
            (json!("python3.12"), json!(256))
        );
        assert_eq!(a["vpc_id"], Value::Null);
        assert_eq!(a["last_modified"], "2024-05-01T10:00:00.000+0000");
        assert_eq!(a["layers"], json!(["arn:aws:lambda:us-east-1:111111111111:layer:lib:3"]));
    }

    #[test]
    fn layer_record() {
        let r = layer(
            &target(),
            &json!({"LayerName": "lib", "LayerArn": "arn:aws:lambda:us-east-1:111111111111:layer:lib",
                    "LatestMatchingVersion": {"Version": 3, "CreatedDate": "2024-01-01T00:00:00.000+0000",
                        "CompatibleRuntimes": ["python3.12"]}}),
        )
        .unwrap();
        assert_eq!(r.arn.as_deref(), Some("arn:aws:lambda:us-east-1:111111111111:layer:lib"));
        assert_eq!(attributes(&r)["latest_version"], 3);
        assert_eq!(attributes(&r)["compatible_runtimes"], json!(["python3.12"]));
        assert!(layer(&target(), &json!({})).is_none());
    }
}
