//! Where inventag is running: GitHub Actions, AWS CodeBuild, Jenkins,
//! another CI system, or a person's machine. The answer is shown in the
//! run summary and decides only which credential sources are on by
//! default (Secrets Manager in CodeBuild); it never changes what a
//! configured source does.

use std::{collections::HashMap, fmt, sync::Arc};

/// A read-only view of environment variables. The process environment in
/// production; a fixed map in tests, so no test has to change the
/// process's own variables.
#[derive(Clone, Default)]
pub struct Env {
    fixed: Option<Arc<HashMap<String, String>>>,
}

impl Env {
    /// The process environment.
    pub fn process() -> Env {
        Env { fixed: None }
    }

    /// A fixed set of variables, nothing else.
    pub fn from_pairs<I, K, V>(pairs: I) -> Env
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let map = pairs.into_iter().map(|(k, v)| (k.into(), v.into())).collect();
        Env { fixed: Some(Arc::new(map)) }
    }

    /// The variable's value; unset, empty and non-UTF-8 values are all
    /// `None`.
    pub fn get(&self, name: &str) -> Option<String> {
        let value = match &self.fixed {
            Some(map) => map.get(name).cloned(),
            None => std::env::var(name).ok(),
        };
        value.filter(|v| !v.is_empty())
    }

    fn is_set(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    fn is_true(&self, name: &str) -> bool {
        self.get(name).is_some_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
    }
}

impl fmt::Debug for Env {
    // Values may be secrets: show only where they come from.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.fixed {
            None => f.write_str("Env(process)"),
            Some(map) => write!(f, "Env({} fixed variables)", map.len()),
        }
    }
}

/// The kind of place inventag runs in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CiEnvironment {
    /// GitHub Actions (`GITHUB_ACTIONS=true`).
    GithubActions,
    /// AWS CodeBuild (`CODEBUILD_BUILD_ID` set).
    Codebuild,
    /// Jenkins (`JENKINS_URL` or `JENKINS_HOME` set).
    Jenkins,
    /// Another CI system (`CI` true, or a known CI's marker variable).
    Ci,
    /// None of the above: a person's machine or a plain server.
    Local,
}

/// Marker variables of CI systems without a kind of their own.
const OTHER_CI_MARKERS: [&str; 5] =
    ["GITLAB_CI", "CIRCLECI", "BUILDKITE", "TF_BUILD", "TEAMCITY_VERSION"];

impl CiEnvironment {
    /// Reads the environment; the most specific system wins.
    pub fn detect(env: &Env) -> CiEnvironment {
        if env.is_true("GITHUB_ACTIONS") {
            CiEnvironment::GithubActions
        } else if env.is_set("CODEBUILD_BUILD_ID") {
            CiEnvironment::Codebuild
        } else if env.is_set("JENKINS_URL") || env.is_set("JENKINS_HOME") {
            CiEnvironment::Jenkins
        } else if env.is_true("CI") || OTHER_CI_MARKERS.iter().any(|m| env.is_set(m)) {
            CiEnvironment::Ci
        } else {
            CiEnvironment::Local
        }
    }

    /// Whether Secrets Manager is a credential source unless told
    /// otherwise: only in CodeBuild, where it is the documented way.
    pub fn secrets_manager_by_default(self) -> bool {
        self == CiEnvironment::Codebuild
    }

    /// The name shown in summaries and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            CiEnvironment::GithubActions => "github-actions",
            CiEnvironment::Codebuild => "codebuild",
            CiEnvironment::Jenkins => "jenkins",
            CiEnvironment::Ci => "ci",
            CiEnvironment::Local => "local",
        }
    }
}

impl fmt::Display for CiEnvironment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detect(pairs: &[(&str, &str)]) -> CiEnvironment {
        CiEnvironment::detect(&Env::from_pairs(pairs.iter().copied()))
    }

    #[test]
    fn each_system_is_recognised() {
        assert_eq!(
            detect(&[("GITHUB_ACTIONS", "true"), ("CI", "true")]),
            CiEnvironment::GithubActions
        );
        assert_eq!(detect(&[("CODEBUILD_BUILD_ID", "proj:1234")]), CiEnvironment::Codebuild);
        assert_eq!(detect(&[("JENKINS_URL", "https://ci.example/")]), CiEnvironment::Jenkins);
        assert_eq!(detect(&[("CI", "true")]), CiEnvironment::Ci);
        assert_eq!(detect(&[("GITLAB_CI", "true")]), CiEnvironment::Ci);
        assert_eq!(detect(&[("CI", "false")]), CiEnvironment::Local);
        assert_eq!(detect(&[]), CiEnvironment::Local);
    }

    #[test]
    fn only_codebuild_turns_secrets_manager_on() {
        assert!(CiEnvironment::Codebuild.secrets_manager_by_default());
        for other in [CiEnvironment::GithubActions, CiEnvironment::Jenkins, CiEnvironment::Local] {
            assert!(!other.secrets_manager_by_default());
        }
    }

    #[test]
    fn debug_shows_no_values() {
        let env = Env::from_pairs([("AWS_SECRET_ACCESS_KEY", "sentinel-value")]);
        assert!(!format!("{env:?}").contains("sentinel"));
    }
}
