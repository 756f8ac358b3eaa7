//! SigV4 signing of a wire request, through aws-sigv4. Returns only the
//! headers to add; the secret never leaves this function.
//!
//! S3 differs from the other services: it wants the payload's SHA-256 in
//! `x-amz-content-sha256`, and it checks the signature over the path
//! exactly as sent (encoded once, never normalised).

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::{
    http_request::{
        PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SigningSettings,
        UriPathNormalizationMode, sign as sigv4_sign,
    },
    sign::v4,
};
use aws_smithy_runtime_api::client::identity::Identity;

use super::protocol::WireRequest;

/// The signature headers for `request` sent to `url`.
pub(super) fn sign(
    request: &WireRequest,
    url: &str,
    region: &str,
    signing_name: &str,
    creds: &Credentials,
    s3: bool,
) -> Result<Vec<(String, String)>, String> {
    let identity: Identity = creds.clone().into();
    let mut settings = SigningSettings::default();
    if s3 {
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    }
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(signing_name)
        .time(SystemTime::now())
        .settings(settings)
        .build()
        .map_err(|e| e.to_string())?
        .into();
    let signable = SignableRequest::new(
        request.method,
        url,
        request.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Bytes(&request.body),
    )
    .map_err(|e| e.to_string())?;
    let (instructions, _signature) =
        sigv4_sign(signable, &params).map_err(|e| e.to_string())?.into_parts();
    Ok(instructions.headers().map(|(k, v)| (k.to_owned(), v.to_owned())).collect())
}
