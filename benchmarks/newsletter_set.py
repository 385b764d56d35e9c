"""Build the test newsletters of ``fixtures/newsletters``: real page chrome, our own stories.

Each page takes a real news page of ``../shared/benchmarks/article-extraction/html`` as its
chrome (navigation, header, sidebars, footer), empties the container that holds the page's
article text and puts a newsletter inside, in one of six layouts:

* ``email``: an e-mail newsletter's web version: nested layout tables, a hidden pre-header,
  a "view in browser" line, a masthead with a tagline and the editor's byline, each story an
  ``<h2>`` in a table cell, a sponsor block, an unsubscribe footer;
* ``h2`` / ``h3``: stories headed by ``<h2>`` or ``<h3>`` elements at varying depths of
  ``section``/``div`` wrappers, a tagline above the first;
* ``strong``: no heading tags; each story a ``div`` that opens with a ``<strong>`` headline
  (in its own paragraph or followed by a line break), stories apart by ``<hr>`` rules;
* ``digest``: a bulleted digest, each item a bold lead-in and a sentence or two;
* ``inbrief``: two or three ``<h2>`` stories and an "In brief" column of bulleted items.

Stories come from ``fixtures/dedup`` (written for this project). The page is run through
``crawler.article.extract_article``; the body it gives is stored as ``docs/<id>.txt``, the page
as ``html/<id>.html.gz`` and the gold stories (offsets into the body, in the format of
``score_stories.py`` and GUIDELINES.md "Stories") in ``gold.jsonl``: a headed story starts at
its headline line, an item without a headline line (a digest bullet) at its first character;
taglines, mastheads, pre-headers, sponsor blocks and footers belong to no story.

    python benchmarks/newsletter_set.py [--chrome DIR] [--out DIR]
"""

from __future__ import annotations

import argparse
import gzip
import html as htmllib
import json
import random
import sys
from pathlib import Path

from lxml import etree
from lxml import html as lxml_html

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crawler.article import extract_article  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CHROME = ROOT.parent / "shared" / "benchmarks" / "article-extraction"
LAYOUTS = ("email", "h2", "h3", "strong", "digest", "inbrief")
PAGES_PER_LAYOUT = 6
# a page whose extracted body keeps more of the chrome page's own text than this before the
# newsletter is skipped (the article was not wholly replaced)
MAX_LEAD_CHARS = 400
# ... or, after the newsletter's last story, more than this (a second article on the page)
MAX_TAIL_CHARS = 800

NAMES = ["Health Policy Daily", "The Care Brief", "NHS Week", "Ward and Board",
         "The Commissioning Letter", "Public Health Post"]
TAGLINES = [
    "What changed in NHS policy today, in five minutes.",
    "The stories that matter to people who run health and care services.",
    "Essential reading for health service leaders, every weekday.",
    "Our pick of the week's news on hospitals, care and public health.",
    "News and analysis for everyone who plans and pays for care.",
    "A short guide to the day's health and care headlines.",
]
PREHEADERS = [
    "Inside: trust finances, a new diagnostic centre and strike dates",
    "Today's briefing is sponsored by a healthcare software firm",
    "Five stories you may have missed this week",
]
SPONSORS = [
    ("Sponsored", "Rostering that nurses like: see how one trust cut agency spend with a "
                  "smarter shift app. Book a demo today."),
    ("Partner message", "Join our free webinar on virtual wards next Tuesday at noon. "
                        "Register now to save your place."),
]
EDITORS = ["Alex Morgan", "Priya Shah", "Tom Ellery", "Ruth Adeyemi"]


def load_stories() -> list[tuple[str, list[str]]]:
    """(headline, paragraphs) of every original and distinct story of ``fixtures/dedup``."""
    stories = []
    folder = ROOT / "fixtures" / "dedup"
    for line in (folder / "republications.jsonl").read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        stories.append((rec["original"]["headline"], rec["original"]["body"].split("\n\n")))
    for line in (folder / "distinct.jsonl").read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        stories.append((rec["headline"], rec["body"].split("\n\n")))
    return stories


def first_sentence(paragraph: str) -> str:
    end = paragraph.find(". ")
    return paragraph if end < 0 else paragraph[: end + 1]


def esc(text: str) -> str:
    return htmllib.escape(text, quote=False)


# ----------------------------------------------------------------------------- layouts
# Each returns the HTML fragment and the gold anchors: (text the story starts with,
# headline or None), in page order.

Anchor = tuple[str, str | None]


def layout_email(stories, rng: random.Random, name: str, tagline: str) -> tuple[str, list[Anchor]]:
    editor = rng.choice(EDITORS)
    sponsor = rng.choice(SPONSORS)
    rows, anchors = [], []
    for k, (head, paras) in enumerate(stories):
        body = "".join(f"<p style='margin:0 0 12px'>{esc(p)}</p>" for p in paras[:2])
        rows.append(
            "<tr><td style='padding:16px'><table width='100%' cellpadding='0' "
            f"cellspacing='0'><tr><td><h2 style='font-size:20px'>{esc(head)}</h2></td></tr>"
            f"<tr><td>{body}</td></tr></table></td></tr>")
        anchors.append((head, head))
        if k == 1:
            rows.append(
                "<tr><td style='background:#eee;padding:12px'>"
                f"<p><b>{esc(sponsor[0])}</b></p><p>{esc(sponsor[1])}</p></td></tr>")
    fragment = (
        f"<div style='display:none'>{esc(rng.choice(PREHEADERS))}</div>"
        "<table width='100%' cellpadding='0' cellspacing='0'><tr><td align='center'>"
        "<p><a href='#'>View this email in your browser</a></p>"
        "<table width='600' cellpadding='0' cellspacing='0'>"
        f"<tr><td><p style='font-size:28px'><b>{esc(name)}</b></p><p>{esc(tagline)}</p>"
        f"<p>Edited by {esc(editor)}</p></td></tr>"
        + "".join(rows)
        + "<tr><td><p>You are receiving this email because you signed up at our website. "
        "<a href='#'>Unsubscribe</a> or <a href='#'>update your preferences</a>.</p>"
        "<p>Copyright 2026 Policy Press Ltd, 1 Example Street, London.</p></td></tr>"
        "</table></td></tr></table>")
    return fragment, anchors


def layout_headed(tag: str):
    def build(stories, rng: random.Random, name: str, tagline: str):
        parts = [f"<p><em>{esc(tagline)}</em></p>"]
        anchors = []
        for head, paras in stories:
            depth = rng.randint(0, 2)
            body = "".join(f"<p>{esc(p)}</p>" for p in paras[: rng.randint(1, 3)])
            inner = f"<{tag}>{esc(head)}</{tag}>{body}"
            for _ in range(depth):
                inner = f"<div class='story-block'>{inner}</div>"
            parts.append(f"<section class='item'>{inner}</section>")
            anchors.append((head, head))
        return "".join(parts), anchors

    return build


def layout_strong(stories, rng: random.Random, name: str, tagline: str):
    parts = [f"<p>{esc(tagline)}</p>"]
    anchors = []
    for k, (head, paras) in enumerate(stories):
        if k:
            parts.append("<hr>")
        body = "".join(f"<p>{esc(p)}</p>" for p in paras[1 : rng.randint(1, 3)])
        if rng.random() < 0.5:
            opening = f"<p><strong>{esc(head)}</strong></p><p>{esc(paras[0])}</p>"
        else:
            opening = f"<p><strong>{esc(head)}</strong><br>{esc(paras[0])}</p>"
        parts.append(f"<div class='story'>{opening}{body}</div>")
        anchors.append((head, head))
    return "".join(parts), anchors


def layout_digest(stories, rng: random.Random, name: str, tagline: str):
    items, anchors = [], []
    for head, paras in stories:
        lead = head.rstrip(".")
        text = f"{lead}: {first_sentence(paras[0])}"
        items.append(f"<li><b>{esc(lead)}:</b> {esc(first_sentence(paras[0]))}</li>")
        anchors.append((text, None))
    fragment = f"<p>{esc(tagline)}</p><ul>{''.join(items)}</ul>"
    return fragment, anchors


def layout_inbrief(stories, rng: random.Random, name: str, tagline: str):
    split = 2 if len(stories) <= 5 else 3
    parts = [f"<p>{esc(tagline)}</p>"]
    anchors = []
    for head, paras in stories[:split]:
        body = "".join(f"<p>{esc(p)}</p>" for p in paras[:2])
        parts.append(f"<h2>{esc(head)}</h2>{body}")
        anchors.append((head, head))
    items = []
    for head, paras in stories[split:]:
        lead = head.rstrip(".")
        items.append(f"<li><strong>{esc(lead)}:</strong> {esc(first_sentence(paras[0]))}</li>")
        anchors.append((f"{lead}: {first_sentence(paras[0])}", None))
    parts.append(f"<div class='in-brief'><h3>In brief</h3><ul>{''.join(items)}</ul></div>")
    return "".join(parts), anchors


BUILDERS = {
    "email": layout_email,
    "h2": layout_headed("h2"),
    "h3": layout_headed("h3"),
    "strong": layout_strong,
    "digest": layout_digest,
    "inbrief": layout_inbrief,
}


# ----------------------------------------------------------------------------- chrome


def _norm(text: str) -> str:
    return " ".join(text.split())


def body_container(tree, article_text: str):
    """The element that holds most paragraphs of the page's article text."""
    paragraphs = {_norm(p) for p in article_text.split("\n") if len(p.split()) >= 6}
    counts: dict = {}
    for p in tree.iter("p"):
        if _norm(p.text_content()) in paragraphs:
            parent = p.getparent()
            counts[parent] = counts.get(parent, 0) + 1
    if not counts:
        return None
    best = max(counts, key=counts.get)
    return best if counts[best] >= 3 else None


def dress(chrome_html: bytes, article_text: str, fragment: str, name: str,
          canonical: str | None = None) -> bytes | None:
    """``chrome_html`` with its article text replaced by ``fragment`` and its title by
    ``name``; None when the page's article container cannot be found. The chrome page's own
    canonical link and ``og:url`` are dropped (they point at its real site); ``canonical``,
    a path, is put in their place under the test server's ``{{BASE_URL}}``."""
    tree = lxml_html.fromstring(chrome_html)
    for link in tree.xpath("//link[@rel='canonical'] | //meta[@property='og:url']"):
        link.getparent().remove(link)
    if canonical is not None:
        head = tree.find("head")
        if head is not None:
            head.append(etree.Element("link", rel="canonical", href="{{BASE_URL}}" + canonical))
    container = body_container(tree, article_text)
    if container is None:
        return None
    paragraphs = {_norm(p) for p in article_text.split("\n") if len(p.split()) >= 6}
    for p in list(tree.iter("p", "li", "blockquote")):  # article text outside the container too
        if _norm(p.text_content()) in paragraphs and p.getparent() is not None:
            p.drop_tree()
    for child in list(container):
        container.remove(child)
    container.text = None
    for elem in lxml_html.fragments_fromstring(fragment):
        if isinstance(elem, str):
            continue
        container.append(elem)
    for h1 in tree.iter("h1"):
        for child in list(h1):
            h1.remove(child)
        h1.text = name
    for title in tree.iter("title"):
        title.text = name
    for meta in tree.iter("meta"):
        if meta.get("property") in ("og:title", "og:description", "twitter:title") or meta.get(
                "name") in ("description", "twitter:title", "twitter:description", "title"):
            meta.set("content", name)
    for script in tree.xpath("//script[@type='application/ld+json']"):
        script.getparent().remove(script)
    return etree.tostring(tree, encoding="utf-8", method="html", doctype="<!DOCTYPE html>")


def gold_for(body: str, anchors: list[Anchor]) -> list[dict] | str:
    """Gold stories for the extracted ``body``, or why the page does not serve."""
    stories, pos = [], 0
    for text, headline in anchors:
        start = body.find(text, pos)
        if start < 0 and headline is None:
            # a bullet the extractor marks ("- ", "• ") starts at its marker
            start = body.find(text[:40], pos)
        if start < 0:
            return f"story start not in the body: {text[:50]!r}"
        line_start = body.rfind("\n", 0, start) + 1
        prefix = body[line_start:start]
        if prefix.strip(" -•*"):
            return f"story start not at a line start: {text[:50]!r}"
        if headline is not None:
            line_end = body.find("\n", start)
            if body[start:line_end if line_end >= 0 else None].strip() != headline:
                return f"headline not on a line of its own: {headline!r}"
        stories.append({"start": line_start, "headline": headline})
        pos = start + len(text)
    if len(body) - pos > MAX_TAIL_CHARS:
        return f"{len(body) - pos} characters of the chrome page's text after the last story"
    return stories


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chrome", type=Path, default=DEFAULT_CHROME)
    ap.add_argument("--out", type=Path, default=ROOT / "fixtures" / "newsletters")
    args = ap.parse_args()
    truth = json.loads((args.chrome / "ground-truth.json").read_text(encoding="utf-8"))
    chrome_ids = sorted(truth)
    rng = random.Random(20261203)
    rng.shuffle(chrome_ids)
    pool = load_stories()
    (args.out / "html").mkdir(parents=True, exist_ok=True)
    (args.out / "docs").mkdir(parents=True, exist_ok=True)
    gold_lines, used = [], 0
    for n, layout in enumerate(LAYOUTS):
        made = 0
        # each layout goes through the chrome pages from its own starting point
        chrome_iter = iter(chrome_ids[n * 20:] + chrome_ids[: n * 20])
        while made < PAGES_PER_LAYOUT:
            chrome_id = next(chrome_iter)
            raw = gzip.decompress((args.chrome / "html" / f"{chrome_id}.html.gz").read_bytes())
            count = rng.randint(3, 5) if layout not in ("digest", "inbrief") else rng.randint(5, 7)
            stories = rng.sample(pool, count)
            name = rng.choice(NAMES)
            fragment, anchors = BUILDERS[layout](stories, rng, name, rng.choice(TAGLINES))
            page = dress(raw, truth[chrome_id]["articleBody"], fragment, name)
            if page is None:
                print(f"skip {chrome_id[:12]}: no article container", file=sys.stderr)
                continue
            body = extract_article(page).body
            gold = gold_for(body, anchors)
            if not isinstance(gold, str) and gold[0]["start"] > MAX_LEAD_CHARS:
                gold = (f"{gold[0]['start']} characters of the chrome page's text before "
                        "the first story")
            if isinstance(gold, str):
                print(f"skip {chrome_id[:12]} ({layout}): {gold}", file=sys.stderr)
                continue
            doc_id = f"nl-{layout}-{made + 1}"
            (args.out / "html" / f"{doc_id}.html.gz").write_bytes(gzip.compress(page, mtime=0))
            (args.out / "docs" / f"{doc_id}.txt").write_text(body, encoding="utf-8")
            gold_lines.append(json.dumps({"id": doc_id, "chrome": chrome_id, "layout": layout,
                                          "stories": gold}, ensure_ascii=False))
            made += 1
            used += 1
    (args.out / "gold.jsonl").write_text("\n".join(gold_lines) + "\n", encoding="utf-8")
    print(f"{used} pages written to {args.out}")
    write_republication(args.out / "articles", chrome_ids[-40:], truth, args.chrome)


def write_republication(folder: Path, chrome_ids: list[str], truth: dict, chrome: Path) -> None:
    """A story of ``fixtures/dedup`` and its republication as two article pages on different
    chrome, each with its own canonical path and headline (``articles/``, for crawl tests)."""
    pair = json.loads((ROOT / "fixtures" / "dedup" / "republications.jsonl")
                      .read_text(encoding="utf-8").splitlines()[0])
    folder.mkdir(parents=True, exist_ok=True)
    pages = [("original", pair["original"], "/news/original.html"),
             ("republication", pair["republication"], "/partners/republished.html")]
    ids = iter(chrome_ids)
    for name, story, canonical in pages:
        fragment = "".join(f"<p>{esc(p)}</p>" for p in story["body"].split("\n\n"))
        page = None
        while page is None:
            chrome_id = next(ids)
            raw = gzip.decompress((chrome / "html" / f"{chrome_id}.html.gz").read_bytes())
            page = dress(raw, truth[chrome_id]["articleBody"], fragment, story["headline"],
                         canonical)
            if page is not None and extract_article(page).body.count(
                    story["body"].split("\n\n")[0][:60]) != 1:
                page = None  # the story must come out once, whole
        (folder / f"{name}.html.gz").write_bytes(gzip.compress(page, mtime=0))


if __name__ == "__main__":
    main()
