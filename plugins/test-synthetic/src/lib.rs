//! Benchmark only: a collector that, but for the host-call benchmark, calls
//! no AWS operation and emits synthetic resources shaped like real ones (a
//! dozen tags, a few hundred bytes of attributes), to measure the host and
//! the formatters at scale.
//!
//! The count per target comes from the account name: an account named
//! `synthetic-25000` gets 25,000 records per region; any other name gets
//! 1,000. An account named `host-calls-N` instead gets no records and `N`
//! calls of `ec2:DescribeVpcs`, for the plugin benchmark to time the host
//! call path.

use inventag_plugin_sdk::prelude::*;
use serde_json::json;

struct Synthetic;

/// Makes `n` calls of `ec2:DescribeVpcs` and emits nothing.
fn host_calls(target: &Target, n: u64) -> Result<CollectSummary, CollectError> {
    for _ in 0..n {
        if let Err(e) = aws::call("ec2", "DescribeVpcs", &target.region, &json!({})) {
            return Err(CollectError { message: e.to_string(), access_denied: e.is_denial() });
        }
    }
    Ok(CollectSummary { emitted: 0, warnings: Vec::new() })
}

/// Records per target when the account name does not say.
const DEFAULT_COUNT: u64 = 1000;

impl Collector for Synthetic {
    fn describe() -> CollectorInfo {
        CollectorInfo {
            name: "synthetic".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            summary: "Benchmark only: synthetic resources, no AWS calls".to_string(),
            global: false,
            calls: vec![service_calls("ec2", &["DescribeVpcs"])],
            parts: Vec::new(),
        }
    }

    fn collect(target: Target) -> Result<CollectSummary, CollectError> {
        if let Some(n) = target.account_name.strip_prefix("host-calls-") {
            return host_calls(&target, n.parse().unwrap_or(0));
        }
        let count = target
            .account_name
            .strip_prefix("synthetic-")
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(DEFAULT_COUNT);
        let mut c = Collection::new(&target);
        for i in 0..count {
            if c.is_stopped() {
                break;
            }
            let id = format!("i-{:017x}", (u64::from(target.region.len() as u32) << 40) + i);
            let arn = format!(
                "arn:{}:ec2:{}:{}:instance/{id}",
                target.partition, target.region, target.account_id
            );
            let mut tags = Vec::with_capacity(10);
            for (key, value) in [
                ("Name", format!("node-{i}")),
                ("Environment", ["prod", "staging", "dev"][(i % 3) as usize].to_string()),
                ("Team", format!("team-{}", i % 17)),
                ("CostCenter", format!("cc-{:04}", i % 251)),
                ("Owner", format!("owner{}@example.com", i % 97)),
                ("Application", format!("app-{}", i % 41)),
                ("Backup", "daily".to_string()),
                ("Compliance", "soc2".to_string()),
                ("Project", format!("project-{}", i % 13)),
                ("Version", format!("1.{}.{}", i % 7, i % 11)),
            ] {
                tags.push(Tag { key: key.to_string(), value: value.to_string() });
            }
            let record = c
                .builder("ec2", "instance", &id)
                .arn(arn)
                .name(format!("node-{i}"))
                .state("running")
                .created_at("2026-01-02T03:04:05Z")
                .tags(tags)
                .attribute(
                    "instance_type",
                    ["t3.micro", "m5.large", "c6g.xlarge"][(i % 3) as usize],
                )
                .attribute("vpc_id", format!("vpc-{:08x}", i % 9))
                .attribute("subnet_id", format!("subnet-{:08x}", i % 31))
                .attribute(
                    "private_ip",
                    format!("10.{}.{}.{}", i % 250, (i / 250) % 250, i % 200 + 1),
                )
                .attribute("image_id", format!("ami-{:08x}", i % 5))
                .attribute("architecture", "x86_64")
                .attribute("ebs_optimized", i % 2 == 0)
                .attribute("public_exposure", false)
                .attribute("security_groups", json!([format!("sg-{:08x}", i % 23)]))
                .build();
            c.emit(record);
        }
        c.finish()
    }
}

export_collector!(Synthetic);
