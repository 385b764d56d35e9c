"""Benchmark of the themes stage on the BBC News corpus (2,225 articles, 5 desk labels).

Reports, in one run:

* clustering quality (NMI, ARI with outliers as one cluster, homogeneity, outlier share,
  cluster count, topic diversity of the labels) of policywatch's top-level themes, plain
  KMeans (k=5, told the answer) and BERTopic with default settings, all on the same
  embeddings, over several seeds;
* embedding throughput (stories/s) and policywatch NMI for each embedding backend;
* clustering (+ event detection) time and peak traced memory for 2,000, 20,000 and
  100,000 synthetic stories (BBC vectors resampled with noise).

The corpus is read from ../shared (evaluation use only; nothing of it is stored in the
repository). Embeddings are cached under the user cache dir, so reruns skip embedding.

    python benchmarks/themes.py [--csv PATH] [--seeds 3] [--no-bertopic] [--sizes 2000,20000]
                                [--out DIR]   # DIR/<method>.jsonl for the official score.py
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import sys
import time
import tracemalloc
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from nlp import themes as T  # noqa: E402
from nlp.embed import Embedder, default_cache_dir  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared"
DEFAULT_CSV = SHARED / "benchmarks" / "topics" / "bbc_news.csv"


def read_corpus(path: Path) -> tuple[list[str], list[str], list[tuple[str, str]]]:
    csv.field_size_limit(2**31 - 1)
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    if not rows or not {"id", "label", "title", "text"} <= set(rows[0]):
        raise SystemExit(f"{path}: expected columns id,label,title,text")
    return (
        [r["id"] for r in rows],
        [r["label"] for r in rows],
        [(r["title"], r["text"]) for r in rows],
    )


def embed_cached(stories, backend: str, corpus_key: str, max_windows: int = 4) -> np.ndarray:
    """Embed the corpus once per (corpus, backend, windows); later runs load the vectors."""
    cache = default_cache_dir() / "bench"
    cache.mkdir(parents=True, exist_ok=True)
    npy = cache / f"{corpus_key}-{backend}-w{max_windows}.npy"
    if npy.exists():
        return np.load(npy)
    vectors = Embedder(backend, max_windows=max_windows).embed_stories(stories)
    np.save(npy, vectors)
    return vectors


def throughput(stories, backend: str, sample: int) -> dict:
    """Stories/s of embed_stories on a fixed sample (every k-th story), after a warm-up.

    Wall-clock with the default threads, and CPU time with one thread: on a shared, busy
    machine the wall figure depends on the neighbours; one thread's CPU time much less.
    """
    step = max(1, len(stories) // sample)
    chosen = stories[::step][:sample]
    out = {"backend": backend, "stories": len(chosen)}
    for threads in (None, 1):
        embedder = Embedder(backend, threads=threads)
        embedder.embed_stories(chosen[:8])
        wall, cpu = time.perf_counter(), time.process_time()
        embedder.embed_stories(chosen)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        if threads is None:
            out.update(seconds=wall, stories_per_s=len(chosen) / wall)
        else:
            out.update(cpu_seconds_1thread=cpu, stories_per_cpu_s_1thread=len(chosen) / cpu)
    return out


def scores(gold: list[str], pred: np.ndarray, label_words: dict | None = None) -> dict:
    from sklearn.metrics import adjusted_rand_score, homogeneity_score, normalized_mutual_info_score

    pred_s = [str(int(p)) for p in pred]
    kept = [i for i, p in enumerate(pred) if p >= 0]
    out = {
        "nmi": normalized_mutual_info_score(gold, pred_s),
        "ari": adjusted_rand_score(gold, pred_s),
        "hom": homogeneity_score(gold, pred_s),
        "hom_excl": homogeneity_score([gold[i] for i in kept], [pred_s[i] for i in kept])
        if kept
        else float("nan"),
        "outliers": float(np.mean(pred < 0)),
        "clusters": len({int(p) for p in pred if p >= 0}),
    }
    if label_words:  # TD over the top-10 words of every theme, as score.py computes it
        pooled = [w for words in label_words.values() for w in list(dict.fromkeys(words))[:10]]
        out["td"] = len(set(pooled)) / len(pooled) if pooled else float("nan")
    return out


def label_words_of(labels: dict[int, tuple[str, list[str]]]) -> dict[int, list[str]]:
    """Words of each theme's key phrases, in rank order (score.py splits labels so too)."""
    return {c: [w for phrase in kw for w in phrase.split()] for c, (_, kw) in labels.items()}


def run_policywatch(vectors, texts, gold, seed: int) -> tuple[dict, np.ndarray, dict]:
    t0 = time.perf_counter()
    result = T.cluster(vectors, T.ThemeParams(seed=seed))
    t1 = time.perf_counter()
    labels = T.label_clusters(texts, result.labels, result.scores)
    t2 = time.perf_counter()
    s = scores(gold, result.labels, label_words_of(labels))
    s["cluster_s"], s["label_s"] = t1 - t0, t2 - t1
    return s, result.labels, labels


def run_kmeans(vectors, gold, seed: int) -> dict:
    from sklearn.cluster import KMeans

    pred = KMeans(5, n_init=10, random_state=seed).fit_predict(vectors)
    return scores(gold, pred)


def run_bertopic(vectors, texts, gold, seed: int) -> tuple[dict, np.ndarray, dict]:
    """BERTopic defaults (UMAP 5-d + HDBSCAN, min_topic_size 10) on our embeddings.

    Only UMAP's random_state is set (BERTopic's default leaves it unseeded), so that runs
    are repeatable; every other argument is BERTopic's own default.
    """
    from bertopic import BERTopic
    from umap import UMAP

    umap_model = UMAP(
        n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine", random_state=seed
    )
    model = BERTopic(umap_model=umap_model)
    topics, _ = model.fit_transform(texts, embeddings=vectors)
    pred = np.asarray(topics)
    words = {t: [w for w, _ in model.get_topic(t)][:10] for t in set(topics) if t >= 0}
    return scores(gold, pred, words), pred, {t: (" ".join(w), w) for t, w in words.items()}


def synthetic(vectors: np.ndarray, n: int, rng) -> np.ndarray:
    """n stories resampled from the corpus with noise of varying strength.

    Per-story noise sigma in [0.01, 0.04] puts two copies of one article anywhere between
    cosine ~0.96 (a re-published story: an event) and ~0.6 (a different story on the subject).
    """
    base = vectors[rng.integers(0, len(vectors), n)]
    sigma = rng.uniform(0.01, 0.04, size=(n, 1)).astype(np.float32)
    noisy = base + sigma * rng.standard_normal(base.shape).astype(np.float32)
    return noisy / np.linalg.norm(noisy, axis=1, keepdims=True)


def time_scale(vectors: np.ndarray, n: int) -> dict:
    x = synthetic(vectors, n, np.random.default_rng(n))
    tracemalloc.start()
    t0 = time.perf_counter()
    result = T.cluster(x)
    t1 = time.perf_counter()
    events = T.find_events(x, result.micro_labels, result.micro_centroids)
    t2 = time.perf_counter()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "n": n,
        "cluster_s": t1 - t0,
        "events_s": t2 - t1,
        "themes": len(result.centroids),
        "micro": len(result.micro_centroids),
        "events": int(events.max()) + 1,
        "outliers": float(np.mean(result.labels < 0)),
        "peak_mib": peak / 2**20,
    }


def write_pred(path: Path, ids, pred, labels: dict) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for doc_id, p in zip(ids, pred, strict=True):
            row = {"id": doc_id, "theme": int(p)}
            if int(p) in labels:
                row["label"] = " ".join(labels[int(p)][1])
            fh.write(json.dumps(row) + "\n")


def mean_row(rows: list[dict]) -> dict:
    return {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}


def fmt_row(name: str, r: dict) -> str:
    td = f"{r['td']:.3f}" if "td" in r else "  -  "
    return (
        f"{name:<34} {r['nmi']:.3f}  {r['ari']:.3f}  {r['hom']:.3f}  {r['hom_excl']:.3f}  "
        f"{r['outliers']:.3f}  {r['clusters']:>5.1f}  {td}"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--no-bertopic", action="store_true")
    ap.add_argument("--backends", default="onnx-int8,torch")
    ap.add_argument(
        "--sizes",
        default="2000,20000,100000",
        help="synthetic collection sizes to time (comma-separated, '' for none)",
    )
    ap.add_argument(
        "--throughput-sample",
        type=int,
        default=300,
        help="stories embedded to measure throughput (default 300)",
    )
    ap.add_argument("--out", type=Path, help="write <method>.jsonl predictions for score.py")
    ap.add_argument("--json", type=Path, help="write all figures to this JSON file")
    args = ap.parse_args(argv)

    ids, gold, stories = read_corpus(args.csv)
    texts = [f"{t}\n\n{b}" for t, b in stories]
    corpus_key = hashlib.sha256(args.csv.read_bytes()).hexdigest()[:12]
    report: dict = {"corpus": str(args.csv), "documents": len(ids), "seeds": args.seeds}
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)

    backends = [b for b in args.backends.split(",") if b]
    vectors: dict[str, np.ndarray] = {}
    print(
        f"BBC News: {len(ids)} stories, {len(set(gold))} gold labels; "
        f"{args.seeds} seeds; {os.cpu_count()} CPUs"
    )
    print("\n== embedding (headline + body, windows of 256 word pieces, up to 4 averaged)")
    report["embedding"] = {}
    for backend in backends:
        vectors[backend] = embed_cached(stories, backend, corpus_key)
        report["embedding"][backend] = throughput(stories, backend, args.throughput_sample)
    lead_only = embed_cached(stories, backends[0], corpus_key, max_windows=1)
    if "onnx-int8" in vectors and "torch" in vectors:
        cos = (vectors["onnx-int8"] * vectors["torch"]).sum(1)
        report["embedding"]["cosine_int8_vs_fp32"] = {
            "mean": float(cos.mean()),
            "min": float(cos.min()),
        }

    main_backend = backends[0]
    x = vectors[main_backend]
    print(
        f"\n== clustering quality on {main_backend} embeddings (mean of {args.seeds} seeds; "
        "NMI/ARI/hom count outliers as one cluster; hom_x excludes them)"
    )
    print(
        f"{'method':<34} {'NMI':>5}  {'ARI':>5}  {'hom':>5}  {'hom_x':>5}  {'outl':>5}  "
        f"{'clust':>5}  {'TD':>5}"
    )
    pw_rows = []
    for seed in range(args.seeds):
        s, pred, labels = run_policywatch(x, texts, gold, seed)
        pw_rows.append(s)
        if seed == 0:
            report["policywatch_labels"] = {
                str(c): {
                    "label": lab,
                    "size": int((pred == c).sum()),
                    "majority": Counter(
                        g for g, p in zip(gold, pred, strict=True) if p == c
                    ).most_common(1)[0],
                }
                for c, (lab, _) in labels.items()
            }
            if args.out:
                write_pred(args.out / "policywatch.jsonl", ids, pred, labels)
    report["policywatch"] = {"per_seed": pw_rows, "mean": mean_row(pw_rows)}
    print(fmt_row("policywatch themes (k not given)", report["policywatch"]["mean"]))
    km_rows = [run_kmeans(x, gold, seed) for seed in range(args.seeds)]
    report["kmeans5"] = {"per_seed": km_rows, "mean": mean_row(km_rows)}
    print(fmt_row("KMeans k=5 (told k)", report["kmeans5"]["mean"]))
    if not args.no_bertopic:
        try:
            bt_rows = []
            for seed in range(args.seeds):
                s, pred, labels = run_bertopic(x, texts, gold, seed)
                bt_rows.append(s)
                if seed == 0 and args.out:
                    write_pred(args.out / "bertopic.jsonl", ids, pred, labels)
            report["bertopic"] = {"per_seed": bt_rows, "mean": mean_row(bt_rows)}
            print(fmt_row("BERTopic defaults", report["bertopic"]["mean"]))
        except Exception as exc:  # report why, keep the other figures
            report["bertopic"] = {"error": f"{type(exc).__name__}: {exc}"}
            print(f"BERTopic failed: {type(exc).__name__}: {exc}")

    print("\npolicywatch themes, seed 0 (size, majority gold label, purity, label):")
    for c, info in report["policywatch_labels"].items():
        maj, n = info["majority"]
        print(f"  {c:>3} {info['size']:>5}  {maj:<13} {n / info['size']:.2f}  {info['label']}")

    print("\n== embedding backends: throughput and policywatch NMI (mean of seeds)")
    for backend in backends:
        meta = report["embedding"][backend]
        rows = [
            scores(gold, T.cluster(vectors[backend], T.ThemeParams(seed=s)).labels)
            for s in range(args.seeds)
        ]
        meta["policywatch_nmi"] = float(np.mean([r["nmi"] for r in rows]))
        meta["policywatch_clusters"] = float(np.mean([r["clusters"] for r in rows]))
        print(
            f"  {backend:<10} {meta['stories_per_s']:6.1f} stories/s wall "
            f"({meta['stories']} stories in {meta['seconds']:.1f} s), "
            f"{meta['stories_per_cpu_s_1thread']:5.1f} stories per CPU-second on one thread; "
            f"NMI {meta['policywatch_nmi']:.3f}, {meta['policywatch_clusters']:.1f} themes"
        )
    rows = [
        scores(gold, T.cluster(lead_only, T.ThemeParams(seed=s)).labels) for s in range(args.seeds)
    ]
    report["embedding"]["lead_only_nmi"] = float(np.mean([r["nmi"] for r in rows]))
    print(
        f"  {backends[0]} reading only the first 256 word pieces: NMI "
        f"{report['embedding']['lead_only_nmi']:.3f} (windows averaged: "
        f"{report['embedding'][backends[0]]['policywatch_nmi']:.3f})"
    )
    if "cosine_int8_vs_fp32" in report["embedding"]:
        c = report["embedding"]["cosine_int8_vs_fp32"]
        print(f"  cosine int8 vs fp32: mean {c['mean']:.4f}, min {c['min']:.4f}")

    sizes = [int(s) for s in args.sizes.split(",") if s]
    if sizes:
        print("\n== scale: synthetic stories (BBC vectors resampled + noise), clustering + events")
        report["scale"] = []
        for n in sizes:
            r = time_scale(x, n)
            report["scale"].append(r)
            print(
                f"  n={n:>7}: cluster {r['cluster_s']:6.1f} s, events {r['events_s']:5.1f} s, "
                f"{r['micro']} micro-clusters -> {r['themes']} themes, {r['events']} events, "
                f"outliers {r['outliers']:.3f}, peak traced memory {r['peak_mib']:.0f} MiB"
            )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
