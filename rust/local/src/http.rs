//! HTTP plumbing shared by the protocols: response building (including each protocol's error shape), request
//! ids, percent-decoding and query strings.

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode};
use http_body_util::Full;

use crate::error::{Plane, ServiceError};

pub type Body = Full<Bytes>;

pub const JSON: &str = "application/json";
pub const AMZ_JSON_1_1: &str = "application/x-amz-json-1.1";

/// A random request id in the UUID layout AWS uses; SDKs surface it in errors and logs.
pub fn request_id() -> String {
    let bits: u128 = fastrand::u128(..);
    let hex = format!("{bits:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

fn response(status: u16, content_type: &'static str, body: Vec<u8>) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(id) = HeaderValue::from_str(&request_id()) {
        headers.insert("x-amzn-requestid", id);
    }
    response
}

/// A successful answer of `plane`.
pub fn ok(plane: Plane, body: Vec<u8>) -> Response<Body> {
    response(200, content_type(plane), body)
}

/// A JSON answer of the admin API.
pub fn admin(status: u16, body: Vec<u8>) -> Response<Body> {
    response(status, JSON, body)
}

fn content_type(plane: Plane) -> &'static str {
    match plane {
        Plane::Runtime => JSON,
        Plane::Control => AMZ_JSON_1_1,
    }
}

/// An error in the shape every SDK parses: the status, `x-amzn-ErrorType: <Code>` (REST-JSON clients read it
/// first), and a body with `__type` (JSON 1.1 clients read it) and `message`.
pub fn error(plane: Plane, error: &ServiceError) -> Response<Body> {
    let body = serde_json::json!({ "__type": error.code.as_str(), "message": error.message });
    let mut response = response(
        error.code.status(plane),
        content_type(plane),
        body.to_string().into_bytes(),
    );
    response
        .headers_mut()
        .insert("x-amzn-errortype", HeaderValue::from_static(error.code.as_str()));
    response
}

/// Decodes `%XX` escapes; `None` for a bad escape or bytes that are not UTF-8. `+` stays `+`: AWS SDKs
/// escape spaces as `%20`.
pub fn percent_decode(text: &str) -> Option<String> {
    if !text.contains('%') {
        return Some(text.to_owned());
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let value = u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?;
            out.push(value);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Query string pairs, decoded, in order (repeated keys are kept).
pub fn query_pairs(query: Option<&str>) -> Option<Vec<(String, String)>> {
    let Some(query) = query else {
        return Some(Vec::new());
    };
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            Some((percent_decode(key)?, percent_decode(value)?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;
    use http_body_util::BodyExt;

    #[test]
    fn escapes_decode_and_plus_stays() {
        assert_eq!(
            percent_decode("arn%3Aaws%3Asagemaker%3Aus-east-1%3A123456789012%3Afeature-group%2Fg").as_deref(),
            Some("arn:aws:sagemaker:us-east-1:123456789012:feature-group/g")
        );
        assert_eq!(percent_decode("a+b%20c").as_deref(), Some("a+b c"));
        assert_eq!(percent_decode("%zz"), None);
        assert_eq!(percent_decode("%c3%a9").as_deref(), Some("é"));
        assert_eq!(
            query_pairs(Some("FeatureName=a&FeatureName=b&X")).unwrap(),
            vec![
                ("FeatureName".into(), "a".into()),
                ("FeatureName".into(), "b".into()),
                ("X".into(), "".into())
            ]
        );
    }

    #[tokio::test]
    async fn errors_carry_the_code_in_header_and_body() {
        let response = error(
            Plane::Runtime,
            &ServiceError::new(ErrorCode::ThrottlingException, "slow down"),
        );
        assert_eq!(response.status(), 429);
        assert_eq!(response.headers()["x-amzn-errortype"], "ThrottlingException");
        assert_eq!(response.headers()["content-type"], JSON);
        assert_eq!(response.headers()["x-amzn-requestid"].len(), 36);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"__type": "ThrottlingException", "message": "slow down"})
        );
    }
}
