//! Checking providers before a sweep: [`preflight`] (is the server there, does it serve
//! the model, does it accept a call in the configured structured-output mode) and the
//! measurements behind `fishbanks doctor` ([`check_provider`]: latency and tokens per
//! second of a typical prompt in every structured-output mode, whether the answers
//! validate, whether the server answers requests in parallel).

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use super::config::{Backend, Provider, StructuredOutput};
use super::model::{
    AnswerSchema, CallContext, ChatMessage, ChatModel, ChatRequest, SamplingParams,
};
use super::openai::OpenAiModel;
use super::LlmError;
use crate::agents::RequestKind;

fn probe_context(kind: RequestKind) -> CallContext {
    CallContext {
        run_id: "preflight".into(),
        agent: 0,
        year: 0,
        kind,
        round: 0,
        repair: 0,
    }
}

/// Why a provider cannot be used, said so that the user can act.
fn unusable(name: &str, provider: &Provider, what: String) -> LlmError {
    let url = match &provider.backend {
        Backend::Openai { base_url, .. } => base_url.as_str(),
        Backend::Mock { .. } => "(in-process mock)",
    };
    LlmError::Config(format!("provider `{name}` at {url}: {what}"))
}

/// The server must answer `GET /models`, list the model when it lists any, and accept
/// one tiny chat call in the provider's structured-output mode. Runs before run 1, so a
/// server that is down or misconfigured stops the sweep before anything is recorded.
pub async fn preflight(
    name: &str,
    provider: &Provider,
    model: &dyn ChatModel,
) -> Result<(), LlmError> {
    // Not there (refused, timed out, 5xx): down, and the sweep exits 75 as it would had
    // the server gone down later; there but wrong (a 404, a 401): a final error.
    let listed = model.probe().await.map_err(|e| match e.fault() {
        Some(_) => LlmError::Outage {
            provider: name.to_string(),
            reason: match unusable(name, provider, format!("unreachable ({e})")) {
                LlmError::Config(why) => why,
                other => other.to_string(),
            },
        },
        None => unusable(name, provider, format!("unreachable ({e})")),
    })?;
    if !listed.is_empty() && !listed.contains(&provider.model) {
        return Err(unusable(
            name,
            provider,
            format!(
                "does not serve model `{}` (it serves: {})",
                provider.model,
                listed.join(", ")
            ),
        ));
    }
    let request = ChatRequest {
        messages: vec![ChatMessage::user(
            "Reply with the JSON object {\"ok\": true} and nothing else.",
        )],
        params: SamplingParams {
            temperature: Some(0.0),
            seed: Some(0),
            max_tokens: Some(16),
        },
        schema: Some(AnswerSchema::new(
            "ok",
            &json!({"type": "object", "properties": {"ok": {"type": "boolean"}},
                "required": ["ok"], "additionalProperties": false}),
        )),
        context: probe_context(RequestKind::Decision),
        asked: None,
    };
    model.complete(&request).await.map_err(|e| {
        unusable(
            name,
            provider,
            format!(
                "a chat call in structured_output = \"{}\" failed: {e}",
                mode_name(provider.structured_output)
            ),
        )
    })?;
    Ok(())
}

pub fn mode_name(mode: StructuredOutput) -> &'static str {
    match mode {
        StructuredOutput::JsonSchema => "json_schema",
        StructuredOutput::JsonSchemaNested => "json_schema_nested",
        StructuredOutput::JsonObject => "json_object",
        StructuredOutput::None => "none",
    }
}

/// One typical call in one structured-output mode.
#[derive(Debug, Clone)]
pub struct Sample {
    pub latency: Duration,
    pub tokens_in: u64,
    pub tokens_out: u64,
    pub tokens_cached: Option<u64>,
    /// Whether the answer passed the harness's validation (the error otherwise).
    pub valid: Result<(), String>,
    pub answer: String,
}

/// What `fishbanks doctor` found about one provider.
#[derive(Debug, Clone)]
pub struct ProviderCheck {
    pub provider: String,
    pub model: String,
    /// `GET /models` latency, or why it failed.
    pub reachable: Result<Duration, String>,
    /// The models the server lists (empty: it lists none).
    pub models: Vec<String>,
    /// Per structured-output mode: a sample call, or why it failed.
    pub modes: Vec<(StructuredOutput, Result<Sample, String>)>,
    /// The first mode's call again, the same prompt: what the server's prompt cache
    /// makes of a repeat.
    pub repeated: Option<Duration>,
    /// Wall time of one call against two at once, each with a prompt of its own (so no
    /// answer is a prompt-cache hit): near 2× means the server answers one request at a
    /// time.
    pub parallel: Option<(Duration, Duration)>,
    /// The requests the server says it answers at once (llama.cpp's slots), if it says.
    pub slots: Option<u32>,
}

impl ProviderCheck {
    /// The fastest mode whose answer validated, else the first that answered.
    pub fn best(&self) -> Option<(StructuredOutput, &Sample)> {
        let answered = || {
            self.modes
                .iter()
                .filter_map(|(m, r)| r.as_ref().ok().map(|s| (*m, s)))
        };
        answered()
            .find(|(_, s)| s.valid.is_ok())
            .or_else(|| answered().next())
    }

    /// Whether the server answers one request at a time: as it says (its slots), else
    /// whether two requests with prompts of their own took about twice as long as one.
    pub fn serialized(&self) -> Option<bool> {
        if let Some(slots) = self.slots {
            return Some(slots <= 1);
        }
        self.parallel
            .map(|(one, two)| two.as_secs_f64() > 1.6 * one.as_secs_f64())
    }
}

/// `messages` with a first line of their own (`Doctor probe N.`), so that no server's
/// prompt cache holds any of its prefix: a call that measures the server, not its cache.
fn fresh(messages: &[ChatMessage], n: u32) -> Vec<ChatMessage> {
    let mut out = messages.to_vec();
    if let Some(first) = out.first_mut() {
        first.content = format!("Doctor probe {n}.\n{}", first.content);
    }
    out
}

/// Measure a provider with a typical prompt (`messages`, `schema`) in every
/// structured-output mode; `validate` is the harness's own validator of the answer.
/// Every call may write `max_tokens` (the longest valid answer, as a sweep's calls), so
/// a model that rambles without a grammar is cut off, not waited for.
pub async fn check_provider(
    name: &str,
    provider: &Provider,
    messages: Vec<ChatMessage>,
    schema: AnswerSchema,
    max_tokens: u32,
    validate: &(dyn Fn(&str) -> Result<(), String> + Sync),
) -> Result<ProviderCheck, LlmError> {
    let base = Arc::new(OpenAiModel::new(name, provider)?);
    let started = Instant::now();
    let (reachable, models) = match base.probe().await {
        Ok(models) => (Ok(started.elapsed()), models),
        Err(e) => (Err(e.to_string()), Vec::new()),
    };
    let mut check = ProviderCheck {
        provider: name.to_string(),
        model: provider.model.clone(),
        reachable,
        models,
        modes: Vec::new(),
        repeated: None,
        parallel: None,
        slots: base.slots().await,
    };
    if check.reachable.is_err() {
        return Ok(check);
    }
    // The request as each mode sends it: the exact schema, nested under `answer` for
    // strict modes, or none (the prompt states it).
    let max_tokens = Some(
        provider
            .sampling
            .max_tokens
            .map_or(max_tokens, |cap| cap.min(max_tokens)),
    );
    let request_with = |mode: StructuredOutput, messages: Vec<ChatMessage>| ChatRequest {
        messages,
        params: SamplingParams {
            temperature: provider.sampling.temperature,
            seed: Some(1),
            max_tokens,
        },
        schema: match mode {
            StructuredOutput::JsonSchemaNested => Some(AnswerSchema::new(
                schema.name.clone(),
                &super::nested::nest(&schema.value()),
            )),
            _ => Some(schema.clone()),
        },
        context: probe_context(RequestKind::Decision),
        asked: None,
    };
    let request_in = |mode: StructuredOutput| request_with(mode, messages.clone());
    for mode in [
        StructuredOutput::JsonSchema,
        StructuredOutput::JsonSchemaNested,
        StructuredOutput::JsonObject,
        StructuredOutput::None,
    ] {
        let in_mode = Provider {
            structured_output: mode,
            ..provider.clone()
        };
        let model = OpenAiModel::new(name, &in_mode)?;
        let t = Instant::now();
        let outcome = match model.complete(&request_in(mode)).await {
            Ok(r) => {
                let text = match mode {
                    StructuredOutput::JsonSchemaNested => super::nested::unnest(&r.text),
                    _ => r.text.clone(),
                };
                Ok(Sample {
                    latency: t.elapsed(),
                    tokens_in: r.usage.tokens_in,
                    tokens_out: r.usage.tokens_out,
                    tokens_cached: r.usage.tokens_cached,
                    valid: validate(&text),
                    answer: r.text.chars().take(200).collect(),
                })
            }
            Err(e) => Err(e.to_string()),
        };
        check.modes.push((mode, outcome));
    }
    if let Some((mode, _)) = check.best() {
        let request = request_in(mode);
        let model = Arc::new(OpenAiModel::new(
            name,
            &Provider {
                structured_output: mode,
                ..provider.clone()
            },
        )?);
        let repeat = Instant::now();
        if model.complete(&request).await.is_ok() {
            check.repeated = Some(repeat.elapsed());
        }
        // Prompts of their own: two answers from the server's cache would look parallel.
        let one = Instant::now();
        let single = model
            .complete(&request_with(mode, fresh(&messages, 1)))
            .await
            .is_ok();
        let one = one.elapsed();
        let (second, third) = (
            request_with(mode, fresh(&messages, 2)),
            request_with(mode, fresh(&messages, 3)),
        );
        let two = Instant::now();
        let (a, b) = tokio::join!(model.complete(&second), model.complete(&third));
        if single && a.is_ok() && b.is_ok() {
            check.parallel = Some((one, two.elapsed()));
        }
    }
    Ok(check)
}
