//! Errors as RFC 9457 `application/problem+json`, and extractors whose rejections use it.
//!
//! Handlers return [`ApiError`]; the client always gets a status, a title and one clear
//! sentence. Internal causes are logged, never sent.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use problem_details::ProblemDetails;

/// An error a handler or a domain function reports.
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status sent to the client.
    pub status: StatusCode,
    /// The sentence the client sees.
    pub detail: String,
    /// The underlying cause of a 5xx, logged and kept from the client.
    pub source: Option<anyhow::Error>,
    /// Seconds until trying again can succeed (sent as `Retry-After` with a 429 or 503).
    pub retry_after: Option<u64>,
}

/// Shorthand for domain functions.
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// An error with this status and sentence.
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Self {
            status,
            detail: detail.into(),
            source: None,
            retry_after: None,
        }
    }
    /// 429 with `Retry-After`.
    pub fn too_many(detail: impl Into<String>, retry_after_s: u64) -> Self {
        Self {
            retry_after: Some(retry_after_s.max(1)),
            ..Self::new(StatusCode::TOO_MANY_REQUESTS, detail)
        }
    }
    /// 400: the request cannot be read.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, detail)
    }
    /// 401: no or unknown token.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, detail)
    }
    /// 403: known caller, not allowed.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, detail)
    }
    /// 404: absent, or not the caller's to see (never leak existence).
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, detail)
    }
    /// 409: legal request, wrong moment (state machine, stale offer).
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, detail)
    }
    /// 410: the sync cursor cannot be continued; the client must start again from 0.
    pub fn gone(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::GONE, detail)
    }
    /// 422: well-formed but invalid values.
    pub fn invalid(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, detail)
    }
    /// 500 with a logged cause.
    pub fn internal(source: anyhow::Error) -> Self {
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            detail: "Something went wrong on the server; it has been logged. Please try again."
                .into(),
            source: Some(source),
            retry_after: None,
        }
    }
    /// True for verdicts on the request (4xx), false for server trouble.
    pub fn is_client_error(&self) -> bool {
        self.status.is_client_error()
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.status, self.detail)
    }
}

impl From<rusqlite::Error> for ApiError {
    fn from(e: rusqlite::Error) -> Self {
        if let rusqlite::Error::SqliteFailure(f, _) = &e {
            if f.code == rusqlite::ErrorCode::DiskFull {
                return Self {
                    status: StatusCode::INSUFFICIENT_STORAGE,
                    detail: "The server's disk is full, so nothing was saved. Try again later."
                        .into(),
                    source: Some(e.into()),
                    retry_after: None,
                };
            }
            if f.code == rusqlite::ErrorCode::DatabaseBusy
                || f.code == rusqlite::ErrorCode::DatabaseLocked
            {
                return Self {
                    status: StatusCode::SERVICE_UNAVAILABLE,
                    detail: "The server is busy; nothing was saved. Try again in a moment.".into(),
                    source: Some(e.into()),
                    retry_after: Some(1),
                };
            }
        }
        Self::internal(e.into())
    }
}

impl From<serde_json::Error> for ApiError {
    fn from(e: serde_json::Error) -> Self {
        Self::internal(e.into())
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        let detail = match &r {
            JsonRejection::JsonDataError(_) => format!(
                "The JSON body has the wrong shape: {}",
                clean(&r.body_text())
            ),
            JsonRejection::JsonSyntaxError(_) => {
                format!("The body is not valid JSON: {}", clean(&r.body_text()))
            }
            JsonRejection::MissingJsonContentType(_) => {
                "Send the body as JSON with `Content-Type: application/json`.".into()
            }
            _ if r.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                "The request body is too large.".into()
            }
            _ => clean(&r.body_text()),
        };
        Self::new(r.status(), detail)
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        Self::bad_request(format!("Bad query string: {}", clean(&r.body_text())))
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        // A non-numeric id names nothing that exists.
        Self::new(
            StatusCode::NOT_FOUND,
            format!("No such resource: {}", clean(&r.body_text())),
        )
    }
}

fn clean(s: &str) -> String {
    let s = s.trim();
    let s = s
        .strip_prefix("Failed to deserialize the JSON body into the target type: ")
        .unwrap_or(s);
    s.chars().take(300).collect()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Some(src) = &self.source {
            tracing::error!(status = %self.status, error = ?src, "request failed");
        }
        let title = self.status.canonical_reason().unwrap_or("Error");
        let mut resp = ProblemDetails::from_status_code(self.status)
            .with_title(title)
            .with_detail(self.detail)
            .into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            // RFC 9110 §11.6.1: a 401 names the scheme that would work.
            resp.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer realm=\"pitstop\""),
            );
        }
        if let Some(s) = self.retry_after {
            resp.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, s.into());
        }
        resp
    }
}

/// `axum::Json` whose rejections are problem documents. It also reads `5.0` where an integer
/// is expected, as JSON (and JSON Schema) count it an integer; that slower path runs only when
/// the plain parse met such a number.
#[derive(Debug)]
pub struct Json<T>(pub T);

fn is_json(headers: &axum::http::HeaderMap) -> bool {
    let Some(ct) = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Whole numbers written with a fraction (`176.0`) become integers, where exact.
fn integral_floats(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Number(n) => {
            if let Some(f) = n.as_f64()
                && n.is_f64()
                && f.fract() == 0.0
                && f.abs() < 9.2e18
            {
                *v = serde_json::Value::from(f as i64);
            }
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(integral_floats),
        serde_json::Value::Object(o) => o.values_mut().for_each(integral_floats),
        _ => {}
    }
}

impl<T: serde::de::DeserializeOwned, S: Send + Sync> axum::extract::FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        if !is_json(req.headers()) {
            return Err(JsonRejection::from(
                axum::extract::rejection::MissingJsonContentType::default(),
            )
            .into());
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|r| ApiError::from(JsonRejection::from(r)))?;
        match axum::Json::<T>::from_bytes(&bytes) {
            Ok(axum::Json(v)) => Ok(Json(v)),
            Err(JsonRejection::JsonDataError(e)) if e.body_text().contains("floating point") => {
                let retried = serde_json::from_slice::<serde_json::Value>(&bytes)
                    .ok()
                    .and_then(|mut v| {
                        integral_floats(&mut v);
                        serde_json::from_value::<T>(v).ok()
                    });
                retried
                    .map(Json)
                    .ok_or_else(|| JsonRejection::JsonDataError(e).into())
            }
            Err(r) => Err(r.into()),
        }
    }
}

impl<T: serde::Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// `axum::extract::Query` whose rejections are problem documents.
#[derive(Debug, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);

/// `axum::extract::Path` whose rejections are problem documents.
#[derive(Debug, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Path<T>(pub T);
