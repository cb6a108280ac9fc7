#!/usr/bin/env python3
"""Scores a `zhenjie link` output against the demo's truth, in the same terms
as benches/linkage_splink.py prints for Splink, so the two compare line by line.

    python3 benches/linkage_quality.py DEMO_DIR LINKED.parquet SECONDS PEAK_RSS_KIB [--json]

A row counts as predicted in the accept band when zhenjie says `accept`, and at
a threshold t when its match probability is at least t (an exact identity
number is accepted whatever its probability; see linkage/src/link.rs). It is
correct when the matched number is the resident the truth names.
"""
import json
import sys

import pandas as pd

THRESHOLDS = (0.5, 0.9, 0.99, 0.999)


def main(argv):
    args = [a for a in argv if not a.startswith("--")]
    if len(args) != 4:
        sys.exit(__doc__)
    demo, linked, seconds, rss_kib = args[0], args[1], float(args[2]), int(args[3])
    out = pd.read_parquet(linked, columns=["row_id", "match_id_number", "match_band",
                                           "match_probability"])
    truth = pd.read_parquet(f"{demo}/dept_list_truth.parquet")
    ev = truth.merge(out, on="row_id", how="left")
    ev["ok"] = ev["match_id_number"].notna() & (ev["match_id_number"] == ev["resident_id"])
    n_true = int(ev["resident_id"].notna().sum())

    def pr(sel):
        got = int(sel["ok"].sum())
        return {"predicted": len(sel), "correct": got,
                "precision": round(got / len(sel), 5) if len(sel) else None,
                "recall": round(got / n_true, 5) if n_true else None}

    acc = ev[ev["match_band"] == "accept"]
    wrong = acc[~acc["ok"]]
    twin = wrong["dirt"].fillna("").str.contains("twin")
    r = {
        "tool": "zhenjie", "demo": demo, "list_rows": len(out),
        "register_rows": None, "seconds": seconds, "peak_rss_mib": round(rss_kib / 1024, 1),
        "true_links": n_true,
        "list_twins": int(ev["dirt"].fillna("").str.contains("twin").sum()),
        "accept": pr(acc),
        "accept_review": pr(ev[ev["match_band"].isin(["accept", "review"])]),
        "accept_wrong_twins": int(twin.sum()),
        "accept_wrong_other": int((~twin).sum()),
        "wrong_by_dirt": wrong["dirt"].value_counts().to_dict(),
        "thresholds": {str(t): pr(ev[ev["match_id_number"].notna()
                                     & (ev["match_probability"] >= t)]) for t in THRESHOLDS},
    }
    if "--json" in argv:
        print(json.dumps(r, ensure_ascii=False))
        return
    print(f"zhenjie on {demo}: {r['list_rows']:,} list rows, {n_true:,} with a true resident;"
          f" {seconds:.1f} s, peak RSS {r['peak_rss_mib']:.0f} MiB")
    for label, k in (("accept", "accept"), ("accept+review", "accept_review")):
        b = r[k]
        print(f"  {label:24s} precision {b['precision']:.4f} recall {b['recall']:.4f}"
              f" ({b['correct']:,}/{b['predicted']:,})")
    print(f"  wrongly accepted: {r['accept_wrong_twins']} of {r['list_twins']} twins,"
          f" {r['accept_wrong_other']} others")
    for t, b in r["thresholds"].items():
        print(f"  p>={t:<6} precision {b['precision']:.4f} recall {b['recall']:.4f}")


if __name__ == "__main__":
    main(sys.argv[1:])
