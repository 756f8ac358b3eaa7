//! Keys kept in AWS Secrets Manager, the documented way for CodeBuild. The
//! secrets are read with the base credentials (the default chain), one
//! name after another until one exists:
//!
//! 1. the name in `INVENTAG_SECRET_<ACCOUNT_NAME>` (the account name in its
//!    variable form, as for the per-account environment variables);
//! 2. `inventag/credentials/<account id>`;
//! 3. `inventag/credentials/<account name>`, as written when it is a valid
//!    secret name, then in its lower-case, hyphenated form
//!    (`Production Account` → `production-account`);
//! 4. `inventag/<account id>/credentials`;
//! 5. `inventag-<account id>`.
//!
//! The secret is a JSON object with `aws_access_key_id`,
//! `aws_secret_access_key` and an optional `aws_session_token`. Nothing of
//! its value ever reaches an error message.

use aws_sdk_secretsmanager::error::ProvideErrorMetadata;
use serde_json::Value;

use super::{env_vars::normalise_name, environment::Env};
use crate::config::SecretString;

/// The secret names to try for one account, in order, without repeats.
pub fn candidate_names(env: &Env, account_id: &str, name: Option<&str>) -> Vec<String> {
    let mut names = Vec::new();
    if let Some(var) = name.and_then(normalise_name).map(|n| format!("INVENTAG_SECRET_{n}")) {
        if let Some(chosen) = env.get(&var) {
            names.push(chosen);
        }
    }
    names.push(format!("inventag/credentials/{account_id}"));
    if let Some(name) = name {
        if is_valid_secret_name(name) {
            names.push(format!("inventag/credentials/{name}"));
        }
        if let Some(slug) = slug(name) {
            names.push(format!("inventag/credentials/{slug}"));
        }
    }
    names.push(format!("inventag/{account_id}/credentials"));
    names.push(format!("inventag-{account_id}"));
    let mut seen = std::collections::HashSet::new();
    names.retain(|n| seen.insert(n.clone()));
    names
}

/// Secrets Manager allows letters, digits and `/_+=.@-` in names.
fn is_valid_secret_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || "/_+=.@-".contains(c))
}

fn slug(name: &str) -> Option<String> {
    normalise_name(name).map(|n| n.to_ascii_lowercase().replace('_', "-"))
}

/// Keys read from a secret.
pub struct SecretKeys {
    /// The access key id.
    pub key_id: SecretString,
    /// The secret access key.
    pub secret: SecretString,
    /// The session token, if the secret has one.
    pub token: Option<SecretString>,
}

/// What reading one secret name gave.
pub enum Fetch {
    /// No secret by that name.
    NotFound,
    /// The secret exists and holds keys.
    Keys(SecretKeys),
    /// The secret exists but does not hold keys in the documented form;
    /// the reason names fields, never values.
    Malformed(String),
    /// The read failed for another reason (access denied, network).
    Failed(String),
}

/// Reads one secret.
#[tracing::instrument(name = "credentials.secrets_manager", skip_all, fields(secret = %name))]
pub async fn fetch(client: &aws_sdk_secretsmanager::Client, name: &str) -> Fetch {
    let output = match client.get_secret_value().secret_id(name).send().await {
        Ok(o) => o,
        Err(e) => {
            return match e.code() {
                Some("ResourceNotFoundException") => Fetch::NotFound,
                Some(code) => {
                    Fetch::Failed(format!("{code}: {}", e.message().unwrap_or("no message")))
                }
                None => Fetch::Failed(super::error_chain(&e)),
            };
        }
    };
    let Some(text) = output.secret_string() else {
        return Fetch::Malformed("the secret holds binary data, not a JSON string".into());
    };
    parse(text)
}

/// Parses a secret's text.
pub fn parse(text: &str) -> Fetch {
    let Ok(Value::Object(map)) = serde_json::from_str::<Value>(text) else {
        return Fetch::Malformed(
            "the secret is not a JSON object; store {\"aws_access_key_id\": ..., \
             \"aws_secret_access_key\": ..., \"aws_session_token\": ... (optional)}"
                .into(),
        );
    };
    let field = |name: &str| -> Result<Option<SecretString>, String> {
        match map.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(SecretString::new(s.clone()))),
            Some(_) => Err(format!("the field `{name}` must be a string")),
        }
    };
    let keys = (|| {
        let key_id = field("aws_access_key_id")?
            .ok_or_else(|| "the field `aws_access_key_id` is missing".to_owned())?;
        let secret = field("aws_secret_access_key")?
            .ok_or_else(|| "the field `aws_secret_access_key` is missing".to_owned())?;
        let token = field("aws_session_token")?;
        Ok::<_, String>(SecretKeys { key_id, secret, token })
    })();
    match keys {
        Ok(k) => Fetch::Keys(k),
        Err(reason) => Fetch::Malformed(reason),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_in_documented_order() {
        let env = Env::from_pairs([("INVENTAG_SECRET_PRODUCTION_ACCOUNT", "team/prod-keys")]);
        let names = candidate_names(&env, "123456789012", Some("Production Account"));
        assert_eq!(
            names,
            [
                "team/prod-keys",
                "inventag/credentials/123456789012",
                "inventag/credentials/production-account",
                "inventag/123456789012/credentials",
                "inventag-123456789012",
            ]
        );
        let plain = candidate_names(&Env::default(), "123456789012", Some("prod"));
        assert_eq!(plain[1], "inventag/credentials/prod");
        assert_eq!(plain.len(), 4);
    }

    #[test]
    fn malformed_secrets_name_fields_not_values() {
        for text in [
            "not json sentinel-value",
            r#"{"aws_access_key_id": "sentinel-value"}"#,
            r#"{"aws_access_key_id": 5, "aws_secret_access_key": "sentinel-value"}"#,
        ] {
            match parse(text) {
                Fetch::Malformed(reason) => assert!(!reason.contains("sentinel"), "{reason}"),
                _ => panic!("{text} was accepted"),
            }
        }
        assert!(matches!(
            parse(r#"{"aws_access_key_id": "a", "aws_secret_access_key": "b", "extra": 1}"#),
            Fetch::Keys(_)
        ));
    }
}
