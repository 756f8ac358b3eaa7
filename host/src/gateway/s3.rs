//! S3's quirks, kept in one place:
//!
//! - a bucket whose name is DNS-safe is addressed in the host name
//!   (`bucket.s3.eu-west-1.amazonaws.com`), others and every request to an
//!   endpoint override (a local moto) in the path;
//! - `GetBucketLocation` answers a bare `<LocationConstraint>` element,
//!   empty for `us-east-1` and `EU` for the oldest `eu-west-1` buckets.
//!   The gateway rewrites its output so that `LocationConstraint` is
//!   always the bucket's real region name: a collector can take it as is.
//!   [`bucket_region`] is the same rule for anyone holding a raw value;
//! - a request sent to the wrong region is answered 301 or 400 with the
//!   bucket's region in `x-amz-bucket-region`; the gateway retries it once
//!   there.

use serde_json::Value;

/// The region of a bucket from its location constraint: none or empty
/// means `us-east-1`, `EU` means `eu-west-1`.
pub fn bucket_region(location_constraint: Option<&str>) -> &str {
    match location_constraint.map(str::trim) {
        None | Some("") => "us-east-1",
        Some("EU") => "eu-west-1",
        Some(region) => region,
    }
}

/// Whether a bucket may be addressed in the host name over HTTPS: 3 to 63
/// lower-case letters, digits and hyphens, starting and ending with a
/// letter or digit. Names with dots would not match the TLS certificate.
pub fn virtual_host_bucket(name: &str) -> bool {
    let bytes = name.as_bytes();
    (3..=63).contains(&bytes.len())
        && bytes.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
}

/// Rewrites a parsed `GetBucketLocation` output so that
/// `LocationConstraint` holds the bucket's region name. The answer's root
/// element is the constraint itself, so its text is read from `body`.
pub(super) fn normalise_bucket_location(output: &mut Value, body: &[u8]) {
    let from_body = std::str::from_utf8(body)
        .ok()
        .and_then(|text| roxmltree::Document::parse(text).ok())
        .and_then(|doc| {
            let root = doc.root_element();
            (root.tag_name().name() == "LocationConstraint")
                .then(|| root.text().unwrap_or("").to_owned())
        });
    let parsed = output.get("LocationConstraint").and_then(Value::as_str).map(str::to_owned);
    let raw = from_body.or(parsed);
    let region = bucket_region(raw.as_deref()).to_owned();
    if let Value::Object(map) = output {
        map.insert("LocationConstraint".into(), Value::String(region));
    } else {
        *output = serde_json::json!({ "LocationConstraint": region });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_location_constraints_become_region_names() {
        assert_eq!(bucket_region(None), "us-east-1");
        assert_eq!(bucket_region(Some("")), "us-east-1");
        assert_eq!(bucket_region(Some("EU")), "eu-west-1");
        assert_eq!(bucket_region(Some("ap-south-1")), "ap-south-1");
        let mut out = serde_json::json!({});
        normalise_bucket_location(
            &mut out,
            br#"<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/"/>"#,
        );
        assert_eq!(out["LocationConstraint"], "us-east-1");
        let mut out = serde_json::json!({});
        normalise_bucket_location(&mut out, b"<LocationConstraint>EU</LocationConstraint>");
        assert_eq!(out["LocationConstraint"], "eu-west-1");
    }

    #[test]
    fn only_dns_safe_names_go_in_the_host() {
        assert!(virtual_host_bucket("my-bucket-1"));
        for name in ["My.Bucket", "a.b.c", "ab", "-bucket", "bucket-", "under_score"] {
            assert!(!virtual_host_bucket(name), "{name}");
        }
    }
}
