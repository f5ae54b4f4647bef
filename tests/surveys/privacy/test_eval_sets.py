"""Regression guard on the labelled evaluation sets (ANON-01, SAFE-02)."""

import json
from pathlib import Path

import pytest

from surveys.privacy import pii, safeguarding

DATA = Path(__file__).resolve().parents[2] / "data"


def load(name: str) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines()]


def test_pii_set_is_well_formed() -> None:
    rows = load("pii_eval.jsonl")
    assert len(rows) >= 300
    types = {s["type"] for r in rows for s in r["spans"]}
    assert types == set(pii.PLACEHOLDERS)
    for row in rows:
        for span in row["spans"]:
            assert 0 <= span["start"] < span["end"] <= len(row["text"])
            assert row["text"][span["start"] : span["end"]].strip()


@pytest.mark.parametrize("split", ["dev", "heldout"])
def test_pii_recall_and_clean_fp(split: str) -> None:
    rows = [r for r in load("pii_eval.jsonl") if r["split"] == split]
    found = total = clean = clean_fp = 0
    for row in rows:
        spans = pii.scrub(row["text"]).spans
        for gold in row["spans"]:
            total += 1
            found += any(s.start < gold["end"] and gold["start"] < s.end for s in spans)
        if not row["spans"]:
            clean += 1
            clean_fp += bool(spans)
    assert found / total >= 0.95
    assert clean_fp / clean <= 0.10


@pytest.mark.parametrize("split", ["dev", "heldout"])
def test_safeguarding_recall_and_fp(split: str) -> None:
    rows = [r for r in load("safeguarding_eval.jsonl") if r["split"] == split]
    assert len(load("safeguarding_eval.jsonl")) >= 300
    hits: dict[str, list[bool]] = {"crisis": [], "disclosure": [], "none": []}
    for row in rows:
        got = safeguarding.classify(row["text"]).category
        hits[row["category"]].append(got == row["category"])
    assert sum(hits["crisis"]) / len(hits["crisis"]) >= 0.95
    assert sum(hits["disclosure"]) / len(hits["disclosure"]) >= 0.95
    assert 1 - sum(hits["none"]) / len(hits["none"]) <= 0.10
