//! Helpers shared by the integration tests: the binary, the shipped quickstart, and a
//! loopback mock server in its own runtime.
#![allow(dead_code)] // each test file uses a part

use fishbanks::testkit::mock_server::{serve, Fault, ServerOptions, ServerStats};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The `fishbanks` binary under test.
pub fn fishbanks() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("fishbanks").unwrap()
}

/// `experiments/quickstart.toml`.
pub fn quickstart() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/quickstart.toml")
}

/// A mock server on 127.0.0.1:0 in its own runtime; stops when dropped.
pub struct Server {
    pub url: String,
    pub stats: Arc<ServerStats>,
    _thread: Background,
}

impl Server {
    /// A server that injects every fault that does not wait for a real clock, at
    /// `fault_rate`.
    pub fn start(fault_rate: f64) -> Server {
        Server::with(ServerOptions {
            fault_rate,
            // Every fault that does not make the test wait for a real clock (Retry-After
            // and hangs are covered with paused time in the llm module's tests).
            faults: vec![
                Fault::RateLimitBare,
                Fault::Http500,
                Fault::Http503,
                Fault::Reset,
                Fault::NonOpenai,
                Fault::TruncatedBody,
                Fault::Prose,
                Fault::TruncatedJson,
                Fault::OutOfRange,
                Fault::Refusal,
            ],
            ..ServerOptions::default()
        })
    }

    /// A server with these options, in a runtime of its own.
    pub fn with(mut options: ServerOptions) -> Server {
        let stats = Arc::new(ServerStats::default());
        options.stats = Arc::clone(&stats);
        let thread = Background::spawn(move |listener, stop| serve(listener, options, stop));
        Server {
            url: thread.url(),
            stats,
            _thread: thread,
        }
    }

    pub fn requests(&self) -> u64 {
        self.stats
            .requests
            .load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// A loopback server (127.0.0.1:0) on a thread with a runtime of its own; stopped and
/// joined when dropped.
struct Background {
    addr: std::net::SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Background {
    /// Bind a listener and run `serve(listener, shutdown)` on it.
    fn spawn<F, Fut>(serve: F) -> Background
    where
        F: FnOnce(tokio::net::TcpListener, StopSignal) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = std::io::Result<()>>,
    {
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                addr_tx.send(listener.local_addr().unwrap()).unwrap();
                let stop: StopSignal = Box::pin(async {
                    let _ = stop_rx.await;
                });
                serve(listener, stop).await.unwrap();
            });
        });
        Background {
            addr: addr_rx.recv().unwrap(),
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }

    fn url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }
}

/// Resolves when the server is to stop.
type StopSignal = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A CSV file read whole, addressed by column name.
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn read(path: &Path) -> Table {
        let mut reader =
            csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let header = reader.headers().unwrap().iter().map(String::from).collect();
        let rows = reader
            .records()
            .map(|r| r.unwrap().iter().map(String::from).collect())
            .collect();
        Table { header, rows }
    }

    pub fn col(&self, name: &str) -> usize {
        self.header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name} in {:?}", self.header))
    }

    /// One column of every row.
    pub fn column(&self, name: &str) -> Vec<&str> {
        let i = self.col(name);
        self.rows.iter().map(|r| r[i].as_str()).collect()
    }

    /// One column of every row, parsed.
    pub fn numbers(&self, name: &str) -> Vec<f64> {
        self.column(name)
            .iter()
            .map(|v| v.parse().unwrap_or_else(|_| panic!("{name}: {v}")))
            .collect()
    }

    /// The rows without the named columns.
    pub fn without(&self, drop: &[&str]) -> Vec<Vec<String>> {
        let keep: Vec<usize> = (0..self.header.len())
            .filter(|i| !drop.contains(&self.header[*i].as_str()))
            .collect();
        self.rows
            .iter()
            .map(|r| keep.iter().map(|&i| r[i].clone()).collect())
            .collect()
    }
}

/// The `runs.csv` columns that show how LLM calls went (retries, repairs, their tokens,
/// cost and latency), not what the game did: they differ between a clean and a faulty
/// transport while everything else must not.
pub const LLM_ACCOUNTING: [&str; 14] = [
    "llm_calls",
    "llm_retries",
    "llm_repairs",
    "llm_valid_first_try",
    "tokens_in",
    "tokens_out",
    "tokens_cached",
    "cost_usd",
    "calls_without_cache_report",
    "retries_rate_limit",
    "retries_server_error",
    "retries_timeout",
    "retries_connection",
    "retries_malformed",
];

/// The chaos proxy in front of an upstream server, in a runtime of its own.
pub struct Chaos {
    pub url: String,
    pub control: Arc<fishbanks::testkit::chaos::ChaosControl>,
    _thread: Background,
}

impl Chaos {
    /// A proxy to `upstream` (a `http://host:port/v1` URL) injecting faults at
    /// `fault_rate`; it goes down by itself after `down_after` forwarded game calls (0:
    /// never).
    pub fn start(upstream: &str, fault_rate: f64, down_after: u64) -> Chaos {
        use fishbanks::testkit::chaos::{serve_chaos, ChaosControl, ChaosFault, ChaosOptions};
        let addr: std::net::SocketAddr = upstream
            .trim_start_matches("http://")
            .trim_end_matches("/v1")
            .parse()
            .unwrap();
        let options = ChaosOptions {
            upstream: addr,
            fault_rate,
            faults: ChaosFault::ALL.to_vec(),
            seed: 11,
            max_faults_per_request: 2,
            hang: std::time::Duration::from_millis(1500),
        };
        let control = Arc::new(ChaosControl::default());
        let ctl = Arc::clone(&control);
        let thread = Background::spawn(move |listener, stop| {
            serve_chaos(listener, options, ctl, down_after, stop)
        });
        Chaos {
            url: thread.url(),
            control,
            _thread: thread,
        }
    }
}

/// Write `text` to `dir/name`; returns the path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Run the binary on an experiment file; returns its output.
pub fn run_experiment(exp: &Path, out: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_fishbanks"))
        .args([
            "run",
            exp.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ])
        .args(args)
        .output()
        .unwrap()
}
