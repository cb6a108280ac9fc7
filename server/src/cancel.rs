//! Cancel requests: a second connection names a running one by its process id
//! and secret key; the matching session's running statement stops with 57014.

use crate::Connection;
use async_trait::async_trait;
use pgwire::api::cancel::CancelHandler;
use pgwire::messages::cancel::CancelRequest;
use std::collections::HashMap;
use std::sync::{Mutex, Weak};
use zhenjie_engine::Session;

/// A connection's cancel secret and its session (gone with the connection).
type Registered = (Vec<u8>, Weak<Session>);

/// Process id → (secret key bytes, the connection's session).
#[derive(Default)]
pub struct CancelRegistry {
    inner: Mutex<HashMap<i32, Registered>>,
}

impl CancelRegistry {
    pub(crate) fn register(&self, pid: i32, secret: Vec<u8>, session: Weak<Session>) {
        let mut map = self.inner.lock().expect("cancel registry lock");
        map.retain(|_, (_, s)| s.strong_count() > 0);
        map.insert(pid, (secret, session));
    }

    /// Cancels every session's running statement (the server is stopping).
    pub(crate) fn cancel_all(&self) {
        let sessions: Vec<_> = {
            let map = self.inner.lock().expect("cancel registry lock");
            map.values().filter_map(|(_, w)| w.upgrade()).collect()
        };
        for session in sessions {
            session.cancel();
        }
    }

    /// Cancels the running statement of `pid` if the secret matches; a wrong
    /// secret is ignored silently, as PostgreSQL does.
    pub fn cancel(&self, pid: i32, secret: &[u8]) -> bool {
        let target = {
            let map = self.inner.lock().expect("cancel registry lock");
            map.get(&pid)
                .filter(|(s, _)| s.as_slice() == secret)
                .and_then(|(_, w)| w.upgrade())
        };
        match target {
            Some(session) => {
                session.cancel();
                true
            }
            None => false,
        }
    }
}

#[async_trait]
impl CancelHandler for Connection {
    async fn on_cancel_request(&self, request: CancelRequest) {
        self.shared
            .cancels
            .cancel(request.pid, &request.secret_key.to_bytes());
    }
}
