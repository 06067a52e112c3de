//! Errors as RFC 7807 problem+json (extension contract) or the documented
//! `{"status","message","error-code"}` body (token and Community Management).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

#[derive(Debug)]
pub struct Problem {
    pub status: StatusCode,
    pub kind: &'static str,
    pub title: &'static str,
    pub detail: String,
    pub errors: Vec<(String, String)>,
    pub retry_after: Option<f64>,
    pub documented: bool,
}

impl Problem {
    pub fn new(
        status: StatusCode,
        kind: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Problem {
            status,
            kind,
            title,
            detail: detail.into(),
            errors: vec![],
            retry_after: None,
            documented: false,
        }
    }
    pub fn validation(errors: Vec<(String, String)>) -> Self {
        let n = errors.len();
        let mut p = Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            "Validation failed",
            format!("{n} field{} invalid", if n == 1 { " is" } else { "s are" }),
        );
        p.errors = errors;
        p
    }
    pub fn field(field: &str, message: &str) -> Self {
        Problem::validation(vec![(field.to_string(), message.to_string())])
    }
    pub fn not_found(what: impl Into<String>) -> Self {
        Problem::new(StatusCode::NOT_FOUND, "not-found", "Not found", what)
    }
    pub fn conflict(detail: impl Into<String>) -> Self {
        Problem::new(StatusCode::CONFLICT, "conflict", "Conflict", detail)
    }
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Problem::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Unauthorized",
            detail,
        )
    }
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "bad-request",
            "Bad request",
            detail,
        )
    }
    pub fn documented(mut self) -> Self {
        self.documented = true;
        self
    }
    pub fn body(&self) -> Value {
        if self.documented {
            // The documented body has no per-field list: the message names the fields.
            let message = if self.errors.is_empty() {
                self.detail.clone()
            } else {
                self.errors
                    .iter()
                    .map(|(f, m)| format!("{f}: {m}"))
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            return json!({"status": self.status.as_u16(), "message": message, "error-code": self.kind});
        }
        let mut v = json!({
            "type": format!("https://tg.example/problems/{}", self.kind),
            "title": self.title,
            "status": self.status.as_u16(),
            "detail": self.detail,
        });
        if !self.errors.is_empty() {
            v["errors"] = Value::Array(
                self.errors
                    .iter()
                    .map(|(f, m)| json!({"field": f, "message": m}))
                    .collect(),
            );
        }
        v
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let body = self.body().to_string();
        let ct = if self.documented {
            "application/json"
        } else {
            "application/problem+json"
        };
        let mut resp = (self.status, body).into_response();
        resp.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
        if let Some(ra) = self.retry_after {
            if let Ok(v) = HeaderValue::from_str(&format!("{ra}")) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        resp
    }
}
