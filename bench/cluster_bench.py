"""Clustering benchmarks: public sets, our Dutch eval set, and scale.

Usage::

    .venv/bin/python bench/cluster_bench.py                  # all quality sets + 100k scale
    .venv/bin/python bench/cluster_bench.py --sets so --seeds 5
    .venv/bin/python bench/cluster_bench.py --sets scale --with-1m

The public sets are read from ``../shared/bench-data`` relative to the repo root (or ``--data``)
and are never shipped. Discover mode never sees labels; labels are only used for scoring.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import resource
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import psutil
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score, v_measure_score

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from aggregation.clustering import (  # noqa: E402
    AnswerText,
    ClusterConfig,
    ThemeModel,
    fit_themes,
)
from aggregation.text import tokenise  # noqa: E402

EVAL_PATH = REPO / "tests" / "data" / "themes_eval.jsonl"


def cluster_acc(y_true: Sequence[object], y_pred: Sequence[object]) -> float:
    """Best one-to-one matching accuracy (Hungarian)."""
    t_vals, t_idx = np.unique(np.asarray(y_true, dtype=str), return_inverse=True)
    p_vals, p_idx = np.unique(np.asarray(y_pred, dtype=str), return_inverse=True)
    w = np.zeros((len(p_vals), len(t_vals)), dtype=np.int64)
    np.add.at(w, (p_idx, t_idx), 1)
    rows, cols = linear_sum_assignment(-w)
    return float(w[rows, cols].sum()) / len(y_true)


def scores(y_true: Sequence[object], y_pred: Sequence[object]) -> dict[str, float]:
    yt = np.asarray(y_true, dtype=str)
    yp = np.asarray(y_pred, dtype=str)
    return {
        "acc": 100 * cluster_acc(yt, yp),
        "nmi": 100 * normalized_mutual_info_score(yt, yp),
        "ari": 100 * adjusted_rand_score(yt, yp),
        "v": v_measure_score(yt, yp),
    }


def load_stackoverflow(data: Path) -> tuple[list[str], list[str]]:
    d = data / "stackoverflow"
    texts = (d / "StackOverflow.txt").read_text(encoding="utf-8").splitlines()
    labels = (d / "StackOverflow_gnd.txt").read_text(encoding="utf-8").split()
    assert len(texts) == len(labels) == 20_000
    return texts, labels


def load_sib(data: Path) -> tuple[list[str], list[str]]:
    texts: list[str] = []
    labels: list[str] = []
    for name in ("train.tsv", "dev.tsv", "test.tsv"):
        lines = (data / "sib200-nld" / name).read_text(encoding="utf-8").splitlines()
        for line in lines[1:]:
            parts = line.split("\t")
            if len(parts) >= 3:
                labels.append(parts[1])
                texts.append(parts[2])
    return texts, labels


def load_eval(split: str | None = None) -> list[dict[str, object]]:
    rows = [json.loads(line) for line in EVAL_PATH.read_text(encoding="utf-8").splitlines()]
    if split:
        rows = [r for r in rows if r["split"] == split]
    return rows


def as_answers(texts: Sequence[str]) -> list[AnswerText]:
    return [AnswerText(id=str(i), text=t, respondent_id=str(i)) for i, t in enumerate(texts)]


def run_seeds(
    name: str,
    texts: list[str],
    labels: list[str],
    *,
    k: int | None,
    config: ClusterConfig,
    seeds: int,
    mode: str = "discover",
    k_min: int = 10,
) -> dict[str, tuple[float, float]]:
    results: list[dict[str, float]] = []
    times: list[float] = []
    embedded: set[str] = set()
    answers = as_answers(texts)
    for seed in range(seeds):
        t0 = time.perf_counter()
        model, assigned = fit_themes(
            answers,
            mode=mode,
            k=k,
            k_min=k_min,
            random_state=seed,
            config=config,  # type: ignore[arg-type]
        )
        times.append(time.perf_counter() - t0)
        embedded.add("emb" if model.embeddings else "sparse")
        results.append(scores(labels, [a.theme_id for a in assigned]))
    summary = {
        key: (float(np.mean([r[key] for r in results])), float(np.std([r[key] for r in results])))
        for key in results[0]
    }
    print(
        f"{name:<34} ACC {summary['acc'][0]:5.1f} ± {summary['acc'][1]:.1f}  "
        f"NMI {summary['nmi'][0]:5.1f} ± {summary['nmi'][1]:.1f}  "
        f"ARI {summary['ari'][0]:5.1f} ± {summary['ari'][1]:.1f}  "
        f"V {summary['v'][0]:.3f} ± {summary['v'][1]:.3f}  "
        f"({np.mean(times):.1f} s/seed, {seeds} seeds, {'+'.join(sorted(embedded))}, "
        f"load {os.getloadavg()[0]:.1f})",
        flush=True,
    )
    return summary


class PeakRSS:
    """Sample memory every 50 ms: RSS of this process, and PSS summed over it and its children.

    Forked workers share the parent's pages copy-on-write, so summing their RSS would count
    shared pages twice; proportional set size (PSS) splits shared pages between processes.
    """

    def __init__(self) -> None:
        self.proc = psutil.Process()
        self.peak_rss = 0
        self.peak_pss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        info = self.proc.memory_full_info()
        self.peak_rss = max(self.peak_rss, info.rss)
        total = info.pss
        for child in self.proc.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                total += child.memory_full_info().pss
        self.peak_pss = max(self.peak_pss, total)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            time.sleep(0.05)

    def __enter__(self) -> PeakRSS:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._sample()
        self._stop.set()
        self._thread.join()


def synthetic_answers(n: int, seed: int = 0) -> list[str]:
    """Recombine halves of our Dutch eval answers into ``n`` new short answers."""
    rows = load_eval()
    words = [str(r["text"]).split() for r in rows]
    rng = np.random.default_rng(seed)
    a = rng.integers(0, len(words), n)
    b = rng.integers(0, len(words), n)
    out: list[str] = []
    for i, j in zip(a.tolist(), b.tolist(), strict=True):
        wi, wj = words[i], words[j]
        out.append(" ".join(wi[: max(2, len(wi) // 2 + 1)] + wj[len(wj) // 2 :]))
    return out


def measure(label: str, fn: Callable[[], object]) -> tuple[float, float]:
    gc.collect()
    with PeakRSS() as mem:
        t0 = time.perf_counter()
        fn()
        wall = time.perf_counter() - t0
    rss, pss = mem.peak_rss / 2**20, mem.peak_pss / 2**20
    print(
        f"  {label:<44} {wall:7.2f} s   peak RSS {rss:6.0f} MiB   PSS(all procs) {pss:6.0f} MiB",
        flush=True,
    )
    return wall, pss


def _tokenise_all(texts: Sequence[str]) -> None:
    for text in texts:
        tokenise(text)


def scale_point(n: int, config: ClusterConfig) -> None:
    texts = synthetic_answers(n)
    answers = as_answers(texts)
    print(f" n = {n:,}")
    measure("baseline: tokenise only", lambda: _tokenise_all(texts))
    holder: dict[str, ThemeModel] = {}

    def fit() -> None:
        model, _ = fit_themes(answers, mode="discover", k=None, config=config)
        holder["model"] = model

    measure("fit_themes(discover) end to end", fit)
    model = holder["model"]
    print(f"  {'embeddings used':<44} {model.embeddings or 'no'}   load {os.getloadavg()}")
    new = synthetic_answers(1000, seed=99)
    model.assign(new)  # warm the stem cache, as a long-running worker would be
    t0 = time.perf_counter()
    model.assign(new)
    print(
        f"  {'assign 1,000 new answers (warm)':<44} {time.perf_counter() - t0:7.3f} s", flush=True
    )
    cold_assign(model, "discover")


COLD_SCRIPT = """
import sys, time, json
sys.path.insert(0, {repo!r})
from aggregation.clustering import load_model
texts = json.load(open({texts!r}))
model = load_model({model!r})
t0 = time.perf_counter()
model.assign(texts)
print(f"{{time.perf_counter() - t0:.3f}}")
"""


def cold_assign(model: ThemeModel, label: str) -> None:
    """Time assign(1,000) in a fresh process (cold stem cache), after loading the pickle."""
    import subprocess
    import tempfile

    from aggregation.clustering import save_model

    with tempfile.TemporaryDirectory() as tmp:
        model_path, texts_path = f"{tmp}/m.pkl", f"{tmp}/t.json"
        save_model(model, model_path)
        Path(texts_path).write_text(json.dumps(synthetic_answers(1000, seed=7)), encoding="utf-8")
        code = COLD_SCRIPT.format(repo=str(REPO), texts=texts_path, model=model_path)
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout.strip()
    print(
        f"  {'assign 1,000 new (cold process, ' + label + ')':<44} {float(out):7.3f} s", flush=True
    )


def run_scale(sizes: Sequence[int], config: ClusterConfig) -> None:
    print(f"Scale (discover, k auto<={config.max_k}, n_jobs={config.n_jobs}, cpu={os.cpu_count()})")
    for n in sizes:
        scale_point(n, config)
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  (ru_maxrss of the bench process over all sizes: {maxrss:.0f} MiB)")


def run_guided_scale(config: ClusterConfig) -> None:
    texts = synthetic_answers(100_000)
    answers = as_answers(texts)
    print(" guided, n = 100,000")
    measure(
        "fit_themes(guided) end to end", lambda: fit_themes(answers, mode="guided", config=config)
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "bench-data")
    parser.add_argument("--sets", default="eval,sib,so,scale", help="comma list: eval,sib,so,scale")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--with-1m", action="store_true", help="also run the 1,000,000 scale point")
    parser.add_argument("--n-jobs", type=int, default=2)
    args = parser.parse_args(argv)
    sets = set(args.sets.split(","))
    print(f"machine: {os.cpu_count()} CPUs, load avg {os.getloadavg()}", flush=True)

    if "eval" in sets:
        cfg = ClusterConfig()
        for split in ("tune", "holdout", None):
            rows = load_eval(split)
            texts = [str(r["text"]) for r in rows]
            labels = [str(r["theme"]) for r in rows]
            name = split or "all"
            run_seeds(
                f"themes_eval[{name}] guided",
                texts,
                labels,
                k=None,
                config=cfg,
                seeds=args.seeds,
                mode="guided",
            )
            run_seeds(
                f"themes_eval[{name}] discover k=12",
                texts,
                labels,
                k=12,
                config=cfg,
                seeds=args.seeds,
            )
        rows = load_eval(None)
        model, _ = fit_themes(
            [
                AnswerText(id=str(r["id"]), text=str(r["text"]), respondent_id=str(r["id"]))
                for r in rows
            ],
            mode="guided",
        )
        cold_assign(model, "guided")
    if "sib" in sets:
        texts, labels = load_sib(args.data)
        run_seeds(
            "SIB-200 nld discover k=7", texts, labels, k=7, config=ClusterConfig(), seeds=args.seeds
        )
    if "so" in sets:
        texts, labels = load_stackoverflow(args.data)
        run_seeds(
            "StackOverflow-20k discover k=20",
            texts,
            labels,
            k=20,
            config=replace(ClusterConfig(), language="english"),
            seeds=args.seeds,
        )
    if "scale" in sets:
        cfg = replace(ClusterConfig(), n_jobs=args.n_jobs)
        sizes = [10_000, 100_000] + ([1_000_000] if args.with_1m else [])
        run_scale(sizes, cfg)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
