#!/usr/bin/env python3
"""Cluster benchmark (issue 18): the governed benchmark's query shapes
(benches/query_bench.py) as `admin` (city) and `town`, each run on one node
and through a local Ballista cluster, in the same run:

* one node: `zhenjie serve` over the demo city;
* cluster: `zhenjie scheduler`, EXECUTORS `zhenjie executor` processes
  (one task slot each) and `zhenjie serve --scheduler … --cluster-min-mb 0`,
  so every plan that can travel does, however small; every hop over the
  cluster's mutual TLS (certificates from `zhenjie cluster-certs`), as
  across machines, unless TLS=0.

Every answer from the cluster is checked against the single node's (as
multisets); `EXPLAIN` tells where each statement ran. Figures: medians of
REPS runs after a warm-up, through the simple protocol (psycopg's
ClientCursor), as psql sends.

    bash benches/cluster.sh        # builds, then EXECUTORS=1 and 2

Environment: ZJ_BIN, ZJ_DATA (a demo city), REPS, EXECUTORS, ONLY, TLS.
"""

import os
import subprocess
import sys
import tempfile
import time

import psycopg

sys.path.insert(0, os.path.dirname(__file__))
import query_bench as qb  # noqa: E402

EXECUTORS = int(os.environ.get("EXECUTORS", "2"))
TLS = os.environ.get("TLS", "1") != "0"
LOCAL_PORT, CLUSTER_PORT, SCHEDULER_PORT = 55451, 55452, 55453
USERS = ["admin", "town"]


def start(args):
    return subprocess.Popen([qb.ZJ_BIN, *args], stderr=subprocess.DEVNULL)


def route(conn, sql):
    rows = conn.execute("EXPLAIN " + sql).fetchall()
    return next((r[1] for r in rows if r[0] == "zhenjie_route"), "?")


def main():
    catalog, _ = qb.bench_catalog()
    consts = qb.constants()
    tls = []
    if TLS:
        certs = tempfile.mkdtemp(prefix="zhenjie-cluster-certs-")
        subprocess.run([qb.ZJ_BIN, "cluster-certs", "--out", certs, "--host", "localhost"],
                       check=True, stderr=subprocess.DEVNULL)
        tls = ["--cluster-tls", os.path.join(certs, "localhost")]
    # The name the members' certificates give.
    scheduler = f"localhost:{SCHEDULER_PORT}"
    procs = [start(["scheduler", "--listen", f"127.0.0.1:{SCHEDULER_PORT}", "--catalog", catalog, *tls])]
    time.sleep(1)
    procs += [start(["executor", "--scheduler", scheduler, "--catalog", catalog, "--slots", "1", *tls])
              for _ in range(EXECUTORS)]
    time.sleep(1)
    procs.append(qb.start_zhenjie(catalog, LOCAL_PORT))
    procs.append(qb.start_zhenjie(catalog, CLUSTER_PORT, "--scheduler", scheduler, "--cluster-min-mb", "0", *tls))
    results, problems = [], []
    try:
        for user in USERS:
            local = psycopg.connect(qb.zj_dsn(user, LOCAL_PORT), cursor_factory=psycopg.ClientCursor)
            cluster = psycopg.connect(qb.zj_dsn(user, CLUSTER_PORT), cursor_factory=psycopg.ClientCursor)
            for name, (template, _) in qb.QUERIES.items():
                if qb.ONLY and name not in qb.ONLY:
                    continue
                sql = qb.sql_for(template, consts, None)
                here = local.execute(sql).fetchall()
                there = cluster.execute(sql).fetchall()
                if qb.normal(here, set()) != qb.normal(there, set()):
                    problems.append(f"{user}: {name}: the cluster's rows differ")
                where = route(cluster, sql)
                t_local = qb.timed(lambda: local.execute(sql).fetchall())
                t_cluster = qb.timed(lambda: cluster.execute(sql).fetchall())
                on = "cluster" if where.startswith("runs on the cluster") else "here"
                results.append((user, name, len(here), t_local, t_cluster, on))
                qb.log(f"{user:6} {name:44} rows {len(here):7}  node {t_local*1e3:8.1f}  "
                       f"cluster {t_cluster*1e3:8.1f} ms  ({on})")
    finally:
        for p in procs:
            p.kill()
    print(f"\npersons: {qb.PERSONS:,}; executors: {EXECUTORS} (one task slot each); "
          f"{'mutual TLS' if TLS else 'plain gRPC'}; "
          f"medians of {qb.REPS}; answers: {'all agree' if not problems else '; '.join(problems)}\n")
    print("| user | query | rows | one node | cluster | cluster / node | ran on |")
    print("|---|---|---|---|---|---|---|")
    for user, name, rows, a, b, on in results:
        print(f"| {user} | {name} | {rows} | {a*1e3:.1f} ms | {b*1e3:.1f} ms | {b/a:.2f}× | {on} |")
    if problems:
        sys.exit(1)


if __name__ == "__main__":
    main()
