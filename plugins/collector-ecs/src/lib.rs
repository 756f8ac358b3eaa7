//! The `ecs` collector: the ECS clusters, services and active task
//! definition families of one account and region.
//!
//! - clusters: `ListClusters`, then `DescribeClusters` 100 at a time with
//!   `include: ["TAGS", "SETTINGS"]`;
//! - services: for each cluster, `ListServices`, then `DescribeServices`
//!   10 at a time with `include: ["TAGS"]` (a service AWS could not
//!   describe is still recorded from its ARN);
//! - task definitions: `ListTaskDefinitionFamilies` (status `ACTIVE`), then
//!   for each family `DescribeTaskDefinition` of the family name, which
//!   AWS answers with its latest active revision, with `include: ["TAGS"]`:
//!   one record per family, not one per revision.
//!   Of its containers only the names and images are recorded: container
//!   definitions carry environment variables, which are never copied.
//!
//! A failed detail read becomes one warning. Records have AWS's ARNs (a
//! task definition family's is its latest active revision's). Types:
//! `cluster`, `service` and `task-definition`, whose attributes are listed
//! on the functions that build them.

use inventag_plugin_sdk::prelude::*;
use inventag_plugin_sdk::value::{array, find_by, strings, text};
use serde_json::{Value, json};

/// The service name in the catalogue, in records and in ARNs.
const SERVICE: &str = "ecs";

/// The collector, registered with the host by `export_collector!`.
struct Ecs;

impl Collector for Ecs {
    fn describe() -> CollectorInfo {
        CollectorInfo {
            name: "ecs".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            summary: "ECS clusters, services and active task definition families".to_string(),
            global: false,
            calls: vec![service_calls(
                SERVICE,
                &[
                    "ListClusters",
                    "DescribeClusters",
                    "ListServices",
                    "DescribeServices",
                    "ListTaskDefinitionFamilies",
                    "DescribeTaskDefinition",
                ],
            )],
            parts: ["cluster", "service", "task-definition"].map(String::from).to_vec(),
        }
    }

    fn collect(target: Target) -> Result<CollectSummary, CollectError> {
        let mut c = Collection::new(&target);
        c.collect_pages_with(
            "cluster",
            SERVICE,
            "ListClusters",
            &json!({}),
            "clusterArns",
            |c, arns| {
                let input = json!({"include": ["TAGS", "SETTINGS"]});
                let found = c.detail_batches(
                    "cluster details",
                    SERVICE,
                    "DescribeClusters",
                    &input,
                    "clusters",
                    arns,
                    100,
                    "/clusters",
                );
                arns.iter().map(|arn| find_by(&found, "clusterArn", arn).clone()).collect()
            },
            cluster,
        );
        c.part("service", collect_services);
        c.collect_items_with(
            "task-definition",
            SERVICE,
            "ListTaskDefinitionFamilies",
            &json!({"status": "ACTIVE"}),
            "families",
            |c, family| {
                let input = json!({"taskDefinition": family, "include": ["TAGS"]});
                c.detail_at(
                    "task definition details",
                    SERVICE,
                    "DescribeTaskDefinition",
                    &input,
                    "",
                )
            },
            task_definition,
        );
        c.finish()
    }
}

export_collector!(Ecs);

/// The services of every cluster.
fn collect_services(c: &mut Collection) -> Result<(), AwsError> {
    let clusters: Vec<Value> =
        c.items(SERVICE, "ListClusters", &json!({}), "clusterArns").collect::<Result<_, _>>()?;
    for cluster in clusters {
        let input = json!({"cluster": cluster});
        for page in aws::paginate(SERVICE, "ListServices", c.region(), &input) {
            let page = page?;
            let arns = array(&page["serviceArns"]);
            let input = json!({"cluster": cluster, "include": ["TAGS"]});
            let found = c.detail_batches(
                "service details",
                SERVICE,
                "DescribeServices",
                &input,
                "services",
                arns,
                10,
                "/services",
            );
            for arn in arns {
                let described = find_by(&found, "serviceArn", arn);
                let item = if described.is_null() {
                    json!({"serviceArn": arn, "clusterArn": cluster})
                } else {
                    described.clone()
                };
                if let Some(record) = service(c.target(), &item) {
                    c.emit(record);
                }
            }
            if c.is_stopped() {
                return Ok(());
            }
        }
    }
    Ok(())
}

/// The last part of an ARN's resource (`service/cluster/web` → `web`).
fn last_segment(arn: &str) -> &str {
    arn.rsplit(['/', ':']).next().unwrap_or(arn)
}

/// A cluster (`cluster`) from its ARN and its `DescribeClusters` item
/// (`null` when it could not be described). The id and name are its name,
/// state `status`. Attributes: `active_services`, `running_tasks`,
/// `pending_tasks`, `container_instances`, `capacity_providers`,
/// `container_insights` (the setting's value: `enabled`, `enhanced`,
/// `disabled`).
fn cluster(target: &Target, arn: &Value, item: &Value) -> Option<Resource> {
    let arn = arn.as_str().filter(|a| !a.is_empty())?;
    let name = item["clusterName"].as_str().unwrap_or_else(|| last_segment(arn));
    let insights = array(&item["settings"]).iter().find(|s| s["name"] == "containerInsights");
    let record = ResourceBuilder::new(target, SERVICE, "cluster", name)
        .arn(arn)
        .aws_tags(&item["tags"])
        .default_name(name)
        .state(&item["status"])
        .attribute("active_services", item["activeServicesCount"].as_u64())
        .attribute("running_tasks", item["runningTasksCount"].as_u64())
        .attribute("pending_tasks", item["pendingTasksCount"].as_u64())
        .attribute("container_instances", item["registeredContainerInstancesCount"].as_u64())
        .attribute("capacity_providers", strings(&item["capacityProviders"], ""))
        .attribute("container_insights", insights.map(|s| text(&s["value"])))
        .build();
    Some(record)
}

/// A service (`service`) from its `DescribeServices` item (or only its
/// ARN and cluster when it could not be described). The id is the
/// service's name (unique within its cluster; the ARN names the cluster
/// too), the name its `Name` tag else the service name, state `status`,
/// created-at `createdAt`. Attributes: `cluster`, `launch_type`,
/// `scheduling_strategy`, `desired_count`, `running_count`,
/// `task_definition` (the revision's ARN), `platform_version`,
/// `subnet_ids`, `security_group_ids`, `public_ip` (`assignPublicIp`
/// is `ENABLED`), `load_balancer_target_groups`.
fn service(target: &Target, item: &Value) -> Option<Resource> {
    let arn = item["serviceArn"].as_str().filter(|a| !a.is_empty())?;
    let name = item["serviceName"].as_str().unwrap_or_else(|| last_segment(arn));
    let cluster = last_segment(item["clusterArn"].as_str().unwrap_or_default());
    let network = &item["networkConfiguration"]["awsvpcConfiguration"];
    let record = ResourceBuilder::new(target, SERVICE, "service", name)
        .arn(arn)
        .aws_tags(&item["tags"])
        .default_name(name)
        .state(&item["status"])
        .created_at(&item["createdAt"])
        .attribute("cluster", cluster)
        .attribute("launch_type", text(&item["launchType"]))
        .attribute("scheduling_strategy", text(&item["schedulingStrategy"]))
        .attribute("desired_count", item["desiredCount"].as_u64())
        .attribute("running_count", item["runningCount"].as_u64())
        .attribute("task_definition", text(&item["taskDefinition"]))
        .attribute("platform_version", text(&item["platformVersion"]))
        .attribute("subnet_ids", strings(&network["subnets"], ""))
        .attribute("security_group_ids", strings(&network["securityGroups"], ""))
        .attribute("public_ip", network["assignPublicIp"] == "ENABLED")
        .attribute("load_balancer_target_groups", strings(&item["loadBalancers"], "targetGroupArn"))
        .build();
    Some(record)
}

/// An active task definition family (`task-definition`) from its name and
/// the `DescribeTaskDefinition` output of its latest active revision
/// (`null` when unread): one record per family, for its latest active
/// revision. The id is that revision's `{family}:{revision}` (the family
/// alone when unread), the ARN the revision's, the name the `Name` tag
/// else the family, state `status`, created-at `registeredAt`.
/// Attributes: `family`, `revision`, `cpu`, `memory`,
/// `network_mode`, `compatibilities` (`requiresCompatibilities`:
/// `FARGATE`, `EC2`), `task_role_arn`, `execution_role_arn`, `containers`
/// (each as `name` and `image`; never their environment).
fn task_definition(target: &Target, family: &Value, output: &Value) -> Option<Resource> {
    let family = family.as_str().filter(|f| !f.is_empty())?;
    let t = &output["taskDefinition"];
    let containers: Vec<Value> = array(&t["containerDefinitions"])
        .iter()
        .map(|d| json!({"name": d["name"], "image": d["image"]}))
        .collect();
    let id = match t["revision"].as_u64() {
        Some(revision) => format!("{family}:{revision}"),
        None => family.to_string(),
    };
    let record = ResourceBuilder::new(target, SERVICE, "task-definition", id)
        .arn(&t["taskDefinitionArn"])
        .aws_tags(&output["tags"])
        .default_name(family)
        .state(&t["status"])
        .created_at(&t["registeredAt"])
        .attribute("family", family)
        .attribute("revision", t["revision"].as_u64())
        .attribute("cpu", text(&t["cpu"]))
        .attribute("memory", text(&t["memory"]))
        .attribute("network_mode", text(&t["networkMode"]))
        .attribute("compatibilities", strings(&t["requiresCompatibilities"], ""))
        .attribute("task_role_arn", text(&t["taskRoleArn"]))
        .attribute("execution_role_arn", text(&t["executionRoleArn"]))
        .attribute("containers", containers)
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
    fn cluster_records_with_and_without_details() {
        let arn = json!("arn:aws:ecs:us-east-1:111111111111:cluster/main");
        let item = json!({"clusterArn": arn, "clusterName": "main", "status": "ACTIVE",
            "activeServicesCount": 2, "tags": [{"key": "env", "value": "prod"}],
            "settings": [{"name": "containerInsights", "value": "enabled"}]});
        let r = cluster(&target(), &arn, &item).unwrap();
        assert_eq!((r.id.as_str(), r.state.as_deref()), ("main", Some("ACTIVE")));
        assert_eq!((r.tags[0].key.as_str(), r.tags[0].value.as_str()), ("env", "prod"));
        assert_eq!(attributes(&r)["container_insights"], "enabled");
        let bare = cluster(&target(), &arn, &Value::Null).unwrap();
        assert_eq!((bare.id.as_str(), bare.arn.as_deref()), ("main", arn.as_str()));
    }

    #[test]
    fn service_and_task_definition_records() {
        let s = service(&target(), &json!({
            "serviceArn": "arn:aws:ecs:us-east-1:111111111111:service/main/web",
            "serviceName": "web", "clusterArn": "arn:aws:ecs:us-east-1:111111111111:cluster/main",
            "status": "ACTIVE", "desiredCount": 2, "launchType": "FARGATE",
            "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-1"], "assignPublicIp": "DISABLED"}},
            "tags": [{"key": "Name", "value": "Web"}]})).unwrap();
        assert_eq!((s.id.as_str(), s.name.as_deref()), ("web", Some("Web")));
        let a = attributes(&s);
        assert_eq!(
            (a["subnet_ids"].clone(), a["public_ip"].clone()),
            (json!(["subnet-1"]), json!(false))
        );
        let old = service(
            &target(),
            &json!({"serviceArn": "arn:aws:ecs:us-east-1:111111111111:service/web",
            "clusterArn": "arn:aws:ecs:us-east-1:111111111111:cluster/main"}),
        )
        .unwrap();
        assert_eq!((old.id.as_str(), attributes(&old)["cluster"].clone()), ("web", json!("main")));

        let output = json!({"taskDefinition": {"family": "api", "revision": 7, "status": "ACTIVE",
            "taskDefinitionArn": "arn:aws:ecs:us-east-1:111111111111:task-definition/api:7",
            "containerDefinitions": [{"name": "app", "image": "nginx:1",
                "environment": [{"name": "DB_PASSWORD", "value": "hunter2"}]}]},
            "tags": []});
        let t = task_definition(&target(), &json!("api"), &output).unwrap();
        assert_eq!(
            t.arn.as_deref(),
            Some("arn:aws:ecs:us-east-1:111111111111:task-definition/api:7")
        );
        assert_eq!(attributes(&t)["containers"], json!([{"name": "app", "image": "nginx:1"}]));
        assert!(!t.attributes.contains("hunter2") && !t.attributes.contains("DB_PASSWORD"));
        assert_eq!((t.id.as_str(), t.name.as_deref()), ("api:7", Some("api")));
        let unread = task_definition(&target(), &json!("api"), &Value::Null).unwrap();
        assert_eq!((unread.id.as_str(), unread.arn), ("api", None));
    }
}
