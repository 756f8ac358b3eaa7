//! `hostile`: a test-only collector whose every part misbehaves in its own
//! way, so that a test can check the host contains each one and keeps the
//! rest of the run whole.
//!
//! The host runs each declared part as a target of its own, so one run
//! shows every case side by side:
//!
//! | part | what it does |
//! | --- | --- |
//! | `loop` | spins forever; the deadline must stop it |
//! | `memory` | allocates without end; the memory cap must stop it |
//! | `flood` | emits records without end; the record cap must stop it |
//! | `oversized` | emits one record of 2 MiB; the record size cap refuses it |
//! | `write` | calls `ec2:TerminateInstances` (declared): `not-read-only` |
//! | `undeclared` | calls `ec2:DescribeHosts`, which it does not declare |
//! | `region` | calls `us-east-1.evil.example`, `../x`, and `ap-southeast-9` (not scanned) |
//! | `service` | calls a service that is not in the catalogue |
//! | `sandbox` | reads `/etc/passwd` and the `HOME` variable |
//! | `trap` | executes `unreachable` |
//! | `panic` | panics |
//! | `hang` | calls `ec2:DescribeAvailabilityZones`, which the test's proxy never answers |
//!
//! A part that is refused reports what it was told as its warning, so the
//! coverage record of the target carries it. It is not shipped.

use inventag_plugin_sdk::prelude::*;
use serde_json::json;

/// The parts, each a hostile case.
const PARTS: [&str; 12] = [
    "loop",
    "memory",
    "flood",
    "oversized",
    "write",
    "undeclared",
    "region",
    "service",
    "sandbox",
    "trap",
    "panic",
    "hang",
];

/// The collector, registered with the host by `export_collector!`.
struct Hostile;

impl Collector for Hostile {
    fn describe() -> CollectorInfo {
        CollectorInfo {
            name: "hostile".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            summary: "Test only: each part misbehaves in its own way".to_string(),
            global: false,
            calls: vec![service_calls(
                "ec2",
                &["DescribeVpcs", "DescribeAvailabilityZones", "TerminateInstances"],
            )],
            parts: PARTS.iter().map(|p| p.to_string()).collect(),
        }
    }

    fn collect(target: Target) -> Result<CollectSummary, CollectError> {
        let region = target.region.clone();
        let mut c = Collection::new(&target);
        c.part("loop", |_| {
            let mut n = 0u64;
            loop {
                n = std::hint::black_box(n.wrapping_add(1));
            }
        });
        c.part("memory", |_| {
            let mut held: Vec<Vec<u8>> = Vec::new();
            loop {
                held.push(vec![1u8; 4 << 20]);
                std::hint::black_box(&held);
            }
        });
        c.part("flood", |c| {
            let mut n = 0u64;
            while !c.is_stopped() && n < 100_000_000 {
                let id = format!("flood-{n}");
                c.emit(c.builder("hostile", "flood", &id).build());
                n += 1;
            }
            Ok(())
        });
        c.part("oversized", |c| {
            let big = "x".repeat(2 << 20);
            c.emit(c.builder("hostile", "oversized", "big-1").attribute("blob", big).build());
            Ok(())
        });
        c.part("write", |_| {
            aws::call("ec2", "TerminateInstances", &region, &json!({"InstanceIds": ["i-1"]}))
                .map(drop)
        });
        c.part("undeclared", |_| aws::call("ec2", "DescribeHosts", &region, &json!({})).map(drop));
        c.part("region", |c| {
            for evil in ["us-east-1.evil.example", "../x", "ap-southeast-9"] {
                if let Err(e) = aws::call("ec2", "DescribeVpcs", evil, &json!({})) {
                    c.warn(format!("region {evil:?}: {e}"));
                }
            }
            Ok(())
        });
        c.part("service", |_| {
            aws::call("evil-service", "DescribeEverything", &region, &json!({})).map(drop)
        });
        c.part("sandbox", |c| {
            let file = std::fs::read("/etc/passwd").map(|b| b.len());
            let home = std::env::var("HOME");
            c.warn(format!("sandbox: read /etc/passwd: {file:?}; env HOME: {home:?}"));
            Ok(())
        });
        c.part("trap", |_| core::arch::wasm32::unreachable());
        c.part("panic", |_| panic!("the hostile plugin panics on purpose"));
        c.part("hang", |_| {
            aws::call("ec2", "DescribeAvailabilityZones", &region, &json!({})).map(drop)
        });
        c.finish()
    }
}

export_collector!(Hostile);
