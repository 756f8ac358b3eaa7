//! `ecr`: Amazon ECR repositories, with their tags.
//!
//! One paginated `ecr:DescribeRepositories` per target, then one
//! `ecr:ListTagsForResource` per repository. Both are declared in
//! `describe`; the host grants exactly these two operations. A repository
//! whose tags cannot be read is still recorded, without tags, and the
//! failure becomes a warning of the target.
//!
//! Each record: service `ecr`, type `repository`, id the repository name,
//! the ARN AWS gives it, and the attributes `uri`, `registry_id`,
//! `image_tag_mutability`, `scan_on_push` and `encryption_type`.

use inventag_plugin_sdk::prelude::*;
use serde_json::{Value, json};

/// The collector, registered with the host by `export_collector!`.
struct Ecr;

impl Collector for Ecr {
    fn describe() -> CollectorInfo {
        CollectorInfo {
            name: "ecr".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            summary: "Amazon ECR repositories, with their tags".into(),
            global: false,
            calls: vec![service_calls("ecr", &["DescribeRepositories", "ListTagsForResource"])],
            parts: Vec::new(),
        }
    }

    fn collect(target: Target) -> Result<CollectSummary, CollectError> {
        let mut c = Collection::new(&target);
        c.part("repositories", |c| {
            let region = c.target().region.clone();
            let list = aws::paginate_items(
                "ecr",
                "DescribeRepositories",
                &region,
                &json!({}),
                "repositories",
            );
            for repository in list {
                let record = repository_record(c, &repository?);
                c.emit(record);
                if c.is_stopped() {
                    break;
                }
            }
            Ok(())
        });
        c.finish()
    }
}

/// The record of one `DescribeRepositories` item, with its tags.
fn repository_record(c: &mut Collection, repository: &Value) -> Resource {
    let name = repository["repositoryName"].as_str().unwrap_or_default();
    let arn = repository["repositoryArn"].as_str().unwrap_or_default();
    let input = json!({"resourceArn": arn});
    let tags = match aws::call("ecr", "ListTagsForResource", &c.target().region, &input) {
        Ok(output) => tags_from_aws(&output["tags"]),
        Err(e) => {
            c.warn(format!("tags of {name}: {e}"));
            Vec::new()
        }
    };
    c.builder("ecr", "repository", name)
        .arn(arn)
        .name(name)
        .created_at(&repository["createdAt"])
        .tags(tags)
        .attribute("uri", repository["repositoryUri"].clone())
        .attribute("registry_id", repository["registryId"].clone())
        .attribute("image_tag_mutability", repository["imageTagMutability"].clone())
        .attribute("scan_on_push", repository["imageScanningConfiguration"]["scanOnPush"].clone())
        .attribute(
            "encryption_type",
            repository["encryptionConfiguration"]["encryptionType"].clone(),
        )
        .build()
}

export_collector!(Ecr);
