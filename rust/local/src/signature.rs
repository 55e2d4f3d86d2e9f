//! SigV4 checked as the service checks it, when the store is given credentials (`--credentials`): the request's
//! `Authorization` is parsed, its access key looked up, its time and scope checked, and its signature computed
//! again by AWS's own implementation (`aws-sigv4`) from the headers the client says it signed and the body as
//! received. Off by default, so that any client with any credentials works out of the box.
//!
//! Errors are answered as the service answers them: `MissingAuthenticationTokenException`,
//! `IncompleteSignatureException`, `UnrecognizedClientException` (unknown key or wrong session token),
//! `InvalidSignatureException` (wrong secret, scope, or a clock more than five minutes off).

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_smithy_runtime_api::client::identity::Identity;
use http::HeaderMap;
use time::PrimitiveDateTime;
use time::macros::format_description;

use crate::error::{ErrorCode, ServiceError};

/// The signing name of both the control plane and the runtime.
const SERVICE: &str = "sagemaker";
/// How far a request's time may be from the store's clock.
const MAX_SKEW: Duration = Duration::from_secs(5 * 60);

/// A key pair (and session token) the store accepts, until it expires if it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptedKey {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
    /// From then on, requests signed with the key are answered ExpiredTokenException, as the service answers
    /// temporary credentials past their expiry.
    pub expires_at: Option<SystemTime>,
}

impl AcceptedKey {
    /// `ACCESS_KEY:SECRET[:SESSION_TOKEN[:EXPIRES]]` (EXPIRES in seconds since the epoch), the value of
    /// `--credentials`.
    pub fn parse(text: &str) -> Result<AcceptedKey, String> {
        let mut parts = text.splitn(4, ':');
        let (Some(id), Some(secret)) = (parts.next(), parts.next()) else {
            return Err(format!(
                "expected ACCESS_KEY:SECRET[:SESSION_TOKEN[:EXPIRES]], got '{text}'"
            ));
        };
        if id.is_empty() || secret.is_empty() {
            return Err("the access key and the secret must not be empty".into());
        }
        let session_token = parts.next().filter(|t| !t.is_empty()).map(str::to_owned);
        let expires_at = match parts.next() {
            None => None,
            Some(seconds) => Some(
                seconds
                    .parse::<u64>()
                    .map(|s| SystemTime::UNIX_EPOCH + Duration::from_secs(s))
                    .map_err(|_| format!("EXPIRES must be seconds since the epoch, got '{seconds}'"))?,
            ),
        };
        Ok(AcceptedKey {
            access_key_id: id.to_owned(),
            secret_access_key: secret.to_owned(),
            session_token,
            expires_at,
        })
    }
}

/// What a request brings to be checked: everything but the body is taken before the body is read.
#[derive(Debug)]
pub struct SignedRequest {
    pub method: String,
    /// Path and query as received (still percent-encoded).
    pub path_and_query: String,
    pub headers: HeaderMap,
}

fn incomplete(message: impl Into<String>) -> ServiceError {
    ServiceError::new(ErrorCode::IncompleteSignatureException, message)
}

fn invalid(message: impl Into<String>) -> ServiceError {
    ServiceError::new(ErrorCode::InvalidSignatureException, message)
}

fn unrecognized() -> ServiceError {
    ServiceError::new(
        ErrorCode::UnrecognizedClientException,
        "The security token included in the request is invalid.",
    )
}

/// `Credential=AKID/20261204/us-east-1/sagemaker/aws4_request, SignedHeaders=a;b, Signature=hex`
struct Authorization<'a> {
    access_key_id: &'a str,
    date: &'a str,
    region: &'a str,
    service: &'a str,
    signed_headers: Vec<&'a str>,
    signature: &'a str,
}

/// The access key id a SigV4 `Authorization` header names (`Credential=<key>/<scope>`), if it names one.
pub fn access_key_id(authorization: &str) -> Option<&str> {
    let credential = authorization.split_once("Credential=")?.1;
    let key = credential.split('/').next()?;
    (!key.is_empty()).then_some(key)
}

fn parse_authorization(value: &str) -> Result<Authorization<'_>, ServiceError> {
    let rest = value.strip_prefix("AWS4-HMAC-SHA256 ").ok_or_else(|| {
        incomplete(format!(
            "Authorization header requires the AWS4-HMAC-SHA256 algorithm, got '{}'",
            value.split(' ').next().unwrap_or_default()
        ))
    })?;
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in rest.split(',') {
        match part.trim().split_once('=') {
            Some(("Credential", v)) => credential = Some(v),
            Some(("SignedHeaders", v)) => signed_headers = Some(v),
            Some(("Signature", v)) => signature = Some(v),
            _ => {}
        }
    }
    let missing = |name: &str| incomplete(format!("Authorization header requires '{name}' parameter."));
    let credential = credential.ok_or_else(|| missing("Credential"))?;
    let signed_headers = signed_headers.ok_or_else(|| missing("SignedHeaders"))?;
    let signature = signature.ok_or_else(|| missing("Signature"))?;
    let scope: Vec<&str> = credential.split('/').collect();
    let [access_key_id, date, region, service, terminator] = scope[..] else {
        return Err(incomplete(format!(
            "Credential '{credential}' is not ACCESS_KEY/DATE/REGION/SERVICE/aws4_request"
        )));
    };
    if terminator != "aws4_request" {
        return Err(invalid(
            "Credential should be scoped with a valid terminator: 'aws4_request'",
        ));
    }
    Ok(Authorization {
        access_key_id,
        date,
        region,
        service,
        signed_headers: signed_headers.split(';').collect(),
        signature,
    })
}

/// `X-Amz-Date`'s basic ISO 8601 form, e.g. `20261204T101010Z`.
const AMZ_DATE: &[time::format_description::BorrowedFormatItem<'_>] =
    format_description!("[year][month][day]T[hour][minute][second]Z");

fn parse_amz_date(text: &str) -> Option<SystemTime> {
    let parsed = PrimitiveDateTime::parse(text, AMZ_DATE).ok()?;
    Some(parsed.assume_utc().into())
}

fn amz_date(at: SystemTime) -> String {
    let format = format_description!("[year][month][day]T[hour][minute][second]Z");
    time::OffsetDateTime::from(at).format(&format).unwrap_or_default()
}

/// Checks `request`'s signature against the keys the store accepts, at `now`, for `region`.
pub fn verify(
    keys: &[AcceptedKey],
    region: &str,
    request: &SignedRequest,
    body: &[u8],
    now: SystemTime,
) -> Result<(), ServiceError> {
    let header = |name: &str| request.headers.get(name).and_then(|v| v.to_str().ok());
    let Some(authorization) = header("authorization") else {
        return Err(ServiceError::new(
            ErrorCode::MissingAuthenticationTokenException,
            "Missing Authentication Token",
        ));
    };
    let auth = parse_authorization(authorization)?;
    let key = keys
        .iter()
        .find(|k| k.access_key_id == auth.access_key_id)
        .ok_or_else(unrecognized)?;
    if key.session_token.as_deref() != header("x-amz-security-token") {
        return Err(unrecognized());
    }
    if key.expires_at.is_some_and(|expiry| now >= expiry) {
        return Err(ServiceError::new(
            ErrorCode::ExpiredTokenException,
            "The security token included in the request is expired",
        ));
    }
    let date_text = header("x-amz-date").ok_or_else(|| {
        incomplete("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
    })?;
    let signed_at = parse_amz_date(date_text).ok_or_else(|| {
        incomplete(format!(
            "X-Amz-Date '{date_text}' is not in the basic ISO 8601 format"
        ))
    })?;
    if signed_at + MAX_SKEW < now {
        return Err(invalid(format!(
            "Signature expired: {date_text} is now earlier than {} ({} - 5 min.)",
            amz_date(now - MAX_SKEW),
            amz_date(now)
        )));
    }
    if signed_at > now + MAX_SKEW {
        return Err(invalid(format!(
            "Signature not yet current: {date_text} is still later than {} ({} + 5 min.)",
            amz_date(now + MAX_SKEW),
            amz_date(now)
        )));
    }
    if auth.date != &date_text[..8] {
        return Err(invalid(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{}'",
            auth.date,
            &date_text[..8]
        )));
    }
    if auth.region != region {
        return Err(invalid(format!(
            "Credential should be scoped to a valid region, not '{}'. Use '{region}'.",
            auth.region
        )));
    }
    if auth.service != SERVICE {
        return Err(invalid(format!(
            "Credential should be scoped to correct service: '{SERVICE}'."
        )));
    }
    let expected = expected_signature(key, region, request, &auth.signed_headers, body, signed_at)?;
    if expected != auth.signature {
        return Err(invalid(
            "The request signature we calculated does not match the signature you provided. Check your AWS \
             Secret Access Key and signing method. Consult the service documentation for details.",
        ));
    }
    Ok(())
}

/// The signature `aws-sigv4` computes for the request as received, over the headers the client signed.
fn expected_signature(
    key: &AcceptedKey,
    region: &str,
    request: &SignedRequest,
    signed_headers: &[&str],
    body: &[u8],
    signed_at: SystemTime,
) -> Result<String, ServiceError> {
    let mut headers = Vec::with_capacity(signed_headers.len());
    for name in signed_headers {
        // aws-sigv4 adds these two itself, from the signing time and the identity.
        if *name == "x-amz-date" || *name == "x-amz-security-token" {
            continue;
        }
        let value = request
            .headers
            .get(*name)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| invalid(format!("The signed header '{name}' is not in the request.")))?;
        headers.push((*name, value));
    }
    let identity: Identity = Credentials::new(
        &key.access_key_id,
        &key.secret_access_key,
        key.session_token.clone(),
        None,
        "featurestore-local",
    )
    .into();
    let mut settings = SigningSettings::default();
    // Only the headers the client signed are given: none of them may be left out again.
    settings.excluded_headers = None;
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(SERVICE)
        .time(signed_at)
        .settings(settings)
        .build()
        .map_err(|e| ServiceError::new(ErrorCode::InternalFailure, e.to_string()))?
        .into();
    let url = format!("http://localhost{}", request.path_and_query);
    let signable = SignableRequest::new(
        &request.method,
        &url,
        headers.into_iter(),
        SignableBody::Bytes(body),
    )
    .map_err(|e| incomplete(format!("The request cannot be signed as received: {e}")))?;
    let (_, signature) = sign(signable, &params)
        .map_err(|e| incomplete(format!("The request cannot be signed as received: {e}")))?
        .into_parts();
    Ok(signature)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    const BODY: &[u8] = br#"{"Record":[]}"#;

    fn key() -> AcceptedKey {
        AcceptedKey::parse("AKIDTEST:test-secret").unwrap()
    }

    /// A PutRecord signed by aws-sigv4 at `at` for `region` and `service`.
    fn signed_request(at: SystemTime, region: &str, service: &str) -> SignedRequest {
        let identity: Identity = Credentials::new("AKIDTEST", "test-secret", None, None, "test").into();
        let params = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region(region)
            .name(service)
            .time(at)
            .settings(SigningSettings::default())
            .build()
            .unwrap()
            .into();
        let path = "/FeatureGroup/arn%3Aaws%3Asagemaker%3Aus-east-1%3A123456789012%3Afeature-group%2Fg";
        let base = [("content-type", "application/json"), ("host", "127.0.0.1:8642")];
        let signable = SignableRequest::new(
            "PUT",
            format!("http://127.0.0.1:8642{path}"),
            base.into_iter(),
            SignableBody::Bytes(BODY),
        )
        .unwrap();
        let (instructions, _) = sign(signable, &params).unwrap().into_parts();
        let mut headers = HeaderMap::new();
        for (name, value) in base.into_iter().chain(instructions.headers()) {
            headers.insert(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        SignedRequest {
            method: "PUT".into(),
            path_and_query: path.into(),
            headers,
        }
    }

    fn code(result: Result<(), ServiceError>) -> Option<ErrorCode> {
        result.err().map(|e| e.code)
    }

    #[test]
    fn a_request_signed_by_aws_sigv4_passes_and_any_change_to_it_does_not() {
        let now = UNIX_EPOCH + Duration::from_secs(1_790_000_000);
        let request = signed_request(now, "us-east-1", "sagemaker");
        assert_eq!(verify(&[key()], "us-east-1", &request, BODY, now), Ok(()));
        let other_body = verify(&[key()], "us-east-1", &request, br#"{"Record":[1]}"#, now);
        assert_eq!(code(other_body), Some(ErrorCode::InvalidSignatureException));
        let mut other_path = signed_request(now, "us-east-1", "sagemaker");
        other_path.path_and_query = "/FeatureGroup/h".into();
        let moved = verify(&[key()], "us-east-1", &other_path, BODY, now);
        assert_eq!(code(moved), Some(ErrorCode::InvalidSignatureException));
    }

    #[test]
    fn a_key_past_its_expiry_is_an_expired_token_and_a_bad_expiry_is_refused() {
        let now = UNIX_EPOCH + Duration::from_secs(1_790_000_000);
        let request = signed_request(now, "us-east-1", "sagemaker");
        let valid = AcceptedKey::parse("AKIDTEST:test-secret::1790000001").unwrap();
        assert_eq!(verify(&[valid], "us-east-1", &request, BODY, now), Ok(()));
        let expired = AcceptedKey::parse("AKIDTEST:test-secret::1790000000").unwrap();
        let answer = verify(&[expired], "us-east-1", &request, BODY, now);
        assert_eq!(code(answer), Some(ErrorCode::ExpiredTokenException));
        assert!(AcceptedKey::parse("AKIDTEST:test-secret:token:soon").is_err());
    }

    #[test]
    fn a_clock_more_than_five_minutes_off_either_way_is_refused_and_said_so() {
        let now = UNIX_EPOCH + Duration::from_secs(1_790_000_000);
        let four = Duration::from_secs(4 * 60);
        let six = Duration::from_secs(6 * 60);
        for at in [now - four, now + four] {
            let request = signed_request(at, "us-east-1", "sagemaker");
            assert_eq!(verify(&[key()], "us-east-1", &request, BODY, now), Ok(()));
        }
        let old = verify(
            &[key()],
            "us-east-1",
            &signed_request(now - six, "us-east-1", "sagemaker"),
            BODY,
            now,
        );
        assert!(
            old.clone().unwrap_err().message.starts_with("Signature expired"),
            "{old:?}"
        );
        let ahead = verify(
            &[key()],
            "us-east-1",
            &signed_request(now + six, "us-east-1", "sagemaker"),
            BODY,
            now,
        );
        assert!(
            ahead
                .clone()
                .unwrap_err()
                .message
                .starts_with("Signature not yet current"),
            "{ahead:?}"
        );
    }

    #[test]
    fn the_scope_must_name_the_stores_region_and_the_service() {
        let now = UNIX_EPOCH + Duration::from_secs(1_790_000_000);
        let region = verify(
            &[key()],
            "us-east-1",
            &signed_request(now, "eu-west-1", "sagemaker"),
            BODY,
            now,
        );
        assert!(region.unwrap_err().message.contains("valid region"));
        let service = verify(
            &[key()],
            "us-east-1",
            &signed_request(now, "us-east-1", "s3"),
            BODY,
            now,
        );
        assert!(service.unwrap_err().message.contains("correct service"));
    }

    #[test]
    fn malformed_authorization_headers_are_incomplete_signatures() {
        let now = UNIX_EPOCH + Duration::from_secs(1_790_000_000);
        let mut request = signed_request(now, "us-east-1", "sagemaker");
        for bad in [
            "AWS4-HMAC-SHA1 Credential=x",
            "AWS4-HMAC-SHA256 Credential=AKIDTEST/20260921/us-east-1/sagemaker/aws4_request, Signature=00",
            "AWS4-HMAC-SHA256 Credential=AKIDTEST/us-east-1, SignedHeaders=host, Signature=00",
        ] {
            request.headers.insert("authorization", bad.parse().unwrap());
            let result = verify(&[key()], "us-east-1", &request, BODY, now);
            assert_eq!(
                code(result),
                Some(ErrorCode::IncompleteSignatureException),
                "{bad}"
            );
        }
        request.headers.remove("authorization");
        let missing = verify(&[key()], "us-east-1", &request, BODY, now);
        assert_eq!(
            code(missing),
            Some(ErrorCode::MissingAuthenticationTokenException)
        );
    }

    #[test]
    fn credentials_flag_values_parse() {
        assert_eq!(
            AcceptedKey::parse("A:B:C").unwrap().session_token.as_deref(),
            Some("C")
        );
        assert_eq!(AcceptedKey::parse("A:B").unwrap().session_token, None);
        assert!(AcceptedKey::parse("A").is_err());
        assert!(AcceptedKey::parse(":B").is_err());
    }
}
