//! The plugin author guide, followed: the two example plugins outside the
//! workspace (`examples/custom-collector`, an ECR collector, and
//! `examples/custom-formatter`, an HTML report), built on their own by
//! `scripts/test.sh` as the README says, are vetted with `inventag plugins
//! vet --yes` and run against moto with `--plugin-dir`. The ECR records
//! must be what moto holds, tags in order, and the HTML report must show
//! every awkward tag value as text, escaped.

mod common;

use std::path::PathBuf;

use serde_json::Value;

fn example_plugin(name: &str) -> PathBuf {
    let dir = std::env::var("INVENTAG_EXAMPLE_PLUGIN_DIR")
        .expect("INVENTAG_EXAMPLE_PLUGIN_DIR is not set: run the tests through scripts/test.sh");
    PathBuf::from(dir).join(name)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn the_example_collector_and_formatter_build_out_of_tree_vet_and_run_against_moto() {
    let tmp = tempfile::tempdir().unwrap();
    let moto = common::Moto::start();
    let seeded = common::seed(&moto, tmp.path(), "111111111111", "us-east-1");
    let manifest = tmp.path().join("ecr.json");
    let python = std::env::var("INVENTAG_PYTHON").unwrap_or_else(|_| "python3".into());
    let seeding = std::process::Command::new(python)
        .arg(common::repo().join("tests/fixtures/seed_ecr.py"))
        .arg("--profile-dir")
        .arg(&seeded.profile_dir)
        .args(["--profile", "inventag-111111111111", "--region", "us-east-1", "--manifest"])
        .arg(&manifest)
        .env("AWS_ENDPOINT_URL", &moto.url)
        .output()
        .unwrap();
    assert!(seeding.status.success(), "{}", text(&seeding.stderr));
    let manifest: Value = serde_json::from_slice(&std::fs::read(&manifest).unwrap()).unwrap();

    // A plugin directory of the user's own, every plugin vetted by hand.
    let plugins = tmp.path().join("my-plugins");
    std::fs::create_dir(&plugins).unwrap();
    let copies = [
        (example_plugin("ecr.wasm"), "ecr.wasm"),
        (example_plugin("html.wasm"), "html.wasm"),
        (common::plugin_dir().join("formatter-json.wasm"), "formatter-json.wasm"),
    ];
    for (from, name) in &copies {
        std::fs::copy(from, plugins.join(name)).unwrap();
    }
    let vet = |name: &str| {
        let file = plugins.join(name);
        common::inventag(None, None, &["plugins", "vet", file.to_str().unwrap(), "--yes"], &[])
    };
    let ecr = vet("ecr.wasm");
    let shown = text(&ecr.stdout);
    assert!(ecr.status.success(), "{}", text(&ecr.stderr));
    for operation in ["ecr:DescribeRepositories", "ecr:ListTagsForResource"] {
        assert!(
            shown.lines().any(|l| l.trim_start().starts_with("allowed") && l.contains(operation)),
            "{operation} is not shown as allowed:\n{shown}"
        );
    }
    for name in ["html.wasm", "formatter-json.wasm"] {
        let output = vet(name);
        assert!(output.status.success(), "{name}: {}", text(&output.stderr));
    }

    let out_dir = tmp.path().join("out");
    let output =
        common::run_seeded(&moto, &seeded, &out_dir, &plugins, &["--formats", "json", "html"]);
    let stderr = text(&output.stderr);
    assert!(output.status.success(), "inventag failed:\n{stderr}");

    // The ECR records are what moto holds, tags in AWS's order.
    let bom = common::read_json_bom(&out_dir);
    let resources = bom["resources"].as_array().unwrap();
    let repositories: Vec<&Value> = resources.iter().filter(|r| r["service"] == "ecr").collect();
    let expected = manifest["repositories"].as_array().unwrap();
    assert_eq!(repositories.len(), expected.len(), "{repositories:#?}");
    for want in expected {
        let got = repositories
            .iter()
            .find(|r| r["id"] == want["name"])
            .unwrap_or_else(|| panic!("no record for {}", want["name"]));
        assert_eq!(got["arn"], want["arn"]);
        assert_eq!(got["resource_type"], "repository");
        assert_eq!(got["tags"], want["tags"], "tags of {}", want["name"]);
        assert!(
            got["attributes"]["uri"]
                .as_str()
                .is_some_and(|u| u.contains("team/") || u.ends_with("untagged"))
        );
    }
    let coverage = bom["coverage"].as_array().unwrap();
    assert!(coverage.iter().all(|c| c["outcome"] == "ok"), "{coverage:#?}");

    // The HTML report shows every tag value as text: escaped, never markup.
    let html_file = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "html"))
        .expect("an HTML report");
    let html = std::fs::read_to_string(&html_file).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"), "{}", &html[..html.len().min(200)]);
    assert!(!html.contains("<script"), "a tag value became markup");
    assert!(!html.contains("<b>bold</b>"), "a tag value became markup");
    for tag in expected.iter().flat_map(|r| r["tags"].as_array().unwrap()) {
        let value = tag["value"].as_str().unwrap();
        let escaped = escape(value);
        assert!(html.contains(&escaped), "{value:?} is not in the report as {escaped:?}");
    }
    assert!(html.contains("&lt;script&gt;alert(&quot;owned&quot;)&lt;/script&gt;"));
    assert!(html.contains("he said &quot;hi&quot; &amp; &#39;bye&#39;"));
    assert!(html.contains(bom["run"]["run_id"].as_str().unwrap()));
}

/// HTML escaping as the report must do it, written out independently.
fn escape(value: &str) -> String {
    let mut out = String::new();
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
