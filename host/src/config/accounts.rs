//! The accounts file, in the shape the credential security guide shows:
//! an `accounts` list, each entry naming one AWS account, how to reach it
//! and which regions to scan. JSON and YAML are both accepted.

use std::{
    collections::HashSet,
    fmt,
    path::{Path, PathBuf},
};

use serde::{Deserialize, Deserializer, de};

use super::region::Region;

/// A 12-digit AWS account id, always held as text: ids with leading zeros
/// are common and a number would lose them.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountId(String);

impl AccountId {
    /// Checks that `text` is exactly twelve ASCII digits.
    pub fn parse(text: &str) -> Result<AccountId, String> {
        if text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit()) {
            Ok(AccountId(text.to_owned()))
        } else {
            Err(format!("{text:?} is not a 12-digit account id"))
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccountId({})", self.0)
    }
}

impl<'de> Deserialize<'de> for AccountId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl Visitor {
            fn number<E: de::Error>(shown: String) -> E {
                E::custom(format!(
                    "read the number {shown}; an account id must be a quoted 12-digit string \
                     (a number loses leading zeros), e.g. \"012345678901\""
                ))
            }
        }
        impl de::Visitor<'_> for Visitor {
            type Value = AccountId;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a quoted 12-digit account id")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<AccountId, E> {
                AccountId::parse(v).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<AccountId, E> {
                Err(Self::number(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<AccountId, E> {
                Err(Self::number(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<AccountId, E> {
                Err(Self::number(v.to_string()))
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// Text that must never be shown: `Debug` and `Display` print a mask.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct SecretString(String);

impl SecretString {
    /// Wraps a secret.
    pub fn new(value: String) -> SecretString {
        SecretString(value)
    }

    /// The secret itself, for the one place that hands it to a signer.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretString(***)")
    }
}

/// One account entry of the accounts file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountConfig {
    /// The 12-digit account id.
    pub account_id: AccountId,
    /// A display name; defaults to the account id.
    #[serde(default)]
    pub account_name: Option<String>,
    /// A profile in the AWS shared config files to reach the account with.
    #[serde(default)]
    pub profile_name: Option<String>,
    /// Regions to scan; the command line's `--regions` overrides them.
    #[serde(default, deserialize_with = "regions")]
    pub regions: Option<Vec<Region>>,
    /// A role to assume in the account.
    #[serde(default)]
    pub role_arn: Option<String>,
    /// The external id the role's trust policy demands.
    #[serde(default)]
    pub external_id: Option<SecretString>,
    /// An access key id given in the file itself.
    #[serde(default)]
    pub access_key_id: Option<SecretString>,
    /// The secret key matching `access_key_id`.
    #[serde(default)]
    pub secret_access_key: Option<SecretString>,
    /// A session token for temporary keys.
    #[serde(default)]
    pub session_token: Option<SecretString>,
}

impl AccountConfig {
    /// The display name, or the id when none was given.
    pub fn name(&self) -> &str {
        self.account_name.as_deref().unwrap_or(self.account_id.as_str())
    }
}

fn regions<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<Region>>, D::Error> {
    let names: Option<Vec<String>> = Option::deserialize(d)?;
    names
        .map(|names| names.iter().map(|n| Region::parse(n).map_err(de::Error::custom)).collect())
        .transpose()
}

/// The whole accounts file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountsFile {
    /// The accounts to scan.
    pub accounts: Vec<AccountConfig>,
    /// Free-form notes, such as the guide's `credential_management`; kept
    /// out of the scan.
    #[serde(default)]
    pub metadata: Option<serde_json::Value>,
}

/// Why an accounts file could not be used. Every variant names the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AccountsFileError {
    /// The file could not be read.
    #[error("{file}: cannot read the accounts file: {reason}")]
    Read {
        /// The file.
        file: PathBuf,
        /// The reason.
        reason: std::io::Error,
    },
    /// The file is not valid JSON or YAML.
    #[error("{file}: not valid {format}: {message}")]
    Syntax {
        /// The file.
        file: PathBuf,
        /// `JSON` or `YAML`.
        format: &'static str,
        /// The parser's message, with its line and column.
        message: String,
    },
    /// A field is unknown, missing or holds a wrong value.
    #[error("{file}: field `{field}`: {message}")]
    Field {
        /// The file.
        file: PathBuf,
        /// The field's path, like `accounts[0].account_id`.
        field: String,
        /// What was wrong and what to write instead.
        message: String,
    },
}

impl AccountsFile {
    /// Reads and checks an accounts file. The format is taken from the
    /// extension (`.yaml`/`.yml` for YAML, anything else JSON).
    pub fn load(path: &Path) -> Result<AccountsFile, AccountsFileError> {
        let text = std::fs::read_to_string(path)
            .map_err(|reason| AccountsFileError::Read { file: path.to_owned(), reason })?;
        // A byte-order mark some editors write is not part of the document.
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        let yaml = matches!(
            path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref(),
            Some("yaml" | "yml")
        );
        let parsed = if yaml { Self::from_yaml(text) } else { Self::from_json(text) };
        let file = parsed.map_err(|e| e.with_file(path))?;
        file.check().map_err(|e| e.with_file(path))?;
        Ok(file)
    }

    fn from_json(text: &str) -> Result<AccountsFile, AccountsFileError> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| AccountsFileError::Syntax {
                file: PathBuf::new(),
                format: "JSON",
                message: e.to_string(),
            })?;
        check_shape(&value)?;
        let de = &mut serde_json::Deserializer::from_str(text);
        serde_path_to_error::deserialize(de)
            .map_err(|e| field_error(e.path().to_string(), e.inner().to_string()))
    }

    fn from_yaml(text: &str) -> Result<AccountsFile, AccountsFileError> {
        // A syntax error is found before any field is visited.
        let value: serde_yaml::Value =
            serde_yaml::from_str(text).map_err(|e| AccountsFileError::Syntax {
                file: PathBuf::new(),
                format: "YAML",
                message: e.to_string(),
            })?;
        let value = serde_json::to_value(&value).map_err(|e| AccountsFileError::Syntax {
            file: PathBuf::new(),
            format: "YAML",
            message: format!("not representable as an accounts file: {e}"),
        })?;
        check_shape(&value)?;
        let de = serde_yaml::Deserializer::from_str(text);
        serde_path_to_error::deserialize(de)
            .map_err(|e| field_error(e.path().to_string(), e.inner().to_string()))
    }

    fn check(&self) -> Result<(), AccountsFileError> {
        if self.accounts.is_empty() {
            return Err(field_error(
                "accounts".into(),
                "lists no account; add at least one".into(),
            ));
        }
        let mut seen = HashSet::new();
        for (i, account) in self.accounts.iter().enumerate() {
            if !seen.insert(&account.account_id) {
                return Err(field_error(
                    format!("accounts[{i}].account_id"),
                    format!("account {} is listed twice; keep one entry", account.account_id),
                ));
            }
            let keys = (&account.access_key_id, &account.secret_access_key);
            if keys.0.is_some() != keys.1.is_some() {
                let missing = if keys.0.is_none() { "access_key_id" } else { "secret_access_key" };
                return Err(field_error(
                    format!("accounts[{i}].{missing}"),
                    "access_key_id and secret_access_key must be given together".into(),
                ));
            }
            if account.regions.as_ref().is_some_and(Vec::is_empty) {
                return Err(field_error(
                    format!("accounts[{i}].regions"),
                    "lists no region; name at least one, or leave `regions` out to scan every \
                     region enabled for the account"
                        .into(),
                ));
            }
            if account.account_name.as_deref().is_some_and(|n| n.trim().is_empty()) {
                return Err(field_error(
                    format!("accounts[{i}].account_name"),
                    "is empty; give a name or leave the field out".into(),
                ));
            }
            if keys.0.is_some() {
                let other = if account.role_arn.is_some() {
                    Some("role_arn")
                } else if account.profile_name.is_some() {
                    Some("profile_name")
                } else {
                    None
                };
                if let Some(other) = other {
                    return Err(field_error(
                        format!("accounts[{i}].access_key_id"),
                        format!(
                            "the account gives both keys and {other}; keep one way to reach it \
                             (keys in the file are the least safe)"
                        ),
                    ));
                }
            }
            if account.external_id.is_some() && account.role_arn.is_none() {
                return Err(field_error(
                    format!("accounts[{i}].external_id"),
                    "an external_id needs a role_arn to go with it".into(),
                ));
            }
        }
        Ok(())
    }

    /// Whether any account carries keys in the file itself.
    pub fn holds_keys(&self) -> bool {
        self.accounts.iter().any(|a| a.access_key_id.is_some())
    }
}

/// Checks what serde would otherwise let through: every account is an
/// object with named fields (serde also takes a positional list), and
/// every `account_id` is text (a YAML id written without quotes is a
/// number, and YAML 1.1 tools read some as octal).
fn check_shape(value: &serde_json::Value) -> Result<(), AccountsFileError> {
    use serde_json::Value;
    let Value::Object(top) = value else {
        return Err(field_error(
            "(top level)".into(),
            "must be an object like {\"accounts\": [{\"account_id\": \"123456789012\"}]}".into(),
        ));
    };
    let Some(accounts) = top.get("accounts") else { return Ok(()) };
    let Value::Array(accounts) = accounts else {
        return Err(field_error("accounts".into(), "must be a list of accounts".into()));
    };
    for (i, account) in accounts.iter().enumerate() {
        let Value::Object(fields) = account else {
            return Err(field_error(
                format!("accounts[{i}]"),
                "must be an object with named fields, like {\"account_id\": \"123456789012\"}"
                    .into(),
            ));
        };
        if let Some(Value::Number(n)) = fields.get("account_id") {
            return Err(field_error(
                format!("accounts[{i}].account_id"),
                format!(
                    "read the unquoted number {n}; an account id must be a quoted 12-digit \
                     string (a number loses leading zeros), e.g. account_id: \"012345678901\""
                ),
            ));
        }
    }
    Ok(())
}

fn field_error(path: String, message: String) -> AccountsFileError {
    // serde_path_to_error writes `.` for the root and `accounts[0].x`
    // below it; the root is shown as the file's top level.
    let field = if path == "." || path.is_empty() { "(top level)".into() } else { path };
    AccountsFileError::Field { file: PathBuf::new(), field, message }
}

impl AccountsFileError {
    fn with_file(mut self, path: &Path) -> AccountsFileError {
        match &mut self {
            AccountsFileError::Read { file, .. }
            | AccountsFileError::Syntax { file, .. }
            | AccountsFileError::Field { file, .. } => *file = path.to_owned(),
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(text: &str) -> Result<AccountsFile, AccountsFileError> {
        AccountsFile::from_json(text).and_then(|f| f.check().map(|_| f))
    }

    fn field_of(err: AccountsFileError) -> (String, String) {
        match err {
            AccountsFileError::Field { field, message, .. } => (field, message),
            other => panic!("expected a field error, got {other}"),
        }
    }

    #[test]
    fn guide_shape_parses() {
        let f = json(
            r#"{"accounts":[{"account_id":"012345678901","account_name":"Prod",
            "profile_name":"prod","regions":["us-east-1","us-west-2"]}]}"#,
        )
        .unwrap();
        assert_eq!(f.accounts[0].account_id.as_str(), "012345678901");
        assert_eq!(f.accounts[0].regions.as_ref().unwrap().len(), 2);
    }

    #[test]
    fn numeric_account_id_is_refused_with_what_was_read() {
        let (field, msg) =
            field_of(json(r#"{"accounts":[{"account_id":123456789012}]}"#).unwrap_err());
        assert_eq!(field, "accounts[0].account_id");
        assert!(msg.contains("123456789012") && msg.contains("quoted"), "{msg}");
    }

    #[test]
    fn short_account_id_is_refused() {
        let (field, msg) = field_of(json(r#"{"accounts":[{"account_id":"12345"}]}"#).unwrap_err());
        assert_eq!(field, "accounts[0].account_id");
        assert!(msg.contains("\"12345\""), "{msg}");
    }

    #[test]
    fn unknown_field_is_named() {
        let err =
            json(r#"{"accounts":[{"account_id":"123456789012","role_arm":"x"}]}"#).unwrap_err();
        let (field, msg) = field_of(err);
        assert!(field.starts_with("accounts[0]"), "{field}");
        assert!(msg.contains("role_arm"), "{msg}");
    }

    #[test]
    fn leading_zero_yaml_id_keeps_its_zero() {
        // YAML 1.2 reads a plain 012345678901 as text, zero kept; a YAML 1.1
        // tool would read octal, which is why the README asks for quotes.
        let f = AccountsFile::from_yaml("accounts:\n  - account_id: 012345678901\n").unwrap();
        assert_eq!(f.accounts[0].account_id.as_str(), "012345678901");
    }

    #[test]
    fn unquoted_yaml_ids_are_refused_and_quoted_ones_kept() {
        let err = AccountsFile::from_yaml(
            "accounts:\n  - account_id: \"111111111111\"\n  - {account_id: 123456789012}\n",
        )
        .unwrap_err();
        let (field, msg) = field_of(err);
        assert_eq!(field, "accounts[1].account_id");
        assert!(msg.contains("123456789012"), "{msg}");
        let ok = AccountsFile::from_yaml("accounts:\n  - account_id: '012345678901'\n").unwrap();
        assert_eq!(ok.accounts[0].account_id.as_str(), "012345678901");
    }

    #[test]
    fn bad_region_is_refused() {
        let (field, msg) = field_of(
            json(r#"{"accounts":[{"account_id":"123456789012","regions":["../x"]}]}"#).unwrap_err(),
        );
        assert_eq!(field, "accounts[0].regions");
        assert!(msg.contains("../x"), "{msg}");
    }

    #[test]
    fn positional_accounts_are_refused() {
        let (field, msg) =
            field_of(json(r#"{"accounts":[["111111111111","222222222222"]]}"#).unwrap_err());
        assert_eq!(field, "accounts[0]");
        assert!(msg.contains("named fields"), "{msg}");
    }

    #[test]
    fn empty_regions_and_mixed_sources_are_refused() {
        let (field, _) = field_of(
            json(r#"{"accounts":[{"account_id":"123456789012","regions":[]}]}"#).unwrap_err(),
        );
        assert_eq!(field, "accounts[0].regions");
        let (field, msg) = field_of(
            json(
                r#"{"accounts":[{"account_id":"123456789012","profile_name":"p",
                "access_key_id":"AKIAIOSFODNN7EXAMPLE","secret_access_key":"x"}]}"#,
            )
            .unwrap_err(),
        );
        assert_eq!(field, "accounts[0].access_key_id");
        assert!(msg.contains("profile_name"), "{msg}");
    }

    #[test]
    fn yaml_comments_and_strings_mentioning_account_id_are_fine() {
        let f = AccountsFile::from_yaml(
            "# account_id: 111111111111 (old)\naccounts:\n  - account_id: \"222222222222\"\n    \
             account_name: \"note account_id: 5\"\n",
        )
        .unwrap();
        assert_eq!(f.accounts[0].account_id.as_str(), "222222222222");
    }

    #[test]
    fn debug_never_shows_secrets() {
        let f = json(
            r#"{"accounts":[{"account_id":"123456789012","access_key_id":"AKIASENTINEL",
            "secret_access_key":"sentinel-secret"},{"account_id":"210987654321",
            "role_arn":"arn:aws:iam::210987654321:role/r","external_id":"sentinel-ext"}]}"#,
        )
        .unwrap();
        let shown = format!("{f:?}");
        assert!(!shown.contains("SENTINEL") && !shown.contains("sentinel"), "{shown}");
    }
}
