//! MCP seats end to end: `fishbanks run` serves its MCP endpoint, and a client written
//! here from the wire protocol alone (JSON-RPC over streamable HTTP: `initialize`, a
//! session, `tools/list`, `tools/call`) plays whole games through `next_question` and
//! `answer`: a wrong token refused, an answer wrapped in prose refused with its reason
//! and asked again, sets answered as objects of booleans, teams numbered from 1; the
//! games replay byte for byte with no client, and a client that never comes stops the
//! sweep with exit 75. A program plays the same games in batches (`next_questions`,
//! `answer_many`), each answer read as `answer` reads it.

use crate::common::*;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;

/// `fishbanks run` serving MCP seats; killed when dropped.
struct Harness {
    child: Child,
    /// `127.0.0.1:PORT`.
    address: String,
    /// Each client's token, as printed.
    tokens: Vec<String>,
    /// The rest of its standard error.
    lines: mpsc::Receiver<String>,
}

impl Harness {
    fn start(exp: &Path, out: &Path) -> Harness {
        let mut child = Command::new(env!("CARGO_BIN_EXE_fishbanks"))
            .args(["run", exp.to_str().unwrap(), "--out", out.to_str().unwrap()])
            .args(["--quiet", "--no-report", "--jobs", "2"])
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, lines) = mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut address = None;
        let mut tokens = Vec::new();
        while address.is_none() || tokens.is_empty() {
            let line = lines.recv().expect("the harness prints its MCP endpoint");
            if let Some(rest) = line.strip_prefix("mcp: http://") {
                address = rest.split('/').next().map(str::to_string);
            }
            if let Some((_, rest)) = line.split_once(": token ") {
                tokens.push(rest.split_whitespace().next().unwrap().to_string());
            }
        }
        Harness {
            child,
            address: address.unwrap(),
            tokens,
            lines,
        }
    }

    /// Waits for the sweep to end: its exit code and the rest of its standard error.
    fn wait(mut self) -> (Option<i32>, String) {
        let status = self.child.wait().unwrap();
        // The reader thread ends at the end of the stream: every line is in.
        let rest: Vec<String> = self.lines.iter().collect();
        (status.code(), rest.join("\n"))
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP response: status, headers (lower-case names) and body.
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One request over a fresh connection (`Connection: close`), read whole.
fn http(address: &str, method: &str, headers: &[(&str, &str)], body: &str) -> Reply {
    let mut stream = TcpStream::connect(address).unwrap();
    let mut head = format!(
        "{method} /mcp HTTP/1.1\r\nhost: {address}\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body.as_bytes()).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Reply {
        status,
        headers,
        body: body.to_string(),
    }
}

/// A client of the MCP endpoint, written from the protocol.
struct Client {
    address: String,
    token: String,
    session: Option<String>,
    next: u64,
}

impl Client {
    fn new(address: &str, token: &str) -> Client {
        Client {
            address: address.to_string(),
            token: token.to_string(),
            session: None,
            next: 1,
        }
    }

    fn post(&mut self, message: &Value) -> Reply {
        let auth = format!("Bearer {}", self.token);
        let mut headers = vec![
            ("authorization", auth.as_str()),
            ("content-type", "application/json"),
            ("accept", "application/json, text/event-stream"),
        ];
        let session = self.session.clone();
        if let Some(s) = &session {
            headers.push(("mcp-session-id", s));
            headers.push(("mcp-protocol-version", "2025-06-18"));
        }
        http(&self.address, "POST", &headers, &message.to_string())
    }

    /// A request: its result (the JSON-RPC error fails the test).
    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next;
        self.next += 1;
        let reply =
            self.post(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        assert_eq!(reply.status, 200, "{method}: {}", reply.body);
        assert!(reply
            .header("content-type")
            .is_some_and(|c| c.starts_with("application/json")));
        if method == "initialize" {
            self.session = reply.header("mcp-session-id").map(str::to_string);
        }
        let v: Value = serde_json::from_str(&reply.body).unwrap();
        assert_eq!(v["id"], id);
        assert!(v.get("error").is_none(), "{method}: {v}");
        v["result"].clone()
    }

    fn initialize(&mut self) -> Value {
        let result = self.request(
            "initialize",
            json!({"protocolVersion": "2025-06-18", "capabilities": {},
                   "clientInfo": {"name": "fishbanks-test-client", "version": "0.1.0"}}),
        );
        let note = self.post(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
        assert_eq!(note.status, 202);
        result
    }

    /// A tool's result, as its structured content (and the text, which must say the same).
    fn call(&mut self, tool: &str, arguments: Value) -> (Value, bool) {
        let result = self.request("tools/call", json!({"name": tool, "arguments": arguments}));
        let text: Value = serde_json::from_str(result["content"][0]["text"].as_str().unwrap())
            .unwrap_or(Value::Null);
        let error = result["isError"] == true;
        if !error {
            assert_eq!(result["structuredContent"], text);
        }
        (
            if error {
                result["content"][0]["text"].clone()
            } else {
                text
            },
            error,
        )
    }
}

/// Six teams, two of them one MCP client's, under broadcast with directed messages,
/// sanctions and a quota.
fn experiment(work: &Path, name: &str, extra: &str) -> std::path::PathBuf {
    TestExperiment::new(name, 3, 2)
        .population(
            "mixed",
            r#"{ kind = "mcp", count = 2 }, { strategy = "conditional", count = 4, tremble = 0.05 }"#,
        )
        .protocol("broadcast", "broadcast", "directed = true")
        .protocol("sanctions", "sanctions", "")
        .protocol("quota", "quota", "")
        .section(extra)
        .write(work)
}

#[test]
fn an_mcp_client_plays_whole_games_and_they_replay_without_it() {
    let work = tempfile::tempdir().unwrap();
    let exp = experiment(work.path(), "mcp-play", "[llm]\nmax_repairs = 2");
    let harness = Harness::start(&exp, &work.path().join("live"));
    assert_eq!(
        harness.tokens.len(),
        1,
        "one client: the entries have no token_env"
    );

    // Strangers are refused: no token, a wrong one.
    let anonymous = http(
        &harness.address,
        "POST",
        &[("content-type", "application/json")],
        r#"{"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}"#,
    );
    assert_eq!(anonymous.status, 401);
    assert_eq!(anonymous.header("www-authenticate"), Some("Bearer"));
    let mut stranger = Client::new(&harness.address, "0123456789abcdef0123456789abcdef");
    assert_eq!(
        stranger
            .post(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
            .status,
        401
    );

    let token = harness.tokens[0].clone();
    let mut client = Client::new(&harness.address, &token);
    // No session yet: only `initialize` is taken.
    assert_eq!(
        client
            .post(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
            .status,
        400
    );
    let init = client.initialize();
    assert_eq!(init["protocolVersion"], "2025-06-18");
    assert_eq!(init["serverInfo"]["name"], "fishbanks");
    assert!(init["capabilities"]["tools"].is_object());
    let tools = client.request("tools/list", json!({}));
    let names: Vec<&str> = tools["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        vec!["next_question", "answer", "next_questions", "answer_many"]
    );
    // No stream of the server's own.
    let get = http(
        &harness.address,
        "GET",
        &[("authorization", &format!("Bearer {}", harness.tokens[0]))],
        "",
    );
    assert_eq!(get.status, 405);

    let (unknown, error) = client.call("answer", json!({"question_id": "1", "answer": {}}));
    assert!(
        error && unknown.as_str().unwrap().contains("not open"),
        "{unknown}"
    );

    let (mut answered, mut sets) = (0, 0);
    // The first question is answered in prose first: refused with the reason, then asked
    // again (attempt 2, the reason ending its prompt) and answered.
    let mut refused: Option<Value> = None;
    let mut came_back = false;
    // Every other valid answer also takes the next question (`next_wait_s`).
    let (mut pending, mut combined): (Option<Value>, u32) = (None, 0);
    loop {
        let q = match pending.take() {
            Some(next) => next,
            None => {
                let (q, error) = client.call("next_question", json!({"wait_s": 5}));
                assert!(!error, "{q}");
                q
            }
        };
        if q["done"] == true {
            break;
        }
        if q["waiting"] == true {
            continue;
        }
        assert_eq!(q["protocol"], "fishbanks.remote/1");
        // Teams from 1, wherever the payload names one.
        let team = q["team"].as_u64().unwrap();
        assert!((1..=2).contains(&team), "{team}");
        assert_eq!(q["observation"]["own"]["team"], team);
        for m in q["observation"]["board"]["messages"]
            .as_array()
            .into_iter()
            .flatten()
        {
            assert!(m["from"].as_u64().unwrap() >= 1);
        }
        assert!(q["answer_within_s"].as_f64().unwrap() > 0.0);
        let id = q["question_id"].as_str().unwrap().to_string();
        let valid = smallest(&q["schema"]);
        if valid.as_object().unwrap().values().any(Value::is_object) {
            sets += 1;
        }
        let which = json!([q["run_id"], q["team"], q["year"], q["question"], q["round"]]);
        match &refused {
            None => {
                let prose = format!("I think this is best: {valid}");
                let (verdict, error) =
                    client.call("answer", json!({"question_id": id, "answer": prose}));
                assert!(!error);
                assert_eq!(verdict["accepted"], false);
                assert!(
                    verdict["reason"]
                        .as_str()
                        .unwrap()
                        .contains("one JSON object"),
                    "{verdict}"
                );
                refused = Some(which);
                continue;
            }
            Some(first) if *first == which => {
                assert_eq!(q["attempt"], 2, "the refused question comes back");
                let last = q["prompt"].as_array().unwrap().last().unwrap();
                assert!(last["content"]
                    .as_str()
                    .unwrap()
                    .contains("one JSON object"));
                came_back = true;
            }
            Some(_) => assert_eq!(q["attempt"], 1),
        }
        if answered % 2 == 1 {
            let (mut verdict, error) = client.call(
                "answer",
                json!({"question_id": id, "answer": valid, "next_wait_s": 5}),
            );
            assert!(!error, "{verdict}");
            let next = verdict["next"].take();
            assert_eq!(verdict, json!({"accepted": true, "next": null}));
            assert!(next.is_object(), "the next question comes with the verdict");
            pending = Some(next);
            combined += 1;
        } else {
            let (verdict, error) =
                client.call("answer", json!({"question_id": id, "answer": valid}));
            assert!(!error, "{verdict}");
            assert_eq!(verdict, json!({"accepted": true}));
        }
        answered += 1;
    }
    assert!(came_back);
    assert!(combined > 0);
    assert!(sets > 0, "fines and directed messages were asked as sets");
    let (code, stderr) = harness.wait();
    assert_eq!(code, Some(0), "{stderr}");
    let live = work.path().join("live/mcp-play");
    let runs = Table::read(&live.join("runs.csv"));
    assert_eq!(runs.rows.len(), 6);
    assert!(
        runs.column("status").iter().all(|s| *s == "ok"),
        "{:?}",
        runs.column("error")
    );
    let sum = |c: &str| runs.numbers(c).iter().sum::<f64>();
    assert_eq!(sum("llm_fallbacks"), 0.0);
    assert_eq!(sum("llm_repairs"), 1.0);
    assert_eq!(sum("llm_answers"), answered as f64);
    // The manifest names the client that played, never its token.
    let manifest = std::fs::read_to_string(live.join("manifest.json")).unwrap();
    assert!(manifest.contains("fishbanks-test-client"), "{manifest}");
    assert!(manifest.contains("\"mcp 2025-06-18\""));
    for file in ["manifest.json", "runs.csv", "agents.csv"] {
        let text = std::fs::read_to_string(live.join(file)).unwrap();
        assert!(!text.contains(&token), "{file} holds the token");
    }
    for entry in std::fs::read_dir(live.join("cache")).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        assert!(!text.contains(&token), "the cache holds the token");
    }

    // Replayed with nobody connected: the same games, byte for byte.
    assert_replays(
        &exp,
        &live.join("cache"),
        &live,
        &work.path().join("replay"),
    );
}

#[test]
fn a_program_plays_in_batches_and_each_answer_is_read_as_one() {
    let work = tempfile::tempdir().unwrap();
    let exp = experiment(work.path(), "mcp-batch", "[llm]\nmax_repairs = 2");
    let harness = Harness::start(&exp, &work.path().join("live"));
    let mut client = Client::new(&harness.address, &harness.tokens[0]);
    client.initialize();

    let (bad, error) = client.call("next_questions", json!({"max_questions": 0}));
    assert!(error && bad.as_str().unwrap().contains("1 to 64"), "{bad}");
    let (mut got, error) = client.call("next_questions", json!({"wait_s": 5, "max_questions": 4}));
    assert!(!error, "{got}");
    let (mut answered, mut largest, mut refused, mut strays) = (0, 0, 0, 0);
    let mut prose_sent = false;
    loop {
        if got["done"] == true {
            break;
        }
        if got["waiting"] == true {
            got = client
                .call("next_questions", json!({"wait_s": 5, "max_questions": 4}))
                .0;
            continue;
        }
        let questions = got["questions"].as_array().unwrap().clone();
        assert!((1..=4).contains(&questions.len()), "{got}");
        largest = largest.max(questions.len());
        let mut answers: Vec<Value> = Vec::new();
        for q in &questions {
            assert_eq!(q["protocol"], "fishbanks.remote/1");
            let valid = smallest(&q["schema"]);
            // The very first answer is prose: refused, then asked again.
            let answer = if !prose_sent {
                prose_sent = true;
                json!(format!("I think this is best: {valid}"))
            } else {
                valid
            };
            answers.push(json!({"question_id": q["question_id"], "answer": answer}));
        }
        // Once, an answer to a question nobody asked rides along: its own error, the
        // others still count.
        if strays == 0 {
            answers.push(json!({"question_id": "999999", "answer": {}}));
        }
        let (mut out, error) = client.call(
            "answer_many",
            json!({"answers": answers, "next_wait_s": 5, "next_max_questions": 4}),
        );
        assert!(!error, "{out}");
        let results = out["results"].as_array().unwrap().clone();
        assert_eq!(results.len(), answers.len());
        for (given, result) in answers.iter().zip(&results) {
            assert_eq!(result["question_id"], given["question_id"]);
            if given["question_id"] == "999999" {
                assert!(
                    result["error"].as_str().unwrap().contains("not open"),
                    "{result}"
                );
                strays += 1;
            } else if given["answer"].is_string() {
                assert_eq!(result["accepted"], false);
                assert!(result["reason"]
                    .as_str()
                    .unwrap()
                    .contains("one JSON object"));
                refused += 1;
            } else {
                assert_eq!(result["accepted"], true, "{result}");
                answered += 1;
            }
        }
        got = out["next"].take();
    }
    assert_eq!((refused, strays), (1, 1));
    assert!(largest > 1, "questions came in batches");
    let (code, stderr) = harness.wait();
    assert_eq!(code, Some(0), "{stderr}");
    let live = work.path().join("live/mcp-batch");
    let runs = Table::read(&live.join("runs.csv"));
    assert!(runs.column("status").iter().all(|s| *s == "ok"));
    let sum = |c: &str| runs.numbers(c).iter().sum::<f64>();
    assert_eq!(sum("llm_fallbacks"), 0.0);
    assert_eq!(sum("llm_repairs"), 1.0);
    assert_eq!(sum("llm_answers"), answered as f64);

    // Replayed with nobody connected: the same games, byte for byte.
    assert_replays(
        &exp,
        &live.join("cache"),
        &live,
        &work.path().join("replay"),
    );
}

#[test]
fn questions_without_a_client_stop_the_sweep_with_exit_75() {
    let work = tempfile::tempdir().unwrap();
    let exp = experiment(work.path(), "mcp-gone", "[mcp]\noutage_wait_s = 1");
    let harness = Harness::start(&exp, &work.path().join("out"));
    let (code, stderr) = harness.wait();
    assert_eq!(code, Some(75), "exit code; standard error:\n{stderr}");
    assert!(stderr.contains("no call from its MCP client"), "{stderr}");
    let runs = work.path().join("out/mcp-gone/runs.csv");
    let rows = std::fs::read_to_string(runs).unwrap_or_default();
    assert!(rows.lines().count() <= 1, "no run recorded: {rows}");
}
