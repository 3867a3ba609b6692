//! A server on 127.0.0.1:0 for tests, stopped when dropped: the one guard behind the mock
//! server, the chaos proxy and any other test server. It runs either on a thread with a
//! runtime of its own (integration tests, which block) or as a task of the caller's
//! runtime (unit tests, which may pause tokio's clock).

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// Resolves when the server is to stop.
pub type StopSignal = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A running loopback server.
pub struct Loopback {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

fn stop_pair() -> (oneshot::Sender<()>, StopSignal) {
    let (tx, rx) = oneshot::channel::<()>();
    (
        tx,
        Box::pin(async {
            let _ = rx.await;
        }),
    )
}

impl Loopback {
    /// Run `serve(listener, stop)` on a thread with a runtime of its own.
    pub fn on_thread<F, Fut>(serve: F) -> Loopback
    where
        F: FnOnce(TcpListener, StopSignal) -> Fut + Send + 'static,
        Fut: Future<Output = std::io::Result<()>>,
    {
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop, signal) = stop_pair();
        let thread = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                let Ok(listener) = TcpListener::bind("127.0.0.1:0").await else {
                    return;
                };
                let Ok(addr) = listener.local_addr() else {
                    return;
                };
                if addr_tx.send(addr).is_err() {
                    return;
                }
                if let Err(e) = serve(listener, signal).await {
                    eprintln!("loopback server: {e}");
                }
            });
        });
        let addr = addr_rx
            .recv()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)));
        Loopback {
            addr,
            stop: Some(stop),
            thread: Some(thread),
            task: None,
        }
    }

    /// Run `serve(listener, stop)` as a task of the current runtime.
    pub async fn in_runtime<F, Fut>(serve: F) -> std::io::Result<Loopback>
    where
        F: FnOnce(TcpListener, StopSignal) -> Fut,
        Fut: Future<Output = std::io::Result<()>> + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (stop, signal) = stop_pair();
        let task = tokio::spawn(serve(listener, signal));
        Ok(Loopback {
            addr,
            stop: Some(stop),
            thread: None,
            task: Some(task),
        })
    }

    /// The OpenAI-style base URL of the server (`http://addr/v1`).
    pub fn url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Stop a server of this runtime and wait for it, with its error if it failed.
    pub async fn stop(mut self) -> std::io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.task.take() {
            Some(task) => task.await.map_err(std::io::Error::other)?,
            None => Ok(()),
        }
    }
}

impl Drop for Loopback {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
