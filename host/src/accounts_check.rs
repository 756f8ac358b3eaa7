//! `inventag accounts check`: resolves every account of an accounts file
//! the way a run would, confirms each with STS, and reports which method
//! won, whose credentials they are and why every other attempt did not
//! apply. Nothing is collected and no secret is shown.

use std::{fmt::Write as _, path::Path};

use crate::credentials::{
    self, AccountsSourceError, Attempt, AttemptOutcome, CredentialMethod, ResolveOptions,
    organizations::OrgOptions,
};

/// One account's row.
#[derive(Debug, serde::Serialize)]
pub struct AccountRow {
    /// The 12-digit id.
    pub account_id: String,
    /// The display name.
    pub account_name: String,
    /// The method that won.
    pub method: Option<CredentialMethod>,
    /// The caller ARN STS reported.
    pub caller_arn: Option<String>,
    /// `ok` or `failed`.
    pub status: &'static str,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Every source looked at, in order.
    pub attempts: Vec<Attempt>,
}

/// The whole check.
#[derive(Debug, serde::Serialize)]
pub struct CheckReport {
    /// Where the check ran (`local`, `github-actions`, ...).
    pub environment: String,
    /// Whether Secrets Manager was a source.
    pub secrets_manager: bool,
    /// One row per account, in file order.
    pub accounts: Vec<AccountRow>,
}

impl CheckReport {
    /// Whether every account resolved.
    pub fn all_ok(&self) -> bool {
        self.accounts.iter().all(|a| a.status == "ok")
    }

    /// The report as a table followed by the failed attempts.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "environment: {}; secrets manager: {}",
            self.environment,
            if self.secrets_manager { "on" } else { "off" }
        );
        // Names may come from an organization: never let one print raw
        // control characters (a forged row, a terminal escape).
        let clean = |t: &str| -> String {
            if t.chars().any(char::is_control) { t.escape_debug().to_string() } else { t.into() }
        };
        let rows: Vec<[String; 5]> = self
            .accounts
            .iter()
            .map(|a| {
                [
                    a.account_id.clone(),
                    clean(&a.account_name),
                    a.method.map(|m| m.to_string()).unwrap_or_else(|| "-".into()),
                    a.caller_arn.clone().unwrap_or_else(|| "-".into()),
                    a.status.to_owned(),
                ]
            })
            .collect();
        let header = ["ACCOUNT", "NAME", "METHOD", "CALLER ARN", "STATUS"].map(str::to_owned);
        let mut widths = header.clone().map(|h| h.chars().count());
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        for row in std::iter::once(&header).chain(&rows) {
            let cells: Vec<String> =
                row.iter().zip(widths).map(|(c, w)| format!("{c:<w$}")).collect();
            let _ = writeln!(out, "{}", cells.join("  ").trim_end());
        }
        for a in &self.accounts {
            let failed: Vec<&Attempt> =
                a.attempts.iter().filter(|t| t.outcome == AttemptOutcome::Failed).collect();
            if failed.is_empty() && a.error.is_none() {
                continue;
            }
            let _ = writeln!(out, "\n{} ({}):", a.account_id, clean(&a.account_name));
            for t in failed {
                let reason = t.reason.as_deref().unwrap_or("");
                let _ = writeln!(out, "  {} {}: {reason}", t.method, t.target);
            }
            if let Some(e) = &a.error {
                let _ = writeln!(out, "  error: {e}");
            }
        }
        out
    }
}

/// Resolves every account of the accounts file at `path`, of the
/// organization, or both.
pub async fn check(
    path: Option<&Path>,
    org: Option<&OrgOptions>,
    options: ResolveOptions,
) -> Result<CheckReport, AccountsSourceError> {
    let (file, resolver) = credentials::accounts_and_resolver(path, org, options).await?;
    let mut accounts = Vec::new();
    for account in &file.accounts {
        let resolution = resolver.resolve(account).await;
        let method = resolution.method();
        let (status, caller_arn, error) = match &resolution.outcome {
            Ok(c) => ("ok", c.identity().map(|i| i.arn.clone()), None),
            Err(e) => ("failed", None, Some(e.to_string())),
        };
        accounts.push(AccountRow {
            account_id: resolution.account_id.to_string(),
            account_name: resolution.account_name.clone(),
            method: if status == "ok" { method } else { None },
            caller_arn,
            status,
            error,
            attempts: resolution.attempts,
        });
    }
    Ok(CheckReport {
        environment: resolver.environment().to_string(),
        secrets_manager: resolver.secrets_manager_on(),
        accounts,
    })
}
