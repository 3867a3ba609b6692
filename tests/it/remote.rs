//! Remote seats end to end: the JSON example agent (python3, standard library) plays a
//! whole game next to an LLM mock and scripted teams and the game replays byte for byte
//! with the agent gone; a Rust test double speaks A2A 1.0 and 0.3 (a task that needs
//! input, one that fails, an answer out of range) and JSON (an HTML page, a dropped
//! connection, an answer slower than the timeout); every payload matches docs/remote-payload.schema.json; an agent that
//! dies stops the sweep with exit 75.

use crate::common::*;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// The example JSON agent on a free loopback port; killed when dropped.
struct PythonAgent {
    child: Child,
    url: String,
}

impl PythonAgent {
    fn start() -> PythonAgent {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/agents/json_agent.py");
        let mut child = Command::new("python3")
            .arg(script)
            .args(["--port", "0"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs the example agent");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line.trim().strip_prefix("listening ").unwrap().to_string();
        PythonAgent { child, url }
    }
}

impl Drop for PythonAgent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One request as the double saw it.
#[derive(Debug, Clone)]
struct Seen {
    path: String,
    head: String,
    body: Value,
}

/// How the double answers.
#[derive(Clone, Copy, PartialEq)]
enum Speaks {
    Json,
    A2a1,
    A2a03,
}

/// A remote agent in the test: answers every question with the smallest valid answer,
/// except where a test wants a fault (below); stops answering (closes its port) after
/// `die_after` questions.
struct Double {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    stop: Arc<AtomicBool>,
}

impl Double {
    fn start(speaks: Speaks, die_after: Option<usize>) -> Double {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::<Seen>::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (seen2, stop2, base) = (seen.clone(), stop.clone(), url.clone());
        let questions = Arc::new(AtomicUsize::new(0));
        let attempts = Arc::new(Mutex::new(HashMap::<String, usize>::new()));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break; // the listener is dropped: connections are refused
                }
                let Ok(stream) = stream else { continue };
                let (seen, base, questions, attempts) = (
                    seen2.clone(),
                    base.clone(),
                    questions.clone(),
                    attempts.clone(),
                );
                let stop = stop2.clone();
                std::thread::spawn(move || {
                    serve(
                        stream, speaks, &base, &seen, &questions, &attempts, die_after, &stop,
                    )
                });
            }
        });
        Double { url, seen, stop }
    }

    fn payloads(&self) -> Vec<Value> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|s| s.body.is_object())
            .map(|s| match s.body.get("params") {
                Some(p) => p["message"]["parts"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find_map(|part| part.get("data").cloned())
                    .unwrap(),
                None => s.body.clone(),
            })
            .collect()
    }
}

impl Drop for Double {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.url.trim_start_matches("http://"));
    }
}

fn respond(stream: &mut TcpStream, status: &str, body: &str) {
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
}

#[allow(clippy::too_many_arguments)]
fn serve(
    mut stream: TcpStream,
    speaks: Speaks,
    base: &str,
    seen: &Mutex<Vec<Seen>>,
    questions: &AtomicUsize,
    attempts: &Mutex<HashMap<String, usize>>,
    die_after: Option<usize>,
    stop: &AtomicBool,
) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        if line == "\r\n" {
            break;
        }
        head.push_str(&line);
    }
    let length = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse::<usize>().unwrap())
        })
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if head.starts_with("GET") {
        match (speaks, path.as_str()) {
            (Speaks::A2a1, "/.well-known/agent-card.json") => respond(
                &mut stream,
                "200 OK",
                &json!({"name": "double", "supportedInterfaces": [
                    {"url": format!("{base}/rpc"), "protocolBinding": "JSONRPC", "protocolVersion": "1.0"}],
                    "skills": [], "defaultInputModes": ["application/json"]})
                .to_string(),
            ),
            (Speaks::A2a03, "/.well-known/agent-card.json") => respond(
                &mut stream,
                "200 OK",
                &json!({"name": "double", "url": format!("{base}/v03"), "protocolVersion": "0.3.0"}).to_string(),
            ),
            _ => respond(&mut stream, "200 OK", "{}"),
        }
        return;
    }
    seen.lock().unwrap().push(Seen {
        path: path.clone(),
        head: head.clone(),
        body: body.clone(),
    });
    let n = questions.fetch_add(1, Ordering::SeqCst);
    if die_after.is_some_and(|d| n >= d) {
        stop.store(true, Ordering::SeqCst);
        return; // dropped unanswered
    }
    let payload = match speaks {
        Speaks::Json => body.clone(),
        _ => body["params"]["message"]["parts"][1]["data"].clone(),
    };
    // How often this very payload was sent (transport retries repeat it unchanged).
    let sent = {
        let mut a = attempts.lock().unwrap();
        let k = payload.to_string();
        let n = a.entry(k).or_insert(0);
        *n += 1;
        *n
    };
    let question = payload["question"].as_str().unwrap_or("");
    let year = payload["year"].as_u64().unwrap_or(0);
    let attempt = payload["attempt"].as_u64().unwrap_or(0);
    let decision = question == "decision";
    let valid = smallest(&payload["schema"]);
    match speaks {
        Speaks::Json => {
            if decision && year == 2 && attempt == 1 {
                // An HTML page: an invalid answer, re-asked.
                respond(&mut stream, "200 OK", "<html><body>busy</body></html>");
            } else if decision && year == 3 && sent == 1 {
                // Dropped before any answer: a transport fault, retried unchanged.
            } else if decision && year == 4 && attempt == 1 {
                respond(
                    &mut stream,
                    "200 OK",
                    &json!({"order": 99, "deep": 0, "coast": 0}).to_string(),
                );
            } else if decision && year == 5 && sent == 1 {
                // Slower than the seat's timeout: the attempt times out and is retried
                // (with twice the time); the late answer goes nowhere.
                std::thread::sleep(std::time::Duration::from_millis(1500));
                respond(&mut stream, "200 OK", &valid.to_string());
            } else {
                respond(&mut stream, "200 OK", &valid.to_string());
            }
        }
        Speaks::A2a1 => {
            let result = if decision && year == 2 && attempt == 1 {
                json!({"task": {"id": "t1", "contextId": "c", "status": {"state": "TASK_STATE_INPUT_REQUIRED",
                    "message": {"messageId": "m", "role": "ROLE_AGENT", "parts": [{"text": "which fleet?"}]}}}})
            } else if decision && year == 3 {
                json!({"task": {"id": "t2", "contextId": "c", "status": {"state": "TASK_STATE_FAILED"}}})
            } else if decision && year == 4 {
                json!({"task": {"id": "t3", "contextId": "c", "status": {"state": "TASK_STATE_COMPLETED"},
                    "artifacts": [{"artifactId": "a", "parts": [{"data": valid}]}]}})
            } else {
                json!({"message": {"messageId": "m", "role": "ROLE_AGENT", "parts": [{"data": valid}]}})
            };
            respond(
                &mut stream,
                "200 OK",
                &json!({"jsonrpc": "2.0", "id": body["id"], "result": result}).to_string(),
            );
        }
        Speaks::A2a03 => {
            let result = json!({"kind": "message", "messageId": "m", "role": "agent",
                "parts": [{"kind": "data", "data": valid}]});
            respond(
                &mut stream,
                "200 OK",
                &json!({"jsonrpc": "2.0", "id": body["id"], "result": result}).to_string(),
            );
        }
    }
}

/// A game of `years` years with `remote` as team 1 (and team 2), an LLM mock and
/// scripted teams.
fn mixed(name: &str, remote: &str, years: u32) -> TestExperiment {
    TestExperiment::new(name, years, 2)
        .provider("m", "kind = \"mock\"\npolicy = \"conditional\"\nnoise = 0.0")
        .population(
            "mixed",
            &format!(
                "{remote}, {{ kind = \"llm\", provider = \"m\", count = 2 }}, {{ strategy = \"conditional\", count = 2, tremble = 0.05 }}"
            ),
        )
        .protocol("none", "none", "")
        .protocol("broadcast", "broadcast", "")
        .protocol("quota", "quota", "")
}

/// Plays experiment `name` (one seed of `years` years, `protocol`) with `seat` beside
/// `scripted` conditional cooperators; it must succeed. Its `runs.csv`.
fn play_beside_scripted(
    work: &Path,
    name: &str,
    years: u32,
    seat: &str,
    scripted: usize,
    protocol: &str,
) -> Table {
    let exp = TestExperiment::new(name, years, 1)
        .population(
            "mixed",
            &format!(
                "{seat}, {{ strategy = \"conditional\", count = {scripted}, tremble = 0.05 }}"
            ),
        )
        .protocol(protocol, protocol, "")
        .write(work);
    let out = run_experiment(&exp, &work.join("out"), &["--no-report"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Table::read(&work.join("out").join(name).join("runs.csv"))
}

fn sum(runs: &Table, column: &str) -> f64 {
    runs.numbers(column).iter().sum()
}

#[test]
fn the_json_example_agent_plays_a_whole_game_and_replays_without_it() {
    let work = tempfile::tempdir().unwrap();
    let agent = PythonAgent::start();
    let seat = format!(
        "{{ kind = \"remote\", url = \"{}\", count = 2 }}",
        agent.url
    );
    let exp = mixed("remote-json", &seat, 6).write(work.path());
    let out = run_experiment(&exp, &work.path().join("live"), &["--no-report"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let live = work.path().join("live/remote-json");
    let runs = Table::read(&live.join("runs.csv"));
    assert!(
        runs.column("status").iter().all(|s| *s == "ok"),
        "{:?}",
        runs.column("error")
    );
    // Every question of the two remote seats and the two mock seats answered validly.
    assert_eq!(sum(&runs, "llm_answers"), sum(&runs, "llm_valid_first_try"));
    assert_eq!(sum(&runs, "llm_fallbacks"), 0.0);
    let manifest = fs::read_to_string(live.join("manifest.json")).unwrap();
    assert!(
        manifest.contains("\"kind\": \"remote\""),
        "the manifest names the seat"
    );
    drop(agent);
    // The agent is gone: the game replays from its cache, byte for byte.
    let cache = work.path().join("cache-copy");
    copy_dir(&live.join("cache"), &cache);
    assert_replays(&exp, &cache, &live, &work.path().join("replay"));
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

/// Every payload the double received matches the documented schema.
fn payloads_match_the_schema(double: &Double) {
    let schema: Value = serde_json::from_str(
        &fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/remote-payload.schema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let payloads = double.payloads();
    assert!(!payloads.is_empty());
    for p in &payloads {
        assert!(schema_admits(&schema, p), "{p}");
        assert_eq!(p["protocol"], "fishbanks.remote/1");
    }
}

#[test]
fn faults_of_a_json_agent_are_counted_and_never_stop_the_sweep() {
    let work = tempfile::tempdir().unwrap();
    let double = Double::start(Speaks::Json, None);
    let seat = format!(
        "{{ kind = \"remote\", url = \"{}/\", count = 2, max_retries = 2, timeout_s = 0.5 }}",
        double.url
    );
    let runs = play_beside_scripted(work.path(), "faults", 5, &seat, 4, "none");
    assert_eq!(runs.column("status"), vec!["ok"]);
    // Two seats: the HTML page (year 2) and the order of 99 (year 4) re-asked for each.
    assert_eq!(sum(&runs, "llm_repairs"), 4.0);
    assert_eq!(sum(&runs, "llm_fallbacks"), 0.0);
    // The dropped connections (year 3) retried, counted as connection faults.
    assert_eq!(sum(&runs, "retries_connection"), 2.0);
    // The answers slower than the timeout (year 5) retried, counted as timeouts.
    assert_eq!(sum(&runs, "retries_timeout"), 2.0);
    assert_eq!(
        sum(&runs, "llm_answers") - sum(&runs, "llm_valid_first_try"),
        4.0
    );
    let invalid = fs::read_to_string(
        work.path()
            .join("out/faults/runs")
            .join(runs.column("run_id")[0])
            .join("events.jsonl"),
    )
    .unwrap();
    assert!(
        invalid.contains("busy"),
        "the HTML answer is kept as the invalid answer"
    );
    payloads_match_the_schema(&double);
}

#[test]
fn a2a_agents_of_version_1_and_0_3_are_asked_by_their_cards() {
    for (speaks, method, path) in [
        (Speaks::A2a1, "SendMessage", "/rpc"),
        (Speaks::A2a03, "message/send", "/v03"),
    ] {
        let work = tempfile::tempdir().unwrap();
        let double = Double::start(speaks, None);
        let seat = format!(
            "{{ kind = \"remote\", transport = \"a2a\", url = \"{}\", count = 1, max_retries = 1 }}",
            double.url
        );
        // Twelve years: the one fallback stays within max_fallback_share (24 answers).
        let runs = play_beside_scripted(work.path(), "a2a", 12, &seat, 5, "broadcast");
        assert_eq!(runs.column("status"), vec!["ok"]);
        let seen = double.seen.lock().unwrap().clone();
        assert!(
            seen.iter()
                .all(|s| s.path == path && s.body["method"] == method),
            "{method}"
        );
        // One conversation per run and seat; the payload numbers the team from 1.
        let run_id = runs.column("run_id")[0];
        for s in &seen {
            let message = &s.body["params"]["message"];
            assert_eq!(message["contextId"], format!("fishbanks-{run_id}-1"));
            let payload = message["parts"][1]["data"].clone();
            assert_eq!(payload["team"], 1);
            assert_eq!(payload["observation"]["own"]["team"], 1);
        }
        if speaks == Speaks::A2a1 {
            assert!(seen.iter().all(
                |s| s.head.contains("A2A-Version: 1.0") || s.head.contains("a2a-version: 1.0")
            ));
            // The re-ask after the task that needed input continues that task.
            let continued: Vec<&Seen> = seen
                .iter()
                .filter(|s| s.body["params"]["message"]["taskId"] == "t1")
                .collect();
            assert_eq!(continued.len(), 1);
            assert_eq!(
                continued[0].body["params"]["message"]["parts"][1]["data"]["attempt"],
                2
            );
            // Year 2: the task needing input re-asked once; year 3: the failed task
            // re-asked (max_repairs 2) and then replaced by the fallback; year 4: the
            // completed task's artifact is the answer.
            assert_eq!(sum(&runs, "llm_repairs"), 1.0 + 2.0);
            assert_eq!(sum(&runs, "llm_fallbacks"), 1.0);
            let agents = Table::read(&work.path().join("out/a2a/agents.csv"));
            let fallbacks: Vec<&str> = agents
                .rows
                .iter()
                .filter(|r| r[agents.col("agent")] == "0" && r[agents.col("fallback")] == "true")
                .map(|r| r[agents.col("year")].as_str())
                .collect();
            assert_eq!(fallbacks, vec!["3"]);
            let events = fs::read_to_string(
                work.path()
                    .join("out/a2a/runs")
                    .join(runs.column("run_id")[0])
                    .join("events.jsonl"),
            )
            .unwrap();
            assert!(
                events.contains("TASK_STATE_INPUT_REQUIRED") && events.contains("which fleet?")
            );
            assert!(events.contains("TASK_STATE_FAILED"));
        } else {
            assert_eq!(sum(&runs, "llm_repairs"), 0.0);
        }
        // The prompt travels as text beside the payload.
        assert!(seen[0].body["params"]["message"]["parts"][0]["text"]
            .as_str()
            .unwrap()
            .contains("REQUEST:"));
        payloads_match_the_schema(&double);
    }
}

#[test]
fn an_agent_that_dies_stops_the_sweep_with_exit_75() {
    let work = tempfile::tempdir().unwrap();
    let double = Double::start(Speaks::Json, Some(12));
    let seat = format!(
        "{{ kind = \"remote\", url = \"{}/\", count = 1, max_retries = 1, outage_wait_s = 0.5, timeout_s = 2 }}",
        double.url
    );
    let exp = TestExperiment::new("dies", 10, 4)
        .population(
            "mixed",
            &format!("{seat}, {{ strategy = \"conditional\", count = 5, tremble = 0.05 }}"),
        )
        .protocol("none", "none", "")
        .write(work.path());
    let out = run_experiment(
        &exp,
        &work.path().join("out"),
        &["--no-report", "--jobs", "1"],
    );
    assert_eq!(
        out.status.code(),
        Some(75),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Runs finished before the agent died are kept; none stands in for the dead agent.
    let runs = Table::read(&work.path().join("out/dies/runs.csv"));
    assert!(runs.column("status").iter().all(|s| *s == "ok"));
    assert_eq!(sum(&runs, "llm_fallbacks"), 0.0);
    assert!(runs.rows.len() < 4);
}

/// What a scripted double answers one request with: status line, extra headers, body.
struct Canned {
    status: &'static str,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

impl Canned {
    fn ok(body: impl Into<Vec<u8>>) -> Canned {
        Canned {
            status: "200 OK",
            headers: Vec::new(),
            body: body.into(),
        }
    }
}

/// The script: method, path, the body as JSON and the double's own base URL.
type Script = dyn Fn(&str, &str, &Value, &str) -> Canned + Send + Sync;

/// An agent that answers each request as `script` says (method, path, the body as
/// JSON); it records every POST body.
struct Scripted {
    url: String,
    seen: Arc<Mutex<Vec<Value>>>,
}

impl Scripted {
    fn start(
        script: impl Fn(&str, &str, &Value, &str) -> Canned + Send + Sync + 'static,
    ) -> Scripted {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let script: Arc<Script> = Arc::new(script);
        let record = seen.clone();
        let base = url.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let (script, record, base) = (script.clone(), record.clone(), base.clone());
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    let mut head = String::new();
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        if line == "\r\n" {
                            break;
                        }
                        head.push_str(&line);
                    }
                    let length = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse::<usize>().unwrap())
                        })
                        .unwrap_or(0);
                    let mut body = vec![0; length];
                    reader.read_exact(&mut body).unwrap();
                    let mut words = head.split_whitespace();
                    let method = words.next().unwrap_or("").to_string();
                    let path = words.next().unwrap_or("/").to_string();
                    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                    if method == "POST" {
                        record.lock().unwrap().push(body.clone());
                    }
                    let canned = script(&method, &path, &body, &base);
                    let mut out = format!(
                        "HTTP/1.1 {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
                        canned.status,
                        canned.body.len()
                    );
                    for (k, v) in &canned.headers {
                        out.push_str(&format!("{k}: {v}\r\n"));
                    }
                    out.push_str("\r\n");
                    let _ = stream.write_all(out.as_bytes());
                    let _ = stream.write_all(&canned.body);
                });
            }
        });
        Scripted { url, seen }
    }
}

/// The payload a scripted JSON agent received (the body itself).
fn question(body: &Value) -> (&str, u64, u64) {
    (
        body["question"].as_str().unwrap_or(""),
        body["year"].as_u64().unwrap_or(0),
        body["attempt"].as_u64().unwrap_or(0),
    )
}

#[test]
fn answers_are_read_strictly_and_a_huge_one_is_cut_and_counted() {
    let work = tempfile::tempdir().unwrap();
    let agent = Scripted::start(|method, _, body, _| {
        if method == "GET" {
            return Canned::ok("{}");
        }
        let valid = smallest(&body["schema"]).to_string();
        match question(body) {
            // Prose around a valid answer, junk before one, two answers in one body.
            ("decision", 1, 1) => Canned::ok(format!("Here is my answer: {valid} Good luck!")),
            ("decision", 2, 1) => Canned::ok(format!("\u{1}\u{2}junk{valid}")),
            ("decision", 3, 1) => Canned::ok(format!("{valid}{valid}")),
            // Three megabytes of junk.
            ("decision", 4, 1) => Canned::ok(vec![b'x'; 3_000_000]),
            _ => Canned::ok(valid),
        }
    });
    let seat = format!("{{ kind = \"remote\", url = \"{}/\" }}", agent.url);
    let runs = play_beside_scripted(work.path(), "strict", 4, &seat, 5, "none");
    assert_eq!(runs.column("status"), vec!["ok"]);
    // Every one of the four invalid, re-asked, then answered: nothing played from them.
    assert_eq!(sum(&runs, "llm_repairs"), 4.0);
    assert_eq!(sum(&runs, "llm_valid_first_try"), 0.0);
    assert_eq!(sum(&runs, "llm_fallbacks"), 0.0);
    let dir = work.path().join("out/strict");
    let events = fs::read_to_string(
        dir.join("runs")
            .join(runs.column("run_id")[0])
            .join("events.jsonl"),
    )
    .unwrap();
    assert!(
        events.contains("must be one JSON object and nothing else"),
        "prose refused"
    );
    assert!(
        events.contains("trailing characters"),
        "two answers refused"
    );
    assert!(
        events.contains("longer than this seat accepts"),
        "the huge one refused"
    );
    // What the cache keeps of the 3 MB answer: its start only.
    let cached: u64 = fs::read_dir(dir.join("cache"))
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    assert!(cached < 1_000_000, "{cached} bytes in the cache");
}

#[test]
fn a_redirect_that_drops_the_post_fails_the_call_and_307_is_followed() {
    let work = tempfile::tempdir().unwrap();
    let agent = Scripted::start(|method, path, body, _| {
        if method == "GET" {
            return Canned::ok("{}");
        }
        let (kind, year, _) = question(body);
        if path == "/moved" {
            return Canned::ok(smallest(&body["schema"]).to_string());
        }
        let (status, to) = if year >= 2 && kind == "decision" {
            ("302 Found", "/elsewhere")
        } else {
            ("307 Temporary Redirect", "/moved")
        };
        Canned {
            status,
            headers: vec![("location", to.to_string())],
            body: b"{}".to_vec(),
        }
    });
    let seat = format!("{{ kind = \"remote\", url = \"{}/\" }}", agent.url);
    let exp = TestExperiment::new("redirect", 3, 1)
        .population(
            "mixed",
            &format!("{seat}, {{ strategy = \"conditional\", count = 5 }}"),
        )
        .protocol("none", "none", "")
        .write(work.path());
    let out = run_experiment(&exp, &work.path().join("out"), &["--no-report"]);
    assert_eq!(out.status.code(), Some(3), "a failed run");
    let runs = Table::read(&work.path().join("out/redirect/runs.csv"));
    assert_eq!(runs.column("status"), vec!["failed"]);
    let error = runs.column("error")[0];
    assert!(
        error.contains("redirect (302 Found) to /elsewhere") && error.contains("only 307 and 308"),
        "{error}"
    );
    // Year 1 went through the 307 to its new address, the POST kept.
    let seen = agent.seen.lock().unwrap();
    assert!(seen.iter().filter(|b| b["year"] == 1).count() >= 2);
}

#[test]
fn a_wrong_transport_or_an_unusable_card_is_named_before_run_one() {
    let work = tempfile::tempdir().unwrap();
    let run = |name: &str, seat: String| {
        let exp = TestExperiment::new(name, 2, 1)
            .population(
                "mixed",
                &format!("{seat}, {{ strategy = \"conditional\", count = 5 }}"),
            )
            .protocol("none", "none", "")
            .write(work.path());
        let out = run_experiment(&exp, &work.path().join("out"), &["--no-report"]);
        assert!(
            !work.path().join("out").join(name).join("runs.csv").exists(),
            "nothing played"
        );
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    // A2A spoken to a plain JSON agent (no card).
    let json_agent = Double::start(Speaks::Json, None);
    let (code, err) = run(
        "a2a-at-json",
        format!(
            "{{ kind = \"remote\", transport = \"a2a\", url = \"{}\" }}",
            json_agent.url
        ),
    );
    assert_eq!(code, Some(1));
    assert!(
        err.contains("no A2A agent card") && err.contains("transport = \"json\""),
        "{err}"
    );
    // A JSON POST meant for an A2A agent.
    let a2a_agent = Double::start(Speaks::A2a1, None);
    let (code, err) = run(
        "json-at-a2a",
        format!("{{ kind = \"remote\", url = \"{}\" }}", a2a_agent.url),
    );
    assert_eq!(code, Some(1));
    assert!(err.contains("transport = \"a2a\""), "{err}");
    // A card offering no JSON-RPC interface: refused, naming what it offers.
    let grpc = Scripted::start(|_, path, _, _| {
        if path.starts_with("/.well-known/") {
            Canned::ok(
                json!({"name": "grpc-only", "supportedInterfaces": [
                    {"url": "http://h/grpc", "protocolBinding": "GRPC", "protocolVersion": "1.0"}]})
                .to_string(),
            )
        } else {
            Canned::ok("{}")
        }
    });
    let (code, err) = run(
        "grpc-card",
        format!(
            "{{ kind = \"remote\", transport = \"a2a\", url = \"{}\" }}",
            grpc.url
        ),
    );
    assert_eq!(code, Some(1));
    assert!(err.contains("1.0 GRPC at http://h/grpc"), "{err}");
    // Nobody there at all: down, exit 75, as if it went down later.
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let (code, err) = run(
        "nobody",
        format!("{{ kind = \"remote\", url = \"http://{closed}/\", max_retries = 0 }}"),
    );
    assert_eq!(code, Some(75), "{err}");
    assert!(err.contains("STOPPED before run 1"), "{err}");
}

#[test]
fn a_json_rpc_error_fails_the_run_named_as_such() {
    let work = tempfile::tempdir().unwrap();
    let agent = Scripted::start(|_, path, body, base| {
        if path.starts_with("/.well-known/") {
            return Canned::ok(
                json!({"name": "refuses", "supportedInterfaces": [
                    {"url": format!("{base}/rpc"), "protocolBinding": "JSONRPC", "protocolVersion": "1.0"}]})
                .to_string(),
            );
        }
        Canned::ok(
            json!({"jsonrpc": "2.0", "id": body["id"], "error": {"code": -32601, "message": "Method not found"}})
                .to_string(),
        )
    });
    // The card's JSON-RPC address is the agent itself.
    let seat = format!(
        "{{ kind = \"remote\", transport = \"a2a\", url = \"{}\" }}",
        agent.url
    );
    let exp = TestExperiment::new("rpc-error", 2, 1)
        .population(
            "mixed",
            &format!("{seat}, {{ strategy = \"conditional\", count = 5 }}"),
        )
        .protocol("none", "none", "")
        .write(work.path());
    let _ = run_experiment(&exp, &work.path().join("out"), &["--no-report"]);
    let runs = Table::read(&work.path().join("out/rpc-error/runs.csv"));
    let error = runs.column("error")[0];
    assert!(
        error.contains("JSON-RPC error -32601: Method not found"),
        "{error}"
    );
    assert!(!error.contains("HTTP 400"), "{error}");
}

#[test]
fn a_literal_token_where_a_variable_name_belongs_is_refused_unsaid() {
    let work = tempfile::tempdir().unwrap();
    let secret = "sk-live-0123456789abcdefghijklmnop";
    let exp = TestExperiment::new("literal", 2, 1)
        .population(
            "mixed",
            &format!("{{ kind = \"remote\", url = \"http://127.0.0.1:9/\", bearer_token_env = \"{secret}\" }}, {{ strategy = \"conditional\", count = 5 }}"),
        )
        .protocol("none", "none", "")
        .write(work.path());
    let out = fishbanks()
        .args(["validate", exp.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bearer_token_env") && err.contains("NAME of an environment variable"),
        "{err}"
    );
    assert!(!err.contains(secret), "the secret is not repeated: {err}");
    // A missing variable is named by the setting that names it.
    let exp = TestExperiment::new("unset", 2, 1)
        .population(
            "mixed",
            "{ kind = \"remote\", url = \"http://127.0.0.1:9/\", bearer_token_env = \"FISHBANKS_NO_SUCH_TOKEN\" }, { strategy = \"conditional\", count = 5 }",
        )
        .protocol("none", "none", "")
        .write(work.path());
    let out = run_experiment(&exp, &work.path().join("out"), &["--no-report"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("named by `bearer_token_env`") && !err.contains("api_key_env"),
        "{err}"
    );
}
