#!/usr/bin/env python3
"""Peer benchmark: link a demo city's dirty department list to its resident
register with Splink (DuckDB backend), scored against dept_list_truth.

    python3 benches/linkage_splink.py DEMO_DIR [--json] [--u-max-pairs N]

Needs `pip install splink pypinyin opencc` (opencc optional). Works with Splink 4.x and 5.x (the
only difference that matters here is how input tables reach the Linker).
Cleaning, blocking and comparison levels mirror zhenjie's record linker so the
two tools see the same evidence; the timed span covers reading the parquet
files, cleaning, training, scoring and the best-candidate pick.
"""
import json
import resource
import sys
import time

import duckdb
import numpy as np
import pandas as pd
import splink
from pypinyin import lazy_pinyin
from splink import DuckDBAPI, Linker, SettingsCreator, block_on
import splink.comparison_level_library as cll
import splink.comparison_library as cl

THREADS = 2              # the bench machine has 2 cores; zhenjie gets the same
U_MAX_PAIRS = 5e6        # random pairs for u (--u-max-pairs N); seeded for repeatability
LAMBDA_RECALL = 0.9      # a user's prior guess of exact-id recall (no truth used)
ACCEPT, REVIEW = 0.99, 0.5
THRESHOLDS = (0.5, 0.9, 0.99, 0.999)

try:  # traditional -> simplified; optional so the bench still runs without it
    import opencc
    _T2S = opencc.OpenCC("t2s").convert
except Exception:  # noqa: BLE001 - any failure just means "no conversion"
    _T2S = None

# ---------------------------------------------------------------- cleaning
# Full-width ASCII block U+FF01..U+FF5E maps onto ASCII by a fixed offset; the
# ideographic space goes too, so "３７０６ ８１" and "370681" clean identically.
_FOLD = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}
_FOLD[0x3000] = 0x20
_W = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
_CHECK = "10X98765432"


def to18(id15):
    # Legacy 15-digit numbers predate 2000, hence the fixed '19' century.
    s17 = id15[:6] + "19" + id15[6:]
    return s17 + _CHECK[int(np.dot([int(c) for c in s17], _W)) % 11]


def clean_ids(raw):
    s = (raw.str.translate(_FOLD).str.replace(r"[\s\-]", "", regex=True)
         .str.upper().replace("", None))
    is15 = s.str.fullmatch(r"\d{15}").fillna(False).astype(bool)
    s[is15] = s[is15].map(to18)
    # Check characters in bulk: a million per-row Python loops cost seconds.
    shaped = s.str.fullmatch(r"\d{17}[\dX]").fillna(False).astype(bool).to_numpy()
    digits = np.frombuffer("".join(s[shaped]).encode(), np.uint8).reshape(-1, 18)
    want = np.frombuffer(_CHECK.encode(), np.uint8)[(digits[:, :17] - 48) @ _W % 11]
    valid = np.zeros(len(s), bool)
    valid[shaped] = want == digits[:, 17]
    return s, valid


def clean(df):
    """Return the columns Splink compares; the same function serves both sides."""
    out = pd.DataFrame({"uid": df["uid"].astype(str)})
    out["id"], out["id_valid"] = clean_ids(df["id_number"])
    # Sorted digits survive a transposition of two digits, so blocking on them
    # still brings a transposed id next to the right resident.
    out["id_sorted"] = [None if x is None or x != x else "".join(sorted(x))
                        for x in out["id"]]
    # Names repeat a lot: convert each distinct name once. Pinyin is read per
    # character, as zhenjie's table does; whole-name lazy_pinyin would use
    # phrase context (长春 -> changchun, not zhangchun) on ~0.2% of names but
    # costs ~6 s more on a 1M register.
    names = df["name"]
    simp = {n: (_T2S(n) if _T2S else n) for n in names.dropna().unique()}
    chars = {c for n in simp.values() for c in n}
    char_py = {c: lazy_pinyin(c)[0] for c in chars}
    out["name"] = names.map(simp)
    out["name_py"] = out["name"].map(lambda n: "".join(char_py[c] for c in n),
                                     na_action="ignore")
    out["sex"] = df["sex"]
    bd = pd.to_datetime(df["birth_date"], errors="coerce")
    out["birth_date"] = bd.dt.strftime("%Y-%m-%d")
    out["birth_year"] = bd.dt.strftime("%Y")
    # zhenjie's date key: day and month as an unordered pair, so a date
    # written the other way round (5 March for 3 May) blocks alike.
    md = pd.DataFrame({"m": bd.dt.month, "d": bd.dt.day})
    out["birth_key"] = (out["birth_year"] + "-" + md.min(axis=1).astype("Int64").astype(str)
                        + "-" + md.max(axis=1).astype("Int64").astype(str)).where(bd.notna())
    out["phone"] = (df["phone"].str.replace(r"\D", "", regex=True).str[-11:]
                    .replace("", None))
    out["address"] = (df["address"].str.replace(r"^(山东省)?(烟台市)?", "", regex=True)
                      .replace("", None))
    return out


# ---------------------------------------------------------------- model
def settings():
    id_cmp = cl.CustomComparison(output_column_name="id", comparison_levels=[
        cll.NullLevel("id"),
        cll.ExactMatchLevel("id"),
        cll.DamerauLevenshteinLevel("id", 1),
        # Two well-formed but different numbers are strong evidence of two
        # people (the "twin" case), so it gets its own level below plain else.
        cll.CustomLevel("id_valid_l AND id_valid_r", "both valid, different"),
        cll.ElseLevel(),
    ])
    name_cmp = cl.CustomComparison(output_column_name="name", comparison_levels=[
        cll.NullLevel("name"),
        cll.ExactMatchLevel("name", term_frequency_adjustments=True),
        cll.ExactMatchLevel("name_py"),            # homophone typo
        cll.JaroWinklerLevel("name_py", 0.9),
        cll.ElseLevel(),
    ])
    dob_cmp = cl.CustomComparison(output_column_name="birth_date", comparison_levels=[
        cll.NullLevel("birth_date"),
        cll.ExactMatchLevel("birth_date"),
        cll.CustomLevel(
            "substr(birth_date_l,1,4) = substr(birth_date_r,1,4)"
            " AND substr(birth_date_l,6,2) = substr(birth_date_r,9,2)"
            " AND substr(birth_date_l,9,2) = substr(birth_date_r,6,2)",
            "day/month swapped"),
        cll.ExactMatchLevel("birth_year"),
        cll.ElseLevel(),
    ])
    return SettingsCreator(
        link_type="link_only",
        unique_id_column_name="uid",
        comparisons=[id_cmp, name_cmp, dob_cmp, cl.ExactMatch("sex"),
                     cl.ExactMatch("phone"), cl.ExactMatch("address")],
        # zhenjie's candidate keys; splink drops pairs found by an earlier rule.
        blocking_rules_to_generate_predictions=[
            block_on("id"),
            block_on("birth_key", "name_py"),
            block_on("phone"),
            block_on("id_sorted"),
            block_on("name_py", "address"),
        ],
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
    )


def make_linker(tables, db_api):
    """Splink 5 wants tables registered with the db API; Splink 4 takes them raw."""
    names = list(tables)  # 'a_list' < 'b_register' fixes source_dataset order
    if hasattr(db_api, "register"):
        sdfs = [db_api.register(tables[n], dataset_display_name=n) for n in names]
        return Linker(sdfs, settings())
    return Linker([tables[n] for n in names], settings(), db_api,
                  input_table_aliases=names)


# ---------------------------------------------------------------- run
def run(demo, u_max_pairs=U_MAX_PAIRS):
    t0 = time.perf_counter()
    reg = pd.read_parquet(f"{demo}/persons.parquet").rename(columns={"id_number": "uid"})
    reg["id_number"] = reg["uid"]
    lst = pd.read_parquet(f"{demo}/dept_list.parquet").rename(columns={"row_id": "uid"})
    tables = {"a_list": clean(lst), "b_register": clean(reg)}
    t_clean = time.perf_counter()

    con = duckdb.connect()
    con.execute(f"SET threads = {THREADS}")
    db_api = DuckDBAPI(connection=con)
    linker = make_linker(tables, db_api)
    tr = linker.training
    tr.estimate_probability_two_random_records_match([block_on("id")], recall=LAMBDA_RECALL)
    tr.estimate_u_using_random_sampling(max_pairs=u_max_pairs, seed=1)
    # Session 1 trains id/sex/phone/address m's; session 2 the name and birth
    # date m's that session 1 must skip because its rule fixes them. Sorted id
    # digits rather than the exact id: an exact-id block holds almost no
    # non-matches, leaving the "else" levels unobserved and their m untrained.
    tr.estimate_parameters_using_expectation_maximisation(block_on("name_py", "birth_year"))
    tr.estimate_parameters_using_expectation_maximisation(block_on("id_sorted"))
    t_train = time.perf_counter()

    # Levels that training never observed fall back to Splink's generic
    # defaults; list them so a reader knows which weights are guesses.
    untrained = [f"{c.output_column_name}: {lv.label_for_charts}"
                 for c in linker._settings_obj.comparisons
                 for lv in c.comparison_levels if not lv._has_estimated_values]

    pred = linker.inference.predict()
    t_pred = time.perf_counter()
    pairs = con.sql(f"SELECT count(*) FROM {pred.physical_name}").fetchall()[0][0]
    # Splink may put either dataset on the left; normalise to (list row, resident).
    best = con.sql(f"""
        WITH p AS (
          SELECT CASE WHEN source_dataset_l = 'a_list' THEN uid_l ELSE uid_r END AS row_id,
                 CASE WHEN source_dataset_l = 'a_list' THEN uid_r ELSE uid_l END AS resident,
                 match_probability AS p
          FROM {pred.physical_name})
        SELECT row_id::BIGINT AS row_id, resident, p FROM p
        QUALIFY row_number() OVER (PARTITION BY row_id ORDER BY p DESC, resident) = 1
    """).df()
    t_end = time.perf_counter()

    truth = pd.read_parquet(f"{demo}/dept_list_truth.parquet")
    ev = truth.merge(best, on="row_id", how="left")
    ev["p"] = ev["p"].fillna(0.0)
    ev["ok"] = ev["resident"].notna() & (ev["resident"] == ev["resident_id"])
    n_true = int(ev["resident_id"].notna().sum())

    def pr(lo, hi=1.01):
        sel = ev[(ev["p"] >= lo) & (ev["p"] < hi)]
        got = int(sel["ok"].sum())
        return {"predicted": len(sel), "correct": got,
                "precision": round(got / len(sel), 5) if len(sel) else None,
                "recall": round(got / n_true, 5) if n_true else None}

    acc = ev[ev["p"] >= ACCEPT]
    absent = acc[acc["resident_id"].isna()]
    twin = absent["dirt"].fillna("").str.contains("twin")
    secs = t_end - t0
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "tool": "splink", "splink_version": splink.__version__,
        "duckdb_version": duckdb.__version__, "opencc": _T2S is not None,
        "demo": demo, "list_rows": len(lst), "register_rows": len(reg),
        "u_max_pairs": u_max_pairs, "seconds": round(secs, 2),
        "stage_seconds": {"read_clean": round(t_clean - t0, 2),
                          "train": round(t_train - t_clean, 2),
                          "predict": round(t_pred - t_train, 2),
                          "best_per_row": round(t_end - t_pred, 2)},
        "peak_rss_mib": round(rss_mib, 1), "pairs": pairs,
        "pairs_per_sec": round(pairs / secs),
        "predict_pairs_per_sec": round(pairs / (t_pred - t_train)),
        "true_links": n_true,
        "list_twins": int(ev["dirt"].fillna("").str.contains("twin").sum()),
        "list_outsiders": int(ev["dirt"].fillna("").str.contains("outsider").sum()),
        "lambda": linker._settings_obj._probability_two_random_records_match,
        "untrained_levels": untrained,
        "accept": pr(ACCEPT), "accept_review": pr(REVIEW),
        "accept_wrong_twins": int(twin.sum()),
        "accept_wrong_outsiders": int((~twin).sum()),
        "thresholds": {str(t): pr(t) for t in THRESHOLDS},
    }


def main(argv):
    args = [a for a in argv if not a.startswith("--")]
    u_pairs = U_MAX_PAIRS
    if "--u-max-pairs" in argv:
        u_pairs = float(argv[argv.index("--u-max-pairs") + 1])
        args.remove(argv[argv.index("--u-max-pairs") + 1])
    if len(args) != 1:
        sys.exit("usage: linkage_splink.py DEMO_DIR [--json] [--u-max-pairs N]")
    if "--json" in argv:
        # Splink logs progress at INFO; keep stdout one JSON object per line.
        import logging
        logging.getLogger("splink").setLevel(logging.WARNING)
    r = run(args[0].rstrip("/"), u_pairs)
    if "--json" in argv:
        print(json.dumps(r, ensure_ascii=False))
        return
    s = r["stage_seconds"]
    print(f"splink {r['splink_version']} (duckdb {r['duckdb_version']}, {THREADS} threads,"
          f" opencc {'on' if r['opencc'] else 'off'}) on {r['demo']}")
    print(f"  list {r['list_rows']:,} rows x register {r['register_rows']:,};"
          f" {r['true_links']:,} rows have a true resident")
    print(f"  {r['seconds']:.1f} s total (read+clean {s['read_clean']}, train {s['train']},"
          f" predict {s['predict']}, best {s['best_per_row']}); peak RSS"
          f" {r['peak_rss_mib']:.0f} MiB")
    print(f"  {r['pairs']:,} pairs scored, {r['pairs_per_sec']:,} pairs/s end to end,"
          f" {r['predict_pairs_per_sec']:,} pairs/s in predict alone")
    for label, k in (("accept (p>=0.99)", "accept"), ("accept+review (p>=0.5)", "accept_review")):
        b = r[k]
        print(f"  {label:24s} precision {b['precision']:.4f} recall {b['recall']:.4f}"
              f" ({b['correct']:,}/{b['predicted']:,})")
    print(f"  wrongly accepted: {r['accept_wrong_twins']} of {r['list_twins']} twins,"
          f" {r['accept_wrong_outsiders']} of {r['list_outsiders']} outsiders")
    if r["untrained_levels"]:
        print(f"  untrained (default m/u): {'; '.join(r['untrained_levels'])}")
    for t, b in r["thresholds"].items():
        print(f"  p>={t:<6} precision {b['precision']:.4f} recall {b['recall']:.4f}")


if __name__ == "__main__":
    main(sys.argv[1:])
