//! `zhenjie scheduler`, `zhenjie executor` and `zhenjie cluster-certs`: the
//! processes of a Ballista cluster that runs governed plans (see
//! `zhenjie_engine::cluster`), from the same binary as `serve`, so every
//! process has the same DataFusion.

use std::path::Path;

/// Schedulers and executors run whatever plan reaches them: without the
/// cluster's mutual TLS, every process of a cluster stays on this machine,
/// so none reachable from the network runs plans no governance made.
fn on_this_machine(what: &str, addr: &str, tls: bool) -> Result<(), String> {
    use std::net::ToSocketAddrs;
    if tls {
        return Ok(());
    }
    let addrs: Vec<_> = addr
        .to_socket_addrs()
        .map_err(|e| format!("{what} {addr}: {e}"))?
        .collect();
    if addrs.is_empty() || addrs.iter().any(|a| !a.ip().is_loopback()) {
        return Err(format!(
            "{what} {addr} is not on this machine: a cluster across machines needs mutual TLS \
             between its processes (--cluster-tls, see zhenjie cluster-certs)"
        ));
    }
    Ok(())
}

/// `serve --scheduler`'s side of the cluster's TLS: the files of
/// `--cluster-tls`, or none for a scheduler on this machine.
pub(crate) fn front_end_tls(
    scheduler: &str,
    dir: Option<&Path>,
) -> Result<Option<zhenjie_engine::ClusterTls>, String> {
    on_this_machine("scheduler address", scheduler, dir.is_some())?;
    dir.map(zhenjie_engine::ClusterTls::from_dir)
        .transpose()
        .map_err(|e| format!("cluster TLS {e}"))
}

#[cfg(feature = "cluster")]
fn member_tls(dir: Option<&Path>) -> Result<Option<zhenjie_cluster::Tls>, String> {
    dir.map(zhenjie_cluster::Tls::from_dir)
        .transpose()
        .map_err(|e| e.to_string())
}

/// Runs a scheduler on `listen` until the process is stopped; `catalog`'s
/// object stores are where plans' `s3://` files are.
#[cfg(feature = "cluster")]
pub fn scheduler(listen: &str, catalog: Option<&Path>, tls: Option<&Path>) -> Result<(), String> {
    on_this_machine("scheduler address", listen, tls.is_some())?;
    let tls = member_tls(tls)?;
    let catalog = match catalog {
        Some(path) => Some(zhenjie_catalog::Catalog::load(path).map_err(|e| e.to_string())?),
        None => None,
    };
    let (functions, codec) =
        zhenjie_engine::cluster::scheduler_codec(catalog.as_ref()).map_err(|e| e.message)?;
    crate::runtime()?.block_on(async {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
        let scheduler = zhenjie_cluster::start_scheduler(listener, codec, functions, tls.as_ref())
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
#[cfg(feature = "cluster")]
pub fn executor(
    scheduler: &str,
    catalog: &Path,
    slots: usize,
    tls: Option<&Path>,
    listen: &str,
    host: &str,
) -> Result<(), String> {
    on_this_machine("scheduler address", scheduler, tls.is_some())?;
    on_this_machine("executor address", listen, tls.is_some())?;
    let tls = member_tls(tls)?;
    let catalog = zhenjie_catalog::Catalog::load(catalog).map_err(|e| e.to_string())?;
    let (functions, codec) =
        zhenjie_engine::cluster::executor_codec(&catalog).map_err(|e| e.message)?;
    let options = zhenjie_cluster::ExecutorOptions {
        slots,
        tls,
        bind: listen.to_string(),
        host: host.to_string(),
    };
    crate::runtime()?.block_on(async {
        let addr = zhenjie_cluster::start_executor(scheduler, codec, functions, options)
            .await
            .map_err(|e| e.to_string())?;
        eprintln!("executor on {addr} taking tasks from {scheduler}");
        let _ = tokio::signal::ctrl_c().await;
        Ok(())
    })
}
