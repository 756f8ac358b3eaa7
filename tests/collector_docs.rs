//! The README's list of collectors is generated from the collectors' own
//! `describe`, loaded from `dist/plugins` by the host's runtime as a run
//! loads them: name, version, summary, global or regional, the resource
//! types (their declared parts) and the operations they declare, by
//! service. This test fails when the section is stale;
//! `INVENTAG_UPDATE_README=1 scripts/test.sh --test collector_docs`
//! rewrites it.

mod common;

use inventag::runtime::collector::CollectorInfo;

const BEGIN: &str = "<!-- collectors:begin -->";
const END: &str = "<!-- collectors:end -->";
const REFRESH: &str = "INVENTAG_UPDATE_README=1 scripts/test.sh --test collector_docs";

/// The section between the markers, for these collectors.
fn render(collectors: &[CollectorInfo]) -> String {
    let mut sorted: Vec<&CollectorInfo> = collectors.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    let mut out = format!(
        "<!-- Generated from each collector's describe; do not edit. Refresh with\n     \
         {REFRESH} -->\n\n"
    );
    out.push_str("| collector | version | scope | resource types | operations |\n");
    out.push_str("| --- | --- | --- | --- | --- |\n");
    for c in &sorted {
        let scope = if c.global { "global" } else { "regional" };
        let types = if c.parts.is_empty() {
            "(one collection)".to_owned()
        } else {
            c.parts.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", ")
        };
        let operations = c
            .calls
            .iter()
            .map(|(service, ops)| format!("**{service}**: {}", ops.join(", ")))
            .collect::<Vec<_>>()
            .join("; ");
        out.push_str(&format!(
            "| `{}` | {} | {scope} | {types} | {operations} |\n",
            c.name, c.version
        ));
    }
    out.push('\n');
    for c in &sorted {
        out.push_str(&format!("- `{}`: {}\n", c.name, c.summary.trim()));
    }
    out
}

#[test]
fn the_readme_lists_every_shipped_collector_as_it_describes_itself() {
    let plugins = common::load_plugins(&common::plugin_dir());
    let infos: Vec<CollectorInfo> = plugins.collectors.iter().map(|c| c.info.clone()).collect();
    assert!(!infos.is_empty(), "no collector in {}", common::plugin_dir().display());
    let section = render(&infos);

    let path = common::repo().join("README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let (Some(begin), Some(end)) = (readme.find(BEGIN), readme.find(END)) else {
        panic!("README.md lacks the markers {BEGIN} and {END} around the collector list");
    };
    assert!(begin < end, "README.md: {END} comes before {BEGIN}");
    let current = &readme[begin + BEGIN.len()..end];
    let wanted = format!("\n{section}");
    if current == wanted {
        return;
    }
    if std::env::var_os("INVENTAG_UPDATE_README").is_some_and(|v| v == "1") {
        let updated = format!("{}{BEGIN}{wanted}{}", &readme[..begin], &readme[end..]);
        std::fs::write(&path, updated).unwrap();
        println!("README.md: collector list rewritten");
        return;
    }
    panic!(
        "README.md's collector list is stale: it differs from what the collectors in {} \
         describe. Refresh it with\n  {REFRESH}\nExpected section:\n{wanted}",
        common::plugin_dir().display()
    );
}

#[test]
fn every_collector_names_its_types_and_operations() {
    let plugins = common::load_plugins(&common::plugin_dir());
    for c in &plugins.collectors {
        let info = &c.info;
        assert!(!info.summary.trim().is_empty(), "{} has no summary", info.name);
        assert!(!info.calls.is_empty(), "{} declares no operation", info.name);
        for part in &info.parts {
            let kebab = !part.is_empty()
                && part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            assert!(kebab, "{}: the part {part:?} is not a kebab-case resource type", info.name);
        }
    }
}
