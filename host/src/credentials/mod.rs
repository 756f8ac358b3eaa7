//! Credentials: for each account of the accounts file, finds the source
//! that reaches it, confirms the account with STS, and hands short-lived
//! credentials to the gateway. No other module sees a secret, and nothing
//! here prints one: errors and reports name accounts, methods, variable
//! and secret names, never values.
//!
//! Sources are tried in a fixed order; the first that applies wins and
//! every attempt is reported ([`Resolution::attempts`]):
//!
//! 1. `role_arn` (with `external_id`), assumed from the account's
//!    `profile_name` when it has one, else from the base credentials, with
//!    the session name `inventag-<account id>` and a one-hour session (the
//!    role-chaining limit);
//! 2. `profile_name`: any profile kind aws-config supports;
//! 3. keys in the accounts file, only from a private file
//!    ([`file_keys`]);
//! 4. per-account environment variables ([`env_vars`]);
//! 5. AWS Secrets Manager ([`secrets_manager`]), on by default in
//!    CodeBuild and by `--secrets-manager on` elsewhere;
//! 6. the default chain: global environment variables, the default profile,
//!    container and instance roles, web identity.
//!
//! A source configured in the accounts file (1-3) decides the account: if
//! it fails, the account fails with its reason, rather than quietly
//! falling back to other credentials. The discovered sources (4-6) apply
//! when they find something: a variable set, a secret that exists.

pub mod env_vars;
pub mod environment;
pub mod file_keys;
pub mod identity;
pub mod organizations;
pub mod secrets_manager;

use std::{
    fmt,
    path::{Path, PathBuf},
    sync::Arc,
    time::{Duration, SystemTime},
};

use aws_config::{BehaviorVersion, Region as SdkRegion, SdkConfig};
use aws_credential_types::{
    Credentials,
    provider::{ProvideCredentials, SharedCredentialsProvider},
};
use tokio::sync::{Mutex, OnceCell};

pub use environment::{CiEnvironment, Env};
pub use identity::CallerIdentity;

use crate::{
    audit::{
        AuditLog,
        sdk::{AuditedProvider, SdkAudit},
    },
    config::{AccountConfig, AccountId, AccountsFile, SecretString},
};

/// How an account's credentials were obtained.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialMethod {
    /// A role assumed with STS.
    RoleArn,
    /// A named profile.
    ProfileName,
    /// Keys written in the accounts file.
    AccountsFileKeys,
    /// Per-account environment variables.
    EnvironmentVariables,
    /// A secret in AWS Secrets Manager.
    SecretsManager,
    /// aws-config's default chain.
    DefaultChain,
}

impl fmt::Display for CredentialMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CredentialMethod::RoleArn => "role_arn",
            CredentialMethod::ProfileName => "profile_name",
            CredentialMethod::AccountsFileKeys => "accounts_file_keys",
            CredentialMethod::EnvironmentVariables => "environment_variables",
            CredentialMethod::SecretsManager => "secrets_manager",
            CredentialMethod::DefaultChain => "default_chain",
        })
    }
}

/// Why an account has no usable credentials. Never holds a secret.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialError {
    /// The accounts file holds keys but others can read it.
    #[error(
        "{file} holds access keys but is readable by other users (mode {mode:03o}); run \
         `chmod 600 {file}` and keep it out of version control (add it to .gitignore)"
    )]
    FileTooOpen {
        /// The accounts file.
        file: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The accounts file holds keys and git tracks it.
    #[error(
        "{file} holds access keys and is tracked by git, so the keys are in its history; \
         remove it from the repository (`git rm --cached`), add it to .gitignore and rotate \
         the keys"
    )]
    FileTracked {
        /// The accounts file.
        file: PathBuf,
    },
    /// The accounts file holds keys and whether git tracks it is unknown.
    #[error(
        "{file} holds access keys and {reason}; move it out of the repository or check it \
         with `git ls-files`, and keep it in .gitignore"
    )]
    FileUnverifiable {
        /// The accounts file.
        file: PathBuf,
        /// Why git could not answer.
        reason: String,
    },
    /// The source that applies gave no credentials.
    #[error("account {account}: {method} failed: {reason}")]
    Source {
        /// The account.
        account: AccountId,
        /// The method that failed.
        method: CredentialMethod,
        /// The reason, free of secrets.
        reason: String,
    },
    /// No source applied.
    #[error(
        "account {account}: no credentials found; give the account a role_arn or profile_name, \
         or set AWS_ACCESS_KEY_ID_{account} and AWS_SECRET_ACCESS_KEY_{account}"
    )]
    NotFound {
        /// The account.
        account: AccountId,
    },
    /// The credentials work but belong to another account.
    #[error(
        "account {account}: the credentials from {method} belong to account {actual} \
         ({arn}); fix the account's credentials or its account_id"
    )]
    WrongAccount {
        /// The account the file names.
        account: AccountId,
        /// The method that gave the credentials.
        method: CredentialMethod,
        /// The account STS reports.
        actual: String,
        /// The caller ARN STS reports.
        arn: String,
    },
    /// The organization's accounts could not be listed.
    #[error(
        "cannot list the organization's accounts with the base credentials: {reason}; run from \
         the management account or a delegated administrator, or list the accounts in a file"
    )]
    Organization {
        /// AWS's answer.
        reason: String,
    },
    /// Resolution took longer than allowed.
    #[error(
        "account {account}: finding credentials took longer than {seconds}s (a credential \
         process, SSO or an endpoint that does not answer); raise --credential-timeout or fix \
         the source"
    )]
    TimedOut {
        /// The account.
        account: AccountId,
        /// The limit.
        seconds: u64,
    },
    /// STS could not confirm whose the credentials are.
    #[error(
        "account {account}: cannot confirm the identity of credentials from {method}: {reason}"
    )]
    Identity {
        /// The account.
        account: AccountId,
        /// The method that gave the credentials.
        method: CredentialMethod,
        /// STS's answer.
        reason: String,
    },
}

/// Whether Secrets Manager is a source.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum SecretsManagerMode {
    /// On in CodeBuild, off elsewhere.
    #[default]
    Auto,
    /// Always tried.
    On,
    /// Never tried.
    Off,
}

/// Settings shared by every account's resolution.
#[derive(Clone, Debug)]
pub struct ResolveOptions {
    /// The longest one account's resolution may take, identity check
    /// included; a source that never answers fails its account, not the
    /// run.
    pub timeout: Duration,
    /// An endpoint to send STS and Secrets Manager calls to (a local
    /// stand-in).
    pub endpoint_url: Option<String>,
    /// Whether Secrets Manager is tried.
    pub secrets_manager: SecretsManagerMode,
    /// The region secrets are read in; else `AWS_REGION`,
    /// `AWS_DEFAULT_REGION`, then `us-east-1`.
    pub secrets_region: Option<String>,
    /// Where environment variables are read; the process environment when
    /// `None`.
    pub env: Option<Env>,
    /// Where the host's own STS, Secrets Manager and Organizations calls
    /// are recorded, if anywhere.
    pub audit: Option<Arc<AuditLog>>,
}

impl Default for ResolveOptions {
    fn default() -> Self {
        ResolveOptions {
            timeout: Duration::from_secs(60),
            endpoint_url: None,
            secrets_manager: SecretsManagerMode::default(),
            secrets_region: None,
            env: None,
            audit: None,
        }
    }
}

/// One source tried for one account.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Attempt {
    /// The method.
    pub method: CredentialMethod,
    /// What was looked at: a variable or secret name, a profile, a role.
    pub target: String,
    /// What happened.
    pub outcome: AttemptOutcome,
    /// Why, when it did not succeed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// How one attempt ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptOutcome {
    /// This source gave the credentials.
    Used,
    /// Not configured or not present; the next source is tried.
    Skipped,
    /// Present but failed.
    Failed,
}

/// The result of resolving one account.
#[derive(Debug)]
pub struct Resolution {
    /// The account.
    pub account_id: AccountId,
    /// Its display name.
    pub account_name: String,
    /// Every source looked at, in order.
    pub attempts: Vec<Attempt>,
    /// The credentials, or why there are none.
    pub outcome: Result<Arc<AccountCredentials>, CredentialError>,
}

impl Resolution {
    /// The method that won, if any.
    pub fn method(&self) -> Option<CredentialMethod> {
        self.attempts.iter().find(|a| a.outcome == AttemptOutcome::Used).map(|a| a.method)
    }
}

/// One account's credential source, with a cache that refreshes
/// credentials shortly before they expire.
pub struct AccountCredentials {
    account_id: AccountId,
    method: CredentialMethod,
    identity: Option<CallerIdentity>,
    provider: SharedCredentialsProvider,
    cached: Mutex<Option<Credentials>>,
}

impl fmt::Debug for AccountCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccountCredentials")
            .field("account_id", &self.account_id)
            .field("method", &self.method)
            .field("identity", &self.identity)
            .finish_non_exhaustive()
    }
}

/// Credentials are refreshed when they have less than this left.
const REFRESH_MARGIN: Duration = Duration::from_secs(300);

/// The longest session a chained role may have.
const ROLE_SESSION: Duration = Duration::from_secs(3600);

impl AccountCredentials {
    /// Credentials from a fixed provider; used by tests and by callers
    /// that resolved credentials themselves.
    pub fn from_provider(
        account_id: AccountId,
        method: CredentialMethod,
        provider: SharedCredentialsProvider,
    ) -> AccountCredentials {
        AccountCredentials {
            account_id,
            method,
            identity: None,
            provider,
            cached: Mutex::new(None),
        }
    }

    /// The account these credentials are for.
    pub fn account_id(&self) -> &AccountId {
        &self.account_id
    }

    /// The method that produced them.
    pub fn method(&self) -> CredentialMethod {
        self.method
    }

    /// Whose they are, as STS confirmed.
    pub fn identity(&self) -> Option<&CallerIdentity> {
        self.identity.as_ref()
    }

    /// Current credentials, fetched or refreshed as needed.
    #[tracing::instrument(name = "credentials.get", skip_all, fields(account = %self.account_id))]
    pub async fn get(&self) -> Result<Credentials, CredentialError> {
        let mut cached = self.cached.lock().await;
        if let Some(c) = cached.as_ref() {
            if c.expiry().is_none_or(|e| e > SystemTime::now() + REFRESH_MARGIN) {
                return Ok(c.clone());
            }
        }
        let creds =
            self.provider.provide_credentials().await.map_err(|e| CredentialError::Source {
                account: self.account_id.clone(),
                method: self.method,
                reason: error_chain(&e),
            })?;
        *cached = Some(creds.clone());
        Ok(creds)
    }

    /// Drops the cached credentials, after AWS said they expired.
    pub async fn invalidate(&self) {
        *self.cached.lock().await = None;
    }
}

/// An error and its sources on one line. What a credential process wrote
/// to its stderr is cut off: it may hold anything, secrets included.
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let next = s.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = s.source();
    }
    scrub_process_output(text)
}

fn scrub_process_output(mut text: String) -> String {
    for marker in ["Stderr:", "stderr:", "Stdout:", "stdout:"] {
        if let Some(at) = text.find(marker) {
            text.truncate(at + marker.len());
            text.push_str(" (not shown: a credential process's output may hold secrets)");
        }
    }
    text
}

/// Resolves the accounts of one accounts file.
pub struct Resolver {
    options: ResolveOptions,
    env: Env,
    environment: CiEnvironment,
    file: Option<PathBuf>,
    /// Account ids of the file, for the last-4-digits ambiguity check.
    ids: Vec<AccountId>,
    base: OnceCell<SdkConfig>,
    secrets: OnceCell<aws_sdk_secretsmanager::Client>,
}

impl fmt::Debug for Resolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resolver")
            .field("environment", &self.environment)
            .field("file", &self.file)
            .field("secrets_manager", &self.secrets_manager_on())
            .finish_non_exhaustive()
    }
}

/// A source's verdict before the identity check.
enum Found {
    /// Not applicable; try the next.
    Skip,
    /// This source applies and gave a provider.
    Provider(SharedCredentialsProvider),
    /// This source applies and failed: the account fails.
    Fail(CredentialError),
}

impl Resolver {
    /// A resolver for the accounts of `file`, read from `path`.
    /// `path` is where `file` was read from, when it came from a file.
    pub fn new(file: &AccountsFile, path: Option<&Path>, options: ResolveOptions) -> Resolver {
        let env = options.env.clone().unwrap_or_else(Env::process);
        let environment = CiEnvironment::detect(&env);
        Resolver {
            ids: file.accounts.iter().map(|a| a.account_id.clone()).collect(),
            file: path.map(Path::to_owned),
            options,
            env,
            environment,
            base: OnceCell::new(),
            secrets: OnceCell::new(),
        }
    }

    /// The base credentials' configuration: the default chain, with the
    /// endpoint override.
    pub async fn base(&self) -> &SdkConfig {
        self.base_config().await
    }

    /// Adds the organization's accounts to `file` (see [`organizations`]);
    /// returns how many were added.
    pub async fn discover_organization(
        &mut self,
        file: &mut AccountsFile,
        org: &organizations::OrgOptions,
    ) -> Result<usize, CredentialError> {
        let endpoint = self.options.endpoint_url.clone();
        let base = self.base_config().await.clone();
        let audit = self.options.audit.clone();
        let added =
            organizations::add_accounts(file, org, &base, endpoint.as_deref(), audit).await?;
        self.ids = file.accounts.iter().map(|a| a.account_id.clone()).collect();
        Ok(added)
    }

    /// Where the run happens.
    pub fn environment(&self) -> CiEnvironment {
        self.environment
    }

    /// Whether Secrets Manager is tried.
    pub fn secrets_manager_on(&self) -> bool {
        match self.options.secrets_manager {
            SecretsManagerMode::On => true,
            SecretsManagerMode::Off => false,
            SecretsManagerMode::Auto => self.environment.secrets_manager_by_default(),
        }
    }

    /// Finds, fetches and confirms one account's credentials.
    #[tracing::instrument(name = "credentials.resolve", skip_all, fields(account = %account.account_id))]
    pub async fn resolve(&self, account: &AccountConfig) -> Resolution {
        let mut attempts = Vec::new();
        let limit = self.options.timeout;
        let outcome =
            match tokio::time::timeout(limit, self.resolve_inner(account, &mut attempts)).await {
                Ok(outcome) => outcome,
                Err(_) => Err(CredentialError::TimedOut {
                    account: account.account_id.clone(),
                    seconds: limit.as_secs(),
                }),
            };
        match &outcome {
            Ok(c) => tracing::debug!(method = %c.method(), "credentials resolved"),
            Err(e) => tracing::debug!("credentials not resolved: {e}"),
        }
        Resolution {
            account_id: account.account_id.clone(),
            account_name: account.name().to_owned(),
            attempts,
            outcome,
        }
    }

    async fn resolve_inner(
        &self,
        account: &AccountConfig,
        attempts: &mut Vec<Attempt>,
    ) -> Result<Arc<AccountCredentials>, CredentialError> {
        use CredentialMethod as M;
        let sources = [
            M::RoleArn,
            M::ProfileName,
            M::AccountsFileKeys,
            M::EnvironmentVariables,
            M::SecretsManager,
            M::DefaultChain,
        ];
        for method in sources {
            let found = match method {
                M::RoleArn => self.role(account, attempts).await,
                M::ProfileName => self.profile(account, attempts).await,
                M::AccountsFileKeys => self.file_keys(account, attempts),
                M::EnvironmentVariables => self.env_vars(account, attempts),
                M::SecretsManager => self.secrets_manager(account, attempts).await,
                M::DefaultChain => self.default_chain(account, attempts).await,
            };
            match found {
                Found::Skip => continue,
                Found::Fail(e) => return Err(e),
                Found::Provider(provider) => {
                    return self.confirm(account, method, provider, attempts).await;
                }
            }
        }
        Err(CredentialError::NotFound { account: account.account_id.clone() })
    }

    /// Fetches the first credentials and checks whose they are.
    async fn confirm(
        &self,
        account: &AccountConfig,
        method: CredentialMethod,
        provider: SharedCredentialsProvider,
        attempts: &mut [Attempt],
    ) -> Result<Arc<AccountCredentials>, CredentialError> {
        let id = &account.account_id;
        let mark_failed = |attempts: &mut [Attempt], reason: &str| {
            if let Some(last) = attempts.last_mut() {
                last.outcome = AttemptOutcome::Failed;
                last.reason = Some(reason.to_owned());
            }
        };
        let creds = match provider.provide_credentials().await {
            Ok(c) => c,
            Err(e) => {
                let reason = error_chain(&e);
                mark_failed(attempts, &reason);
                return Err(CredentialError::Source { account: id.clone(), method, reason });
            }
        };
        let identity = match identity::caller_identity(
            creds.clone(),
            self.options.endpoint_url.as_deref(),
            self.sdk_audit(id.as_str(), "us-east-1", "sts"),
        )
        .await
        {
            Ok(i) => i,
            Err(reason) => {
                mark_failed(attempts, &format!("identity check: {reason}"));
                return Err(CredentialError::Identity { account: id.clone(), method, reason });
            }
        };
        if identity.account != id.as_str() {
            let e = CredentialError::WrongAccount {
                account: id.clone(),
                method,
                actual: identity.account.clone(),
                arn: identity.arn.clone(),
            };
            mark_failed(attempts, &e.to_string());
            return Err(e);
        }
        let out = AccountCredentials {
            account_id: id.clone(),
            method,
            identity: Some(identity),
            provider,
            cached: Mutex::new(Some(creds)),
        };
        Ok(Arc::new(out))
    }

    /// The audit hook for the host's SDK calls about `account`, when the
    /// run keeps an audit log.
    fn sdk_audit(&self, account: &str, region: &str, service: &'static str) -> Option<SdkAudit> {
        let log = self.options.audit.clone()?;
        Some(SdkAudit::new(log, account, region, service))
    }

    async fn base_config(&self) -> &SdkConfig {
        self.base.get_or_init(|| sdk_config(None, self.options.endpoint_url.as_deref())).await
    }

    async fn role(&self, account: &AccountConfig, attempts: &mut Vec<Attempt>) -> Found {
        let Some(role_arn) = &account.role_arn else {
            attempts.push(skipped(CredentialMethod::RoleArn, "-", "no role_arn"));
            return Found::Skip;
        };
        let base = match &account.profile_name {
            Some(p) => sdk_config(Some(p), self.options.endpoint_url.as_deref()).await,
            None => self.base_config().await.clone(),
        };
        let mut builder = aws_config::sts::AssumeRoleProvider::builder(role_arn)
            .session_name(format!("inventag-{}", account.account_id))
            .session_length(ROLE_SESSION)
            .configure(&base);
        if let Some(external_id) = &account.external_id {
            builder = builder.external_id(external_id.expose());
        }
        let from = match &account.profile_name {
            Some(p) => format!("{role_arn} (from profile {p})"),
            None => format!("{role_arn} (from the base credentials)"),
        };
        attempts.push(used(CredentialMethod::RoleArn, from));
        let provider = SharedCredentialsProvider::new(builder.build().await);
        let region = base.region().map_or_else(|| "us-east-1".to_owned(), |r| r.to_string());
        match self.sdk_audit(account.account_id.as_str(), &region, "sts") {
            Some(hook) => Found::Provider(SharedCredentialsProvider::new(AuditedProvider::new(
                provider,
                hook,
                "AssumeRole",
            ))),
            None => Found::Provider(provider),
        }
    }

    async fn profile(&self, account: &AccountConfig, attempts: &mut Vec<Attempt>) -> Found {
        let method = CredentialMethod::ProfileName;
        let Some(profile) = &account.profile_name else {
            attempts.push(skipped(method, "-", "no profile_name"));
            return Found::Skip;
        };
        let config = sdk_config(Some(profile), self.options.endpoint_url.as_deref()).await;
        match config.credentials_provider() {
            Some(provider) => {
                attempts.push(used(method, profile.clone()));
                Found::Provider(provider)
            }
            None => {
                let reason = format!("profile {profile:?} gives no credentials provider");
                attempts.push(failed(method, profile, &reason));
                Found::Fail(CredentialError::Source {
                    account: account.account_id.clone(),
                    method,
                    reason,
                })
            }
        }
    }

    fn file_keys(&self, account: &AccountConfig, attempts: &mut Vec<Attempt>) -> Found {
        let method = CredentialMethod::AccountsFileKeys;
        let (Some(key), Some(secret), Some(file)) =
            (&account.access_key_id, &account.secret_access_key, &self.file)
        else {
            attempts.push(skipped(method, "-", "no access_key_id in the accounts file"));
            return Found::Skip;
        };
        let target = file.display().to_string();
        if let Err(exposure) = file_keys::check_private(file) {
            let e = match exposure {
                file_keys::Exposure::Readable(mode) => {
                    CredentialError::FileTooOpen { file: file.clone(), mode }
                }
                file_keys::Exposure::TrackedByGit => {
                    CredentialError::FileTracked { file: file.clone() }
                }
                file_keys::Exposure::Unverifiable(reason) => {
                    CredentialError::FileUnverifiable { file: file.clone(), reason }
                }
            };
            attempts.push(failed(method, &target, &e.to_string()));
            return Found::Fail(e);
        }
        attempts.push(used(method, target));
        Found::Provider(static_provider(key, secret, account.session_token.as_ref(), "file"))
    }

    fn env_vars(&self, account: &AccountConfig, attempts: &mut Vec<Attempt>) -> Found {
        let method = CredentialMethod::EnvironmentVariables;
        let id = account.account_id.as_str();
        let last4 = &id[id.len() - 4..];
        let shared =
            self.ids.iter().any(|o| o != &account.account_id && o.as_str().ends_with(last4));
        for set in env_vars::variable_sets(id, account.account_name.as_deref(), shared) {
            match set.lookup(&self.env) {
                env_vars::Lookup::Absent => {
                    attempts.push(skipped(method, &set.key_id, "not set"));
                }
                env_vars::Lookup::Incomplete { missing } => {
                    let reason = format!("{} is set but {missing} is not", set.key_id);
                    attempts.push(failed(method, &set.key_id, &reason));
                    return Found::Fail(CredentialError::Source {
                        account: account.account_id.clone(),
                        method,
                        reason,
                    });
                }
                env_vars::Lookup::Found { key_id, secret, token } => {
                    attempts.push(used(method, set.key_id.clone()));
                    return Found::Provider(static_provider(
                        &key_id,
                        &secret,
                        token.as_ref(),
                        "environment",
                    ));
                }
            }
        }
        if shared {
            attempts.push(skipped(
                method,
                &format!("AWS_ACCESS_KEY_ID_{last4}"),
                "another account ends in the same four digits",
            ));
        }
        Found::Skip
    }

    async fn secrets_manager(&self, account: &AccountConfig, attempts: &mut Vec<Attempt>) -> Found {
        let method = CredentialMethod::SecretsManager;
        if !self.secrets_manager_on() {
            let why = format!(
                "off in the {} environment (turn on with --secrets-manager on)",
                self.environment
            );
            attempts.push(skipped(method, "-", &why));
            return Found::Skip;
        }
        let client = self
            .secrets
            .get_or_init(|| async {
                let region = self
                    .options
                    .secrets_region
                    .clone()
                    .or_else(|| self.env.get("AWS_REGION"))
                    .or_else(|| self.env.get("AWS_DEFAULT_REGION"))
                    .unwrap_or_else(|| "us-east-1".into());
                let base = self.base_config().await;
                let conf = aws_sdk_secretsmanager::config::Builder::from(base)
                    .region(SdkRegion::new(region))
                    .build();
                aws_sdk_secretsmanager::Client::from_conf(conf)
            })
            .await;
        // One client per account, so that its audit records name the
        // account whose credentials are looked for.
        let audited;
        let client = match &self.options.audit {
            Some(log) => {
                let region = client.config().region().map(ToString::to_string).unwrap_or_default();
                let id = account.account_id.as_str();
                let hook = SdkAudit::new(log.clone(), id, &region, "secretsmanager");
                let conf = client.config().to_builder().interceptor(hook).build();
                audited = aws_sdk_secretsmanager::Client::from_conf(conf);
                &audited
            }
            None => client,
        };
        let names = secrets_manager::candidate_names(
            &self.env,
            account.account_id.as_str(),
            account.account_name.as_deref(),
        );
        for name in names {
            match secrets_manager::fetch(client, &name).await {
                secrets_manager::Fetch::NotFound => {
                    attempts.push(skipped(method, &name, "no such secret"));
                }
                secrets_manager::Fetch::Failed(reason) => {
                    attempts.push(failed(method, &name, &reason));
                }
                secrets_manager::Fetch::Malformed(reason) => {
                    let reason = format!("secret {name}: {reason}");
                    attempts.push(failed(method, &name, &reason));
                    return Found::Fail(CredentialError::Source {
                        account: account.account_id.clone(),
                        method,
                        reason,
                    });
                }
                secrets_manager::Fetch::Keys(k) => {
                    attempts.push(used(method, name));
                    return Found::Provider(static_provider(
                        &k.key_id,
                        &k.secret,
                        k.token.as_ref(),
                        "secrets-manager",
                    ));
                }
            }
        }
        Found::Skip
    }

    async fn default_chain(&self, account: &AccountConfig, attempts: &mut Vec<Attempt>) -> Found {
        let method = CredentialMethod::DefaultChain;
        let Some(provider) = self.base_config().await.credentials_provider() else {
            attempts.push(skipped(method, "-", "no provider"));
            return Found::Skip;
        };
        // The chain is a source of last resort: it applies only when it
        // actually finds credentials.
        match provider.provide_credentials().await {
            Ok(_) => {
                attempts.push(used(method, "-"));
                Found::Provider(provider)
            }
            Err(e) => {
                let reason = error_chain(&e);
                attempts.push(skipped(method, "-", &reason));
                tracing::debug!(account = %account.account_id, "default chain: {reason}");
                Found::Skip
            }
        }
    }
}

fn used(method: CredentialMethod, target: impl Into<String>) -> Attempt {
    Attempt { method, target: target.into(), outcome: AttemptOutcome::Used, reason: None }
}

fn skipped(method: CredentialMethod, target: &str, reason: &str) -> Attempt {
    Attempt {
        method,
        target: target.into(),
        outcome: AttemptOutcome::Skipped,
        reason: Some(reason.into()),
    }
}

fn failed(method: CredentialMethod, target: &str, reason: &str) -> Attempt {
    Attempt {
        method,
        target: target.into(),
        outcome: AttemptOutcome::Failed,
        reason: Some(reason.into()),
    }
}

fn static_provider(
    key: &SecretString,
    secret: &SecretString,
    token: Option<&SecretString>,
    origin: &'static str,
) -> SharedCredentialsProvider {
    SharedCredentialsProvider::new(Credentials::new(
        key.expose(),
        secret.expose(),
        token.map(|t| t.expose().to_owned()),
        None,
        origin,
    ))
}

/// The SDK configuration for a named profile (its own credentials only,
/// never the global environment keys) or, without one, the default chain;
/// with the endpoint override when given.
pub async fn sdk_config(profile: Option<&str>, endpoint_url: Option<&str>) -> SdkConfig {
    let mut loader =
        aws_config::defaults(BehaviorVersion::latest()).region(SdkRegion::new("us-east-1"));
    if let Some(p) = profile {
        // The named profile alone: the default chain would put global
        // environment keys ahead of it.
        let provider_config = aws_config::provider_config::ProviderConfig::without_region()
            .with_region(Some(SdkRegion::new("us-east-1")));
        let provider = aws_config::profile::ProfileFileCredentialsProvider::builder()
            .profile_name(p)
            .configure(&provider_config)
            .build();
        loader = loader.profile_name(p).credentials_provider(provider);
    }
    if let Some(url) = endpoint_url {
        loader = loader.endpoint_url(url);
    }
    loader.load().await
}

/// Why there is no list of accounts to resolve.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AccountsSourceError {
    /// The accounts file is unusable.
    #[error(transparent)]
    File(#[from] crate::config::AccountsFileError),
    /// The organization could not be listed.
    #[error(transparent)]
    Organization(#[from] CredentialError),
    /// Neither a file nor an organization was given.
    #[error("no accounts to scan: give --accounts-file, --org-role-name, or both")]
    Nothing,
}

/// The accounts to scan, from the accounts file, the organization, or
/// both (the file's entries win), and the resolver for them.
pub async fn accounts_and_resolver(
    path: Option<&Path>,
    org: Option<&organizations::OrgOptions>,
    options: ResolveOptions,
) -> Result<(AccountsFile, Resolver), AccountsSourceError> {
    let mut file = match path {
        Some(p) => AccountsFile::load(p)?,
        None if org.is_some() => AccountsFile { accounts: Vec::new(), metadata: None },
        None => return Err(AccountsSourceError::Nothing),
    };
    let mut resolver = Resolver::new(&file, path, options);
    if let Some(org) = org {
        let added = resolver.discover_organization(&mut file, org).await?;
        tracing::info!(added, role = %org.role_name, "accounts added from the organization");
    }
    Ok((file, resolver))
}
