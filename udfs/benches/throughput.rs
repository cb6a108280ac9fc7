//! Throughput of the hot functions on Arrow arrays of 1M values, called the
//! way the engine calls them (`invoke_with_args`):
//!
//! - identity numbers: `id_valid`, `id_normalize` (goal ≥ 20M values/s);
//! - credit codes: `uscc_valid` (goal ≥ 10M values/s);
//! - names: `name_match_level` (goal ≥ 5M pairs/s), with `name_similarity`,
//!   `jaro_winkler`, `levenshtein_similarity` and DataFusion's built-in
//!   `levenshtein` on the same pairs for comparison;
//! - addresses: `address_parse`, `address_key` (goal ≥ 1M values/s).
//!
//! Run with `cargo bench -p zhenjie-udfs`; criterion reports elements/s.

use std::sync::Arc;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use datafusion::arrow::array::{ArrayRef, StringArray, StringViewArray};
use datafusion::arrow::datatypes::Field;
use datafusion::common::config::ConfigOptions;
use datafusion::logical_expr::{ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use zhenjie_udfs::all_scalar_udfs;
use zhenjie_udfs::enterprise::{org_code_check_char, uscc_check_char};
use zhenjie_udfs::identity::id_check_char;

const N: usize = 1_000_000;

fn udf(name: &str) -> ScalarUDF {
    all_scalar_udfs()
        .into_iter()
        .find(|u| u.name() == name)
        .unwrap_or_else(|| panic!("no function {name}"))
}

/// Calls a function on whole columns, as the engine does.
fn call(udf: &ScalarUDF, columns: &[ArrayRef]) -> ColumnarValue {
    let arg_fields: Vec<_> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| Arc::new(Field::new(format!("c{i}"), c.data_type().clone(), true)))
        .collect();
    let scalars = vec![None; columns.len()];
    let return_field = udf
        .return_field_from_args(ReturnFieldArgs {
            arg_fields: &arg_fields,
            scalar_arguments: &scalars,
        })
        .unwrap();
    udf.invoke_with_args(ScalarFunctionArgs {
        args: columns.iter().cloned().map(ColumnarValue::Array).collect(),
        arg_fields,
        number_rows: columns[0].len(),
        return_field,
        config_options: Arc::new(ConfigOptions::default()),
    })
    .unwrap()
}

fn ids(rng: &mut impl Rng) -> Vec<String> {
    let areas = [
        "370602", "370611", "370612", "370613", "370681", "370684", "110105",
    ];
    (0..N)
        .map(|i| {
            let mut s = format!(
                "{}{:04}{:02}{:02}{:03}",
                areas.choose(rng).unwrap(),
                rng.random_range(1930..2020),
                rng.random_range(1..=12),
                rng.random_range(1..=28),
                rng.random_range(0..1000)
            );
            let c = id_check_char(s.as_bytes()).unwrap();
            s.push(c as char);
            // One in twenty with a typo, as in real data.
            if i % 20 == 0 {
                s.replace_range(3..4, "9");
            }
            s
        })
        .collect()
}

fn credit_codes(rng: &mut impl Rng) -> Vec<String> {
    let alphabet = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
    (0..N)
        .map(|_| {
            let mut s = String::from("91370602");
            let org: String = (0..8)
                .map(|_| *alphabet.choose(rng).unwrap() as char)
                .collect();
            s.push_str(&org);
            s.push(org_code_check_char(org.as_bytes()).unwrap() as char);
            s.push(uscc_check_char(s.as_bytes()).unwrap() as char);
            s
        })
        .collect()
}

fn name_pairs(rng: &mut impl Rng) -> (Vec<String>, Vec<String>) {
    let surnames = [
        "张", "王", "李", "赵", "刘", "陈", "杨", "曾", "欧阳", "區", "章",
    ];
    let given = [
        "伟", "卫", "娜", "小", "明", "晓", "敏", "华", "强", "芳", "军", "丽",
    ];
    let name = |rng: &mut ChaCha8Rng| {
        let mut s = surnames.choose(rng).unwrap().to_string();
        for _ in 0..rng.random_range(1..=2) {
            s.push_str(given.choose(rng).unwrap());
        }
        s
    };
    let mut r = ChaCha8Rng::seed_from_u64(rng.random());
    (0..N).map(|_| (name(&mut r), name(&mut r))).unzip()
}

fn addresses(rng: &mut impl Rng) -> Vec<String> {
    let districts = ["芝罘区", "福山区", "莱山区", "牟平区"];
    let towns = ["幸福街道", "只楚街道", "黄务街道", "大海阳镇"];
    let roads = ["福山路", "南大街", "解放路", "港城大道"];
    (0..N)
        .map(|i| {
            let prefix = if i % 2 == 0 { "山东省烟台市" } else { "" };
            format!(
                "{prefix}{}{}{}{}号{}号楼{}单元{}室",
                districts.choose(rng).unwrap(),
                towns.choose(rng).unwrap(),
                roads.choose(rng).unwrap(),
                rng.random_range(1..200),
                rng.random_range(1..30),
                rng.random_range(1..6),
                rng.random_range(101..1802)
            )
        })
        .collect()
}

fn utf8(values: &[String]) -> ArrayRef {
    Arc::new(StringArray::from_iter_values(values))
}

fn view(values: &[String]) -> ArrayRef {
    Arc::new(StringViewArray::from_iter_values(values))
}

fn configure<'a>(
    c: &'a mut Criterion,
    name: &str,
) -> criterion::BenchmarkGroup<'a, criterion::measurement::WallTime> {
    let mut g = c.benchmark_group(name);
    g.sample_size(10);
    g.warm_up_time(std::time::Duration::from_secs(1));
    g.measurement_time(std::time::Duration::from_secs(4));
    g.throughput(Throughput::Elements(N as u64));
    g
}

fn identity(c: &mut Criterion) {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let values = ids(&mut rng);
    let (u, v) = (utf8(&values), view(&values));
    let mut g = configure(c, "identity");
    for f in ["id_valid", "id_normalize", "id_birth_date"] {
        let udf = udf(f);
        g.bench_function(BenchmarkId::new(f, "utf8"), |b| {
            b.iter(|| call(&udf, &[Arc::clone(&u)]))
        });
        g.bench_function(BenchmarkId::new(f, "utf8view"), |b| {
            b.iter(|| call(&udf, &[Arc::clone(&v)]))
        });
    }
    g.finish();
}

fn credit_code(c: &mut Criterion) {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let values = credit_codes(&mut rng);
    let u = utf8(&values);
    let mut g = configure(c, "credit_code");
    for f in ["uscc_valid", "uscc_normalize"] {
        let udf = udf(f);
        g.bench_function(BenchmarkId::new(f, "utf8"), |b| {
            b.iter(|| call(&udf, &[Arc::clone(&u)]))
        });
    }
    g.finish();
}

fn names(c: &mut Criterion) {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let (a, b) = name_pairs(&mut rng);
    let (a, b) = (utf8(&a), utf8(&b));
    let mut g = configure(c, "name_pairs");
    let mut fs: Vec<(String, ScalarUDF)> = [
        "name_match_level",
        "name_similarity",
        "jaro_winkler",
        "levenshtein_similarity",
    ]
    .iter()
    .map(|f| (f.to_string(), udf(f)))
    .collect();
    // DataFusion's built-in, on the same pairs.
    fs.push((
        "datafusion_levenshtein".to_string(),
        datafusion::functions::string::levenshtein()
            .as_ref()
            .clone(),
    ));
    for (name, f) in &fs {
        g.bench_function(name.as_str(), |bench| {
            bench.iter(|| call(f, &[Arc::clone(&a), Arc::clone(&b)]))
        });
    }
    g.finish();
}

fn address(c: &mut Criterion) {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let values = addresses(&mut rng);
    let u = utf8(&values);
    let mut g = configure(c, "address");
    for f in ["address_parse", "address_key"] {
        let udf = udf(f);
        g.bench_function(f, |b| b.iter(|| call(&udf, &[Arc::clone(&u)])));
    }
    g.finish();
}

criterion_group!(benches, identity, credit_code, names, address);
criterion_main!(benches);
