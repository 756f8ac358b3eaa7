//! Region names. A region reaches a host name in the gateway, so it is
//! checked for shape before anything else may use it.

use std::fmt;

/// A syntactically valid AWS region name such as `us-east-1` or
/// `us-gov-west-1`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Region(String);

/// A string that is not shaped like a region.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0:?} is not a region name (expected lower-case words and a number, like us-east-1)")]
pub struct RegionError(pub String);

impl Region {
    /// Checks `name`: two to four lower-case words joined by `-`, ending in
    /// a number. Dots, slashes, upper case and anything else are refused,
    /// so a region can never steer a request to another host.
    pub fn parse(name: &str) -> Result<Region, RegionError> {
        let parts: Vec<&str> = name.split('-').collect();
        let words_ok = parts.len() >= 3
            && parts.len() <= 5
            && parts[..parts.len() - 1].iter().all(|p| {
                !p.is_empty() && p.len() <= 12 && p.bytes().all(|b| b.is_ascii_lowercase())
            });
        let last = parts.last().copied().unwrap_or_default();
        let number_ok =
            !last.is_empty() && last.len() <= 2 && last.bytes().all(|b| b.is_ascii_digit());
        if words_ok && number_ok {
            Ok(Region(name.to_owned()))
        } else {
            Err(RegionError(name.to_owned()))
        }
    }

    /// The region name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The partition the region belongs to: `aws`, `aws-cn` or `aws-us-gov`.
    pub fn partition(&self) -> &'static str {
        if self.0.starts_with("cn-") {
            "aws-cn"
        } else if self.0.starts_with("us-gov-") {
            "aws-us-gov"
        } else {
            "aws"
        }
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_regions_parse() {
        for r in ["us-east-1", "eu-west-1", "ap-southeast-2", "us-gov-west-1", "cn-north-1"] {
            assert_eq!(Region::parse(r).unwrap().as_str(), r);
        }
    }

    #[test]
    fn host_steering_strings_are_refused() {
        for r in
            ["us-east-1.evil.example", "../x", "US-EAST-1", "us-east-1/", "", "us", "a-b-c-d-e-1"]
        {
            assert!(Region::parse(r).is_err(), "{r} should be refused");
        }
    }

    #[test]
    fn partition_follows_prefix() {
        assert_eq!(Region::parse("cn-north-1").unwrap().partition(), "aws-cn");
        assert_eq!(Region::parse("us-gov-east-1").unwrap().partition(), "aws-us-gov");
        assert_eq!(Region::parse("eu-west-1").unwrap().partition(), "aws");
    }
}
