//! Per-account keys in environment variables, the way CI systems inject
//! secrets (GitHub secrets, Jenkins credentials). Four naming patterns are
//! tried in a fixed order; each names its key id, secret key and optional
//! session token variables:
//!
//! | pattern      | key id variable                  |
//! |--------------|----------------------------------|
//! | account id   | `AWS_ACCESS_KEY_ID_123456789012` |
//! | account name | `AWS_ACCESS_KEY_ID_PRODUCTION`   |
//! | reversed     | `PRODUCTION_AWS_ACCESS_KEY_ID`   |
//! | last 4 digits| `AWS_ACCESS_KEY_ID_9012`         |
//!
//! The account name is upper-cased and every run of characters other than
//! `A-Z` and `0-9` becomes one underscore, trimmed at both ends:
//! `Production Account` → `PRODUCTION_ACCOUNT`.

use super::environment::Env;
use crate::config::SecretString;

/// One naming pattern's three variable names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VariableSet {
    /// Which pattern this is, for reports.
    pub pattern: &'static str,
    /// The access key id variable.
    pub key_id: String,
    /// The secret access key variable.
    pub secret: String,
    /// The session token variable.
    pub token: String,
}

/// The variable-name form of an account name; `None` when nothing of it
/// survives (a name of only punctuation).
pub fn normalise_name(name: &str) -> Option<String> {
    let mut out = String::with_capacity(name.len());
    let mut gap = false;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            if gap && !out.is_empty() {
                out.push('_');
            }
            gap = false;
            out.push(c.to_ascii_uppercase());
        } else {
            gap = true;
        }
    }
    (!out.is_empty()).then_some(out)
}

/// The patterns for one account, in the order they are tried. The name
/// patterns are left out when the account has no name of its own, and the
/// last-4 pattern when another account in the file ends in the same four
/// digits (it would be ambiguous).
pub fn variable_sets(account_id: &str, name: Option<&str>, last4_shared: bool) -> Vec<VariableSet> {
    let suffixed = |pattern, suffix: &str| VariableSet {
        pattern,
        key_id: format!("AWS_ACCESS_KEY_ID_{suffix}"),
        secret: format!("AWS_SECRET_ACCESS_KEY_{suffix}"),
        token: format!("AWS_SESSION_TOKEN_{suffix}"),
    };
    let mut sets = vec![suffixed("account id", account_id)];
    if let Some(upper) = name.and_then(normalise_name) {
        sets.push(suffixed("account name", &upper));
        sets.push(VariableSet {
            pattern: "account name first",
            key_id: format!("{upper}_AWS_ACCESS_KEY_ID"),
            secret: format!("{upper}_AWS_SECRET_ACCESS_KEY"),
            token: format!("{upper}_AWS_SESSION_TOKEN"),
        });
    }
    if !last4_shared && account_id.len() >= 4 {
        sets.push(suffixed("last 4 digits", &account_id[account_id.len() - 4..]));
    }
    sets
}

/// What one pattern found.
#[derive(Debug)]
pub enum Lookup {
    /// Neither variable is set.
    Absent,
    /// A key id without its secret, or the reverse: names the missing one.
    Incomplete {
        /// The variable that is missing.
        missing: String,
    },
    /// Both set.
    Found {
        /// The key id.
        key_id: SecretString,
        /// The secret key.
        secret: SecretString,
        /// The session token, if set.
        token: Option<SecretString>,
    },
}

impl VariableSet {
    /// Reads this pattern's variables.
    pub fn lookup(&self, env: &Env) -> Lookup {
        match (env.get(&self.key_id), env.get(&self.secret)) {
            (None, None) => Lookup::Absent,
            (Some(_), None) => Lookup::Incomplete { missing: self.secret.clone() },
            (None, Some(_)) => Lookup::Incomplete { missing: self.key_id.clone() },
            (Some(key_id), Some(secret)) => Lookup::Found {
                key_id: SecretString::new(key_id),
                secret: SecretString::new(secret),
                token: env.get(&self.token).map(SecretString::new),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_normalised() {
        assert_eq!(normalise_name("Production Account").as_deref(), Some("PRODUCTION_ACCOUNT"));
        assert_eq!(normalise_name("  dev--test (EU) ").as_deref(), Some("DEV_TEST_EU"));
        assert_eq!(normalise_name("ops'").as_deref(), Some("OPS"));
        assert_eq!(normalise_name("Zürich 2").as_deref(), Some("Z_RICH_2"));
        assert_eq!(normalise_name("---"), None);
    }

    #[test]
    fn four_patterns_in_order() {
        let sets = variable_sets("123456789012", Some("Production Account"), false);
        let keys: Vec<&str> = sets.iter().map(|s| s.key_id.as_str()).collect();
        assert_eq!(
            keys,
            [
                "AWS_ACCESS_KEY_ID_123456789012",
                "AWS_ACCESS_KEY_ID_PRODUCTION_ACCOUNT",
                "PRODUCTION_ACCOUNT_AWS_ACCESS_KEY_ID",
                "AWS_ACCESS_KEY_ID_9012",
            ]
        );
        assert_eq!(sets[2].secret, "PRODUCTION_ACCOUNT_AWS_SECRET_ACCESS_KEY");
        assert_eq!(sets[3].token, "AWS_SESSION_TOKEN_9012");
    }

    #[test]
    fn shared_last_digits_and_missing_names_drop_patterns() {
        let sets = variable_sets("123456789012", None, true);
        assert_eq!(sets.len(), 1);
    }

    #[test]
    fn half_a_pair_names_the_missing_variable() {
        let set = &variable_sets("123456789012", None, false)[0];
        let env = Env::from_pairs([("AWS_ACCESS_KEY_ID_123456789012", "AKIA")]);
        match set.lookup(&env) {
            Lookup::Incomplete { missing } => {
                assert_eq!(missing, "AWS_SECRET_ACCESS_KEY_123456789012")
            }
            other => panic!("{other:?}"),
        }
    }
}
