#!/usr/bin/env python3
"""Runs every statement of a tests/clients/sql/*.sql file over psycopg 3 and prints one line each:

    ok <n> <tool: what> (<rows> rows)        or        FAIL <n> <tool: what>: [SQLSTATE] message

    python3 tests/clients/python/run_sql.py HOST PORT USER FILE [-v]

Statements go in the simple query protocol (as Npgsql's type loading and Grafana's pgx Exec send
them); tests/clients/java/RunSql.java runs the same files over the extended protocol. File format:
blocks separated by blank lines; a block is "-- tool: what" comment lines and one statement ending
with ";". Password: PGPASSWORD, else demo; database: PGDATABASE, else zhenjie. With -v, prints the
first row of each result. Exits 1 if any statement failed.
"""

import os
import re
import sys

import psycopg


def parse(text):
    blocks = []
    for block in re.split(r"\r?\n\s*\r?\n", text):
        label, sql = None, []
        for line in block.splitlines():
            if not sql and line.strip().startswith("--"):
                label = line.strip()[2:].strip()
            elif line.strip():
                sql.append(line)
        stmt = "\n".join(sql).strip()
        if stmt:
            blocks.append((label, stmt[:-1] if stmt.endswith(";") else stmt))
    return blocks


def main():
    if len(sys.argv) < 5:
        print("usage: run_sql.py HOST PORT USER FILE [-v]", file=sys.stderr)
        return 2
    host, port, user, path = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    verbose = "-v" in sys.argv[5:]
    with open(path, encoding="utf-8") as f:
        blocks = parse(f.read())
    kw = dict(host=host, port=port, user=user, dbname=os.environ.get("PGDATABASE", "zhenjie"),
              password=os.environ.get("PGPASSWORD", "demo"), autocommit=True, connect_timeout=10)
    failed = 0
    conn = None
    for n, (label, sql) in enumerate(blocks, 1):
        try:
            if conn is None or conn.closed:
                conn = psycopg.connect(**kw)
            cur = conn.execute(sql)
            if cur.description is not None:
                rows = cur.fetchall()
                line = f"ok {n} {label} ({len(rows)} rows)"
                if verbose and rows:
                    first = " | ".join(f"{d.name}={str(v)[:60]}" for d, v in zip(cur.description, rows[0]))
                    line += f"\n    {first}"
                print(line)
            else:
                print(f"ok {n} {label}")
        except psycopg.Error as e:
            failed += 1
            msg = " ".join(str(e).split())
            print(f"FAIL {n} {label}: [{e.sqlstate}] {msg[:400]}")
            if conn is not None and conn.broken:
                conn = None
        sys.stdout.flush()
    if conn is not None:
        conn.close()
    print(f"# {len(blocks) - failed} ok, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
