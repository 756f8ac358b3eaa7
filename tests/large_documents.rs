//! Large documents through the formatter runtime, without a run around
//! them: a BOM built in the host's own types goes to the real formatter
//! components.
//!
//! Two things broke at 100,000 resources and stay fixed here: a document
//! over wasmtime's default 128 MiB copy limit was refused although the
//! document cap is 1 GiB, and a formatter that outgrew its memory cap
//! trapped as a bare `unreachable` instead of saying which cap to raise.
//! A document past its size cap is refused, whether streamed or returned
//! whole, and leaves no file behind.

mod common;

use inventag::{
    bom::{AccountRef, Bom, Outcome, Resource, RunMetadata, Tag, TargetCoverage},
    output::OutputDir,
    runtime::{Limits, Loaded, LoadedFormatter, Runtime},
};
use std::sync::Arc;

/// The compliance report of a run that made no AWS call.
fn no_calls() -> inventag::audit::ComplianceReport {
    inventag::audit::AuditLog::new("run".into(), inventag::validator::Standard::General, None)
        .report()
}

/// A BOM of `n` resources in two accounts, with tags and attributes.
fn bom(n: usize) -> (RunMetadata, Bom) {
    let accounts = ["012345678901", "123456789012"];
    let resources = (0..n)
        .map(|i| {
            let account = accounts[i % 2];
            let id = format!("i-{i:010x}");
            Resource {
                account_id: account.to_string(),
                region: "eu-west-1".to_string(),
                service: "ec2".to_string(),
                resource_type: "instance".to_string(),
                arn: Some(format!("arn:aws:ec2:eu-west-1:{account}:instance/{id}")),
                name: Some(format!("web {i}")),
                state: Some("running".to_string()),
                created_at: Some("2026-01-02T03:04:05Z".to_string()),
                tags: (0..6)
                    .map(|k| Tag { key: format!("Key{k}"), value: format!("value {k} {i}") })
                    .collect(),
                attributes: format!(
                    r#"{{"instance_type":"m5.large","vpc_id":"vpc-{:08x}","subnet_id":"subnet-{:08x}","description":"{}"}}"#,
                    i % 50,
                    i % 200,
                    "x".repeat(300)
                ),
                id,
            }
        })
        .collect();
    let coverage = accounts
        .iter()
        .map(|a| TargetCoverage {
            account_id: a.to_string(),
            account_name: format!("Account {a}"),
            region: "eu-west-1".to_string(),
            collector: "synthetic@0.0.0".to_string(),
            outcome: Outcome::Ok,
            resources: (n / 2) as u64,
            messages: vec![],
        })
        .collect();
    let run = RunMetadata {
        run_id: "0f8fad5b-d9cb-469f-a165-70867728950e".to_string(),
        started_at: "2026-01-02T03:04:05Z".to_string(),
        finished_at: "2026-01-02T03:14:05Z".to_string(),
        inventag_version: inventag::VERSION.to_string(),
        environment: "local".to_string(),
        accounts: accounts
            .iter()
            .map(|a| AccountRef {
                account_id: a.to_string(),
                account_name: format!("Account {a}"),
                credential_method: Some("profile_name".to_string()),
            })
            .collect(),
        regions: vec!["eu-west-1".to_string()],
        collectors: vec!["synthetic@0.0.0".to_string()],
    };
    let mut store = inventag::bom::ResourceStore::new();
    store.extend(resources).expect("the record store takes the records");
    let mut bom = Bom { resources: store, coverage };
    bom.normalise().expect("the record store reads its records back");
    (run, bom)
}

async fn formatter(rt: &Runtime, name: &str) -> Arc<LoadedFormatter> {
    let file = common::plugin_dir().join(format!("formatter-{name}.wasm"));
    match rt.load_file(&file).await {
        Ok(Loaded::Formatter(f)) => f,
        Ok(_) => panic!("{} is not a formatter", file.display()),
        Err(e) => panic!("{e}"),
    }
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
}

#[test]
fn a_document_over_128_mib_leaves_the_guest() {
    let (run, bom) = bom(110_000);
    let tmp = tempfile::tempdir().unwrap();
    let out = OutputDir::open(tmp.path()).unwrap();
    block_on(async {
        let rt = Runtime::new(Limits::default()).unwrap();
        let cyclonedx = formatter(&rt, "cyclonedx").await;
        let doc = cyclonedx
            .format(&rt, &run, &bom, &no_calls(), &out, &run.started_at)
            .await
            .expect("the document is refused");
        assert!(doc.bytes > 128 << 20, "only {} bytes; the test needs more", doc.bytes);
        assert!(doc.path.to_string_lossy().ends_with(".cdx.json"), "{}", doc.path.display());
        let written = std::fs::read(&doc.path).unwrap();
        assert_eq!(written.len() as u64, doc.bytes);
        let parsed: serde_json::Value = serde_json::from_slice(&written).expect("valid JSON");
        assert_eq!(parsed["components"].as_array().map(Vec::len), Some(110_000));
    });
}

#[test]
fn a_document_past_its_size_cap_is_refused_and_leaves_no_file() {
    let (run, bom) = bom(20_000);
    let tmp = tempfile::tempdir().unwrap();
    let out = OutputDir::open(tmp.path()).unwrap();
    block_on(async {
        let limits = Limits { max_document_bytes: 1 << 20, ..Limits::default() };
        let rt = Runtime::new(limits).unwrap();
        for name in ["json", "excel"] {
            let f = formatter(&rt, name).await;
            let err = f
                .format(&rt, &run, &bom, &no_calls(), &out, &run.started_at)
                .await
                .expect_err("1 MiB should not hold 20,000 resources");
            assert!(err.contains(&format!("{name}@")), "{err}");
            assert!(err.contains("size cap of 1048576 bytes"), "{err}");
        }
    });
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
    assert!(left.is_empty(), "files left behind: {left:?}");
}

#[test]
fn a_formatter_over_its_memory_cap_says_which_cap_to_raise() {
    let (run, bom) = bom(20_000);
    block_on(async {
        let limits = Limits { memory_bytes: 32 << 20, ..Limits::default() };
        let rt = Runtime::new(limits).unwrap();
        let excel = formatter(&rt, "excel").await;
        let tmp = tempfile::tempdir().unwrap();
        let out = OutputDir::open(tmp.path()).unwrap();
        let err = excel
            .format(&rt, &run, &bom, &no_calls(), &out, &run.started_at)
            .await
            .expect_err("32 MiB should not be enough");
        assert!(err.contains("excel@") && err.contains("went over its memory cap"), "{err}");
        assert!(err.contains("--plugin-memory"), "{err}");
        assert!(!err.contains("unreachable"), "{err}");
    });
}

#[test]
fn a_formatter_writing_gigabytes_is_stopped_at_the_cap_and_the_others_are_whole() {
    let (run, bom) = bom(2_000);
    let tmp = tempfile::tempdir().unwrap();
    let out = OutputDir::open(tmp.path()).unwrap();
    block_on(async {
        let rt = Runtime::new(Limits::default()).unwrap();
        let file = common::test_plugin_dir().join("test-huge-document.wasm");
        let huge = match rt.load_file(&file).await {
            Ok(Loaded::Formatter(f)) => f,
            Ok(_) => panic!("{} is not a formatter", file.display()),
            Err(e) => panic!("{e}"),
        };
        let err = huge
            .format(&rt, &run, &bom, &no_calls(), &out, &run.started_at)
            .await
            .expect_err("4 GiB must not be written");
        let cap = Limits::default().max_document_bytes;
        assert!(err.starts_with("huge-document@"), "{err}");
        assert!(err.contains(&format!("size cap of {cap} bytes")), "{err}");

        let json = formatter(&rt, "json").await;
        let doc = json
            .format(&rt, &run, &bom, &no_calls(), &out, &run.started_at)
            .await
            .expect("the JSON document");
        let parsed: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&doc.path).unwrap()).expect("valid JSON");
        assert_eq!(parsed["resources"].as_array().map(Vec::len), Some(2_000));
    });
    let left: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left.len(), 1, "only the JSON document stays: {left:?}");
}
