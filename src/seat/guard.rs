//! What every request passes before a route sees it: the Host it names (a page served
//! under a name nobody gave is a DNS-rebinding attack), its credential (and the reserve
//! kept for credential holders, see [`super::accept`]), the throttle on guessed join
//! codes, the origin of a POST (and the facilitator's CSRF token), and the deadline and
//! size of a body.

use std::net::IpAddr;
use std::sync::Arc;

use super::accept::{Conn, Limits, Pool, Registry};
use super::respond::not_found;
use super::room::{cookie, Classroom, FACILITATOR_COOKIE, SEAT_COOKIE};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The connection a request came on, as the accept loop admitted it (absent when a
/// router is called directly, as tests do).
#[derive(Clone)]
pub struct ConnInfo {
    pub conn: Arc<Conn>,
    pub registry: Arc<Registry>,
}

/// The header a facilitator's page sends its CSRF token in.
pub const CSRF_HEADER: &str = "x-fishbanks-csrf";

/// A small page or JSON error, closing the connection when asked.
fn refuse(status: StatusCode, text: &str, close: bool) -> Response {
    let mut response = (status, axum::Json(serde_json::json!({ "error": text }))).into_response();
    if close {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// The request's Host, lower-cased, with the default port of the scheme added.
fn host_of(headers: &HeaderMap, tls: bool) -> Option<String> {
    let host = headers
        .get(header::HOST)?
        .to_str()
        .ok()?
        .trim()
        .to_ascii_lowercase();
    let has_port = match host.rfind(':') {
        // `[::1]` alone has colons but no port.
        Some(i) => !host[i..].contains(']'),
        None => false,
    };
    Some(if has_port {
        host
    } else {
        format!("{host}:{}", if tls { 443 } else { 80 })
    })
}

/// Refuses a request whose Host is not one of the addresses the server was given: a
/// page of another site must not reach this one by renaming it (DNS rebinding). A
/// request with two Host headers, or whose target names another host (absolute form),
/// is refused too: no part of a request may name a host this server does not serve.
pub async fn host(State(room): State<Classroom>, request: Request, next: Next) -> Response {
    if request.headers().get_all(header::HOST).iter().count() > 1 {
        return refuse(StatusCode::BAD_REQUEST, "a request names one host", true);
    }
    let served = |host: &str| room.hosts.iter().any(|h| h == host);
    let target = request.uri().authority().map(|a| {
        let mut h = HeaderMap::new();
        if let Ok(v) = HeaderValue::from_str(a.as_str()) {
            h.insert(header::HOST, v);
        }
        host_of(&h, room.tls)
    });
    let target_served = match target {
        None => true,
        Some(t) => t.as_deref().is_some_and(served),
    };
    match host_of(request.headers(), room.tls) {
        Some(host) if served(&host) && target_served => next.run(request).await,
        _ => refuse(
            StatusCode::MISDIRECTED_REQUEST,
            &format!(
                "this server answers only at {} (fishbanks play --host NAME adds a name)",
                room.join_urls.join(", ")
            ),
            true,
        ),
    }
}

/// The credential a request carries, named: a seat's token (in its path or the seat
/// cookie: `seat N`) or the facilitator's (the cookie, or the link `fishbanks play`
/// printed: `facilitator`).
fn credential(room: &Classroom, request: &Request) -> Option<String> {
    let desk = &room.desk;
    let seat = |token: &str| desk.team_of(token).map(|team| format!("seat {team}"));
    let mut segments = request.uri().path().split('/').skip(1);
    let by_path = match (segments.next(), segments.next()) {
        (Some("seat"), Some(token)) => seat(token),
        (Some("facilitator"), Some(token)) if desk.is_facilitator(token) => {
            Some("facilitator".to_string())
        }
        _ => None,
    };
    let headers = request.headers();
    by_path
        .or_else(|| {
            cookie(headers, FACILITATOR_COOKIE)
                .filter(|t| desk.is_facilitator(t))
                .map(|_| "facilitator".to_string())
        })
        .or_else(|| cookie(headers, SEAT_COOKIE).and_then(|t| seat(&t)))
}

/// Notes a credential on the connection (it leaves its address's anonymous count) and
/// refuses a request without one (or past its credential's share) on a connection of the
/// reserve.
pub async fn reserve(State(room): State<Classroom>, request: Request, next: Next) -> Response {
    if let Some(info) = request.extensions().get::<ConnInfo>().cloned() {
        // The reserve serves a credential within its share (a student's browser, not a
        // student's script holding the reserve with the seat's own token).
        let counted = credential(&room, &request)
            .is_some_and(|key| info.registry.credentialed(&info.conn, &key));
        if !counted && info.conn.pool == Pool::Reserve {
            let mut response = refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                "the server is busy; this page tries again in a moment",
                true,
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
            return response;
        }
    }
    next.run(request).await
}

/// The client a request came from (`0.0.0.0` when called without a connection).
fn client(request: &Request) -> IpAddr {
    request
        .extensions()
        .get::<ConnInfo>()
        .map_or(IpAddr::from([0, 0, 0, 0]), |i| i.conn.client)
}

/// Lets through requests whose `{code}` is the game's join code (any letter case); a
/// wrong one counts against its client, and a client past
/// [`JOIN_FAILURES`](super::throttle::JOIN_FAILURES) waits.
pub async fn join_code(State(room): State<Classroom>, request: Request, next: Next) -> Response {
    let who = client(&request);
    if let Some(wait) = room.throttle.wait(who) {
        let mut response = refuse(
            StatusCode::TOO_MANY_REQUESTS,
            &format!("too many wrong join codes from this computer: try again in {wait} s"),
            false,
        );
        if let Ok(value) = HeaderValue::from_str(&wait.to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return response;
    }
    let code = request.uri().path().split('/').nth(2).unwrap_or("");
    if code.eq_ignore_ascii_case(room.desk.join_code()) {
        next.run(request).await
    } else {
        room.throttle.failed(who);
        not_found(request.headers())
    }
}

/// The origin this server is reached at, as a browser names it in `Origin`.
fn own_origin(headers: &HeaderMap, tls: bool) -> Option<String> {
    let host = headers
        .get(header::HOST)?
        .to_str()
        .ok()?
        .trim()
        .to_ascii_lowercase();
    Some(format!("{}://{host}", if tls { "https" } else { "http" }))
}

/// A POST from a page of another site is refused: its `Origin`, when the browser sends
/// one (every browser does on a POST), must be this server's.
pub async fn same_origin(State(room): State<Classroom>, request: Request, next: Next) -> Response {
    if request.method() == Method::POST {
        if let Some(origin) = request.headers().get(header::ORIGIN) {
            let own = own_origin(request.headers(), room.tls);
            let origin = origin.to_str().unwrap_or("").to_ascii_lowercase();
            if own.as_deref() != Some(origin.as_str()) {
                return refuse(StatusCode::FORBIDDEN, "a request from another site", false);
            }
        }
    }
    next.run(request).await
}

/// The facilitator's actions: the cookie, an `Origin` (required here) of this server and
/// the CSRF token its page was given.
pub async fn facilitator_action(
    State(room): State<Classroom>,
    request: Request,
    next: Next,
) -> Response {
    let headers = request.headers();
    if !cookie(headers, FACILITATOR_COOKIE).is_some_and(|t| room.desk.is_facilitator(&t)) {
        return not_found(headers);
    }
    let origin = headers
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
        .map(str::to_ascii_lowercase);
    if origin.is_none() || origin != own_origin(headers, room.tls) {
        return refuse(
            StatusCode::FORBIDDEN,
            "a facilitator's action must come from the facilitator's page",
            false,
        );
    }
    let token = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
    if !token.is_some_and(|t| super::desk::same_secret(t, &room.csrf)) {
        return refuse(
            StatusCode::FORBIDDEN,
            "the page is out of date: reload it",
            false,
        );
    }
    next.run(request).await
}

/// Reads a request's body within [`Limits::body_read`] and at most [`Limits::max_body`]
/// bytes, so a client that trickles a body frees its connection (408) and one that
/// declares a large one is refused before it sends it (413).
pub async fn body(State(room): State<Classroom>, request: Request, next: Next) -> Response {
    let limits: Limits = room.limits;
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limits.max_body as u64) {
        return refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            "the request is too large",
            true,
        );
    }
    let (parts, body) = request.into_parts();
    let read = axum::body::to_bytes(body, limits.max_body);
    match tokio::time::timeout(limits.body_read, read).await {
        Err(_) => refuse(
            StatusCode::REQUEST_TIMEOUT,
            "the request's body came too slowly",
            true,
        ),
        Ok(Err(_)) => refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            "the request is too large or was cut off",
            true,
        ),
        Ok(Ok(bytes)) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_compared_with_their_port() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("Example.org"));
        assert_eq!(host_of(&h, false).as_deref(), Some("example.org:80"));
        assert_eq!(host_of(&h, true).as_deref(), Some("example.org:443"));
        h.insert(header::HOST, HeaderValue::from_static("[::1]"));
        assert_eq!(host_of(&h, false).as_deref(), Some("[::1]:80"));
        h.insert(header::HOST, HeaderValue::from_static("[::1]:8080"));
        assert_eq!(host_of(&h, false).as_deref(), Some("[::1]:8080"));
        h.insert(header::HOST, HeaderValue::from_static("10.0.0.1:8080"));
        assert_eq!(
            own_origin(&h, true).as_deref(),
            Some("https://10.0.0.1:8080")
        );
    }
}
