//! The collector suite against moto: the full fixture (every resource type
//! the collectors cover, two accounts, us-east-1 and eu-west-1) collected by
//! every shipped collector, with the JSON formatter. The BOM must hold each
//! seeded resource once, under its ARN, with its account, region and tags;
//! every type a collector declares must be seen; global services must
//! count the same however many regions are scanned. What moto cannot do is
//! listed once, in `MOTO_GAPS` of `tests/fixtures/suite.py` (the manifest
//! carries it), and excused here by name: types it cannot hold, and calls
//! it fails (their warnings, and the tags of their type).
//!
//! One moto server and one seeding serve every test of this file.

mod common;

use std::{
    collections::{BTreeMap, BTreeSet},
    path::Path,
    sync::OnceLock,
};

use inventag::runtime::collector::CollectorInfo;
use serde_json::Value;

const ACCOUNTS: &str = "111111111111,222222222222";
const REGIONS: &str = "us-east-1,eu-west-1";
const GLOBAL_SERVICES: [&str; 3] = ["iam", "cloudfront", "route53"];

/// The seeded moto server, the shipped collectors and the BOM of one run
/// over the fixture's own accounts and regions.
struct Suite {
    moto: common::Moto,
    dir: tempfile::TempDir,
    seeded: common::Seeded,
    collectors: Vec<CollectorInfo>,
    bom: Value,
}

fn suite() -> &'static Suite {
    static SUITE: OnceLock<Suite> = OnceLock::new();
    SUITE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let moto = common::Moto::start_shared();
        let seeded = common::seed_suite(&moto, dir.path(), ACCOUNTS, REGIONS, "full");
        let collectors: Vec<CollectorInfo> = common::load_plugins(&common::plugin_dir())
            .collectors
            .iter()
            .map(|c| c.info.clone())
            .collect();
        let bom = run(&moto, &seeded, &dir.path().join("out"), None);
        Suite { moto, dir, seeded, collectors, bom }
    })
}

/// Runs inventag over the seeded accounts with `plugins`, writing JSON to
/// `out`, with `extra` arguments; returns the exit status, stderr and BOM.
fn invoke(
    moto: Option<&common::Moto>,
    seeded: &common::Seeded,
    plugins: &Path,
    out: &Path,
    extra: &[&str],
) -> (Option<i32>, String, Value) {
    let output = common::run_json(moto, seeded, plugins, out, extra);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let status = output.status.code();
    assert!(matches!(status, Some(0 | 3)), "the run failed ({status:?}):\n{stderr}");
    (status, stderr, common::read_json_bom(out))
}

/// The calls moto fails, from the manifest.
fn failing_calls(manifest: &Value) -> &[Value] {
    manifest["moto_gaps"]["calls"].as_array().map(Vec::as_slice).unwrap_or_default()
}

/// Whether a coverage record that did not end `ok` is fully explained by
/// calls moto fails: it is `incomplete`, and each of its messages is the
/// warning of such a call of its collector.
fn excused(manifest: &Value, coverage: &Value) -> bool {
    let collector = text(coverage, "collector");
    let messages = coverage["messages"].as_array().unwrap();
    coverage["outcome"] == "incomplete"
        && !messages.is_empty()
        && messages.iter().all(|m| {
            failing_calls(manifest).iter().any(|gap| {
                collector.starts_with(&format!("{}@", text(gap, "collector")))
                    && m.as_str().is_some_and(|m| m.starts_with(text(gap, "warning")))
            })
        })
}

/// Runs inventag over the seeded accounts with every shipped plugin and
/// returns the JSON BOM. Every target must end `ok` but those excused by
/// a listed moto gap (the run is then partial, exit status 3).
fn run(moto: &common::Moto, seeded: &common::Seeded, out: &Path, regions: Option<&str>) -> Value {
    let mut extra = Vec::new();
    if let Some(r) = regions {
        extra.push("--regions");
        extra.extend(r.split(','));
    }
    let (status, stderr, bom) = invoke(Some(moto), seeded, &common::plugin_dir(), out, &extra);
    let problems: Vec<&Value> = bom["coverage"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["outcome"] != "ok")
        .filter(|c| !excused(&seeded.manifest, c))
        .collect();
    assert!(problems.is_empty(), "targets that did not end ok: {problems:#?}\n{stderr}");
    let partial = bom["coverage"].as_array().unwrap().iter().any(|c| c["outcome"] != "ok");
    assert_eq!(status, Some(if partial { 3 } else { 0 }), "{stderr}");
    bom
}

fn text<'a>(v: &'a Value, field: &str) -> &'a str {
    v[field].as_str().unwrap_or_default()
}

/// Tags as sorted `(key, value)` pairs: services return them in orders of
/// their own (maps, lists), so order is not compared here.
fn tag_set(v: &Value) -> Vec<(String, String)> {
    let mut tags: Vec<(String, String)> = v["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (text(t, "key").to_owned(), text(t, "value").to_owned()))
        .collect();
    tags.sort();
    tags
}

/// Whether the tagging collector alone reported the record.
fn found_by_tagging(r: &Value) -> bool {
    r["attributes"]["found_by"] == "tagging"
}

/// What makes a record one resource, as the host decides: its ARN, else
/// account, region, service, type and id (AWS gives a few resources, such
/// as Config's recorders, no ARN).
fn identity(r: &Value) -> String {
    match r["arn"].as_str() {
        Some(arn) => arn.to_owned(),
        None => {
            ["account_id", "region", "service", "resource_type", "id"].map(|f| text(r, f)).join("/")
        }
    }
}

/// The BOM's records by identity.
fn by_identity(bom: &Value) -> BTreeMap<String, Vec<&Value>> {
    let mut map: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
    for r in bom["resources"].as_array().unwrap() {
        map.entry(identity(r)).or_default().push(r);
    }
    map
}

/// The names of the shipped collectors the manifest covers, and the
/// manifest's entries for them.
fn expected(s: &Suite) -> (Vec<&str>, Vec<&Value>) {
    let names: Vec<&str> = s.seeded.manifest["collectors"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let loaded: BTreeSet<&str> = s.collectors.iter().map(|c| c.name.as_str()).collect();
    let missing: Vec<&&str> = names.iter().filter(|n| !loaded.contains(**n)).collect();
    assert!(
        missing.is_empty(),
        "the fixture seeds resources of collectors dist/plugins lacks: {missing:?} (loaded: \
         {loaded:?})"
    );
    (names.clone(), common::expected_of(&s.seeded.manifest, &names))
}

#[test]
fn every_seeded_resource_is_in_the_bom_once_with_its_account_region_and_tags() {
    let s = suite();
    let (_, expected) = expected(s);
    assert!(expected.len() >= 150, "the fixture should hold a real spread: {}", expected.len());
    let got = by_identity(&s.bom);

    let repeated: Vec<_> = got.iter().filter(|(_, v)| v.len() > 1).map(|(a, _)| a).collect();
    assert!(repeated.is_empty(), "listed more than once: {repeated:?}");

    let mut problems = Vec::new();
    for want in &expected {
        let id = identity(want);
        let Some(found) = got.get(&id) else {
            problems.push(format!("missing {id}"));
            continue;
        };
        let r = found[0];
        for field in ["account_id", "region", "service", "resource_type", "arn"] {
            if r[field] != want[field] {
                problems.push(format!("{id}: {field} is {}, expected {}", r[field], want[field]));
            }
        }
        if found_by_tagging(r) {
            problems.push(format!("{id}: only the tagging collector reported it"));
        }
        let tags_unread = failing_calls(&s.seeded.manifest).iter().any(|gap| {
            gap["collector"] == want["collector"] && gap["resource_type"] == want["resource_type"]
        });
        if !tags_unread && tag_set(r) != tag_set(want) {
            problems.push(format!("{id}: tags {:?}, expected {:?}", tag_set(r), tag_set(want)));
        }
    }
    // Nothing else, but what the tagging API alone knows of (tagged
    // resources of types no collector covers).
    let wanted: BTreeSet<String> = expected.iter().map(|e| identity(e)).collect();
    let mut tagging_only = Vec::new();
    for (id, records) in &got {
        if wanted.contains(id) {
            continue;
        }
        if found_by_tagging(records[0]) {
            tagging_only.push(id.as_str());
            continue;
        }
        problems.push(format!(
            "unexpected {} {} {id}",
            text(records[0], "service"),
            text(records[0], "resource_type")
        ));
    }
    println!("found by the tagging collector alone: {tagging_only:#?}");
    let shown = problems.iter().take(60).cloned().collect::<Vec<_>>().join("\n");
    assert!(problems.is_empty(), "{} problems, the first:\n{shown}", problems.len());

    // The shipped collectors stay within the general standard.
    assert_eq!(s.bom["compliance"]["score"], 100, "{:#}", s.bom["compliance"]);
    assert_eq!(s.bom["compliance"]["summary"]["denied_calls"], 0);
}

#[test]
fn every_type_a_collector_declares_is_seen_but_the_types_moto_cannot_hold() {
    let s = suite();
    let (names, expected) = expected(s);
    let gaps = &s.seeded.manifest["moto_gaps"]["types"];
    let mut problems = Vec::new();
    for name in names {
        let info = s.collectors.iter().find(|c| c.name == name).unwrap();
        let seen: BTreeSet<&str> = expected
            .iter()
            .filter(|e| e["collector"] == name)
            .map(|e| text(e, "resource_type"))
            .collect();
        let declared: BTreeSet<&str> = info.parts.iter().map(String::as_str).collect();
        let unheld: BTreeSet<&str> =
            gaps[name].as_object().into_iter().flatten().map(|(t, _)| t.as_str()).collect();
        for t in declared.difference(&seen) {
            if !unheld.contains(t) {
                problems.push(format!("{name}: declares {t}, which the fixture never seeds"));
            }
        }
        for t in seen.difference(&declared) {
            problems.push(format!("{name}: the fixture holds {t}, which it does not declare"));
        }
        for t in unheld.intersection(&seen) {
            problems.push(format!("{name}: {t} is listed as a moto gap, yet moto holds one"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // The gaps are few and named; print them for the record.
    println!("types moto cannot hold: {gaps}");
}

/// Counts of the global services' records, by service.
fn global_counts(bom: &Value) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for r in bom["resources"].as_array().unwrap() {
        if GLOBAL_SERVICES.contains(&text(r, "service")) {
            assert_eq!(r["region"], "global", "{r:#}");
            *counts.entry(text(r, "service").to_owned()).or_default() += 1;
        }
    }
    counts
}

#[test]
fn global_services_count_the_same_with_one_region_and_with_three() {
    let s = suite();
    let want: BTreeMap<String, usize> = {
        let mut counts = BTreeMap::new();
        for e in s.seeded.manifest["expected"].as_array().unwrap() {
            if e["region"] == "global" {
                *counts.entry(text(e, "service").to_owned()).or_default() += 1;
            }
        }
        counts
    };
    let services: BTreeSet<&str> = want.keys().map(String::as_str).collect();
    assert_eq!(services, BTreeSet::from(GLOBAL_SERVICES));

    let one = run(&s.moto, &s.seeded, &s.dir.path().join("one-region"), Some("eu-west-1"));
    let three = run(
        &s.moto,
        &s.seeded,
        &s.dir.path().join("three-regions"),
        Some("us-east-1,eu-west-1,ap-southeast-2"),
    );
    assert_eq!(global_counts(&s.bom), want, "two regions");
    assert_eq!(global_counts(&one), want, "one region");
    assert_eq!(global_counts(&three), want, "three regions");
    // The global collectors ran once per account in each run.
    for bom in [&s.bom, &one, &three] {
        let global: Vec<&Value> = bom["coverage"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["region"] == "global")
            .collect();
        let mut seen = BTreeSet::new();
        for c in &global {
            assert!(seen.insert((text(c, "account_id"), text(c, "collector"))), "{global:#?}");
        }
    }
}

#[test]
fn buckets_in_us_east_1_and_eu_west_1_are_filed_under_their_own_regions() {
    let s = suite();
    let got = by_identity(&s.bom);
    let buckets: Vec<&Value> = s.seeded.manifest["expected"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["service"] == "s3" && e["resource_type"] == "bucket")
        .collect();
    let regions: BTreeSet<&str> = buckets.iter().map(|b| text(b, "region")).collect();
    assert_eq!(regions, BTreeSet::from(["eu-west-1", "us-east-1"]));
    for b in buckets {
        let arn = text(b, "arn");
        let found = got.get(arn).unwrap_or_else(|| panic!("bucket {arn} is missing"));
        assert_eq!(found.len(), 1, "{arn}");
        assert_eq!(found[0]["region"], b["region"], "{arn}");
        assert!(text(b, "id").ends_with(text(b, "region")), "{b}");
    }
}

#[test]
fn tags_only_the_tagging_api_reports_are_merged_into_the_collectors_record() {
    let s = suite();
    let account = "111111111111";
    // The classic load balancer collector reads tags with DescribeTags;
    // denied it, it keeps the load balancers without tags, while the
    // tagging API still reports them.
    let deny = vec![(common::profile_key(&s.seeded.profile_dir, account), "DescribeTags".into())];
    let proxy = common::proxy::Proxy::with_faults(
        s.moto.url.trim_start_matches("http://"),
        common::proxy::Faults { deny, ..Default::default() },
    );
    let balancers: Vec<&Value> = s.seeded.manifest["expected"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["collector"] == "elb" && e["account_id"] == account)
        .collect();
    assert!(!balancers.is_empty());

    let mut boms = Vec::new();
    for (name, with_tagging) in [("elb-alone", false), ("elb-and-tagging", true)] {
        let dir = s.dir.path().join(name);
        let mut files = vec![common::collector("elb"), common::formatter("json")];
        if with_tagging {
            files.push(common::collector("tagging"));
        }
        let plugins = common::plugin_set(&dir, &files);
        let endpoint = ["--endpoint-url", proxy.url.as_str()];
        let (status, _, bom) = invoke(None, &s.seeded, &plugins, &dir.join("out"), &endpoint);
        // Partial: the denied tag reads are a warning of account 111's
        // targets.
        assert_eq!(status, Some(3), "{:#}", bom["coverage"]);
        boms.push(bom);
    }
    assert!(proxy.injected().denied > 0, "the denial was never exercised");

    let (alone, merged) = (by_identity(&boms[0]), by_identity(&boms[1]));
    for want in balancers {
        let id = identity(want);
        let without = alone.get(&id).unwrap_or_else(|| panic!("{id} missing"));
        assert!(without[0]["tags"].as_array().unwrap().is_empty(), "{:#}", without[0]);
        let with = merged.get(&id).unwrap_or_else(|| panic!("{id} missing"));
        assert_eq!(with.len(), 1, "{id} listed twice");
        // The collector's record, its attributes kept, with the tags only
        // the tagging API could give.
        assert!(!found_by_tagging(with[0]), "{:#}", with[0]);
        assert_eq!(with[0]["attributes"], without[0]["attributes"]);
        assert_eq!(tag_set(with[0]), tag_set(want), "{id}");
    }
    // What no collector of this run reported stays, marked: the queues.
    let queues: Vec<&Value> = s.seeded.manifest["expected"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["collector"] == "sqs")
        .collect();
    for want in queues {
        let found = merged.get(&identity(want)).unwrap_or_else(|| panic!("{want} missing"));
        assert_eq!(found.len(), 1);
        assert!(found_by_tagging(found[0]), "{:#}", found[0]);
        assert_eq!(tag_set(found[0]), tag_set(want));
    }
}
