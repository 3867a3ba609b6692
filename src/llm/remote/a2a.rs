//! The Agent2Agent protocol, as a client: the agent card, `SendMessage` (1.0, protobuf
//! JSON) or `message/send` (0.3), and the answer read back from a message's data part or
//! a completed task's artifact. A task the agent left needing input, failed, rejected or
//! unfinished is an answer too, an invalid one: it is re-asked and counted like any.
//!
//! Message and request ids are derived from the call (run, team, year, question, round,
//! attempt), never drawn: the same question has the same ids in every replay.

use serde_json::{json, Value};

use crate::llm::model::CallContext;

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

/// Where and how to send: the JSON-RPC address and version the card names.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    pub url: String,
    pub version: Version,
}

/// Why a reply is not an answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// Not JSON-RPC (an HTML page, a cut-off body): a transport fault, retried.
    Malformed(String),
    /// A JSON-RPC error object: the agent refused the request itself (final).
    RpcError(String),
}

impl Endpoint {
    /// From the card (`None`: no card; then 1.0 at `base`). 1.0 when the card offers a
    /// JSON-RPC interface of version 1.x (`supportedInterfaces`); 0.3 when it says
    /// `protocolVersion` 0.3 (its `url`).
    pub fn from_card(card: Option<&Value>, base: &str) -> Endpoint {
        let fallback = Endpoint {
            url: base.to_string(),
            version: Version::V1,
        };
        let Some(card) = card else {
            return fallback;
        };
        let interfaces = card["supportedInterfaces"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let jsonrpc = |i: &&Value| {
            i["protocolBinding"]
                .as_str()
                .is_some_and(|b| b.eq_ignore_ascii_case("JSONRPC"))
        };
        if let Some(i) = interfaces.iter().filter(jsonrpc).find(|i| {
            i["protocolVersion"]
                .as_str()
                .is_some_and(|v| v.starts_with("1."))
        }) {
            return Endpoint {
                url: i["url"].as_str().unwrap_or(base).to_string(),
                version: Version::V1,
            };
        }
        let v03 = card["protocolVersion"]
            .as_str()
            .is_some_and(|v| v.starts_with("0.3"))
            || interfaces.iter().filter(jsonrpc).any(|i| {
                i["protocolVersion"]
                    .as_str()
                    .is_some_and(|v| v.starts_with("0.3"))
            });
        if v03 {
            return Endpoint {
                url: card["url"].as_str().unwrap_or(base).to_string(),
                version: Version::V03,
            };
        }
        fallback
    }

    /// The headers a request carries (the version, for 1.0).
    pub fn headers(&self) -> Vec<(&'static str, &'static str)> {
        match self.version {
            Version::V1 => vec![("A2A-Version", "1.0")],
            Version::V03 => Vec::new(),
        }
    }

    /// The JSON-RPC request carrying one question: the payload as a data part, the
    /// prompt as a text part.
    pub fn request(
        &self,
        ctx: &CallContext,
        payload: &serde_json::value::RawValue,
        prompt: &str,
    ) -> Value {
        let id = format!(
            "fishbanks-{}-{}-{}-{}-{}-{}",
            ctx.run_id,
            ctx.agent + 1,
            ctx.year,
            ctx.kind.as_str(),
            ctx.round,
            ctx.repair + 1
        );
        match self.version {
            Version::V1 => json!({
                "jsonrpc": "2.0",
                "id": id,
                "method": "SendMessage",
                "params": {
                    "message": {
                        "messageId": id,
                        "role": "ROLE_USER",
                        "parts": [
                            {"text": prompt},
                            {"data": payload, "mediaType": "application/json"},
                        ],
                    },
                    "configuration": {
                        "acceptedOutputModes": ["application/json", "text/plain"],
                    },
                },
            }),
            Version::V03 => json!({
                "jsonrpc": "2.0",
                "id": id,
                "method": "message/send",
                "params": {
                    "message": {
                        "kind": "message",
                        "messageId": id,
                        "role": "user",
                        "parts": [
                            {"kind": "text", "text": prompt},
                            {"kind": "data", "data": payload},
                        ],
                    },
                    "configuration": {
                        "acceptedOutputModes": ["application/json", "text/plain"],
                        "blocking": true,
                    },
                },
            }),
        }
    }

    /// The answer in a JSON-RPC reply, as text for the question's validator: a data
    /// part as JSON, else the text parts; a task that did not complete as a sentence
    /// saying so (which no validator accepts).
    pub fn answer(&self, reply: &str) -> Result<String, Reply> {
        let v: Value = serde_json::from_str(reply).map_err(|e| {
            Reply::Malformed(format!(
                "not a JSON-RPC reply ({e}): {}",
                reply.chars().take(200).collect::<String>()
            ))
        })?;
        if let Some(error) = v.get("error") {
            return Err(Reply::RpcError(format!("JSON-RPC error: {error}")));
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
            return Ok(parts_answer(&m["parts"]).unwrap_or_default());
        }
        let Some(task) = task else {
            return Err(Reply::Malformed(
                "the reply's result is neither a message nor a task".into(),
            ));
        };
        let state = task["status"]["state"].as_str().unwrap_or("unknown");
        let completed = matches!(state, "TASK_STATE_COMPLETED" | "completed");
        if completed {
            let from_artifacts = task["artifacts"]
                .as_array()
                .into_iter()
                .flatten()
                .find_map(|a| parts_answer(&a["parts"]));
            let from_status = parts_answer(&task["status"]["message"]["parts"]);
            return Ok(from_artifacts.or(from_status).unwrap_or_default());
        }
        let said = parts_answer(&task["status"]["message"]["parts"])
            .map(|t| format!(": {t}"))
            .unwrap_or_default();
        Ok(format!(
            "the agent's task ended in state `{state}` without an answer{said}"
        ))
    }
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

/// What `fishbanks doctor` says of an agent's card.
#[derive(Debug, Clone, PartialEq)]
pub struct CardSummary {
    pub name: String,
    /// Protocol versions and bindings it offers (`1.0 JSONRPC at http://…`).
    pub interfaces: Vec<String>,
    pub skills: Vec<String>,
    pub input_modes: Vec<String>,
    /// What the harness will speak to it.
    pub chosen: Endpoint,
}

impl CardSummary {
    pub fn of(card: &Value, base: &str) -> CardSummary {
        let strings = |v: &Value| -> Vec<String> {
            v.as_array()
                .into_iter()
                .flatten()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        };
        let mut interfaces: Vec<String> = card["supportedInterfaces"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|i| {
                format!(
                    "{} {} at {}",
                    i["protocolVersion"].as_str().unwrap_or("?"),
                    i["protocolBinding"].as_str().unwrap_or("?"),
                    i["url"].as_str().unwrap_or("?")
                )
            })
            .collect();
        if let Some(v) = card["protocolVersion"].as_str() {
            interfaces.push(format!(
                "{v} {} at {}",
                card["preferredTransport"].as_str().unwrap_or("JSONRPC"),
                card["url"].as_str().unwrap_or("?")
            ));
        }
        CardSummary {
            name: card["name"].as_str().unwrap_or("?").to_string(),
            interfaces,
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
            chosen: Endpoint::from_card(Some(card), base),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agents::RequestKind;

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
    fn the_card_chooses_the_version_and_address() {
        let v1 = json!({"supportedInterfaces": [
            {"url": "http://h/rpc", "protocolBinding": "JSONRPC", "protocolVersion": "1.0"},
            {"url": "http://h/grpc", "protocolBinding": "GRPC", "protocolVersion": "1.0"}]});
        assert_eq!(
            Endpoint::from_card(Some(&v1), "http://h"),
            Endpoint {
                url: "http://h/rpc".into(),
                version: Version::V1
            }
        );
        let v03 = json!({"url": "http://h/a2a", "protocolVersion": "0.3.0"});
        assert_eq!(
            Endpoint::from_card(Some(&v03), "http://h").version,
            Version::V03
        );
        assert_eq!(
            Endpoint::from_card(Some(&v03), "http://h").url,
            "http://h/a2a"
        );
        assert_eq!(Endpoint::from_card(None, "http://h/").url, "http://h/");
        assert_eq!(
            card_url("http://h:9/"),
            "http://h:9/.well-known/agent-card.json"
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
        let r = one.request(&ctx(), &raw, "prompt");
        assert_eq!(r["method"], "SendMessage");
        assert_eq!(r["params"]["message"]["role"], "ROLE_USER");
        assert_eq!(r["params"]["message"]["parts"][1]["data"], payload);
        assert_eq!(r["id"], "fishbanks-r1-3-4-decision-0-2");
        let old = Endpoint {
            url: "u".into(),
            version: Version::V03,
        };
        let r = old.request(&ctx(), &raw, "prompt");
        assert_eq!(r["method"], "message/send");
        assert_eq!(r["params"]["message"]["parts"][1]["kind"], "data");
        assert_eq!(one.headers(), vec![("A2A-Version", "1.0")]);
        assert!(old.headers().is_empty());
    }

    #[test]
    fn answers_come_from_data_parts_artifacts_or_say_why_not() {
        let e = Endpoint {
            url: "u".into(),
            version: Version::V1,
        };
        let message = json!({"jsonrpc": "2.0", "id": 1, "result": {"message": {
            "role": "ROLE_AGENT", "parts": [{"data": {"order": 1, "deep": 2, "coast": 0}}]}}});
        assert_eq!(
            e.answer(&message.to_string()).unwrap(),
            r#"{"coast":0,"deep":2,"order":1}"#
        );
        let done = json!({"result": {"task": {"id": "t", "status": {"state": "TASK_STATE_COMPLETED"},
            "artifacts": [{"artifactId": "a", "parts": [{"text": "{\"accept\": true}"}]}]}}});
        assert_eq!(e.answer(&done.to_string()).unwrap(), "{\"accept\": true}");
        let input = json!({"result": {"task": {"id": "t", "status": {"state": "TASK_STATE_INPUT_REQUIRED",
            "message": {"parts": [{"text": "which year?"}]}}}}});
        let text = e.answer(&input.to_string()).unwrap();
        assert!(
            text.contains("TASK_STATE_INPUT_REQUIRED") && text.contains("which year?"),
            "{text}"
        );
        let failed = json!({"result": {"kind": "task", "id": "t", "status": {"state": "failed"}}});
        assert!(e.answer(&failed.to_string()).unwrap().contains("`failed`"));
        let v03 = json!({"result": {"kind": "message", "parts": [{"kind": "data", "data": {"vote": true}}]}});
        assert_eq!(e.answer(&v03.to_string()).unwrap(), r#"{"vote":true}"#);
        assert!(matches!(
            e.answer("<html>busy</html>"),
            Err(Reply::Malformed(_))
        ));
        assert!(matches!(
            e.answer(&json!({"error": {"code": -32601, "message": "no"}}).to_string()),
            Err(Reply::RpcError(_))
        ));
    }
}
