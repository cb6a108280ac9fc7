//! `zhenjie scheduler` and `zhenjie executor`: the processes of a Ballista
//! cluster that runs governed plans (see `zhenjie_engine::cluster`), from the
//! same binary as `serve`, so every process has the same DataFusion.

use std::path::PathBuf;
use zhenjie_catalog::Catalog;

/// Until the cluster's hops use mutual TLS, a scheduler and its executors
/// listen on this machine only: both run whatever plan reaches them, so one
/// reachable from the network would run plans no governance made.
fn loopback_only(what: &str, addr: &str) -> Result<(), String> {
    use std::net::ToSocketAddrs;
    let addrs: Vec<_> = addr
        .to_socket_addrs()
        .map_err(|e| format!("{what} {addr}: {e}"))?
        .collect();
    if addrs.is_empty() || addrs.iter().any(|a| !a.ip().is_loopback()) {
        return Err(format!(
            "{what} {addr} is not on this machine: a cluster across machines needs mutual TLS              between its processes, which this zhenjie does not have yet"
        ));
    }
    Ok(())
}

/// Runs a scheduler on `listen` until the process is stopped; `catalog`'s
/// object stores are where plans' `s3://` files are.
pub fn scheduler(listen: &str, catalog: Option<&PathBuf>) -> Result<(), String> {
    loopback_only("scheduler address", listen)?;
    let catalog = match catalog {
        Some(path) => Some(Catalog::load(path).map_err(|e| e.to_string())?),
        None => None,
    };
    let (functions, codec) =
        zhenjie_engine::cluster::scheduler_codec(catalog.as_ref()).map_err(|e| e.message)?;
    crate::runtime()?.block_on(async {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
        let scheduler = zhenjie_cluster::start_scheduler(listener, codec, functions)
            .await
            .map_err(|e| e.to_string())?;
        eprintln!("scheduler listening on {}", scheduler.addr());
        tokio::select! {
            r = scheduler.wait() => r.map_err(|e| e.to_string()),
            _ = tokio::signal::ctrl_c() => Ok(()),
        }
    })
}

/// Runs an executor taking tasks from `scheduler` until the process is
/// stopped; the mask key comes from its own copy of the catalog.
pub fn executor(scheduler: &str, catalog: &PathBuf, slots: usize) -> Result<(), String> {
    loopback_only("scheduler address", scheduler)?;
    let catalog = Catalog::load(catalog).map_err(|e| e.to_string())?;
    let (functions, codec) =
        zhenjie_engine::cluster::executor_codec(&catalog).map_err(|e| e.message)?;
    crate::runtime()?.block_on(async {
        zhenjie_cluster::start_executor(scheduler, codec, functions, slots)
            .await
            .map_err(|e| e.to_string())?;
        eprintln!("executor taking tasks from {scheduler}");
        let _ = tokio::signal::ctrl_c().await;
        Ok(())
    })
}
