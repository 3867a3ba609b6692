//! The HTTP side of a call: a one-shot service that turns every non-success status into an error carrying what the retry loop needs, and lenient reading of the completion's JSON.

use super::*;
use serde::Serialize;

/// A non-success HTTP response, passed through async-openai as a boxed error.
#[derive(Debug, thiserror::Error)]
#[error("HTTP {status}: {body}")]
pub(super) struct HttpFailure {
    pub(super) status: u16,
    pub(super) body: String,
    pub(super) retry_after: Option<Duration>,
}

/// One attempt, no retry: async-openai's default executor retries on its own, which
/// would hide retries from the accounting and ignore our backoff.
#[derive(Clone)]
pub(super) struct OneShot {
    pub(super) http: reqwest::Client,
}

impl tower::Service<HttpRequestFactory> for OneShot {
    type Response = reqwest::Response;
    type Error = OpenAIError;
    type Future = BoxFuture<'static, Result<reqwest::Response, OpenAIError>>;

    fn poll_ready(
        &mut self,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, factory: HttpRequestFactory) -> Self::Future {
        let http = self.http.clone();
        Box::pin(async move {
            let request = factory.build().await?;
            let response = http.execute(request).await.map_err(OpenAIError::Reqwest)?;
            if response.status().is_success() {
                return Ok(response);
            }
            let status = response.status().as_u16();
            let retry_after = server_wait(response.headers());
            let body = match response.bytes().await {
                Ok(b) => String::from_utf8_lossy(&b).into_owned(),
                Err(e) => format!("<body unreadable: {e}>"),
            };
            Err(OpenAIError::Boxed(Box::new(HttpFailure {
                status,
                body,
                retry_after,
            })))
        })
    }
}

/// A chat completion as servers really send it: only `choices[].message.content` is
/// needed; `id`, `object`, `created`, `usage` may be missing and extra fields are fine.
#[derive(Debug, Deserialize)]
pub(super) struct LenientCompletion {
    #[serde(default)]
    pub(super) choices: Vec<LenientChoice>,
    #[serde(default)]
    pub(super) usage: Option<LenientUsage>,
    /// Some servers answer 200 with an error object.
    #[serde(default)]
    pub(super) error: Option<Value>,
}

#[derive(Debug, Deserialize)]
pub(super) struct LenientChoice {
    #[serde(default)]
    pub(super) message: Option<LenientMessage>,
    #[serde(default)]
    pub(super) finish_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct LenientMessage {
    #[serde(default)]
    pub(super) content: Option<String>,
    #[serde(default)]
    pub(super) refusal: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct LenientUsage {
    #[serde(default)]
    pub(super) prompt_tokens: Option<u64>,
    #[serde(default)]
    pub(super) completion_tokens: Option<u64>,
    #[serde(default)]
    pub(super) prompt_tokens_details: Option<PromptTokensDetails>,
}

#[derive(Debug, Deserialize)]
pub(super) struct PromptTokensDetails {
    #[serde(default)]
    pub(super) cached_tokens: Option<u64>,
}

/// The request body as it goes on the wire, borrowed from the request so that neither the
/// schema (dozens of branches for a large fleet) nor the messages are copied for every
/// call. Fields are in alphabetical order, as are the maps of a `serde_json::Value`: the
/// bytes are those of the body built as a `Value`, which the retry jitter and the mock
/// server's fault draws hash.
#[derive(Debug, Serialize)]
pub(super) struct Body<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) max_tokens: Option<u32>,
    pub(super) messages: Vec<WireMessage<'a>>,
    pub(super) model: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) response_format: Option<ResponseFormat<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) seed: Option<i64>,
    pub(super) stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) temperature: Option<f64>,
}

/// A chat message, `content` before `role` (alphabetical, see [`Body`]).
#[derive(Debug, Serialize)]
pub(super) struct WireMessage<'a> {
    pub(super) content: &'a str,
    pub(super) role: &'a str,
}

/// `response_format`: `{"type": "json_object"}`, or `json_schema` with the schema.
#[derive(Debug, Serialize)]
pub(super) struct ResponseFormat<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) json_schema: Option<JsonSchemaFormat<'a>>,
    #[serde(rename = "type")]
    pub(super) kind: &'static str,
}

/// The named schema of `response_format` (strict: the server must follow it).
#[derive(Debug, Serialize)]
pub(super) struct JsonSchemaFormat<'a> {
    pub(super) name: &'a str,
    pub(super) schema: &'a serde_json::value::RawValue,
    pub(super) strict: bool,
}
