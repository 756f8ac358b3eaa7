//! Credentials: turns each account of the accounts file into a credential
//! source, in a documented order, and hands out short-lived credentials to
//! the gateway. No other module sees a secret, and nothing here prints one:
//! errors name the account and the method, never the values.
//!
//! Order, first configured source wins:
//! 1. `role_arn` (with `external_id`), assumed from the account's
//!    `profile_name` if it has one, else from the base credentials;
//! 2. `profile_name`, any profile kind aws-config supports;
//! 3. keys in the accounts file, only when the file is private (mode 600);
//! 4. the default chain (environment, default profile, container and
//!    instance roles, web identity).

use std::{
    fmt,
    path::Path,
    sync::Arc,
    time::{Duration, SystemTime},
};

use aws_config::{BehaviorVersion, Region as SdkRegion, SdkConfig};
use aws_credential_types::{
    Credentials,
    provider::{ProvideCredentials, SharedCredentialsProvider},
};
use tokio::sync::Mutex;

use crate::config::{AccountConfig, AccountId};

/// How an account's credentials were obtained.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialMethod {
    /// A role assumed with STS.
    AssumeRole,
    /// A named profile.
    Profile,
    /// Keys written in the accounts file.
    AccountsFileKeys,
    /// aws-config's default chain.
    DefaultChain,
}

impl fmt::Display for CredentialMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CredentialMethod::AssumeRole => "role_arn",
            CredentialMethod::Profile => "profile_name",
            CredentialMethod::AccountsFileKeys => "accounts-file keys",
            CredentialMethod::DefaultChain => "default chain",
        })
    }
}

/// Why an account has no usable credentials. Never holds a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialError {
    /// The accounts file holds keys but others can read it.
    #[error(
        "{file} holds access keys but is readable by other users (mode {mode:o}); \
         run `chmod 600 {file}` and keep it out of version control (.gitignore)"
    )]
    FileTooOpen {
        /// The accounts file.
        file: String,
        /// Its permission bits.
        mode: u32,
    },
    /// The source was configured but gave no credentials.
    #[error("account {account} ({method}): {message}")]
    Source {
        /// The account.
        account: String,
        /// The method that failed.
        method: CredentialMethod,
        /// The provider's reason.
        message: String,
    },
}

/// Settings shared by every account's resolution.
#[derive(Clone, Debug, Default)]
pub struct ResolveOptions {
    /// An endpoint to send STS and other SDK calls to (a local stand-in).
    pub endpoint_url: Option<String>,
}

/// One account's credential source, with a cache that refreshes
/// credentials shortly before they expire.
pub struct AccountCredentials {
    account_id: AccountId,
    method: CredentialMethod,
    provider: SharedCredentialsProvider,
    cached: Mutex<Option<Credentials>>,
}

impl fmt::Debug for AccountCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccountCredentials")
            .field("account_id", &self.account_id)
            .field("method", &self.method)
            .finish_non_exhaustive()
    }
}

/// Credentials are refreshed when they have less than this left.
const REFRESH_MARGIN: Duration = Duration::from_secs(300);

impl AccountCredentials {
    /// Credentials from a fixed provider; used by tests and by callers
    /// that resolved credentials themselves.
    pub fn from_provider(
        account_id: AccountId,
        method: CredentialMethod,
        provider: SharedCredentialsProvider,
    ) -> AccountCredentials {
        AccountCredentials { account_id, method, provider, cached: Mutex::new(None) }
    }

    /// The account these credentials are for.
    pub fn account_id(&self) -> &AccountId {
        &self.account_id
    }

    /// The method that produced them.
    pub fn method(&self) -> CredentialMethod {
        self.method
    }

    /// Current credentials, fetched or refreshed as needed.
    #[tracing::instrument(name = "credentials.get", skip_all, fields(account = %self.account_id))]
    pub async fn get(&self) -> Result<Credentials, CredentialError> {
        let mut cached = self.cached.lock().await;
        if let Some(c) = cached.as_ref() {
            let fresh = c.expiry().is_none_or(|e| e > SystemTime::now() + REFRESH_MARGIN);
            if fresh {
                return Ok(c.clone());
            }
        }
        let creds =
            self.provider.provide_credentials().await.map_err(|e| CredentialError::Source {
                account: self.account_id.to_string(),
                method: self.method,
                message: error_chain(&e),
            })?;
        *cached = Some(creds.clone());
        Ok(creds)
    }

    /// Drops the cached credentials, after AWS said they expired.
    pub async fn invalidate(&self) {
        *self.cached.lock().await = None;
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

async fn sdk_config(profile: Option<&str>, options: &ResolveOptions) -> SdkConfig {
    let mut loader =
        aws_config::defaults(BehaviorVersion::latest()).region(SdkRegion::new("us-east-1"));
    if let Some(p) = profile {
        loader = loader.profile_name(p);
    }
    if let Some(url) = &options.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    loader.load().await
}

/// Picks and builds the credential source of one account. `file` is the
/// accounts file, checked for privacy when it holds keys.
#[tracing::instrument(name = "credentials.resolve", skip_all, fields(account = %account.account_id))]
pub async fn resolve(
    account: &AccountConfig,
    file: &Path,
    options: &ResolveOptions,
) -> Result<Arc<AccountCredentials>, CredentialError> {
    let id = account.account_id.clone();
    let missing = |method| CredentialError::Source {
        account: id.to_string(),
        method,
        message: "no credentials provider could be built".into(),
    };
    if let Some(role_arn) = &account.role_arn {
        let base = sdk_config(account.profile_name.as_deref(), options).await;
        let mut builder = aws_config::sts::AssumeRoleProvider::builder(role_arn)
            .session_name(format!("inventag-{id}"))
            .configure(&base);
        if let Some(external_id) = &account.external_id {
            builder = builder.external_id(external_id.expose());
        }
        let provider = SharedCredentialsProvider::new(builder.build().await);
        return Ok(Arc::new(AccountCredentials::from_provider(
            id,
            CredentialMethod::AssumeRole,
            provider,
        )));
    }
    if let Some(profile) = &account.profile_name {
        let config = sdk_config(Some(profile), options).await;
        let provider =
            config.credentials_provider().ok_or_else(|| missing(CredentialMethod::Profile))?;
        return Ok(Arc::new(AccountCredentials::from_provider(
            id,
            CredentialMethod::Profile,
            provider,
        )));
    }
    if let (Some(key), Some(secret)) = (&account.access_key_id, &account.secret_access_key) {
        check_private(file)?;
        let creds = Credentials::new(
            key.expose(),
            secret.expose(),
            account.session_token.as_ref().map(|t| t.expose().to_owned()),
            None,
            "inventag-accounts-file",
        );
        let provider = SharedCredentialsProvider::new(creds);
        return Ok(Arc::new(AccountCredentials::from_provider(
            id,
            CredentialMethod::AccountsFileKeys,
            provider,
        )));
    }
    let config = sdk_config(None, options).await;
    let provider =
        config.credentials_provider().ok_or_else(|| missing(CredentialMethod::DefaultChain))?;
    Ok(Arc::new(AccountCredentials::from_provider(id, CredentialMethod::DefaultChain, provider)))
}

#[cfg(unix)]
fn check_private(file: &Path) -> Result<(), CredentialError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(file).map(|m| m.permissions().mode() & 0o777).unwrap_or(0o777);
    if mode & 0o077 != 0 {
        return Err(CredentialError::FileTooOpen { file: file.display().to_string(), mode });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_file: &Path) -> Result<(), CredentialError> {
    Ok(())
}
