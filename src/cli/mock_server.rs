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
    /// Policy the mock plays: greedy, sustainable, follower, chaotic.
    #[arg(long, default_value = "greedy")]
    pub policy: String,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Probability of a wrong answer from the mock model itself.
    #[arg(long, default_value_t = 0.0)]
    pub noise: f64,
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    #[arg(long, default_value_t = 0)]
    pub jitter_ms: u64,
    /// Probability of a fault per attempt.
    #[arg(long, default_value_t = 0.0)]
    pub fault_rate: f64,
    /// Faults to draw from, comma-separated (default: all).
    #[arg(long, value_delimiter = ',')]
    pub faults: Vec<Fault>,
    #[arg(long, default_value_t = 2)]
    pub max_faults_per_request: u32,
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
