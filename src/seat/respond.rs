//! The seat server's kinds of response: a page (with its CSP nonce), a recorded
//! document, "nothing here" (a page for a browser, JSON for a script), an error as JSON.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::pages;

/// A fresh nonce for one page's script and style.
fn nonce() -> String {
    let bytes: [u8; 16] = rand::random();
    crate::record::hex(&bytes)
}

/// One of our pages: only the script and style carrying this response's nonce run.
pub fn page(render: impl FnOnce(&str) -> String) -> Response {
    page_with(StatusCode::OK, render)
}

pub fn page_with(status: StatusCode, render: impl FnOnce(&str) -> String) -> Response {
    let nonce = nonce();
    let mut response = (status, render(&nonce)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    let csp = format!(
        "default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    );
    if let Ok(value) = HeaderValue::from_str(&csp) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}

/// A recorded document (the story, the report): styles only, no script at all.
pub fn document(html: String) -> Response {
    let mut response = html.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'",
        ),
    );
    response
}

/// Whether a browser asks for a page (a navigation), not for data.
pub fn wants_page(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"))
}

/// "Nothing here": a page for a browser's navigation, JSON for a script.
pub fn not_found(headers: &HeaderMap) -> Response {
    if wants_page(headers) {
        page_with(StatusCode::NOT_FOUND, |nonce| {
            pages::notice(
                nonce,
                "Nothing here",
                "This address is not part of the game. Check it, or ask the facilitator for the join address.",
                None,
            )
        })
    } else {
        error(StatusCode::NOT_FOUND, "nothing here: check the address")
    }
}

pub fn error(status: StatusCode, text: impl std::fmt::Display) -> Response {
    (status, Json(json!({"error": text.to_string()}))).into_response()
}
