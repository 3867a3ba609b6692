//! The seat server's routes (axum). Pages carry no data: each fetches its state as JSON
//! and writes it as text. Every request first passes [`super::guard`] (the Host, the
//! reserve, the origin of a POST); a wrong token or code is a 404 whatever the route; an
//! answer to a question that is no longer open is a 409.
//!
//! - `GET /join/{code}`, `GET /join/{code}/state`, `POST /join/{code}/claim`
//!   (`{"team": n}`: the seat's address, and a cookie so the browser finds it again; a
//!   browser holding a seat cannot take a second one); wrong codes are throttled per
//!   client;
//! - `GET /seat/{token}`, `GET /seat/{token}/state?since=V` (waits up to 20 s for a
//!   change past version `V`), `POST /seat/{token}/answer` (`{"question": id, "answer":
//!   {...}}`); a released seat's old address says so (410) with the join address;
//! - `GET /rules`: the game's rules in words (the seat page's "How to play");
//! - `GET /facilitator/{token}`: the link `fishbanks play` prints; it sets the
//!   facilitator's cookie (HttpOnly, SameSite=Strict) and redirects to `/facilitator`,
//!   an address without the secret. Behind the cookie: `GET /facilitator/state` (with
//!   the page's CSRF token), `/facilitator/qr.svg`, `/facilitator/story/{n}`,
//!   `/facilitator/report`, `/facilitator/messages.csv`; `GET /projector` and
//!   `/projector/state` (the view to project: no controls, no true sea before the
//!   debrief); and the actions `POST /facilitator/{start,pause,resume,extend}`,
//!   `POST /facilitator/release/{team}`, which also need this server's `Origin` and the
//!   CSRF token.
//!
//! Every response is `no-store` and `nosniff`, and may not be framed; pages run only
//! their own script (a fresh CSP nonce per page).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::accept::{self, Conn, Registry};
use super::desk::{AnswerError, ClaimError, Desk, SeatStatus};
use super::guard::{self, ConnInfo};
use super::pages;
use super::respond::{document, error, not_found, page, page_with, wants_page};
use super::room::{cookie, Classroom, FACILITATOR_COOKIE, SEAT_COOKIE};

/// How long a state request waits for a change before answering anyway.
const LONG_POLL: Duration = Duration::from_secs(20);
/// Every route of the seat server, behind the guards.
pub fn router(room: Classroom) -> Router {
    let body = || axum::middleware::from_fn_with_state(room.clone(), guard::body);
    let join = Router::new()
        .route("/join/{code}", get(join_page))
        .route("/join/{code}/state", get(join_state))
        .route("/join/{code}/claim", post(join_claim).layer(body()))
        .route_layer(axum::middleware::from_fn_with_state(
            room.clone(),
            guard::join_code,
        ));
    let actions = Router::new()
        .route("/facilitator/start", post(start))
        .route("/facilitator/pause", post(pause))
        .route("/facilitator/resume", post(resume))
        .route("/facilitator/extend", post(extend))
        .route("/facilitator/release/{team}", post(release))
        .route_layer(body())
        .route_layer(axum::middleware::from_fn_with_state(
            room.clone(),
            guard::facilitator_action,
        ));
    let facilitator = Router::new()
        .route("/facilitator/state", get(facilitator_state))
        .route("/projector/state", get(projector_state))
        .route("/facilitator/qr.svg", get(qr))
        .route("/facilitator/story/{n}", get(story))
        .route("/facilitator/report", get(report))
        .route("/facilitator/messages.csv", get(messages_csv))
        .route_layer(axum::middleware::from_fn_with_state(
            room.clone(),
            only_facilitator,
        ));
    let seat = Router::new()
        .route("/seat/{token}", get(seat_page))
        .route("/seat/{token}/state", get(seat_state))
        .route("/seat/{token}/answer", post(seat_answer).layer(body()))
        .route_layer(axum::middleware::from_fn_with_state(
            room.clone(),
            only_seat,
        ));
    Router::new()
        .route("/rules", get(rules))
        // Browsers ask for an icon on every page: none, without a 404 in their console.
        .route("/favicon.ico", get(|| async { StatusCode::NO_CONTENT }))
        .route("/facilitator/{token}", get(facilitator_enter))
        .route("/facilitator", get(facilitator_page))
        .route("/projector", get(projector_page))
        .merge(seat)
        .merge(join)
        .merge(actions)
        .merge(facilitator)
        .fallback(|headers: HeaderMap| async move { not_found(&headers) })
        .layer(axum::middleware::from_fn_with_state(
            room.clone(),
            guard::same_origin,
        ))
        .layer(axum::middleware::from_fn_with_state(
            room.clone(),
            guard::reserve,
        ))
        .layer(axum::middleware::from_fn_with_state(
            room.clone(),
            guard::host,
        ))
        .layer(axum::middleware::map_response(secure))
        .with_state(room)
}

/// A cookie only this site's pages send, never readable by a script.
fn set_cookie(response: &mut Response, name: &str, value: &str, tls: bool) {
    let secure = if tls { "; Secure" } else { "" };
    let cookie = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict{secure}");
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

/// Lets through requests to a seat's address that holds the seat (before any body is
/// read); an address the facilitator released says so.
async fn only_seat(
    State(room): State<Classroom>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let token = request
        .uri()
        .path()
        .split('/')
        .nth(2)
        .unwrap_or("")
        .to_string();
    if room.desk.team_of(&token).is_some() {
        next.run(request).await
    } else {
        not_a_seat(&room, &token, request.headers())
    }
}

/// Lets through requests carrying the facilitator's cookie.
async fn only_facilitator(
    State(room): State<Classroom>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let headers = request.headers();
    if cookie(headers, FACILITATOR_COOKIE).is_some_and(|t| room.desk.is_facilitator(&t)) {
        next.run(request).await
    } else {
        error(
            StatusCode::UNAUTHORIZED,
            "this screen opens with the facilitator's link that `fishbanks play` printed",
        )
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

/// Serves `room` on `listener` until `shutdown` completes, through the accept loop
/// ([`accept`]: per-address caps, a reserve for credential holders, eviction of
/// long-silent connections only, header and body deadlines), over TLS when given.
pub async fn serve(
    listener: tokio::net::TcpListener,
    room: Classroom,
    tls: Option<accept::Tls>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = room.limits;
    serve_with(listener, router(room), limits, tls, shutdown).await
}

/// Serves any of the seat module's routers (the MCP endpoint's) through the same accept
/// loop, with the default limits (per-address caps, eviction of long-silent connections
/// only, header deadlines), over plain HTTP. Its requests carry no classroom credential:
/// every connection counts as its address's.
pub(crate) async fn serve_app(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, app, accept::Limits::default(), None, shutdown).await
}

async fn serve_with(
    listener: tokio::net::TcpListener,
    app: Router,
    limits: accept::Limits,
    tls: Option<accept::Tls>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let registry = Registry::new(limits);
    let app = App {
        router: app,
        registry: registry.clone(),
    };
    accept::serve(listener, registry, tls, app, shutdown).await
}

/// The router, handed each connection it serves.
#[derive(Clone)]
struct App {
    router: Router,
    registry: Arc<Registry>,
}

impl accept::MakeService for App {
    type Service = ConnService;
    fn for_connection(&self, conn: Arc<Conn>) -> ConnService {
        ConnService {
            inner: hyper_util::service::TowerToHyperService::new(self.router.clone()),
            info: ConnInfo {
                conn,
                registry: self.registry.clone(),
            },
        }
    }
}

/// The router as one connection's service: every request carries its connection and
/// counts as under way (never closed to make room) until its response is ready.
struct ConnService {
    inner: hyper_util::service::TowerToHyperService<Router>,
    info: ConnInfo,
}

impl hyper::service::Service<hyper::Request<hyper::body::Incoming>> for ConnService {
    type Response = Response;
    type Error = std::convert::Infallible;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Response, std::convert::Infallible>> + Send>,
    >;

    fn call(&self, mut request: hyper::Request<hyper::body::Incoming>) -> Self::Future {
        let under_way = self.info.conn.begin();
        request.extensions_mut().insert(self.info.clone());
        let response = self.inner.call(request);
        Box::pin(async move {
            let response = response.await;
            drop(under_way);
            response
        })
    }
}

#[derive(Deserialize)]
struct Since {
    since: Option<u64>,
}

async fn rules(State(room): State<Classroom>) -> Response {
    Json(room.handout.as_ref()).into_response()
}

// ---- the join page ----

async fn join_page() -> Response {
    page(pages::join)
}

async fn join_state(State(room): State<Classroom>, headers: HeaderMap) -> Response {
    let desk = &room.desk;
    let mine = cookie(&headers, SEAT_COOKIE).and_then(|t| desk.team_of(&t).map(|team| (team, t)));
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
        "started": desk.is_started(),
        "yours": mine.map(|(team, token)| json!({"team": team, "seat": format!("/seat/{token}")})),
    }))
    .into_response()
}

#[derive(Deserialize)]
struct Claim {
    team: usize,
}

async fn join_claim(
    State(room): State<Classroom>,
    headers: HeaderMap,
    Json(body): Json<Claim>,
) -> Response {
    // One browser, one team: a browser that holds a seat goes back to it.
    if let Some(team) = cookie(&headers, SEAT_COOKIE).and_then(|t| room.desk.team_of(&t)) {
        return error(
            StatusCode::CONFLICT,
            format!("this browser already plays team {team}: one team per browser"),
        );
    }
    match room.desk.claim(body.team) {
        Ok(token) => {
            let mut response = Json(json!({"seat": format!("/seat/{token}")})).into_response();
            set_cookie(&mut response, SEAT_COOKIE, &token, room.tls);
            response
        }
        Err(e @ ClaimError::Taken(_)) => error(StatusCode::CONFLICT, e),
        Err(e @ ClaimError::NoSuchSeat(_)) => error(StatusCode::NOT_FOUND, e),
    }
}

// ---- a seat ----

/// The answer to a seat's address that no longer holds the seat: the facilitator
/// released it (410, with the join address), or it never did (404).
fn not_a_seat(room: &Classroom, token: &str, headers: &HeaderMap) -> Response {
    let Some(team) = room.desk.released_from(token) else {
        return not_found(headers);
    };
    let join = format!("/join/{}", room.desk.join_code());
    if wants_page(headers) {
        page_with(StatusCode::GONE, |nonce| {
            pages::notice(
                nonce,
                &format!("Team {team} was released"),
                &format!("The facilitator released team {team}: this page no longer plays it. Join the game again to take a free team."),
                Some((&join, "Join the game")),
            )
        })
    } else {
        (
            StatusCode::GONE,
            Json(json!({"released": team, "join": join})),
        )
            .into_response()
    }
}

async fn seat_page(
    State(room): State<Classroom>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    match room.desk.view(&token) {
        Some(view) => page(|nonce| pages::seat(view.team, nonce)),
        None => not_a_seat(&room, &token, &headers),
    }
}

async fn seat_state(
    State(room): State<Classroom>,
    Path(token): Path<String>,
    Query(q): Query<Since>,
    headers: HeaderMap,
) -> Response {
    let desk = &room.desk;
    if desk.view(&token).is_none() {
        return not_a_seat(&room, &token, &headers);
    }
    if let Some(seen) = q.since {
        desk.changed_since(seen, LONG_POLL).await;
    }
    let version = desk.version();
    let Some(view) = desk.view(&token) else {
        return not_a_seat(&room, &token, &headers);
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
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let body: Submitted = match serde_json::from_slice(&body) {
        Ok(body) => body,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("not an answer: {e}")),
    };
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
        Err(AnswerError::UnknownSeat) => not_a_seat(&room, &token, &headers),
        Err(e @ AnswerError::Closed) => error(StatusCode::CONFLICT, e),
    }
}

// ---- the facilitator ----

/// The printed link: the secret goes into a cookie and the browser on to an address
/// without it, so a photograph of the screen gives nothing away.
async fn facilitator_enter(
    State(room): State<Classroom>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    if !room.desk.is_facilitator(&token) {
        return not_found(&headers);
    }
    let mut response = (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, HeaderValue::from_static("/facilitator"))],
    )
        .into_response();
    set_cookie(&mut response, FACILITATOR_COOKIE, &token, room.tls);
    response
}

async fn facilitator_page() -> Response {
    page(pages::facilitator)
}

async fn projector_page() -> Response {
    page(pages::projector)
}

/// Every team's status, for the facilitator's screen and the projector (a person's seat
/// never by its address).
fn teams(desk: &Desk) -> Vec<serde_json::Value> {
    let views = desk.views();
    desk.roster()
        .labels
        .iter()
        .enumerate()
        .map(|(i, label)| match views.iter().find(|v| v.team == i + 1) {
            Some(v) => json!({
                "team": v.team,
                "who": "person",
                "taken": desk.is_claimed(v.team),
                "status": v.status,
                "asked": v.question.as_ref().map(|q| json!({"title": q.title, "year": q.year, "repair": q.repair})),
                "seconds_left": v.seconds_left,
                "tally": v.tally,
            }),
            None => json!({"team": i + 1, "who": label}),
        })
        .collect()
}

fn ending(desk: &Desk) -> Option<serde_json::Value> {
    desk.ending().map(|e| {
        json!({
            "stories": e.stories.iter().map(|(run, _)| run).collect::<Vec<_>>(),
            "report": e.report.is_some(),
            "results": e.results,
        })
    })
}

async fn facilitator_state(State(room): State<Classroom>, Query(q): Query<Since>) -> Response {
    let desk = &room.desk;
    if let Some(seen) = q.since {
        desk.changed_since(seen, LONG_POLL).await;
    }
    Json(json!({
        "version": desk.version(),
        "csrf": room.csrf,
        "started": desk.is_started(),
        "teams": teams(desk),
        "paused": desk.is_paused(),
        "years": desk.true_years(),
        "sea": desk.sea(),
        "join": {"code": desk.join_code(), "urls": room.join_urls},
        "ending": ending(desk),
    }))
    .into_response()
}

/// What the projected screen shows: the join address, the teams' status and the clock;
/// the true sea only once the game is over (the debrief).
async fn projector_state(State(room): State<Classroom>, Query(q): Query<Since>) -> Response {
    let desk = &room.desk;
    if let Some(seen) = q.since {
        desk.changed_since(seen, LONG_POLL).await;
    }
    let over = desk.ending().is_some();
    let years = if over { desk.true_years() } else { Vec::new() };
    let played = desk.true_years().last().map(|y| y.year);
    Json(json!({
        "version": desk.version(),
        "started": desk.is_started(),
        "teams": teams(desk),
        "paused": desk.is_paused(),
        "played": played,
        "years": years,
        "sea": desk.sea(),
        "join": {"code": desk.join_code(), "urls": room.join_urls},
        "ending": ending(desk),
    }))
    .into_response()
}

async fn qr(State(room): State<Classroom>) -> Response {
    let Some(url) = room.join_urls.first() else {
        return error(StatusCode::NOT_FOUND, "no join address");
    };
    match super::qr::svg(&format!("{url}/join/{}", room.desk.join_code())) {
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

async fn start(State(room): State<Classroom>) -> Response {
    room.desk.start();
    done()
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

async fn release(State(room): State<Classroom>, Path(team): Path<usize>) -> Response {
    if room.desk.release(team) {
        done()
    } else {
        error(
            StatusCode::NOT_FOUND,
            format!("team {team} is not a seat for a person"),
        )
    }
}

async fn story(State(room): State<Classroom>, Path(n): Path<usize>) -> Response {
    match room.desk.ending().and_then(|e| e.stories.get(n).cloned()) {
        Some((_, html)) => document(html),
        None => error(StatusCode::NOT_FOUND, "no such story"),
    }
}

async fn report(State(room): State<Classroom>) -> Response {
    match room.desk.ending().and_then(|e| e.report) {
        Some(html) => document(html),
        None => error(StatusCode::NOT_FOUND, "no report yet"),
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
    use crate::seat::room::Handout;
    use std::path::PathBuf;

    /// A classroom of one person's seat (team 1) and one scripted team, at 127.0.0.1:80.
    fn room() -> Classroom {
        let desk = Desk::new(super::super::desk::DeskSetup {
            roster: super::super::desk::Roster {
                labels: vec!["human".into(), "greedy".into()],
            },
            humans: vec![0],
            timeout: Duration::from_secs(60),
            max_repairs: 2,
            fallback: crate::question::Fallback::Previous,
            sea: Default::default(),
            secrets: None,
            secrets_file: None,
        });
        Classroom::new(
            desk,
            PathBuf::from("/nonexistent"),
            vec!["http://127.0.0.1:80".into()],
            &[],
            false,
            Handout::default(),
        )
    }

    /// A request whose body never comes.
    fn stalled(method: &str, path: &str, host: &str) -> axum::extract::Request {
        let never = futures::stream::pending::<Result<axum::body::Bytes, std::io::Error>>();
        axum::http::Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, host)
            .header(header::CONTENT_TYPE, "application/json")
            .body(axum::body::Body::from_stream(never))
            .unwrap()
    }

    async fn send(room: &Classroom, request: axum::extract::Request) -> Response {
        use tower::Service;
        let mut app = router(room.clone());
        std::future::poll_fn(|cx| {
            <Router as Service<axum::extract::Request>>::poll_ready(&mut app, cx)
        })
        .await
        .unwrap();
        app.call(request).await.unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_that_never_comes_frees_its_connection_at_the_deadline() {
        let room = room();
        let code = room.desk.join_code().to_string();
        let response = send(
            &room,
            stalled("POST", &format!("/join/{code}/claim"), "127.0.0.1"),
        )
        .await;
        assert_eq!(response.status(), StatusCode::REQUEST_TIMEOUT);
        assert_eq!(response.headers()[header::CONNECTION], "close");
        // An answer to no seat is refused before its body is read (else: 408).
        let response = send(&room, stalled("POST", "/seat/nobody/answer", "127.0.0.1")).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        // A wrong host is refused before anything else.
        let response = send(
            &room,
            stalled("POST", &format!("/join/{code}/claim"), "evil.example"),
        )
        .await;
        assert_eq!(response.status(), StatusCode::MISDIRECTED_REQUEST);
    }

    #[tokio::test]
    async fn the_served_hosts_are_the_addresses_localhost_and_the_names_given() {
        let room = Classroom::new(
            room().desk,
            PathBuf::new(),
            vec![
                "http://10.0.0.5:8080".into(),
                "http://127.0.0.1:8080".into(),
            ],
            &["Teacher.local".into(), "class.example:9000".into()],
            false,
            Handout::default(),
        );
        assert_eq!(
            room.hosts,
            [
                "10.0.0.5:8080",
                "127.0.0.1:8080",
                "localhost:8080",
                "teacher.local:8080",
                "class.example:9000"
            ]
        );
    }

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
