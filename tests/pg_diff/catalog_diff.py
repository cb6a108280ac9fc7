#!/usr/bin/env python3
"""Compares zhenjie's answers to catalog and introspection SQL with PostgreSQL 15's, same schema.

    python3 tests/pg_diff/catalog_diff.py --zj HOST:PORT --zj-user admin --zj-password demo \
        --pg HOST:PORT [--pg-superuser postgres] [--owner ROLE] [--bless] [-v]

1. Mirror: reads zhenjie's schema public (tables, views, column types, NOT NULL, comments,
   functions) and recreates it without rows in database zhenjie of the PostgreSQL server (trust
   authentication), owned by a role named like the zhenjie user, so that both servers describe the
   same objects. The database is dropped and recreated on every run. Aggregates are not mirrored
   (no stand-in for one whose state is record[]); that shows as a difference.
2. Section psql: psql meta-commands on both, as the zhenjie user; compares what psql prints
   (unaligned stdout, stderr and exit status).
3. Section clients: every statement of tests/clients/sql/{bi,jdbc}_tools.sql on both, in file
   order, one session per side, simple protocol, autocommit; compares column names, row count and
   values as text. Both sides failing counts as agreeing.

Prints "ok <section> <n> <label>" or "FAIL <section> <n> <label>: <reason>" per check; a reason
starts "error:" when zhenjie fails where PostgreSQL answers (the worst kind: a tool breaks) and
"differs:" otherwise. Known disagreements: tests/pg_diff/catalog_known_gaps, lines
<section>TAB<key>TAB<reason>, key = the meta-command or the whole statement (without its final ";")
with every run of white space made one space. Exits 1 on an unlisted failure, a listed check that
now agrees or a listed key that is no check; --bless rewrites the file from this run instead.

Normalisation: only what is specific to one installation or to the empty mirror.
 N1 OIDs. In a column typed oid, reg*, oidvector or oid[] on either side, or named oid or *oid,
    every number >= 12000 becomes <oid>: FirstUnpinnedObjectId, above which initdb (system views,
    information_schema) and CREATE assign OIDs, so they differ between versions and installations.
    Lower OIDs are fixed in PostgreSQL's catalog headers and clients rely on them (Npgsql and
    pgjdbc map types by OID; public is 2200), so they still compare. The same for a name followed
    by _<oid> (pgjdbc's SPECIFIC_NAME is proname || '_' || oid; pg_toast_<oid>).
 N2 Transaction ids (columns typed xid/xid8/cid, or named *xid or *xmin) become <xid>.
 N3 Versions: columns named version, server_version or server_version_num become <version>; the
    builds differ and zhenjie reports its own version on purpose.
 N4 Sizes and statistics describe data, which the mirror lacks: columns named *size*, *bytes,
    relpages, reltuples, relallvisible, n_live_tup, estimated_row_count, cardinality or pages
    become <stat>, as do the values of the Size column in psql output.
 N5 The mirror's views and functions are stand-ins (SELECT CAST(NULL AS t) ... WHERE false), so
    their bodies do not compare: psql's "View definition:" footer and "Source code" column, and
    columns named *viewdef*, *functiondef*, prosrc or definition become <body>.
 N6 A statement reading rows of a mirrored table or view compares column names and types only:
    the mirror has no rows, but the column types a tool is sent still matter.
 N7 Rows compare as multisets; in a statement with ORDER BY, their order too.
"""

import argparse
import collections
import difflib
import os
import re
import subprocess
import sys

import psycopg
from psycopg import pq, sql
from psycopg.conninfo import make_conninfo

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
GAPS = os.path.join(HERE, "catalog_known_gaps")
CLIENT_FILES = ["tests/clients/sql/bi_tools.sql", "tests/clients/sql/jdbc_tools.sql"]
DB = "zhenjie"

# What psql users type; the pattern forms take other paths through psql's describe.c.
PSQL_COMMANDS = [
    r"\l", r"\l+", r"\dn", r"\dn+", r"\dt", r"\dt+", r"\d", r"\d+", r"\d persons", r"\d+ persons",
    r"\d areas", r"\d village_population", r"\d+ village_population", r"\dv", r"\dv+", r"\dm",
    r"\di", r"\ds", r"\dE", r"\df", r"\df+", r"\da", r"\dT", r"\dT+", r"\du", r"\dg", r"\dp",
    r"\z", r"\ddp", r"\dx", r"\dx+", r"\dd", r"\dD", r"\dc", r"\dC", r"\do", r"\dy", r"\db",
    r"\des", r"\dew", r"\det", r"\deu", r"\dRp", r"\dRs", r"\dconfig", r"\dA", r"\dL", r"\dF",
    r"\drds", r"\dP", r"\dO", r"\dX", r"\dl", r"\dt pers*", r"\d public.*", r"\df *id*",
    r"\dv report*", r"\dconfig *time*", r"\dT *int*", r"\dS pg_class", r"\d nonexistent",
]

OID_TYPES = {26, 24, 2202, 2203, 2204, 2205, 2206, 3734, 3769, 4089, 4096, 4191, 30, 1028, 2207}
XID_TYPES = {28, 5069, 29}
TYPE_NAMES = {16: "bool", 18: "char", 19: "name", 20: "int8", 21: "int2", 23: "int4", 25: "text",
              26: "oid", 700: "float4", 701: "float8", 705: "unknown", 1043: "varchar",
              1082: "date", 1114: "timestamp", 1184: "timestamptz", 1186: "interval",
              1700: "numeric", 1009: "text[]"}
STAT_NAME = re.compile(r"size|bytes$|^(relpages|reltuples|relallvisible|n_live_tup|"
                       r"estimated_row_count|cardinality|pages)$", re.I)
BODY_NAME = re.compile(r"viewdef|functiondef|^prosrc$|^definition$", re.I)
READS_ROWS = re.compile(r"\b(?:from|join)\s+(?:\"?public\"?\s*\.\s*)?\"?(\w+)\"?", re.I)


def hostport(text):
    host, _, port = text.rpartition(":")
    return host, int(port)


def one_line(text, limit=220):
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


# ---------------------------------------------------------------- 1. mirror

def read_zhenjie_schema(zj):
    """Relations, columns and functions of schema public, as zhenjie's pg_catalog has them."""
    rels = zj.execute(
        "SELECT c.relname, c.relkind, obj_description(c.oid, 'pg_class') FROM pg_class c"
        " JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v') ORDER BY 1").fetchall()
    cols = collections.defaultdict(list)
    for rel, *col in zj.execute(
            "SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,"
            " col_description(c.oid, a.attnum) FROM pg_attribute a"
            " JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'public' AND a.attnum > 0 ORDER BY c.relname, a.attnum"):
        cols[rel].append(col)
    funcs = zj.execute(
        "SELECT p.proname, pg_get_function_arguments(p.oid), pg_get_function_result(p.oid),"
        " p.prokind, p.provolatile, obj_description(p.oid, 'pg_proc') FROM pg_proc p"
        " JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'"
        " ORDER BY 1").fetchall()
    return rels, cols, funcs


def mirror(args):
    zh, zp = hostport(args.zj)
    with psycopg.connect(host=zh, port=zp, user=args.zj_user, password=args.zj_password,
                         dbname=DB, autocommit=True, connect_timeout=10) as zj:
        rels, cols, funcs = read_zhenjie_schema(zj)
    (ph, pp), q = hostport(args.pg), sql.SQL
    role, owner = sql.Identifier(args.zj_user), sql.Identifier(args.owner or args.zj_user)
    with psycopg.connect(host=ph, port=pp, user=args.pg_superuser, dbname="postgres",
                         autocommit=True, connect_timeout=10) as pg:
        if not pg.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [args.zj_user]).fetchone():
            pg.execute(q("CREATE ROLE {} LOGIN").format(role))
        if args.owner and not pg.execute("SELECT 1 FROM pg_roles WHERE rolname = %s",
                                         [args.owner]).fetchone():
            pg.execute(q("CREATE ROLE {} NOLOGIN").format(owner))
        pg.execute(q("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DB)))
        pg.execute(q("CREATE DATABASE {} OWNER {}").format(sql.Identifier(DB), owner))
    skipped = []
    with psycopg.connect(host=ph, port=pp, user=args.pg_superuser, dbname=DB,
                         autocommit=True, connect_timeout=10) as pg:
        for rel, kind, comment in rels:
            name, what = sql.Identifier("public", rel), q("TABLE" if kind == "r" else "VIEW")
            if kind == "r":
                body = q(", ").join(q("{} {}" + (" NOT NULL" if nn else "")).format(
                    sql.Identifier(c), q(t)) for c, t, nn, _ in cols[rel])
                pg.execute(q("CREATE TABLE {} ({})").format(name, body))
            else:  # so that psql lists it as a view, with the same columns
                body = q(", ").join(q("CAST(NULL AS {}) AS {}").format(q(t), sql.Identifier(c))
                                    for c, t, _, _ in cols[rel])
                pg.execute(q("CREATE VIEW {} AS SELECT {} WHERE false").format(name, body))
            pg.execute(q("ALTER {} {} OWNER TO {}").format(what, name, owner))
            if args.owner:
                pg.execute(q("GRANT SELECT ON {} TO {}").format(name, role))
            if comment is not None:
                pg.execute(q("COMMENT ON {} {} IS {}").format(what, name, comment))
            for c, _, _, ccomment in cols[rel]:
                if ccomment is not None:
                    pg.execute(q("COMMENT ON COLUMN {}.{} IS {}").format(
                        name, sql.Identifier(c), ccomment))
        for fname, fargs, result, kind, vol, comment in funcs:
            sig = q("{}({})").format(sql.Identifier("public", fname), q(fargs))
            if kind != "f":  # no stand-in for an aggregate: its state type may be record[]
                skipped.append(f"{fname}({fargs}) {result}: prokind {kind}")
                continue
            try:
                pg.execute(q("CREATE FUNCTION {} RETURNS {} LANGUAGE sql {} AS {}").format(
                    sig, q(result), q({"i": "IMMUTABLE", "s": "STABLE"}.get(vol, "VOLATILE")),
                    f"SELECT NULL::{result}"))
                pg.execute(q("ALTER FUNCTION {} OWNER TO {}").format(sig, owner))
                if comment is not None:
                    pg.execute(q("COMMENT ON FUNCTION {} IS {}").format(sig, comment))
            except psycopg.Error as e:
                skipped.append(f"{fname}({fargs}) {result}: {one_line(e, 80)}")
    print(f"# mirrored {sum(k == 'r' for _, k, _ in rels)} tables, "
          f"{sum(k == 'v' for _, k, _ in rels)} views, {len(funcs) - len(skipped)} functions "
          f"of schema public into PostgreSQL database {DB}, owner {args.owner or args.zj_user}")
    for s in skipped:
        print(f"# not mirrored: function {s}")
    return {rel for rel, _, _ in rels}


# ---------------------------------------------------------------- 2. psql

def psql(server, user, password, command):
    """What psql prints (N4, N5 applied) and its stderr."""
    host, port = hostport(server)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update(PGPASSWORD=password or "", PGCLIENTENCODING="UTF8", PGCONNECT_TIMEOUT="10")
    try:
        p = subprocess.run(["psql", "-X", "-w", "-A", "-F", "|", "-P", "pager=off", "-h", host,
                            "-p", str(port), "-U", user, "-d", DB, "-c", command],
                           env=env, capture_output=True, text=True, timeout=120)
        out, err, rc = p.stdout, p.stderr, p.returncode
    except subprocess.TimeoutExpired:
        out, err, rc = "", "ERROR:  psql timed out after 120 s", -1
    lines, header, in_body = [], None, False
    for line in out.splitlines():
        if in_body and not line.startswith(("Options:", "Rules:", "Triggers:")):
            continue
        in_body = line == "View definition:"
        fields = line.split("|")
        if in_body:
            fields = [line + "\n<body>"]
        elif "Size" in fields or "Source code" in fields:
            header = fields
        elif header and len(fields) == len(header):
            fields = [{"Size": "<stat>", "Source code": "<body>"}.get(h, f)
                      for f, h in zip(fields, header)]
        elif re.fullmatch(r"\(\d+ rows?\)", line):
            header = None
        lines.append("|".join(fields))
    text = "".join(s + "\n" for s in lines) + (f"[stderr]\n{err}" if err else "")
    return text + f"[exit {rc}]\n", err


def psql_checks(args):
    for cmd in PSQL_COMMANDS:
        zj, zj_err = psql(args.zj, args.zj_user, args.zj_password, cmd)
        pg, pg_err = psql(args.pg, args.zj_user, None, cmd)
        reason, errors = None, [s for s in zj_err.splitlines() if "ERROR:" in s or "error:" in s]
        if zj != pg and errors and "ERROR:" not in pg_err:
            reason = "error: " + one_line(errors[0].split("ERROR:")[-1])
        elif zj != pg:
            a, b = zj.splitlines(), pg.splitlines()
            ops = [o for o in difflib.SequenceMatcher(None, a, b, False).get_opcodes()
                   if o[0] != "equal"] or [("replace", 0, 1, 0, 1)]  # or only white space differs
            at = lambda lines, k: repr(one_line(lines[k], 90)) if k < len(lines) else "(none)"
            _, i, _, j, _ = ops[0]
            n = sum(max(i2 - i1, j2 - j1) for _, i1, i2, j1, j2 in ops)
            reason = (f"differs: {n} of {len(b)} lines, first zj line {i + 1} {at(a, i)} "
                      f"pg line {j + 1} {at(b, j)}")
        yield "psql", cmd, cmd, reason, (zj, pg)


# ---------------------------------------------------------------- 3. clients

def parse_sql_file(path):
    """Blocks split by blank lines: "-- tool: what" lines, one statement (as RunSql.java)."""
    with open(path, encoding="utf-8") as f:
        blocks = re.split(r"\r?\n\s*\r?\n", f.read())
    for block in blocks:
        label, lines = None, []
        for line in block.splitlines():
            if not lines and line.strip().startswith("--"):
                label = line.strip()[2:].strip()
            elif line.strip():
                lines.append(line)
        stmt = "\n".join(lines).strip()
        if stmt:
            yield label, stmt[:-1] if stmt.endswith(";") else stmt


class Session:
    """One libpq connection giving text values and every result of a multi-statement query."""

    def __init__(self, server, user, password):
        host, port = hostport(server)
        self.info = make_conninfo(host=host, port=port, user=user, password=password or "",
                                  dbname=DB, connect_timeout=10, client_encoding="UTF8").encode()
        self.conn = None

    def run(self, stmt):
        if self.conn is None or self.conn.status != pq.ConnStatus.OK:
            self.conn = pq.PGconn.connect(self.info)
            if self.conn.status != pq.ConnStatus.OK:
                return [("error", "08006", one_line(self.conn.error_message.decode()))]
        self.conn.send_query(stmt.encode())
        out = []
        while (r := self.conn.get_result()) is not None:
            text = lambda b: None if b is None else b.decode("utf-8", "replace")
            if r.status == pq.ExecStatus.TUPLES_OK:
                out.append(("rows", [text(r.fname(i)) for i in range(r.nfields)],
                            [r.ftype(i) for i in range(r.nfields)],
                            [[text(r.get_value(j, i)) for i in range(r.nfields)]
                             for j in range(r.ntuples)]))
            elif r.status == pq.ExecStatus.COMMAND_OK:
                out.append(("command", text(r.command_status)))
            else:
                out.append(("error", text(r.error_field(pq.DiagnosticField.SQLSTATE)),
                            one_line(text(r.error_field(pq.DiagnosticField.MESSAGE_PRIMARY)), 160)))
        return out


def normalise_rows(names, types_a, types_b, rows):
    """N1-N5 on one result's rows; a column's kind comes from its name and both sides' types."""
    def kind(n, types):
        if types & XID_TYPES or n.endswith(("xid", "xmin")):
            return "<xid>"
        if types & OID_TYPES or n == "oid" or n.endswith("oid"):
            return "oid"
        if n in ("version", "server_version", "server_version_num"):
            return "<version>"
        return "<stat>" if STAT_NAME.search(n) else "<body>" if BODY_NAME.search(n) else None
    kinds = [kind(n.lower(), {s, t}) for n, s, t in zip(names, types_a, types_b)]
    big = lambda m: "<oid>" if int(m.group(0)) >= 12000 else m.group(0)
    def value(v, k):
        if v is None or k is None:  # below: a name with an OID appended
            return v and re.sub(r"(?<=[A-Za-z]_)\d{5,}\b", big, v)
        return re.sub(r"\d+", big, v) if k == "oid" else k
    return [[value(v, k) for v, k in zip(row, kinds)] for row in rows]


def show(row):
    return "(" + ", ".join("NULL" if v is None else v for v in row) + ")"


def rows_reason(names, ra, rb, ordered):
    """Why two normalised row lists differ (None if they agree): as multisets, then in order."""
    sa, sb = (sorted(r, key=lambda r: [(v is None, v or "") for v in r]) for r in (ra, rb))
    if sa == sb:
        if not ordered or ra == rb:
            return None
        j = next(j for j, (r, s) in enumerate(zip(ra, rb)) if r != s)
        return f"differs: same rows, other order from row {j + 1}"
    if len(sa) != len(sb):
        ca, cb = collections.Counter(map(tuple, sa)), collections.Counter(map(tuple, sb))
        only = (["only pg " + one_line(show(r), 90) for r in cb - ca][:1] +
                ["only zj " + one_line(show(r), 90) for r in ca - cb][:1])
        return f"differs: zj {len(sa)} rows, pg {len(sb)}; " + "; ".join(only)
    j = next(j for j, (r, s) in enumerate(zip(sa, sb)) if r != s)
    i = next(i for i, (v, w) in enumerate(zip(sa[j], sb[j])) if v != w)
    return (f"differs: {sum(r != s for r, s in zip(sa, sb))} of {len(sa)} rows, e.g. {names[i]}: "
            f"zj {one_line(repr(sa[j][i]), 70)} pg {one_line(repr(sb[j][i]), 70)}")


def result_reason(x, y, ra, rb, data_only, ordered):
    """Why zhenjie's result x differs from PostgreSQL's y (None if they agree)."""
    if x[0] == "error" and y[0] != "error":
        return f"error: zhenjie fails ({x[1]}: {x[2]})"
    if x[0] != y[0] or x[0] == "command" and x != y:
        return f"differs: zj {one_line(x, 100)}, pg {one_line(y, 100)}"
    if x[0] != "rows":
        return None  # both failed, or the same command tag
    (_, na, ta, _), (_, nb, tb, _) = x, y
    if na != nb:
        k = next((k for k, (m, n) in enumerate(zip(na, nb)) if m != n), None)
        if k is None:
            return f"differs: zj {len(na)} columns, pg {len(nb)}"
        return f"differs: column {k + 1} named zj {na[k]!r} pg {nb[k]!r}"
    if data_only:  # N6
        diff = [f"{n} zj {TYPE_NAMES.get(s, s)} pg {TYPE_NAMES.get(t, t)}"
                for n, s, t in zip(na, ta, tb) if s != t]
        return "differs: column types " + "; ".join(diff) if diff else None
    return rows_reason(na, ra, rb, ordered)


def compare_answers(stmt, a, b, data_only):
    """(reason or None, zhenjie's answer as text, PostgreSQL's) for the answers a and b."""
    ordered = re.search(r"\border\s+by\b", stmt, re.I) is not None  # N7
    reason = f"differs: zj {len(a)} results, pg {len(b)}" if len(a) != len(b) else None
    texts = ([], [])
    for x, y in zip(a, b):
        ra = rb = []
        if x[0] == y[0] == "rows":
            same = len(x[2]) == len(y[2])
            ra = normalise_rows(x[1], x[2], y[2] if same else x[2], x[3])
            rb = normalise_rows(y[1], y[2], x[2] if same else y[2], y[3])
        reason = reason or result_reason(x, y, ra, rb, data_only, ordered)
        for out, r, rows in zip(texts, (x, y), (ra, rb)):
            out += ([" | ".join(r[1]), " ".join(str(TYPE_NAMES.get(t, t)) for t in r[2])] +
                    [show(row) for row in (rows if ordered else sorted(rows, key=str))]
                    if r[0] == "rows" else [repr(r)])
    return reason, "\n".join(texts[0]), "\n".join(texts[1])


def client_checks(args, relations):
    zj = Session(args.zj, args.zj_user, args.zj_password)
    pg = Session(args.pg, args.zj_user, None)
    for path in CLIENT_FILES:
        for label, stmt in parse_sql_file(os.path.join(ROOT, path)):
            a, b = zj.run(stmt), pg.run(stmt)
            data_only = any(m in relations for m in READS_ROWS.findall(stmt))
            reason, za, pa = compare_answers(stmt, a, b, data_only)
            yield "clients", " ".join(stmt.split()), label, reason, (za, pa)


# ---------------------------------------------------------------- main

def load_gaps():
    if not os.path.exists(GAPS):
        return {}
    with open(GAPS, encoding="utf-8") as f:
        rows = [line.rstrip("\n").split("\t") for line in f if line.strip() and line[0] != "#"]
    return {(r[0], r[1]): r[2:] for r in rows if len(r) >= 2}


def write_gaps(failures):
    with open(GAPS, "w", encoding="utf-8") as f:
        f.write("# Checks of tests/pg_diff/catalog_diff.py where zhenjie and PostgreSQL 15\n"
                "# disagree: section<TAB>key (meta-command, or statement with white space runs\n"
                "# made one space)<TAB>reason (error: zhenjie fails; differs: both answer,\n"
                "# differently). Written by catalog_diff.py --bless.\n")
        f.writelines(f"{section}\t{key}\t{reason}\n" for section, key, reason in failures)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--zj", required=True, help="zhenjie HOST:PORT")
    ap.add_argument("--zj-user", default="admin")
    ap.add_argument("--zj-password", default="demo")
    ap.add_argument("--pg", required=True, help="PostgreSQL 15 HOST:PORT (trust authentication)")
    ap.add_argument("--pg-superuser", default="postgres", help="creates the mirror")
    ap.add_argument("--owner", help="owner of the mirrored objects (default: the zhenjie user; "
                    "another role owns them and grants the zhenjie user SELECT)")
    ap.add_argument("--bless", action="store_true", help="rewrite catalog_known_gaps")
    ap.add_argument("-v", action="store_true", help="print a diff under each FAIL")
    args = ap.parse_args()

    relations = mirror(args)
    gaps, failures, seen, problems = load_gaps(), [], set(), []
    totals = collections.Counter()
    for checks in (psql_checks(args), client_checks(args, relations)):
        for n, (section, key, label, reason, (zj, pg)) in enumerate(checks, 1):
            seen.add((section, key))
            totals[section] += 1
            if reason is None:
                totals[section, "ok"] += 1
                print(f"ok {section} {n} {label}")
                if (section, key) in gaps:
                    problems.append(f"now agrees, delete its known gap: {section} {label}")
                continue
            reason = one_line(reason, 300)
            failures.append((section, key, reason))
            print(f"FAIL {section} {n} {label}: {reason}")
            if args.v:
                diff = difflib.unified_diff(zj.splitlines(), pg.splitlines(), "zhenjie",
                                            "postgresql", lineterm="")
                print("".join(f"    {line[:200]}\n" for line in list(diff)[:40]), end="")
            if (section, key) not in gaps:
                problems.append(f"new disagreement: {section} {n} {label}: {reason}")
            sys.stdout.flush()
    problems += [f"listed in catalog_known_gaps but no such check: {s} {one_line(k, 80)}"
                 for s, k in gaps if (s, k) not in seen]
    print(f"catalog_diff: {totals['psql', 'ok'] + totals['clients', 'ok']} of "
          f"{totals['psql'] + totals['clients']} agree (psql {totals['psql', 'ok']}/"
          f"{totals['psql']}, clients {totals['clients', 'ok']}/{totals['clients']})")
    if args.bless:
        write_gaps(failures)
        print(f"# wrote {len(failures)} known gaps to {os.path.relpath(GAPS, ROOT)}")
        return 0
    print("".join(p + "\n" for p in problems), end="")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
