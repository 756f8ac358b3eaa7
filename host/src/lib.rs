//! inventag builds a bill of materials of everything an organisation runs
//! in AWS, across many accounts and regions.
//!
//! The host is split into rooms with narrow doors between them:
//!
//! - [`config`] reads the accounts file and nothing else;
//! - [`credentials`] turns an account into a credential source; no other
//!   module ever sees a secret;
//! - [`validator`] decides whether an AWS operation may be called at all;
//! - [`audit`] records every call and its verdict, and builds the
//!   compliance report;
//! - [`gateway`] is the only code that talks to AWS: it asks the validator,
//!   serialises, signs, sends, retries and parses every call;
//! - [`vetting`] decides which plugin files may run at all: those the
//!   lock file lists by digest or a trusted key signed;
//! - [`runtime`] runs collector and formatter plugins in wasmtime, giving
//!   them the gateway (collectors) or the BOM (formatters) and nothing else;
//! - [`scheduler`] fans targets (account × region × collector) out over the
//!   runtime and gathers records and coverage;
//! - [`output`] writes the formatters' documents inside one directory.
//!
//! [`run`] wires them together for `inventag run`; [`accounts_check`]
//! runs the credential part alone for `inventag accounts check`, and
//! [`call`] makes one read-only call for `inventag call`.

pub mod accounts_check;
pub mod audit;
pub mod bom;
pub mod call;
pub mod config;
pub mod credentials;
pub mod gateway;
pub mod output;
pub mod run;
pub mod runtime;
pub mod scheduler;
pub mod validator;
pub mod vetting;

/// The host's version, as shown in every BOM.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
