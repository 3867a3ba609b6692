//! `fishbanks play` end to end over HTTP: a client plays the human seat through the real
//! server (one answer invalid and re-asked, one question left to time out, a `<script>`
//! message), the game is recorded and told, wrong and stale answers are refused, and the
//! game replays byte for byte with nobody at the desk.

use crate::common::*;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// The game's process, killed if the test fails before it ends.
struct Playing(Child);

impl Drop for Playing {
    fn drop(&mut self) {
        let _ = self.0.kill();
    }
}

/// One HTTP/1.1 request over a fresh connection: the status and the body.
fn http(method: &str, url: &str, body: Option<&str>) -> (u16, String) {
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_at(rest.find('/').unwrap());
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    let body = body.unwrap_or("");
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response[9..12].parse().unwrap();
    let (_, payload) = response.split_once("\r\n\r\n").unwrap();
    (status, payload.to_string())
}

const INJECTED: &str = "<script>alert(1)</script> let us all fish less";

/// A 3-year game: team 1 a person, five scripted teams, broadcast; 5 s per question.
fn experiment() -> TestExperiment {
    TestExperiment::new("people", 3, 2)
        .section("[human]\ntimeout_s = 5\nmax_repairs = 2")
        .population(
            "person",
            r#"{ kind = "human" }, { strategy = "conditional", count = 5, tremble = 0.05 }"#,
        )
        .protocol("broadcast", "broadcast", "")
}

/// Starts `fishbanks play` and returns it with its seat's and facilitator's URLs.
fn start(exp: &Path, out: &Path) -> (Playing, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_fishbanks"))
        .args([
            "play",
            exp.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .arg("--exit-when-done")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut seat, mut facilitator) = (String::new(), String::new());
    while seat.is_empty() || facilitator.is_empty() {
        let line = lines.next().unwrap().unwrap();
        if let Some(url) = line.strip_prefix("team 1: ") {
            seat = url.to_string();
        } else if let Some(url) = line.strip_prefix("facilitator: ") {
            facilitator = url.to_string();
        }
    }
    // Keep reading so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (Playing(child), seat, facilitator)
}

/// The smallest valid-looking answer for a schema: each integer at its minimum (or its
/// first allowed value), texts the injected message, booleans true, lists empty.
fn answer_for(schema: &Value) -> Value {
    let branch = schema.get("anyOf").and_then(|b| b.get(0)).unwrap_or(schema);
    let mut out = serde_json::Map::new();
    for (name, field) in branch["properties"].as_object().unwrap() {
        let value = match field["type"].as_str() {
            Some("integer") => field
                .get("const")
                .cloned()
                .or_else(|| field.get("enum").and_then(|e| e.get(0).cloned()))
                .unwrap_or_else(|| field["minimum"].clone()),
            Some("string") => json!(INJECTED),
            Some("boolean") => json!(true),
            _ => json!([]),
        };
        out.insert(name.clone(), value);
    }
    Value::Object(out)
}

#[test]
fn a_person_plays_a_seat_over_http_and_the_game_is_recorded_and_replays() {
    let work = tempfile::tempdir().unwrap();
    let exp = experiment().write(work.path());
    let out = work.path().join("out");
    let (mut child, seat, facilitator) = start(&exp, &out);

    // The pages: this seat's, and nothing at a wrong token.
    let (status, page) = http("GET", &seat, None);
    assert_eq!(status, 200);
    assert!(page.contains("Team 1"));
    assert!(!page.contains("innerHTML"), "texts are written as text");
    let wrong = format!(
        "{}0",
        seat.trim_end_matches(|c: char| c.is_ascii_hexdigit())
    );
    assert_eq!(http("GET", &wrong, None).0, 404);
    assert_eq!(http("GET", &format!("{facilitator}/state"), None).0, 200);

    let mut version: Option<u64> = None;
    let (mut questions, mut invalid_sent, mut skipped, mut repaired_seen) =
        (0, false, false, false);
    let mut seen: Vec<u64> = Vec::new();
    loop {
        let url = match version {
            Some(v) => format!("{seat}/state?since={v}"),
            None => format!("{seat}/state"),
        };
        let state: Value = serde_json::from_str(&http("GET", &url, None).1).unwrap();
        version = state["version"].as_u64();
        let view = &state["seat"];
        if view["status"] == "done" {
            break;
        }
        let Some(q) = view["question"].as_object() else {
            continue;
        };
        let id = q["id"].as_u64().unwrap();
        if seen.contains(&id) {
            continue;
        }
        seen.push(id);
        questions += 1;
        if q["repair"].as_u64().unwrap() > 0 {
            // The re-ask carries the validation error, as an LLM's does.
            let last = q["messages"].as_array().unwrap().last().unwrap()["content"]
                .as_str()
                .unwrap()
                .to_string();
            assert!(last.starts_with("Your answer was invalid"), "{last}");
            repaired_seen = true;
        }
        let body = if !invalid_sent && q["kind"] == "decision" {
            invalid_sent = true;
            json!({"question": id, "answer": {"order": 999, "deep": 0, "coast": 0}})
        } else if !skipped && questions >= 4 {
            // Leave this one unanswered: it times out into the fallback.
            skipped = true;
            continue;
        } else {
            json!({"question": id, "answer": answer_for(&q["schema"])})
        };
        let answer_url = format!("{seat}/answer");
        assert_eq!(http("POST", &answer_url, Some(&body.to_string())).0, 202);
        // The same question cannot be answered twice.
        assert_eq!(http("POST", &answer_url, Some(&body.to_string())).0, 409);
    }
    assert!(
        invalid_sent && repaired_seen && skipped,
        "{questions} questions"
    );
    let status = child.0.wait().unwrap();
    // One timeout among a few answers is more than max_fallback_share: the run is kept
    // and marked invalid, its fallback counted.
    assert_eq!(status.code(), Some(3));

    let dir = out.join("people");
    let runs = Table::read(&dir.join("runs.csv"));
    assert_eq!(runs.rows.len(), 1, "one game played");
    let row = &runs.rows[0];
    assert_eq!(row[runs.col("llm_fallbacks")], "1");
    assert_eq!(row[runs.col("llm_repairs")], "1");
    assert_eq!(row[runs.col("years_played")], "3");
    let run_id = row[runs.col("run_id")].clone();
    let manifest = std::fs::read_to_string(dir.join("manifest.json")).unwrap();
    assert!(manifest.contains(r#""kind": "human""#));
    // The person's message is data: recorded as written, escaped in the story page.
    let messages = std::fs::read_to_string(dir.join("messages.csv")).unwrap();
    assert!(messages.contains(INJECTED));
    let story = std::fs::read_to_string(dir.join(format!("stories/{run_id}.html"))).unwrap();
    assert!(story.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!story.contains("<script>alert"));

    // Nobody at the desk: the cache replays the game byte for byte.
    let replayed = work.path().join("replayed");
    let replay = Command::new(env!("CARGO_BIN_EXE_fishbanks"))
        .args([
            "play",
            exp.to_str().unwrap(),
            "--out",
            replayed.to_str().unwrap(),
        ])
        .arg("--replay")
        .arg(dir.join("cache"))
        .output()
        .unwrap();
    assert!(
        replay.status.success(),
        "{}",
        String::from_utf8_lossy(&replay.stderr)
    );
    assert_same_files(
        &dir,
        &replayed.join("people"),
        &["runs.csv", "years.csv", "agents.csv", "messages.csv"],
    );
}
