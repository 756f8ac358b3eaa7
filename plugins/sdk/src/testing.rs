//! Helpers for the native unit tests of record builders: a target to
//! build records for, and a record's attributes as JSON.
//!
//! ```ignore
//! let r = volume(&testing::target("us-east-1"), &json!({"VolumeId": "vol-1"})).unwrap();
//! assert_eq!(testing::attributes(&r)["size_gib"], 8);
//! ```

use serde_json::Value;

use crate::collector::{Resource, Target};

/// The account every test target is in.
pub const ACCOUNT: &str = "111111111111";

/// A target of account [`ACCOUNT`] (named `prod`) in `region` of the `aws`
/// partition, for every part.
pub fn target(region: &str) -> Target {
    Target {
        account_id: ACCOUNT.to_string(),
        account_name: "prod".to_string(),
        region: region.to_string(),
        partition: "aws".to_string(),
        part: None,
    }
}

/// A record's attributes, parsed; panics when they are not JSON.
pub fn attributes(record: &Resource) -> Value {
    serde_json::from_str(&record.attributes).expect("the attributes are not JSON")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::ResourceBuilder;

    #[test]
    fn target_and_attributes() {
        let t = target("eu-west-1");
        assert_eq!((t.account_id.as_str(), t.region.as_str()), (ACCOUNT, "eu-west-1"));
        assert_eq!(t.part, None);
        let r = ResourceBuilder::new(&t, "s3", "bucket", "b").attribute("a", 1).build();
        assert_eq!(attributes(&r)["a"], 1);
    }
}
