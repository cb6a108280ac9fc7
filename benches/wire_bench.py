#!/usr/bin/env python3
"""Wire-protocol benchmark: zhenjie vs PostgreSQL (same client, same SQL, same
data) and DuckDB in-process over the same Parquet files, in one run.

    bash benches/wire_bench.sh            # installs what it needs, then runs this

Prints a Markdown table of medians and ratios; paste it into docs/benchmarks.md
with the command line. Environment: ZJ_BIN (release binary), ZJ_DATA (demo city
folder), PERSONS, REPS.
"""

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import duckdb
import psycopg

ZJ_BIN = os.environ.get("ZJ_BIN", "target/release/zhenjie")
DATA = os.path.abspath(os.environ.get("ZJ_DATA", "data/bench"))
PERSONS = int(os.environ.get("PERSONS", "1000000"))
REPS = int(os.environ.get("REPS", "5"))
ZJ_PORT = 55433
PG_PORT = 55432
PG_BIN = os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin")

QUERIES = {
    "count(*)": "SELECT count(*) FROM persons",
    "GROUP BY county": "SELECT county_code, count(*) AS n FROM persons GROUP BY county_code ORDER BY county_code",
    "GROUP BY county, sex, avg age": (
        "SELECT county_code, sex, count(*), avg(2024 - extract(year FROM birth_date)) "
        "FROM persons GROUP BY county_code, sex ORDER BY 1, 2"
    ),
}
STREAM_SQL = "SELECT id_number, name, sex, birth_date, phone, grid_code FROM persons"


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def rss_kib(pid, field="VmRSS"):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except FileNotFoundError:
        return 0
    return 0


def tree_rss_kib(root_pid):
    """RSS of a process and its children (PostgreSQL forks a backend per client)."""
    total = rss_kib(root_pid)
    for child in subprocess.run(["pgrep", "-P", str(root_pid)], capture_output=True, text=True).stdout.split():
        total += tree_rss_kib(int(child))
    return total


class PeakSampler(threading.Thread):
    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.peak, self.stop = pid, 0, False

    def run(self):
        while not self.stop:
            self.peak = max(self.peak, tree_rss_kib(self.pid))
            time.sleep(0.02)


def ensure_city():
    if not os.path.exists(os.path.join(DATA, "catalog.toml")):
        log(f"generating a {PERSONS}-person demo city into {DATA}")
        subprocess.run([ZJ_BIN, "demo", "--persons", str(PERSONS), "--out", DATA], check=True)


def catalogs():
    """The demo catalog as the query benchmark serves it (no report
    templates or policy rules: a rule's answer is computed in the background
    when the server starts, which would run beside the first timings, and an
    ungoverned copy cannot hold rules), and that catalog with governance off."""
    import query_bench
    query_bench.DATA = DATA
    return query_bench.bench_catalog()


def start_zhenjie():
    proc = subprocess.Popen(
        [ZJ_BIN, "serve", "--catalog", catalogs()[0], "--listen", f"127.0.0.1:{ZJ_PORT}"],
        stderr=subprocess.DEVNULL,
    )
    for _ in range(200):
        try:
            psycopg.connect(zj_dsn()).close()
            return proc
        except psycopg.OperationalError:
            time.sleep(0.1)
    raise SystemExit("zhenjie did not start")


def zj_dsn(user="city", port=ZJ_PORT):
    return f"host=127.0.0.1 port={port} user={user} password=demo dbname=zhenjie"


OPEN_PORT = 55434
GOVERNANCE_QUERIES = {
    "scan-aggregate (GROUP BY county)": "SELECT county_code, count(*) AS n FROM persons GROUP BY county_code ORDER BY county_code",
    "join through the attribution key": (
        "SELECT count(*) FROM dept_list d JOIN persons p ON d.id_number = p.id_number"
    ),
}


def start_open_zhenjie():
    proc = subprocess.Popen(
        [ZJ_BIN, "serve", "--catalog", catalogs()[1], "--listen", f"127.0.0.1:{OPEN_PORT}"],
        stderr=subprocess.DEVNULL,
    )
    for _ in range(200):
        try:
            psycopg.connect(zj_dsn(port=OPEN_PORT)).close()
            return proc
        except psycopg.OperationalError:
            time.sleep(0.1)
    raise SystemExit("ungoverned zhenjie did not start")


def governance_overhead(zj_proc):
    """Same queries, same binary: governed (fence + masks, as city; fence only,
    as admin who holds pii; and as town) against governance off."""
    opened = start_open_zhenjie()
    try:
        out = []
        dsns = [zj_dsn(port=OPEN_PORT), zj_dsn("city"), zj_dsn("admin"), zj_dsn("town")]
        for name, sql in GOVERNANCE_QUERIES.items():
            off, city, admin, town = time_interleaved(dsns, sql)
            out.append((name, off, city, admin, town))
            log(f"{name}: off {off*1e3:.1f} ms, city {city*1e3:.1f} ms, admin {admin*1e3:.1f} ms, town {town*1e3:.1f} ms")
        return out
    finally:
        opened.terminate()
        opened.wait()


def start_postgres(workdir):
    """A throwaway PostgreSQL 15 cluster on loopback, run as the postgres user."""
    pgdata = os.path.join(workdir, "pgdata")
    os.makedirs(workdir, exist_ok=True)
    shutil.chown(workdir, "postgres")
    as_pg = ["runuser", "-u", "postgres", "--"]
    subprocess.run(as_pg + [f"{PG_BIN}/initdb", "-D", pgdata, "-A", "trust", "-U", "postgres"], check=True, stdout=subprocess.DEVNULL)
    proc = subprocess.Popen(
        as_pg + [f"{PG_BIN}/postgres", "-D", pgdata, "-p", str(PG_PORT), "-k", workdir, "-c", "listen_addresses=127.0.0.1",
                 "-c", "shared_buffers=1GB", "-c", "work_mem=256MB", "-c", "max_parallel_workers_per_gather=2"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    for _ in range(200):
        try:
            psycopg.connect(pg_dsn()).close()
            return proc
        except psycopg.OperationalError:
            time.sleep(0.1)
    raise SystemExit("postgres did not start")


def stop_postgres(proc, workdir):
    """Stops the cluster itself (immediate shutdown): terminating `runuser`
    alone may leave the postmaster running."""
    subprocess.run(["runuser", "-u", "postgres", "--", f"{PG_BIN}/pg_ctl", "-D", os.path.join(workdir, "pgdata"),
                    "-m", "immediate", "stop"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    proc.terminate()
    proc.wait()


def pg_dsn():
    return f"host=127.0.0.1 port={PG_PORT} user=postgres dbname=postgres"


def load_postgres():
    """Same rows as the Parquet file, via CSV exported by DuckDB."""
    csv = os.path.join(tempfile.gettempdir(), "zj_bench_persons.csv")
    duckdb.sql(f"COPY (SELECT * FROM '{DATA}/persons.parquet') TO '{csv}' (HEADER, DELIMITER ',')")
    cols = duckdb.sql(f"DESCRIBE SELECT * FROM '{DATA}/persons.parquet'").fetchall()
    pgtype = {"VARCHAR": "text", "DATE": "date", "BOOLEAN": "boolean", "INTEGER": "integer", "BIGINT": "bigint", "DOUBLE": "double precision"}
    ddl = ", ".join(f"{name} {pgtype.get(t, 'text')}" for name, t, *_ in cols)
    with psycopg.connect(pg_dsn(), autocommit=True) as c:
        c.execute("DROP TABLE IF EXISTS persons")
        c.execute(f"CREATE TABLE persons ({ddl})")
        with c.cursor().copy("COPY persons FROM STDIN WITH (FORMAT csv, HEADER)") as cp:
            with open(csv, "rb") as f:
                while chunk := f.read(1 << 20):
                    cp.write(chunk)
        c.execute("VACUUM ANALYZE persons")
    os.remove(csv)


def time_query(dsn, sql):
    times = []
    with psycopg.connect(dsn) as c:
        c.execute(sql).fetchall()  # warm-up
        for _ in range(REPS):
            t = time.perf_counter()
            c.execute(sql).fetchall()
            times.append(time.perf_counter() - t)
    return statistics.median(times)


def time_interleaved(dsns, sql, reps=None):
    """Medians of the same query on several connections, run in turns (one
    run on each, then again), so that the machine's drift over the
    measurement falls on all of them alike: the governance ratios compare
    differences of a few percent."""
    reps = reps or 3 * REPS
    conns = [psycopg.connect(d) for d in dsns]
    try:
        for c in conns:
            c.execute(sql).fetchall()  # warm-up
        times = [[] for _ in conns]
        for _ in range(reps):
            for c, ts in zip(conns, times):
                t = time.perf_counter()
                c.execute(sql).fetchall()
                ts.append(time.perf_counter() - t)
        return [statistics.median(ts) for ts in times]
    finally:
        for c in conns:
            c.close()


def time_duckdb(sql):
    con = duckdb.connect()
    con.execute(f"CREATE VIEW persons AS SELECT * FROM '{DATA}/persons.parquet'")
    con.execute(sql).fetchall()
    times = []
    for _ in range(REPS):
        t = time.perf_counter()
        con.execute(sql).fetchall()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def stream_rows(dsn, server_pid, slow=False):
    """Streams the result row by row (libpq single-row mode); returns rows/s
    and the server's peak RSS during the stream."""
    sampler = PeakSampler(server_pid)
    sampler.start()
    n = 0
    t = time.perf_counter()
    with psycopg.connect(dsn) as c:
        for _ in c.cursor().stream(STREAM_SQL):
            n += 1
            if slow and n % 20000 == 0:
                time.sleep(0.1)
    elapsed = time.perf_counter() - t
    sampler.stop = True
    sampler.join()
    return n / elapsed, sampler.peak, n


def main():
    ensure_city()
    work = tempfile.mkdtemp(prefix="zj-bench-")
    os.chmod(work, 0o755)
    zj = start_zhenjie()
    pg = start_postgres(os.path.join(work, "pg"))
    try:
        load_postgres()
        rows = []
        for name, sql in QUERIES.items():
            z = time_query(zj_dsn("admin"), sql)
            p = time_query(pg_dsn(), sql)
            d = time_duckdb(sql)
            rows.append((name, z, p, d))
            log(f"{name}: zhenjie {z*1e3:.1f} ms, postgres {p*1e3:.1f} ms, duckdb {d*1e3:.1f} ms")
        gov = governance_overhead(zj)
        zs, zpeak, zn = stream_rows(zj_dsn("admin"), zj.pid)
        ps, ppeak, pn = stream_rows(pg_dsn(), pg.pid)
        _, zslow_peak, _ = stream_rows(zj_dsn("admin"), zj.pid, slow=True)
        _, pslow_peak, _ = stream_rows(pg_dsn(), pg.pid, slow=True)
        assert zn == pn, f"row counts differ: zhenjie {zn}, postgres {pn}"
    finally:
        zj.terminate()
        stop_postgres(pg, os.path.join(work, "pg"))
        zj.wait()
        pg.wait()
        shutil.rmtree(work, ignore_errors=True)

    print(f"persons: {zn:,} rows; medians of {REPS} runs after a warm-up; client psycopg {psycopg.__version__}, DuckDB {duckdb.__version__}\n")
    print("| query | zhenjie | PostgreSQL 15 | DuckDB (in-process) | PostgreSQL / zhenjie | zhenjie / DuckDB |")
    print("|---|---|---|---|---|---|")
    for name, z, p, d in rows:
        print(f"| {name} | {z*1e3:.1f} ms | {p*1e3:.1f} ms | {d*1e3:.1f} ms | {p/z:.1f}× | {z/d:.2f}× |")
    print()
    print("| streaming 1 row at a time | zhenjie | PostgreSQL 15 | zhenjie / PostgreSQL |")
    print("|---|---|---|---|")
    print(f"| rows/s ({STREAM_SQL!r}) | {zs:,.0f} | {ps:,.0f} | {zs/ps:.2f}× |")
    print(f"| server peak RSS, fast client | {zpeak/1024:.0f} MiB | {ppeak/1024:.0f} MiB (postmaster + backends) | |")
    print(f"| server peak RSS, slow client (0.1 s pause per 20k rows) | {zslow_peak/1024:.0f} MiB | {pslow_peak/1024:.0f} MiB | |")
    print_governance(gov)


def print_governance(gov):
    print()
    print("| governance overhead | off | city (fence + masks) | admin (fence, pii) | town (its own fence) | city / off | admin / off | town / city |")
    print("|---|---|---|---|---|---|---|---|")
    for name, off, city, admin, town in gov:
        print(f"| {name} | {off*1e3:.1f} ms | {city*1e3:.1f} ms | {admin*1e3:.1f} ms | {town*1e3:.1f} ms | {city/off:.2f}× | {admin/off:.2f}× | {town/city:.2f}× |")


if __name__ == "__main__":
    main()
