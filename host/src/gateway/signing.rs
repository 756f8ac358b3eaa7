//! SigV4 signing of a wire request, through aws-sigv4. Returns only the
//! headers to add; the secret never leaves this function.

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::{
    http_request::{SignableBody, SignableRequest, SigningSettings, sign as sigv4_sign},
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
) -> Result<Vec<(String, String)>, String> {
    let identity: Identity = creds.clone().into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(signing_name)
        .time(SystemTime::now())
        .settings(SigningSettings::default())
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
