//! `inventag validate` and `inventag policy`: the validator and the policy
//! generator on the command line. `main` parses the arguments; the work
//! and the output shapes live here.

use std::{
    io::{self, BufRead, Write},
    path::Path,
};

use serde_json::{Value, json};

use super::{
    Judgement, Standard, Validator, Verdict,
    policy::{self, Declaration, HostNeeds, Policy},
};
use crate::{
    runtime::{Limits, LoadError, Plugins, Runtime},
    vetting::{Vetting, VettingError, VettingOptions},
};

/// Why `inventag policy` could not read its plugins.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The directory could not be read or the engine started.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// A plugin is not vetted, or the lock or the trusted keys are
    /// unusable.
    #[error(transparent)]
    Vetting(#[from] VettingError),
}

/// A judgement as text: the verdict and rule on the first line, then the
/// reason, the IAM action and any input condition.
pub fn render(judgement: &Judgement) -> String {
    let name = format!("{}:{}", judgement.service, judgement.operation);
    let mut out = format!(
        "{name}: {} by {} (standard {})\n",
        judgement.verdict.word(),
        judgement.verdict.rule(),
        judgement.standard
    );
    if let Verdict::Denied { reason, .. } = &judgement.verdict {
        out.push_str(&format!("  {reason}\n"));
    }
    if let (Some(action), Some(level)) = (&judgement.iam_action, &judgement.access_level) {
        out.push_str(&format!("  IAM action: {action} ({level})\n"));
    }
    if let Some(condition) = &judgement.condition {
        out.push_str(&format!("  depends on the input: {condition}\n"));
    }
    out
}

/// Judges `service:Operation` lines from `input`, writing one JSON object
/// per line to `output`. Blank lines and `#` comments are skipped; a line
/// that is not `service:Operation` gets `{"input": ..., "error": ...}`.
pub fn validate_lines(
    standard: Standard,
    input: impl BufRead,
    mut output: impl Write,
) -> io::Result<()> {
    let validator = Validator::new(standard);
    for line in input.lines() {
        let line = line?;
        let text = line.trim();
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        let answer = match text.split_once(':') {
            Some((service, operation))
                if !service.is_empty() && !operation.is_empty() && !operation.contains(':') =>
            {
                serde_json::to_value(validator.judge(service, operation, None))
                    .map_err(io::Error::other)?
            }
            _ => json!({"input": text, "error": "expected a line of the form service:Operation"}),
        };
        serde_json::to_writer(&mut output, &answer).map_err(io::Error::other)?;
        output.write_all(b"\n")?;
        output.flush()?;
    }
    Ok(())
}

/// Judges one operation, with the call's input when given.
pub fn validate_one(
    standard: Standard,
    service: &str,
    operation: &str,
    input: Option<&Value>,
) -> Judgement {
    Validator::new(standard).judge(service, operation, input)
}

/// The least-privilege policy for the collectors of `dir`.
pub async fn policy_for_dir(
    dir: &Path,
    standard: Standard,
    host: &HostNeeds,
    vetting: &VettingOptions,
) -> Result<(Policy, Vec<LoadError>), PolicyError> {
    // A plugin's `describe` is its code running: vetted first, as for a
    // run, so the policy names only what vetted plugins declare.
    let checked = Vetting::open(dir, vetting)?.check_all(&Runtime::plugin_files(dir)?)?;
    let runtime = Runtime::new(Limits::default())?;
    let mut plugins = Plugins::default();
    for c in checked {
        match runtime.load_bytes(&c.file, c.bytes, c.digest).await {
            Ok(loaded) => plugins.add(loaded),
            Err(e) => plugins.problems.push(e),
        }
    }
    let declarations: Vec<Declaration> = plugins
        .collectors
        .iter()
        .map(|c| Declaration {
            plugin: c.label(),
            calls: c
                .info
                .calls
                .iter()
                .flat_map(|(service, ops)| ops.iter().map(|op| (service.clone(), op.clone())))
                .collect(),
        })
        .collect();
    Ok((policy::build(&declarations, standard, host), plugins.problems))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_get_one_json_verdict_each() {
        let input = "ec2:DescribeInstances\n\n# comment\nec2:TerminateInstances\nnonsense\n";
        let mut out = Vec::new();
        validate_lines(Standard::General, input.as_bytes(), &mut out).unwrap();
        let lines: Vec<Value> = String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0]["verdict"], "allowed");
        assert_eq!(lines[1]["rule"], "not-read-only");
        assert!(lines[2]["error"].is_string());
    }

    #[test]
    fn text_names_the_verdict_rule_and_action() {
        let text = render(&validate_one(Standard::General, "ec2", "TerminateInstances", None));
        assert!(text.starts_with("ec2:TerminateInstances: denied by not-read-only"), "{text}");
        assert!(text.contains("IAM action: ec2:TerminateInstances (Write)"), "{text}");
    }
}
