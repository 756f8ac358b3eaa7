//! Organization discovery: instead of (or besides) listing accounts in a
//! file, `--org-role-name NAME` lists the organization's active accounts
//! with the base credentials (Organizations `ListAccounts`, from the
//! management account or a delegated administrator) and reaches each one
//! by assuming the role NAME in it, with `--external-id` when the role's
//! trust policy asks for one. The account the base credentials belong to
//! is reached with them directly, since a management account rarely holds
//! the member role.

use aws_config::SdkConfig;
use aws_credential_types::provider::ProvideCredentials;
use aws_sdk_organizations::error::ProvideErrorMetadata;

use super::{CredentialError, error_chain, identity};
use crate::audit::sdk::SdkAudit;
use crate::config::{AccountConfig, AccountId, AccountsFile, SecretString};

/// What `--org-role-name` asks for.
#[derive(Clone, Debug)]
pub struct OrgOptions {
    /// The role to assume in every member account, a name or `path/name`.
    pub role_name: String,
    /// The external id the role's trust policy demands.
    pub external_id: Option<SecretString>,
}

/// Why the organization could not be listed.
fn org_error(reason: String) -> CredentialError {
    CredentialError::Organization { reason }
}

/// Checks a role name: IAM's characters, with an optional path.
pub fn check_role_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 512
        && !name.starts_with('/')
        && !name.ends_with('/')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "+=,.@_-/".contains(c));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{name:?} is not an IAM role name (letters, digits and +=,.@_- with an optional \
             path, like OrganizationAccountAccessRole or inventag/Reader)"
        ))
    }
}

/// Adds the organization's active accounts that `file` does not list.
/// Accounts the file lists keep their own settings. Returns how many were
/// added.
#[tracing::instrument(name = "credentials.organizations", skip_all)]
pub async fn add_accounts(
    file: &mut AccountsFile,
    org: &OrgOptions,
    base: &SdkConfig,
    endpoint_url: Option<&str>,
    audit: Option<std::sync::Arc<crate::audit::AuditLog>>,
) -> Result<usize, CredentialError> {
    check_role_name(&org.role_name).map_err(org_error)?;
    // The base credentials' account is not known yet: records name none.
    let region = base.region().map_or_else(|| "us-east-1".to_owned(), |r| r.to_string());
    let hook = |service| audit.clone().map(|log| SdkAudit::new(log, "", &region, service));
    let mut conf = aws_sdk_organizations::config::Builder::from(base);
    if let Some(hook) = hook("organizations") {
        conf = conf.interceptor(hook);
    }
    let client = aws_sdk_organizations::Client::from_conf(conf.build());
    let mut pages = client.list_accounts().into_paginator().send();
    let mut members = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            org_error(match e.code() {
                Some(code) => format!("ListAccounts: {code}: {}", e.message().unwrap_or("")),
                None => format!("ListAccounts: {}", error_chain(&e)),
            })
        })?;
        for account in page.accounts() {
            #[allow(deprecated)] // `status` is what every partition still returns
            let active = account.status().is_none_or(|s| s.as_str() == "ACTIVE");
            let (Some(id), Some(arn)) = (account.id(), account.arn()) else { continue };
            if !active {
                tracing::info!(account = id, "skipping an account that is not active");
                continue;
            }
            let id = AccountId::parse(id).map_err(org_error)?;
            let partition = arn.split(':').nth(1).unwrap_or("aws").to_owned();
            members.push((id, account.name().unwrap_or_default().to_owned(), partition));
        }
    }
    if members.is_empty() {
        return Err(org_error("ListAccounts returned no active account".into()));
    }

    // The base credentials' own account is reached with them directly.
    let own = match base.credentials_provider() {
        Some(p) => match p.provide_credentials().await {
            Ok(creds) => identity::caller_identity(creds, endpoint_url, hook("sts")).await.ok(),
            Err(_) => None,
        },
        None => None,
    };
    let mut added = 0;
    for (id, name, partition) in members {
        if file.accounts.iter().any(|a| a.account_id == id) {
            continue;
        }
        let is_own = own.as_ref().is_some_and(|o| o.account == id.as_str());
        let role_arn =
            (!is_own).then(|| format!("arn:{partition}:iam::{id}:role/{}", org.role_name));
        file.accounts.push(AccountConfig {
            account_id: id,
            account_name: (!name.is_empty()).then_some(name),
            profile_name: None,
            regions: None,
            external_id: role_arn.as_ref().and(org.external_id.clone()),
            role_arn,
            access_key_id: None,
            secret_access_key: None,
            session_token: None,
        });
        added += 1;
    }
    Ok(added)
}
