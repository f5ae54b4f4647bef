"""Evaluate surveys.privacy.pii and surveys.privacy.safeguarding on the labelled sets.

Usage: python bench/eval_privacy.py [--split dev|heldout|all] [--no-latency]

Span matching is overlap-based: a gold span is found when any predicted span overlaps it
(redaction is what matters; the type-strict figure is shown too). A predicted span is a true
positive when it overlaps any gold span.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from collections import Counter, defaultdict
from pathlib import Path

from surveys.privacy import pii, safeguarding

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"


def load(name: str, split: str) -> list[dict]:
    rows = [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines()]
    return rows if split == "all" else [r for r in rows if r["split"] == split]


def overlaps(a: dict, b: dict) -> bool:
    return a["start"] < b["end"] and b["start"] < a["end"]


def eval_pii(rows: list[dict], verbose: bool) -> None:
    found, strict, total = Counter(), Counter(), Counter()
    pred_tp, pred_all = Counter(), Counter()
    clean = clean_fp = 0
    for row in rows:
        res = pii.scrub(row["text"])
        pred = [{"start": s.start, "end": s.end, "type": s.type} for s in res.spans]
        gold = row["spans"]
        for g in gold:
            total[g["type"]] += 1
            hits = [p for p in pred if overlaps(p, g)]
            if hits:
                found[g["type"]] += 1
                if any(p["type"] == g["type"] for p in hits):
                    strict[g["type"]] += 1
            elif verbose:
                frag = row["text"][g["start"] : g["end"]]
                print(f"  MISS {g['type']:8} {frag!r} in {row['text']!r}")
        for p in pred:
            pred_all[p["type"]] += 1
            if any(overlaps(p, g) for g in gold):
                pred_tp[p["type"]] += 1
            elif verbose:
                frag = row["text"][p["start"] : p["end"]]
                print(f"  FP   {p['type']:8} {frag!r} in {row['text']!r}")
        if not gold:
            clean += 1
            clean_fp += bool(pred)
    print(f"PII spans ({len(rows)} sentences)")
    print(f"  {'type':9} {'recall':>7} {'strict':>7} {'prec':>7} {'gold':>5} {'pred':>5}")
    for t in sorted(set(total) | set(pred_all)):
        r = found[t] / total[t] if total[t] else float("nan")
        s = strict[t] / total[t] if total[t] else float("nan")
        p = pred_tp[t] / pred_all[t] if pred_all[t] else float("nan")
        print(f"  {t:9} {r:7.3f} {s:7.3f} {p:7.3f} {total[t]:5} {pred_all[t]:5}")
    all_gold = sum(total.values())
    print(
        f"  overall recall {sum(found.values()) / all_gold:.3f}  type-strict "
        f"{sum(strict.values()) / all_gold:.3f}  precision "
        f"{sum(pred_tp.values()) / max(1, sum(pred_all.values())):.3f}"
    )
    print(f"  FP rate on clean sentences: {clean_fp}/{clean} = {clean_fp / max(1, clean):.3f}")


def eval_safeguarding(rows: list[dict], verbose: bool) -> None:
    by_cat: dict[str, list[bool]] = defaultdict(list)
    sub_ok = sub_n = 0
    confusion: Counter[tuple[str, str]] = Counter()
    for row in rows:
        sig = safeguarding.classify(row["text"])
        confusion[(row["category"], sig.category)] += 1
        if row["category"] == "none":
            by_cat["none"].append(sig.category != "none")
        else:
            by_cat[row["category"]].append(sig.category == row["category"])
            if sig.category == row["category"]:
                sub_n += 1
                sub_ok += sig.subtype == row["subtype"]
        if verbose and sig.category != row["category"]:
            print(
                f"  WRONG want {row['category']}/{row['subtype']} got {sig.category}/"
                f"{sig.subtype}: {row['text']!r}"
            )
    print(f"Safeguarding ({len(rows)} sentences)")
    for cat in ("crisis", "disclosure"):
        hits = by_cat[cat]
        print(f"  {cat:10} recall {sum(hits) / max(1, len(hits)):.3f} ({sum(hits)}/{len(hits)})")
    neg = by_cat["none"]
    print(f"  FP rate on negatives: {sum(neg) / max(1, len(neg)):.3f} ({sum(neg)}/{len(neg)})")
    print(f"  subtype accuracy when category right: {sub_ok / max(1, sub_n):.3f}")
    print("  confusion (gold -> predicted):", dict(sorted(confusion.items())))


def bench_latency(rows: list[dict]) -> None:
    rnd = random.Random(7)
    texts = [r["text"] for r in rows]
    messages = []
    for _ in range(200):
        parts: list[str] = []
        while sum(len(p) + 1 for p in parts) < 2000:
            parts.append(rnd.choice(texts))
        messages.append(" ".join(parts)[:2000])
    for m in messages[:10]:
        pii.scrub(m)
        safeguarding.classify(m)
    for label, fn in (("scrub", pii.scrub), ("classify", safeguarding.classify)):
        lat = []
        for m in messages:
            t0 = time.perf_counter()
            fn(m)
            lat.append((time.perf_counter() - t0) * 1000)
        lat.sort()
        p95 = lat[int(0.95 * len(lat)) - 1]
        print(
            f"  {label} latency per 2,000-char message: p50 {statistics.median(lat):.1f} ms,"
            f" p95 {p95:.1f} ms"
        )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--split", default="all", choices=["dev", "heldout", "all", "both"])
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--no-latency", action="store_true")
    args = ap.parse_args()
    splits = ["dev", "heldout"] if args.split == "both" else [args.split]
    for split in splits:
        print(f"=== split: {split} ===")
        eval_pii(load("pii_eval.jsonl", split), args.verbose)
        eval_safeguarding(load("safeguarding_eval.jsonl", split), args.verbose)
    if not args.no_latency:
        print("=== latency ===")
        bench_latency(load("pii_eval.jsonl", "all"))


if __name__ == "__main__":
    main()
