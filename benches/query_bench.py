#!/usr/bin/env python3
"""Governed query benchmark (issue 16): the query shapes analysts and
scenarios run — point lookups by identity number, phone and credit code,
selective filters on area, date and status, joins and anti-joins through
key-placed datasets, top-N, a roster streamed, the scenario queries — each
run through the wire as a user at every level, against

* zhenjie with governance off (the same binary over the same files, every
  placement public and no masks) running the same SQL with the user's fence
  written out by hand: governance's own cost;
* DuckDB in-process over the same Parquet files, fence written out;
* PostgreSQL 15 with the indexes a DBA would create, fence written out.

Every answer is checked: zhenjie's rows must equal DuckDB's and
PostgreSQL's (as multisets; numbers compared to 9 significant digits). For
users without the `pii` role the columns masked for them are left out of the
comparison, and queries that filter on a masked column are not run for them
(a keyed hash never equals a raw identity number: that is the point).

Users: the demo's `admin` (city, pii), `county` (no pii), `town` (pii),
`village` (no pii) and `grid` — given `pii` in the benchmark's copy of the
catalog, so the lookups run at grid level too. zhenjie is timed unprepared
(simple protocol, as psql and many BI tools send: psycopg's ClientCursor)
and prepared (psycopg's prepared statements, extended protocol, where
zhenjie keeps the plan); the peers unprepared, simple protocol.

    bash benches/query_bench.sh          # builds, installs peers, runs this

Environment: ZJ_BIN, ZJ_DATA (a demo city), PERSONS, REPS, ONLY (a
comma-separated list of query names), ONLY_USERS.
"""

import datetime
import decimal
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import duckdb
import psycopg

ZJ_BIN = os.environ.get("ZJ_BIN", "target/release/zhenjie")
DATA = os.path.abspath(os.environ.get("ZJ_DATA", "data/bench-1000000"))
PERSONS = int(os.environ.get("PERSONS", "1000000"))
REPS = int(os.environ.get("REPS", "5"))
ONLY = [q for q in os.environ.get("ONLY", "").split(",") if q]
ONLY_USERS = [u for u in os.environ.get("ONLY_USERS", "").split(",") if u]
ZJ_PORT, OPEN_PORT, PG_PORT = 55441, 55442, 55443
PG_BIN = os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin")

# (user, level, whether they hold pii)
USERS = [("admin", "city", True), ("county", "county", False), ("town", "town", True),
         ("village", "village", False), ("grid", "grid", True)]
PREFIX_DIGITS = {"city": 4, "county": 6, "town": 9, "village": 12, "grid": 15}
# Columns masked for a user without pii, by name (the demo's classes).
MASKED = {"id_number", "name", "phone", "address", "birth_date", "amount", "owner_id_number",
          "legal_rep_id", "head_id_number"}
TABLES = ["persons", "households", "subsidy_payments", "social_security_cards", "enterprises",
          "safety_inspections", "special_groups", "vehicles"]
# What a DBA would index for these queries.
PG_INDEXES = [
    "persons (id_number)", "persons (phone)", "persons (grid_code text_pattern_ops)",
    "persons (household_no)", "persons (town_code)", "households (household_no)",
    "households (grid_code text_pattern_ops)", "subsidy_payments (id_number)",
    "subsidy_payments (grid_code text_pattern_ops)", "social_security_cards (id_number)",
    "enterprises (credit_code)", "enterprises (grid_code text_pattern_ops)",
    "safety_inspections (credit_code)", "special_groups (grid_code text_pattern_ops)",
    "vehicles (owner_id_number)", "vehicles (grid_code text_pattern_ops)",
]

# name -> (SQL, filters on a masked column). In the SQL, {F:a} is the fence
# on alias a of a dataset placed by grid_code, {K:a} on alias a of a dataset
# placed through persons' id_number; both expand to nothing for zhenjie
# governed (the fence is governance's) and at city level (the city sees
# every row). {ID}, {PHONE}, {USCC}, {VILLAGE}, {TOWN} are constants picked
# inside the grid user's area, so every level finds them.
QUERIES = {
    "lookup by identity number": (
        "SELECT id_number, name, sex, birth_date, phone, grid_code FROM persons p "
        "WHERE p.id_number = '{ID}' {F:p}", True),
    "lookup by phone": (
        "SELECT id_number, name, household_no, grid_code FROM persons p WHERE p.phone = '{PHONE}' {F:p}", True),
    "lookup by credit code": (
        "SELECT credit_code, name, industry, status, employees, grid_code FROM enterprises e "
        "WHERE e.credit_code = '{USCC}' {F:e}", False),
    "lookup by identity number (subquery)": (
        "SELECT name, grid_code FROM persons p WHERE p.id_number = (SELECT min(q.id_number) FROM persons q "
        "WHERE q.grid_code LIKE '{VILLAGE}%' {F:q}) {F:p}", True),
    "village residents alive": (
        "SELECT count(*) FROM persons p WHERE p.grid_code LIKE '{VILLAGE}%' AND p.is_alive {F:p}", False),
    "payments of 2024 by type": (
        "SELECT subsidy_type, count(*), sum(amount) AS amount FROM subsidy_payments s "
        "WHERE s.month >= DATE '2024-01-01' {F:s} GROUP BY 1 ORDER BY 1", False),
    "open special-group cases": (
        "SELECT group_type, status, count(*) FROM special_groups g WHERE g.end_date IS NULL {F:g} "
        "GROUP BY 1, 2 ORDER BY 1, 2", False),
    "alive by county": (
        "SELECT substr(grid_code, 1, 6) AS county, count(*) FROM persons p WHERE p.is_alive {F:p} "
        "GROUP BY 1 ORDER BY 1", False),
    "town, sex, average age": (
        "SELECT town_code, sex, count(*), avg(2024 - extract(year FROM birth_date)) FROM persons p "
        "WHERE TRUE {F:p} GROUP BY 1, 2 ORDER BY 1, 2", True),
    "households by size (join)": (
        "SELECT h.members, count(*) FROM persons p JOIN households h ON p.household_no = h.household_no "
        "WHERE p.relation = '02' {F:p} {F:h} GROUP BY 1 ORDER BY 1", False),
    "elderly without the allowance (anti-join)": (
        "SELECT p.town_code, count(*) FROM persons p WHERE p.is_alive AND p.birth_date < DATE '1944-01-01' {F:p} "
        "AND NOT EXISTS (SELECT 1 FROM subsidy_payments s WHERE s.id_number = p.id_number "
        "AND s.subsidy_type = '高龄津贴' {F:s}) GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 20", True),
    "cards by channel (key-placed)": (
        "SELECT channel, count(*) FROM social_security_cards c WHERE TRUE {K:c} GROUP BY 1 ORDER BY 1", False),
    "cards of women (join through the key)": (
        "SELECT c.card_type, count(*) FROM social_security_cards c JOIN persons p ON c.id_number = p.id_number "
        "WHERE p.sex = '女' {K:c} {F:p} GROUP BY 1 ORDER BY 1", False),
    "deceased still paid": (
        "SELECT count(*), sum(s.amount) AS amount FROM subsidy_payments s JOIN persons p ON p.id_number = s.id_number "
        "WHERE NOT p.is_alive AND s.month > p.death_date {F:s} {F:p}", False),
    "enterprises with hazards": (
        "SELECT e.industry, count(*) FROM enterprises e JOIN safety_inspections i ON i.credit_code = e.credit_code "
        "WHERE i.result <> '合格' {F:e} {F:i} GROUP BY 1 ORDER BY 1", False),
    "top 10 employers": (
        "SELECT credit_code, name, employees FROM enterprises e WHERE TRUE {F:e} "
        "ORDER BY employees DESC, credit_code LIMIT 10", False),
    "households with a truck": (
        "SELECT count(DISTINCT p.household_no) FROM vehicles v JOIN persons p ON v.owner_id_number = p.id_number "
        "WHERE v.vehicle_type = '轻型普通货车' {F:v} {F:p}", False),
    "town roster (streamed)": (
        "SELECT id_number, name, sex, birth_date, phone, grid_code FROM persons p WHERE p.town_code = '{TOWN}' {F:p}",
        False),
}


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def prefix(area, level):
    return area[: PREFIX_DIGITS[level]]


def sql_for(template, consts, fence_prefix):
    """The query with its constants, and the fence written out for
    `fence_prefix` (None: no fence, as zhenjie governed or the city)."""
    sql = template
    for k, v in consts.items():
        sql = sql.replace("{" + k + "}", v)

    def col_fence(m):
        return "" if fence_prefix is None else f" AND {m.group(1)}.grid_code LIKE '{fence_prefix}%'"

    def key_fence(m):
        if fence_prefix is None:
            return ""
        return (f" AND {m.group(1)}.id_number IN (SELECT id_number FROM persons "
                f"WHERE grid_code LIKE '{fence_prefix}%')")

    sql = re.sub(r"\s?\{F:(\w+)\}", col_fence, sql)
    return re.sub(r"\s?\{K:(\w+)\}", key_fence, sql)


def bench_catalog():
    """The demo catalog with `pii` for the grid user, and the same catalog
    with governance off."""
    with open(os.path.join(DATA, "catalog.toml")) as f:
        text = f.read()
    text = re.sub(r'(name = "grid"\nlevel = "grid"\narea = "\d+"\nroles = )\[\]', r'\1["pii"]', text)
    # No report templates or policy rules: they are not measured here, the
    # rules' answer is computed in the background at start, and both need
    # the area placements the ungoverned copy drops.
    first = min((text.index(k) for k in ("[[reports]]", "[[rules]]") if k in text), default=None)
    if first is not None:
        text = text[:first] + text[text.index("[[users]]"):]
    gov = os.path.join(DATA, "catalog-bench.toml")
    with open(gov, "w") as f:
        f.write(text)
    text = re.sub(r'\[datasets\.placement\]\nkind = "(column|key)"\n(?:[a-z_]+ = "[^"]*"\n)*',
                  '[datasets.placement]\nkind = "public"\n', text)
    text = re.sub(r'\[\[masks\]\]\n(?:[a-z_]+ = .*\n)*', '', text)
    open_ = os.path.join(DATA, "catalog-bench-open.toml")
    with open(open_, "w") as f:
        f.write(text)
    return gov, open_


def start_zhenjie(catalog, port, *extra):
    proc = subprocess.Popen([ZJ_BIN, "serve", "--catalog", catalog, "--listen", f"127.0.0.1:{port}", *extra],
                            stderr=subprocess.PIPE, text=True)
    for _ in range(300):
        if proc.poll() is not None:
            raise SystemExit(f"zhenjie did not start: {proc.stderr.read()}")
        try:
            psycopg.connect(zj_dsn("admin", port)).close()
            return proc
        except psycopg.OperationalError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("zhenjie did not start")


def zj_dsn(user, port):
    return f"host=127.0.0.1 port={port} user={user} password=demo dbname=zhenjie"


def stop_postgres(proc, workdir):
    """Stops the cluster itself (immediate shutdown): terminating `runuser`
    alone may leave the postmaster running."""
    subprocess.run(["runuser", "-u", "postgres", "--", f"{PG_BIN}/pg_ctl", "-D", os.path.join(workdir, "pgdata"),
                    "-m", "immediate", "stop"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    proc.terminate()
    proc.wait()


def pg_dsn():
    return f"host=127.0.0.1 port={PG_PORT} user=postgres dbname=postgres"


# The PostgreSQL settings of every benchmark (load_bench.py adds to them).
PG_SETTINGS = ["listen_addresses=127.0.0.1", "shared_buffers=1GB", "work_mem=256MB",
               "max_parallel_workers_per_gather=2", "fsync=off"]


def start_postgres(workdir, extra=()):
    """A fresh PostgreSQL 15 in workdir with PG_SETTINGS and `extra` settings;
    stopped again if it does not start."""
    pgdata = os.path.join(workdir, "pgdata")
    os.makedirs(workdir, exist_ok=True)
    shutil.chown(workdir, "postgres")
    as_pg = ["runuser", "-u", "postgres", "--"]
    subprocess.run(as_pg + [f"{PG_BIN}/initdb", "-D", pgdata, "-A", "trust", "-U", "postgres", "-E", "UTF8",
                            "--locale=C"], check=True, stdout=subprocess.DEVNULL)
    proc = subprocess.Popen(
        as_pg + [f"{PG_BIN}/postgres", "-D", pgdata, "-p", str(PG_PORT), "-k", workdir]
        + [a for s in PG_SETTINGS + list(extra) for a in ("-c", s)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            psycopg.connect(pg_dsn()).close()
            return proc
        except psycopg.OperationalError:
            time.sleep(0.1)
    stop_postgres(proc, workdir)
    raise SystemExit("postgres did not start")


def load_postgres():
    pgtype = {"VARCHAR": "text", "DATE": "date", "BOOLEAN": "boolean", "INTEGER": "integer", "BIGINT": "bigint",
              "DOUBLE": "double precision", "DECIMAL(12,2)": "numeric(12,2)"}
    with psycopg.connect(pg_dsn(), autocommit=True) as c:
        for t in TABLES:
            path = f"{DATA}/{t}.parquet"
            cols = duckdb.sql(f"DESCRIBE SELECT * FROM '{path}'").fetchall()
            ddl = ", ".join(f"{name} {pgtype.get(ty, 'text')}" for name, ty, *_ in cols)
            csv = os.path.join(tempfile.gettempdir(), f"zj_qbench_{t}.csv")
            duckdb.sql(f"COPY (SELECT * FROM '{path}') TO '{csv}' (HEADER, DELIMITER ',')")
            c.execute(f"DROP TABLE IF EXISTS {t}")
            c.execute(f"CREATE TABLE {t} ({ddl})")
            with c.cursor().copy(f"COPY {t} FROM STDIN WITH (FORMAT csv, HEADER)") as cp:
                with open(csv, "rb") as f:
                    while chunk := f.read(1 << 20):
                        cp.write(chunk)
            os.remove(csv)
        for i, spec in enumerate(PG_INDEXES):
            c.execute(f"CREATE INDEX bench_{i} ON {spec}")
        c.execute("VACUUM ANALYZE")


def duck():
    con = duckdb.connect()
    for t in TABLES:
        con.execute(f"CREATE VIEW {t} AS SELECT * FROM '{DATA}/{t}.parquet'")
    return con


def timed(run, reps=None):
    run()  # warm-up
    times = []
    for _ in range(reps or REPS):
        t = time.perf_counter()
        run()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def normal(rows, drop):
    """Rows as comparable tuples: masked columns left out, numbers to 9
    significant digits, dates as ISO text; sorted (a multiset)."""
    def value(v):
        if isinstance(v, (float, decimal.Decimal)):
            return float(f"{float(v):.9g}")
        if isinstance(v, (datetime.date, datetime.datetime)):
            return v.isoformat()
        return v
    return sorted((tuple(value(v) for i, v in enumerate(r) if i not in drop) for r in rows), key=repr)


def constants():
    """Constants inside the grid user's area, so every level finds them."""
    con = duck()
    grid_area = "370602001001001"
    pid, phone, town = con.execute(
        f"SELECT id_number, phone, town_code FROM persons WHERE grid_code LIKE '{grid_area}%' "
        "AND phone IS NOT NULL ORDER BY id_number LIMIT 1").fetchall()[0]
    uscc = con.execute(f"SELECT min(credit_code) FROM enterprises WHERE grid_code LIKE '{grid_area}%'").fetchall()[0][0]
    return {"ID": pid, "PHONE": phone, "USCC": uscc, "VILLAGE": grid_area[:12], "TOWN": town}


def main():
    gov_catalog, open_catalog = bench_catalog()
    import tomllib
    with open(gov_catalog, "rb") as f:
        areas = {u["name"]: u["area"] for u in tomllib.load(f)["users"]}
    consts = constants()
    work = tempfile.mkdtemp(prefix="zj-qbench-")
    os.chmod(work, 0o755)
    zj = start_zhenjie(gov_catalog, ZJ_PORT)
    zo = start_zhenjie(open_catalog, OPEN_PORT)
    pg = start_postgres(os.path.join(work, "pg"))
    con = duck()
    results, problems = [], []
    try:
        log("loading PostgreSQL …")
        load_postgres()
        pgc = psycopg.connect(pg_dsn(), cursor_factory=psycopg.ClientCursor)
        open_conn = psycopg.connect(zj_dsn("admin", OPEN_PORT), cursor_factory=psycopg.ClientCursor)
        open_prep = psycopg.connect(zj_dsn("admin", OPEN_PORT))
        for user, level, pii in USERS:
            if ONLY_USERS and user not in ONLY_USERS:
                continue
            fence = None if level == "city" else prefix(areas[user], level)
            # Simple protocol (as psql sends), and prepared statements.
            gov_conn = psycopg.connect(zj_dsn(user, ZJ_PORT), cursor_factory=psycopg.ClientCursor)
            prep_conn = psycopg.connect(zj_dsn(user, ZJ_PORT))
            for name, (template, masked_filter) in QUERIES.items():
                if ONLY and name not in ONLY:
                    continue
                if masked_filter and not pii:
                    continue
                zsql = sql_for(template, consts, None)
                fsql = sql_for(template, consts, fence)
                cur = gov_conn.execute(zsql)
                got = cur.fetchall()
                cols = [d.name for d in cur.description]
                drop = set() if pii else {i for i, c in enumerate(cols) if c in MASKED}
                want_duck = con.execute(fsql).fetchall()
                want_pg = pgc.execute(fsql).fetchall()
                if normal(got, drop) != normal(want_duck, drop):
                    problems.append(f"{user}: {name}: zhenjie {len(got)} rows != DuckDB {len(want_duck)} rows\n  {fsql}")
                if normal(want_pg, drop) != normal(want_duck, drop):
                    problems.append(f"{user}: {name}: PostgreSQL != DuckDB\n  {fsql}")
                if not got:
                    problems.append(f"{user}: {name}: no rows (the case measures nothing)")
                t_gov = timed(lambda: gov_conn.execute(zsql).fetchall())
                t_prep = timed(lambda: prep_conn.execute(zsql, prepare=True).fetchall())
                t_open = timed(lambda: open_conn.execute(fsql).fetchall())
                t_open_prep = timed(lambda: open_prep.execute(fsql, prepare=True).fetchall())
                t_duck = timed(lambda: con.execute(fsql).fetchall())
                t_pg = timed(lambda: pgc.execute(fsql).fetchall())
                results.append((user, level, name, len(got), t_gov, t_prep, t_open, t_open_prep, t_duck, t_pg))
                log(f"{user:8} {name:45} rows {len(got):7}  zj {t_gov*1e3:7.1f}  prep {t_prep*1e3:7.1f}  "
                    f"open {t_open*1e3:7.1f}  open prep {t_open_prep*1e3:7.1f}  duck {t_duck*1e3:7.1f}  "
                    f"pg {t_pg*1e3:7.1f} ms")
            gov_conn.close()
            prep_conn.close()
    finally:
        for p in (zj, zo):
            p.terminate()
            p.wait()
        stop_postgres(pg, os.path.join(work, "pg"))
        shutil.rmtree(work, ignore_errors=True)

    print(f"persons: {PERSONS:,}; medians of {REPS} runs after a warm-up; psycopg {psycopg.__version__}, "
          f"DuckDB {duckdb.__version__}, PostgreSQL 15 with {len(PG_INDEXES)} indexes; answers checked: "
          f"{'all agree' if not problems else f'{len(problems)} PROBLEMS'}\n")
    print("| user (level) | query | rows | zhenjie | ungoverned | DuckDB | PostgreSQL | zj / DuckDB | zj / PG | "
          "governed / ungoverned | prepared: zhenjie | prepared: ungoverned | prepared: governed / ungoverned |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for user, level, name, n, g, p, o, op, d, pgt in results:
        print(f"| {user} ({level}) | {name} | {n} | {g*1e3:.1f} ms | {o*1e3:.1f} ms | {d*1e3:.1f} ms | "
              f"{pgt*1e3:.1f} ms | {g/d:.2f}× | {g/pgt:.2f}× | {g/o:.2f}× | {p*1e3:.1f} ms | {op*1e3:.1f} ms | "
              f"{p/op:.2f}× |")
    print()
    by_level = {}
    for user, level, name, n, g, p, o, op, d, pgt in results:
        by_level.setdefault(level, []).append((g / d, g / pgt, g / o, p / op))
    gm = statistics.geometric_mean
    print("| level | queries | within 1.3× DuckDB | faster than PostgreSQL | governance within 5% | "
          "geomean zj / DuckDB | geomean governed / ungoverned | prepared: governance within 5% | "
          "prepared: geomean governed / ungoverned |")
    print("|---|---|---|---|---|---|---|---|---|")
    for level, rs in by_level.items():
        print(f"| {level} | {len(rs)} | {sum(r[0] <= 1.3 for r in rs)} | {sum(r[1] < 1 for r in rs)} | "
              f"{sum(r[2] <= 1.05 for r in rs)} | {gm([r[0] for r in rs]):.2f}× | {gm([r[2] for r in rs]):.2f}× | "
              f"{sum(r[3] <= 1.05 for r in rs)} | {gm([r[3] for r in rs]):.2f}× |")
    for p in problems:
        print("\nPROBLEM: " + p)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
