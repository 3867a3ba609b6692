//! The seat server's accept loop: which connections are served, so that no client can
//! stall a class.
//!
//! A class shares one small server with whoever else is on the network, and a browser
//! opens several connections at once. The rules, in the order they apply to a new
//! connection (see [`Registry::admit`]):
//!
//! 1. **Per address.** One client address holds at most [`Limits::per_address`]
//!    connections that have shown no credential (a seat's or the facilitator's). Past
//!    that, its oldest *long-silent* connection makes room; else the newcomer goes to the
//!    reserve (rule 3). A connection whose request carries a credential stops counting
//!    (up to [`Limits::per_credential`] connections per credential, so a student cannot
//!    hold the pool with the seat's own token), so a class behind one address (a
//!    school's NAT) is limited only in its anonymous page loads.
//! 2. **The general pool** of [`Limits::general`] connections. When it is full, the
//!    oldest long-silent connection makes room. "Long-silent" is idle for longer than
//!    [`Limits::silent_grace`]: no request under way, nothing asked since; a browser
//!    that preconnects or keeps a connection alive between requests is never closed in
//!    the moment it takes to send its request.
//! 3. **The reserve** of [`Limits::reserved`] connections, kept for credential holders:
//!    a request on a reserve connection without a credential is answered 503 and the
//!    connection closed ([`super::guard`]).
//!
//! Every connection must send its request's headers within [`Limits::header_read`] (a
//! TLS handshake within the same time), and a request's body within
//! [`Limits::body_read`] ([`super::guard`]), so a slow client frees its slot.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

/// The accept loop's limits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Connections anyone may hold.
    pub general: usize,
    /// Further connections kept for requests that carry a credential.
    pub reserved: usize,
    /// Connections without a credential that one client address may hold.
    pub per_address: usize,
    /// Connections one credential (a seat, the facilitator) takes out of its address's
    /// count; more of them count as anonymous.
    pub per_credential: usize,
    /// A connection idle for longer than this may be closed to make room.
    pub silent_grace: Duration,
    /// Time to send a request's headers (and to finish a TLS handshake).
    pub header_read: Duration,
    /// Time to send a request's body.
    pub body_read: Duration,
    /// The largest request body (an answer is a few hundred bytes).
    pub max_body: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            general: 512,
            reserved: 64,
            per_address: 128,
            per_credential: 12,
            silent_grace: Duration::from_secs(2),
            header_read: Duration::from_secs(10),
            body_read: Duration::from_secs(10),
            max_body: 64 * 1024,
        }
    }
}

/// Which slots a connection holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pool {
    General,
    /// Served only for requests that carry a credential.
    Reserve,
}

/// One open connection, shared by the accept loop and the requests on it.
#[derive(Debug)]
pub struct Conn {
    id: u64,
    /// The client's address (IPv6 by its /64 network: one machine holds many).
    pub client: IpAddr,
    pub pool: Pool,
    /// Set once a request on it carried a credential that had room for it.
    credentialed: AtomicBool,
    /// The credential it counts under (a seat's team, the facilitator).
    credential: Mutex<Option<String>>,
    /// Requests under way.
    in_flight: AtomicU32,
    /// When it last began or ended a request (or was accepted).
    last_active: Mutex<Instant>,
    /// Closes it, to make room.
    hush: tokio::sync::Notify,
}

impl Conn {
    fn new(id: u64, client: IpAddr, pool: Pool, now: Instant) -> Conn {
        Conn {
            id,
            client,
            pool,
            credentialed: AtomicBool::new(false),
            credential: Mutex::new(None),
            in_flight: AtomicU32::new(0),
            last_active: Mutex::new(now),
            hush: tokio::sync::Notify::new(),
        }
    }

    fn touch(&self) {
        *self.last_active.lock().unwrap_or_else(|p| p.into_inner()) = Instant::now();
    }

    /// A request began on it (see [`Request`]).
    pub fn begin(self: &Arc<Self>) -> Request {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        self.touch();
        Request(self.clone())
    }

    fn long_silent(&self, now: Instant, grace: Duration) -> bool {
        self.in_flight.load(Ordering::SeqCst) == 0
            && now.saturating_duration_since(
                *self.last_active.lock().unwrap_or_else(|p| p.into_inner()),
            ) >= grace
    }

    pub fn is_credentialed(&self) -> bool {
        self.credentialed.load(Ordering::SeqCst)
    }
}

/// A request under way on a connection; ends when dropped.
pub struct Request(Arc<Conn>);

impl Drop for Request {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
        self.0.touch();
    }
}

/// The client address connections are counted by: an IPv4 address, or an IPv6 address's
/// /64 network (one machine is given a whole /64).
fn client_of(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V4(_) => addr,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::from([s[0], s[1], s[2], s[3], 0, 0, 0, 0])
            }
        },
    }
}

#[derive(Default)]
struct Open {
    conns: HashMap<u64, Arc<Conn>>,
    /// Connections without a credential, per client.
    anonymous: HashMap<IpAddr, usize>,
    /// Connections counted under each credential.
    by_credential: HashMap<String, usize>,
    general: usize,
    reserve: usize,
}

/// The open connections and the rules that admit new ones.
pub struct Registry {
    limits: Limits,
    open: Mutex<Open>,
    next_id: std::sync::atomic::AtomicU64,
}

/// What [`Registry::admit`] decided.
pub enum Admitted {
    /// Served, holding a slot until the handle is dropped.
    Yes(Slot),
    /// Closed at once: every slot is held by a connection that is not long-silent.
    No,
}

/// A connection's slot: frees it when dropped.
pub struct Slot {
    pub conn: Arc<Conn>,
    registry: Arc<Registry>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.registry.leave(&self.conn);
    }
}

impl Registry {
    pub fn new(limits: Limits) -> Arc<Registry> {
        Arc::new(Registry {
            limits,
            open: Mutex::new(Open::default()),
            next_id: std::sync::atomic::AtomicU64::new(1),
        })
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    fn open(&self) -> std::sync::MutexGuard<'_, Open> {
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Decides where a new connection from `addr` goes (the rules of the module's
    /// documentation), closing a long-silent one to make room if need be.
    pub fn admit(self: &Arc<Self>, addr: IpAddr) -> Admitted {
        let now = Instant::now();
        let client = client_of(addr);
        let l = self.limits;
        let mut open = self.open();
        let oldest_silent = |open: &Open, keep: &dyn Fn(&Conn) -> bool| -> Option<Arc<Conn>> {
            open.conns
                .values()
                .filter(|c| keep(c) && c.long_silent(now, l.silent_grace))
                .min_by_key(|c| c.id)
                .cloned()
        };
        let anonymous = open.anonymous.get(&client).copied().unwrap_or(0);
        let pool = if anonymous >= l.per_address {
            // Its own oldest idle connection makes room; else only the reserve is left.
            match oldest_silent(&open, &|c| c.client == client && !c.is_credentialed()) {
                Some(idle) => {
                    let pool = idle.pool;
                    Self::forget(&mut open, &idle);
                    idle.hush.notify_one();
                    Some(pool)
                }
                None => self.reserve_slot(&mut open, now),
            }
        } else if open.general < l.general {
            Some(Pool::General)
        } else {
            match oldest_silent(&open, &|c| c.pool == Pool::General) {
                Some(idle) => {
                    Self::forget(&mut open, &idle);
                    idle.hush.notify_one();
                    Some(Pool::General)
                }
                None => self.reserve_slot(&mut open, now),
            }
        };
        let Some(pool) = pool else {
            return Admitted::No;
        };
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        let conn = Arc::new(Conn::new(id, client, pool, now));
        match pool {
            Pool::General => open.general += 1,
            Pool::Reserve => open.reserve += 1,
        }
        *open.anonymous.entry(client).or_insert(0) += 1;
        open.conns.insert(id, conn.clone());
        Admitted::Yes(Slot {
            conn,
            registry: self.clone(),
        })
    }

    /// A reserve slot, making room by closing the oldest long-silent reserve connection.
    fn reserve_slot(&self, open: &mut Open, now: Instant) -> Option<Pool> {
        if open.reserve < self.limits.reserved {
            return Some(Pool::Reserve);
        }
        let idle = open
            .conns
            .values()
            .filter(|c| c.pool == Pool::Reserve && c.long_silent(now, self.limits.silent_grace))
            .min_by_key(|c| c.id)
            .cloned()?;
        Self::forget(open, &idle);
        idle.hush.notify_one();
        Some(Pool::Reserve)
    }

    /// Takes `conn` out of the counts (once: a closed or evicted connection).
    fn forget(open: &mut Open, conn: &Conn) {
        if open.conns.remove(&conn.id).is_none() {
            return;
        }
        match conn.pool {
            Pool::General => open.general -= 1,
            Pool::Reserve => open.reserve -= 1,
        }
        if conn.is_credentialed() {
            let key = conn
                .credential
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take();
            if let Some(n) = key.as_ref().and_then(|k| open.by_credential.get_mut(k)) {
                *n = n.saturating_sub(1);
            }
            if let Some(k) = key {
                if open.by_credential.get(&k) == Some(&0) {
                    open.by_credential.remove(&k);
                }
            }
        } else {
            Self::anonymous_gone(open, conn.client);
        }
    }

    fn anonymous_gone(open: &mut Open, client: IpAddr) {
        if let Some(n) = open.anonymous.get_mut(&client) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.anonymous.remove(&client);
            }
        }
    }

    fn leave(&self, conn: &Conn) {
        Self::forget(&mut self.open(), conn);
    }

    /// A request on `conn` carried the credential `key` (a seat, the facilitator): the
    /// connection no longer counts against its address's anonymous connections, unless
    /// `key` already holds [`Limits::per_credential`] of them. Whether it counts as
    /// credentialed now.
    pub fn credentialed(&self, conn: &Conn, key: &str) -> bool {
        let mut open = self.open();
        if conn.is_credentialed() {
            return true;
        }
        if !open.conns.contains_key(&conn.id) {
            return false;
        }
        let held = open.by_credential.entry(key.to_string()).or_insert(0);
        if *held >= self.limits.per_credential {
            return false;
        }
        *held += 1;
        *conn.credential.lock().unwrap_or_else(|p| p.into_inner()) = Some(key.to_string());
        conn.credentialed.store(true, Ordering::SeqCst);
        Self::anonymous_gone(&mut open, conn.client);
        true
    }

    /// `(general, reserve)` connections open.
    pub fn counts(&self) -> (usize, usize) {
        let open = self.open();
        (open.general, open.reserve)
    }
}

/// The TLS side of a server, when it serves HTTPS.
#[cfg(feature = "tls")]
pub type Tls = tokio_rustls::TlsAcceptor;
/// This build serves plain HTTP only.
#[cfg(not(feature = "tls"))]
pub type Tls = std::convert::Infallible;

/// How long requests under way may take to finish once the server stops.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// What the accept loop serves each connection with: the app, told its connection.
pub trait MakeService: Clone + Send + 'static {
    type Service: hyper::service::Service<
            hyper::Request<hyper::body::Incoming>,
            Response = axum::response::Response,
            Error = std::convert::Infallible,
            Future: Send,
        > + Send
        + 'static;
    fn for_connection(&self, conn: Arc<Conn>) -> Self::Service;
}

/// Serves connections from `listener` until `shutdown` completes, admitted by
/// `registry`, over TLS when `tls` is given.
pub async fn serve<M: MakeService>(
    listener: tokio::net::TcpListener,
    registry: Arc<Registry>,
    tls: Option<Tls>,
    make: M,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = registry.limits();
    let mut connections = tokio::task::JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer): (tokio::net::TcpStream, SocketAddr) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                // A transient accept error (too many open files): pause, go on.
                Err(e) => {
                    tracing::warn!("accept: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        while connections.try_join_next().is_some() {}
        let Admitted::Yes(slot) = registry.admit(peer.ip()) else {
            // Closed at once rather than queued behind busy connections (a page retries).
            drop(stream);
            continue;
        };
        let service = make.for_connection(slot.conn.clone());
        let tls = tls.clone();
        connections.spawn(async move {
            let conn = slot.conn.clone();
            let _slot = slot;
            serve_one(stream, tls, service, conn, limits).await;
        });
    }
    // Requests under way (a page's answer, the long poll that tells it the game is
    // over) get a moment to finish; idle connections are then closed.
    let drain = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(SHUTDOWN_GRACE, drain).await.is_err() {
        connections.abort_all();
    }
    Ok(())
}

/// One connection: the TLS handshake if any, then HTTP/1.1 until it closes, times out or
/// is closed to make room.
async fn serve_one<S>(
    stream: tokio::net::TcpStream,
    tls: Option<Tls>,
    service: S,
    conn: Arc<Conn>,
    limits: Limits,
) where
    S: hyper::service::Service<
            hyper::Request<hyper::body::Incoming>,
            Response = axum::response::Response,
            Error = std::convert::Infallible,
            Future: Send,
        > + Send
        + 'static,
{
    match tls {
        None => http(stream, service, &conn, limits).await,
        #[cfg(feature = "tls")]
        Some(acceptor) => {
            let handshake = tokio::time::timeout(limits.header_read, acceptor.accept(stream));
            let stream = tokio::select! {
                done = handshake => match done {
                    Ok(Ok(stream)) => stream,
                    // A failed or slow handshake: closed.
                    _ => return,
                },
                _ = conn.hush.notified() => return,
            };
            http(stream, service, &conn, limits).await
        }
        #[cfg(not(feature = "tls"))]
        Some(never) => match never {},
    }
}

async fn http<I, S>(io: I, service: S, conn: &Conn, limits: Limits)
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    S: hyper::service::Service<
            hyper::Request<hyper::body::Incoming>,
            Response = axum::response::Response,
            Error = std::convert::Infallible,
            Future: Send,
        > + Send
        + 'static,
{
    // hyper's header timer runs from the moment it waits for a request: a connection
    // that sends nothing, or its headers too slowly, is closed after `header_read`.
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(limits.header_read)
        .serve_connection(hyper_util::rt::TokioIo::new(io), service);
    tokio::pin!(connection);
    tokio::select! {
        _ = connection.as_mut() => return,
        _ = conn.hush.notified() => {}
    }
    // Closed to make room: at once if still idle; a request that began in the meantime
    // finishes first (bounded by the body and long-poll times).
    if conn.in_flight.load(Ordering::SeqCst) == 0 {
        return;
    }
    connection.as_mut().graceful_shutdown();
    let _ = tokio::time::timeout(limits.body_read + limits.header_read, connection).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            general: 4,
            reserved: 2,
            per_address: 3,
            ..Limits::default()
        }
    }

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([10, 0, 0, last])
    }

    fn slot(r: &Arc<Registry>, addr: IpAddr) -> Slot {
        match r.admit(addr) {
            Admitted::Yes(slot) => slot,
            Admitted::No => panic!("refused"),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn one_address_fills_only_its_share_and_then_the_reserve() {
        let r = Registry::new(limits());
        let mine: Vec<Slot> = (0..3).map(|_| slot(&r, ip(1))).collect();
        // Busy (a request under way on each): nothing to close.
        let busy: Vec<Request> = mine.iter().map(|s| s.conn.begin()).collect();
        let over = slot(&r, ip(1));
        assert_eq!(over.conn.pool, Pool::Reserve, "past its share: the reserve");
        let over2 = slot(&r, ip(1));
        assert_eq!(over2.conn.pool, Pool::Reserve);
        assert!(
            matches!(r.admit(ip(1)), Admitted::No),
            "the reserve is full"
        );
        // Another address still gets a general slot.
        assert_eq!(slot(&r, ip(2)).conn.pool, Pool::General);
        drop(busy);
        drop((over, over2));
    }

    #[tokio::test(start_paused = true)]
    async fn a_credential_frees_the_address_share_and_only_long_silent_ones_make_room() {
        let r = Registry::new(limits());
        let a = slot(&r, ip(1));
        let b = slot(&r, ip(1));
        let c = slot(&r, ip(1));
        // b's request carried a seat's token: ip 1 has room again.
        assert!(r.credentialed(&b.conn, "seat 1"));
        let d = slot(&r, ip(1));
        assert_eq!(d.conn.pool, Pool::General);
        // The general pool is full now (4). A new arrival closes nobody who is silent
        // only for a moment (a browser's preconnect)...
        tokio::time::advance(Duration::from_millis(500)).await;
        let e = slot(&r, ip(9));
        assert_eq!(
            e.conn.pool,
            Pool::Reserve,
            "no long-silent general connection"
        );
        // ...but, past the grace, the oldest idle connection makes room.
        tokio::time::advance(Duration::from_secs(3)).await;
        let _busy = [b.conn.begin(), c.conn.begin(), d.conn.begin()];
        let f = slot(&r, ip(9));
        assert_eq!(f.conn.pool, Pool::General, "a (idle 3.5 s) made room");
        assert_eq!(r.counts(), (4, 1));
        drop(a); // closed already: counted once
        assert_eq!(r.counts(), (4, 1));
        drop((c, d, e, f, b));
        assert_eq!(r.counts(), (0, 0));
    }

    #[tokio::test(start_paused = true)]
    async fn one_credential_frees_only_a_browser_s_worth_of_connections() {
        let r = Registry::new(Limits {
            per_credential: 2,
            ..limits()
        });
        let a = slot(&r, ip(1));
        let b = slot(&r, ip(1));
        let c = slot(&r, ip(1));
        assert!(r.credentialed(&a.conn, "seat 1"));
        assert!(r.credentialed(&b.conn, "seat 1"));
        assert!(
            !r.credentialed(&c.conn, "seat 1"),
            "a third one counts as anonymous"
        );
        assert!(
            r.credentialed(&c.conn, "seat 2"),
            "another seat has its own"
        );
        drop(a);
        let d = slot(&r, ip(1));
        assert!(
            r.credentialed(&d.conn, "seat 1"),
            "a closed one gives its place back"
        );
        drop((b, c, d));
        assert_eq!(r.counts(), (0, 0));
    }

    #[tokio::test(start_paused = true)]
    async fn an_address_at_its_share_replaces_its_own_idle_connection() {
        let r = Registry::new(limits());
        let idle: Vec<Slot> = (0..3).map(|_| slot(&r, ip(1))).collect();
        tokio::time::advance(Duration::from_secs(5)).await;
        let next = slot(&r, ip(1));
        assert_eq!(
            next.conn.pool,
            Pool::General,
            "its own oldest idle one made room"
        );
        assert_eq!(r.counts(), (3, 0));
        drop(idle);
    }

    #[test]
    fn ipv6_clients_are_counted_by_network() {
        let a: IpAddr = "2001:db8:1:2::5".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        assert_eq!(client_of(a), client_of(b));
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        assert_eq!(client_of(mapped), ip(1));
    }
}
