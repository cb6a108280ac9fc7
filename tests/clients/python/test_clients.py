#!/usr/bin/env python3
"""Python client checks against a running zhenjie server (or any PostgreSQL with the demo city).

    python3 tests/clients/python/test_clients.py HOST PORT

Prints "ok NAME" or "FAIL NAME: message" per check and a closing "N passed, N failed" line;
exits 1 if any check failed. Needs psycopg 3, SQLAlchemy 2 and pandas (pip install
"psycopg[binary]" sqlalchemy pandas). Users town, village and admin, password demo, database
zhenjie, as in the demo catalog. Nothing here works around a server shortcoming: each check
does what an application, Superset (SQLAlchemy) or pandas does and asserts what PostgreSQL does.
"""

import csv
import logging
import os
import datetime as dt
import io
import re
import sys
import time
import uuid
from decimal import Decimal

import psycopg
from psycopg.types import TypeInfo

HOST = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
PORT = int(sys.argv[2]) if len(sys.argv) > 2 else 5433
DB = "zhenjie"
PASSWORD = "demo"

CHECKS = []
logging.getLogger("psycopg").setLevel(logging.CRITICAL)  # rollbacks of failed checks are reported by the checks


def check(name):
    def register(fn):
        CHECKS.append((name, fn))
        return fn

    return register


class CheckFailed(Exception):
    pass


def expect(cond, message):
    if not cond:
        raise CheckFailed(message)


def expect_eq(got, want, what):
    if got != want:
        raise CheckFailed(f"{what}: got {got!r}, want {want!r}")


def connect(user="town", **kw):
    return psycopg.connect(host=HOST, port=PORT, dbname=DB, user=user, password=PASSWORD, connect_timeout=10, **kw)


def one(sql, params=None, user="town", binary=False):
    """First row and the description of a statement run on a fresh autocommit connection."""
    with connect(user, autocommit=True) as conn:
        cur = conn.cursor(binary=binary)
        cur.execute(sql, params)
        return cur.fetchone(), cur.description


def scalar(sql, params=None, user="town", binary=False):
    row, _ = one(sql, params, user, binary)
    return row[0]


def wait_for_server(seconds=30):
    deadline = time.time() + seconds
    while True:
        try:
            with connect("town"):
                return
        except psycopg.OperationalError:
            if time.time() > deadline:
                raise
            time.sleep(1)


# ---------------------------------------------------------------- psycopg 3: connection, queries


@check("psycopg: connect as town (SCRAM) and read server parameters")
def _():
    with connect("town") as conn:
        info = conn.info
        expect_eq(info.parameter_status("client_encoding"), "UTF8", "client_encoding")
        expect_eq(info.parameter_status("integer_datetimes"), "on", "integer_datetimes")
        expect_eq(info.parameter_status("standard_conforming_strings"), "on", "standard_conforming_strings")
        expect(info.server_version >= 90600, f"server_version {info.server_version} (from server_version parameter)")
        expect_eq(info.vendor, "PostgreSQL", "vendor")


@check("psycopg: simple query")
def _():
    with connect("town", autocommit=True) as conn:
        expect_eq(conn.execute("SELECT 1 + 1").fetchone()[0], 2, "SELECT 1 + 1")
        n = conn.execute("SELECT count(*) FROM persons").fetchone()[0]
        expect(isinstance(n, int) and n > 0, f"count(*) of persons is {n!r}")
        rows = conn.execute("SELECT name, sex FROM persons ORDER BY id_number LIMIT 5").fetchall()
        expect_eq(len(rows), 5, "rows of LIMIT 5")


@check("psycopg: several statements in one simple query (as Npgsql's type loading sends)")
def _():
    with connect("town", autocommit=True) as conn:
        cur = conn.cursor()
        cur.execute("SELECT 1 AS a; SELECT 'x' AS b, 2 AS c")
        expect_eq(cur.fetchall(), [(1,)], "first result")
        expect(cur.nextset(), "no second result set")
        expect_eq(cur.fetchall(), [("x", 2)], "second result")


@check("psycopg: empty query (pgx Ping sends '-- ping')")
def _():
    with connect("town", autocommit=True) as conn:
        cur = conn.execute("-- ping")
        expect_eq(cur.pgresult.status, psycopg.pq.ExecStatus.EMPTY_QUERY, "result status")


PARAMS = (42, 3.5, Decimal("12.34"), True, "张三", dt.date(2024, 1, 2), dt.datetime(2024, 1, 2, 3, 4, 5), None)


def param_roundtrip(binary):
    row, desc = one("SELECT %s, %s, %s, %s, %s, %s, %s, %s", PARAMS, binary=binary)
    for i, (got, want) in enumerate(zip(row, PARAMS)):
        expect(
            got == want and type(got) is type(want),
            f"parameter ${i + 1} {want!r} came back as {got!r} (result type oid {desc[i].type_code})",
        )


@check("psycopg: parameters round-trip with their types (text format)")
def _():
    param_roundtrip(False)


@check("psycopg: parameters round-trip with their types (binary=True)")
def _():
    param_roundtrip(True)


WHERE_PARAMS = [
    (
        "SELECT count(*) FROM persons WHERE birth_date < %s AND sex = %s AND is_alive = %s",
        (dt.date(1970, 1, 1), "女", True),
        "SELECT count(*) FROM persons WHERE birth_date < DATE '1970-01-01' AND sex = '女' AND is_alive = true",
    ),
    ("SELECT count(*) FROM households WHERE members >= %s", (3,), "SELECT count(*) FROM households WHERE members >= 3"),
    (
        "SELECT count(*) FROM subsidy_payments WHERE amount > %s",
        (Decimal("100.50"),),
        "SELECT count(*) FROM subsidy_payments WHERE amount > 100.50",
    ),
    ("SELECT count(*) FROM areas WHERE lng > %s", (121.3,), "SELECT count(*) FROM areas WHERE lng > 121.3"),
    ("SELECT count(*) FROM persons WHERE phone IS NOT DISTINCT FROM %s", (None,), "SELECT count(*) FROM persons WHERE phone IS NULL"),
]


def where_params(binary):
    with connect("town", autocommit=True) as conn:
        for sql, params, literal in WHERE_PARAMS:
            got = conn.cursor(binary=binary).execute(sql, params).fetchone()[0]
            want = conn.execute(literal).fetchone()[0]
            expect_eq(got, want, f"{sql} with {params!r}")


@check("psycopg: parameters against table columns (int, numeric, float, bool, text, date, NULL)")
def _():
    where_params(False)


@check("psycopg: parameters against table columns, binary=True")
def _():
    where_params(True)


@check("psycopg: array and timestamptz parameters")
def _():
    with connect("town", autocommit=True) as conn:
        ids = [r[0] for r in conn.execute("SELECT id_number FROM persons ORDER BY id_number LIMIT 3")]
    for binary in (False, True):
        mode = "binary" if binary else "text"
        got = scalar("SELECT count(*) FROM persons WHERE id_number = ANY(%s)", (ids + ["nobody"],), binary=binary)
        expect_eq(got, 3, f"id_number = ANY(text[] parameter) ({mode})")
        expect_eq(scalar("SELECT %s::int[]", ([1, 2, 3],), binary=binary), [1, 2, 3], f"int[] parameter ({mode})")
        expect_eq(scalar("SELECT %s::text[]", (["a", "b"],), binary=binary), ["a", "b"], f"text[] parameter ({mode})")
        ts = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
        got = scalar("SELECT %s::timestamptz", (ts,), binary=binary)
        expect(got == ts and got.tzinfo is not None, f"timestamptz parameter ({mode}): got {got!r}, want {ts!r}")


@check("psycopg: server-side (named) cursor with fetchmany reads every row")
def _():
    with connect("town") as conn:
        total = conn.execute("SELECT count(*) FROM persons").fetchone()[0]
        conn.commit()
        with conn.transaction():
            cur = conn.cursor(name="persons_cursor")
            cur.itersize = 500
            cur.execute("SELECT id_number, name, birth_date FROM persons ORDER BY id_number")
            expect_eq([d.name for d in cur.description], ["id_number", "name", "birth_date"], "cursor description")
            seen, batches = 0, 0
            while True:
                rows = cur.fetchmany(700)
                if not rows:
                    break
                seen += len(rows)
                batches += 1
            cur.close()
        expect_eq(seen, total, "rows read through the cursor vs count(*)")
        expect(batches >= 2, f"only {batches} batch(es) for {total} rows")


@check("psycopg: WITH HOLD cursor survives the commit")
def _():
    with connect("town") as conn:
        total = conn.execute("SELECT count(*) FROM households").fetchone()[0]
        conn.commit()
        with conn.cursor(name="households_hold", withhold=True) as cur:
            cur.execute("SELECT household_no FROM households")
            conn.commit()
            expect_eq(len(cur.fetchall()), total, "rows after commit")


@check("psycopg: nested transaction (SAVEPOINT), as conn.transaction() inside a transaction")
def _():
    with connect("town") as conn:
        with conn.transaction():
            conn.execute("SELECT 1")
            with conn.transaction():
                expect_eq(conn.execute("SELECT 2").fetchone()[0], 2, "inner SELECT")


@check("psycopg: TypeInfo.fetch (to_regtype) for int4 and a missing hstore")
def _():
    with connect("town", autocommit=True) as conn:
        info = TypeInfo.fetch(conn, "int4")
        expect(info is not None, "TypeInfo.fetch('int4') is None")
        expect_eq((info.oid, info.array_oid), (23, 1007), "int4 oid and array oid")
        expect(TypeInfo.fetch(conn, "hstore") is None, "TypeInfo.fetch('hstore') is not None")


COPY_QUERY = "SELECT id_number, name, birth_date, phone, is_alive FROM persons ORDER BY id_number LIMIT 300"


def as_copy_text(row):
    out = []
    for v in row:
        if v is None:
            out.append("")
        elif isinstance(v, bool):
            out.append("t" if v else "f")
        elif isinstance(v, dt.date):
            out.append(v.isoformat())
        else:
            out.append(str(v))
    return out


@check("psycopg: COPY (SELECT ...) TO STDOUT WITH (FORMAT csv, HEADER) matches the SELECT")
def _():
    with connect("town", autocommit=True) as conn:
        want = conn.execute(COPY_QUERY).fetchall()
        cur = conn.cursor()
        data = bytearray()
        with cur.copy(f"COPY ({COPY_QUERY}) TO STDOUT WITH (FORMAT csv, HEADER)") as copy:
            for chunk in copy:
                data += chunk
        rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
        expect_eq(rows[0], ["id_number", "name", "birth_date", "phone", "is_alive"], "CSV header")
        expect_eq(len(rows) - 1, len(want), "CSV data rows")
        for got, row in zip(rows[1:], want):
            expect_eq(got, as_copy_text(row), "CSV row")


@check("psycopg: binary COPY TO STDOUT read with copy.rows() after set_types")
def _():
    with connect("town", autocommit=True) as conn:
        want = conn.execute(COPY_QUERY).fetchall()
        cur = conn.cursor()
        with cur.copy(f"COPY ({COPY_QUERY}) TO STDOUT (FORMAT BINARY)") as copy:
            copy.set_types(["text", "text", "date", "text", "bool"])
            got = list(copy.rows())
        expect_eq(len(got), len(want), "rows")
        expect_eq(got, want, "binary COPY rows")


@check("psycopg: binary COPY of an empty result has the PGCOPY header")
def _():
    with connect("town", autocommit=True) as conn:
        cur = conn.cursor()
        with cur.copy("COPY (SELECT name FROM persons WHERE false) TO STDOUT (FORMAT BINARY)") as copy:
            copy.set_types(["text"])
            expect_eq(list(copy.rows()), [], "rows")


@check("psycopg: binary COPY of integer, numeric and double columns")
def _():
    with connect("town", autocommit=True) as conn:
        for sql, types in [
            ("SELECT household_no, members FROM households ORDER BY household_no LIMIT 200", ["text", "int4"]),
            ("SELECT payment_id, month, amount FROM subsidy_payments ORDER BY payment_id LIMIT 200", ["int8", "date", "numeric"]),
            ("SELECT code, lng, lat FROM areas ORDER BY code LIMIT 200", ["text", "float8", "float8"]),
        ]:
            want = conn.execute(sql).fetchall()
            cur = conn.cursor()
            with cur.copy(f"COPY ({sql}) TO STDOUT (FORMAT BINARY)") as copy:
                copy.set_types(types)
                got = list(copy.rows())
            expect_eq(got, want, f"binary COPY of {sql}")


# ---------------------------------------------------------------- psycopg 3: type fidelity

UTC = dt.timezone.utc
TYPE_CASES = [
    # name, user, sql, python type, type oid, expected value (or ... for any value of that type)
    ("integer column", "town", "SELECT members FROM households ORDER BY household_no LIMIT 1", int, 23, ...),
    ("bigint expression", "town", "SELECT count(*) FROM persons", int, 20, ...),
    ("bigint column", "admin", "SELECT session_id FROM audit_log LIMIT 1", int, 20, ...),
    ("numeric column", "town", "SELECT amount FROM subsidy_payments ORDER BY payment_id LIMIT 1", Decimal, 1700, ...),
    ("numeric literal", "town", "SELECT 3.5::numeric", Decimal, 1700, Decimal("3.5")),
    ("numeric(10,2) cast", "town", "SELECT 12.345::numeric(10,2)", Decimal, 1700, Decimal("12.35")),
    ("double column", "town", "SELECT lng FROM areas ORDER BY code LIMIT 1", float, 701, ...),
    ("boolean column", "town", "SELECT is_alive FROM persons ORDER BY id_number LIMIT 1", bool, 16, ...),
    ("text column", "town", "SELECT name FROM persons ORDER BY id_number LIMIT 1", str, 25, ...),
    ("date column", "town", "SELECT birth_date FROM persons ORDER BY id_number LIMIT 1", dt.date, 1082, ...),
    ("timestamp expression", "town", "SELECT TIMESTAMP '2024-01-02 03:04:05'", dt.datetime, 1114, dt.datetime(2024, 1, 2, 3, 4, 5)),
    ("timestamptz expression", "town", "SELECT TIMESTAMPTZ '2024-01-02 03:04:05+08'", dt.datetime, 1184,
     dt.datetime(2024, 1, 1, 19, 4, 5, tzinfo=UTC)),
    ("now() is timestamptz", "town", "SELECT now()", dt.datetime, 1184, ...),
    ("timestamptz column", "admin", "SELECT time FROM audit_log LIMIT 1", dt.datetime, 1184, ...),
    ("interval expression", "town", "SELECT INTERVAL '1 day 2 hours'", dt.timedelta, 1186, dt.timedelta(days=1, hours=2)),
    ("interval with years and months", "town", "SELECT INTERVAL '1 year 2 months 3 days 04:05:06.5'", dt.timedelta, 1186,
     dt.timedelta(days=428, hours=4, minutes=5, seconds=6.5)),
    ("integer array expression", "town", "SELECT ARRAY[1, 2, 3]", list, 1007, [1, 2, 3]),
    ("text array expression", "town", "SELECT ARRAY['a', 'b']", list, 1009, ["a", "b"]),
    ("text array column", "admin", "SELECT datasets FROM audit_log LIMIT 1", list, 1009, ...),
    ("json expression", "town", "SELECT '{\"a\": 1}'::json", dict, 114, {"a": 1}),
    ("jsonb expression", "town", "SELECT '{\"a\": [1, 2]}'::jsonb", dict, 3802, {"a": [1, 2]}),
    ("bytea expression", "town", "SELECT 'abc'::bytea", bytes, 17, b"abc"),
    ("uuid expression", "town", "SELECT 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid", uuid.UUID, 2950,
     uuid.UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")),
    ("NULL date column", "town", "SELECT death_date FROM persons WHERE death_date IS NULL LIMIT 1", type(None), 1082, None),
    ("NULL text column", "town", "SELECT phone FROM persons WHERE phone IS NULL LIMIT 1", type(None), 25, None),
]
for _t in ["int4", "int8", "numeric", "float8", "bool", "text", "date", "timestamp", "timestamptz", "interval", "int4[]",
           "text[]", "json"]:
    _oid = {"int4": 23, "int8": 20, "numeric": 1700, "float8": 701, "bool": 16, "text": 25, "date": 1082, "timestamp": 1114,
            "timestamptz": 1184, "interval": 1186, "int4[]": 1007, "text[]": 1009, "json": 114}[_t]
    TYPE_CASES.append((f"NULL::{_t}", "town", f"SELECT NULL::{_t}", type(None), _oid, None))


def make_type_check(name, user, sql, pytype, oid, value):
    @check(f"psycopg types: {name} ({sql})")
    def _():
        for binary in (False, True):
            mode = "binary" if binary else "text"
            row, desc = one(sql, user=user, binary=binary)
            expect(row is not None, f"no row ({mode})")
            got = row[0]
            expect(type(got) is pytype, f"{mode}: Python type {type(got).__name__} ({got!r}), want {pytype.__name__}")
            expect_eq(desc[0].type_code, oid, f"{mode}: type oid")
            if value is not ...:
                expect_eq(got, value, f"{mode}: value")
            if pytype is dt.datetime:
                want_tz = oid == 1184
                expect((got.tzinfo is not None) == want_tz, f"{mode}: tzinfo {got.tzinfo!r}")
            if name == "numeric literal":
                expect_eq(str(got), "3.5", f"{mode}: numeric text")


for _case in TYPE_CASES:
    make_type_check(*_case)


@check("psycopg: result column names as PostgreSQL names them")
def _():
    cases = [
        ("SELECT count(*) FROM persons", ["count"]),
        ("SELECT sex, count(*) FROM persons GROUP BY sex", ["sex", "count"]),
        ("SELECT max(birth_date), min(birth_date) FROM persons", ["max", "min"]),
        ("SELECT sum(members) FROM households", ["sum"]),
        ("SELECT 1::int, 'x'::text, now()", ["int4", "text", "now"]),
        ("SELECT upper(name) FROM persons LIMIT 1", ["upper"]),
    ]
    with connect("town", autocommit=True) as conn:
        for sql, names in cases:
            cur = conn.execute(sql)
            expect_eq([d.name for d in cur.description], names, sql)


@check("psycopg: errors carry PostgreSQL SQLSTATEs")
def _():
    cases = [
        ("SELECT 1/0", "22012"),
        ("SELECT * FROM no_such_table", "42P01"),
        ("SELECT no_such_column FROM persons", "42703"),
        ("SELEC 1", "42601"),
        ("SELECT no_such_function(1)", "42883"),
        ("SELECT 'abc'::int", "22P02"),
    ]
    with connect("town") as conn:
        for sql, state in cases:
            try:
                conn.execute(sql)
                raise CheckFailed(f"{sql} succeeded")
            except psycopg.Error as e:
                expect_eq(e.sqlstate, state, sql)
            conn.rollback()
        expect_eq(conn.execute("SELECT 7").fetchone()[0], 7, "query after the errors")


# ---------------------------------------------------------------- SQLAlchemy (Superset) and pandas

_engine = None


def engine():
    global _engine
    if _engine is None:
        from sqlalchemy import create_engine

        _engine = create_engine(f"postgresql+psycopg://town:{PASSWORD}@{HOST}:{PORT}/{DB}", pool_pre_ping=True)
    return _engine


def inspector():
    from sqlalchemy import inspect

    return inspect(engine())


@check("sqlalchemy: connect (dialect initialize: version, hstore lookup, isolation level)")
def _():
    from sqlalchemy import text

    with engine().connect() as c:
        expect(c.dialect.server_version_info >= (9, 6), f"server_version_info {c.dialect.server_version_info}")
        expect_eq(c.execute(text("SELECT 1")).scalar(), 1, "SELECT 1")


@check("sqlalchemy inspect: get_schema_names has public")
def _():
    names = inspector().get_schema_names()
    expect("public" in names, f"schemas {names}")


PUBLIC_TABLES = {"agri_subsidies", "areas", "audit_log", "dept_list", "disability_certs", "enterprises", "farmland",
                 "households", "persons", "safety_inspections", "social_security_cards", "special_groups",
                 "subsidy_payments", "vehicles", "household_income", "employment", "veterans",
                 "residence_registrations"}
PUBLIC_VIEWS = {"deceased_still_paid", "farmer_asset_check", "open_hazards", "village_population",
                "policy_gaps", "policy_rules", "card_expansion", "disability_changes", "enterprise_profile",
                "map_points", "moved_out_of_grid", "safety_reminders", "vehicle_households"}


@check("sqlalchemy inspect: get_table_names lists the tables of public and nothing else")
def _():
    names = inspector().get_table_names()
    for t in ["persons", "households", "enterprises", "vehicles", "areas"]:
        expect(t in names, f"{t} missing from {names}")
    extra = sorted(set(names) - PUBLIC_TABLES)
    expect(not extra, f"not tables of public: {extra}")


@check("sqlalchemy inspect: get_view_names lists the views of public and nothing else")
def _():
    names = inspector().get_view_names()
    expect("village_population" in names, f"views {names}")
    extra = sorted(n for n in set(names) - PUBLIC_VIEWS if not n.startswith("report_"))
    expect(not extra, f"not views of public: {extra}")


@check("sqlalchemy inspect: get_columns('persons') types, nullability and Chinese comments")
def _():
    from sqlalchemy import Boolean, Date, Text

    cols = {c["name"]: c for c in inspector().get_columns("persons")}
    expect_eq(list(cols)[:4], ["id_number", "name", "sex", "birth_date"], "first columns")
    expect(isinstance(cols["name"]["type"], Text), f"name type {cols['name']['type']!r}")
    expect(isinstance(cols["birth_date"]["type"], Date), f"birth_date type {cols['birth_date']['type']!r}")
    expect(isinstance(cols["is_alive"]["type"], Boolean), f"is_alive type {cols['is_alive']['type']!r}")
    expect_eq(cols["name"]["nullable"], False, "name nullable")
    expect_eq(cols["phone"]["nullable"], True, "phone nullable")
    expect_eq(cols["name"]["comment"], "姓名", "comment on name")
    expect_eq(cols["phone"]["comment"], "手机号码", "comment on phone")


@check("sqlalchemy inspect: get_columns('agri_subsidies') numeric(12,2) and integer")
def _():
    from sqlalchemy import Integer, Numeric

    cols = {c["name"]: c for c in inspector().get_columns("agri_subsidies")}
    t = cols["amount"]["type"]
    expect(isinstance(t, Numeric) and (t.precision, t.scale) == (12, 2), f"amount type {t!r}")
    expect(isinstance(cols["year"]["type"], Integer), f"year type {cols['year']['type']!r}")


@check("sqlalchemy inspect: get_pk_constraint('persons')")
def _():
    pk = inspector().get_pk_constraint("persons")
    expect("constrained_columns" in pk, f"{pk}")


@check("sqlalchemy inspect: get_foreign_keys('persons')")
def _():
    expect(isinstance(inspector().get_foreign_keys("persons"), list), "not a list")


@check("sqlalchemy inspect: get_indexes('persons')")
def _():
    expect(isinstance(inspector().get_indexes("persons"), list), "not a list")


@check("sqlalchemy inspect: get_unique_constraints('persons')")
def _():
    expect(isinstance(inspector().get_unique_constraints("persons"), list), "not a list")


@check("sqlalchemy inspect: get_check_constraints('persons')")
def _():
    expect(isinstance(inspector().get_check_constraints("persons"), list), "not a list")


@check("sqlalchemy inspect: get_table_comment('persons') is the Chinese table comment")
def _():
    expect_eq(inspector().get_table_comment("persons"), {"text": "人口基础信息（户籍人口，含已死亡未注销人员）"}, "table comment")


@check("sqlalchemy inspect: has_table")
def _():
    insp = inspector()
    expect(insp.has_table("persons"), "has_table('persons') is False")
    expect(not insp.has_table("no_such_table"), "has_table('no_such_table') is True")


@check("sqlalchemy inspect: get_view_definition('village_population')")
def _():
    d = inspector().get_view_definition("village_population")
    expect(isinstance(d, str) and d.strip(), f"definition {d!r}")


@check("sqlalchemy inspect with schema='public', as Superset calls it (tables, views, columns, keys, comment)")
def _():
    insp = inspector()
    tables = insp.get_table_names(schema="public")
    expect("persons" in tables and not set(tables) - PUBLIC_TABLES, f"tables {tables}")
    views = insp.get_view_names(schema="public")
    extra = [v for v in set(views) - PUBLIC_VIEWS if not v.startswith("report_")]
    expect("village_population" in views and not extra, f"views {views}")
    cols = insp.get_columns("households", schema="public")
    expect_eq([c["name"] for c in cols][:2], ["household_no", "head_id_number"], "households columns")
    expect(all(c["comment"] for c in cols), f"comments {[c['comment'] for c in cols]}")
    insp.get_pk_constraint("households", schema="public")
    insp.get_foreign_keys("households", schema="public")
    insp.get_indexes("households", schema="public")
    expect_eq(insp.get_table_comment("households", schema="public"), {"text": "户籍户（每户一名户主）"}, "table comment")


@check("sqlalchemy: reflect Table('persons', autoload_with=engine)")
def _():
    from sqlalchemy import MetaData, Table

    t = Table("persons", MetaData(), autoload_with=engine())
    expect("phone" in t.c, f"columns {list(t.c.keys())}")
    expect_eq(t.comment, "人口基础信息（户籍人口，含已死亡未注销人员）", "table comment")


@check("sqlalchemy: Core select with bound parameters")
def _():
    from sqlalchemy import column, func, select, table

    persons = table("persons", column("name"), column("sex"), column("birth_date"), column("is_alive"))
    with engine().connect() as c:
        stmt = (
            select(persons.c.sex, func.count().label("n"))
            .where(persons.c.birth_date < dt.date(1970, 1, 1), persons.c.is_alive == True)  # noqa: E712
            .group_by(persons.c.sex)
            .order_by(persons.c.sex)
        )
        got = c.execute(stmt).all()
        want = c.exec_driver_sql(
            "SELECT sex, count(*) FROM persons WHERE birth_date < DATE '1970-01-01' AND is_alive GROUP BY sex ORDER BY sex"
        ).all()
        expect_eq([tuple(r) for r in got], [tuple(r) for r in want], "grouped counts")
        names = c.execute(select(persons.c.name).where(persons.c.sex == "女").limit(3)).scalars().all()
        expect(len(names) == 3 and all(isinstance(n, str) for n in names), f"names {names}")


@check("sqlalchemy: streamed results (server-side cursor, yield_per)")
def _():
    from sqlalchemy import text

    with engine().connect() as c:
        total = c.execute(text("SELECT count(*) FROM persons")).scalar()
        seen = 0
        result = c.execution_options(stream_results=True, yield_per=500).execute(text("SELECT id_number FROM persons"))
        for part in result.partitions():
            seen += len(part)
        expect_eq(seen, total, "streamed rows vs count(*)")


@check("superset: time-range literals TO_DATE / TO_TIMESTAMP with PostgreSQL patterns")
def _():
    expect_eq(scalar("SELECT TO_DATE('2018-01-01', 'YYYY-MM-DD')"), dt.date(2018, 1, 1), "TO_DATE")
    got = scalar("SELECT TO_TIMESTAMP('2018-01-01 00:00:00.000000', 'YYYY-MM-DD HH24:MI:SS.US')")
    # The text is read in the session's zone, as PostgreSQL reads it.
    from zoneinfo import ZoneInfo
    zone = ZoneInfo(scalar("SHOW timezone"))
    want = dt.datetime(2018, 1, 1, tzinfo=zone)
    expect(got == want and got.tzinfo is not None, f"TO_TIMESTAMP: {got!r}, want {want!r}")
    n = scalar("SELECT count(*) FROM vehicles WHERE registered_on >= TO_DATE('2018-01-01', 'YYYY-MM-DD')")
    m = scalar("SELECT count(*) FROM vehicles WHERE registered_on >= DATE '2018-01-01'")
    expect_eq(n, m, "rows in the time range")


@check("pandas: read_sql of a GROUP BY through SQLAlchemy")
def _():
    import pandas as pd
    from sqlalchemy import text

    df = pd.read_sql(
        text("SELECT sex, count(*) AS n FROM persons WHERE birth_date >= :since GROUP BY sex ORDER BY sex"),
        engine(),
        params={"since": dt.date(1950, 1, 1)},
    )
    total = scalar("SELECT count(*) FROM persons WHERE birth_date >= DATE '1950-01-01'")
    expect_eq(list(df.columns), ["sex", "n"], "columns")
    expect_eq(sorted(df["sex"]), ["女", "男"], "groups")
    expect_eq(int(df["n"].sum()), total, "sum of the groups")
    expect_eq(str(df["n"].dtype), "int64", "dtype of n")


@check("pandas: read_sql of a GROUP BY over a plain psycopg connection")
def _():
    import warnings

    import pandas as pd

    with connect("town", autocommit=True) as conn, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = pd.read_sql("SELECT village_code, count(*) FROM persons GROUP BY village_code ORDER BY village_code", conn)
        total = conn.execute("SELECT count(*) FROM persons").fetchone()[0]
    expect_eq(list(df.columns), ["village_code", "count"], "columns")
    expect_eq(int(df["count"].sum()), total, "sum of the groups")


# ---------------------------------------------------------------- BI tools' catalog SQL: the answers, not only no error

BI_SQL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "sql", "bi_tools.sql")


def bi_statement(label_prefix):
    from run_sql import parse

    with open(BI_SQL, encoding="utf-8") as f:
        for label, sql in parse(f.read()):
            if label.startswith(label_prefix):
                return sql
    raise CheckFailed(f"no statement labelled {label_prefix!r} in bi_tools.sql")


@check("grafana: version detection (current_setting('server_version_num')::int/100)")
def _():
    v = scalar(bi_statement("grafana: data source settings, detect the PostgreSQL version"))
    expect(isinstance(v, int) and v >= 906, f"version {v!r}")


@check("grafana: table list puts tables on the search_path unqualified")
def _():
    with connect("town", autocommit=True) as conn:
        tables = [r[0] for r in conn.execute(bi_statement("grafana: query editor, list tables on the search_path"))]
    expect("persons" in tables, f"persons not listed unqualified: {tables[:5]}")


@check("grafana: columns of an unqualified table on the search_path (getSchema('persons'))")
def _():
    with connect("town", autocommit=True) as conn:
        cols = conn.execute(bi_statement("grafana: query editor, columns of table persons")).fetchall()
    expect_eq(cols[:4], [("id_number", "text"), ("name", "text"), ("sex", "text"), ("birth_date", "date")], "columns")


@check("power bi / grafana: information_schema.columns ordinal_position 1.., numeric_precision of bigint and numeric(12,2)")
def _():
    with connect("town", autocommit=True) as conn:
        rows = conn.execute(
            "SELECT column_name, ordinal_position, numeric_precision, numeric_scale FROM information_schema.columns"
            " WHERE table_schema = 'public' AND table_name = 'subsidy_payments' ORDER BY ordinal_position"
        ).fetchall()
    expect_eq([r[1] for r in rows], list(range(1, len(rows) + 1)), "ordinal_position")
    expect(all(type(r[1]) is int for r in rows), f"ordinal_position types {[type(r[1]).__name__ for r in rows]}")
    by_name = {r[0]: r for r in rows}
    expect_eq(by_name["payment_id"][2:], (64, 0), "bigint precision, scale")
    expect_eq(by_name["amount"][2:], (12, 2), "numeric(12,2) precision, scale")


@check("npgsql: type loading batch in one simple query (version, types, composites, enums)")
def _():
    batch = ";\n".join(
        bi_statement(f"npgsql: type loading batch, part {i}") for i in (1, 2, 3, 4)
    )
    with connect("town", autocommit=True) as conn:
        cur = conn.execute(batch)
        version = cur.fetchone()[0]
        expect(version.startswith("PostgreSQL "), f"version() {version!r}")
        expect(cur.nextset(), "no type rows result")
        types = {r[2]: r for r in cur.fetchall()}  # nspname, oid, typname, typtype, typnotnull, elemtypoid
        for name, oid, typtype, elem in [("int4", 23, "b", None), ("text", 25, "b", None), ("numeric", 1700, "b", None),
                                         ("timestamptz", 1184, "b", None), ("_int4", 1007, "a", 23), ("_text", 1009, "a", 25)]:
            expect(name in types, f"{name} not loaded")
            row = types[name]
            expect_eq((int(row[1]), row[3], None if row[5] is None else int(row[5])), (oid, typtype, elem), f"{name} row")
        expect(cur.nextset(), "no composite fields result")
        cur.fetchall()
        expect(cur.nextset(), "no enum labels result")
        cur.fetchall()


# ---------------------------------------------------------------- governance through a driver

MASKED_PHONE = re.compile(r"^1\d{2}\*{4}\d{4}$")
RAW_PHONE = re.compile(r"^1\d{10}$")


@check("governance: village sees fewer persons than town")
def _():
    town = scalar("SELECT count(*) FROM persons", user="town")
    village = scalar("SELECT count(*) FROM persons", user="village")
    expect(0 < village < town, f"village {village}, town {town}")


@check("governance: village gets masked phones (155****7956), town raw ones")
def _():
    with connect("village", autocommit=True) as conn:
        phones = [r[0] for r in conn.execute("SELECT phone FROM persons WHERE phone IS NOT NULL LIMIT 500")]
    expect(phones, "village sees no phone")
    bad = [p for p in phones if not MASKED_PHONE.match(p)]
    expect(not bad, f"unmasked for village: {bad[:3]}")
    with connect("town", autocommit=True) as conn:
        phones = [r[0] for r in conn.execute("SELECT phone FROM persons WHERE phone IS NOT NULL LIMIT 500")]
    bad = [p for p in phones if not RAW_PHONE.match(p)]
    expect(not bad, f"not raw for town: {bad[:3]}")


@check("governance: masks hold in binary results, server-side cursors and COPY")
def _():
    with connect("village") as conn:
        rows = conn.cursor(binary=True).execute("SELECT phone FROM persons WHERE phone IS NOT NULL LIMIT 200").fetchall()
        expect(rows and all(MASKED_PHONE.match(r[0]) for r in rows), f"binary: {rows[:3]}")
        conn.commit()
        with conn.transaction():
            cur = conn.cursor(name="village_phones")
            cur.execute("SELECT phone FROM persons WHERE phone IS NOT NULL")
            rows = cur.fetchmany(200)
            cur.close()
        expect(rows and all(MASKED_PHONE.match(r[0]) for r in rows), f"named cursor: {rows[:3]}")
        data = bytearray()
        with conn.cursor().copy("COPY (SELECT phone FROM persons WHERE phone IS NOT NULL) TO STDOUT (FORMAT csv)") as copy:
            for chunk in copy:
                data += chunk
        conn.commit()
        lines = data.decode().split()
        expect(lines and all(MASKED_PHONE.match(x) for x in lines), f"COPY: {lines[:3]}")


@check("governance: village gets masked names and hashed id numbers")
def _():
    with connect("village", autocommit=True) as conn:
        rows = conn.execute("SELECT name, id_number FROM persons LIMIT 200").fetchall()
    expect(all("*" in n for n, _ in rows), f"names {[n for n, _ in rows][:3]}")
    expect(all(re.fullmatch(r"[0-9a-f]{32}", i) for _, i in rows), f"id numbers {[i for _, i in rows][:3]}")


def main():
    try:
        wait_for_server()
    except Exception as e:  # noqa: BLE001
        print(f"FAIL connect: {e}")
        print("0 passed, 1 failed")
        return 1
    passed = failed = 0
    for name, fn in CHECKS:
        try:
            fn()
        except CheckFailed as e:
            failed += 1
            print(f"FAIL {name}: {e}")
        except Exception as e:  # noqa: BLE001
            failed += 1
            msg = " | ".join(line for line in str(e).splitlines() if line.strip())
            if len(msg) > 400:
                msg = msg[:400] + "..."
            sqlstate = getattr(e, "sqlstate", None) or getattr(getattr(e, "orig", None), "sqlstate", None)
            print(f"FAIL {name}: {type(e).__name__}{f' [{sqlstate}]' if sqlstate else ''}: {msg}")
        else:
            passed += 1
            print(f"ok {name}")
        sys.stdout.flush()
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
