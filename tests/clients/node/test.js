// node-postgres checks against a running zhenjie server (or any PostgreSQL with the demo city).
//
//   (cd tests/clients/node && npm ci) && node tests/clients/node/test.js HOST PORT
//
// Prints "ok NAME" or "FAIL NAME: message" per check and a closing "N passed, N failed" line;
// exits 1 if any check failed. Users town, village and admin, password demo, database zhenjie.
'use strict';

const assert = require('node:assert/strict');
const pg = require('pg');

const host = process.argv[2] || '127.0.0.1';
const port = Number(process.argv[3] || 5433);
const database = 'zhenjie';
const password = 'demo';

const checks = [];
const check = (name, fn) => checks.push([name, fn]);

function config(user) {
  return { host, port, database, user, password, connectionTimeoutMillis: 10000 };
}

async function withClient(user, fn) {
  const client = new pg.Client(config(user));
  client.on('error', () => {}); // a dropped connection fails the check through its query
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

const isMaskedPhone = (p) => /^1\d{2}\*{4}\d{4}$/.test(p);

// ---------------------------------------------------------------- connecting and querying

check('connect as town (SCRAM) and run a query', async () => {
  await withClient('town', async (c) => {
    const r = await c.query('SELECT 1 + 1 AS two');
    assert.equal(r.rows.length, 1);
    assert.equal(r.fields[0].name, 'two');
    assert.equal(Number(r.rows[0].two), 2, `SELECT 1 + 1 gave ${JSON.stringify(r.rows[0].two)}`);
  });
});

check('wrong password is refused with 28P01', async () => {
  const client = new pg.Client({ ...config('town'), password: 'wrong' });
  client.on('error', () => {});
  await assert.rejects(client.connect(), (e) => {
    assert.equal(e.code, '28P01', `code ${e.code}: ${e.message}`);
    return true;
  });
});

check('query: rows, fields and command metadata', async () => {
  await withClient('town', async (c) => {
    const r = await c.query('SELECT id_number, name, sex, birth_date FROM persons ORDER BY id_number LIMIT 5');
    assert.equal(r.command, 'SELECT');
    assert.equal(r.rowCount, 5);
    assert.deepEqual(r.fields.map((f) => f.name), ['id_number', 'name', 'sex', 'birth_date']);
    assert.deepEqual(r.fields.map((f) => f.dataTypeID), [25, 25, 25, 1082]);
    for (const row of r.rows) assert.ok(['男', '女'].includes(row.sex), `sex ${row.sex}`);
  });
});

check('several statements in one simple query', async () => {
  await withClient('town', async (c) => {
    const r = await c.query("SELECT 1::int AS a; SELECT 'x' AS b");
    assert.ok(Array.isArray(r) && r.length === 2, `got ${JSON.stringify(r && r.rows)}`);
    assert.deepEqual(r[0].rows, [{ a: 1 }]);
    assert.deepEqual(r[1].rows, [{ b: 'x' }]);
  });
});

check('parameters $1..$n with casts (int, text, float8, bool, date, numeric, timestamptz, NULL)', async () => {
  await withClient('town', async (c) => {
    const ts = new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678));
    const r = await c.query(
      'SELECT $1::int AS i, $2::text AS t, $3::float8 AS f, $4::bool AS b, $5::date AS d, $6::numeric AS n, ' +
        '$7::timestamptz AS ts, $8::text AS nul',
      [42, '张三', 3.5, true, '2024-01-02', '12.34', ts, null],
    );
    const row = r.rows[0];
    assert.equal(row.i, 42);
    assert.equal(row.t, '张三');
    assert.equal(row.f, 3.5);
    assert.equal(row.b, true);
    assert.ok(row.d instanceof Date && row.d.getFullYear() === 2024 && row.d.getMonth() === 0 && row.d.getDate() === 2, `date ${row.d}`);
    assert.equal(row.n, '12.34');
    assert.ok(row.ts instanceof Date, `timestamptz is ${typeof row.ts} ${JSON.stringify(row.ts)}`);
    assert.equal(row.ts.toISOString(), ts.toISOString());
    assert.equal(row.nul, null);
  });
});

check('array parameters (node-postgres sends {"1","2","3"})', async () => {
  await withClient('town', async (c) => {
    const r = await c.query('SELECT $1::int[] AS ints, $2::text[] AS texts', [[1, 2, 3], ['a', 'b,c', '张三']]);
    assert.deepEqual(r.rows[0].ints, [1, 2, 3]);
    assert.deepEqual(r.rows[0].texts, ['a', 'b,c', '张三']);
    const ids = (await c.query('SELECT id_number FROM persons ORDER BY id_number LIMIT 3')).rows.map((x) => x.id_number);
    const m = await c.query('SELECT count(*) AS n FROM persons WHERE id_number = ANY($1)', [ids]);
    assert.equal(m.rows[0].n, '3');
  });
});

check('untyped parameters compared with columns', async () => {
  await withClient('town', async (c) => {
    const p = await c.query(
      'SELECT count(*) AS n FROM persons WHERE sex = $1 AND birth_date < $2 AND is_alive = $3',
      ['女', '1970-01-01', true],
    );
    const l = await c.query(
      "SELECT count(*) AS n FROM persons WHERE sex = '女' AND birth_date < DATE '1970-01-01' AND is_alive",
    );
    assert.equal(p.rows[0].n, l.rows[0].n);
    const h = await c.query('SELECT count(*) AS n FROM households WHERE members >= $1', [3]);
    const hl = await c.query('SELECT count(*) AS n FROM households WHERE members >= 3');
    assert.equal(h.rows[0].n, hl.rows[0].n);
  });
});

check('untyped parameter selected as a value comes back as text', async () => {
  await withClient('town', async (c) => {
    const r = await c.query('SELECT $1 AS v', ['hello']);
    assert.equal(r.fields[0].dataTypeID, 25, `type oid ${r.fields[0].dataTypeID}`);
    assert.equal(r.rows[0].v, 'hello');
  });
});

check('named prepared statement reused with different parameters', async () => {
  await withClient('town', async (c) => {
    const q = (sex) => ({ name: 'persons_by_sex', text: 'SELECT count(*) AS n FROM persons WHERE sex = $1', values: [sex] });
    const a = await c.query(q('男'));
    const b = await c.query(q('女'));
    const all = await c.query('SELECT count(*) AS n FROM persons');
    assert.equal(BigInt(a.rows[0].n) + BigInt(b.rows[0].n), BigInt(all.rows[0].n));
  });
});

// ---------------------------------------------------------------- type parsing

const TYPES = [
  // label, sql, type oid, check of the parsed value
  ['int4 column', 'SELECT members AS v FROM households ORDER BY household_no LIMIT 1', 23, (v) => typeof v === 'number'],
  ['int8 count(*) is a string', 'SELECT count(*) AS v FROM persons', 20, (v) => typeof v === 'string' && /^\d+$/.test(v)],
  ['integer literal is int4', 'SELECT 7 AS v', 23, (v) => v === 7],
  ['numeric column is a string', 'SELECT amount AS v FROM subsidy_payments ORDER BY payment_id LIMIT 1', 1700, (v) => typeof v === 'string' && /^\d+\.\d\d$/.test(v)],
  ['numeric literal', 'SELECT 3.5::numeric AS v', 1700, (v) => v === '3.5'],
  ['float8 column', 'SELECT lng AS v FROM areas ORDER BY code LIMIT 1', 701, (v) => typeof v === 'number'],
  ['bool column', 'SELECT is_alive AS v FROM persons LIMIT 1', 16, (v) => typeof v === 'boolean'],
  ['text column', 'SELECT name AS v FROM persons LIMIT 1', 25, (v) => typeof v === 'string'],
  ['date column', 'SELECT birth_date AS v FROM persons LIMIT 1', 1082, (v) => v instanceof Date && !isNaN(v)],
  ['timestamp', "SELECT TIMESTAMP '2024-01-02 03:04:05' AS v", 1114, (v) => v instanceof Date && v.getHours() === 3],
  ['timestamptz', "SELECT TIMESTAMPTZ '2024-01-02 03:04:05+08' AS v", 1184, (v) => v instanceof Date && v.toISOString() === '2024-01-01T19:04:05.000Z'],
  ['now() is timestamptz', 'SELECT now() AS v', 1184, (v) => v instanceof Date],
  ['interval', "SELECT INTERVAL '1 day 2 hours 3 minutes' AS v", 1186, (v) => v && v.days === 1 && v.hours === 2 && v.minutes === 3],
  ['int4[]', 'SELECT ARRAY[1, 2, 3]::int[] AS v', 1007, (v) => JSON.stringify(v) === '[1,2,3]'],
  ['text[]', "SELECT ARRAY['a', 'b,c'] AS v", 1009, (v) => JSON.stringify(v) === '["a","b,c"]'],
  ['json', `SELECT '{"a": [1, 2]}'::json AS v`, 114, (v) => JSON.stringify(v) === '{"a":[1,2]}'],
  ['jsonb', `SELECT '{"a": 1}'::jsonb AS v`, 3802, (v) => JSON.stringify(v) === '{"a":1}'],
  ['bytea', "SELECT 'abc'::bytea AS v", 17, (v) => Buffer.isBuffer(v) && v.toString() === 'abc'],
  ['NULL int4', 'SELECT NULL::int AS v', 23, (v) => v === null],
  ['NULL date column', 'SELECT death_date AS v FROM persons WHERE death_date IS NULL LIMIT 1', 1082, (v) => v === null],
  ['NULL timestamptz', 'SELECT NULL::timestamptz AS v', 1184, (v) => v === null],
  ['NULL interval', 'SELECT NULL::interval AS v', 1186, (v) => v === null],
  ['NULL json', 'SELECT NULL::json AS v', 114, (v) => v === null],
];

for (const [label, sql, oid, ok] of TYPES) {
  check(`types: ${label} (${sql})`, async () => {
    await withClient('town', async (c) => {
      const r = await c.query(sql);
      assert.equal(r.rows.length, 1, 'no row');
      const v = r.rows[0].v;
      const shown = v instanceof Date ? v.toISOString() : JSON.stringify(v);
      assert.equal(r.fields[0].dataTypeID, oid, `type oid ${r.fields[0].dataTypeID} (value ${shown})`);
      assert.ok(ok(v), `parsed value ${shown} (${typeof v})`);
    });
  });
}

check('result column names as PostgreSQL names them', async () => {
  await withClient('town', async (c) => {
    const cases = [
      ['SELECT count(*) FROM persons', ['count']],
      ['SELECT sex, count(*) FROM persons GROUP BY sex', ['sex', 'count']],
      ['SELECT max(birth_date) FROM persons', ['max']],
    ];
    for (const [sql, names] of cases) {
      const r = await c.query(sql);
      assert.deepEqual(r.fields.map((f) => f.name), names, sql);
    }
  });
});

// ---------------------------------------------------------------- large results, errors, pools

check('large result read whole (no Cursor): every person for admin', async () => {
  await withClient('admin', async (c) => {
    const n = Number((await c.query('SELECT count(*) AS n FROM persons')).rows[0].n);
    const r = await c.query('SELECT * FROM persons');
    assert.equal(r.rows.length, n);
    assert.equal(r.rowCount, n);
    assert.equal(r.fields.length, 16);
    const arr = await c.query({ text: 'SELECT id_number, name, address FROM persons', rowMode: 'array' });
    assert.equal(arr.rows.length, n);
    assert.ok(Array.isArray(arr.rows[0]) && arr.rows[0].length === 3);
    assert.equal(new Set(arr.rows.map((row) => row[0])).size, n, 'id numbers are not unique');
  });
});

check('large parameterized result (extended protocol)', async () => {
  await withClient('admin', async (c) => {
    const n = Number((await c.query("SELECT count(*) AS n FROM persons WHERE birth_date >= DATE '1950-01-01'")).rows[0].n);
    const r = await c.query('SELECT id_number, birth_date FROM persons WHERE birth_date >= $1', ['1950-01-01']);
    assert.equal(r.rows.length, n);
  });
});

check('errors carry SQLSTATE codes and the connection stays usable', async () => {
  await withClient('town', async (c) => {
    const cases = [
      ['SELECT 1/0', '22012'],
      ['SELECT * FROM no_such_table', '42P01'],
      ['SELECT no_such_column FROM persons', '42703'],
      ['SELEC 1', '42601'],
      ["SELECT 'abc'::int", '22P02'],
    ];
    for (const [sql, code] of cases) {
      await assert.rejects(c.query(sql), (e) => {
        assert.equal(e.code, code, `${sql}: code ${e.code} (${e.message})`);
        assert.equal(e.severity, 'ERROR', `${sql}: severity ${e.severity}`);
        return true;
      });
    }
    await assert.rejects(c.query('SELECT $1::int / 0', [1]), (e) => e.code === '22012' || assert.fail(`extended: ${e.code}`));
    assert.equal((await c.query('SELECT 5::int AS five')).rows[0].five, 5);
  });
});

check('transaction: BEGIN, queries, error, ROLLBACK, COMMIT', async () => {
  await withClient('town', async (c) => {
    await c.query('BEGIN');
    await c.query('SELECT count(*) FROM persons');
    await assert.rejects(c.query('SELECT 1/0'));
    await c.query('ROLLBACK');
    await c.query('BEGIN READ ONLY');
    const r = await c.query('SELECT count(*) AS n FROM households');
    await c.query('COMMIT');
    assert.ok(Number(r.rows[0].n) > 0);
  });
});

check('pg.Pool: concurrent queries on several connections', async () => {
  const pool = new pg.Pool({ ...config('town'), max: 4 });
  pool.on('error', () => {});
  try {
    const results = await Promise.all(
      ['persons', 'households', 'enterprises', 'vehicles', 'areas', 'persons'].map((t) =>
        pool.query(`SELECT count(*) AS n FROM ${t}`),
      ),
    );
    assert.equal(results[0].rows[0].n, results[5].rows[0].n);
    for (const r of results) assert.ok(Number(r.rows[0].n) >= 0);
  } finally {
    await pool.end();
  }
});

check('governance: village sees fewer persons and masked phones', async () => {
  const town = await withClient('town', async (c) => Number((await c.query('SELECT count(*) AS n FROM persons')).rows[0].n));
  await withClient('village', async (c) => {
    const n = Number((await c.query('SELECT count(*) AS n FROM persons')).rows[0].n);
    assert.ok(n > 0 && n < town, `village ${n}, town ${town}`);
    const r = await c.query('SELECT phone FROM persons WHERE phone IS NOT NULL AND sex = $1 LIMIT 200', ['女']);
    assert.ok(r.rows.length > 0, 'no phones');
    const bad = r.rows.map((x) => x.phone).filter((p) => !isMaskedPhone(p));
    assert.deepEqual(bad.slice(0, 3), [], 'unmasked phones');
  });
});

async function main() {
  let passed = 0;
  let failed = 0;
  for (const [name, fn] of checks) {
    try {
      await fn();
      passed++;
      console.log(`ok ${name}`);
    } catch (e) {
      failed++;
      const msg = String((e && e.message) || e).split('\n').filter((l) => l.trim()).join(' | ');
      const code = e && e.code && e.code !== 'ERR_ASSERTION' ? ` [${e.code}]` : '';
      console.log(`FAIL ${name}:${code} ${msg.length > 400 ? msg.slice(0, 400) + '...' : msg}`);
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.log(`FAIL runner: ${e && e.stack}`);
    process.exit(1);
  },
);
