//! The operations endpoint, on its own port: `GET /metrics` (Prometheus'
//! text format: the engine's metrics and the front end's) and
//! `GET /health` (200 `ok`; 503 with the reason while the audit log cannot
//! be written or the server is shutting down, so a load balancer stops
//! sending clients). Served with hyper; nothing here reads data or names a
//! user.

use crate::Shared;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use std::convert::Infallible;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use zhenjie_engine::Engine;

/// The front end's own metrics, in the engine's registry.
#[derive(Clone)]
pub(crate) struct FrontMetrics {
    /// Sessions open now (set when scraped).
    pub sessions: Gauge,
    /// Bytes written to clients.
    pub bytes_out: Counter,
    /// Logins refused for want of a connection slot (53300).
    pub refused: Counter,
}

impl FrontMetrics {
    pub(crate) fn registered(engine: &Engine) -> FrontMetrics {
        let m = FrontMetrics {
            sessions: Gauge::default(),
            bytes_out: Counter::default(),
            refused: Counter::default(),
        };
        let r = engine.metrics();
        r.register("sessions", "Sessions open now", m.sessions.clone());
        r.register("bytes_out", "Bytes written to clients", m.bytes_out.clone());
        r.register(
            "connections_refused",
            "Logins refused for want of a connection slot (53300)",
            m.refused.clone(),
        );
        m
    }
}

/// Serves the endpoint until `done` is cancelled; `stopping` makes
/// `/health` say the server is shutting down.
pub(crate) async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    stopping: CancellationToken,
    done: CancellationToken,
) {
    loop {
        let stream = tokio::select! {
            _ = done.cancelled() => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => continue,
            },
        };
        let shared = shared.clone();
        let stopping = stopping.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let response = respond(&shared, &stopping, &req);
                async move { Ok::<_, Infallible>(response) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
        });
    }
}

fn respond(
    shared: &Shared,
    stopping: &CancellationToken,
    req: &Request<Incoming>,
) -> Response<Full<Bytes>> {
    let reply = |status: StatusCode, content_type: &str, body: String| {
        Response::builder()
            .status(status)
            .header("content-type", content_type)
            .body(Full::new(Bytes::from(body)))
            .expect("a valid response")
    };
    if req.method() != Method::GET {
        return reply(
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain",
            "GET only\n".into(),
        );
    }
    match req.uri().path() {
        "/metrics" => {
            let open = shared.sessions.load(std::sync::atomic::Ordering::Relaxed);
            shared.metrics.sessions.set(open as i64);
            reply(
                StatusCode::OK,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
                shared.engine.metrics_text(),
            )
        }
        "/health" => {
            let state = if stopping.is_cancelled() {
                Err("shutting down")
            } else {
                shared.engine.healthy()
            };
            match state {
                Ok(()) => reply(StatusCode::OK, "text/plain", "ok\n".into()),
                Err(why) => reply(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "text/plain",
                    format!("{why}\n"),
                ),
            }
        }
        _ => reply(StatusCode::NOT_FOUND, "text/plain", "not found\n".into()),
    }
}
