//! Configuration the user hands to the host: today, the accounts file.
//!
//! Parsing is strict. A field the host does not know is an error naming the
//! field, because a misspelt `role_arn` silently ignored would scan with the
//! wrong credentials.

mod accounts;
mod region;

pub use accounts::{AccountConfig, AccountId, AccountsFile, AccountsFileError, SecretString};
pub use region::{Region, RegionError};
