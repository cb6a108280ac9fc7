//! Startup and SCRAM-SHA-256 authentication (RFC 5802/7677, as PostgreSQL does
//! it) against the verifiers in the catalog. The server holds only
//! StoredKey/ServerKey, never a password.
//!
//! An unknown user goes through the same exchange with a made-up verifier and
//! fails with the same message as a wrong password, so logins do not reveal
//! which users exist.

use crate::errors::{fatal, user_error};
use crate::Connection;
use async_trait::async_trait;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use futures::{Sink, SinkExt};
use pgwire::api::auth::{
    finish_authentication, protocol_negotiation, save_startup_parameters_to_metadata,
    DefaultServerParameterProvider, StartupHandler,
};
use pgwire::api::{
    ClientInfo, PgWireConnectionState, PidSecretKeyGenerator, RandomPidSecretKeyGenerator,
    METADATA_DATABASE, METADATA_USER,
};
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::startup::Authentication;
use pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};
use std::fmt::Debug;
use std::sync::{Arc, OnceLock};
use zhenjie_catalog::ScramVerifier;

const MECHANISM: &str = "SCRAM-SHA-256";

/// Where one connection's SCRAM exchange stands.
pub enum ScramState {
    /// Waiting for the client-first message.
    Initial,
    /// Server-first sent; waiting for the client's proof.
    ServerFirstSent {
        /// Verifier of the user (a made-up one for unknown users).
        verifier: ScramVerifier,
        /// Whether the user exists.
        known: bool,
        /// client-first-message-bare.
        client_first_bare: String,
        /// server-first-message.
        server_first: String,
        /// client nonce + server nonce.
        nonce: String,
    },
    /// Done (successfully or not).
    Finished,
}

fn pid_generator() -> &'static RandomPidSecretKeyGenerator {
    static GEN: OnceLock<RandomPidSecretKeyGenerator> = OnceLock::new();
    GEN.get_or_init(RandomPidSecretKeyGenerator::default)
}

fn auth_failed(user: &str) -> PgWireError {
    fatal(
        "28P01",
        format!("password authentication failed for user \"{user}\""),
    )
}

fn protocol_violation(what: &str) -> PgWireError {
    fatal("08P01", format!("malformed SCRAM message: {what}"))
}

/// Parameters reported to the client after login.
fn parameters() -> DefaultServerParameterProvider {
    let mut p = DefaultServerParameterProvider::default();
    p.server_version = zhenjie_engine::SERVER_VERSION.to_string();
    p.is_superuser = false;
    p.default_transaction_read_only = true;
    p.date_style = "ISO, MDY".to_string();
    // The session's zone, which timestamptz values are shown in (drivers
    // such as psycopg attach it to the values they read).
    if let Some(zone) = zhenjie_engine::Settings::new("").get("timezone") {
        p.time_zone = zone.to_string();
    }
    p
}

#[async_trait]
impl StartupHandler for Connection {
    async fn on_startup<C>(
        &self,
        client: &mut C,
        message: PgWireFrontendMessage,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        match message {
            PgWireFrontendMessage::Startup(ref startup) => {
                protocol_negotiation(client, startup).await?;
                save_startup_parameters_to_metadata(client, startup);
                let want = &self.shared.engine.catalog().file.database;
                if let Some(db) = client.metadata().get(METADATA_DATABASE) {
                    if db != want {
                        return Err(fatal(
                            "3D000",
                            format!(
                                "database \"{db}\" does not exist (this server serves \"{want}\")"
                            ),
                        ));
                    }
                }
                // PostgreSQL's `hostssl` lines: remote clients must encrypt.
                let peer = client.socket_addr();
                if self.shared.require_tls_remote && !client.is_secure() && !peer.ip().is_loopback()
                {
                    let user = client
                        .metadata()
                        .get(METADATA_USER)
                        .cloned()
                        .unwrap_or_default();
                    return Err(fatal(
                        "28000",
                        format!(
                            "no pg_hba.conf entry for host \"{}\", user \"{user}\", database \"{want}\", no encryption (this server takes remote clients over TLS only)",
                            peer.ip()
                        ),
                    ));
                }
                client.set_state(PgWireConnectionState::AuthenticationInProgress);
                client
                    .send(PgWireBackendMessage::Authentication(Authentication::SASL(
                        vec![MECHANISM.to_string()],
                    )))
                    .await?;
            }
            PgWireFrontendMessage::PasswordMessageFamily(msg) => {
                let user = client
                    .metadata()
                    .get(METADATA_USER)
                    .cloned()
                    .unwrap_or_default();
                let mut state = self.auth.lock().await;
                match std::mem::replace(&mut *state, ScramState::Finished) {
                    ScramState::Initial => {
                        let initial = msg.into_sasl_initial_response()?;
                        if initial.auth_method != MECHANISM {
                            return Err(fatal(
                                "28000",
                                format!("unsupported SASL mechanism {}", initial.auth_method),
                            ));
                        }
                        let data = initial.data.ok_or_else(|| protocol_violation("no data"))?;
                        let text = std::str::from_utf8(&data)
                            .map_err(|_| protocol_violation("not UTF-8"))?;
                        let (next, server_first) = self.client_first(&user, text)?;
                        *state = next;
                        client
                            .send(PgWireBackendMessage::Authentication(
                                Authentication::SASLContinue(server_first.into_bytes().into()),
                            ))
                            .await?;
                    }
                    ScramState::ServerFirstSent {
                        verifier,
                        known,
                        client_first_bare,
                        server_first,
                        nonce,
                    } => {
                        let response = msg.into_sasl_response()?;
                        let text = std::str::from_utf8(&response.data)
                            .map_err(|_| protocol_violation("not UTF-8"))?;
                        let (without_proof, proof) = text
                            .rsplit_once(",p=")
                            .ok_or_else(|| protocol_violation("no proof"))?;
                        let got_nonce = without_proof
                            .split(',')
                            .find_map(|a| a.strip_prefix("r="))
                            .ok_or_else(|| protocol_violation("no nonce"))?;
                        let proof = B64
                            .decode(proof)
                            .map_err(|_| protocol_violation("proof is not base64"))?;
                        let auth_message =
                            format!("{client_first_bare},{server_first},{without_proof}");
                        // The proof is checked for unknown users too (against
                        // the mock verifier), so both fail after the same work.
                        let proven = verifier.verify_proof(auth_message.as_bytes(), &proof);
                        if !proven || !known || got_nonce != nonce {
                            self.failed_login(client.socket_addr(), &user).await;
                            return Err(auth_failed(&user));
                        }
                        let signature = verifier.server_signature(auth_message.as_bytes());
                        client
                            .send(PgWireBackendMessage::Authentication(
                                Authentication::SASLFinal(
                                    format!("v={}", B64.encode(signature)).into_bytes().into(),
                                ),
                            ))
                            .await?;
                        self.login(client, &user).await?;
                        finish_authentication(client, &parameters()).await?;
                    }
                    ScramState::Finished => {
                        return Err(protocol_violation(
                            "unexpected message after authentication",
                        ))
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }
}

impl Connection {
    /// Handles client-first-message: `n,,n=user,r=nonce` (channel binding is
    /// not offered, so the gs2 header must be `n` or `y`).
    fn client_first(&self, user: &str, text: &str) -> PgWireResult<(ScramState, String)> {
        let mut parts = text.splitn(3, ',');
        let cb = parts.next().unwrap_or_default();
        let _authzid = parts
            .next()
            .ok_or_else(|| protocol_violation("no gs2 header"))?;
        let bare = parts
            .next()
            .ok_or_else(|| protocol_violation("no message"))?;
        if cb != "n" && cb != "y" {
            return Err(fatal("28000", "SCRAM channel binding is not supported"));
        }
        let client_nonce = bare
            .split(',')
            .find_map(|a| a.strip_prefix("r="))
            .filter(|n| !n.is_empty() && n.bytes().all(|b| (0x21..0x7f).contains(&b) && b != b','))
            .ok_or_else(|| protocol_violation("no client nonce"))?;
        let catalog = self.shared.engine.catalog();
        let (verifier, known) = match catalog
            .user(user)
            .and_then(|u| ScramVerifier::parse(&u.password).ok())
        {
            Some(v) => (v, true),
            // A salt derived from the server's secret and the name: stable
            // per name and as random-looking as a real user's.
            None => (ScramVerifier::mock(user, &self.shared.mock_secret), false),
        };
        let nonce = format!("{client_nonce}{}", rand_nonce());
        let server_first = format!(
            "r={nonce},s={},i={}",
            B64.encode(&verifier.salt),
            verifier.iterations
        );
        Ok((
            ScramState::ServerFirstSent {
                verifier,
                known,
                client_first_bare: bare.to_string(),
                server_first: server_first.clone(),
                nonce,
            },
            server_first,
        ))
    }

    /// Opens the principal's session and makes the connection cancellable.
    async fn login<C: ClientInfo>(&self, client: &mut C, user: &str) -> PgWireResult<()> {
        let engine = &self.shared.engine;
        let principal = engine.principal(user).ok_or_else(|| auth_failed(user))?;
        self.take_session_slot(&principal)?;
        let session = Arc::new(
            engine
                .session(principal)
                .await
                .map_err(|e| user_error(e.code, e.message))?,
        );
        // The audit log records where each statement came from.
        session.set_client_addr(client.socket_addr().to_string());
        let (pid, secret) = pid_generator().generate(client);
        client.set_pid_and_secret_key(pid, secret.clone());
        self.shared
            .cancels
            .register(pid, secret.to_bytes().to_vec(), Arc::downgrade(&session));
        *self.session.lock().expect("session lock") = Some(session);
        Ok(())
    }
}

/// Failed logins of the last [`FAILURE_WINDOW`], by client address and by
/// user name.
#[derive(Default)]
pub struct Failures {
    by_addr: std::collections::HashMap<std::net::IpAddr, Vec<std::time::Instant>>,
    by_user: std::collections::HashMap<String, Vec<std::time::Instant>>,
}

/// How long a failed login counts against its address and its user name.
const FAILURE_WINDOW: std::time::Duration = std::time::Duration::from_secs(60);
/// The answer to a failed login waits this long for each earlier failure
/// in the window (from the same address, or for the same name), up to
/// [`MAX_FAILURE_DELAY`]: a password guesser gets a few tries a minute,
/// while the user who mistyped once waits a moment, and a correct password
/// is never delayed (a guesser cannot lock anyone out).
const FAILURE_DELAY: std::time::Duration = std::time::Duration::from_millis(500);
const MAX_FAILURE_DELAY: std::time::Duration = std::time::Duration::from_secs(5);

impl Failures {
    /// Notes one failure; how many earlier ones the address or the name has
    /// in the window (the larger).
    fn note(&mut self, addr: std::net::IpAddr, user: &str) -> usize {
        let now = std::time::Instant::now();
        let recent = |times: &mut Vec<std::time::Instant>| {
            times.retain(|t| now.duration_since(*t) < FAILURE_WINDOW);
            let earlier = times.len();
            times.push(now);
            earlier
        };
        // (Forget addresses and names whose failures are all old, so the
        // maps cannot grow without end.)
        if self.by_addr.len() + self.by_user.len() > 10_000 {
            self.by_addr
                .retain(|_, t| t.iter().any(|t| now.duration_since(*t) < FAILURE_WINDOW));
            self.by_user
                .retain(|_, t| t.iter().any(|t| now.duration_since(*t) < FAILURE_WINDOW));
        }
        let a = recent(self.by_addr.entry(addr).or_default());
        let u = recent(self.by_user.entry(user.to_string()).or_default());
        a.max(u)
    }
}

impl Connection {
    /// A failed login is audited, and answered after a delay that grows
    /// with the recent failures from its address or for its name.
    async fn failed_login(&self, addr: std::net::SocketAddr, user: &str) {
        if let Err(e) = self
            .shared
            .engine
            .audit_failed_login(user, Some(addr.to_string()))
        {
            tracing::warn!("failed login of {user} not audited: {}", e.message);
        }
        let earlier = self
            .shared
            .failures
            .lock()
            .expect("failures lock")
            .note(addr.ip(), user);
        let delay = (FAILURE_DELAY * earlier as u32).min(MAX_FAILURE_DELAY);
        tokio::time::sleep(delay).await;
    }

    /// Takes one of the server's session slots for `principal`, or refuses
    /// the login with 53300 as PostgreSQL does: none left, or only the ones
    /// reserved for city-level administrators.
    fn take_session_slot(&self, principal: &zhenjie_engine::Principal) -> PgWireResult<()> {
        use std::sync::atomic::Ordering;
        let limits = self.shared.limits;
        let admin = principal.level == zhenjie_catalog::Level::City
            && principal.roles.iter().any(|r| r == "admin");
        let open = self.shared.sessions.fetch_add(1, Ordering::AcqRel);
        let refused = if open >= limits.max {
            Some("sorry, too many clients already")
        } else if !admin && open >= limits.max.saturating_sub(limits.reserved_for_admins) {
            Some("remaining connection slots are reserved for city-level administrators")
        } else {
            None
        };
        if let Some(message) = refused {
            self.shared.sessions.fetch_sub(1, Ordering::AcqRel);
            self.shared.metrics.refused.inc();
            return Err(fatal("53300", message.to_string()));
        }
        self.counted.store(true, Ordering::Release);
        Ok(())
    }
}

fn rand_nonce() -> String {
    let bytes: [u8; 18] = rand::random();
    B64.encode(bytes)
}
