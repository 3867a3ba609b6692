//! The seat server's routes (axum). Pages carry no data: each fetches its state as JSON
//! and writes it as text. A wrong token is a 404 whatever the route; an answer to a
//! question that is no longer open is a 409.
//!
//! - `GET /seat/{token}`, `GET /seat/{token}/state?since=V` (waits up to 20 s for a
//!   change past version `V`), `POST /seat/{token}/answer` (`{"question": id, "answer":
//!   {...}}`);
//! - `GET /facilitator/{token}`, `GET /facilitator/{token}/state?since=V`,
//!   `GET /facilitator/{token}/story/{n}`, `GET /facilitator/{token}/report`.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::desk::{AnswerError, Desk};
use super::pages;

/// How long a state request waits for a change before answering anyway.
const LONG_POLL: Duration = Duration::from_secs(20);

/// Every route of the seat server.
pub fn router(desk: Arc<Desk>) -> Router {
    Router::new()
        .route("/seat/{token}", get(seat_page))
        .route("/seat/{token}/state", get(seat_state))
        .route("/seat/{token}/answer", post(seat_answer))
        .route("/facilitator/{token}", get(facilitator_page))
        .route("/facilitator/{token}/state", get(facilitator_state))
        .route("/facilitator/{token}/story/{n}", get(story))
        .route("/facilitator/{token}/report", get(report))
        .with_state(desk)
}

/// Serves `desk` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    desk: Arc<Desk>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(desk))
        .with_graceful_shutdown(shutdown)
        .await
}

/// An HTML page, never cached, never loading anything from elsewhere, never telling
/// another site its address (the token is in it).
fn page(html: String) -> Response {
    let mut response = html.into_response();
    let headers = response.headers_mut();
    let set = |value: &'static str| HeaderValue::from_static(value);
    headers.insert(header::CONTENT_TYPE, set("text/html; charset=utf-8"));
    headers.insert(header::CACHE_CONTROL, set("no-store"));
    headers.insert(header::REFERRER_POLICY, set("no-referrer"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        set("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:"),
    );
    response
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({"error": "no seat has this address"})),
    )
        .into_response()
}

#[derive(Deserialize)]
struct Since {
    since: Option<u64>,
}

async fn seat_page(State(desk): State<Arc<Desk>>, Path(token): Path<String>) -> Response {
    match desk.view(&token) {
        Some(view) => page(pages::seat(view.team)),
        None => not_found(),
    }
}

async fn seat_state(
    State(desk): State<Arc<Desk>>,
    Path(token): Path<String>,
    Query(q): Query<Since>,
) -> Response {
    if desk.view(&token).is_none() {
        return not_found();
    }
    if let Some(seen) = q.since {
        desk.changed_since(seen, LONG_POLL).await;
    }
    let version = desk.version();
    match desk.view(&token) {
        Some(view) => Json(json!({"version": version, "seat": view})).into_response(),
        None => not_found(),
    }
}

#[derive(Deserialize)]
struct Submitted {
    question: u64,
    answer: serde_json::Value,
}

async fn seat_answer(
    State(desk): State<Arc<Desk>>,
    Path(token): Path<String>,
    Json(body): Json<Submitted>,
) -> Response {
    // The answer goes to the game as text, validated there like any agent's.
    match desk.answer(&token, body.question, body.answer.to_string()) {
        Ok(()) => (StatusCode::ACCEPTED, Json(json!({"accepted": true}))).into_response(),
        Err(AnswerError::UnknownSeat) => not_found(),
        Err(e @ AnswerError::Closed) => {
            (StatusCode::CONFLICT, Json(json!({"error": e.to_string()}))).into_response()
        }
    }
}

async fn facilitator_page(State(desk): State<Arc<Desk>>, Path(token): Path<String>) -> Response {
    if !desk.is_facilitator(&token) {
        return not_found();
    }
    page(pages::facilitator())
}

async fn facilitator_state(
    State(desk): State<Arc<Desk>>,
    Path(token): Path<String>,
    Query(q): Query<Since>,
) -> Response {
    if !desk.is_facilitator(&token) {
        return not_found();
    }
    if let Some(seen) = q.since {
        desk.changed_since(seen, LONG_POLL).await;
    }
    let version = desk.version();
    // The facilitator sees each seat's status and what it was shown, not its prompt.
    let seats: Vec<serde_json::Value> = desk
        .views()
        .into_iter()
        .map(|v| {
            json!({
                "team": v.team,
                "status": v.status,
                "asked": v.question.as_ref().map(|q| json!({"kind": q.kind, "year": q.year, "repair": q.repair})),
                "seconds_left": v.seconds_left,
                "answered": v.answered,
                "timed_out": v.timed_out,
                "seen": v.seen.last(),
                "run_id": v.run_id,
            })
        })
        .collect();
    let ending = desk.ending().map(|e| {
        json!({
            "stories": e.stories.iter().map(|(run, _)| run).collect::<Vec<_>>(),
            "report": e.report.is_some(),
            "results": e.results,
        })
    });
    Json(json!({"version": version, "seats": seats, "ending": ending})).into_response()
}

async fn story(State(desk): State<Arc<Desk>>, Path((token, n)): Path<(String, usize)>) -> Response {
    if !desk.is_facilitator(&token) {
        return not_found();
    }
    match desk.ending().and_then(|e| e.stories.get(n).cloned()) {
        Some((_, html)) => page(html),
        None => not_found(),
    }
}

async fn report(State(desk): State<Arc<Desk>>, Path(token): Path<String>) -> Response {
    if !desk.is_facilitator(&token) {
        return not_found();
    }
    match desk.ending().and_then(|e| e.report) {
        Some(html) => page(html),
        None => not_found(),
    }
}
