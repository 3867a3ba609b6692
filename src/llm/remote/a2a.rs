//! The Agent2Agent protocol, as a client: the agent card, `SendMessage` (1.0, protobuf
//! JSON) or `message/send` (0.3), and the answer read back from a message's data part or
//! a completed task's artifact. A task the agent left needing input, failed, rejected or
//! unfinished is an answer too, an invalid one: it is re-asked and counted like any; a
//! re-ask after a task that needs input continues that task (its `taskId`).
//!
//! Message and request ids are derived from the call (run, team, year, question, round,
//! attempt), never drawn: the same question has the same ids in every replay. The
//! `contextId` is the run and the team, so an agent that keeps a conversation per context
//! sees one per seat and game.

use std::collections::HashMap;

use serde_json::value::RawValue;
use serde_json::Value;

use crate::llm::model::CallContext;

/// Where an agent card may be, under an agent's base URL: the current well-known path,
/// then the one A2A used before 0.3.
pub fn card_urls(base: &str) -> [String; 2] {
    [
        format!("{}/.well-known/agent-card.json", origin_path(base)),
        format!("{}/.well-known/agent.json", origin_path(base)),
    ]
}

/// Whether a JSON document is an agent card: a name and an interface, a version or
/// skills (a JSON agent may answer any GET with some JSON object).
pub fn looks_like_card(v: &Value) -> bool {
    v["name"].is_string()
        && (v.get("supportedInterfaces").is_some()
            || v.get("protocolVersion").is_some()
            || v.get("skills").is_some())
}

/// The agent card's address under an agent's base URL.
pub fn card_url(base: &str) -> String {
    format!("{}/.well-known/agent-card.json", origin_path(base))
}

/// The base URL without a trailing slash.
fn origin_path(base: &str) -> &str {
    base.trim_end_matches('/')
}

/// Which protocol version a request speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V1,
    V03,
}

impl Version {
    pub fn as_str(self) -> &'static str {
        match self {
            Version::V1 => "1.0",
            Version::V03 => "0.3",
        }
    }
}

/// Where and how to send: the JSON-RPC address and version the card names.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    pub url: String,
    pub version: Version,
}

/// Why a reply is not an answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// Not JSON (an HTML page, a cut-off body): a transport fault, retried.
    Malformed(String),
    /// JSON, but not JSON-RPC: the agent speaks another protocol (a `json` agent).
    NotJsonRpc(String),
    /// A JSON-RPC error object: the agent refused the request itself (final).
    RpcError(String),
}

/// An answer read from a reply: its text for the question's validator, and the task the
/// agent left needing input (its id), which a re-ask continues.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub text: String,
    pub input_required: Option<String>,
}

/// The interfaces a card offers, each `(version, binding, url)`, without repeats: 1.0's
/// `supportedInterfaces`, then 0.3's `url` with its `preferredTransport` and its
/// `additionalInterfaces`.
fn offered(card: &Value) -> Vec<(String, String, String)> {
    let mut out: Vec<(String, String, String)> = Vec::new();
    let mut add = |v: &str, b: &str, u: &str| {
        let item = (v.to_string(), b.to_string(), u.to_string());
        if !out.contains(&item) {
            out.push(item);
        }
    };
    for i in card["supportedInterfaces"].as_array().into_iter().flatten() {
        add(
            i["protocolVersion"].as_str().unwrap_or("?"),
            i["protocolBinding"].as_str().unwrap_or("?"),
            i["url"].as_str().unwrap_or("?"),
        );
    }
    if let Some(v) = card["protocolVersion"].as_str() {
        if let Some(url) = card["url"].as_str() {
            add(
                v,
                card["preferredTransport"].as_str().unwrap_or("JSONRPC"),
                url,
            );
        }
        for i in card["additionalInterfaces"]
            .as_array()
            .into_iter()
            .flatten()
        {
            add(
                v,
                i["transport"].as_str().unwrap_or("?"),
                i["url"].as_str().unwrap_or("?"),
            );
        }
    }
    out
}

impl Endpoint {
    /// From the card: A2A 1.x over JSON-RPC when the card offers it, else 0.3 over
    /// JSON-RPC; a card that offers neither is refused, naming what it offers.
    pub fn from_card(card: &Value) -> Result<Endpoint, String> {
        let offers = offered(card);
        let jsonrpc = |prefix: &str| {
            offers
                .iter()
                .find(|(v, b, _)| v.starts_with(prefix) && b.eq_ignore_ascii_case("JSONRPC"))
        };
        if let Some((_, _, url)) = jsonrpc("1.") {
            return Ok(Endpoint {
                url: url.clone(),
                version: Version::V1,
            });
        }
        if let Some((_, _, url)) = jsonrpc("0.3") {
            return Ok(Endpoint {
                url: url.clone(),
                version: Version::V03,
            });
        }
        let listed: Vec<String> = offers
            .iter()
            .map(|(v, b, u)| format!("{v} {b} at {u}"))
            .collect();
        Err(format!(
            "its card offers {}; the harness speaks A2A over JSON-RPC (version 1.x, or 0.3): give the agent a JSON-RPC interface",
            if listed.is_empty() {
                "no interface".to_string()
            } else {
                listed.join(", ")
            }
        ))
    }

    /// The headers a request carries (the version, for 1.0).
    pub fn headers(&self) -> Vec<(&'static str, &'static str)> {
        match self.version {
            Version::V1 => vec![("A2A-Version", "1.0")],
            Version::V03 => Vec::new(),
        }
    }

    /// The JSON-RPC request carrying one question, as the bytes sent: the payload as a
    /// data part (its text spliced in, never parsed again), the prompt as a text part;
    /// `task`: the task this message continues (a re-ask after the agent asked for input).
    pub fn request(
        &self,
        ctx: &CallContext,
        payload: &serde_json::value::RawValue,
        prompt: &str,
        task: Option<&str>,
    ) -> String {
        let id = format!(
            "fishbanks-{}-{}-{}-{}-{}-{}",
            ctx.run_id,
            ctx.agent + 1,
            ctx.year,
            ctx.kind.as_str(),
            ctx.round,
            ctx.repair + 1
        );
        let context = context_id(ctx);
        let request = match self.version {
            Version::V1 => wire::Request {
                jsonrpc: "2.0",
                id: &id,
                method: "SendMessage",
                params: wire::Params {
                    message: wire::Message {
                        kind: None,
                        message_id: &id,
                        context_id: &context,
                        task_id: task,
                        role: "ROLE_USER",
                        parts: (
                            wire::Part::Text {
                                kind: None,
                                text: prompt,
                            },
                            wire::Part::Data {
                                kind: None,
                                data: payload,
                                media_type: Some("application/json"),
                            },
                        ),
                    },
                    configuration: wire::Configuration {
                        accepted_output_modes: ["application/json", "text/plain"],
                        history_length: 0,
                        blocking: None,
                    },
                },
            },
            Version::V03 => wire::Request {
                jsonrpc: "2.0",
                id: &id,
                method: "message/send",
                params: wire::Params {
                    message: wire::Message {
                        kind: Some("message"),
                        message_id: &id,
                        context_id: &context,
                        task_id: task,
                        role: "user",
                        parts: (
                            wire::Part::Text {
                                kind: Some("text"),
                                text: prompt,
                            },
                            wire::Part::Data {
                                kind: Some("data"),
                                data: payload,
                                media_type: None,
                            },
                        ),
                    },
                    configuration: wire::Configuration {
                        accepted_output_modes: ["application/json", "text/plain"],
                        history_length: 0,
                        blocking: Some(true),
                    },
                },
            },
        };
        // Written once into a buffer with room for the prompt's escapes (a few hundred
        // newlines and quotes), never grown and copied. Plain data with string keys:
        // serializing it cannot fail, and serde_json writes UTF-8.
        let mut out = Vec::with_capacity(payload.get().len() + prompt.len() * 9 / 8 + 512);
        let _ = serde_json::to_writer(&mut out, &request);
        String::from_utf8(out).unwrap_or_default()
    }

    /// The answer in a JSON-RPC reply, as text for the question's validator: a data
    /// part as JSON, else the text parts; a task that did not complete as a sentence
    /// saying so (which no validator accepts).
    pub fn answer(&self, reply: &str) -> Result<Answer, Reply> {
        // The usual reply (a result holding a message or a task) is read without building
        // what the answer is not in; anything else is read whole, for its exact error.
        match usual_answer(reply) {
            Some(answer) => Ok(answer),
            None => whole_answer(reply),
        }
    }
}

/// The answer of any reply, read as one `Value`: every error said exactly.
fn whole_answer(reply: &str) -> Result<Answer, Reply> {
    let v: Value = serde_json::from_str(reply).map_err(|e| {
        Reply::Malformed(format!(
            "not a JSON-RPC reply ({e}): {}",
            reply.chars().take(200).collect::<String>()
        ))
    })?;
    let is_rpc = v.get("jsonrpc").is_some() || v.get("result").is_some();
    if let Some(error) = v.get("error").filter(|_| v.get("result").is_none()) {
        return Err(Reply::RpcError(format!(
            "JSON-RPC error {}: {}",
            error["code"],
            error["message"].as_str().unwrap_or("(no message)")
        )));
    }
    if !is_rpc {
        return Err(Reply::NotJsonRpc(format!(
            "the agent answered the JSON-RPC request with JSON that is not JSON-RPC ({}): is it a plain JSON agent? (its seat would take transport = \"json\")",
            reply.chars().take(120).collect::<String>()
        )));
    }
    let Some(result) = v.get("result") else {
        return Err(Reply::Malformed("a JSON-RPC reply without `result`".into()));
    };
    // 1.0 wraps the payload (`{"message": …}` or `{"task": …}`); 0.3 tags it (`kind`).
    let (message, task) = match result["kind"].as_str() {
        Some("message") => (Some(result), None),
        Some("task") => (None, Some(result)),
        _ => (result.get("message"), result.get("task")),
    };
    if let Some(m) = message {
        return Ok(Answer {
            text: parts_answer(&m["parts"]).unwrap_or_default(),
            input_required: None,
        });
    }
    let Some(task) = task else {
        return Err(Reply::Malformed(
            "the reply's result is neither a message nor a task".into(),
        ));
    };
    Ok(task_answer(
        &task["status"],
        &task["artifacts"],
        &task["id"],
    ))
}

/// An object's fields as the reply wrote them, each read only when asked for.
type Fields<'a> = HashMap<String, &'a RawValue>;

/// The fields of an object (`None` for anything else).
fn fields(json: &str) -> Option<Fields<'_>> {
    serde_json::from_str(json).ok()
}

/// A field's value (`null` when it is not there).
fn field(object: &Fields, key: &str) -> Value {
    object
        .get(key)
        .and_then(|raw| serde_json::from_str(raw.get()).ok())
        .unwrap_or(Value::Null)
}

/// The answer of a reply whose result is a message or a task, read as [`Endpoint::answer`]
/// reads it; `None` for any other reply. Only the fields the answer is in are built: a
/// task's `history` echoes the whole question back (the prompt and the payload), which a
/// `Value` of the reply would build node by node at every call.
fn usual_answer(reply: &str) -> Option<Answer> {
    let top = fields(reply)?;
    let result = fields(top.get("result")?.get())?;
    let inner = |key: &str| result.get(key).and_then(|raw| fields(raw.get()));
    // 0.3 tags the result with `kind`; 1.0 wraps it in `message` or `task`.
    let (message, task) = match field(&result, "kind").as_str() {
        Some("message") => (Some(result.clone()), None),
        Some("task") => (None, Some(result.clone())),
        _ => (inner("message"), inner("task")),
    };
    if let Some(m) = message {
        return Some(Answer {
            text: parts_answer(&field(&m, "parts")).unwrap_or_default(),
            input_required: None,
        });
    }
    let task = task?;
    Some(task_answer(
        &field(&task, "status"),
        &field(&task, "artifacts"),
        &field(&task, "id"),
    ))
}

/// A task's answer: a completed task's first artifact with an answer, else its status
/// message; any other state as a sentence saying so (which no validator accepts), with
/// the task's id when it needs input.
fn task_answer(status: &Value, artifacts: &Value, id: &Value) -> Answer {
    let state = status["state"].as_str().unwrap_or("unknown");
    let completed = matches!(state, "TASK_STATE_COMPLETED" | "completed");
    if completed {
        let from_artifacts = artifacts
            .as_array()
            .into_iter()
            .flatten()
            .find_map(|a| parts_answer(&a["parts"]));
        let from_status = parts_answer(&status["message"]["parts"]);
        return Answer {
            text: from_artifacts.or(from_status).unwrap_or_default(),
            input_required: None,
        };
    }
    let said = parts_answer(&status["message"]["parts"])
        .map(|t| format!(": {t}"))
        .unwrap_or_default();
    let input_required = matches!(state, "TASK_STATE_INPUT_REQUIRED" | "input-required")
        .then(|| id.as_str().map(str::to_string))
        .flatten();
    Answer {
        text: format!("the agent's task ended in state `{state}` without an answer{said}"),
        input_required,
    }
}

/// The JSON-RPC request as written (1.0 and 0.3 differ in the role's spelling, the
/// parts' `kind` tags and `blocking`).
mod wire {
    use serde::Serialize;
    use serde_json::value::RawValue;

    #[derive(Serialize)]
    pub(super) struct Request<'a> {
        pub jsonrpc: &'static str,
        pub id: &'a str,
        pub method: &'static str,
        pub params: Params<'a>,
    }

    #[derive(Serialize)]
    pub(super) struct Params<'a> {
        pub message: Message<'a>,
        pub configuration: Configuration,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    pub(super) struct Message<'a> {
        #[serde(skip_serializing_if = "Option::is_none")]
        pub kind: Option<&'static str>,
        pub message_id: &'a str,
        pub context_id: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        pub task_id: Option<&'a str>,
        pub role: &'static str,
        pub parts: (Part<'a>, Part<'a>),
    }

    #[derive(Serialize)]
    #[serde(untagged, rename_all = "camelCase")]
    pub(super) enum Part<'a> {
        Text {
            #[serde(skip_serializing_if = "Option::is_none")]
            kind: Option<&'static str>,
            text: &'a str,
        },
        Data {
            #[serde(skip_serializing_if = "Option::is_none")]
            kind: Option<&'static str>,
            data: &'a RawValue,
            #[serde(rename = "mediaType", skip_serializing_if = "Option::is_none")]
            media_type: Option<&'static str>,
        },
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    pub(super) struct Configuration {
        pub accepted_output_modes: [&'static str; 2],
        /// 0: the task comes back without its history (the question echoed back), which
        /// the harness never reads.
        pub history_length: u32,
        #[serde(skip_serializing_if = "Option::is_none")]
        pub blocking: Option<bool>,
    }
}

/// The conversation a question belongs to: the run and the team (`fishbanks-<run>-<team>`).
pub fn context_id(ctx: &CallContext) -> String {
    format!("fishbanks-{}-{}", ctx.run_id, ctx.agent + 1)
}

/// The answer in a list of parts: the first data part as JSON, else the text parts
/// joined; `None` when there is neither.
fn parts_answer(parts: &Value) -> Option<String> {
    let parts = parts.as_array()?;
    if let Some(data) = parts.iter().find_map(|p| p.get("data")) {
        return Some(data.to_string());
    }
    let texts: Vec<&str> = parts.iter().filter_map(|p| p["text"].as_str()).collect();
    (!texts.is_empty()).then(|| texts.join("\n"))
}

/// What `fishbanks doctor` and the manifest say of an agent's card.
#[derive(Debug, Clone, PartialEq)]
pub struct CardSummary {
    pub name: String,
    /// The card's `version` (the agent's own).
    pub version: String,
    /// Protocol versions and bindings it offers (`1.0 JSONRPC at http://…`), each once.
    pub interfaces: Vec<String>,
    pub skills: Vec<String>,
    pub input_modes: Vec<String>,
    /// How a client must authenticate: the card's security schemes (`name: type`), and
    /// whether it requires one.
    pub auth: Vec<String>,
    /// What the harness will speak to it, or why it cannot.
    pub chosen: Result<Endpoint, String>,
}

impl CardSummary {
    pub fn of(card: &Value) -> CardSummary {
        let strings = |v: &Value| -> Vec<String> {
            v.as_array()
                .into_iter()
                .flatten()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        };
        let auth = card["securitySchemes"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(name, scheme)| {
                // 0.3 tags a scheme with `type`; 1.0 wraps it (`{"httpAuthSecurityScheme": …}`).
                let kind = scheme["type"]
                    .as_str()
                    .map(str::to_string)
                    .or_else(|| scheme.as_object().and_then(|o| o.keys().next().cloned()))
                    .unwrap_or_else(|| "?".into());
                let detail = ["scheme", "in", "name"]
                    .iter()
                    .filter_map(|k| {
                        scheme[*k]
                            .as_str()
                            .or_else(|| {
                                scheme
                                    .as_object()
                                    .and_then(|o| o.values().next())
                                    .and_then(|inner| inner[*k].as_str())
                            })
                            .map(|v| format!("{k} {v}"))
                    })
                    .collect::<Vec<_>>();
                if detail.is_empty() {
                    format!("{name}: {kind}")
                } else {
                    format!("{name}: {kind} ({})", detail.join(", "))
                }
            })
            .collect();
        CardSummary {
            name: card["name"].as_str().unwrap_or("?").to_string(),
            version: card["version"].as_str().unwrap_or("?").to_string(),
            interfaces: offered(card)
                .into_iter()
                .map(|(v, b, u)| format!("{v} {b} at {u}"))
                .collect(),
            skills: card["skills"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|s| {
                    format!(
                        "{} ({})",
                        s["name"].as_str().or(s["id"].as_str()).unwrap_or("?"),
                        s["description"].as_str().unwrap_or("")
                    )
                })
                .collect(),
            input_modes: strings(&card["defaultInputModes"]),
            auth,
            chosen: Endpoint::from_card(card),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agents::RequestKind;
    use serde_json::json;

    fn ctx() -> CallContext {
        CallContext {
            run_id: "r1".into(),
            agent: 2,
            year: 4,
            kind: RequestKind::Decision,
            round: 0,
            repair: 1,
        }
    }

    #[test]
    fn the_card_chooses_the_version_and_address_or_is_refused() {
        let v1 = json!({"supportedInterfaces": [
            {"url": "http://h/rpc", "protocolBinding": "JSONRPC", "protocolVersion": "1.0"},
            {"url": "http://h/grpc", "protocolBinding": "GRPC", "protocolVersion": "1.0"}]});
        assert_eq!(
            Endpoint::from_card(&v1),
            Ok(Endpoint {
                url: "http://h/rpc".into(),
                version: Version::V1
            })
        );
        let v03 = json!({"url": "http://h/a2a", "protocolVersion": "0.3.0"});
        assert_eq!(
            Endpoint::from_card(&v03),
            Ok(Endpoint {
                url: "http://h/a2a".into(),
                version: Version::V03
            })
        );
        // A 0.3 card whose JSON-RPC address is an additional interface.
        let rest = json!({"url": "http://h/rest", "protocolVersion": "0.3.0", "preferredTransport": "HTTP+JSON",
            "additionalInterfaces": [{"url": "http://h/rpc3", "transport": "JSONRPC"}]});
        assert_eq!(Endpoint::from_card(&rest).unwrap().url, "http://h/rpc3");
        // No JSON-RPC interface: refused, naming what it offers.
        let grpc = json!({"supportedInterfaces": [
            {"url": "http://h/grpc", "protocolBinding": "GRPC", "protocolVersion": "1.0"}]});
        let err = Endpoint::from_card(&grpc).unwrap_err();
        assert!(err.contains("1.0 GRPC at http://h/grpc"), "{err}");
        assert!(Endpoint::from_card(&json!({"name": "x"}))
            .unwrap_err()
            .contains("no interface"));
        assert_eq!(
            card_urls("http://h:9/"),
            [
                "http://h:9/.well-known/agent-card.json".to_string(),
                "http://h:9/.well-known/agent.json".to_string()
            ]
        );
    }

    #[test]
    fn a_card_is_summed_up_once_per_interface_with_its_auth() {
        // An a2a-sdk card that states its 0.3 interface twice (1.0 list and 0.3 fields).
        let card = json!({"name": "n", "version": "2.1", "url": "http://h/", "protocolVersion": "0.3.0",
            "supportedInterfaces": [{"url": "http://h/", "protocolBinding": "JSONRPC", "protocolVersion": "0.3.0"}],
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}});
        let s = CardSummary::of(&card);
        assert_eq!(s.interfaces, vec!["0.3.0 JSONRPC at http://h/".to_string()]);
        assert_eq!(s.auth, vec!["bearer: http (scheme bearer)".to_string()]);
        assert_eq!(s.version, "2.1");
        let v1 = json!({"securitySchemes": {"key": {"apiKeySecurityScheme": {"location": "header", "name": "X-Key"}}}});
        assert_eq!(
            CardSummary::of(&v1).auth,
            vec!["key: apiKeySecurityScheme (name X-Key)".to_string()]
        );
    }

    #[test]
    fn requests_carry_the_payload_as_data_with_ids_from_the_call() {
        let payload = json!({"question": "decision"});
        let one = Endpoint {
            url: "u".into(),
            version: Version::V1,
        };
        let raw = serde_json::value::to_raw_value(&payload).unwrap();
        let r: Value = serde_json::from_str(&one.request(&ctx(), &raw, "prompt", None)).unwrap();
        assert_eq!(r["method"], "SendMessage");
        assert_eq!(r["params"]["message"]["role"], "ROLE_USER");
        assert_eq!(r["params"]["message"]["parts"][1]["data"], payload);
        assert_eq!(r["params"]["message"]["contextId"], "fishbanks-r1-3");
        assert!(r["params"]["message"].get("taskId").is_none());
        assert_eq!(r["id"], "fishbanks-r1-3-4-decision-0-2");
        // The question is not echoed back in the task's history.
        assert_eq!(r["params"]["configuration"]["historyLength"], 0);
        let old = Endpoint {
            url: "u".into(),
            version: Version::V03,
        };
        let r: Value =
            serde_json::from_str(&old.request(&ctx(), &raw, "prompt", Some("t7"))).unwrap();
        assert_eq!(r["params"]["configuration"]["blocking"], true);
        assert_eq!(r["params"]["configuration"]["historyLength"], 0);
        assert_eq!(r["params"]["message"]["role"], "user");
        assert_eq!(r["params"]["message"]["parts"][0]["kind"], "text");
        assert_eq!(r["method"], "message/send");
        assert_eq!(r["params"]["message"]["parts"][1]["kind"], "data");
        assert_eq!(r["params"]["message"]["taskId"], "t7");
        assert_eq!(r["params"]["message"]["contextId"], "fishbanks-r1-3");
        assert_eq!(one.headers(), vec![("A2A-Version", "1.0")]);
        assert!(old.headers().is_empty());
    }

    #[test]
    fn answers_come_from_data_parts_artifacts_or_say_why_not() {
        let e = Endpoint {
            url: "u".into(),
            version: Version::V1,
        };
        let text = |reply: Value| e.answer(&reply.to_string()).unwrap().text;
        let message = json!({"jsonrpc": "2.0", "id": 1, "result": {"message": {
            "role": "ROLE_AGENT", "parts": [{"data": {"order": 1, "deep": 2, "coast": 0}}]}}});
        assert_eq!(text(message), r#"{"coast":0,"deep":2,"order":1}"#);
        let done = json!({"result": {"task": {"id": "t", "status": {"state": "TASK_STATE_COMPLETED"},
            "artifacts": [{"artifactId": "a", "parts": [{"text": "{\"accept\": true}"}]}]}}});
        assert_eq!(text(done), "{\"accept\": true}");
        let input = json!({"result": {"task": {"id": "t9", "status": {"state": "TASK_STATE_INPUT_REQUIRED",
            "message": {"parts": [{"text": "which year?"}]}}}}});
        let a = e.answer(&input.to_string()).unwrap();
        assert!(
            a.text.contains("TASK_STATE_INPUT_REQUIRED") && a.text.contains("which year?"),
            "{}",
            a.text
        );
        assert_eq!(a.input_required.as_deref(), Some("t9"));
        let failed = json!({"result": {"kind": "task", "id": "t", "status": {"state": "failed"}}});
        let a = e.answer(&failed.to_string()).unwrap();
        assert!(a.text.contains("`failed`") && a.input_required.is_none());
        let v03 = json!({"result": {"kind": "message", "parts": [{"kind": "data", "data": {"vote": true}}]}});
        assert_eq!(text(v03), r#"{"vote":true}"#);
        assert!(matches!(
            e.answer("<html>busy</html>"),
            Err(Reply::Malformed(_))
        ));
        let refused = json!({"jsonrpc": "2.0", "id": 1, "error": {"code": -32601, "message": "no such method"}});
        assert_eq!(
            e.answer(&refused.to_string()),
            Err(Reply::RpcError(
                "JSON-RPC error -32601: no such method".into()
            ))
        );
        // The usual reply is read as the whole reply reads it, without its history;
        // anything unusual is left to the whole reading (and its exact error).
        let history = json!([{"role": "ROLE_USER", "parts": [{"text": "x".repeat(5000)},
            {"data": {"observation": {"board": {"messages": [1, 2, 3]}}}}]}]);
        let usual = [
            json!({"jsonrpc": "2.0", "id": 1, "result": {"task": {"id": "t", "history": history,
                "status": {"state": "TASK_STATE_COMPLETED"},
                "artifacts": [{"parts": [{"data": {"deep": 1, "coast": 0, "order": 0}}]}]}}}),
            json!({"result": {"kind": "task", "id": "t", "history": history,
                "status": {"state": "input-required", "message": {"parts": [{"text": "?"}]}}}}),
            json!({"result": {"message": {"parts": [{"text": "a"}, {"text": "b"}]}}}),
        ];
        for reply in &usual {
            let reply = reply.to_string();
            assert_eq!(usual_answer(&reply).map(Ok), Some(whole_answer(&reply)));
        }
        for unusual in [
            r#"[{"result": {"kind": "message", "parts": [{"data": {"vote": true}}]}}]"#,
            r#"{"result": ["message", null, [{"data": {"vote": true}}], null, null]}"#,
            r#"{"result": {"message": null}}"#,
            r#"{"result": {"kind": 5, "parts": []}}"#,
            r#"{"result": null, "error": {"code": 1, "message": "m"}}"#,
        ] {
            assert_eq!(usual_answer(unusual), None, "{unusual}");
        }
        assert!(matches!(
            e.answer(r#"[{"result": {"kind": "message", "parts": [{"data": {"vote": true}}]}}]"#),
            Err(Reply::NotJsonRpc(_))
        ));
        // A plain JSON agent's answer to a JSON-RPC request: the wrong transport.
        assert!(matches!(
            e.answer(r#"{"order": 0, "deep": 1, "coast": 1}"#),
            Err(Reply::NotJsonRpc(m)) if m.contains("transport = \"json\"")
        ));
    }
}
