//! `fishbanks run` with MCP seats: the MCP endpoint is started before the sweep (its
//! address and each client's token printed), handed to the runner, told when the sweep
//! is over, and what each client said of itself is added to the manifest.

use anyhow::Context;
use fishbanks::experiment::{Experiment, McpDesks, Seat};
use fishbanks::record::{AgentProgram, Manifest};
use fishbanks::seat::mcp::{self, ClientSetup, McpServer};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// How long a finished sweep keeps answering `{"done": true}` to clients that have not
/// heard it yet.
const TELL_DONE: Duration = Duration::from_secs(10);

/// The running endpoint.
pub struct Endpoint {
    pub server: Arc<McpServer>,
    stop: tokio::sync::oneshot::Sender<()>,
    serving: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// Each MCP client of `exp` (the entries with one `token_env`, or none), in the order
/// its first seat appears, with the teams (from 0) its seats take in any run.
fn clients(exp: &Experiment) -> Vec<(Option<String>, Vec<usize>)> {
    let mut out: Vec<(Option<String>, Vec<usize>)> = Vec::new();
    for population in exp
        .config
        .matrix
        .population
        .iter()
        .filter_map(|p| exp.config.populations.get(p))
    {
        for (team, seat) in population.seats.iter().enumerate() {
            let Seat::Mcp(m) = seat else { continue };
            match out.iter_mut().find(|(k, _)| *k == m.token_env) {
                Some((_, teams)) if teams.contains(&team) => {}
                Some((_, teams)) => teams.push(team),
                None => out.push((m.token_env.clone(), vec![team])),
            }
        }
    }
    for (_, teams) in &mut out {
        teams.sort_unstable();
    }
    out
}

/// Whether the experiment has MCP seats.
pub fn needed(exp: &Experiment) -> bool {
    exp.plan.runs.iter().any(|r| r.has_mcp())
}

/// Starts the endpoint at `[mcp] bind` and prints where it is and each client's token
/// (read from its `token_env`, or made now: never written to the results).
pub async fn start(exp: &Experiment) -> anyhow::Result<(Endpoint, McpDesks)> {
    let settings = &exp.config.mcp;
    let mut setups = Vec::new();
    let mut said = Vec::new();
    for (i, (key, teams)) in clients(exp).into_iter().enumerate() {
        let name = format!("mcp-{}", i + 1);
        let given = key
            .as_deref()
            .and_then(|var| std::env::var(var).ok())
            .filter(|t| !t.trim().is_empty());
        let teams_text = teams
            .iter()
            .map(|t| (t + 1).to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let token = match (&given, &key) {
            (Some(t), Some(var)) => {
                said.push(format!("{name} (teams {teams_text}): the token in ${var}"));
                t.trim().to_string()
            }
            (_, key) => {
                let t = mcp::new_token();
                said.push(format!(
                    "{name} (teams {teams_text}): token {t}{}",
                    match key {
                        Some(var) => format!(" (made for this sweep: ${var} is not set)"),
                        None => " (made for this sweep; `token_env` chooses one)".into(),
                    }
                ));
                t
            }
        };
        setups.push(ClientSetup {
            name,
            key,
            token,
            teams,
            team_count: exp.config.agents,
        });
    }
    let server = McpServer::new(setups, settings);
    let listener = tokio::net::TcpListener::bind(&settings.bind)
        .await
        .with_context(|| format!("[mcp] bind: cannot listen on {}", settings.bind))?;
    let address = listener.local_addr()?;
    eprintln!("mcp: http://{address}/mcp (Authorization: Bearer <token>)");
    for line in said {
        eprintln!("mcp: {line}");
    }
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(mcp::serve(listener, server.clone(), async {
        let _ = stopped.await;
    }));
    let desks = McpDesks(server.models());
    Ok((
        Endpoint {
            server,
            stop,
            serving,
        },
        desks,
    ))
}

impl Endpoint {
    /// The sweep is over: clients are told (`{"done": true}`, for up to
    /// [`TELL_DONE`]), the endpoint stops, and the manifest in `dir` records each
    /// client that played as it named itself.
    pub async fn finish(self, dir: &Path) -> anyhow::Result<()> {
        self.server.finish();
        let told = async {
            while !self.server.all_told() {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        };
        let _ = tokio::time::timeout(TELL_DONE, told).await;
        let _ = self.stop.send(());
        let _ = self.serving.await;
        let programs = self.server.programs();
        if programs.is_empty() {
            return Ok(());
        }
        let Ok(mut manifest) = Manifest::read(dir) else {
            return Ok(());
        };
        for p in programs {
            let program = AgentProgram {
                seat: p.seat,
                name: p.name,
                version: p.version,
                protocol: p.protocol,
            };
            if !manifest.agent_programs.contains(&program) {
                manifest.agent_programs.push(program);
            }
        }
        manifest
            .write(dir)
            .context("cannot record the MCP clients in the manifest")
    }
}
