//! The bill of materials as the host holds it: resources, the coverage of
//! every target, and the run's metadata. Plugins see the same data through
//! the WIT records; this is the host's side of that contract.

mod store;

use serde::{Deserialize, Serialize};

pub use store::{Normalised, ResourceStore, StoreError};

/// One tag, order kept, empty values kept.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    /// The tag key.
    pub key: String,
    /// The tag value, possibly empty.
    pub value: String,
}

/// One resource in the BOM.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Resource {
    /// The owning account.
    pub account_id: String,
    /// The region, or `global`.
    pub region: String,
    /// The AWS service.
    pub service: String,
    /// The type within the service.
    pub resource_type: String,
    /// AWS's identifier.
    pub id: String,
    /// The ARN, when known.
    pub arn: Option<String>,
    /// A display name.
    pub name: Option<String>,
    /// The lifecycle state.
    pub state: Option<String>,
    /// Creation time, ISO-8601 UTC.
    pub created_at: Option<String>,
    /// Tags in AWS's order.
    pub tags: Vec<Tag>,
    /// The type's attributes, a JSON object as text.
    pub attributes: String,
}

impl Resource {
    /// The key that orders a BOM and finds duplicates: the ARN when there
    /// is one, else account, region, service, type and id.
    pub fn identity(&self) -> String {
        match &self.arn {
            Some(arn) => arn.clone(),
            None => format!(
                "{}/{}/{}/{}/{}",
                self.account_id, self.region, self.service, self.resource_type, self.id
            ),
        }
    }
}

/// How a target ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Collected in full.
    Ok,
    /// Refused by the validator or by AWS.
    Denied,
    /// AWS kept throttling after the retries; what came is kept.
    Throttled,
    /// The region is disabled or not opted in for the account.
    RegionDisabled,
    /// The collector needs something this host does not support.
    Unsupported,
    /// Partly collected.
    Incomplete,
    /// Nothing collected.
    Failed,
}

/// The coverage record of one target.
#[derive(Clone, Debug, Serialize)]
pub struct TargetCoverage {
    /// The account id.
    pub account_id: String,
    /// The account's display name.
    pub account_name: String,
    /// The region, or `global`.
    pub region: String,
    /// The collector as `name@version`, or `host` for the host's own steps
    /// (credentials, region discovery).
    pub collector: String,
    /// How it ended.
    pub outcome: Outcome,
    /// Resources contributed.
    pub resources: u64,
    /// Reasons and warnings.
    pub messages: Vec<String>,
}

/// Facts about the run.
#[derive(Clone, Debug, Serialize)]
pub struct RunMetadata {
    /// The run's unique id.
    pub run_id: String,
    /// Start time, ISO-8601 UTC.
    pub started_at: String,
    /// End of collection, ISO-8601 UTC.
    pub finished_at: String,
    /// The host's version.
    pub inventag_version: String,
    /// Where the run happened (`local`, `github-actions`, ...).
    pub environment: String,
    /// The accounts of the accounts file.
    pub accounts: Vec<AccountRef>,
    /// Regions scanned.
    pub regions: Vec<String>,
    /// Collectors that ran, `name@version`.
    pub collectors: Vec<String>,
}

/// One account of a run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AccountRef {
    /// The 12-digit id.
    pub account_id: String,
    /// The display name.
    pub account_name: String,
    /// The credential method that won, if one did.
    pub credential_method: Option<String>,
}

/// A finished collection: what the formatters are given.
#[derive(Debug, Default)]
pub struct Bom {
    /// Resources; sorted by account, region, service, type and id once
    /// [`Bom::normalise`] ran.
    pub resources: ResourceStore,
    /// One entry per target.
    pub coverage: Vec<TargetCoverage>,
}

impl Bom {
    /// Sorts the resources into their published order and keeps one record
    /// per identity (see [`ResourceStore::normalise`]: a service
    /// collector's record wins over the tagging collector's, taking the
    /// tags it lacked).
    pub fn normalise(&mut self) -> Result<Normalised, StoreError> {
        let done = self.resources.normalise()?;
        self.coverage.sort_by(|a, b| {
            (&a.account_id, &a.region, &a.collector).cmp(&(&b.account_id, &b.region, &b.collector))
        });
        Ok(done)
    }

    /// Whether every target ended `ok`.
    pub fn complete(&self) -> bool {
        self.coverage.iter().all(|c| c.outcome == Outcome::Ok)
    }
}

/// Now, as ISO-8601 UTC with seconds.
pub fn now_iso8601() -> String {
    use aws_smithy_types::date_time::{DateTime, Format};
    let now = DateTime::from(std::time::SystemTime::now());
    let secs = DateTime::from_secs(now.secs());
    secs.fmt(Format::DateTime).unwrap_or_else(|_| now.secs().to_string())
}
