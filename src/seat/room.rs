//! What the seat server's routes and guards share: the [`Classroom`] (the desk, the
//! addresses and hosts it serves, its limits, the facilitator's CSRF token, the join-code
//! throttle), the rules in words, and the cookies.

use std::path::PathBuf;
use std::sync::Arc;

use axum::http::{header, HeaderMap};
use serde::Serialize;

use super::accept::Limits;
use super::desk::Desk;
use super::throttle::Throttle;

/// The cookie that tells the join page which seat this browser holds.
pub const SEAT_COOKIE: &str = "fishbanks_seat";
/// The cookie that holds the facilitator's secret, set by the printed link.
pub const FACILITATOR_COOKIE: &str = "fishbanks_facilitator";

/// The rules of the game in plain words, for the seat page's "How to play" (written by
/// whoever knows the game: `fishbanks play`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Handout {
    /// Paragraphs, each a sentence or two.
    pub lines: Vec<String>,
}

/// What the routes share.
#[derive(Clone)]
pub struct Classroom {
    pub desk: Arc<Desk>,
    /// The results directory of the game (the facilitator's spreadsheet export).
    pub results: PathBuf,
    /// The server's addresses students can reach (`http://host:port`; the first goes in
    /// the QR code).
    pub join_urls: Vec<String>,
    /// The `Host` values this server answers to (`host:port`, lower case).
    pub hosts: Vec<String>,
    /// Whether it serves HTTPS (cookies are then `Secure`).
    pub tls: bool,
    pub handout: Arc<Handout>,
    pub limits: Limits,
    /// The facilitator's page sends it with every action.
    pub csrf: String,
    pub throttle: Arc<Throttle>,
}

impl Classroom {
    /// The routes' shared state for `desk`, reached at `join_urls`, answering to the
    /// hosts of those addresses and `names` (extra host names, `--host`).
    pub fn new(
        desk: Arc<Desk>,
        results: PathBuf,
        join_urls: Vec<String>,
        names: &[String],
        tls: bool,
        handout: Handout,
    ) -> Classroom {
        let port = join_urls
            .first()
            .and_then(|u| u.rsplit(':').next())
            .unwrap_or("80")
            .to_string();
        let mut hosts: Vec<String> = join_urls
            .iter()
            .map(|u| u.split_once("://").map_or(u.as_str(), |(_, rest)| rest))
            .map(str::to_ascii_lowercase)
            .collect();
        if hosts
            .iter()
            .any(|h| h.starts_with("127.") || h.starts_with("[::1]"))
        {
            hosts.push(format!("localhost:{port}"));
        }
        for name in names {
            let name = name.to_ascii_lowercase();
            hosts.push(if name.contains(':') && !name.ends_with(']') {
                name
            } else {
                format!("{name}:{port}")
            });
        }
        Classroom {
            desk,
            results,
            join_urls,
            hosts,
            tls,
            handout: Arc::new(handout),
            limits: Limits::default(),
            csrf: super::desk::token(),
            throttle: Arc::new(Throttle::default()),
        }
    }
}

/// The value of cookie `name` in a request.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value.to_string())
}
