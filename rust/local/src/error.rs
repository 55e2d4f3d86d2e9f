//! Errors: [`ServiceError`] is what a caller of the wire protocols gets (an AWS error code, its HTTP status and a
//! message); [`Error`] is what starting or stopping a server can fail with.

use std::path::PathBuf;

/// Why a server could not start or stop cleanly.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("{context} ({path}): {source}")]
    Io {
        context: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("corrupt data in {path}: {message}")]
    Corrupt { path: PathBuf, message: String },
    #[error("cannot bind {address}: {source}")]
    Bind {
        address: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("writing Parquet file {path}: {message}")]
    Parquet { path: PathBuf, message: String },
    #[error("the server thread failed: {0}")]
    Thread(String),
}

impl Error {
    pub(crate) fn io(context: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io {
            context,
            path: path.into(),
            source,
        }
    }
}

/// Which protocol an error is answered in: the two use different codes and HTTP statuses for the same idea.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plane {
    /// `sagemaker-featurestore-runtime`, REST-JSON.
    Runtime,
    /// `sagemaker`, JSON 1.1.
    Control,
}

/// The AWS error codes the store answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorCode {
    /// Runtime: a request or record breaks a rule (400).
    ValidationError,
    /// Control plane: a request breaks a rule (400).
    ValidationException,
    /// Runtime 404, control plane 400.
    ResourceNotFound,
    ResourceInUse,
    ResourceLimitExceeded,
    /// Runtime: the caller's role lacks the permission (403).
    AccessForbidden,
    /// Control plane: the caller's role lacks the permission (400).
    AccessDeniedException,
    InternalFailure,
    ServiceUnavailable,
    /// Runtime 429, control plane 400: the error every SDK classifies as throttling.
    ThrottlingException,
    /// No such operation, path or method.
    UnknownOperationException,
    /// The body is not JSON of the expected shape.
    SerializationException,
    /// The body's content type is not the protocol's.
    UnsupportedMediaTypeException,
    /// The body is larger than the store accepts.
    RequestEntityTooLargeException,
    /// Signatures are checked (`--credentials`) and the request has no `Authorization` header.
    MissingAuthenticationTokenException,
    /// The `Authorization` header or `X-Amz-Date` is malformed.
    IncompleteSignatureException,
    /// The access key is not one the store accepts, or the session token is not the key's.
    UnrecognizedClientException,
    /// The signature, its scope or its time (more than five minutes off) is wrong.
    InvalidSignatureException,
    /// The request was signed with temporary credentials past their expiry.
    ExpiredTokenException,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::ValidationError => "ValidationError",
            ErrorCode::ValidationException => "ValidationException",
            ErrorCode::ResourceNotFound => "ResourceNotFound",
            ErrorCode::ResourceInUse => "ResourceInUse",
            ErrorCode::ResourceLimitExceeded => "ResourceLimitExceeded",
            ErrorCode::AccessForbidden => "AccessForbidden",
            ErrorCode::AccessDeniedException => "AccessDeniedException",
            ErrorCode::InternalFailure => "InternalFailure",
            ErrorCode::ServiceUnavailable => "ServiceUnavailable",
            ErrorCode::ThrottlingException => "ThrottlingException",
            ErrorCode::UnknownOperationException => "UnknownOperationException",
            ErrorCode::SerializationException => "SerializationException",
            ErrorCode::UnsupportedMediaTypeException => "UnsupportedMediaTypeException",
            ErrorCode::RequestEntityTooLargeException => "RequestEntityTooLargeException",
            ErrorCode::MissingAuthenticationTokenException => "MissingAuthenticationTokenException",
            ErrorCode::IncompleteSignatureException => "IncompleteSignatureException",
            ErrorCode::UnrecognizedClientException => "UnrecognizedClientException",
            ErrorCode::InvalidSignatureException => "InvalidSignatureException",
            ErrorCode::ExpiredTokenException => "ExpiredTokenException",
        }
    }

    /// The HTTP status the service sends with this code (botocore's models: runtime errors carry their status;
    /// control plane errors have none, so they are 400 like every JSON 1.1 client error).
    pub fn status(self, plane: Plane) -> u16 {
        match (self, plane) {
            (ErrorCode::InternalFailure, _) => 500,
            (ErrorCode::ServiceUnavailable, _) => 503,
            (ErrorCode::RequestEntityTooLargeException, _) => 413,
            (ErrorCode::UnsupportedMediaTypeException, _) => 415,
            (_, Plane::Control) => 400,
            (ErrorCode::ResourceNotFound | ErrorCode::UnknownOperationException, Plane::Runtime) => 404,
            (
                ErrorCode::AccessForbidden
                | ErrorCode::AccessDeniedException
                | ErrorCode::MissingAuthenticationTokenException
                | ErrorCode::IncompleteSignatureException
                | ErrorCode::UnrecognizedClientException
                | ErrorCode::InvalidSignatureException
                | ErrorCode::ExpiredTokenException,
                Plane::Runtime,
            ) => 403,
            (ErrorCode::ThrottlingException, Plane::Runtime) => 429,
            (_, Plane::Runtime) => 400,
        }
    }
}

/// An error answered to a caller: code, message, and (from the plane) the HTTP status.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceError {
    pub code: ErrorCode,
    pub message: String,
}

impl ServiceError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ServiceError {
        ServiceError {
            code,
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_the_models() {
        assert_eq!(ErrorCode::ValidationError.status(Plane::Runtime), 400);
        assert_eq!(ErrorCode::ResourceNotFound.status(Plane::Runtime), 404);
        assert_eq!(ErrorCode::ResourceNotFound.status(Plane::Control), 400);
        assert_eq!(ErrorCode::AccessForbidden.status(Plane::Runtime), 403);
        assert_eq!(ErrorCode::ThrottlingException.status(Plane::Runtime), 429);
        assert_eq!(ErrorCode::ThrottlingException.status(Plane::Control), 400);
        assert_eq!(ErrorCode::InternalFailure.status(Plane::Control), 500);
        assert_eq!(ErrorCode::ServiceUnavailable.status(Plane::Runtime), 503);
    }
}
