//! `fishbanks play` on a school network: the facilitator's secret never in an address
//! and its actions only from its own page (cookie, Origin, CSRF), the clock waiting for
//! "Start the game", the Host check against DNS rebinding, the join-code throttle, a
//! burst of connections all answered, one address's slow bodies leaving the class its
//! connections, and HTTPS with a given certificate.

use crate::play::{
    class_experiment, header, http, http_with, start_with, until_state, Facilitator,
};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// `host:port` of a URL.
fn addr_of(url: &str) -> SocketAddr {
    let rest = url.split_once("://").unwrap().1;
    rest[..rest.find('/').unwrap_or(rest.len())]
        .parse()
        .unwrap()
}

/// One request written as given (its own Host), over a fresh connection: the status.
fn raw(addr: SocketAddr, request: &str) -> u16 {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

#[test]
fn the_facilitators_secret_stays_off_the_screen_and_only_its_page_acts_and_the_clock_waits_for_the_start(
) {
    let work = tempfile::tempdir().unwrap();
    let exp = class_experiment(2).write(work.path());
    let out = work.path().join("out");
    let (_child, printed) = start_with(&exp, &out, &["--exit-when-done", "--seat-links"]);
    let token = printed.facilitator.rsplit('/').next().unwrap().to_string();
    let facilitator = Facilitator::enter(&printed.facilitator);
    let origin = facilitator.origin.clone();

    // The final address and the pages carry no secret; the data needs the cookie.
    for page in ["/facilitator", "/projector"] {
        let (status, body) = facilitator.get(page);
        assert_eq!(status, 200);
        assert!(!body.contains(&token), "{page} holds the secret");
    }
    assert_eq!(
        http("GET", &format!("{origin}/facilitator/state"), None).0,
        401
    );
    assert_eq!(
        http("GET", &format!("{origin}/projector/state"), None).0,
        401
    );
    let state = facilitator.state();
    assert!(!state.to_string().contains(&token));
    assert!(state["csrf"].as_str().is_some_and(|c| c.len() == 32));
    // The projector: no CSRF token, no true sea before the debrief.
    let (_, body) = facilitator.get("/projector/state");
    let projector: Value = serde_json::from_str(&body).unwrap();
    assert!(projector.get("csrf").is_none());
    assert_eq!(projector["years"], serde_json::json!([]));

    // Nobody is asked before the start: a seat shows no question and no clock.
    let seat = &printed.seats[0];
    let view: Value = serde_json::from_str(&http("GET", &format!("{seat}/state"), None).1).unwrap();
    assert_eq!(view["seat"]["started"], false);
    assert!(view["seat"]["question"].is_null());

    // A cross-site form against the facilitator: refused, with or without the cookie
    // (SameSite=Strict keeps a browser from sending it; a stolen one is not enough).
    let form = |extra: &str| {
        http_with(
            "POST",
            &format!("{origin}/facilitator/start"),
            Some("go=1"),
            &format!("Content-Type: application/x-www-form-urlencoded\r\n{extra}"),
        )
        .0
    };
    let cookie = format!("Cookie: {}\r\n", facilitator.cookie);
    assert_eq!(form("Origin: http://evil.example\r\n"), 403);
    assert_eq!(
        form(&format!("{cookie}Origin: http://evil.example\r\n")),
        403
    );
    assert_eq!(
        form(&format!("{cookie}Origin: {origin}\r\n")),
        403,
        "no CSRF token"
    );
    let csrf = format!("X-Fishbanks-CSRF: {}\r\n", state["csrf"].as_str().unwrap());
    assert_eq!(form(&format!("{cookie}{csrf}")), 403, "no Origin");
    assert_eq!(
        form(&format!("{cookie}{csrf}Origin: http://evil.example\r\n")),
        403
    );
    assert_eq!(facilitator.state()["started"], false, "still not started");
    // A cross-site POST to a student's seat or the join page is refused too.
    let join = &printed.join;
    let (status, _, _) = http_with(
        "POST",
        &format!("{join}/claim"),
        Some(r#"{"team": 1}"#),
        "Origin: http://evil.example\r\n",
    );
    assert_eq!(status, 403);

    // "Start the game" from the facilitator's page: the first question comes up.
    assert_eq!(facilitator.act("start", None), 200);
    let asked = until_state(seat, |s| s["seat"]["question"].is_object());
    assert_eq!(asked["seat"]["started"], true);
    let q = &asked["seat"]["question"];
    assert!(q["title"].as_str().is_some_and(|t| !t.contains('_')), "{q}");
    assert_eq!(q["tries_left"], 3);
}

#[test]
fn a_page_named_by_another_host_is_refused_and_guessed_join_codes_are_throttled() {
    let work = tempfile::tempdir().unwrap();
    let exp = class_experiment(2).write(work.path());
    let out = work.path().join("out");
    let (_child, printed) = start_with(&exp, &out, &["--exit-when-done"]);
    let addr = addr_of(&printed.join);
    let path = &printed.join[printed.join.find("/join/").unwrap()..];
    let get = |host: &str| {
        raw(
            addr,
            &format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
        )
    };
    // DNS rebinding: a page of evil.example renamed to this address is not served.
    assert_eq!(get(&format!("evil.example:{}", addr.port())), 421);
    assert_eq!(get("evil.example"), 421);
    assert_eq!(get(&addr.to_string()), 200);
    assert_eq!(
        get(&format!("localhost:{}", addr.port())),
        200,
        "loopback by name"
    );
    // A second Host header, or a target naming another host, is refused too.
    let two = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nHost: evil.example\r\nConnection: close\r\n\r\n"
    );
    assert_eq!(raw(addr, &two), 400);
    let absolute = format!(
        "GET http://evil.example{path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    );
    assert_eq!(raw(addr, &absolute), 421);
    let absolute_own =
        format!("GET http://{addr}{path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    assert_eq!(raw(addr, &absolute_own), 200);

    // Twenty wrong codes from one computer, then even the right one waits a minute.
    let base = &printed.join[..printed.join.find("/join/").unwrap()];
    for i in 0..20 {
        assert_eq!(http("GET", &format!("{base}/join/WRONG{i}"), None).0, 404);
    }
    let (status, head, body) = http_with("GET", &format!("{}/state", printed.join), None, "");
    assert_eq!(status, 429, "{body}");
    assert!(header(&head, "retry-after").is_some());
}

/// A client socket from `source` (any 127.0.0.0/8 address is this machine).
async fn connect_from(source: [u8; 4], to: SocketAddr) -> tokio::net::TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::from((source, 0))).unwrap();
    socket.connect(to).await.unwrap()
}

/// Reads a response head (up to the blank line) and returns its status.
async fn status_of(stream: &mut tokio::net::TcpStream) -> u16 {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte).await {
            Ok(1) => buf.push(byte[0]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&buf)
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn a_burst_is_answered_whole_and_one_addresss_slow_bodies_leave_the_class_its_connections() {
    let work = tempfile::tempdir().unwrap();
    let exp = class_experiment(2).write(work.path());
    let out = work.path().join("out");
    let (_child, printed) = start_with(&exp, &out, &["--exit-when-done", "--per-address", "8"]);
    let addr = addr_of(&printed.join);
    let path = printed.join[printed.join.find("/join/").unwrap()..].to_string();
    let host = addr.to_string();

    // 100 connections opened at once, as browsers preconnect, then each asks for a page
    // (from 100 addresses: one address holds at most 8 here).
    let mut burst = Vec::new();
    for i in 0..100u8 {
        burst.push(connect_from([127, 0, 1, i + 1], addr).await);
    }
    for stream in &mut burst {
        let request = format!("GET {path}/state HTTP/1.1\r\nHost: {host}\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
    }
    let mut answered = 0;
    for stream in &mut burst {
        answered += usize::from(status_of(stream).await == 200);
    }
    assert_eq!(answered, 100, "every connection of the burst was answered");
    drop(burst);

    // One address sends slow bodies: it holds its 8 connections (until the body
    // deadline), its further ones get only the reserve, which serves credentials only.
    let claim = format!(
        "POST {path}/claim HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{"
    );
    let mut slow = Vec::new();
    for _ in 0..8 {
        let mut s = connect_from([127, 0, 0, 9], addr).await;
        s.write_all(claim.as_bytes()).await.unwrap();
        slow.push(s);
    }
    let mut over = connect_from([127, 0, 0, 9], addr).await;
    over.write_all(claim.as_bytes()).await.unwrap();
    assert_eq!(
        status_of(&mut over).await,
        503,
        "past its share: the reserve, credentials only"
    );
    // A body declared too large is refused before it is sent.
    let mut large = connect_from([127, 0, 0, 10], addr).await;
    large
        .write_all(
            format!(
                "POST {path}/claim HTTP/1.1\r\nHost: {host}\r\nContent-Length: 1000000\r\n\r\n"
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    assert_eq!(status_of(&mut large).await, 413);
    // Another address loads the join page as if nothing happened.
    for _ in 0..10 {
        let mut page = connect_from([127, 0, 0, 1], addr).await;
        page.write_all(
            format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await
        .unwrap();
        assert_eq!(status_of(&mut page).await, 200);
    }
    // The slow ones are still waiting for their bodies (the deadline is 10 s).
    drop(slow);
}

#[cfg(feature = "tls")]
/// A TLS client that trusts the test CA (`tests/fixtures/tls`).
fn tls_client() -> tokio_rustls::TlsConnector {
    use rustls::pki_types::pem::PemObject;
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls");
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::CertificateDer::pem_file_iter(fixtures.join("ca.pem")).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    tokio_rustls::TlsConnector::from(std::sync::Arc::new(config))
}

#[cfg(feature = "tls")]
#[tokio::test]
async fn https_with_a_given_certificate_serves_the_class_and_marks_its_cookies_secure() {
    let work = tempfile::tempdir().unwrap();
    let exp = class_experiment(2).write(work.path());
    let out = work.path().join("out");
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls");
    let (cert, key) = (fixtures.join("cert.pem"), fixtures.join("key.pem"));
    let (_child, printed) = start_with(
        &exp,
        &out,
        &[
            "--exit-when-done",
            "--bind",
            "127.0.0.1:0",
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
    );
    assert!(
        printed.join.starts_with("https://127.0.0.1:"),
        "{}",
        printed.join
    );
    assert!(printed.facilitator.starts_with("https://"));
    let addr = addr_of(&printed.join);
    let path = &printed.join[printed.join.find("/join/").unwrap()..];
    let connector = tls_client();
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut tls = connector.connect(name, tcp).await.unwrap();
    let body = r#"{"team": 1}"#;
    tls.write_all(
        format!(
            "POST {path}/claim HTTP/1.1\r\nHost: {addr}\r\nOrigin: https://{addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let mut response = Vec::new();
    let _ = tls.read_to_end(&mut response).await;
    let response = String::from_utf8_lossy(&response).to_ascii_lowercase();
    assert!(response.starts_with("http/1.1 200"), "{response}");
    let cookie = response
        .lines()
        .find(|l| l.starts_with("set-cookie:"))
        .unwrap();
    assert!(
        cookie.contains("; secure") && cookie.contains("httponly"),
        "{cookie}"
    );
    // Plain HTTP on the HTTPS port gets no page.
    let mut plain = tokio::net::TcpStream::connect(addr).await.unwrap();
    plain
        .write_all(format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut back = Vec::new();
    let _ = plain.read_to_end(&mut back).await;
    assert!(!String::from_utf8_lossy(&back).contains("200 OK"));
}

#[cfg(feature = "tls")]
#[test]
fn a_missing_or_mismatched_certificate_is_refused_with_the_file_named() {
    let work = tempfile::tempdir().unwrap();
    let exp = class_experiment(2).write(work.path());
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_fishbanks"))
        .args(["play", exp.to_str().unwrap(), "--out"])
        .arg(work.path().join("out"))
        .arg("--tls-cert")
        .arg(work.path().join("missing.pem"))
        .arg("--tls-key")
        .arg(fixtures.join("key.pem"))
        .output()
        .unwrap();
    assert_ne!(output.status.code(), Some(0));
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(said.contains("missing.pem"), "{said}");
    // The CA's certificate with the server's key: they do not go together.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_fishbanks"))
        .args(["play", exp.to_str().unwrap(), "--out"])
        .arg(work.path().join("out2"))
        .arg("--tls-cert")
        .arg(fixtures.join("ca.pem"))
        .arg("--tls-key")
        .arg(fixtures.join("key.pem"))
        .output()
        .unwrap();
    assert_ne!(output.status.code(), Some(0));
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(said.contains("do not go together"), "{said}");
}
