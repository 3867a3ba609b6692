//! `fishbanks play` end to end over HTTP: a client plays the human seat through the real
//! server (one answer invalid and re-asked, one question left to time out, a `<script>`
//! message), the game is recorded and told, wrong and stale answers are refused, and the
//! game replays byte for byte with nobody at the desk; the facilitator's cookie, origin
//! and CSRF checks, the start gate, the Host check, released seats, one team per
//! browser, the join-code throttle, a burst of connections, one address's slow bodies.

use crate::common::*;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// The game's process, killed if the test fails before it ends.
pub(crate) struct Playing(pub(crate) Child);

impl Drop for Playing {
    fn drop(&mut self) {
        let _ = self.0.kill();
    }
}

/// One HTTP/1.1 request over a fresh connection: the status and the body.
pub(crate) fn http(method: &str, url: &str, body: Option<&str>) -> (u16, String) {
    let (status, _, body) = http_with(method, url, body, "");
    (status, body)
}

/// One HTTP/1.1 request with extra header lines: the status, the headers (lower-cased
/// names) and the body.
pub(crate) fn http_with(
    method: &str,
    url: &str,
    body: Option<&str>,
    extra: &str,
) -> (u16, String, String) {
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_at(rest.find('/').unwrap());
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    let body = body.unwrap_or("");
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n{extra}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response[9..12].parse().unwrap();
    let (head, payload) = response.split_once("\r\n\r\n").unwrap();
    (status, head.to_ascii_lowercase(), payload.to_string())
}

/// The value of header `name` (lower case) in a response head.
pub(crate) fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
        .map(str::trim)
}

/// The facilitator's browser: the printed link leaves the secret in a cookie; every
/// action carries this server's `Origin` and the CSRF token of the screen's state.
pub(crate) struct Facilitator {
    /// `http://host:port`
    pub(crate) origin: String,
    pub(crate) cookie: String,
}

impl Facilitator {
    /// Opens the printed link: a redirect to `/facilitator` (no secret in the address)
    /// and an HttpOnly, SameSite=Strict cookie.
    pub(crate) fn enter(link: &str) -> Facilitator {
        let (status, head, _) = http_with("GET", link, None, "");
        assert_eq!(status, 303, "{head}");
        assert_eq!(header(&head, "location"), Some("/facilitator"));
        let set = header(&head, "set-cookie").unwrap().to_string();
        assert!(
            set.contains("httponly") && set.contains("samesite=strict") && set.contains("path=/"),
            "{set}"
        );
        let cookie = set.split(';').next().unwrap().to_string();
        let origin = link[..link.find("/facilitator/").unwrap()].to_string();
        Facilitator { origin, cookie }
    }

    pub(crate) fn get(&self, path: &str) -> (u16, String) {
        let (status, _, body) = http_with(
            "GET",
            &format!("{}{path}", self.origin),
            None,
            &format!("Cookie: {}\r\n", self.cookie),
        );
        (status, body)
    }

    pub(crate) fn state(&self) -> Value {
        let (status, body) = self.get("/facilitator/state");
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).unwrap()
    }

    /// An action as the facilitator's page sends it.
    pub(crate) fn act(&self, action: &str, body: Option<&str>) -> u16 {
        let csrf = self.state()["csrf"].as_str().unwrap().to_string();
        let extra = format!(
            "Cookie: {}\r\nOrigin: {}\r\nX-Fishbanks-CSRF: {csrf}\r\n",
            self.cookie, self.origin
        );
        http_with(
            "POST",
            &format!("{}/facilitator/{action}", self.origin),
            body,
            &extra,
        )
        .0
    }
}

const INJECTED: &str = "<script>alert(1)</script> let us all fish less";
/// A message a spreadsheet would run, quoting a code fence that is not the answer.
const FORMULA: &str = "=HYPERLINK(\"http://example.com\") ```{}```";

/// A 3-year game: team 1 a person, five scripted teams, broadcast; 5 s per question;
/// people may miss a tenth of their questions.
fn experiment() -> TestExperiment {
    TestExperiment::new("people", 3, 2)
        .section("[human]\ntimeout_s = 5\nmax_repairs = 2\nmax_fallback_share = 0.1")
        .population(
            "person",
            r#"{ kind = "human" }, { strategy = "conditional", count = 5, tremble = 0.05 }"#,
        )
        .protocol("broadcast", "broadcast", "")
}

/// `fishbanks play EXPERIMENT --out OUT EXTRA...` run to its end: its exit code and what
/// it said on stderr.
fn play_to_end(exp: &Path, out: &Path, extra: &[&str]) -> (Option<i32>, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_fishbanks"))
        .args([
            "play",
            exp.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .args(extra)
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// What `fishbanks play` printed: its join page, each seat's address (with
/// `--seat-links`) and the facilitator's.
pub(crate) struct Printed {
    pub(crate) join: String,
    pub(crate) seats: Vec<String>,
    pub(crate) facilitator: String,
}

/// Starts `fishbanks play` with `extra` arguments and reads its addresses.
pub(crate) fn start_with(exp: &Path, out: &Path, extra: &[&str]) -> (Playing, Printed) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_fishbanks"))
        .args([
            "play",
            exp.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = Printed {
        join: String::new(),
        seats: Vec::new(),
        facilitator: String::new(),
    };
    while printed.facilitator.is_empty() {
        let line = lines.next().unwrap().unwrap();
        if let Some(url) = line.strip_prefix("join: ") {
            printed.join = url.to_string();
        } else if let Some((_, url)) = line
            .split_once(": http://")
            .filter(|(k, _)| k.starts_with("team "))
        {
            printed.seats.push(format!("http://{url}"));
        } else if let Some(url) = line.strip_prefix("facilitator: ") {
            printed.facilitator = url.to_string();
        }
    }
    // Keep reading so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (Playing(child), printed)
}

/// Starts `fishbanks play` (started at once) and returns it with its seat's and the
/// facilitator's URLs.
fn start(exp: &Path, out: &Path) -> (Playing, String, String) {
    let (child, printed) = start_with(
        exp,
        out,
        &["--exit-when-done", "--seat-links", "--start-now"],
    );
    (child, printed.seats[0].clone(), printed.facilitator)
}

/// The smallest valid-looking answer for a schema: each integer at its minimum (or its
/// first allowed value), texts the injected message, booleans true, lists empty.
fn answer_for(schema: &Value) -> Value {
    answer_with(schema, INJECTED)
}

/// [`answer_for`] with `words` for every text.
pub(crate) fn answer_with(schema: &Value, words: &str) -> Value {
    let branch = schema.get("anyOf").and_then(|b| b.get(0)).unwrap_or(schema);
    let mut out = serde_json::Map::new();
    for (name, field) in branch["properties"].as_object().unwrap() {
        let value = match field["type"].as_str() {
            Some("integer") => field
                .get("const")
                .cloned()
                .or_else(|| field.get("enum").and_then(|e| e.get(0).cloned()))
                .unwrap_or_else(|| field["minimum"].clone()),
            Some("string") => json!(words),
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
    assert_eq!(
        Facilitator::enter(&facilitator).get("/facilitator/state").0,
        200
    );

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
            let last = view["payload"]["prompt"]
                .as_array()
                .unwrap()
                .last()
                .unwrap()["content"]
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
            json!({"question": id, "answer": answer_for(&view["payload"]["schema"])})
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
    // One timeout among a few answers is more than this class's [human]
    // max_fallback_share: the run is kept and marked invalid, its fallback counted.
    assert_eq!(status.code(), Some(3));

    let dir = out.join("people");
    let runs = Table::read(&dir.join("runs.csv"));
    assert_eq!(runs.rows.len(), 1, "one game played");
    let row = &runs.rows[0];
    assert_eq!(row[runs.col("llm_fallbacks")], "1");
    assert_eq!(row[runs.col("llm_repairs")], "1");
    assert_eq!(row[runs.col("years_played")], "3");
    assert_eq!(row[runs.col("status")], "invalid");
    let why = &row[runs.col("error")];
    assert!(
        why.contains("questions to people") && why.contains("[human] max_fallback_share = 0.1"),
        "{why}"
    );
    let run_id = row[runs.col("run_id")].clone();
    let manifest = std::fs::read_to_string(dir.join("manifest.json")).unwrap();
    assert!(manifest.contains(r#""kind": "human""#));
    // The person's message is data: recorded as written, escaped in the story page.
    let messages = std::fs::read_to_string(dir.join("messages.csv")).unwrap();
    assert!(messages.contains(INJECTED));
    let story = std::fs::read_to_string(dir.join(format!("stories/{run_id}.html"))).unwrap();
    assert!(story.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!story.contains("<script>alert"));
    // The story of a class game speaks of people.
    assert!(story.contains("team 1: a person"), "{story}");
    assert!(story.contains("People (team 1) were asked"), "{story}");
    assert!(
        story.contains("(a person) did not answer its") && story.contains("in time"),
        "{story}"
    );

    // Nobody at the desk: the cache replays the game byte for byte.
    let replayed = work.path().join("replayed");
    let cache = dir.join("cache");
    let (code, said) = play_to_end(&exp, &replayed, &["--replay", cache.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{said}");
    assert_same_files(
        &dir,
        &replayed.join("people"),
        &["runs.csv", "years.csv", "agents.csv", "messages.csv"],
    );
}

/// A game whose people have time: team 1 and team 3 people, four scripted teams.
pub(crate) fn class_experiment(years: u32) -> TestExperiment {
    TestExperiment::new("class", years, 1)
        .section("[human]\ntimeout_s = 120\nmax_repairs = 2")
        .population(
            "class",
            r#"{ kind = "human" }, { strategy = "conditional", count = 1 }, { kind = "human" }, { strategy = "greedy", count = 3 }"#,
        )
        .protocol("broadcast", "broadcast", "")
}

#[test]
fn students_join_by_code_a_seat_binds_to_one_browser_and_every_response_is_locked_down() {
    let work = tempfile::tempdir().unwrap();
    let exp = class_experiment(2).write(work.path());
    let out = work.path().join("out");
    let (_child, printed) = start_with(&exp, &out, &["--exit-when-done", "--start-now"]);
    assert!(
        printed.seats.is_empty(),
        "seat addresses are printed only on request"
    );
    let join = printed.join.clone();
    assert!(join.contains("/join/"), "{join}");

    // The join page: a fresh nonce per response on its one script, no 'unsafe-inline'
    // script, no framing, no sniffing, no caching.
    let (status, head, page) = http_with("GET", &join, None, "");
    assert_eq!(status, 200);
    let csp = header(&head, "content-security-policy")
        .unwrap()
        .to_string();
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|r| r.split('\'').next())
        .unwrap()
        .to_string();
    assert!(page
        .to_ascii_lowercase()
        .contains(&format!("<script nonce=\"{nonce}\">")));
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(header(&head, "x-content-type-options"), Some("nosniff"));
    assert_eq!(header(&head, "cache-control"), Some("no-store"));
    assert!(page.contains("<noscript>"));
    let (_, head2, _) = http_with("GET", &join, None, "");
    assert!(!head2.contains(&nonce), "a nonce is never reused");

    // Free seats: the two people's teams; the others are named by what plays them.
    let (status, head, body) = http_with("GET", &format!("{join}/state"), None, "");
    assert_eq!(status, 200);
    assert_eq!(header(&head, "cache-control"), Some("no-store"));
    assert_eq!(header(&head, "x-content-type-options"), Some("nosniff"));
    let state: Value = serde_json::from_str(&body).unwrap();
    let open: Vec<u64> = state["teams"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["open"] == true)
        .map(|t| t["team"].as_u64().unwrap())
        .collect();
    assert_eq!(open, [1, 3]);
    assert_eq!(state["teams"][1]["who"], "conditional");

    // A browser takes team 3: its address and a cookie; nobody else can take it.
    let (status, head, body) =
        http_with("POST", &format!("{join}/claim"), Some(r#"{"team": 3}"#), "");
    assert_eq!(status, 200, "{body}");
    let cookie = header(&head, "set-cookie").unwrap().to_string();
    assert!(
        cookie.contains("httponly") && cookie.contains("samesite=strict"),
        "{cookie}"
    );
    let seat_path = serde_json::from_str::<Value>(&body).unwrap()["seat"]
        .as_str()
        .unwrap()
        .to_string();
    let host = &join[..join.find("/join/").unwrap()];
    let seat = format!("{host}{seat_path}");
    assert_eq!(http("GET", &seat, None).0, 200);
    let (status, _, body) = http_with("POST", &format!("{join}/claim"), Some(r#"{"team": 3}"#), "");
    assert_eq!(status, 409, "{body}");
    assert_eq!(
        http("POST", &format!("{join}/claim"), Some(r#"{"team": 2}"#)).0,
        404
    );
    // Coming back to the join page, the browser is shown its seat.
    let token = seat_path.rsplit('/').next().unwrap();
    let (_, _, body) = http_with(
        "GET",
        &format!("{join}/state"),
        None,
        &format!("Cookie: fishbanks_seat={token}\r\n"),
    );
    let state: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(state["yours"]["team"], 3);
    // A wrong join code is nothing.
    let wrong = format!("{}/join/ZZZZZZ", host);
    assert_eq!(http("GET", &wrong, None).0, 404);

    // The facilitator's pages never hold a seat's address; their JSON is not cached.
    let facilitator = Facilitator::enter(&printed.facilitator);
    let (status, head, body) = http_with(
        "GET",
        &format!("{host}/facilitator/state"),
        None,
        &format!("Cookie: {}\r\n", facilitator.cookie),
    );
    assert_eq!(status, 200);
    assert_eq!(header(&head, "cache-control"), Some("no-store"));
    assert!(
        !body.contains(token),
        "the facilitator's state names no seat token"
    );
    let state: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(state["teams"][2]["taken"], true);
    assert_eq!(state["teams"][0]["taken"], false);
    let (status, body) = facilitator.get("/facilitator/qr.svg");
    assert_eq!(status, 200);
    assert!(body.starts_with("<svg"));

    // A control character in an answer is refused with the field named.
    let view = loop {
        let state: Value =
            serde_json::from_str(&http("GET", &format!("{seat}/state"), None).1).unwrap();
        if state["seat"]["question"].is_object() {
            break state["seat"].clone();
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let q = &view["question"];
    assert!(
        view["payload"]["observation"]["own"]["ships"].is_u64(),
        "the page gets the typed facts"
    );
    assert!(q["ask"].as_str().is_some_and(|a| !a.is_empty()));
    let id = q["id"].as_u64().unwrap();
    let (status, _, body) = http_with(
        "POST",
        &format!("{seat}/answer"),
        Some(&json!({"question": id, "answer": {"message": "hi\u{7}"}}).to_string()),
        "",
    );
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("message"), "{body}");

    // One browser, one team: the browser holding team 3 cannot take team 1 too.
    let (status, _, body) = http_with(
        "POST",
        &format!("{join}/claim"),
        Some(r#"{"team": 1}"#),
        &format!("Cookie: fishbanks_seat={token}\r\n"),
    );
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("already plays team 3"), "{body}");

    // The facilitator releases team 3: the old address says so (with the way back in),
    // the seat is free again.
    assert_eq!(facilitator.act("release/3", None), 200);
    let (status, body) = http("GET", &format!("{seat}/state"), None);
    assert_eq!(status, 410, "{body}");
    let released: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(released["released"], 3);
    assert!(released["join"].as_str().unwrap().starts_with("/join/"));
    let (status, _, page) = http_with("GET", &seat, None, "Accept: text/html\r\n");
    assert_eq!(status, 410);
    assert!(
        page.contains("Team 3 was released") && page.contains("Join the game"),
        "{page}"
    );
    assert!(!page.contains("<form"), "a released page keeps no form");
    let (status, _, body) = http_with("POST", &format!("{join}/claim"), Some(r#"{"team": 3}"#), "");
    assert_eq!(status, 200, "{body}");
    let again = serde_json::from_str::<Value>(&body).unwrap()["seat"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(again, seat_path);
    // Pause and extra time are the facilitator's alone.
    assert_eq!(facilitator.act("pause", None), 200);
    assert_eq!(facilitator.state()["paused"], true);
    assert_eq!(facilitator.act("extend", Some(r#"{"seconds": 60}"#)), 200);
    assert_eq!(
        http(
            "GET",
            &format!("{host}/facilitator/{}", "0".repeat(32)),
            None
        )
        .0,
        404
    );
}

/// Answers every open question of the seat at `seat` with the smallest valid answer
/// until `stop` says so (given the question) or the game ends; returns the questions
/// answered.
fn answer_until(seat: &str, stop: impl Fn(&Value) -> bool) -> usize {
    let mut version: Option<u64> = None;
    let mut seen = Vec::new();
    loop {
        let url = match version {
            Some(v) => format!("{seat}/state?since={v}"),
            None => format!("{seat}/state"),
        };
        let (status, body) = http("GET", &url, None);
        if status != 200 {
            return seen.len();
        }
        let state: Value = serde_json::from_str(&body).unwrap();
        version = state["version"].as_u64();
        if state["seat"]["status"] == "done" {
            return seen.len();
        }
        let Some(q) = state["seat"]["question"].as_object() else {
            continue;
        };
        let id = q["id"].as_u64().unwrap();
        if seen.contains(&id) {
            continue;
        }
        if stop(&Value::Object(q.clone())) {
            return seen.len();
        }
        seen.push(id);
        let body = json!({"question": id, "answer": answer_with(&state["seat"]["payload"]["schema"], FORMULA)});
        assert_eq!(
            http("POST", &format!("{seat}/answer"), Some(&body.to_string())).0,
            202
        );
    }
}

/// The seat's state once `done` says so (long-polling its changes, at most a minute).
pub(crate) fn until_state(seat: &str, done: impl Fn(&Value) -> bool) -> Value {
    let mut version: Option<u64> = None;
    let give_up = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let url = match version {
            Some(v) => format!("{seat}/state?since={v}"),
            None => format!("{seat}/state"),
        };
        let state: Value = serde_json::from_str(&http("GET", &url, None).1).unwrap();
        if done(&state) {
            return state;
        }
        assert!(std::time::Instant::now() < give_up, "never came: {state}");
        version = state["version"].as_u64();
    }
}

/// One unhurried person (team 1) and five conditional cooperators under `protocol`.
fn one_person(name: &str, years: u32, protocol: &str) -> TestExperiment {
    TestExperiment::new(name, years, 1)
        .section("[human]\ntimeout_s = 120\nmax_repairs = 2")
        .population(
            "p",
            r#"{ kind = "human" }, { strategy = "conditional", count = 5 }"#,
        )
        .protocol(protocol, protocol, "")
}

#[test]
fn a_stopped_game_is_recorded_and_resumes_with_the_same_seats() {
    let work = tempfile::tempdir().unwrap();
    let exp = one_person("stoppable", 4, "broadcast");
    let changed = exp.clone();
    let exp = exp.write(work.path());
    let out = work.path().join("out");
    let (mut child, printed) = start_with(
        &exp,
        &out,
        &["--exit-when-done", "--seat-links", "--start-now"],
    );
    let seat = printed.seats[0].clone();
    // Two years answered; the stop comes while year 3's question is open.
    answer_until(&seat, |q| q["year"].as_u64() == Some(3));
    let pid = child.0.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let status = child.0.wait().unwrap();
    assert_eq!(status.code(), Some(130));

    let dir = out.join("stoppable");
    let runs = Table::read(&dir.join("runs.csv"));
    assert_eq!(runs.rows.len(), 1);
    assert_eq!(runs.rows[0][runs.col("status")], "stopped");
    assert_eq!(runs.rows[0][runs.col("years_played")], "2");
    let years = Table::read(&dir.join("years.csv"));
    assert_eq!(years.rows.len(), 2, "the years played are in the files");

    // Its cache replays as far as it goes and says it stopped, never "success".
    let cache = dir.join("cache");
    let replayed = work.path().join("replayed");
    let (code, said) = play_to_end(&exp, &replayed, &["--replay", cache.to_str().unwrap()]);
    assert_eq!(code, Some(3));
    assert!(said.contains("--resume"), "{said}");

    // Playing again into the same directory without --resume is refused, saying how.
    let (code, said) = play_to_end(&exp, &out, &[]);
    assert_ne!(code, Some(0));
    assert!(
        said.contains("stopped after 2 years") && said.contains("--resume"),
        "{said}"
    );

    // A changed experiment cannot resume this game (its cache and years are another's).
    let other = work.path().join("changed");
    std::fs::create_dir_all(&other).unwrap();
    let changed = changed.section("[game]\ninitial_bank = 900").write(&other);
    let (code, said) = play_to_end(&changed, &out, &["--resume"]);
    assert_ne!(code, Some(0));
    assert!(said.contains("different experiment"), "{said}");

    // --resume: the same seat address; years 1-2 come from the cache, year 3 on is asked.
    // (Without --exit-when-done: the facilitator's page stays up after the game.)
    let (mut child, resumed) = start_with(&exp, &out, &["--seat-links", "--resume"]);
    // A resumed game waits for the facilitator's start too; the tally and the years of
    // the seat came back from the cache.
    let facilitator = Facilitator::enter(&resumed.facilitator);
    // (Years 1-2 are replayed from the cache as the server starts: wait for them.)
    let first = until_state(&resumed.seats[0], |s| {
        s["seat"]["tally"]["answered"].as_u64() >= Some(4)
    });
    assert_eq!(first["seat"]["started"], false);
    assert!(
        first["seat"]["question"].is_null(),
        "no question before the start"
    );
    let years: Vec<u64> = first["seat"]["seen"]
        .as_array()
        .unwrap()
        .iter()
        .map(|y| y["year"].as_u64().unwrap())
        .collect();
    assert_eq!(
        years[..2],
        [1, 2],
        "the early years survive the resume: {years:?}"
    );
    assert_eq!(facilitator.act("start", None), 200);
    // (The port is any free one here; a class gives --bind a fixed one.)
    let path = |url: &String| url[url.find("/seat/").or(url.find("/join/")).unwrap()..].to_string();
    assert_eq!(
        path(&resumed.seats[0]),
        path(&seat),
        "every seat keeps its address"
    );
    assert_eq!(path(&resumed.join), path(&printed.join));
    let asked = answer_until(&resumed.seats[0], |_| false);
    assert!(
        asked >= 2,
        "years 3 and 4 were asked live ({asked} questions)"
    );
    // The message reached the game whole (the fence inside it is text, not the answer)
    // and is recorded as written; the facilitator's spreadsheet export neutralises it.
    let csv = loop {
        let (status, body) = facilitator.get("/facilitator/messages.csv");
        if status == 200 {
            break body;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert!(csv.contains("'=HYPERLINK"), "{csv}");
    let recorded = std::fs::read_to_string(dir.join("messages.csv")).unwrap();
    assert!(
        recorded.contains("\"=HYPERLINK(\"\"http://example.com\"\") ```{}```\""),
        "{recorded}"
    );
    let pid = child.0.id().to_string();
    assert!(Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap()
        .success());
    assert!(
        child.0.wait().unwrap().success(),
        "Ctrl-C after the game ends it cleanly"
    );
    let runs = Table::read(&dir.join("runs.csv"));
    assert_eq!(
        runs.rows.len(),
        1,
        "the stopped run was replaced, not appended"
    );
    assert_eq!(runs.rows[0][runs.col("status")], "ok");
    assert_eq!(runs.rows[0][runs.col("years_played")], "4");
    let years = Table::read(&dir.join("years.csv"));
    assert_eq!(years.rows.len(), 4);

    // A finished game cannot be resumed.
    let (code, said) = play_to_end(&exp, &out, &["--resume"]);
    assert_ne!(code, Some(0));
    assert!(said.contains("already over"), "{said}");
}

#[test]
fn a_game_killed_outright_is_not_started_over_but_resumed_from_its_cache() {
    let work = tempfile::tempdir().unwrap();
    let exp = one_person("killed", 3, "none").write(work.path());
    let out = work.path().join("out");
    let (mut child, printed) = start_with(
        &exp,
        &out,
        &["--exit-when-done", "--seat-links", "--start-now"],
    );
    answer_until(&printed.seats[0], |q| q["year"].as_u64() == Some(2));
    // SIGKILL: nothing is recorded in runs.csv, but year 1's answer is in the cache.
    child.0.kill().unwrap();
    child.0.wait().unwrap();
    let (code, said) = play_to_end(&exp, &out, &[]);
    assert_ne!(code, Some(0));
    assert!(
        said.contains("already holds this game") && said.contains("--resume"),
        "{said}"
    );
    let (mut child, resumed) = start_with(
        &exp,
        &out,
        &[
            "--exit-when-done",
            "--seat-links",
            "--resume",
            "--start-now",
        ],
    );
    let asked = answer_until(&resumed.seats[0], |_| false);
    assert_eq!(
        asked, 2,
        "year 1 came from the cache; years 2 and 3 were asked"
    );
    assert!(child.0.wait().unwrap().success());
    let runs = Table::read(&out.join("killed").join("runs.csv"));
    assert_eq!(runs.rows.len(), 1);
    assert_eq!(runs.rows[0][runs.col("status")], "ok");
}
