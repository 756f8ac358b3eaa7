//! The whole committed classification (`host/access-levels/`), judged by
//! the validator under every standard, as if a plugin had declared every
//! operation: each operation whose IAM action is Write, Permissions
//! management or Tagging must be denied, and each allowed one must be List
//! or Read. The counts are printed.

use std::{
    collections::{BTreeMap, BTreeSet},
    io::Write,
};

use inventag::{
    gateway::catalogue::Catalogue,
    validator::{AccessLevel, AccessLevels, Grants, Lookup, Standard, Validator, rules},
};

/// Grants covering every operation of the data.
fn everything(levels: &AccessLevels) -> Grants {
    let mut by_service: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (service, operation, _) in levels.all() {
        by_service.entry(service).or_default().push(operation.to_owned());
    }
    Grants::new(by_service.iter().map(|(s, ops)| (*s, ops.as_slice())))
}

/// Prints past the test harness's capture, so the counts show in every run.
fn show(text: &str) {
    let _ = std::io::stderr().write_all(text.as_bytes());
}

#[test]
fn every_write_permissions_management_and_tagging_operation_is_denied_under_every_standard() {
    let levels = AccessLevels::embedded();
    let all = levels.all();
    let grants = everything(levels);
    show(&format!("\nclassification: {} operations, from {}\n", all.len(), levels.source()));

    for standard in Standard::ALL {
        let validator = Validator::new(standard);
        let mut by_rule: BTreeMap<&str, usize> = BTreeMap::new();
        let (mut allowed_actions, mut denied_actions) = (BTreeSet::new(), BTreeSet::new());
        let mut mutating = 0;
        for (service, operation, lookup) in &all {
            let verdict = validator.check(&grants, service, operation, None);
            *by_rule.entry(verdict.rule()).or_default() += 1;
            let class = match lookup {
                Lookup::Classified(c) => Some(c),
                Lookup::Unclassified => None,
                Lookup::Unknown => panic!("{service}:{operation} is listed yet unknown"),
            };
            let changes = class.is_some_and(|c| {
                c.levels.iter().any(|l| {
                    matches!(
                        l,
                        AccessLevel::Write
                            | AccessLevel::PermissionsManagement
                            | AccessLevel::Tagging
                    )
                })
            });
            if changes {
                mutating += 1;
                assert!(
                    !verdict.is_allowed(),
                    "{standard}: {service}:{operation} ({}) was allowed",
                    class.map(|c| c.levels_text()).unwrap_or_default()
                );
            }
            if verdict.is_allowed() {
                let class = class.unwrap_or_else(|| {
                    panic!("{standard}: unclassified {service}:{operation} was allowed")
                });
                assert!(
                    class.reads_only(),
                    "{standard}: {service}:{operation} allowed as {}",
                    class.levels_text()
                );
                allowed_actions.insert(class.action.clone());
            } else if let Some(class) = class {
                denied_actions.insert(class.action.clone());
            }
        }
        let allowed: usize = [rules::READ_ONLY, rules::READ_ONLY_FALLBACK]
            .iter()
            .map(|r| by_rule.get(r).copied().unwrap_or(0))
            .sum();
        let rules_text: Vec<String> = by_rule.iter().map(|(r, n)| format!("{r} {n}")).collect();
        show(&format!(
            "{standard}: allowed {allowed} operations ({} IAM actions), denied {} operations \
             ({} IAM actions); every one of the {mutating} Write/Permissions \
             management/Tagging operations denied; by rule: {}\n",
            allowed_actions.len(),
            all.len() - allowed,
            denied_actions.difference(&allowed_actions).count(),
            rules_text.join(", ")
        ));
        assert!(allowed > 1000, "{standard}: suspiciously few reads allowed");
        assert!(mutating > 9000, "{standard}: suspiciously few mutating operations");
    }
}

#[test]
fn every_catalogue_operation_has_a_line_in_the_classification() {
    let catalogue = Catalogue::new();
    let levels = AccessLevels::embedded();
    let mut missing = Vec::new();
    for service in catalogue.service_names() {
        let model = catalogue.service(service).expect("the catalogue loads");
        for operation in model.operations.keys() {
            if levels.lookup(service, operation) == Lookup::Unknown {
                missing.push(format!("{service}:{operation}"));
            }
        }
    }
    missing.sort();
    assert!(
        missing.is_empty(),
        "{} operations have no line; run scripts/gen-access-levels.py: {:?}",
        missing.len(),
        &missing[..missing.len().min(20)]
    );
}
