#!/usr/bin/env python3
"""Scenario benchmark: every scenario of the demo catalog (policy_gaps and the
clue, profile and map views) through the wire as a town user and a city user,
against DuckDB in-process running the same SQL over the same Parquet files
with the fence written out; and all report templates for every town.

    bash benches/scenario_bench.sh        # builds, generates the city, runs this

Prints a Markdown table (medians of REPS warm runs, and the first, cold run)
to paste into docs/benchmarks.md with the command line. Environment: ZJ_BIN,
ZJ_DATA, PERSONS, REPS.
"""

import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tomllib

import duckdb
import psycopg

ZJ_BIN = os.environ.get("ZJ_BIN", "target/release/zhenjie")
DATA = os.path.abspath(os.environ.get("ZJ_DATA", "data/scenario-1000000"))
PERSONS = int(os.environ.get("PERSONS", "1000000"))
REPS = int(os.environ.get("REPS", "3"))
PORT = 55437

# (scenario, SQL run through zhenjie; DuckDB runs the same text)
SCENARIOS = [
    ("policy_gaps (21 rules)", "SELECT * FROM policy_gaps"),
    ("disability_changes (as_of)", "SELECT * FROM disability_changes"),
    ("moved_out_of_grid", "SELECT * FROM moved_out_of_grid"),
    ("deceased_still_paid", "SELECT * FROM deceased_still_paid"),
    ("card_expansion", "SELECT * FROM card_expansion"),
    ("farmer_asset_check", "SELECT * FROM farmer_asset_check"),
    ("enterprise_profile", "SELECT * FROM enterprise_profile"),
    ("safety_reminders", "SELECT * FROM safety_reminders"),
    ("vehicle_households", "SELECT * FROM vehicle_households"),
    ("map_points", "SELECT * FROM map_points"),
]
USERS = [("town", "town"), ("city", "admin")]


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def ensure_city():
    if not os.path.exists(os.path.join(DATA, "catalog.toml")):
        log(f"generating a {PERSONS}-person demo city into {DATA}")
        subprocess.run([ZJ_BIN, "demo", "--persons", str(PERSONS), "--out", DATA], check=True)


def dsn(user):
    return f"host=127.0.0.1 port={PORT} user={user} password=demo dbname=zhenjie"


def start_zhenjie():
    """Starts the server and waits until it has answered the policy rules
    for the city (it does so in the background once it listens); returns
    the process and how long that took, as the server reports it."""
    proc = subprocess.Popen(
        [ZJ_BIN, "serve", "--catalog", os.path.join(DATA, "catalog.toml"), "--listen", f"127.0.0.1:{PORT}"],
        stderr=subprocess.PIPE, text=True,
    )
    for line in proc.stderr:
        m = re.search(r"policy rules answered for the city: (\d+) gaps in ([\d.]+) s", line)
        if m:
            threading.Thread(target=lambda: [None for _ in proc.stderr], daemon=True).start()
            return proc, float(m.group(2))
        if "warning: policy rules" in line:
            raise SystemExit(line)
    raise SystemExit("zhenjie did not start")


def timed(run):
    t = time.perf_counter()
    n = run()
    return time.perf_counter() - t, n


def zj_runner(user, sql):
    conn = psycopg.connect(dsn(user))

    def run():
        with conn.cursor() as cur:
            cur.execute(sql)
            return len(cur.fetchall())

    return conn, run


# --- DuckDB with the fence written out ----------------------------------------


def catalog():
    with open(os.path.join(DATA, "catalog.toml"), "rb") as f:
        return tomllib.load(f)


def duck_for(cat, prefix):
    """A DuckDB connection whose tables are the catalog's datasets fenced to
    `prefix` (None: the city), the views and rules of the catalog over them."""
    con = duckdb.connect()
    con.execute("SET threads = 2")
    con.execute(f"CREATE MACRO reference_date() AS DATE '{cat.get('reference_date', '2024-06-30')}'")
    con.execute(
        "CREATE MACRO safety_risk_grade(n, h, m, o) AS CASE "
        "WHEN (m >= 1 AND o >= 1) OR m >= 3 THEN '重大风险' "
        "WHEN m >= 1 OR o >= 3 OR (n > 0 AND h / n >= 2) THEN '较大风险' "
        "WHEN o >= 1 OR (n > 0 AND h / n >= 0.5) THEN '一般风险' "
        "WHEN n = 0 AND h = 0 THEN '未评级' ELSE '低风险' END"
    )
    datasets = {d["name"]: d for d in cat["datasets"]}

    def files(d, load=None):
        loc = os.path.join(DATA, d["location"])
        if d.get("snapshots"):
            loads = sorted(x for x in os.listdir(loc) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", x))
            loc = os.path.join(loc, load or loads[-1])
            return f"read_parquet('{loc}/*.parquet')", loads
        return f"read_parquet('{loc}')", None

    fence = (lambda col: f"starts_with({col}, '{prefix}')") if prefix else (lambda col: "true")
    ordered = sorted(datasets.values(), key=lambda d: d.get("placement", {}).get("kind") == "key")
    for d in ordered:
        src, loads = files(d)
        p = d.get("placement", {})
        if p.get("kind") == "column":
            where = fence(p["column"])
        elif p.get("kind") == "key":
            where = f"{p['column']} IN (SELECT {p['dataset_column']} FROM {p['dataset']})"
        else:
            where = "true"
        con.execute(f"CREATE VIEW {d['name']} AS SELECT * FROM {src} WHERE {where}")
        if loads and len(loads) > 1:
            old, _ = files(d, loads[-2])
            con.execute(
                f"CREATE VIEW {d['name']}__previous AS SELECT * FROM {old} WHERE {fence(p['column'])}"
            )
    for v in cat.get("views", []):
        sql = re.sub(r"as_of\('(\w+)', -1\)", r"\1__previous", v["sql"])
        con.execute(f"CREATE VIEW {v['name']} AS {sql}")
    # policy_gaps: the rules compiled as the engine compiles them.
    parts = []
    for r in cat.get("rules", []):
        served, cond = r["served"]["dataset"], r["served"].get("where", "true")
        force = " AND ".join(
            ["true"]
            + ([f"reference_date() >= DATE '{r['effective_from']}'"] if r.get("effective_from") else [])
            + ([f"reference_date() < DATE '{r['effective_to']}'"] if r.get("effective_to") else [])
        )
        q = lambda s: s.replace("'", "''")
        head = f"'{q(r['name'])}' AS rule, '{q(r['title'])}' AS title, '{q(r['group'])}' AS group_type, '{q(r['benefit'])}' AS benefit"
        parts.append(
            f"SELECT {head}, 'unserved' AS gap, p.id_number, p.name, p.grid_code, '符合条件未享受' AS reason "
            f"FROM persons p WHERE ({r['eligible']}) AND ({force}) "
            f"AND NOT EXISTS (SELECT 1 FROM {served} s WHERE s.id_number = p.id_number AND ({cond}))"
        )
        reason = "CASE WHEN p.id_number IS NULL THEN '户籍已迁出或注销' " + f"WHEN NOT ({force}) THEN '政策未生效或已到期' "
        for e in r.get("exits", []):
            reason += f"WHEN ({e['when']}) THEN '{q(e['reason'])}' "
        reason += "ELSE '不再符合条件' END"
        parts.append(
            f"SELECT {head}, 'ineligible' AS gap, sv.k AS id_number, p.name, coalesce(p.grid_code, sv.a) AS grid_code, {reason} AS reason "
            f"FROM (SELECT s.id_number AS k, min(s.grid_code) AS a FROM {served} s WHERE ({cond}) GROUP BY s.id_number) sv "
            f"LEFT JOIN persons p ON p.id_number = sv.k "
            f"WHERE NOT EXISTS (SELECT 1 FROM persons p WHERE p.id_number = sv.k AND ({r['eligible']}) AND ({force}))"
        )
    if parts:
        # The city's answer, fenced by the person's grid (as zhenjie does).
        con.execute(f"CREATE VIEW policy_gaps AS {' UNION ALL '.join(parts)}")
    return con


def duck_city_policy(cat, prefix):
    """policy_gaps as zhenjie answers it below the city: the city's answer,
    then the fence on its grid."""
    con = duck_for(cat, None)
    if prefix:
        con.execute("ALTER VIEW policy_gaps RENAME TO policy_gaps_city")
        con.execute(f"CREATE VIEW policy_gaps AS SELECT * FROM policy_gaps_city WHERE starts_with(grid_code, '{prefix}')")
    return con


def prefix_of(cat, user):
    u = next(x for x in cat["users"] if x["name"] == user)
    code, level = u["area"], u["level"]
    return None if level == "city" else code[: {"county": 6, "town": 9, "village": 12, "grid": 15}[level]]


def main():
    ensure_city()
    cat = catalog()
    zj, prepared = start_zhenjie()
    log(f"policy rules answered for the city at start in {prepared:.1f} s")
    rows = []
    try:
        for label, user in USERS:
            prefix = prefix_of(cat, user)
            duck = duck_for(cat, prefix)
            duck_policy = duck_city_policy(cat, prefix)
            for name, sql in SCENARIOS:
                conn, run = zj_runner(user, sql)
                cold, n = timed(run)
                warm = statistics.median(timed(run)[0] for _ in range(REPS))
                conn.close()
                con = duck_policy if sql.endswith("policy_gaps") else duck
                dcold, dn = timed(lambda: len(con.execute(sql).fetchall()))
                dwarm = statistics.median(timed(lambda: len(con.execute(sql).fetchall()))[0] for _ in range(REPS))
                rows.append((name, label, n, cold, warm, dn, dwarm))
                log(f"{label} {name}: {n} rows, zhenjie cold {cold*1e3:.0f} ms warm {warm*1e3:.0f} ms; DuckDB {dn} rows {dwarm*1e3:.0f} ms")
    finally:
        zj.terminate()
        zj.wait()
    with tempfile.TemporaryDirectory() as out:
        t = time.perf_counter()
        subprocess.run(
            [ZJ_BIN, "report", "--each-town", "--as", "admin", "--catalog", os.path.join(DATA, "catalog.toml"), "--out", out],
            check=True, stderr=subprocess.DEVNULL,
        )
        each_town = time.perf_counter() - t
        towns = len(os.listdir(out))
    print(f"| scenario | user | rows | zhenjie cold | zhenjie warm (median of {REPS}) | DuckDB rows | DuckDB (median) | warm ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for name, label, n, cold, warm, dn, dwarm in rows:
        print(f"| {name} | {label} | {n} | {cold*1e3:.0f} ms | {warm*1e3:.0f} ms | {dn} | {dwarm*1e3:.0f} ms | {warm/dwarm:.2f}× |")
    print()
    print(f"Policy rules answered for the whole city when the server starts (in the background): {prepared:.1f} s")
    print(f"All {len(cat.get('reports', []))} templates for every town ({towns} workbooks, as admin): {each_town:.1f} s")


if __name__ == "__main__":
    main()
