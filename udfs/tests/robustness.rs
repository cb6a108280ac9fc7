//! Property and fuzz-style tests over every scalar function: random and
//! adversarial inputs (empty, 10 KB, full-width, emoji, mixed scripts,
//! control characters) in all three string encodings never panic, results
//! have one row per input row, and NULL in gives NULL out.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, Date32Array, Float64Array, Int64Array, LargeStringArray, StringArray,
    StringViewArray,
};
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::config::ConfigOptions;
use datafusion::common::types::NativeType;
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, TypeSignature,
    TypeSignatureClass,
};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use zhenjie_udfs::all_scalar_udfs;
use zhenjie_udfs::enterprise::{org_code_check_char, uscc_check_char, USCC_ALPHABET};
use zhenjie_udfs::identity::id_check_char;

/// Functions that are deliberately not NULL-strict: they say so in their
/// documentation (a household key falls back from the household number to
/// the address; a NULL default area code for phones means "none").
const NOT_STRICT: &[&str] = &[
    "household_key",
    "phone_normalize",
    "phone_valid",
    "phone_type",
];

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Str,
    Int,
    Date,
    Float,
}

/// The argument lists a function accepts, read from its signature.
fn arities(udf: &ScalarUDF) -> Vec<Vec<Kind>> {
    fn kinds(cs: &[datafusion::logical_expr::Coercion]) -> Vec<Kind> {
        cs.iter()
            .map(|c| match c.desired_type() {
                TypeSignatureClass::Native(t) => match t.native() {
                    NativeType::String => Kind::Str,
                    NativeType::Int64 => Kind::Int,
                    NativeType::Date => Kind::Date,
                    NativeType::Float64 => Kind::Float,
                    other => panic!("{}: unexpected argument type {other}", "udf"),
                },
                other => panic!("unexpected argument class {other}"),
            })
            .collect()
    }
    match &udf.signature().type_signature {
        TypeSignature::Coercible(cs) => vec![kinds(cs)],
        TypeSignature::OneOf(v) => v
            .iter()
            .map(|t| match t {
                TypeSignature::Coercible(cs) => kinds(cs),
                other => panic!("{}: unexpected signature {other:?}", udf.name()),
            })
            .collect(),
        other => panic!("{}: unexpected signature {other:?}", udf.name()),
    }
}

fn valid_id(rng: &mut impl Rng) -> String {
    let areas = ["110105", "370602", "370684", "440524", "650102", "370614"];
    let mut s = areas.choose(rng).unwrap().to_string();
    let y = rng.random_range(1900..2024);
    let m = rng.random_range(1..=12);
    let d = rng.random_range(1..=28);
    s.push_str(&format!(
        "{y:04}{m:02}{d:02}{:03}",
        rng.random_range(0..1000)
    ));
    let c = id_check_char(s.as_bytes()).unwrap();
    s.push(c as char);
    s
}

fn valid_uscc(rng: &mut impl Rng) -> String {
    let mut s = String::from("91");
    s.push_str(["370602", "350100", "110105"].choose(rng).unwrap());
    let org_alphabet = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
    let org: String = (0..8)
        .map(|_| *org_alphabet.choose(rng).unwrap() as char)
        .collect();
    let oc = org_code_check_char(org.as_bytes()).unwrap();
    s.push_str(&org);
    s.push(oc as char);
    let c = uscc_check_char(s.as_bytes()).unwrap();
    s.push(c as char);
    s
}

/// A random or adversarial text value.
fn text(rng: &mut impl Rng) -> String {
    const PIECES: &[&str] = &[
        "",
        " ",
        "\u{3000}",
        "０１２３４５６７８９",
        "ＸｘＡ",
        "张伟",
        "張偉",
        "欧阳娜娜",
        "阿卜杜·热合曼",
        "曾",
        "单",
        "区",
        "🙂",
        "👨‍👩‍👧",
        "\u{200B}",
        "\u{FEFF}",
        "\0",
        "\n\t",
        "é",
        "e\u{301}",
        "ß",
        "İ",
        "ﬁ",
        "Ωmega",
        "ابن",
        "עברית",
        "한국",
        "日本語",
        "-",
        "·",
        "•",
        "X",
        "x",
        "+86",
        "0086",
        "(0535)",
        "转",
        "号楼",
        "单元",
        "室",
        "村",
        "社区",
        "街道",
        "镇",
        "区",
        "市",
        "省",
        "山东省烟台市芝罘区",
        "幸福街道",
        "3号楼2单元502室",
        "路",
        "有限公司",
        "（烟台）",
        "【",
        "】",
        "户主",
        "之子",
        "妻",
        "99",
        "02",
        "-1",
        "\u{10FFFF}",
        "\u{FFFD}",
        "𠀀",
        "〇",
        "十",
        "百",
        "%",
        "_",
        "'",
        "\"",
        "\\",
    ];
    match rng.random_range(0..11) {
        0 => String::new(),
        10 => {
            // Short strings over the characters the parsers branch on.
            const STRUCTURAL: &[char] = &[
                '0', '1', '3', '5', '8', '6', '9', '+', '-', 'X', 'x', ' ', '(', '）', '转', '#',
                ',', '/', '·', '．', '号', '楼', '单', '元', '室', '村', '区', '市', '省', '镇',
                '路', '街', '道', '之', '子', '女', '有', '限', '公', '司', '（', ')', '１',
            ];
            (0..rng.random_range(0..20))
                .map(|_| *STRUCTURAL.choose(rng).unwrap())
                .collect()
        }
        1 => valid_id(rng),
        2 => valid_uscc(rng),
        3 => {
            // A long value, often over 10 KB.
            let unit = PIECES.choose(rng).unwrap();
            let n = rng.random_range(1..4000);
            unit.repeat(n)
        }
        4 => (0..rng.random_range(0..40))
            .map(|_| char::from_u32(rng.random_range(0..0x3_0000)).unwrap_or('?'))
            .collect(),
        5 => (0..rng.random_range(0..25))
            .map(|_| (b'0' + rng.random_range(0..10)) as char)
            .collect(),
        6 => (0..rng.random_range(0..20))
            .map(|_| *USCC_ALPHABET.choose(rng).unwrap() as char)
            .collect(),
        _ => (0..rng.random_range(0..8))
            .map(|_| *PIECES.choose(rng).unwrap())
            .collect(),
    }
}

fn column(
    kind: Kind,
    encoding: usize,
    rows: usize,
    nulls: &[bool],
    rng: &mut impl Rng,
) -> ArrayRef {
    match kind {
        Kind::Str => {
            let v: Vec<Option<String>> =
                (0..rows).map(|i| (!nulls[i]).then(|| text(rng))).collect();
            match encoding {
                0 => Arc::new(StringArray::from(v)),
                1 => Arc::new(LargeStringArray::from(v)),
                _ => Arc::new(StringViewArray::from(v)),
            }
        }
        Kind::Int => {
            let v: Vec<Option<i64>> = (0..rows)
                .map(|i| {
                    (!nulls[i]).then(|| match rng.random_range(0..4) {
                        0 => rng.random(),
                        1 => *[i64::MIN, i64::MAX, 0, -1, 1].choose(rng).unwrap(),
                        _ => rng.random_range(-5..30),
                    })
                })
                .collect();
            Arc::new(Int64Array::from(v))
        }
        Kind::Date => {
            let v: Vec<Option<i32>> = (0..rows)
                .map(|i| {
                    (!nulls[i]).then(|| match rng.random_range(0..3) {
                        0 => rng.random_range(-3_000_000..3_000_000),
                        1 => *[i32::MIN, i32::MAX, 0].choose(rng).unwrap(),
                        _ => rng.random_range(-30_000..30_000),
                    })
                })
                .collect();
            Arc::new(Date32Array::from(v))
        }
        Kind::Float => {
            let v: Vec<Option<f64>> = (0..rows)
                .map(|i| {
                    (!nulls[i]).then(|| match rng.random_range(0..3) {
                        0 => *[f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.0, 1e308]
                            .choose(rng)
                            .unwrap(),
                        _ => rng.random_range(-2.0..2.0),
                    })
                })
                .collect();
            Arc::new(Float64Array::from(v))
        }
    }
}

fn call(udf: &ScalarUDF, arrays: Vec<ArrayRef>, rows: usize) -> ArrayRef {
    let arg_fields: Vec<_> = arrays
        .iter()
        .enumerate()
        .map(|(i, a)| Arc::new(Field::new(format!("a{i}"), a.data_type().clone(), true)))
        .collect();
    let scalars: Vec<Option<&datafusion::common::ScalarValue>> = vec![None; arrays.len()];
    let return_field = udf
        .return_field_from_args(ReturnFieldArgs {
            arg_fields: &arg_fields,
            scalar_arguments: &scalars,
        })
        .unwrap();
    let out = udf
        .invoke_with_args(ScalarFunctionArgs {
            args: arrays.into_iter().map(ColumnarValue::Array).collect(),
            arg_fields,
            number_rows: rows,
            return_field: Arc::clone(&return_field),
            config_options: Arc::new(ConfigOptions::default()),
        })
        .unwrap_or_else(|e| panic!("{} failed: {e}", udf.name()));
    let out = out.into_array(rows).unwrap();
    assert_eq!(
        out.len(),
        rows,
        "{}: one output row per input row",
        udf.name()
    );
    assert_eq!(
        out.data_type(),
        return_field.data_type(),
        "{}: declared type",
        udf.name()
    );
    out
}

#[test]
fn random_and_adversarial_inputs_never_panic_and_nulls_propagate() {
    let mut rng = ChaCha8Rng::seed_from_u64(20240611);
    let udfs = all_scalar_udfs();
    assert!(udfs.len() > 10);
    for udf in &udfs {
        for kinds in arities(udf) {
            for round in 0..12 {
                let rows = 64;
                let encoding = round % 3;
                // Per argument, which rows are NULL.
                let null_masks: Vec<Vec<bool>> = kinds
                    .iter()
                    .map(|_| (0..rows).map(|_| rng.random_bool(0.2)).collect())
                    .collect();
                let arrays: Vec<ArrayRef> = kinds
                    .iter()
                    .zip(&null_masks)
                    .map(|(k, nulls)| column(*k, encoding, rows, nulls, &mut rng))
                    .collect();
                let out = call(udf, arrays, rows);
                for row in 0..rows {
                    let all_null = null_masks.iter().all(|m| m[row]);
                    let any_null = null_masks.iter().any(|m| m[row]);
                    if all_null || (any_null && !NOT_STRICT.contains(&udf.name())) {
                        assert!(
                            out.is_null(row),
                            "{}: NULL in must give NULL out",
                            udf.name()
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn a_bare_null_literal_column_gives_nulls() {
    for udf in all_scalar_udfs() {
        for kinds in arities(&udf) {
            let arrays: Vec<ArrayRef> = kinds
                .iter()
                .map(|_| datafusion::arrow::array::new_null_array(&DataType::Null, 3))
                .collect();
            // NULL-typed columns reach kernels only for text arguments (the
            // planner casts the others); build typed nulls for those.
            let arrays: Vec<ArrayRef> = arrays
                .into_iter()
                .zip(&kinds)
                .map(|(a, k)| match k {
                    Kind::Str => a,
                    Kind::Int => datafusion::arrow::array::new_null_array(&DataType::Int64, 3),
                    Kind::Date => datafusion::arrow::array::new_null_array(&DataType::Date32, 3),
                    Kind::Float => datafusion::arrow::array::new_null_array(&DataType::Float64, 3),
                })
                .collect();
            let out = call(&udf, arrays, 3);
            assert_eq!(out.null_count(), 3, "{}", udf.name());
        }
    }
}

#[test]
fn generated_valid_numbers_validate_and_every_single_typo_is_caught() {
    use zhenjie_udfs::enterprise::uscc_is_valid;
    use zhenjie_udfs::identity::id_is_valid;
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    for _ in 0..300 {
        let id = valid_id(&mut rng);
        assert!(id_is_valid(&id), "{id}");
        let pos = rng.random_range(0..18);
        let mut bytes = id.clone().into_bytes();
        let old = bytes[pos];
        let new = loop {
            let c = *b"0123456789X".choose(&mut rng).unwrap();
            if c != old && (pos == 17 || c != b'X') {
                break c;
            }
        };
        bytes[pos] = new;
        let typo = String::from_utf8(bytes).unwrap();
        assert!(!id_is_valid(&typo), "{id} -> {typo} should fail");

        let code = valid_uscc(&mut rng);
        assert!(uscc_is_valid(&code), "{code}");
        let pos = rng.random_range(0..18);
        let mut bytes = code.clone().into_bytes();
        let old = bytes[pos];
        bytes[pos] = loop {
            let c = *USCC_ALPHABET.choose(&mut rng).unwrap();
            if c != old {
                break c;
            }
        };
        let typo = String::from_utf8(bytes).unwrap();
        assert!(!uscc_is_valid(&typo), "{code} -> {typo} should fail");
    }
}

/// Components by breadth-first search, the reference for the aggregate.
fn reference_components(edges: &[(String, Option<String>)]) -> Vec<(String, String)> {
    use std::collections::{BTreeMap, BTreeSet, VecDeque};
    let mut adj: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (a, b) in edges {
        adj.entry(a).or_default();
        if let Some(b) = b {
            adj.entry(b).or_default().insert(a);
            adj.entry(a).or_default().insert(b);
        }
    }
    let mut component: BTreeMap<&str, &str> = BTreeMap::new();
    // Nodes in ascending order: the first node reached is the smallest.
    for &start in adj.keys() {
        if component.contains_key(start) {
            continue;
        }
        let mut queue = VecDeque::from([start]);
        component.insert(start, start);
        while let Some(n) = queue.pop_front() {
            for &m in &adj[n] {
                if !component.contains_key(m) {
                    component.insert(m, start);
                    queue.push_back(m);
                }
            }
        }
    }
    component
        .into_iter()
        .map(|(n, c)| (n.to_string(), c.to_string()))
        .collect()
}

#[tokio::test]
async fn connected_components_matches_a_reference_across_partitions() {
    use datafusion::arrow::datatypes::Schema;
    use datafusion::arrow::record_batch::RecordBatch;
    use datafusion::datasource::MemTable;
    use datafusion::prelude::{SessionConfig, SessionContext};

    let mut rng = ChaCha8Rng::seed_from_u64(99);
    for round in 0..5 {
        let nodes = 10 + round * 40;
        let edges: Vec<(String, Option<String>)> = (0..nodes * 2 / 3)
            .map(|_| {
                let a = format!("n{}", rng.random_range(0..nodes));
                let b = rng
                    .random_bool(0.8)
                    .then(|| format!("n{}", rng.random_range(0..nodes)));
                (a, b)
            })
            .collect();
        let schema = Arc::new(Schema::new(vec![
            Field::new("a", DataType::Utf8, true),
            Field::new("b", DataType::Utf8, true),
        ]));
        // Four partitions, so partial states are built and merged.
        let partitions: Vec<Vec<RecordBatch>> = edges
            .chunks(edges.len().div_ceil(4).max(1))
            .map(|chunk| {
                let a: StringArray = chunk.iter().map(|(a, _)| Some(a.as_str())).collect();
                let b: StringArray = chunk.iter().map(|(_, b)| b.as_deref()).collect();
                vec![
                    RecordBatch::try_new(Arc::clone(&schema), vec![Arc::new(a), Arc::new(b)])
                        .unwrap(),
                ]
            })
            .collect();
        let ctx = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(4));
        zhenjie_udfs::register_all(&ctx);
        ctx.register_table(
            "links",
            Arc::new(MemTable::try_new(schema, partitions).unwrap()),
        )
        .unwrap();
        let batches = ctx
            .sql(
                "select c['node'] as node, c['component'] as comp \
                 from (select unnest(connected_components(a, b)) as c from links)",
            )
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        let mut got: Vec<(String, String)> = Vec::new();
        for batch in &batches {
            let n = batch
                .column(0)
                .as_any()
                .downcast_ref::<StringArray>()
                .unwrap();
            let c = batch
                .column(1)
                .as_any()
                .downcast_ref::<StringArray>()
                .unwrap();
            for i in 0..batch.num_rows() {
                got.push((n.value(i).to_string(), c.value(i).to_string()));
            }
        }
        got.sort();
        assert_eq!(got, reference_components(&edges), "round {round}");
    }
}
