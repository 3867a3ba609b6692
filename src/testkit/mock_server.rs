//! `fishbanks mock-server`: an OpenAI-compatible HTTP server on loopback that answers
//! like the in-process mock, with latency and fault injection.
//!
//! It is how tests and benchmarks exercise the real HTTP path. Determinism: the answer
//! to a request depends only on the request (its body hash), never on what came
//! before. Transport faults (429, 5xx, hangs, resets, cut-off bodies, non-OpenAI error
//! bodies) are drawn from the body hash and a per-body attempt counter and stop after
//! `max_faults_per_request` attempts, so a retried request eventually succeeds with the
//! same answer it would have had. Content faults (prose, cut-off JSON, out-of-range
//! values, refusals) depend on the body hash alone and are never injected into repair
//! re-asks, so the harness's repair loop always recovers.
//!
//! HTTP/1.1 is hand-rolled (one request per connection, `Connection: close`): the
//! server needs nothing more and stays dependency-free.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::Rng;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::llm::mock::{bad_answer, mock_text, read_prompt, request_rng, BadAnswer, Policy};
use crate::llm::model::{estimate_tokens, hash64, ChatMessage};

/// Faults the server can inject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fault {
    /// 429 with `Retry-After: 1`.
    RateLimit,
    /// 429 without `Retry-After`.
    RateLimitBare,
    Http500,
    Http503,
    /// Never answer (until the client gives up or the server stops).
    Hang,
    /// Close the connection without an answer.
    Reset,
    /// 503 with a body that is not OpenAI-shaped: `{"error": "…"}`.
    NonOpenai,
    /// A 200 whose body is cut off mid-JSON.
    TruncatedBody,
    /// Content faults (200 with an answer the harness must reject).
    Prose,
    TruncatedJson,
    OutOfRange,
    Refusal,
}

impl Fault {
    pub const ALL: [Fault; 12] = [
        Fault::RateLimit,
        Fault::RateLimitBare,
        Fault::Http500,
        Fault::Http503,
        Fault::Hang,
        Fault::Reset,
        Fault::NonOpenai,
        Fault::TruncatedBody,
        Fault::Prose,
        Fault::TruncatedJson,
        Fault::OutOfRange,
        Fault::Refusal,
    ];

    /// The name used on the command line (`--faults rate-limit,reset`).
    pub fn name(self) -> &'static str {
        match self {
            Fault::RateLimit => "rate-limit",
            Fault::RateLimitBare => "rate-limit-bare",
            Fault::Http500 => "http500",
            Fault::Http503 => "http503",
            Fault::Hang => "hang",
            Fault::Reset => "reset",
            Fault::NonOpenai => "non-openai",
            Fault::TruncatedBody => "truncated-body",
            Fault::Prose => "prose",
            Fault::TruncatedJson => "truncated-json",
            Fault::OutOfRange => "out-of-range",
            Fault::Refusal => "refusal",
        }
    }

    fn is_content(self) -> bool {
        matches!(
            self,
            Fault::Prose | Fault::TruncatedJson | Fault::OutOfRange | Fault::Refusal
        )
    }
}

impl std::str::FromStr for Fault {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Fault::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Fault::ALL.iter().map(|f| f.name()).collect();
                format!("unknown fault `{s}` (one of {})", names.join(", "))
            })
    }
}

/// Counters the tests read.
#[derive(Debug, Default)]
pub struct ServerStats {
    pub requests: AtomicU64,
    pub faults: AtomicU64,
}

/// How the server behaves.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    pub policy: Policy,
    pub seed: u64,
    /// Probability of a wrong answer from the mock itself (as `noise` of the mock).
    pub noise: f64,
    pub latency: Duration,
    pub jitter: Duration,
    /// Probability that an attempt gets a fault.
    pub fault_rate: f64,
    pub faults: Vec<Fault>,
    /// Attempts of the same request that may be faulted before it succeeds.
    pub max_faults_per_request: u32,
    /// Leave `usage` out of answers (clients must estimate).
    pub omit_usage: bool,
    /// Models `GET /models` lists (empty: it lists none, and any name is served).
    pub models: Vec<String>,
    pub stats: Arc<ServerStats>,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            policy: Policy::Greedy,
            seed: 0,
            noise: 0.0,
            latency: Duration::ZERO,
            jitter: Duration::ZERO,
            fault_rate: 0.0,
            faults: Fault::ALL.to_vec(),
            max_faults_per_request: 2,
            omit_usage: false,
            models: Vec::new(),
            stats: Arc::new(ServerStats::default()),
        }
    }
}

struct Shared {
    opts: ServerOptions,
    attempts: Attempts,
}

/// Serves until `shutdown` completes; open connections are dropped then.
pub async fn serve(
    listener: TcpListener,
    options: ServerOptions,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let shared = Arc::new(Shared {
        opts: options,
        attempts: Attempts::default(),
    });
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => {
                let (stream, _) = match accepted {
                    Ok(a) => a,
                    Err(e) => { tracing::warn!("mock-server accept: {e}"); continue; }
                };
                let (shared, stop) = (shared.clone(), stop_rx.clone());
                tasks.spawn(async move {
                    if let Err(e) = handle(stream, shared, stop).await {
                        tracing::debug!("mock-server connection: {e}");
                    }
                });
            }
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
        }
    }
    let _ = stop_tx.send(true);
    tasks.shutdown().await;
    Ok(())
}

pub(crate) struct HttpRequest {
    pub method: String,
    pub path: String,
    /// The request line and headers as received (without the blank line).
    pub head: Vec<u8>,
    pub body: Vec<u8>,
}

impl HttpRequest {
    /// The client sent `connection: close`: it reads the response to the end of the
    /// stream.
    fn wants_close(&self) -> bool {
        String::from_utf8_lossy(&self.head).lines().any(|l| {
            l.split_once(':').is_some_and(|(k, v)| {
                k.trim().eq_ignore_ascii_case("connection")
                    && v.trim().eq_ignore_ascii_case("close")
            })
        })
    }
}

const MAX_HEAD: usize = 64 * 1024;
const MAX_BODY: usize = 16 * 1024 * 1024;

pub(crate) async fn read_request(stream: &mut TcpStream) -> std::io::Result<Option<HttpRequest>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        if buf.len() > MAX_HEAD {
            return Ok(None);
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or("").split_whitespace();
    let method = first.next().unwrap_or("").to_string();
    let path = first.next().unwrap_or("").to_string();
    let length = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse::<usize>().ok())
        .unwrap_or(0)
        .min(MAX_BODY);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        body.extend_from_slice(&chunk[..n]);
    }
    body.truncate(length);
    Ok(Some(HttpRequest {
        method,
        path,
        head: buf[..head_end].to_vec(),
        body,
    }))
}

/// Write a whole response with a JSON content type and close the connection.
pub(crate) async fn respond(
    stream: &mut TcpStream,
    status: &str,
    headers: &[(&str, String)],
    body: &str,
) -> std::io::Result<()> {
    stream
        .write_all(response(status, headers, body, "close").as_bytes())
        .await?;
    stream.shutdown().await
}

/// What a connection does after a request: a real server keeps it open for the next one
/// (so the client pays no connection per call); a fault that breaks the response closes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum After {
    KeepOpen,
    Close,
}

/// One client connection, and whether its client asked to close it after this request
/// (`connection: close`, as the chaos proxy does: it reads a response to the end).
struct Conn<'a> {
    stream: &'a mut TcpStream,
    close: bool,
}

/// Write a whole response with a JSON content type; the connection stays open unless the
/// client asked otherwise.
async fn answer(
    conn: &mut Conn<'_>,
    status: &str,
    headers: &[(&str, String)],
    body: &str,
) -> std::io::Result<After> {
    let (header, after) = if conn.close {
        ("close", After::Close)
    } else {
        ("keep-alive", After::KeepOpen)
    };
    conn.stream
        .write_all(response(status, headers, body, header).as_bytes())
        .await?;
    if after == After::Close {
        conn.stream.shutdown().await?;
    }
    Ok(after)
}

fn response(status: &str, headers: &[(&str, String)], body: &str, connection: &str) -> String {
    let mut out = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: {connection}\r\n",
        body.len()
    );
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(body);
    out
}

/// Serves the requests of one connection until the client closes it or a fault does.
async fn handle(
    mut stream: TcpStream,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) -> std::io::Result<()> {
    while let Some(req) = read_request(&mut stream).await? {
        let mut conn = Conn {
            close: req.wants_close(),
            stream: &mut stream,
        };
        if serve_one(&mut conn, &shared, &mut stop, req).await? == After::Close {
            break;
        }
    }
    Ok(())
}

async fn serve_one(
    conn: &mut Conn<'_>,
    shared: &Shared,
    stop: &mut watch::Receiver<bool>,
    req: HttpRequest,
) -> std::io::Result<After> {
    shared.opts.stats.requests.fetch_add(1, Ordering::SeqCst);
    match (req.method.as_str(), req.path.trim_end_matches('/')) {
        ("GET", "/v1/models") | ("GET", "/models") => {
            let data: Vec<Value> = shared
                .opts
                .models
                .iter()
                .map(|m| json!({"id": m, "object": "model", "owned_by": "fishbanks"}))
                .collect();
            let body = json!({"object": "list", "data": data});
            answer(conn, "200 OK", &[], &body.to_string()).await
        }
        ("POST", "/v1/chat/completions") | ("POST", "/chat/completions") => {
            chat(conn, shared, stop, &req.body).await
        }
        ("POST", "/v1/embeddings") | ("POST", "/embeddings") => {
            let parsed: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
            let inputs: Vec<String> = match &parsed["input"] {
                Value::String(s) => vec![s.clone()],
                Value::Array(items) => items
                    .iter()
                    .map(|i| i.as_str().unwrap_or_default().to_string())
                    .collect(),
                _ => Vec::new(),
            };
            let data: Vec<Value> = inputs
                .iter()
                .enumerate()
                .map(|(index, text)| {
                    json!({"object": "embedding", "index": index,
                        "embedding": crate::llm::embeddings::mock_embedding(text)})
                })
                .collect();
            let body = json!({"object": "list", "data": data, "model": parsed["model"]});
            answer(conn, "200 OK", &[], &body.to_string()).await
        }
        _ => {
            let body = json!({"error": {"message": format!("no route {} {}", req.method, req.path), "type": "invalid_request_error"}});
            answer(conn, "404 Not Found", &[], &body.to_string()).await
        }
    }
}

/// The seed the request carries (as a real server would sample with it), mixed with the
/// server's own.
fn request_seed(body: &Value, seed: u64) -> u64 {
    seed ^ body.get("seed").and_then(Value::as_u64).unwrap_or(0)
}

/// How often each request body has been seen: faults hit a request's first attempts
/// only, so that a retried request eventually gets through (the chaos proxy counts the
/// same way).
#[derive(Debug, Default)]
pub(crate) struct Attempts(Mutex<HashMap<u64, u32>>);

impl Attempts {
    /// The attempt number of this body (0 for the first time it is seen).
    pub(crate) fn next(&self, hash: u64) -> u32 {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let n = map.entry(hash).or_insert(0);
        let attempt = *n;
        *n += 1;
        attempt
    }
}

async fn chat(
    conn: &mut Conn<'_>,
    shared: &Shared,
    stop: &mut watch::Receiver<bool>,
    body: &[u8],
) -> std::io::Result<After> {
    let opts = &shared.opts;
    let parsed: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => {
            let err = json!({"error": {"message": format!("invalid JSON body: {e}"), "type": "invalid_request_error"}});
            return answer(conn, "400 Bad Request", &[], &err.to_string()).await;
        }
    };
    let messages: Vec<ChatMessage> =
        serde_json::from_value(parsed.get("messages").cloned().unwrap_or(Value::Null))
            .unwrap_or_default();
    let hash = hash64(body);
    let attempt = shared.attempts.next(hash);

    let mut rng = request_rng(opts.seed ^ 0x5EED_FA17, hash.wrapping_add(attempt as u64));
    let jitter_ms = opts.jitter.as_millis() as u64;
    let delay = opts.latency
        + Duration::from_millis(if jitter_ms > 0 {
            rng.random_range(0..=jitter_ms)
        } else {
            0
        });
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }

    let transport: Vec<Fault> = opts
        .faults
        .iter()
        .copied()
        .filter(|f| !f.is_content())
        .collect();
    if attempt < opts.max_faults_per_request
        && !transport.is_empty()
        && rng.random_bool(opts.fault_rate.clamp(0.0, 1.0))
    {
        let fault = transport[rng.random_range(0..transport.len())];
        opts.stats.faults.fetch_add(1, Ordering::SeqCst);
        return transport_fault(conn, stop, fault).await;
    }

    let facts = read_prompt(&messages);
    let content: Vec<Fault> = opts
        .faults
        .iter()
        .copied()
        .filter(|f| f.is_content())
        .collect();
    let mut content_rng = request_rng(opts.seed ^ 0xC0_27E7, hash);
    let content_fault = (!facts.repair
        && !content.is_empty()
        && content_rng.random_bool(opts.fault_rate.clamp(0.0, 1.0)))
    .then(|| content[content_rng.random_range(0..content.len())]);
    let mut message = json!({"role": "assistant"});
    match content_fault {
        Some(Fault::Refusal) => {
            message["content"] = Value::Null;
            message["refusal"] = json!(bad_answer(BadAnswer::Refusal, &facts));
        }
        Some(f) => {
            let bad = match f {
                Fault::Prose => BadAnswer::Prose,
                Fault::TruncatedJson => BadAnswer::Truncated,
                _ => BadAnswer::OutOfRange,
            };
            message["content"] = json!(bad_answer(bad, &facts));
        }
        None => {
            message["content"] = json!(mock_text(
                opts.policy,
                &crate::engine::GameParams::default(),
                request_seed(&parsed, opts.seed),
                opts.noise,
                parsed
                    .get("temperature")
                    .and_then(Value::as_f64)
                    .unwrap_or(0.0),
                &messages,
            ))
        }
    }
    if content_fault.is_some() {
        opts.stats.faults.fetch_add(1, Ordering::SeqCst);
    }
    let text_len = message["content"].as_str().map_or(0, |s| s.chars().count());
    let chars_in: usize = messages.iter().map(|m| m.content.chars().count()).sum();
    // Lenient shape on purpose: no `created`, an extra field; clients must cope.
    let mut completion = json!({
        "id": format!("mock-{hash:016x}"),
        "object": "chat.completion",
        "model": parsed.get("model").cloned().unwrap_or(Value::Null),
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        "x_mock": {"attempt": attempt},
    });
    if !opts.omit_usage {
        let (i, o) = (estimate_tokens(chars_in), estimate_tokens(text_len));
        completion["usage"] =
            json!({"prompt_tokens": i, "completion_tokens": o, "total_tokens": i + o});
    }
    answer(conn, "200 OK", &[], &completion.to_string()).await
}

async fn transport_fault(
    conn: &mut Conn<'_>,
    stop: &mut watch::Receiver<bool>,
    fault: Fault,
) -> std::io::Result<After> {
    let api_error = |msg: &str, kind: &str| {
        json!({"error": {"message": msg, "type": kind, "param": null, "code": null}}).to_string()
    };
    match fault {
        Fault::RateLimit => {
            answer(
                conn,
                "429 Too Many Requests",
                &[("retry-after", "1".into())],
                &api_error("rate limited", "rate_limit_error"),
            )
            .await
        }
        Fault::RateLimitBare => {
            answer(
                conn,
                "429 Too Many Requests",
                &[],
                &api_error("rate limited", "rate_limit_error"),
            )
            .await
        }
        Fault::Http500 => {
            answer(
                conn,
                "500 Internal Server Error",
                &[],
                &api_error("internal error", "server_error"),
            )
            .await
        }
        Fault::Http503 => {
            answer(conn, "503 Service Unavailable", &[], "upstream unavailable").await
        }
        Fault::NonOpenai => {
            answer(
                conn,
                "503 Service Unavailable",
                &[],
                r#"{"error": "model backend overloaded, try again"}"#,
            )
            .await
        }
        Fault::Hang => {
            // Wait for the client to give up (EOF) or the server to stop.
            let mut buf = [0u8; 64];
            tokio::select! {
                _ = stop.changed() => {}
                _ = conn.stream.read(&mut buf) => {}
            }
            Ok(After::Close)
        }
        Fault::Reset => Ok(After::Close), // dropping the stream closes the connection unanswered
        Fault::TruncatedBody => {
            let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 400\r\nconnection: close\r\n\r\n{\"id\":\"x\",\"choices\":[{\"message\":{\"content\":\"{\\\"or";
            conn.stream.write_all(head.as_bytes()).await?;
            conn.stream.shutdown().await?;
            Ok(After::Close)
        }
        _ => Ok(After::Close),
    }
}
