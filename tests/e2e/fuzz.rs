//! Bounded fuzzing on the stable toolchain: each target replays its corpus
//! (`tests/fuzz/corpus/<target>/`, kept in the repository) and then runs
//! inputs made by mutating it, for `FUZZ_SECONDS` (3 by default, what CI
//! runs; `benches/fuzz.sh` runs longer). Inputs are bytes, read as
//! structured values with `arbitrary` where the target wants structure. An
//! input that panics (or, for SQL, breaks a fence or reaches an internal
//! error) is saved to `tests/fuzz/crashes/<target>/` and fails the test;
//! `FUZZ_SEED` replays a run.
//!
//! Targets: the frontend message decoder (startup, query, extended
//! protocol, COPY states), the SQL path as fenced users (generated
//! expressions, deeply nested ones included, and mutated statements), and
//! every domain function over arbitrary text.

use crate::common::*;
use arbitrary::{Arbitrary, Unstructured};
use rand::{Rng, SeedableRng};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Where a target's corpus and crashes live.
fn folder(kind: &str, target: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz")
        .join(kind)
        .join(target)
}

/// Runs `check` on the corpus of `target`, then on mutations of it until
/// the time is up. `check` returns an error to report a finding (a panic
/// is one too).
fn fuzz(target: &str, check: impl Fn(&[u8]) -> Result<(), String>) {
    let mut corpus: Vec<Vec<u8>> = std::fs::read_dir(folder("corpus", target))
        .map(|dir| {
            dir.filter_map(|e| std::fs::read(e.ok()?.path()).ok())
                .collect()
        })
        .unwrap_or_default();
    assert!(!corpus.is_empty(), "no corpus for {target}");
    let seconds: u64 = std::env::var("FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let seed: u64 = std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    eprintln!("fuzz {target}: seed {seed}, {seconds} s");
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    // What runs now, kept on disk: a stack overflow aborts the process
    // before any finding could be saved.
    let last = folder("crashes", target).join("last");
    std::fs::create_dir_all(last.parent().unwrap()).unwrap();
    let run = |input: &[u8]| {
        std::fs::write(&last, input).unwrap();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(input)))
            .unwrap_or_else(|p| {
                Err(p
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "panic".into()))
            });
        if let Err(finding) = outcome {
            let dir = folder("crashes", target);
            std::fs::create_dir_all(&dir).unwrap();
            let name = format!("{:016x}", seahash(input));
            std::fs::write(dir.join(&name), input).unwrap();
            panic!("fuzz {target} (seed {seed}): {finding}\ninput saved as tests/fuzz/crashes/{target}/{name}");
        }
    };
    for input in &corpus {
        run(input);
    }
    let started = Instant::now();
    let mut runs = 0u64;
    while started.elapsed() < Duration::from_secs(seconds) {
        let input = mutate(&corpus, &mut rng);
        run(&input);
        runs += 1;
        // Keep a few mutants as bases for further mutation.
        if runs.is_multiple_of(64) && corpus.len() < 512 {
            corpus.push(input);
        }
    }
    let _ = std::fs::remove_file(&last);
    eprintln!("fuzz {target}: {runs} inputs besides the corpus");
}

/// A cheap stable hash, to name a saved input.
fn seahash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// One corpus entry changed a few times: bytes flipped, inserted, removed,
/// repeated, or spliced from another entry.
fn mutate(corpus: &[Vec<u8>], rng: &mut impl Rng) -> Vec<u8> {
    let mut v = corpus[rng.random_range(0..corpus.len())].clone();
    for _ in 0..rng.random_range(1..=4) {
        let len = v.len();
        match rng.random_range(0..6) {
            0 if len > 0 => {
                let i = rng.random_range(0..len);
                v[i] ^= 1 << rng.random_range(0..8);
            }
            1 => {
                let i = rng.random_range(0..=len);
                let mut extra = vec![0u8; rng.random_range(1..16)];
                rng.fill_bytes(&mut extra);
                v.splice(i..i, extra);
            }
            2 if len > 0 => {
                let i = rng.random_range(0..len);
                let j = rng.random_range(i..=len.min(i + 16));
                v.drain(i..j);
            }
            3 if len > 0 => {
                let i = rng.random_range(0..len);
                let j = rng.random_range(i..=len);
                let piece = v[i..j].to_vec();
                for _ in 0..rng.random_range(1..64) {
                    v.extend_from_slice(&piece);
                }
            }
            4 => {
                let other = &corpus[rng.random_range(0..corpus.len())];
                let cut = rng.random_range(0..=v.len());
                let from = rng.random_range(0..=other.len());
                v.truncate(cut);
                v.extend_from_slice(&other[from..]);
            }
            _ if len > 0 => {
                let i = rng.random_range(0..len);
                v[i] = rng.random();
            }
            _ => {}
        }
    }
    v
}

// ---------------------------------------------------------------------
// The frontend message decoder.

/// Any bytes, read by the server's decoder in each connection state a
/// client can put it in: never a panic, only messages or errors.
#[test]
fn fuzz_frontend_messages() {
    use pgwire::api::{ClientInfo, DefaultClient, PgWireConnectionState};
    use pgwire::tokio::server::PgWireMessageServerCodec;
    use tokio_util::codec::Decoder;
    fuzz("frontend_messages", |input| {
        let (state, bytes) = input.split_first().unwrap_or((&0, &[]));
        let state = match state % 5 {
            0 => PgWireConnectionState::AwaitingSslRequest,
            1 => PgWireConnectionState::AwaitingStartup,
            2 => PgWireConnectionState::AuthenticationInProgress,
            3 => PgWireConnectionState::ReadyForQuery,
            _ => PgWireConnectionState::CopyInProgress(false),
        };
        let client = DefaultClient::<String>::new("127.0.0.1:1".parse().unwrap(), false);
        let mut codec = PgWireMessageServerCodec::new(client);
        codec.client_info.set_state(state);
        let mut buf = bytes::BytesMut::from(bytes);
        for _ in 0..1024 {
            let kind = buf.first().copied();
            let decoded =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| codec.decode(&mut buf)));
            match decoded {
                Ok(Ok(Some(_))) => continue,
                Ok(Ok(None) | Err(_)) => break,
                // pgwire 0.41.1 reads a field by the length or count the
                // client gives, past the message's end (a Bind's parameter,
                // a Parse's type count, a CopyData shorter than its header;
                // see `overread`).
                // Known, and contained by the server's connection loop
                // (FATAL 08P01, `a_bind_longer_than_its_message_…`); any
                // other panic is a finding.
                Err(p) if overread(&panic_text(&*p)) => break,
                Err(p) => {
                    let kind = kind.map(char::from);
                    return Err(format!("decoding {kind:?}: {}", panic_text(&*p)));
                }
            }
        }
        Ok(())
    });
}

/// Whether a panic is pgwire 0.41.1 trusting a client's length: the
/// `bytes` crate refusing to read past a buffer, or (debug builds) a
/// message length under 4 taking 4 off it (a release build wraps it and
/// then over-reads).
fn overread(text: &str) -> bool {
    text.contains("out of bounds")
        || text.contains("advance past")
        || text.contains("attempt to subtract with overflow")
}

fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "panic".into())
}

// ---------------------------------------------------------------------
// The SQL path, as fenced users.

const COLUMNS: &[&str] = &[
    "id_number",
    "name",
    "sex",
    "birth_date",
    "phone",
    "grid_code",
    "household_id",
    "is_alive",
    "village_code",
    "county_code",
];
/// Functions the generator calls: some of DataFusion's and every domain
/// function.
fn functions() -> &'static [String] {
    static NAMES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    NAMES.get_or_init(|| {
        let mut names: Vec<String> = [
            "lower",
            "upper",
            "length",
            "substr",
            "coalesce",
            "nullif",
            "abs",
            "round",
            "concat",
            "btrim",
            "left",
            "right",
            "reverse",
            "md5",
            "to_char",
            "date_part",
            "date_trunc",
            "regexp_replace",
            "split_part",
            "strpos",
            "repeat",
            "lpad",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        names.extend(
            zhenjie_udfs::all_scalar_udfs()
                .iter()
                .map(|f| f.name().to_string()),
        );
        names
    })
}
const OPERATORS: &[&str] = &[
    "+",
    "-",
    "*",
    "/",
    "%",
    "||",
    "=",
    "<>",
    "<",
    ">=",
    "AND",
    "OR",
    "LIKE",
    "IS DISTINCT FROM",
];
const TYPES: &[&str] = &[
    "int",
    "bigint",
    "text",
    "date",
    "numeric",
    "boolean",
    "double precision",
];

/// An expression the generator can write as SQL.
#[derive(Arbitrary, Debug)]
enum Expr {
    Column(u8),
    Int(i64),
    Text(String),
    Null,
    Bool(bool),
    Binary(Box<Expr>, u8, Box<Expr>),
    Not(Box<Expr>),
    Cast(Box<Expr>, u8),
    Call(u8, Vec<Expr>),
    Case(Box<Expr>, Box<Expr>, Box<Expr>),
    In(Box<Expr>, Vec<Expr>),
    IsNull(Box<Expr>),
    /// A scalar subquery over the same governed table.
    Subquery(Box<Expr>),
    /// A sum of many terms: deep nesting.
    Deep(u16),
}

impl Expr {
    fn sql(&self, depth: usize) -> String {
        if depth > 6 {
            return "1".into();
        }
        let d = depth + 1;
        match self {
            Expr::Column(i) => COLUMNS[*i as usize % COLUMNS.len()].into(),
            Expr::Int(n) => n.to_string(),
            Expr::Text(s) => format!("'{}'", s.replace('\'', "''").replace('\0', "")),
            Expr::Null => "NULL".into(),
            Expr::Bool(b) => b.to_string(),
            Expr::Binary(a, op, b) => format!(
                "({} {} {})",
                a.sql(d),
                OPERATORS[*op as usize % OPERATORS.len()],
                b.sql(d)
            ),
            Expr::Not(e) => format!("(NOT {})", e.sql(d)),
            Expr::Cast(e, t) => {
                format!("CAST({} AS {})", e.sql(d), TYPES[*t as usize % TYPES.len()])
            }
            Expr::Call(f, args) => format!(
                "{}({})",
                functions()[*f as usize % functions().len()],
                args.iter()
                    .take(3)
                    .map(|a| a.sql(d))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Expr::Case(c, a, b) => format!(
                "CASE WHEN {} THEN {} ELSE {} END",
                c.sql(d),
                a.sql(d),
                b.sql(d)
            ),
            Expr::In(e, list) if !list.is_empty() => format!(
                "({} IN ({}))",
                e.sql(d),
                list.iter()
                    .take(8)
                    .map(|a| a.sql(d))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Expr::In(e, _) => e.sql(d),
            Expr::IsNull(e) => format!("({} IS NULL)", e.sql(d)),
            Expr::Subquery(e) => format!("(SELECT max({}) FROM persons)", e.sql(d)),
            Expr::Deep(n) => {
                let terms = (*n as usize % 3000).max(1);
                format!("({})", vec!["1"; terms].join(" + "))
            }
        }
    }
}

/// A statement around a generated expression, as one of four users.
#[derive(Arbitrary, Debug)]
struct Statement {
    user: u8,
    shape: u8,
    expr: Expr,
    filter: Expr,
}

const USERS: &[&str] = &["town", "village", "grid", "county"];

/// The bytes a generated statement is read from, at most (see
/// `fuzz_sql_expressions`).
const MAX_STATEMENT_BYTES: usize = 512;

/// A generated statement from the mutant that overflowed the stack, on a
/// thread with the 2 MiB a test thread has: read from its first bytes only,
/// it fits.
#[test]
fn a_generated_statement_fits_a_test_threads_stack() {
    let input = std::fs::read(folder("corpus", "sql_expressions").join("deep_mutant")).unwrap();
    assert!(input.len() > MAX_STATEMENT_BYTES);
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            let input = &input[..MAX_STATEMENT_BYTES];
            let s = Statement::arbitrary(&mut Unstructured::new(input));
            s.map(|s| s.expr.sql(0).len()).unwrap_or(0)
        })
        .unwrap()
        .join()
        .expect("no stack overflow");
}

/// The sessions the SQL targets run in (one per user), on a runtime of
/// their own.
struct SqlBench {
    rt: tokio::runtime::Runtime,
    sessions: Vec<(String, zhenjie_engine::Session)>,
    /// Statements answered (the rest were refused with an error).
    answered: std::sync::atomic::AtomicUsize,
}

impl Drop for SqlBench {
    fn drop(&mut self) {
        eprintln!(
            "fuzz: {} statements answered with rows",
            self.answered.load(std::sync::atomic::Ordering::Relaxed)
        );
    }
}

fn sql_bench() -> SqlBench {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_stack_size(zhenjie_engine::THREAD_STACK)
        .enable_all()
        .build()
        .unwrap();
    let sessions = rt.block_on(async {
        let engine = zhenjie_engine::Engine::open(load_catalog(), test_options())
            .await
            .unwrap();
        let mut sessions = Vec::new();
        for user in USERS {
            let session = engine
                .session(engine.principal(user).unwrap())
                .await
                .unwrap();
            session.sql("SET statement_timeout = '2s'").await.unwrap();
            sessions.push((user.to_string(), session));
        }
        sessions
    });
    SqlBench {
        rt,
        sessions,
        answered: Default::default(),
    }
}

impl SqlBench {
    /// Runs `sql` as the `user`-th user: a finding if it fails with an
    /// internal error or returns a `grid_code` outside the user's fence.
    fn check(&self, user: usize, sql: &str) -> Result<(), String> {
        let (name, session) = &self.sessions[user % self.sessions.len()];
        let result = self.rt.block_on(session.query(sql));
        match result {
            Err(e) if e.code == "XX000" => {
                Err(format!("internal error as {name}: {} — {sql}", e.message))
            }
            Err(_) => Ok(()),
            Ok(batches) => {
                self.answered
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let prefix = crate::governance::prefix_of(name);
                for b in &batches {
                    let Some(i) = b.schema().index_of("grid_code").ok() else {
                        continue;
                    };
                    let codes = datafusion::arrow::compute::cast(
                        b.column(i),
                        &datafusion::arrow::datatypes::DataType::Utf8,
                    )
                    .map_err(|e| e.to_string())?;
                    let codes = datafusion::arrow::array::AsArray::as_string::<i32>(&codes);
                    // Only grid codes count: a mutant may give another
                    // column that name (`SELECT phone grid_code …`).
                    let is_grid_code =
                        |c: &str| c.len() == 15 && c.bytes().all(|b| b.is_ascii_digit());
                    for code in codes.iter().flatten().filter(|c| is_grid_code(c)) {
                        if !code.starts_with(&prefix) {
                            return Err(format!("{name} saw grid {code} — {sql}"));
                        }
                    }
                }
                Ok(())
            }
        }
    }
}

/// Generated statements over `persons` as fenced users: no panic, no
/// internal error, and no row outside the user's fence whatever the
/// predicate or expression.
#[test]
fn fuzz_sql_expressions() {
    let bench = sql_bench();
    fuzz("sql_expressions", |input| {
        // `arbitrary`'s derive nests as deep as the bytes allow, on this
        // thread's stack (an 87 KB mutant overflowed it): a statement is
        // read from the first bytes only.
        let input = &input[..input.len().min(MAX_STATEMENT_BYTES)];
        let Ok(s) = Statement::arbitrary(&mut Unstructured::new(input)) else {
            return Ok(());
        };
        let (e, f) = (s.expr.sql(0), s.filter.sql(0));
        let sql = match s.shape % 5 {
            0 => format!("SELECT {e} AS v, grid_code FROM persons LIMIT 5"),
            1 => format!("SELECT grid_code FROM persons WHERE {f} LIMIT 50"),
            2 => format!("SELECT {e} AS v, count(*) FROM persons GROUP BY 1 ORDER BY 2 DESC LIMIT 3"),
            3 => format!("SELECT {e} AS v"),
            _ => format!(
                "SELECT p.grid_code FROM persons p JOIN persons q ON p.household_id = q.household_id WHERE {f} LIMIT 20"
            ),
        };
        bench.check(s.user as usize, &sql)
    });
}

/// Statements as text, mutated byte by byte: whatever the parser makes
/// of them, no panic, no internal error, no row outside the fence.
#[test]
fn fuzz_sql_text() {
    let bench = sql_bench();
    fuzz("sql_text", |input| {
        let (user, text) = input.split_first().unwrap_or((&0, &[]));
        let sql = String::from_utf8_lossy(text);
        bench.check(*user as usize, &sql)
    });
}

// ---------------------------------------------------------------------
// The domain functions.

/// Every domain function, called with one to three arbitrary texts (and
/// with integers where its signature wants them): errors are fine, a panic
/// is not.
#[test]
fn fuzz_domain_functions() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let ctx = datafusion::prelude::SessionContext::new();
    zhenjie_udfs::register_all(&ctx);
    let names: Vec<String> = zhenjie_udfs::all_scalar_udfs()
        .iter()
        .map(|f| f.name().to_string())
        .collect();
    fuzz("domain_functions", |input| {
        let mut u = Unstructured::new(input);
        let texts: Vec<String> = (0..3)
            .map(|_| String::arbitrary(&mut u).unwrap_or_default())
            .collect();
        let number = i64::arbitrary(&mut u).unwrap_or_default();
        let literal = |s: &str| format!("'{}'", s.replace('\'', "''"));
        for name in &names {
            for args in [
                vec![literal(&texts[0])],
                vec![literal(&texts[0]), literal(&texts[1])],
                vec![literal(&texts[0]), literal(&texts[1]), literal(&texts[2])],
                vec![literal(&texts[0]), number.to_string()],
                vec![number.to_string()],
            ] {
                let sql = format!("SELECT {name}({})", args.join(", "));
                // Errors (no such signature, bad input) are answers.
                let _ = rt.block_on(async {
                    let df = ctx.sql(&sql).await?;
                    df.collect().await
                });
            }
        }
        Ok(())
    });
}
