//! The `apigateway` collector: the API Gateway REST APIs (the `apigateway`
//! API) and HTTP and WebSocket APIs (the `apigatewayv2` API) of one
//! account and region. Records of both have the service `apigateway`, as
//! their ARNs do.
//!
//! `GetRestApis` and `GetApis` list the APIs with their tags, so one
//! paginated call per type is enough. The ARNs are the ones AWS defines,
//! without an account: `arn:aws:apigateway:{region}::/restapis/{id}` and
//! `arn:aws:apigateway:{region}::/apis/{id}`. Resource policies are
//! reduced to whether they let anyone in; API keys are never read. Types:
//! `rest-api` and `api` (an HTTP or WebSocket API: `protocol_type` says
//! which), whose attributes are listed on the functions that build them.

use inventag_plugin_sdk::prelude::*;
use inventag_plugin_sdk::value::{policy_allows_anyone, strings, text};
use serde_json::{Value, json};

/// The service in records and ARNs.
const SERVICE: &str = "apigateway";

/// The collector, registered with the host by `export_collector!`.
struct ApiGateway;

impl Collector for ApiGateway {
    fn describe() -> CollectorInfo {
        CollectorInfo {
            name: "apigateway".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            summary: "API Gateway REST APIs and HTTP and WebSocket APIs".to_string(),
            global: false,
            calls: vec![
                service_calls("apigateway", &["GetRestApis"]),
                service_calls("apigatewayv2", &["GetApis"]),
            ],
            parts: ["rest-api", "api"].map(String::from).to_vec(),
        }
    }

    fn collect(target: Target) -> Result<CollectSummary, CollectError> {
        let mut c = Collection::new(&target);
        c.collect_items("rest-api", "apigateway", "GetRestApis", &json!({}), "items", rest_api);
        c.collect_items("api", "apigatewayv2", "GetApis", &json!({}), "Items", api);
        c.finish()
    }
}

export_collector!(ApiGateway);

/// The ARN AWS defines for an API: `arn:...:apigateway:{region}::/{path}/{id}`.
fn api_arn(target: &Target, path: &str, id: &str) -> String {
    arn(&target.partition, SERVICE, &target.region, "", &format!("/{path}/{id}"))
}

/// A REST API (`rest-api`). The id is its id, the name the `Name` tag
/// else the API's name, created-at `createdDate`; it has no state.
/// Attributes: `api_name`, `description`, `endpoint_types` (`EDGE`,
/// `REGIONAL`, `PRIVATE`), `public` (not `PRIVATE`-only), `vpc_endpoint_ids`,
/// `api_key_source`, `execute_api_endpoint_disabled`,
/// `policy_allows_anyone`, `version`.
fn rest_api(target: &Target, item: &Value) -> Option<Resource> {
    let id = item["id"].as_str().filter(|i| !i.is_empty())?;
    let config = &item["endpointConfiguration"];
    let types = strings(&config["types"], "");
    let record = ResourceBuilder::new(target, SERVICE, "rest-api", id)
        .arn(api_arn(target, "restapis", id))
        .aws_tags(&item["tags"])
        .default_name(&item["name"])
        .created_at(&item["createdDate"])
        .attribute("api_name", text(&item["name"]))
        .attribute("description", text(&item["description"]))
        .attribute("public", !types.is_empty() && types.iter().any(|t| t != "PRIVATE"))
        .attribute("endpoint_types", types)
        .attribute("vpc_endpoint_ids", strings(&config["vpcEndpointIds"], ""))
        .attribute("api_key_source", text(&item["apiKeySource"]))
        .attribute("execute_api_endpoint_disabled", item["disableExecuteApiEndpoint"].as_bool())
        .attribute(
            "policy_allows_anyone",
            item["policy"].is_string().then(|| policy_allows_anyone(&item["policy"])),
        )
        .attribute("version", text(&item["version"]))
        .build();
    Some(record)
}

/// An HTTP or WebSocket API (`api`). The id is its `ApiId`, the name the
/// `Name` tag else the API's name, created-at `CreatedDate`; it has no
/// state. Attributes: `api_name`, `protocol_type` (`HTTP`, `WEBSOCKET`),
/// `endpoint`, `public` (true unless its default endpoint is disabled),
/// `execute_api_endpoint_disabled`, `description`, `api_gateway_managed`,
/// `version`.
fn api(target: &Target, item: &Value) -> Option<Resource> {
    let id = item["ApiId"].as_str().filter(|i| !i.is_empty())?;
    let disabled = item["DisableExecuteApiEndpoint"].as_bool();
    let record = ResourceBuilder::new(target, SERVICE, "api", id)
        .arn(api_arn(target, "apis", id))
        .aws_tags(&item["Tags"])
        .default_name(&item["Name"])
        .created_at(&item["CreatedDate"])
        .attribute("api_name", text(&item["Name"]))
        .attribute("protocol_type", text(&item["ProtocolType"]))
        .attribute("endpoint", text(&item["ApiEndpoint"]))
        .attribute("public", disabled != Some(true))
        .attribute("execute_api_endpoint_disabled", disabled)
        .attribute("description", text(&item["Description"]))
        .attribute("api_gateway_managed", item["ApiGatewayManaged"].as_bool())
        .attribute("version", text(&item["Version"]))
        .build();
    Some(record)
}

#[cfg(test)]
mod tests {
    use super::*;
    use inventag_plugin_sdk::testing::{self, attributes};

    fn target() -> Target {
        testing::target("eu-west-1")
    }

    #[test]
    fn rest_and_http_api_records() {
        let r = rest_api(
            &target(),
            &json!({"id": "a1", "name": "orders",
            "endpointConfiguration": {"types": ["REGIONAL"]}, "tags": {"env": "prod"}}),
        )
        .unwrap();
        assert_eq!(r.arn.as_deref(), Some("arn:aws:apigateway:eu-west-1::/restapis/a1"));
        assert_eq!((r.name.as_deref(), r.tags.len()), (Some("orders"), 1));
        let a = attributes(&r);
        assert_eq!(
            (a["public"].clone(), a["policy_allows_anyone"].clone()),
            (json!(true), Value::Null)
        );

        let h = api(
            &target(),
            &json!({"ApiId": "b2", "Name": "ws", "ProtocolType": "WEBSOCKET",
            "Tags": {"Name": "Sockets"}}),
        )
        .unwrap();
        assert_eq!(h.arn.as_deref(), Some("arn:aws:apigateway:eu-west-1::/apis/b2"));
        assert_eq!((h.resource_type.as_str(), h.name.as_deref()), ("api", Some("Sockets")));
        assert!(api(&target(), &json!({})).is_none());
    }
}
