//! A connection's life, around pgwire's message handling: the startup
//! deadline, PostgreSQL's idle timeouts, and the server's shutdown.
//!
//! pgwire's `process_socket` runs a connection until the client leaves; it
//! cannot end a connection that waits for its next statement. This loop is
//! the same dispatch (pgwire's own `negotiate_tls`, `process_message` and
//! `process_error`) with one difference: while the connection is at rest —
//! its last ReadyForQuery sent — it also waits for the idle timeout and for
//! the server's shutdown, and ends the connection with PostgreSQL's FATAL
//! for each. A running statement is never interrupted here.

use crate::wire_out::WireOut;
use crate::ConnectionHandlers;
use futures::{SinkExt, StreamExt};
use pgwire::api::{ClientInfo, PgWireConnectionState, PgWireServerHandlers};
use pgwire::error::ErrorInfo;
use pgwire::messages::response::TransactionStatus;
use pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};
use pgwire::tokio::server::{negotiate_tls, process_error, process_message};
use pgwire::tokio::TlsAcceptor;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_util::codec::{Framed, FramedParts};
use tokio_util::sync::CancellationToken;

/// How long a client may take to connect and log in (pgwire's limit too).
const STARTUP_LIMIT: Duration = Duration::from_secs(60);

/// Runs one client connection until the client leaves, an idle timeout
/// ends it, or `shutdown` is cancelled while it is at rest.
pub(crate) async fn serve(
    tcp: TcpStream,
    tls: Option<TlsAcceptor>,
    handlers: Arc<ConnectionHandlers>,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let startup = tokio::time::sleep(STARTUP_LIMIT);
    tokio::pin!(startup);
    let negotiated = tokio::select! {
        _ = &mut startup => return Ok(()),
        s = negotiate_tls(tcp, tls) => s?,
    };
    // A direct TLS handshake to a server without TLS: nothing to say.
    let Some(negotiated) = negotiated else {
        return Ok(());
    };
    let parts = negotiated.into_parts();
    let mut wrapped = FramedParts::new(
        WireOut::new(parts.io, handlers.conn.shared.metrics.bytes_out.clone()),
        parts.codec,
    );
    wrapped.read_buf = parts.read_buf;
    wrapped.write_buf = parts.write_buf;
    let mut socket = Framed::from_parts(wrapped);
    let startup_handler = handlers.startup_handler();
    let simple = handlers.simple_query_handler();
    let extended = handlers.extended_query_handler();
    let copy = handlers.copy_handler();
    let cancel = handlers.cancel_handler();
    // Whether the last message finished a statement (a Query, or the Sync
    // closing an extended-protocol batch), so the client now waits on us
    // for nothing and we wait on it.
    let mut at_rest = false;
    loop {
        let state = socket.state();
        let logging_in = matches!(
            state,
            PgWireConnectionState::AwaitingStartup
                | PgWireConnectionState::AuthenticationInProgress
        );
        let msg = if logging_in {
            tokio::select! {
                _ = &mut startup => Incoming::End,
                m = next_message(&mut socket) => m,
            }
        } else if at_rest && matches!(state, PgWireConnectionState::ReadyForQuery) {
            let idle = handlers.conn.idle_limit(socket.transaction_status());
            tokio::select! {
                m = next_message(&mut socket) => m,
                _ = sleep_for(idle.map(|(after, _, _)| after)) => {
                    let (_, code, message) = idle.expect("a timer fired");
                    return fatal(&mut socket, code, message).await;
                }
                _ = shutdown.cancelled() => {
                    return fatal(
                        &mut socket,
                        "57P01",
                        "terminating connection due to administrator command",
                    )
                    .await;
                }
            }
        } else {
            next_message(&mut socket).await
        };
        let msg = match msg {
            Incoming::Message(m) => m,
            Incoming::End => break,
            Incoming::Malformed => {
                return fatal(&mut socket, "08P01", "invalid frontend message").await;
            }
        };
        // A Terminate ends the connection at once (asyncpg waits for the
        // socket to close).
        if matches!(msg, PgWireFrontendMessage::Terminate(_)) {
            break;
        }
        let ends_statement = matches!(
            msg,
            PgWireFrontendMessage::Query(_) | PgWireFrontendMessage::Sync(_)
        );
        let is_extended = match socket.state() {
            PgWireConnectionState::CopyInProgress(extended) => extended,
            _ => msg.is_extended_query(),
        };
        if let Err(e) = process_message(
            msg,
            &mut socket,
            startup_handler.clone(),
            simple.clone(),
            extended.clone(),
            copy.clone(),
            cancel.clone(),
        )
        .await
        {
            process_error(&mut socket, e, is_extended).await?;
        }
        at_rest = ends_statement
            || (logging_in && matches!(socket.state(), PgWireConnectionState::ReadyForQuery));
    }
    Ok(())
}

/// What the client sent next.
enum Incoming {
    Message(PgWireFrontendMessage),
    /// The client left, or sent what the decoder refused.
    End,
    /// A message the decoder panicked on.
    Malformed,
}

/// The next message. pgwire 0.41.1's decoder panics on a Bind whose
/// parameter is longer than the message (found by the fuzz target); that
/// panic ends this connection with 08P01 like any malformed message,
/// instead of unwinding through the connection's task.
async fn next_message<S, E>(socket: &mut S) -> Incoming
where
    S: futures::Stream<Item = Result<PgWireFrontendMessage, E>> + Unpin,
{
    use futures::FutureExt;
    match std::panic::AssertUnwindSafe(socket.next())
        .catch_unwind()
        .await
    {
        Ok(Some(Ok(m))) => Incoming::Message(m),
        Ok(_) => Incoming::End,
        Err(_) => Incoming::Malformed,
    }
}

async fn sleep_for(after: Option<Duration>) {
    match after {
        Some(d) => tokio::time::sleep(d).await,
        None => std::future::pending().await,
    }
}

/// Ends the connection as PostgreSQL does: a FATAL error, then the socket
/// closes (no ReadyForQuery).
async fn fatal<S>(socket: &mut S, code: &str, message: &str) -> std::io::Result<()>
where
    S: futures::Sink<PgWireBackendMessage, Error = std::io::Error> + Unpin,
{
    let info = ErrorInfo::new("FATAL".into(), code.into(), message.into());
    socket
        .send(PgWireBackendMessage::ErrorResponse(info.into()))
        .await?;
    socket.close().await
}

impl crate::Connection {
    /// The idle limit of this connection now: how long, and the FATAL it
    /// ends with (PostgreSQL's `idle_session_timeout` outside a transaction
    /// block, `idle_in_transaction_session_timeout` inside one).
    fn idle_limit(
        &self,
        status: TransactionStatus,
    ) -> Option<(Duration, &'static str, &'static str)> {
        let session = self.session().ok()?;
        let settings = session.settings();
        match status {
            TransactionStatus::Idle => settings.idle_session_timeout().map(|d| {
                (
                    d,
                    "57P05",
                    "terminating connection due to idle-session timeout",
                )
            }),
            _ => settings.idle_in_transaction_session_timeout().map(|d| {
                (
                    d,
                    "25P03",
                    "terminating connection due to idle-in-transaction timeout",
                )
            }),
        }
    }
}
