"""Theme labels: class-based TF-IDF phrases over each theme's stories, with proper names
counted only when most stories use them and people's names never (see ``nlp.themes``)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

_SEGMENT = re.compile(r"[.,;:!?()\[\]{}\"“”‘’/|\n\r\t–—]+|\s[-']\s")
_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9&'\-]*[A-Za-z0-9]|[A-Za-z]")
_CONNECTORS = frozenset({"of", "and", "for", "on", "in", "to", "&"})


@lru_cache(maxsize=1)
def _stop_lists() -> tuple[frozenset[str], frozenset[str]]:
    text = resources.files("nlp").joinpath("data/theme_stopwords.txt").read_text("utf-8")
    words = [w.strip().lower() for w in text.splitlines() if w.strip() and w[0] != "#"]
    return (
        frozenset(w for w in words if w[0] != "+"),
        frozenset(w[1:] for w in words if w[0] == "+"),
    )


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    """scikit-learn's English list plus the news boilerplate in data/theme_stopwords.txt."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS | _stop_lists()[0])


def generic_words() -> frozenset[str]:
    """Domain words ("nhs", "staff") never a phrase alone, allowed inside longer ones."""
    return _stop_lists()[1]


def phrases(
    text: str, stop: frozenset[str] = frozenset(), generic: frozenset[str] | None = None
) -> list[str]:
    """Candidate label phrases of a text: 1-3 words inside one clause, lower-cased.

    A phrase neither starts nor ends with a stop word; its middle word may only be a
    connector (``of``, ``and`` ...), so "secretary of state" qualifies, "said the" does not.
    ``generic`` words ("nhs", "staff") count only inside a phrase with another word.
    """
    stop = stop or stop_words()
    generic = generic_words() if generic is None else generic
    out: list[str] = []
    for segment in _SEGMENT.split(text):
        toks = [t.lower().strip("'-") for t in _TOKEN.findall(segment)]
        toks = [t.removesuffix("'s") for t in toks if t]
        ok = [len(t) > 1 and t not in stop and not t.isdigit() for t in toks]
        gen = [t in generic for t in toks]
        for i, tok in enumerate(toks):
            if not ok[i]:
                continue
            if not gen[i]:
                out.append(tok)
            if i + 1 < len(toks) and ok[i + 1] and not (gen[i] and gen[i + 1]):
                out.append(f"{tok} {toks[i + 1]}")
            if i + 2 < len(toks) and ok[i + 2] and (ok[i + 1] or toks[i + 1] in _CONNECTORS):
                if not (gen[i] and gen[i + 2] and (gen[i + 1] or toks[i + 1] in _CONNECTORS)):
                    out.append(f"{tok} {toks[i + 1]} {toks[i + 2]}")
    return out


def ctfidf(docs_by_theme: Sequence[Sequence[str]]) -> tuple[list[str], np.ndarray]:
    """Class-based TF-IDF of phrases: (vocabulary, (themes, vocabulary) scores).

    Term frequency counts the *stories* of a theme that contain the phrase (so one long
    story repeating a name cannot carry the label); idf = log(1 + A / f) with A the mean
    count per theme and f the phrase's count over all themes (BERTopic's formula).
    """
    from sklearn.feature_extraction.text import CountVectorizer

    stop = stop_words()
    docs = [d for theme_docs in docs_by_theme for d in theme_docs]
    owner = np.repeat(np.arange(len(docs_by_theme)), [len(d) for d in docs_by_theme])
    if not docs:
        return [], np.zeros((len(docs_by_theme), 0))
    vec = CountVectorizer(analyzer=lambda t: phrases(t, stop), binary=True, min_df=2)
    try:
        counts = vec.fit_transform(docs)
    except ValueError:  # no phrase occurs in two stories
        return [], np.zeros((len(docs_by_theme), 0))
    from scipy.sparse import csr_matrix

    onehot = csr_matrix(
        (np.ones(len(docs)), (owner, np.arange(len(docs)))), shape=(len(docs_by_theme), len(docs))
    )
    per_theme = np.asarray((onehot @ counts).todense(), dtype=np.float64)
    sizes = np.maximum(np.array([len(d) for d in docs_by_theme], dtype=np.float64), 1)
    tf = per_theme / sizes[:, None]  # share of the theme's stories using the phrase
    f = per_theme.sum(0)
    a = per_theme.sum() / len(docs_by_theme)
    idf = np.log1p(a / np.maximum(f, 1))
    return list(vec.get_feature_names_out()), tf * idf


def pick_label(
    vocab: Sequence[str], scores: np.ndarray, *, max_phrases: int = 4, top_words: int = 10
) -> tuple[list[str], list[str]]:
    """2-4 readable phrases (no word repeated), and up to 10 key phrases for the theme.

    A longer phrase replaces a word it contains when it scores at least half as much,
    so "waiting list" wins over "waiting".
    """
    order = np.argsort(-scores)
    ranked = [(vocab[i], float(scores[i])) for i in order[:200] if scores[i] > 0]
    if not ranked:
        return [], []
    top = ranked[0][1]
    chosen: list[str] = []
    used: set[str] = set()
    for term, score in ranked:
        if len(chosen) >= max_phrases or (len(chosen) >= 2 and score < 0.35 * top):
            break
        words = term.split()
        # prefer the best longer phrase that contains this one
        while True:  # "care" -> "care quality" -> "care quality commission"
            longer = [
                (t, s) for t, s in ranked if len(t.split()) > len(words) and f" {term} " in f" {t} "
            ]
            if not longer or longer[0][1] < 0.35 * score:
                break
            term, score = longer[0]
            words = term.split()
        content = {_fold(w) for w in words if w not in _CONNECTORS}
        if content & used:
            continue
        chosen.append(term)
        used |= content
    # Keywords: the label's phrases, then the next best phrases that add a word.
    keywords: list[str] = []
    covered: set[str] = set()
    for term in chosen + [t for t, _ in ranked]:
        content = {_fold(w) for w in term.split() if w not in _CONNECTORS}
        if content <= covered:
            continue
        keywords.append(term)
        covered |= content
        if len(keywords) >= top_words:
            break
    return chosen, keywords


def _fold(word: str) -> str:
    """Crude plural folding, enough to keep "film" and "films" out of one label."""
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-3] + "y" if word.endswith("ies") else word[:-1]
    return word


_TITLES = re.compile(
    r"\b(?:Mr|Mrs|Ms|Miss|Dr|Prof|Professor|Sir|Dame|Lord|Lady|Baroness|Cllr)\.?\s+([A-Z][\w'’-]+)"
)
_SPEECH = frozenset({"said", "says", "told", "added", "explained", "warned", "wrote"})
_WORD = re.compile(r"\S+")


def _person_at(toks: list[str], i: int) -> bool:
    """Whether toks[i], toks[i+1] read as a person's name: two Title Case words, not part
    of a longer name, next to speech ("Amira Achebe said", "said Amira Achebe") or set off
    by a comma ("chief executive Amira Achebe, who")."""
    first, last = toks[i], toks[i + 1].rstrip(",.;:")
    if not (re.fullmatch(r"[A-Z][a-z]+", first) and re.fullmatch(r"[A-Z][a-z][\w'’-]*", last)):
        return False
    before = toks[i - 1] if i else ""
    after = toks[i + 2] if i + 2 < len(toks) else ""
    if before[:1].isupper() and not before.endswith((".", ",", ":")):
        return False  # "Vale Integrated Care": inside a longer name
    if after[:1].isupper() and not toks[i + 1].endswith((",", ".")):
        return False
    return (
        after.lower().rstrip(",.") in _SPEECH
        or before.lower() in _SPEECH
        or (toks[i + 1].endswith(",") and before[:1].islower())
    )


@dataclass
class _Usage:
    """How a phrase is written in a theme's stories."""

    form: str  # the most common written form
    share: float  # share of the theme's stories that use it
    name: bool  # written as a proper name (Title Case words) almost everywhere


def _usage(phrase: str, docs: Sequence[str]) -> _Usage:
    pattern = re.compile(r"\b" + r"\W+".join(map(re.escape, phrase.split())) + r"\b", re.I)
    forms: Counter[str] = Counter()
    hits = 0
    for d in docs:
        found = [m.group(0) for m in pattern.finditer(d)]
        hits += bool(found)
        forms.update(found[:5])
    if not forms:
        return _Usage(phrase, 0.0, False)
    named = sum(c for f, c in forms.items() if _is_name(f))
    return _Usage(
        forms.most_common(1)[0][0], hits / max(len(docs), 1), named >= 0.7 * sum(forms.values())
    )


def _is_name(form: str) -> bool:
    """Title Case content words, at least one not an acronym: "Castlebridge", "NHS England"."""
    words = [w for w in re.split(r"\W+", form) if w and w.lower() not in _CONNECTORS]
    return (
        bool(words)
        and all(w[0].isupper() for w in words)
        and any(any(ch.islower() for ch in w) for w in words)
    )


def _people(docs: Sequence[str]) -> set[str]:
    """Lower-cased surnames and first names the stories treat as people ("Ms Patel said")."""
    out: set[str] = set()
    for d in docs:
        out.update(m.group(1).lower() for m in _TITLES.finditer(d))
        toks = _WORD.findall(d)
        for i in range(len(toks) - 1):
            if _person_at(toks, i):
                out.update((toks[i].lower(), toks[i + 1].rstrip(",.;:").lower()))
    return out


def _drop_spelled_out(chosen: list[str]) -> list[str]:
    """Keep one of an acronym and its spelled-out form ("ICB", "integrated care board")."""

    def initials(p: str) -> str:
        return "".join(w[0] for w in p.split() if w not in _CONNECTORS)

    out: list[str] = []
    for p in chosen:
        short = _fold(p) if " " not in p else None
        if any(
            (short and " " in q and initials(q) == short)
            or (" " in p and " " not in q and initials(p) == _fold(q))
            for q in out
        ):
            continue
        out.append(p)
    return out


def _display(usage: _Usage) -> str:
    """A topical phrase in lower case (acronyms kept: "CQC rating"); a name as written."""
    if usage.name:
        return usage.form
    return " ".join(w if w.isupper() and len(w) > 1 else w.lower() for w in usage.form.split())


def label_clusters(
    texts: Sequence[str],
    labels: np.ndarray,
    scores: np.ndarray | None = None,
    *,
    sample: int = 300,
    name_share: float = 0.5,
    name_weight: float = 0.5,
) -> dict[int, tuple[str, list[str]]]:
    """Label every cluster id >= 0: {id: (label, keywords)}; reads at most ``sample`` stories
    per cluster (the most central ones when ``scores`` is given).

    Labels say what a theme is about: a phrase written as a proper name (an organisation,
    a place) counts only when at least ``name_share`` of the theme's stories use it, as
    "NHS England" may, and even then at ``name_weight`` of its score, so topic phrases
    come first; names of people never count.
    """
    ids = sorted(int(c) for c in np.unique(labels) if c >= 0)
    docs_by: list[list[str]] = []
    for c in ids:
        members = np.flatnonzero(labels == c)
        if scores is not None and len(members) > sample:
            members = members[np.argsort(-np.nan_to_num(scores[members], nan=-1))[:sample]]
        else:
            members = members[:sample]
        docs_by.append([texts[i] for i in members])
    vocab, mat = ctfidf(docs_by)
    out: dict[int, tuple[str, list[str]]] = {}
    for row, c in enumerate(ids):
        docs = docs_by[row]
        usage: dict[str, _Usage] = {}
        chosen: list[str] = []
        keywords: list[str] = []
        if len(vocab):
            row_scores = mat[row].copy()
            people = _people(docs)
            # only phrases that can still make the label or replace a part of it
            floor = 0.15 * row_scores.max()
            for i in np.argsort(-row_scores)[:400]:
                if row_scores[i] <= floor:
                    break
                u = usage[vocab[i]] = _usage(vocab[i], docs)
                named = {w.lower() for w in u.form.split() if w.istitle()}
                if (u.name and u.share < name_share) or named & people:
                    row_scores[i] = 0.0
                elif u.name:
                    row_scores[i] *= name_weight
            chosen, keywords = pick_label(vocab, row_scores)
        chosen = _drop_spelled_out(chosen)
        if not chosen:  # nothing shared by two stories: fall back on the first words
            words = [w for w in phrases(docs[0] if docs else "") if " " not in w]
            words = list(dict.fromkeys(words))
            chosen, keywords = words[:2], words[:10]
        label = ", ".join(_display(usage.get(p) or _usage(p, docs)) for p in chosen) or f"theme {c}"
        out[c] = (label, keywords)
    return out


