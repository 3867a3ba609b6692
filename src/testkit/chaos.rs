//! A fault-injecting HTTP proxy on loopback, between the harness and an upstream server
//! (the mock server): it forwards chat calls, and on a share of them answers with a
//! transport fault instead: 429 with `Retry-After` (seconds) or `retry-after-ms`, a bare
//! 429, a 503, a 500 whose body is not OpenAI-shaped, a reset connection, a short hang, or
//! the upstream's 200 with its body cut in half. It can also go down (every connection
//! dropped) and come back, like a server that dies and is restarted.
//!
//! Decisions are drawn from a hash of the request body and how often that body was seen,
//! and a request is faulted at most `max_faults_per_request` times, so a harness whose
//! retries exceed that always gets the upstream's answer. Only game calls are faulted
//! (bodies that carry a harness `REQUEST:`), never probes, so every injected fault is one
//! retry in the run's figures.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::Rng;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

use super::mock_server::{read_request, respond, Attempts};
use crate::llm::mock::request_rng;
use crate::llm::model::hash64;

/// A transport fault the proxy can inject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ChaosFault {
    /// 429 with `Retry-After: 1`.
    RateLimitRetryAfter,
    /// 429 with `retry-after-ms: 150`.
    RateLimitMs,
    /// 429 without a wait.
    RateLimitBare,
    /// 503.
    Unavailable,
    /// 500 with `{"error": "…"}` as plain text, not an OpenAI error object.
    NonOpenai,
    /// The connection is closed without an answer.
    Reset,
    /// Nothing is answered for `hang`, then the connection closes.
    Hang,
    /// The upstream's 200, its body cut in half.
    TruncatedOk,
}

impl ChaosFault {
    pub const ALL: [ChaosFault; 8] = [
        ChaosFault::RateLimitRetryAfter,
        ChaosFault::RateLimitMs,
        ChaosFault::RateLimitBare,
        ChaosFault::Unavailable,
        ChaosFault::NonOpenai,
        ChaosFault::Reset,
        ChaosFault::Hang,
        ChaosFault::TruncatedOk,
    ];
}

/// How the proxy behaves.
#[derive(Debug, Clone)]
pub struct ChaosOptions {
    pub upstream: SocketAddr,
    /// Probability that an attempt of a game call is faulted.
    pub fault_rate: f64,
    pub faults: Vec<ChaosFault>,
    pub seed: u64,
    /// Attempts of the same request that may be faulted before it is forwarded.
    pub max_faults_per_request: u32,
    /// How long a hang lasts (longer than the harness's timeout).
    pub hang: Duration,
}

/// What the proxy did, for the tests to check against the harness's own counts.
#[derive(Debug, Default)]
pub struct ChaosStats {
    pub requests: AtomicU64,
    pub forwarded: AtomicU64,
    /// Connections dropped while the proxy was down.
    pub refused: AtomicU64,
    injected: Mutex<HashMap<ChaosFault, u64>>,
}

impl ChaosStats {
    /// Faults injected, by kind.
    pub fn injected(&self) -> HashMap<ChaosFault, u64> {
        self.injected.lock().map(|m| m.clone()).unwrap_or_default()
    }

    /// Faults injected, all kinds.
    pub fn injected_total(&self) -> u64 {
        self.injected().values().sum()
    }

    fn count(&self, fault: ChaosFault) {
        if let Ok(mut m) = self.injected.lock() {
            *m.entry(fault).or_default() += 1;
        }
    }
}

/// Switches a running proxy down (every connection dropped) and up again.
#[derive(Debug, Default)]
pub struct ChaosControl {
    down: AtomicBool,
    pub stats: ChaosStats,
}

impl ChaosControl {
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }
    pub fn is_down(&self) -> bool {
        self.down.load(Ordering::SeqCst)
    }
}

struct Shared {
    opts: ChaosOptions,
    control: Arc<ChaosControl>,
    attempts: Attempts,
    /// Take the proxy down after this many forwarded game calls (0: never).
    down_after: AtomicU64,
}

/// Proxies until `shutdown` completes. `down_after` > 0 takes the proxy down by itself
/// once that many game calls were forwarded (a server dying mid-sweep, at a
/// reproducible point).
pub async fn serve_chaos(
    listener: TcpListener,
    opts: ChaosOptions,
    control: Arc<ChaosControl>,
    down_after: u64,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let shared = Arc::new(Shared {
        opts,
        control,
        attempts: Attempts::default(),
        down_after: AtomicU64::new(down_after),
    });
    let mut tasks = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let shared = shared.clone();
                tasks.spawn(async move {
                    if let Err(e) = handle(stream, shared).await {
                        tracing::debug!("chaos proxy connection: {e}");
                    }
                });
            }
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
        }
    }
    tasks.shutdown().await;
    Ok(())
}

/// Send the request upstream and read the whole response (the upstream closes the
/// connection after it).
async fn forward(upstream: SocketAddr, head: &[u8], body: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut up = TcpStream::connect(upstream).await?;
    up.write_all(head).await?;
    // One request per upstream connection: the response is read to its end.
    up.write_all(b"\r\nconnection: close\r\n\r\n").await?;
    up.write_all(body).await?;
    let mut response = Vec::new();
    up.read_to_end(&mut response).await?;
    Ok(response)
}

async fn handle(mut stream: TcpStream, shared: Arc<Shared>) -> std::io::Result<()> {
    let control = &shared.control;
    if control.is_down() {
        control.stats.refused.fetch_add(1, Ordering::SeqCst);
        return Ok(()); // dropped unanswered, as by a dead server
    }
    let Some(req) = read_request(&mut stream).await? else {
        return Ok(());
    };
    control.stats.requests.fetch_add(1, Ordering::SeqCst);
    let game_call = req.method == "POST" && req.body.windows(8).any(|w| w == b"REQUEST:");
    if game_call {
        if let Some(fault) = draw_fault(&shared, &req.body) {
            control.stats.count(fault);
            return inject(&mut stream, &shared, fault, &req.head, &req.body).await;
        }
    }
    let response = forward(shared.opts.upstream, &req.head, &req.body).await?;
    if game_call {
        control.stats.forwarded.fetch_add(1, Ordering::SeqCst);
        let left = shared.down_after.load(Ordering::SeqCst);
        if left == 1 {
            control.set_down(true);
        }
        if left > 0 {
            shared.down_after.store(left - 1, Ordering::SeqCst);
        }
    }
    stream.write_all(&response).await?;
    stream.shutdown().await
}

fn draw_fault(shared: &Shared, body: &[u8]) -> Option<ChaosFault> {
    let opts = &shared.opts;
    let hash = hash64(body);
    let attempt = shared.attempts.next(hash);
    if attempt >= opts.max_faults_per_request || opts.faults.is_empty() {
        return None;
    }
    let mut rng = request_rng(opts.seed ^ 0xC4A0_5EED, hash.wrapping_add(attempt as u64));
    rng.random_bool(opts.fault_rate.clamp(0.0, 1.0))
        .then(|| opts.faults[rng.random_range(0..opts.faults.len())])
}

async fn inject(
    stream: &mut TcpStream,
    shared: &Shared,
    fault: ChaosFault,
    head: &[u8],
    body: &[u8],
) -> std::io::Result<()> {
    let rate_limited = r#"{"error": {"message": "rate limited", "type": "rate_limit_error"}}"#;
    match fault {
        ChaosFault::RateLimitRetryAfter => {
            respond(
                stream,
                "429 Too Many Requests",
                &[("retry-after", "1".into())],
                rate_limited,
            )
            .await
        }
        ChaosFault::RateLimitMs => {
            respond(
                stream,
                "429 Too Many Requests",
                &[("retry-after-ms", "150".into())],
                rate_limited,
            )
            .await
        }
        ChaosFault::RateLimitBare => {
            respond(stream, "429 Too Many Requests", &[], rate_limited).await
        }
        ChaosFault::Unavailable => {
            respond(
                stream,
                "503 Service Unavailable",
                &[],
                "upstream unavailable",
            )
            .await
        }
        ChaosFault::NonOpenai => {
            respond(
                stream,
                "500 Internal Server Error",
                &[],
                r#"{"error": "backend crashed"}"#,
            )
            .await
        }
        ChaosFault::Reset => Ok(()),
        ChaosFault::Hang => {
            tokio::time::sleep(shared.opts.hang).await;
            Ok(())
        }
        ChaosFault::TruncatedOk => {
            let response = forward(shared.opts.upstream, head, body).await?;
            let split = response
                .windows(4)
                .position(|w| w == b"\r\n\r\n")
                .map_or(response.len() / 2, |i| i + 4);
            let cut = split + (response.len() - split) / 2;
            stream.write_all(&response[..cut]).await?;
            stream.shutdown().await
        }
    }
}
