#!/usr/bin/env python3
"""Load benchmark (issue 17): CONNS concurrent clients, each running ROUNDS
rounds of what grassroots staff and dashboards send, against zhenjie and
against PostgreSQL 15 over the same demo city.

The clients are spread evenly over the demo's five levels: `admin` (city,
pii), `county`, `town` (pii), `village` and `grid`, stock catalog (so grid
has no pii). Each round a client runs, in an order shuffled per client and
round (seeded: the same on both servers),

* lookups by identity number and by phone (users holding `pii` only: for
  the others a keyed hash never equals a raw number);
* small aggregates: persons by sex, living persons by village;
* a scenario view (`village_population`, a join of persons and areas), a
  report template's view (`report_population_by_grid`) and the policy
  rules' answer (`SELECT count(*) FROM policy_gaps`);
* a roster streamed (`SELECT id_number, name, sex, birth_date, grid_code
  FROM persons`), at village and grid level only.

zhenjie is started over the stock catalog with --max-connections; every
client logs in as its user and sends the SQL as written (the fence and the
masks are the server's). PostgreSQL (the indexes query_bench.py creates,
max_connections as zhenjie's) has one superuser; every client runs the same
statements with its level's fence written out by hand, as query_bench.py
does. policy_gaps comes from zhenjie's rule engine and has no SQL
equivalent: it is not run on PostgreSQL (the output says so).

All clients connect first (a barrier), then run; zhenjie's run comes first,
then PostgreSQL's (already loaded, idle during zhenjie's run; zhenjie is
stopped before PostgreSQL's run starts). Simple protocol (psycopg's
ClientCursor, as psql sends), autocommit, one Python thread per client.
Every exception is an error (the goal is none); answers of the first round
are checked, every client's against PostgreSQL's (numbers to 9 significant
digits, rows as multisets, masked columns left out for users without pii),
and every later round must return as many rows as the first. Memory: the
server's peak during the run (see the notes printed with the table).

    bash benches/load_bench.sh       # builds, installs peers, runs this

Environment: ZJ_BIN, ZJ_DATA (a demo city), CONNS (200), ROUNDS (20),
MAX_CONNECTIONS (300, both servers), ONLY (comma-separated query kinds).
"""

import collections
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import tomllib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import query_bench as qb  # noqa: E402  (its PostgreSQL set-up, constants and normal())

import psycopg  # noqa: E402

ZJ_BIN = os.environ.get("ZJ_BIN", "target/release/zhenjie")
DATA = os.path.abspath(os.environ.get("ZJ_DATA", "data/bench-1000000"))
CONNS = int(os.environ.get("CONNS", "200"))
ROUNDS = int(os.environ.get("ROUNDS", "20"))
MAX_CONNECTIONS = int(os.environ.get("MAX_CONNECTIONS", "300"))
ONLY = [k for k in os.environ.get("ONLY", "").split(",") if k]
ZJ_PORT, PG_PORT = 55471, 55473
qb.DATA, qb.PG_PORT = DATA, PG_PORT
SAMPLE_EVERY = 0.1  # seconds between memory samples

USERS = ["admin", "county", "town", "village", "grid"]
EVERY = lambda level, pii: True  # noqa: E731
PII = lambda level, pii: pii  # noqa: E731
SMALL = lambda level, pii: level in ("village", "grid")  # noqa: E731

# kind -> (SQL sent to zhenjie, PostgreSQL's SQL with {F:p} for the fence or
# None: not run there, who runs it). Constants as query_bench.constants().
KINDS = {
    "lookup by identity number": (
        "SELECT id_number, name, sex, birth_date, phone, grid_code FROM persons WHERE id_number = '{ID}'",
        "SELECT id_number, name, sex, birth_date, phone, grid_code FROM persons p WHERE p.id_number = '{ID}' {F:p}",
        PII),
    "lookup by phone": (
        "SELECT id_number, name, household_no, grid_code FROM persons WHERE phone = '{PHONE}'",
        "SELECT id_number, name, household_no, grid_code FROM persons p WHERE p.phone = '{PHONE}' {F:p}",
        PII),
    "count by sex": (
        "SELECT sex, count(*) FROM persons GROUP BY 1 ORDER BY 1",
        "SELECT sex, count(*) FROM persons p WHERE TRUE {F:p} GROUP BY 1 ORDER BY 1",
        EVERY),
    "alive by village": (
        "SELECT village_code, count(*) FROM persons WHERE is_alive GROUP BY 1 ORDER BY 1",
        "SELECT village_code, count(*) FROM persons p WHERE p.is_alive {F:p} GROUP BY 1 ORDER BY 1",
        EVERY),
    "view village_population": (
        "SELECT * FROM village_population",
        # the view's SQL (catalog.toml), fenced
        "SELECT p.village_code, a.name AS village_name, count(*) AS residents, "
        "sum(CASE WHEN p.is_alive THEN 0 ELSE 1 END) AS deceased, count(DISTINCT p.household_no) AS households "
        "FROM persons p JOIN areas a ON a.code = p.village_code WHERE TRUE {F:p} GROUP BY p.village_code, a.name",
        EVERY),
    "report population_by_grid": (
        "SELECT * FROM report_population_by_grid",
        # the report template's SQL (catalog.toml), fenced
        "SELECT grid_code, count(*) AS residents, sum(CASE WHEN is_alive THEN 1 ELSE 0 END) AS alive, "
        "count(DISTINCT household_no) AS households FROM persons p WHERE TRUE {F:p} GROUP BY grid_code "
        "ORDER BY grid_code",
        EVERY),
    "policy_gaps count": ("SELECT count(*) FROM policy_gaps", None, EVERY),
    "roster (streamed)": (
        "SELECT id_number, name, sex, birth_date, grid_code FROM persons",
        "SELECT id_number, name, sex, birth_date, grid_code FROM persons p WHERE TRUE {F:p}",
        SMALL),
}
if ONLY:
    KINDS = {k: v for k, v in KINDS.items() if k in ONLY}


log = qb.log


def first_line(e):
    text = str(e).strip().splitlines()
    state = getattr(e, "sqlstate", None)
    return f"{type(e).__name__}{f' {state}' if state else ''}: {text[0] if text else ''}"


def pct(xs, p):
    """The p-th percentile (nearest rank) of xs, in ms."""
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, int(round(p / 100 * len(s) + 0.5)) - 1))] * 1e3


# --- servers -----------------------------------------------------------------

def start_zhenjie(catalog, logfile, wait_rules):
    """Starts zhenjie with stderr to a file (a pipe nobody reads would stall it
    under load) and waits until it accepts a login and, when the catalog has
    policy rules, until it has answered them (it does so in the background
    once it listens)."""
    args = [ZJ_BIN, "serve", "--catalog", catalog, "--listen", f"127.0.0.1:{ZJ_PORT}"]
    helptext = subprocess.run([ZJ_BIN, "serve", "--help"], capture_output=True, text=True).stdout
    limited = "--max-connections" in helptext
    if limited:
        args += ["--max-connections", str(MAX_CONNECTIONS)]
    else:
        log(f"note: {ZJ_BIN} has no --max-connections (it predates connection limits): started without it")
    with open(logfile, "w") as err:
        proc = subprocess.Popen(args, stdout=err, stderr=err, text=True)
    try:
        deadline = time.time() + 900
        up = False
        while time.time() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"zhenjie did not start:\n{open(logfile).read()[-3000:]}")
            if not up:
                try:
                    psycopg.connect(qb.zj_dsn("admin", ZJ_PORT)).close()
                    up = True
                except psycopg.OperationalError:
                    pass
            text = open(logfile).read()
            if "warning: policy rules" in text:
                raise RuntimeError(f"zhenjie: {text[-3000:]}")
            if up and (not wait_rules or "policy rules answered for the city" in text):
                return proc, " ".join(args[1:]) + ("" if limited else " (this binary has no --max-connections)")
            time.sleep(0.2)
        raise RuntimeError("zhenjie did not start in time")
    except BaseException:
        stop_zhenjie(proc)
        raise


def stop_zhenjie(proc):
    if proc is not None and proc.poll() is None:
        proc.kill()
        proc.wait()


def start_postgres(workdir):
    """query_bench's PostgreSQL with max_connections raised for the clients;
    the process and its settings."""
    extra = [f"max_connections={MAX_CONNECTIONS}"]
    return qb.start_postgres(workdir, extra), qb.PG_SETTINGS + extra


def postmaster_pid(workdir):
    with open(os.path.join(workdir, "pgdata", "postmaster.pid")) as f:
        return int(f.readline())


# --- memory ------------------------------------------------------------------

def proc_mem(pid):
    """VmRSS, VmHWM, RssAnon, RssFile, RssShmem of a process, in bytes."""
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem"):
                    out[k] = int(v.split()[0]) * 1024
    except OSError:
        pass
    return out


def with_children(ppid):
    pids = [ppid]
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == ppid:
                pids.append(int(name))
    return pids


class Sampler(threading.Thread):
    """Every SAMPLE_EVERY s: the sum of VmRSS over the server's processes, and
    that sum with shared memory counted once (Σ RssAnon + the largest
    RssFile + RssShmem); keeps the maxima."""

    def __init__(self, pids):
        super().__init__(daemon=True)
        self.pids, self.done = pids, threading.Event()
        self.peak_rss = self.peak_once = 0
        self.procs = 0
        self.sample()
        self.start_rss = self.peak_rss

    def sample(self):
        mems = [m for m in map(proc_mem, self.pids()) if m]
        rss = sum(m.get("VmRSS", 0) for m in mems)
        once = sum(m.get("RssAnon", 0) for m in mems) + max(
            (m.get("RssFile", 0) + m.get("RssShmem", 0) for m in mems), default=0)
        self.peak_rss, self.peak_once = max(self.peak_rss, rss), max(self.peak_once, once)
        self.procs = max(self.procs, len(mems))

    def run(self):
        while not self.done.wait(SAMPLE_EVERY):
            self.sample()

    def finish(self):
        self.done.set()
        self.join()
        self.sample()


# --- clients -----------------------------------------------------------------

class Client:
    def __init__(self, index, user, level, pii, kinds, sqls, dsn):
        self.index, self.user, self.level, self.pii = index, user, level, pii
        self.kinds, self.sqls, self.dsn = kinds, sqls, dsn
        self.latencies = []      # (kind, seconds) of statements that succeeded
        self.errors = []         # (user, kind, first line)
        self.first = {}          # kind -> (column names, rows) of round 1
        self.statements = 0
        self.conn = None

    def connect(self):
        self.conn = psycopg.connect(self.dsn, autocommit=True, cursor_factory=psycopg.ClientCursor)

    def run(self, barrier):
        try:
            self.connect()
        except Exception as e:  # noqa: BLE001 — every failure counts
            self.errors.append((self.user, "connect", first_line(e)))
        try:
            barrier.wait(timeout=900)
        except threading.BrokenBarrierError:
            self.errors.append((self.user, "connect", "the barrier broke (clients did not all connect in time)"))
            return
        if self.conn is None:
            return
        try:
            for r in range(ROUNDS):
                order = list(self.kinds)
                random.Random(f"{self.index}/{r}").shuffle(order)
                for kind in order:
                    self.statements += 1
                    t = time.perf_counter()
                    try:
                        cur = self.conn.execute(self.sqls[kind])
                        rows = cur.fetchall()
                    except Exception as e:  # noqa: BLE001
                        self.errors.append((self.user, kind, first_line(e)))
                        if self.conn.closed:
                            try:
                                self.connect()
                            except Exception as e2:  # noqa: BLE001
                                self.errors.append((self.user, "reconnect", first_line(e2)))
                                return
                        continue
                    self.latencies.append((kind, time.perf_counter() - t))
                    if kind not in self.first:
                        self.first[kind] = ([d.name for d in cur.description], rows)
                    elif len(rows) != len(self.first[kind][1]):
                        self.errors.append((self.user, kind, f"round {r + 1}: {len(rows)} rows, round 1 had "
                                                             f"{len(self.first[kind][1])}"))
        finally:
            self.conn.close()


def run_server(name, clients, pids, single=False):
    """Connects every client, releases them together, waits for all; returns
    the measurements. `single`: the server is one process (zhenjie), whose
    own peak RSS (VmHWM) is reset at the release and read at the end."""
    marks = {"hwm_reset": False}

    def release():
        if single:
            try:
                with open(f"/proc/{pids()[0]}/clear_refs", "w") as f:
                    f.write("5")
                marks["hwm_reset"] = True
            except OSError as e:
                log(f"{name}: could not reset VmHWM ({e}); reporting sampled RSS instead")
        marks["sampler"] = Sampler(pids)
        marks["sampler"].start()
        marks["cpu"] = resource.getrusage(resource.RUSAGE_SELF)
        marks["t0"] = time.perf_counter()

    barrier = threading.Barrier(len(clients) + 1, action=release)
    threads = [threading.Thread(target=c.run, args=(barrier,), daemon=True) for c in clients]
    t_connect = time.perf_counter()
    for t in threads:
        t.start()
    barrier.wait(timeout=900)
    connected = time.perf_counter() - t_connect
    log(f"{name}: {sum(c.conn is not None for c in clients)} of {len(clients)} clients connected in {connected:.1f} s")
    last = time.time()
    while any(t.is_alive() for t in threads):
        for t in threads:
            t.join(timeout=1)
            if time.time() - last > 15:
                last = time.time()
                log(f"{name}: {sum(c.statements for c in clients)} statements, "
                    f"{sum(len(c.errors) for c in clients)} errors, {time.perf_counter() - marks['t0']:.0f} s")
    wall = time.perf_counter() - marks["t0"]
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    sampler = marks["sampler"]
    sampler.finish()
    hwm = proc_mem(pids()[0]).get("VmHWM") if marks["hwm_reset"] else None
    result = {
        "name": name, "wall": wall, "connect": connected, "hwm": hwm,
        "peak_rss": sampler.peak_rss, "peak_once": sampler.peak_once, "start_rss": sampler.start_rss,
        "procs": sampler.procs,
        "client_cpu": cpu.ru_utime + cpu.ru_stime - marks["cpu"].ru_utime - marks["cpu"].ru_stime,
        "statements": sum(c.statements for c in clients),
        "errors": [e for c in clients for e in c.errors],
        "latencies": [lt for c in clients for lt in c.latencies],
        "by_level": [(c.level, k, s) for c in clients for k, s in c.latencies],
    }
    log(f"{name}: {result['statements']} statements in {wall:.1f} s, {len(result['errors'])} errors")
    return result


def warm_up(dsn_of, sqls_of, users):
    """Each user's statements once, untimed (caches and plans warm for both
    servers alike)."""
    for user, _level, _pii, kinds in users:
        with psycopg.connect(dsn_of(user), autocommit=True, cursor_factory=psycopg.ClientCursor) as c:
            for kind in kinds:
                try:
                    c.execute(sqls_of(user)[kind]).fetchall()
                except psycopg.Error as e:  # the run counts it
                    log(f"warm-up: {user}: {kind}: {first_line(e)}")


# --- main --------------------------------------------------------------------

def main():
    catalog = os.path.join(DATA, "catalog.toml")
    with open(catalog, "rb") as f:
        cat = tomllib.load(f)
    by_name = {u["name"]: u for u in cat["users"]}
    users = []  # (user, level, pii, kinds)
    for u in USERS:
        level, pii = by_name[u]["level"], "pii" in by_name[u].get("roles", [])
        users.append((u, level, pii, [k for k, (_, _, who) in KINDS.items() if who(level, pii)]))
    fences = {u: None if level == "city" else qb.prefix(by_name[u]["area"], level) for u, level, _, _ in users}
    consts = qb.constants()
    zj_sql = {u: {k: qb.sql_for(KINDS[k][0], consts, None) for k in kinds} for u, _, _, kinds in users}
    pg_sql = {u: {k: qb.sql_for(KINDS[k][1], consts, fences[u]) for k in kinds if KINDS[k][1]}
              for u, _, _, kinds in users}
    assignment = [users[i % len(users)] for i in range(CONNS)]
    persons = qb.duck().execute("SELECT count(*) FROM persons").fetchall()[0][0]

    work = tempfile.mkdtemp(prefix="zj-lbench-")
    os.chmod(work, 0o755)
    pgwork = os.path.join(work, "pg")
    zj = pg = None
    runs = {}
    try:
        pg, pg_settings = start_postgres(pgwork)
        log("loading PostgreSQL …")
        qb.TABLES = qb.TABLES + ["areas"]  # village_population joins areas
        qb.load_postgres()
        with psycopg.connect(qb.pg_dsn()) as c:
            pg_version = c.execute("SHOW server_version").fetchone()[0]

        zj, zj_cmd = start_zhenjie(catalog, os.path.join(work, "zhenjie.log"), bool(cat.get("rules")))
        warm_up(lambda u: qb.zj_dsn(u, ZJ_PORT), lambda u: zj_sql[u], users)
        clients = [Client(i, u, level, pii, kinds, zj_sql[u], qb.zj_dsn(u, ZJ_PORT))
                   for i, (u, level, pii, kinds) in enumerate(assignment)]
        runs["zhenjie"] = run_server("zhenjie", clients, lambda: [zj.pid], single=True)
        runs["zhenjie"]["clients"] = clients
        zj_log = open(os.path.join(work, "zhenjie.log")).read()
        stop_zhenjie(zj)
        zj = None

        pg_users = [(u, level, pii, [k for k in kinds if KINDS[k][1]]) for u, level, pii, kinds in users]
        warm_up(lambda u: qb.pg_dsn(), lambda u: pg_sql[u], pg_users)
        pm = postmaster_pid(pgwork)
        clients = [Client(i, u, level, pii, [k for k in kinds if KINDS[k][1]], pg_sql[u], qb.pg_dsn())
                   for i, (u, level, pii, kinds) in enumerate(assignment)]
        runs["PostgreSQL"] = run_server("PostgreSQL", clients, lambda: with_children(pm))
        runs["PostgreSQL"]["clients"] = clients
    finally:
        stop_zhenjie(zj)
        if pg is not None:
            qb.stop_postgres(pg, pgwork)
        shutil.rmtree(work, ignore_errors=True)

    # Answers of round 1: every client's against PostgreSQL's first client of
    # the same user (zhenjie-only kinds: against zhenjie's first client).
    mismatches = {"zhenjie": [], "PostgreSQL": []}
    for u, level, pii, kinds in users:
        for k in kinds:
            answers = {s: [c.first.get(k) for c in runs[s]["clients"] if c.user == u and k in c.kinds]
                       for s in runs}
            ref_server = "PostgreSQL" if KINDS[k][1] else "zhenjie"
            ref = next((a for a in answers[ref_server] if a is not None), None)
            if ref is None:
                continue  # every one failed: counted as errors already
            if not ref[1]:
                mismatches[ref_server].append((u, k, "no rows (the case measures nothing)"))
            ref_cols = ref[0]
            drop = set() if pii else {i for i, c in enumerate(ref_cols) if c in qb.MASKED}
            want = qb.normal(ref[1], drop)
            for s, got in answers.items():
                for a in got:
                    if a is None:
                        continue
                    if a[0] != ref_cols:
                        mismatches[s].append((u, k, f"columns {a[0]} != {ref_server}'s {ref_cols}"))
                    elif (have := qb.normal(a[1], drop)) != want:
                        i = next((i for i, (x, y) in enumerate(zip(have, want)) if x != y), min(len(have), len(want)))
                        row = lambda rows: repr(rows[i])[:120] if i < len(rows) else "no row"  # noqa: E731
                        mismatches[s].append((u, k, f"round 1: {len(a[1])} rows, {ref_server} {len(ref[1])}; "
                                                    f"first difference {row(have)} vs {row(want)}"))
    for s in runs:
        runs[s]["errors"] += [(u, k, "answer: " + m) for u, k, m in mismatches[s]]

    report(runs, users, persons, consts, zj_cmd, pg_settings, pg_version, zj_log)
    sys.exit(1 if any(r["errors"] for r in runs.values()) else 0)


def mib(b):
    return f"{b / 2**20:,.0f} MiB"


def report(runs, users, persons, consts, zj_cmd, pg_settings, pg_version, zj_log):
    ms = lambda x: f"{x:.1f} ms"  # noqa: E731
    zj, pg = runs["zhenjie"], runs["PostgreSQL"]
    cmd = f"CONNS={CONNS} ROUNDS={ROUNDS} ZJ_DATA={os.path.relpath(DATA) if DATA.startswith(os.getcwd()) else DATA}"
    if MAX_CONNECTIONS != 300:
        cmd += f" MAX_CONNECTIONS={MAX_CONNECTIONS}"
    if ONLY:
        cmd += f" ONLY='{','.join(ONLY)}'"
    per_user = collections.Counter(u for u, *_ in [users[i % len(users)] for i in range(CONNS)])
    print(f"### Load: {CONNS} clients × {ROUNDS} rounds, {persons:,} persons\n")
    print(f"`{cmd} bash benches/load_bench.sh`\n")
    print(f"{os.cpu_count()} CPUs, clients and server on the same machine (one Python process, one thread per "
          f"client); psycopg {psycopg.__version__}, simple protocol (ClientCursor), autocommit. "
          f"zhenjie: `zhenjie {zj_cmd}` (stock catalog, default --memory-mb). PostgreSQL {pg_version}: "
          f"{', '.join(pg_settings[1:])}, the {len(qb.PG_INDEXES)} indexes of query_bench.py. "
          f"Clients: " + ", ".join(f"{per_user[u]} as {u} ({level}{', pii' if pii else ''})"
                                     for u, level, pii, _ in users)
          + "; on PostgreSQL all as one superuser with the level's fence written out. "
          "zhenjie ran first (PostgreSQL loaded and idle), then PostgreSQL (zhenjie stopped); each after one untimed warm-up pass "
          "per user, all clients connected before the clock starts. Constants: identity number and phone "
          f"of a resident of grid {consts['VILLAGE']}001.\n")
    print("| server | clients | statements | errors | wall | statements/s | p50 | p99 | connect all | "
          "peak RSS | peak, shared memory once |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in (zj, pg):
        lat = [s for _, s in r["latencies"]]
        ok = len(lat)
        peak = mib(r["hwm"]) + " (VmHWM)" if r["hwm"] is not None else mib(r["peak_rss"])
        if r is pg:
            peak = f"{mib(r['peak_rss'])} (Σ RSS of {r['procs']} processes)"
        print(f"| {r['name']} | {CONNS} | {r['statements']:,} | {len(r['errors'])} | {r['wall']:.1f} s | "
              f"{ok / r['wall']:,.0f} | {ms(pct(lat, 50))} | {ms(pct(lat, 99))} | {r['connect']:.1f} s | {peak} | "
              f"{mib(r['peak_once'])} |")
    print()
    print("| query kind | who | zhenjie statements | zhenjie p50 | zhenjie p99 | PostgreSQL statements | "
          "PostgreSQL p50 | PostgreSQL p99 |")
    print("|---|---|---|---|---|---|---|---|")
    for k in KINDS:
        who = ", ".join(u for u, _, _, kinds in users if k in kinds)
        if not who:
            continue
        z = [s for kk, s in zj["latencies"] if kk == k]
        p = [s for kk, s in pg["latencies"] if kk == k]
        pg_cols = (f"{len(p):,} | {ms(pct(p, 50))} | {ms(pct(p, 99))}" if KINDS[k][1]
                   else "not run (no SQL equivalent) | | ")
        print(f"| {k} | {who} | {len(z):,} | {ms(pct(z, 50))} | {ms(pct(z, 99))} | {pg_cols} |")
    print()
    print("By level (p50 / p99):\n")
    print("| level | " + " | ".join(KINDS) + " |")
    print("|---|" + "---|" * len(KINDS))
    for u, level, _, kinds in users:
        cells = []
        for k in KINDS:
            z = [s for lv, kk, s in zj["by_level"] if lv == level and kk == k]
            p = [s for lv, kk, s in pg["by_level"] if lv == level and kk == k]
            cell = "" if not z else f"zj {pct(z, 50):.1f} / {pct(z, 99):.1f}"
            if p:
                cell += f"; pg {pct(p, 50):.1f} / {pct(p, 99):.1f}"
            cells.append(cell)
        print(f"| {level} ({u}) | " + " | ".join(cells) + " |")
    print()
    print("Notes. Latency: from sending a statement to its last row fetched, in the client, successful "
          "statements only; statements/s counts those over the wall time from the release of the clients to "
          "the last one finishing. policy_gaps is zhenjie's rule engine with no SQL equivalent, so PostgreSQL "
          f"ran {zj['statements'] - pg['statements']:,} fewer statements. Peak RSS: zhenjie is one process: "
          f"its VmHWM, reset (/proc/<pid>/clear_refs) when the clients are released "
          f"(RSS then {mib(zj['start_rss'])}; the largest of samples every {SAMPLE_EVERY * 1000:.0f} ms: "
          f"{mib(zj['peak_rss'])}); PostgreSQL: the largest, over samples every {SAMPLE_EVERY * 1000:.0f} ms, "
          f"of the sum of VmRSS of the postmaster and all its children (backends, parallel workers, background "
          f"processes; {mib(pg['start_rss'])} at release), which counts every shared-buffer page once per "
          "process that touched it; the last column counts shared memory once (Σ RssAnon + the largest "
          f"RssFile + RssShmem). Connecting: zhenjie authenticates with SCRAM-SHA-256, "
          f"PostgreSQL trusts local connections. The clients' own CPU: {zj['client_cpu']:.1f} s in zhenjie's run, "
          f"{pg['client_cpu']:.1f} s in PostgreSQL's (the machine has {os.cpu_count()} CPUs × the wall time).\n")
    plain = re.sub(r"\x1b\[[0-9;]*m", "", zj_log).splitlines()
    warnings = [line for line in plain if re.search(r"\b(WARN|ERROR)\b|panick", line)]
    if warnings:
        print(f"zhenjie logged {len(warnings)} warnings or errors; the first: {warnings[0][:300]}\n")
    for r in (zj, pg):
        errs = collections.Counter(r["errors"])
        if errs:
            print(f"{r['name']}: {len(r['errors'])} ERRORS")
            for (u, k, msg), n in errs.most_common():
                print(f"  {n} × {u}: {k}: {msg}")
        else:
            print(f"{r['name']}: no errors")


if __name__ == "__main__":
    main()
