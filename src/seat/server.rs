//! The seat server's routes (axum) and its accept loop. Pages carry no data: each
//! fetches its state as JSON and writes it as text. A wrong token or code is a 404
//! whatever the route; an answer to a question that is no longer open is a 409.
//!
//! - `GET /join/{code}`, `GET /join/{code}/state`, `POST /join/{code}/claim`
//!   (`{"team": n}`: the seat's address, and a cookie so the browser finds it again);
//! - `GET /seat/{token}`, `GET /seat/{token}/state?since=V` (waits up to 20 s for a
//!   change past version `V`), `POST /seat/{token}/answer` (`{"question": id, "answer":
//!   {...}}`);
//! - `GET /facilitator/{token}` (+ `/state`, `/qr.svg`, `/story/{n}`, `/report`,
//!   `/messages.csv`), `POST /facilitator/{token}/{pause,resume,extend,release/{team}}`.
//!
//! Every response is `no-store` and `nosniff`, and may not be framed; pages run only
//! their own script (a fresh CSP nonce per page). The accept loop caps connections and
//! closes one that sends no request in time, so idle sockets cannot starve a class.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::desk::{AnswerError, ClaimError, Desk, SeatStatus};
use super::pages;

/// How long a state request waits for a change before answering anyway.
const LONG_POLL: Duration = Duration::from_secs(20);
/// Connections served at once; more are closed at once (a page retries).
pub const MAX_CONNECTIONS: usize = 512;
/// Connections that have sent nothing yet, at most; a new one closes the oldest (a
/// browser sends its request at once, so only idle sockets are ever closed this way).
pub const MAX_SILENT: usize = 64;
/// A connection must send its request's headers within this time.
pub const HEADER_READ: Duration = Duration::from_secs(10);
/// How long requests under way may take to finish once the server stops.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);
/// The cookie that tells the join page which seat this browser holds.
const SEAT_COOKIE: &str = "fishbanks_seat";

/// What the routes share.
#[derive(Clone)]
pub struct Classroom {
    pub desk: Arc<Desk>,
    /// The results directory of the game (the facilitator's spreadsheet export).
    pub results: PathBuf,
    /// Addresses of the join page students can reach (the first goes in the QR code).
    pub join_urls: Vec<String>,
}

/// Every route of the seat server. The join and facilitator routes are each behind one
/// check of their code or token (a wrong one is a 404 before any handler runs).
pub fn router(room: Classroom) -> Router {
    let join = Router::new()
        .route("/join/{code}", get(join_page))
        .route("/join/{code}/state", get(join_state))
        .route("/join/{code}/claim", post(join_claim))
        .route_layer(axum::middleware::from_fn_with_state(
            room.clone(),
            only_with_join_code,
        ));
    let facilitator = Router::new()
        .route("/facilitator/{token}", get(facilitator_page))
        .route("/facilitator/{token}/state", get(facilitator_state))
        .route("/facilitator/{token}/qr.svg", get(qr))
        .route("/facilitator/{token}/pause", post(pause))
        .route("/facilitator/{token}/resume", post(resume))
        .route("/facilitator/{token}/extend", post(extend))
        .route("/facilitator/{token}/release/{team}", post(release))
        .route("/facilitator/{token}/story/{n}", get(story))
        .route("/facilitator/{token}/report", get(report))
        .route("/facilitator/{token}/messages.csv", get(messages_csv))
        .route_layer(axum::middleware::from_fn_with_state(
            room.clone(),
            only_facilitator,
        ));
    Router::new()
        .route("/seat/{token}", get(seat_page))
        .route("/seat/{token}/state", get(seat_state))
        .route("/seat/{token}/answer", post(seat_answer))
        .merge(join)
        .merge(facilitator)
        .fallback(|| async { not_found() })
        .layer(axum::middleware::map_response(secure))
        .with_state(room)
}

/// The value of path parameter `name`.
fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Lets through requests whose `{token}` is the facilitator's.
async fn only_facilitator(
    State(room): State<Classroom>,
    Path(params): Path<Vec<(String, String)>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    match param(&params, "token") {
        Some(token) if room.desk.is_facilitator(token) => next.run(request).await,
        _ => not_found(),
    }
}

/// Lets through requests whose `{code}` is the game's join code (any letter case).
async fn only_with_join_code(
    State(room): State<Classroom>,
    Path(params): Path<Vec<(String, String)>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    match param(&params, "code") {
        Some(code) if code.eq_ignore_ascii_case(room.desk.join_code()) => next.run(request).await,
        _ => not_found(),
    }
}

/// Headers every response carries: never cached, never sniffed, never framed, never
/// telling another site its address (tokens are in paths).
async fn secure(mut response: Response) -> Response {
    let headers = response.headers_mut();
    let set = |value: &'static str| HeaderValue::from_static(value);
    headers.insert(header::CACHE_CONTROL, set("no-store"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, set("nosniff"));
    headers.insert(header::REFERRER_POLICY, set("no-referrer"));
    headers.insert(header::X_FRAME_OPTIONS, set("DENY"));
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            set("default-src 'none'; frame-ancestors 'none'"),
        );
    }
    response
}

/// Serves `room` on `listener` until `shutdown` completes: at most [`MAX_CONNECTIONS`]
/// connections, each closed if its request's headers take longer than [`HEADER_READ`].
pub async fn serve(
    listener: tokio::net::TcpListener,
    room: Classroom,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_app(listener, router(room), shutdown).await
}

/// Serves any of the seat module's routers (the classroom's, the MCP endpoint's) with
/// the accept loop's limits.
pub(crate) async fn serve_app(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    let silent = Arc::new(Silent::default());
    let mut next_id = 0u64;
    let mut connections = tokio::task::JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // A transient accept error (too many open files): pause, go on.
                Err(e) => {
                    tracing::warn!("accept: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        next_id += 1;
        let id = next_id;
        let hush = silent.enter(id);
        // Over the cap: closed at once rather than queued behind idle sockets.
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            silent.leave(id);
            drop(stream);
            continue;
        };
        while connections.try_join_next().is_some() {}
        let service = hyper_util::service::TowerToHyperService::new(app.clone());
        let silent = silent.clone();
        connections.spawn(async move {
            let _slot = slot;
            // Nothing sent at all within the header time, or closed to make room for a
            // newer connection while silent: dropped (hyper's own timeout starts only
            // with the first byte).
            let mut first = [0u8; 1];
            let spoke = tokio::select! {
                peeked = tokio::time::timeout(HEADER_READ, stream.peek(&mut first)) => {
                    matches!(peeked, Ok(Ok(n)) if n > 0)
                }
                _ = hush.notified() => false,
            };
            silent.leave(id);
            if !spoke {
                return;
            }
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(HEADER_READ)
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            let _ = connection.await;
        });
    }
    // Requests under way (a page's answer, the long poll that tells it the game is
    // over) get a moment to finish; idle connections are then closed.
    let drain = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(SHUTDOWN_GRACE, drain).await.is_err() {
        connections.abort_all();
    }
    Ok(())
}

/// The connections that have sent nothing yet, oldest first, each with the signal
/// that closes it.
#[derive(Default)]
struct Silent(std::sync::Mutex<std::collections::VecDeque<(u64, Arc<tokio::sync::Notify>)>>);

impl Silent {
    /// A new connection joins; past [`MAX_SILENT`], the oldest silent one is closed.
    fn enter(&self, id: u64) -> Arc<tokio::sync::Notify> {
        let hush = Arc::new(tokio::sync::Notify::new());
        let mut queue = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if queue.len() >= MAX_SILENT {
            if let Some((_, oldest)) = queue.pop_front() {
                oldest.notify_one();
            }
        }
        queue.push_back((id, hush.clone()));
        hush
    }

    /// A connection spoke (or closed).
    fn leave(&self, id: u64) {
        let mut queue = self.0.lock().unwrap_or_else(|p| p.into_inner());
        queue.retain(|(i, _)| *i != id);
    }
}

/// A fresh nonce for one page's script and style.
fn nonce() -> String {
    let bytes: [u8; 16] = rand::random();
    crate::record::hex(&bytes)
}

/// One of our pages: only the script and style carrying this response's nonce run.
fn page(render: impl FnOnce(&str) -> String) -> Response {
    let nonce = nonce();
    let mut response = render(&nonce).into_response();
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
fn document(html: String) -> Response {
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

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({"error": "nothing here: check the address"})),
    )
        .into_response()
}

fn error(status: StatusCode, text: impl std::fmt::Display) -> Response {
    (status, Json(json!({"error": text.to_string()}))).into_response()
}

#[derive(Deserialize)]
struct Since {
    since: Option<u64>,
}

// ---- the join page ----

/// The seat token in the browser's cookie, if any.
fn seat_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SEAT_COOKIE)
        .map(|(_, value)| value.to_string())
}

async fn join_page() -> Response {
    page(pages::join)
}

async fn join_state(State(room): State<Classroom>, headers: HeaderMap) -> Response {
    let desk = &room.desk;
    let mine = seat_cookie(&headers).and_then(|t| desk.team_of(&t).map(|team| (team, t)));
    let seats = desk.free_seats();
    let teams: Vec<serde_json::Value> = desk
        .roster()
        .labels
        .iter()
        .enumerate()
        .map(|(i, label)| {
            let team = i + 1;
            let seat = seats.iter().find(|(t, _)| *t == team);
            json!({
                "team": team,
                "who": if seat.is_some() { "person".to_string() } else { label.clone() },
                "open": seat.is_some_and(|(_, taken)| !*taken),
            })
        })
        .collect();
    Json(json!({
        "teams": teams,
        "yours": mine.map(|(team, token)| json!({"team": team, "seat": format!("/seat/{token}")})),
    }))
    .into_response()
}

#[derive(Deserialize)]
struct Claim {
    team: usize,
}

async fn join_claim(State(room): State<Classroom>, Json(body): Json<Claim>) -> Response {
    match room.desk.claim(body.team) {
        Ok(token) => {
            let mut response = Json(json!({"seat": format!("/seat/{token}")})).into_response();
            let cookie = format!("{SEAT_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict");
            if let Ok(value) = HeaderValue::from_str(&cookie) {
                response.headers_mut().insert(header::SET_COOKIE, value);
            }
            response
        }
        Err(e @ ClaimError::Taken(_)) => error(StatusCode::CONFLICT, e),
        Err(e @ ClaimError::NoSuchSeat(_)) => error(StatusCode::NOT_FOUND, e),
    }
}

// ---- a seat ----

async fn seat_page(State(room): State<Classroom>, Path(token): Path<String>) -> Response {
    match room.desk.view(&token) {
        Some(view) => page(|nonce| pages::seat(view.team, nonce)),
        None => not_found(),
    }
}

async fn seat_state(
    State(room): State<Classroom>,
    Path(token): Path<String>,
    Query(q): Query<Since>,
) -> Response {
    let desk = &room.desk;
    if desk.view(&token).is_none() {
        return not_found();
    }
    if let Some(seen) = q.since {
        desk.changed_since(seen, LONG_POLL).await;
    }
    let version = desk.version();
    let Some(view) = desk.view(&token) else {
        return not_found();
    };
    // The true sea is the debrief's: shown to a seat only once the game is over.
    let debrief = (view.status == SeatStatus::Done).then(|| {
        let years: Vec<_> = desk
            .true_years()
            .into_iter()
            .filter(|y| y.run_id == view.run_id)
            .collect();
        json!({"years": years, "sea": desk.sea(), "roster": desk.roster().labels})
    });
    Json(json!({"version": version, "seat": view, "debrief": debrief})).into_response()
}

#[derive(Deserialize)]
struct Submitted {
    question: u64,
    answer: serde_json::Value,
}

/// The first text in `value` holding a control character (other than a line break or
/// a tab) or a bidirectional override, which could hide what a message says.
fn control_character(value: &serde_json::Value, path: &str) -> Option<String> {
    match value {
        serde_json::Value::String(s) => s
            .chars()
            .any(|c| {
                (c.is_control() && c != '\n' && c != '\t')
                    || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
            })
            .then(|| path.to_string()),
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| control_character(v, &format!("{path}[{i}]"))),
        serde_json::Value::Object(map) => map.iter().find_map(|(k, v)| control_character(v, k)),
        _ => None,
    }
}

async fn seat_answer(
    State(room): State<Classroom>,
    Path(token): Path<String>,
    Json(body): Json<Submitted>,
) -> Response {
    if let Some(field) = control_character(&body.answer, "") {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("`{field}` holds a control character; write plain text"),
        );
    }
    // The answer is the object the form composed, passed on whole (serialised once) and
    // validated by the question like any agent's.
    match room
        .desk
        .answer(&token, body.question, body.answer.to_string())
    {
        Ok(()) => (StatusCode::ACCEPTED, Json(json!({"accepted": true}))).into_response(),
        Err(AnswerError::UnknownSeat) => not_found(),
        Err(e @ AnswerError::Closed) => error(StatusCode::CONFLICT, e),
    }
}

// ---- the facilitator ----

async fn facilitator_page() -> Response {
    page(pages::facilitator)
}

async fn facilitator_state(State(room): State<Classroom>, Query(q): Query<Since>) -> Response {
    let desk = &room.desk;
    if let Some(seen) = q.since {
        desk.changed_since(seen, LONG_POLL).await;
    }
    let version = desk.version();
    let views = desk.views();
    // Every team's status; a person's seat never by its address (this page is projected).
    let teams: Vec<serde_json::Value> = desk
        .roster()
        .labels
        .iter()
        .enumerate()
        .map(|(i, label)| match views.iter().find(|v| v.team == i + 1) {
            Some(v) => json!({
                "team": v.team,
                "who": "person",
                "taken": desk.is_claimed(v.team),
                "status": v.status,
                "asked": v.question.as_ref().map(|q| json!({"kind": q.kind, "year": q.year, "repair": q.repair})),
                "seconds_left": v.seconds_left,
                "answered": v.answered,
                "timed_out": v.timed_out,
            }),
            None => json!({"team": i + 1, "who": label}),
        })
        .collect();
    let ending = desk.ending().map(|e| {
        json!({
            "stories": e.stories.iter().map(|(run, _)| run).collect::<Vec<_>>(),
            "report": e.report.is_some(),
            "results": e.results,
        })
    });
    Json(json!({
        "version": version,
        "teams": teams,
        "paused": desk.is_paused(),
        "years": desk.true_years(),
        "sea": desk.sea(),
        "join": {"code": desk.join_code(), "urls": room.join_urls},
        "ending": ending,
    }))
    .into_response()
}

async fn qr(State(room): State<Classroom>) -> Response {
    let Some(url) = room.join_urls.first() else {
        return not_found();
    };
    match super::qr::svg(url) {
        Some(svg) => {
            let mut response = svg.into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("image/svg+xml"),
            );
            response
        }
        None => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the join address is too long for a QR code",
        ),
    }
}

fn done() -> Response {
    Json(json!({"ok": true})).into_response()
}

async fn pause(State(room): State<Classroom>) -> Response {
    room.desk.pause();
    done()
}

async fn resume(State(room): State<Classroom>) -> Response {
    room.desk.resume_clock();
    done()
}

#[derive(Deserialize)]
struct Extend {
    seconds: u32,
}

async fn extend(State(room): State<Classroom>, Json(body): Json<Extend>) -> Response {
    if body.seconds == 0 || body.seconds > 3600 {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "extra time is 1 to 3600 seconds",
        );
    }
    room.desk
        .extend(Duration::from_secs(u64::from(body.seconds)));
    done()
}

async fn release(
    State(room): State<Classroom>,
    Path((_, team)): Path<(String, usize)>,
) -> Response {
    if room.desk.release(team) {
        done()
    } else {
        error(
            StatusCode::NOT_FOUND,
            format!("team {team} is not a seat for a person"),
        )
    }
}

async fn story(State(room): State<Classroom>, Path((_, n)): Path<(String, usize)>) -> Response {
    match room.desk.ending().and_then(|e| e.stories.get(n).cloned()) {
        Some((_, html)) => document(html),
        None => not_found(),
    }
}

async fn report(State(room): State<Classroom>) -> Response {
    match room.desk.ending().and_then(|e| e.report) {
        Some(html) => document(html),
        None => not_found(),
    }
}

/// `messages.csv` for a spreadsheet: every text cell that a spreadsheet would read as a
/// formula (`= + - @`, a tab or a carriage return first) starts with `'`.
async fn messages_csv(State(room): State<Classroom>) -> Response {
    let path = room.results.join(crate::record::RunFiles::MESSAGES);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(_) => return error(StatusCode::NOT_FOUND, "no messages were recorded yet"),
    };
    match spreadsheet_safe(&text) {
        Ok(csv) => {
            let mut response = csv.into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            );
            headers.insert(
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment; filename=\"messages-for-spreadsheets.csv\""),
            );
            response
        }
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e),
    }
}

/// A CSV with every cell a spreadsheet would run as a formula neutralised.
pub fn spreadsheet_safe(csv_text: &str) -> Result<String, csv::Error> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(csv_text.as_bytes());
    let mut writer = csv::Writer::from_writer(Vec::new());
    for record in reader.records() {
        let record = record?;
        let cells: Vec<String> = record
            .iter()
            .map(|cell| {
                let numeric = cell.parse::<f64>().is_ok();
                match cell.chars().next() {
                    Some('=' | '+' | '-' | '@' | '\t' | '\r') if !numeric => format!("'{cell}"),
                    _ => cell.to_string(),
                }
            })
            .collect();
        writer.write_record(&cells)?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| csv::Error::from(std::io::Error::other(e.to_string())))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_and_numbers_kept() {
        let text =
            "run_id,text\nr1,=HYPERLINK(\"http://x\")\nr1,-5\nr1,@SUM(A1)\nr1,+1 more\nr1,plain\n";
        let safe = spreadsheet_safe(text).unwrap();
        assert!(safe.contains("'=HYPERLINK"), "{safe}");
        assert!(
            safe.contains("r1,-5\n"),
            "a negative number stays a number: {safe}"
        );
        assert!(safe.contains("'@SUM(A1)"));
        assert!(safe.contains("'+1 more"));
        assert!(safe.contains("r1,plain\n"));
    }

    #[test]
    fn control_characters_are_found_in_any_field() {
        let ok = json!({"message": "line one\nline two\ttab"});
        assert_eq!(control_character(&ok, ""), None);
        let bell = json!({"message": "ring\u{7}"});
        assert_eq!(control_character(&bell, "").as_deref(), Some("message"));
        let bidi = json!({"reason": "abc\u{202E}cba"});
        assert_eq!(control_character(&bidi, "").as_deref(), Some("reason"));
    }
}
