//! `fishbanks mock-server`: the test kit's fault-injecting OpenAI-compatible server, for
//! benchmarks and trying the LLM path without a model.

use fishbanks::llm::mock::Policy;
use fishbanks::testkit::mock_server::{serve, Fault, ServerOptions, ServerStats};
use std::sync::Arc;
use std::time::Duration;

/// Command-line options of `fishbanks mock-server`.
#[derive(Debug, Clone, clap::Args)]
pub struct MockServerArgs {
    /// Address to listen on (loopback by default).
    #[arg(long, default_value = "127.0.0.1:8089")]
    pub addr: String,
    /// Policy the mock plays: greedy, sustainable, follower (its quota when there is
    /// one, sustainable otherwise), chaotic (random valid answers) or conditional
    /// (restrained only when the others announce restraint).
    #[arg(long, default_value = "greedy")]
    pub policy: String,
    /// Base of the mock's sampling; a request's own `seed` is mixed in, so replicates
    /// differ and a replay does not.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Probability of a wrong answer from the mock model itself (prose, bad JSON, out
    /// of range), which the harness must repair.
    #[arg(long, default_value_t = 0.0)]
    pub noise: f64,
    /// Time to answer each request, in milliseconds (a model's latency).
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Uniform jitter added to the latency, up to this many milliseconds.
    #[arg(long, default_value_t = 0)]
    pub jitter_ms: u64,
    /// Probability of a fault per attempt.
    #[arg(long, default_value_t = 0.0)]
    pub fault_rate: f64,
    /// Faults to draw from, comma-separated (default: all): rate-limit,
    /// rate-limit-bare, http500, http503, hang, reset, non-openai, truncated-body,
    /// prose, truncated-json, out-of-range, refusal.
    #[arg(long, value_delimiter = ',')]
    pub faults: Vec<Fault>,
    /// At most this many faults for one request (its later attempts succeed), so a
    /// client that retries always gets an answer.
    #[arg(long, default_value_t = 2)]
    pub max_faults_per_request: u32,
    /// Leave `usage` out of answers, as some servers do (the harness then estimates
    /// tokens and counts the calls without a report).
    #[arg(long)]
    pub omit_usage: bool,
    /// Models `GET /models` lists, comma-separated (default: none; any name is served).
    #[arg(long, value_delimiter = ',')]
    pub models: Vec<String>,
}

/// Runs the server: prints its address, stops on Ctrl-C.
pub async fn serve_until_ctrl_c(args: MockServerArgs) -> anyhow::Result<()> {
    let options = ServerOptions {
        policy: Policy::parse(&args.policy)?,
        seed: args.seed,
        noise: args.noise,
        latency: Duration::from_millis(args.latency_ms),
        jitter: Duration::from_millis(args.jitter_ms),
        fault_rate: args.fault_rate,
        faults: if args.faults.is_empty() {
            Fault::ALL.to_vec()
        } else {
            args.faults.clone()
        },
        max_faults_per_request: args.max_faults_per_request,
        omit_usage: args.omit_usage,
        models: args.models.clone(),
        stats: Arc::new(ServerStats::default()),
    };
    let listener = tokio::net::TcpListener::bind(&args.addr).await?;
    println!(
        "mock-server listening on http://{}/v1",
        listener.local_addr()?
    );
    serve(listener, options, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}
