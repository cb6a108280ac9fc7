//! The PostgreSQL front end of zhenjie: accepts connections, authenticates them
//! with SCRAM-SHA-256 against the catalog's verifiers, and runs each
//! connection's statements in its own engine [`Session`].
//!
//! Composed like pgwire's examples: one factory ([`ConnectionHandlers`]) per
//! connection hands out a handler for each protocol concern — startup/auth
//! ([`auth`]), simple and extended queries ([`query`]), cancel ([`cancel`]).
//! This crate holds no query logic and no governance: both live in
//! `zhenjie-engine`, so the wire adds nothing a principal could bypass.

pub mod auth;
pub mod cancel;
mod copy;
mod encode;
mod errors;
mod lifecycle;
mod ops;
pub mod query;
pub mod tls;
mod wire_out;

use pgwire::api::PgWireServerHandlers;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use zhenjie_engine::{Engine, Session};

/// State shared by all connections of one server.
pub struct Shared {
    /// The engine every session runs on.
    pub engine: Engine,
    /// Running connections, for cancel requests.
    pub cancels: cancel::CancelRegistry,
    /// The key of unknown users' mock SCRAM salts (see
    /// `ScramVerifier::mock`).
    pub mock_secret: [u8; 32],
    /// How many sessions may be open at once, and how many of those are
    /// kept for city-level administrators.
    pub limits: ConnectionLimits,
    /// Sessions open now (logged in, not yet closed).
    pub sessions: std::sync::atomic::AtomicUsize,
    /// Recent failed logins, by client address and by user name (see
    /// `auth::Connection::failed_login`).
    pub failures: Mutex<auth::Failures>,
    /// The front end's metrics (sessions, bytes out, refusals).
    pub(crate) metrics: ops::FrontMetrics,
    /// Clients not on this machine must use TLS (see
    /// [`Server::require_tls_remote`]).
    pub require_tls_remote: bool,
}

/// PostgreSQL's `max_connections` and its reserve: one department's tool
/// opening connections without end cannot lock everyone out, and the city's
/// administrators can always log in to see why (SQLSTATE 53300 beyond).
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// Sessions open at once, at most.
    pub max: usize,
    /// Of those, the last ones only city-level users with the `admin` role
    /// may take.
    pub reserved_for_admins: usize,
}

impl Default for ConnectionLimits {
    /// PostgreSQL's defaults: 100 connections, 3 reserved.
    fn default() -> Self {
        ConnectionLimits {
            max: 100,
            reserved_for_admins: 3,
        }
    }
}

/// One connection's state: its session once authentication succeeded.
pub struct Connection {
    me: Weak<Connection>,
    shared: Arc<Shared>,
    session: Mutex<Option<Arc<Session>>>,
    auth: tokio::sync::Mutex<auth::ScramState>,
    /// Whether this connection holds one of the server's session slots.
    counted: std::sync::atomic::AtomicBool,
}

impl Drop for Connection {
    /// A closed connection gives its session slot back.
    fn drop(&mut self) {
        if self.counted.load(std::sync::atomic::Ordering::Acquire) {
            self.shared
                .sessions
                .fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
        }
    }
}

impl Connection {
    fn new(shared: Arc<Shared>) -> Arc<Self> {
        Arc::new_cyclic(|me| Connection {
            me: me.clone(),
            shared,
            session: Mutex::new(None),
            auth: tokio::sync::Mutex::new(auth::ScramState::Initial),
            counted: Default::default(),
        })
    }

    pub(crate) fn self_arc(&self) -> Arc<Connection> {
        self.me
            .upgrade()
            .expect("a connection outlives its handlers")
    }

    /// The authenticated session; an error if a query arrives before login
    /// finished (a malformed client).
    pub(crate) fn session(&self) -> pgwire::error::PgWireResult<Arc<Session>> {
        self.session
            .lock()
            .expect("session lock")
            .clone()
            .ok_or_else(|| errors::user_error("08P01", "query before authentication completed"))
    }
}

/// The per-connection factory pgwire asks for each protocol concern's handler.
pub struct ConnectionHandlers {
    conn: Arc<Connection>,
}

impl PgWireServerHandlers for ConnectionHandlers {
    fn simple_query_handler(&self) -> Arc<impl pgwire::api::query::SimpleQueryHandler> {
        self.conn.clone()
    }

    fn extended_query_handler(&self) -> Arc<impl pgwire::api::query::ExtendedQueryHandler> {
        self.conn.clone()
    }

    fn startup_handler(&self) -> Arc<impl pgwire::api::auth::StartupHandler> {
        self.conn.clone()
    }

    fn cancel_handler(&self) -> Arc<impl pgwire::api::cancel::CancelHandler> {
        self.conn.clone()
    }
}

/// A zhenjie server bound to a listener.
pub struct Server {
    shared: Arc<Shared>,
    listener: TcpListener,
    tls: Option<pgwire::tokio::TlsAcceptor>,
    /// The operations endpoint's listener (see [`Server::with_ops`]).
    ops: Option<TcpListener>,
}

impl Server {
    /// Binds `addr` (use port 0 for an ephemeral port in tests).
    pub async fn bind(engine: Engine, addr: &str) -> std::io::Result<Server> {
        let listener = TcpListener::bind(addr).await?;
        Ok(Server {
            shared: Arc::new(Shared {
                mock_secret: mock_secret(&engine),
                cancels: cancel::CancelRegistry::default(),
                limits: ConnectionLimits::default(),
                sessions: Default::default(),
                failures: Default::default(),
                metrics: ops::FrontMetrics::registered(&engine),
                require_tls_remote: false,
                engine,
            }),
            listener,
            tls: None,
            ops: None,
        })
    }

    /// Offers TLS to clients that ask for it (see [`tls::acceptor`]).
    pub fn with_tls(mut self, acceptor: pgwire::tokio::TlsAcceptor) -> Server {
        self.tls = Some(acceptor);
        self
    }

    /// Refuses clients that connect from another machine without TLS
    /// (FATAL 28000, as a PostgreSQL with only `hostssl` lines for remote
    /// hosts): identity numbers never cross a network in clear. Clients on
    /// this machine (loopback) may still connect without it. Call before
    /// [`Server::run`].
    pub fn require_tls_remote(mut self, required: bool) -> Server {
        if let Some(shared) = Arc::get_mut(&mut self.shared) {
            shared.require_tls_remote = required;
        }
        self
    }

    /// Sets how many sessions may be open at once (see
    /// [`ConnectionLimits`]). Call before [`Server::run`].
    pub fn with_connection_limits(mut self, limits: ConnectionLimits) -> Server {
        if let Some(shared) = Arc::get_mut(&mut self.shared) {
            shared.limits = limits;
        }
        self
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Also serves `/metrics` and `/health` over HTTP on `addr` (see
    /// `ops`): for Prometheus and load balancers, apart from the clients'
    /// port.
    pub async fn with_ops(mut self, addr: &str) -> std::io::Result<Server> {
        self.ops = Some(TcpListener::bind(addr).await?);
        Ok(self)
    }

    /// The operations endpoint's address, if it has one.
    pub fn ops_addr(&self) -> Option<SocketAddr> {
        self.ops.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// Serves connections until the task is dropped. Each connection runs in its
    /// own task; a failing connection never affects the others.
    pub async fn run(self) -> std::io::Result<()> {
        self.run_until(std::future::pending(), Duration::MAX).await
    }

    /// Serves connections until `shutdown` completes, then shuts down as
    /// PostgreSQL's fast shutdown does, but kinder to running work: no new
    /// connection is accepted; sessions waiting for their next statement
    /// end with FATAL 57P01; running statements may finish within `grace`,
    /// after which they are cancelled (57014) and their sessions end too.
    /// Returns when every connection has ended (or a few seconds after the
    /// cancel, whatever a connection still does). Every statement's audit
    /// record is synced before its end reaches the client, so nothing is
    /// left to flush.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()>,
        grace: Duration,
    ) -> std::io::Result<()> {
        let stop = CancellationToken::new();
        let connections = TaskTracker::new();
        let ops_done = CancellationToken::new();
        if let Some(listener) = self.ops {
            tokio::spawn(ops::serve(
                listener,
                self.shared.clone(),
                stop.clone(),
                ops_done.clone(),
            ));
        }
        // Cancelled however this function ends.
        let _ops_done = ops_done.drop_guard();
        tokio::pin!(shutdown);
        loop {
            let (socket, peer) = tokio::select! {
                _ = &mut shutdown => break,
                accepted = self.listener.accept() => match accepted {
                    Ok(s) => s,
                    Err(e) => {
                        tracing::warn!("accept failed: {e}");
                        continue;
                    }
                },
            };
            let _ = socket.set_nodelay(true);
            let handlers = Arc::new(ConnectionHandlers {
                conn: Connection::new(self.shared.clone()),
            });
            let tls = self.tls.clone();
            let stop = stop.clone();
            connections.spawn(async move {
                if let Err(e) = lifecycle::serve(socket, tls, handlers, stop).await {
                    tracing::debug!("connection from {peer} ended: {e}");
                }
            });
        }
        drop(self.listener);
        connections.close();
        let open = connections.len();
        tracing::info!("shutting down: no new connections; {open} open");
        stop.cancel();
        if tokio::time::timeout(grace, connections.wait())
            .await
            .is_err()
        {
            tracing::warn!("shutting down: statements still running after {grace:?} are cancelled");
            self.shared.cancels.cancel_all();
            let _ = tokio::time::timeout(Duration::from_secs(5), connections.wait()).await;
        }
        Ok(())
    }
}

/// The key of unknown users' mock SCRAM salts: derived from the catalog's
/// secret, so an unknown name gets the same salt after a restart (as a real
/// user does); a random one when the catalog has no secret.
fn mock_secret(engine: &Engine) -> [u8; 32] {
    engine
        .catalog()
        .derived_secret("zhenjie mock SCRAM salts")
        .unwrap_or_else(rand::random)
}
