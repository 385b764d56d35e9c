"""Themes and events: clustering story embeddings, labelling and keeping ids stable.

Pure functions over numpy arrays and texts; nothing here touches the database.

Two levels:

* **themes** (broad): MiniBatchKMeans over-clusters the stories into ~sqrt(n) micro-clusters,
  then the micro-cluster centroids are merged bottom-up with size-weighted Ward linkage
  (exactly Ward on the stories, with micro-clusters as atoms; under ``exact_below`` stories
  every story is an atom). The number of themes is not given: the dendrogram is cut where
  the exact cosine silhouette of all stories (computed from cluster sums, O(n k)) is
  highest, each cut scored after its too-small groups are absorbed, as they will be.
  A few spherical k-means steps then refine the cut. Up to ``lexical_below`` stories the
  tree is built on the embeddings joined with TF-IDF of the stories' topic words (proper
  names removed, see ``topic_text``): in a small regional collection the embeddings group
  stories by the trusts and towns they name rather than by what happened to them.
  Themes too small to stand are dissolved; their stories, like any story, join the
  nearest theme when their cosine to its centroid is at least ``outlier_similarity``,
  else stay unassigned (-1). Memory is
  O(n x k) and O(m^2) for m micro-clusters, never O(n^2).
* **events** (near-identical stories: the same announcement reported several times):
  connected components of the graph "cosine >= ``event_similarity``", with neighbours
  searched only inside each story's few nearest micro-clusters (an inverted-file index).

Stability: ``update_themes`` assigns new stories to existing themes (``assign_to_existing``)
and only re-clusters when asked or when too many stories fit no theme; a re-cluster maps
new clusters onto old themes by member overlap (Hungarian assignment on Jaccard), so ids
and labels persist, and records splits, merges, creations, retirements and re-labels.

Labels: class-based TF-IDF over a sample of each theme's stories, 1-3-word phrases that
neither start nor end with a stop word and do not cross punctuation, 2-4 of them chosen
greedily without repeating words. Phrases written as proper names count only when most of
the theme's stories use them ("NHS England"), at half weight; people's names never count.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np

THEME, EVENT = "theme", "event"
ACTIVE = "active"


@dataclass(frozen=True)
class ThemeParams:
    """Knobs of the clustering: a priori defaults, checked (not tuned) on BBC News; the
    ``lexical_*`` ones were chosen on the bundled sample site (BBC is above ``lexical_below``)."""

    seed: int = 0
    micro_clusters: int | None = None  # default: round(sqrt(n)), within [8, 1000]
    max_themes: int = 40  # cuts of the dendrogram tried when choosing the number of themes
    exact_below: int = 500  # up to this many stories, Ward runs on the stories themselves
    min_theme_size: int = 5  # lowered to n // 10 (at least 3) for collections under 50
    outlier_similarity: float = 0.2  # cosine to a theme centroid needed to join it
    event_similarity: float = 0.85
    event_probes: int = 3  # micro-clusters searched for each story's near-duplicates
    min_event_size: int = 2
    recluster_share: float = 0.15  # unassigned share of stories that forces a re-cluster
    label_sample: int = 300  # stories per theme read to label it
    match_jaccard: float = 0.25  # member overlap for a new cluster to inherit an old id
    # Topic words beside the embeddings (see ``topic_features``), up to this many stories:
    lexical_below: int = 500
    lexical_weight: float = 2.0  # norm of the word part relative to the unit embedding
    lexical_dims: int = 100


@dataclass
class Clustering:
    """Result of :func:`cluster`: a theme index per story (-1: outlier) and theme centroids."""

    labels: np.ndarray  # (n,) int
    centroids: np.ndarray  # (k, d) mean of members' unit vectors (not renormalised)
    scores: np.ndarray  # (n,) cosine to own theme centroid, nan for outliers
    micro_labels: np.ndarray  # (n,) micro-cluster of each story
    micro_centroids: np.ndarray  # (m, d) normalised


@dataclass
class Theme:
    theme_id: int
    level: str
    label: str
    keywords: list[str]
    centroid: np.ndarray
    created_at: datetime
    updated_at: datetime
    parent_id: int | None = None
    status: str = ACTIVE
    size: int = 0


@dataclass
class ThemeChange:
    changed_at: datetime
    kind: str  # created, merged, split, relabelled, retired
    theme_id: int
    other_ids: list[int]
    detail: str


@dataclass
class ThemeState:
    """Themes, events and memberships; what the store saves and loads (via ``to_dict``)."""

    themes: dict[int, Theme] = field(default_factory=dict)
    # story_id -> (theme_id, score, assigned_at); one map per level
    members: dict[str, tuple[int, float, datetime]] = field(default_factory=dict)
    event_members: dict[str, tuple[int, float, datetime]] = field(default_factory=dict)
    changes: list[ThemeChange] = field(default_factory=list)  # new since loaded

    @property
    def next_id(self) -> int:
        return max(self.themes, default=0) + 1

    def active(self, level: str = THEME) -> list[Theme]:
        return sorted(
            (t for t in self.themes.values() if t.level == level and t.status == ACTIVE),
            key=lambda t: t.theme_id,
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain rows for ``store.themes.save_theme_state``."""
        themes = [
            {
                "theme_id": t.theme_id,
                "level": t.level,
                "parent_id": t.parent_id,
                "label": t.label,
                "keywords": list(t.keywords),
                "centroid": np.asarray(t.centroid, dtype=np.float32),
                "status": t.status,
                "created_at": t.created_at,
                "updated_at": t.updated_at,
            }
            for t in sorted(self.themes.values(), key=lambda t: t.theme_id)
        ]
        members = [
            (tid, sid, float(score), at)
            for mapping in (self.members, self.event_members)
            for sid, (tid, score, at) in mapping.items()
        ]
        changes = [
            {
                "changed_at": c.changed_at,
                "kind": c.kind,
                "theme_id": c.theme_id,
                "other_ids": list(c.other_ids),
                "detail": c.detail,
            }
            for c in self.changes
        ]
        return {"themes": themes, "members": members, "changes": changes}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ThemeState:
        """Rebuild from ``store.themes.load_theme_state``'s rows (changes are not loaded)."""
        state = cls()
        for row in data.get("themes", []):
            state.themes[int(row["theme_id"])] = Theme(
                theme_id=int(row["theme_id"]),
                level=row["level"],
                label=row["label"],
                keywords=list(row.get("keywords") or []),
                centroid=np.asarray(row["centroid"], dtype=np.float32),
                created_at=row["created_at"],
                updated_at=row["updated_at"],
                parent_id=row.get("parent_id"),
                status=row.get("status") or ACTIVE,
            )
        for tid, sid, score, at in data.get("members", []):
            theme = state.themes.get(int(tid))
            if theme is None:
                raise ValueError(f"membership of story {sid!r} names unknown theme {tid}")
            target = state.members if theme.level == THEME else state.event_members
            target[sid] = (int(tid), float(score if score is not None else np.nan), at)
            theme.size += 1
        return state


# ---------------------------------------------------------------------- clustering
def _check_vectors(vectors: np.ndarray) -> np.ndarray:
    x = np.asarray(vectors, dtype=np.float32)
    if x.ndim != 2:
        raise ValueError(f"expected a 2-d array of vectors, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("vectors contain NaN or infinite values")
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    if np.any(norms == 0):
        raise ValueError("vectors contain all-zero rows")
    return x / norms


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def group_sums(x: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Row sums of ``x`` per label 0..k-1 (labels < 0 ignored), as float64 (k, d).

    A sparse one-hot product (``np.add.at`` is two orders of magnitude slower), in the
    vectors' own float32 so that no float64 copy of all of them is made.
    """
    from scipy.sparse import csr_matrix

    keep = labels >= 0
    rows = labels[keep]
    onehot = csr_matrix(
        (np.ones(len(rows), dtype=x.dtype), (rows, np.flatnonzero(keep))), shape=(k, len(x))
    )
    return np.asarray(onehot @ x, dtype=np.float64)


def _blocks(n: int, size: int = 8192):
    for start in range(0, n, size):
        yield slice(start, min(n, start + size))


def nearest(
    vectors: np.ndarray, centroids: np.ndarray, k: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Top-k centroids (cosine) of every vector, blockwise: (indices, similarities)."""
    c = _unit(np.asarray(centroids, dtype=np.float32))
    n = len(vectors)
    k = min(k, len(c))
    idx = np.zeros((n, k), dtype=np.int64)
    sim = np.zeros((n, k), dtype=np.float32)
    if n == 0 or len(c) == 0:
        return idx, sim
    for sl in _blocks(n):
        s = vectors[sl] @ c.T
        top = np.argpartition(-s, k - 1, axis=1)[:, :k] if k < s.shape[1] else np.argsort(-s, 1)
        top_s = np.take_along_axis(s, top, axis=1)
        order = np.argsort(-top_s, axis=1)
        idx[sl] = np.take_along_axis(top, order, axis=1)[:, :k]
        sim[sl] = np.take_along_axis(top_s, order, axis=1)[:, :k]
    return idx, sim


def micro_cluster(x: np.ndarray, params: ThemeParams) -> tuple[np.ndarray, np.ndarray]:
    """Over-cluster into ~sqrt(n) micro-clusters: (labels, normalised centroids)."""
    from sklearn.cluster import MiniBatchKMeans

    n = len(x)
    m = params.micro_clusters or int(round(math.sqrt(n)))
    m = max(1, min(m, 1000, n))
    if n >= 8:
        m = max(m, min(8, n))
    km = MiniBatchKMeans(
        n_clusters=m,
        random_state=params.seed,
        batch_size=min(4096, n),
        n_init=1,
        max_no_improvement=20,
        reassignment_ratio=0.001,
    )
    labels = km.fit_predict(x)
    used = np.unique(labels)  # MiniBatchKMeans can leave clusters empty
    remap = np.full(m, -1, dtype=np.int64)
    remap[used] = np.arange(len(used))
    labels = remap[labels]
    return labels, _unit(group_sums(x, labels, len(used))).astype(np.float32)


def ward_tree(centroids: np.ndarray, sizes: np.ndarray) -> list[tuple[int, int, float]]:
    """Size-weighted Ward merges of centroids: [(a, b, cost)], new cluster ids from m up.

    cost(A, B) = |A||B| / (|A|+|B|) * ||mean_A - mean_B||^2 is the increase of within-theme
    sum of squares, so merging micro-clusters is Ward on the stories themselves.
    """
    m = len(centroids)
    means = np.zeros((2 * m, centroids.shape[1]), dtype=np.float64)
    means[:m] = centroids
    size = np.zeros(2 * m, dtype=np.float64)
    size[:m] = sizes
    alive = list(range(m))
    # cost matrix over alive ids, kept in position order of `alive`
    cost = _ward_costs(means[:m], size[:m])
    np.fill_diagonal(cost, np.inf)
    merges: list[tuple[int, int, float]] = []
    next_id = m
    while len(alive) > 1:
        flat = int(np.argmin(cost))
        i, j = divmod(flat, len(alive))
        a, b = alive[i], alive[j]
        merges.append((a, b, float(cost[i, j])))
        na, nb = size[a], size[b]
        means[next_id] = (means[a] * na + means[b] * nb) / (na + nb)
        size[next_id] = na + nb
        keep = [p for p in range(len(alive)) if p not in (i, j)]
        cost = cost[np.ix_(keep, keep)]
        alive = [alive[p] for p in keep] + [next_id]
        row = _ward_costs(means[[next_id]], size[[next_id]], means[alive[:-1]], size[alive[:-1]])
        cost = np.pad(cost, ((0, 1), (0, 1)), constant_values=np.inf)
        cost[-1, :-1] = row[0]
        cost[:-1, -1] = row[0]
        next_id += 1
    return merges


def _ward_costs(a, na, b=None, nb=None) -> np.ndarray:
    if b is None:
        b, nb = a, na
    sq = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * a @ b.T
    w = na[:, None] * nb[None, :] / (na[:, None] + nb[None, :])
    return w * np.maximum(sq, 0)


def cut_tree(merges: list[tuple[int, int, float]], m: int, k: int) -> np.ndarray:
    """Micro-cluster -> group index (0..k-1) after applying the first m-k merges."""
    parent = np.arange(2 * m)
    for step, (a, b, _) in enumerate(merges[: m - k]):
        parent[a] = parent[b] = m + step

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    roots = np.array([root(i) for i in range(m)])
    _, groups = np.unique(roots, return_inverse=True)
    return groups


def cosine_silhouette(x: np.ndarray, labels: np.ndarray) -> float:
    """Exact mean silhouette with cosine distance, in O(n k d) instead of O(n^2 d).

    For unit vectors the mean distance from x to the members of C is 1 - x . sum(C) / |C|,
    so per-cluster sums replace the pairwise distance matrix.
    """
    k = int(labels.max()) + 1
    sizes = np.bincount(labels, minlength=k).astype(np.float64)
    if (sizes > 0).sum() < 2:
        return -1.0
    sums = group_sums(x, labels, k)
    total = 0.0
    for sl in _blocks(len(x)):
        dots = x[sl] @ sums.T.astype(np.float32)  # (b, k)
        lab = labels[sl]
        own_n = sizes[lab]
        own_dot = dots[np.arange(len(lab)), lab]
        with np.errstate(divide="ignore", invalid="ignore"):
            a = 1.0 - (own_dot - 1.0) / (own_n - 1.0)  # excluding the story itself
            mean_d = 1.0 - dots / sizes[None, :]
        mean_d[np.arange(len(lab)), lab] = np.inf
        mean_d[:, sizes == 0] = np.inf
        b = mean_d.min(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            s = (b - a) / np.maximum(a, b)
        s[own_n <= 1] = 0.0  # singletons score 0, as in scikit-learn
        total += float(np.nansum(s))
    return total / len(x)


def absorb_small(x: np.ndarray, labels: np.ndarray, min_size: int) -> np.ndarray:
    """Move the stories of groups under ``min_size`` to the nearest large group's centroid.

    This is what ``cluster`` does to its output anyway, so cuts are scored as they will be
    returned; otherwise many tiny groups of near-duplicates look like a good clustering.
    """
    k = int(labels.max()) + 1
    sizes = np.bincount(labels, minlength=k)
    big = np.flatnonzero(sizes >= min_size)
    if len(big) == k:
        return labels
    if len(big) == 0:  # nothing can stand alone: one group (keeps the largest if any)
        return np.zeros_like(labels)
    best, _ = nearest(x, group_sums(x, labels, k)[big].astype(np.float32), 1)
    out = labels.copy()
    small = sizes[labels] < min_size
    out[small] = big[best[small, 0]]
    _, out = np.unique(out, return_inverse=True)
    return out


def choose_cut(
    x: np.ndarray, micro: np.ndarray, merges, m: int, params: ThemeParams
) -> tuple[int, dict[int, float]]:
    """Number of themes whose cut of the tree has the best cosine silhouette.

    Each cut is scored after its too-small groups are absorbed (see ``absorb_small``); a
    cut that ends up with the same partition as a smaller one is not scored twice.
    """
    scores: dict[int, float] = {}
    for k in range(2, min(params.max_themes, m) + 1):
        groups = absorb_small(x, cut_tree(merges, m, k)[micro], params.min_theme_size)
        effective = int(groups.max()) + 1
        if effective < 2 or (effective < k and effective in scores):
            continue
        scores[k] = cosine_silhouette(x, groups)
    if not scores:
        return 1, scores
    return max(scores, key=lambda k: (scores[k], -k)), scores


def refine(x: np.ndarray, labels: np.ndarray, iterations: int = 10) -> np.ndarray:
    """A few spherical k-means (Lloyd) steps from the given partition.

    Micro-clusters are atoms for the merge; this lets single stories move to the theme
    they are actually closest to once the themes exist.
    """
    k = int(labels.max()) + 1
    for _ in range(iterations):
        sums = group_sums(x, labels, k)
        best, _ = nearest(x, sums.astype(np.float32), 1)
        new = best[:, 0]
        if np.array_equal(new, labels):
            break
        labels = new
    return labels


def cluster(
    vectors: np.ndarray, params: ThemeParams | None = None, texts: Sequence[str] | None = None
) -> Clustering:
    """Cluster stories into themes without being told how many (see module docstring).

    With ``texts`` (row-aligned) and at most ``lexical_below`` stories, the partition is
    found on the embeddings joined with ``topic_features``; centroids, scores and outliers
    are always in embedding space, so new stories can be assigned from vectors alone.
    """
    params = params or ThemeParams()
    emb = _check_vectors(vectors)
    n = len(emb)
    if n == 0:
        e = np.zeros(0, dtype=np.int64)
        return Clustering(e, np.zeros((0, emb.shape[1]), np.float32), np.zeros(0), e, emb[:0])
    # A theme of 5 stories is a tenth of 50: smaller collections have smaller themes.
    params = replace(params, min_theme_size=min(params.min_theme_size, max(3, n // 10)))
    x = emb
    if texts is not None and params.lexical_weight > 0 and 3 <= n <= params.lexical_below:
        if len(texts) != n:
            raise ValueError(f"{len(texts)} texts for {n} vectors")
        words = topic_features(texts, params.lexical_dims, params.seed)
        if words is not None:
            x = _unit(np.hstack([emb, params.lexical_weight * words])).astype(np.float32)
    if n <= params.exact_below:  # small: every story is its own atom, exact Ward
        micro, micro_c = np.arange(n), x.copy()
    else:
        micro, micro_c = micro_cluster(x, params)
    m = len(micro_c)
    sizes = np.bincount(micro, minlength=m).astype(np.float64)
    if m == 1:
        groups = np.zeros(1, dtype=np.int64)
    else:
        merges = ward_tree(micro_c, sizes)
        k, _ = choose_cut(x, micro, merges, m, params)
        groups = cut_tree(merges, m, k)
    labels = refine(x, absorb_small(x, groups[micro], params.min_theme_size))
    labels, centroids, scores = _finalise(emb, labels, params)
    if x is not emb:  # micro-clusters serve event search, which is in embedding space
        micro_c = _unit(group_sums(emb, micro, m)).astype(np.float32)
    return Clustering(labels, centroids, scores, micro, micro_c)


# Title-case words not opening a sentence: names of people, places and organisations.
_NAME = re.compile(r"(?<![.!?:\n\"“‘]\s)(?<![.!?:\n\"“‘])(?<!^)\b[A-Z][a-z][\w'’-]*")


def topic_text(text: str) -> str:
    """The text without capitalised proper names, so that what it is *about* remains.

    Sentence embeddings of a small regional collection group stories by the trusts and
    towns they name; the topic words ("deficit", "strike", "inspection") are what themes
    should share. All-capital acronyms (CQC, GP, ICB) are kept: they are topical.
    """
    return _NAME.sub(" ", text)


def topic_features(texts: Sequence[str], dims: int = 100, seed: int = 0) -> np.ndarray | None:
    """Unit rows of TF-IDF over the topic words of each text, reduced by truncated SVD
    to at most ``dims``; None when no word is shared by two texts."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    stop = stop_words()
    vec = TfidfVectorizer(
        analyzer=lambda t: [p for p in phrases(topic_text(t), stop) if " " not in p],
        sublinear_tf=True,
        min_df=2,
    )
    try:
        tf = vec.fit_transform(texts)
    except ValueError:
        return None
    k = min(dims, tf.shape[0] - 1, tf.shape[1] - 1)
    if k < 2:
        return None
    reduced = TruncatedSVD(k, random_state=seed).fit_transform(tf)
    return _unit(reduced).astype(np.float32)


def _finalise(x: np.ndarray, labels: np.ndarray, params: ThemeParams):
    """Dissolve too-small themes and (re)assign every story to its nearest theme or -1."""
    k = int(labels.max()) + 1 if len(labels) else 0
    counts = np.bincount(labels[labels >= 0], minlength=k)
    keep = np.flatnonzero(counts >= params.min_theme_size)
    if len(keep) == 0:  # everything is small: keep the largest rather than nothing
        keep = np.array([int(np.argmax(counts))])
    centroids = (group_sums(x, labels, k)[keep] / counts[keep, None]).astype(np.float32)
    best, sim = nearest(x, centroids, 1)
    # Stories stay with their own theme if it survived; others go to the nearest one.
    new_labels = np.full(len(x), -1, dtype=np.int64)
    remap = np.full(k, -1, dtype=np.int64)
    remap[keep] = np.arange(len(keep))
    own = remap[labels]
    c_unit = _unit(centroids)
    own_sim = np.full(len(x), -1.0, dtype=np.float32)
    has = own >= 0
    own_sim[has] = np.einsum("ij,ij->i", x[has], c_unit[own[has]])
    use_own = has & (own_sim >= params.outlier_similarity)
    new_labels[use_own] = own[use_own]
    other = ~use_own & (sim[:, 0] >= params.outlier_similarity)
    new_labels[other] = best[other, 0]
    scores = np.full(len(x), np.nan, dtype=np.float32)
    scores[use_own] = own_sim[use_own]
    scores[other] = sim[other, 0]
    # Centroids of the final membership (a theme can lose all members: drop it).
    used = np.unique(new_labels[new_labels >= 0])
    remap2 = np.full(len(keep), -1, dtype=np.int64)
    remap2[used] = np.arange(len(used))
    new_labels = np.where(new_labels >= 0, remap2[np.maximum(new_labels, 0)], -1)
    sums = group_sums(x, new_labels, len(used))
    centroids = (sums / np.bincount(new_labels[new_labels >= 0])[:, None]).astype(np.float32)
    return new_labels, centroids, scores


def assign_to_existing(
    vectors: np.ndarray, theme_centroids: np.ndarray, threshold: float
) -> tuple[np.ndarray, np.ndarray]:
    """Index of the nearest centroid for each vector, or -1 below ``threshold``; and cosines."""
    x = _check_vectors(vectors)
    if len(theme_centroids) == 0:
        return np.full(len(x), -1, dtype=np.int64), np.full(len(x), np.nan, dtype=np.float32)
    best, sim = nearest(x, theme_centroids, 1)
    idx = np.where(sim[:, 0] >= threshold, best[:, 0], -1)
    return idx, sim[:, 0]


def find_events(
    vectors: np.ndarray,
    micro_labels: np.ndarray,
    micro_centroids: np.ndarray,
    params: ThemeParams | None = None,
) -> np.ndarray:
    """Events: connected components of near-identical stories; -1 for stories in none.

    Candidate neighbours of a story are the members of its ``event_probes`` nearest
    micro-clusters (an inverted-file search), so the work is ~n * probes * n/m.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    params = params or ThemeParams()
    x = _check_vectors(vectors)
    n = len(x)
    if n < 2:
        return np.full(n, -1, dtype=np.int64)
    probes, _ = nearest(x, micro_centroids, params.event_probes)
    rows, cols = [], []
    lists = [np.flatnonzero(micro_labels == c) for c in range(len(micro_centroids))]
    for c, members in enumerate(lists):
        if len(members) == 0:
            continue
        queries = np.flatnonzero((probes == c).any(axis=1))
        for sl in _blocks(len(queries), 4096):
            q = queries[sl]
            s = x[q] @ x[members].T
            qi, mi = np.nonzero(s >= params.event_similarity)
            keep = q[qi] != members[mi]
            rows.append(q[qi][keep])
            cols.append(members[mi][keep])
    if not rows or sum(len(r) for r in rows) == 0:
        return np.full(n, -1, dtype=np.int64)
    r = np.concatenate(rows)
    c = np.concatenate(cols)
    graph = coo_matrix((np.ones(len(r), dtype=np.int8), (r, c)), shape=(n, n))
    _, comp = connected_components(graph, directed=False)
    sizes = np.bincount(comp)
    big = sizes >= params.min_event_size
    remap = np.full(len(sizes), -1, dtype=np.int64)
    remap[big] = np.arange(int(big.sum()))
    return remap[comp]


# ---------------------------------------------------------------------- labels
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


# ---------------------------------------------------------------------- stable updates
def match_clusters(
    old: np.ndarray, new: np.ndarray, min_jaccard: float
) -> tuple[dict[int, int], tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Hungarian matching of old cluster ids to new ones by member Jaccard.

    ``old``/``new`` are per-story ids (-1: none). Returns {new: old} for pairs with
    Jaccard >= ``min_jaccard``, and (old ids, new ids, their intersection counts).
    """
    from scipy.optimize import linear_sum_assignment

    both = (old >= 0) & (new >= 0)
    old_ids = np.unique(old[old >= 0])
    new_ids = np.unique(new[new >= 0])
    if len(old_ids) == 0 or len(new_ids) == 0:
        return {}, (old_ids, new_ids, np.zeros((len(old_ids), len(new_ids))))
    oi = np.searchsorted(old_ids, old[both])
    ni = np.searchsorted(new_ids, new[both])
    inter = np.zeros((len(old_ids), len(new_ids)))
    np.add.at(inter, (oi, ni), 1)
    old_size = np.array([(old == o).sum() for o in old_ids], dtype=np.float64)
    new_size = np.array([(new == c).sum() for c in new_ids], dtype=np.float64)
    jac = inter / (old_size[:, None] + new_size[None, :] - inter)
    r, c = linear_sum_assignment(-jac)
    mapping = {
        int(new_ids[j]): int(old_ids[i])
        for i, j in zip(r, c, strict=True)
        if jac[i, j] >= min_jaccard
    }
    return mapping, (old_ids, new_ids, inter)


def update_themes(
    vectors: np.ndarray,
    story_ids: Sequence[str],
    stories: Sequence[tuple[str | None, str]],
    previous: ThemeState | None = None,
    *,
    full_recluster: bool = False,
    params: ThemeParams | None = None,
    now: datetime | None = None,
) -> ThemeState:
    """Bring themes and events up to date with all ``story_ids`` (vectors row-aligned).

    Without ``previous`` (or with ``full_recluster``) the stories are clustered afresh and,
    if there was a previous state, new themes inherit the ids and labels of the old themes
    they overlap most. Otherwise new stories join their nearest theme; a full re-cluster
    happens anyway when more than ``recluster_share`` of the stories fit no theme.
    Events are recomputed every time and matched to the previous ones the same way.
    """
    params = params or ThemeParams()
    now = now or datetime.now(UTC).replace(tzinfo=None)
    n = len(story_ids)
    if len(vectors) != n or len(stories) != n:
        raise ValueError(
            f"vectors ({len(vectors)}), story_ids ({n}) and stories ({len(stories)}) differ"
        )
    if len(set(story_ids)) != n:
        raise ValueError("story_ids contain duplicates")
    x = _check_vectors(vectors) if n else np.zeros((0, 384), np.float32)
    texts = [f"{t or ''}\n\n{b or ''}".strip() for t, b in stories]
    state = _copy_state(previous) if previous else ThemeState()
    prev_themes = state.active(THEME)

    micro = None
    if not prev_themes or full_recluster:
        result = cluster(x, params, texts)
        micro = (result.micro_labels, result.micro_centroids)
        _apply_recluster(state, story_ids, texts, result, params, now)
    else:
        new_idx = [i for i, s in enumerate(story_ids) if s not in state.members]
        if new_idx:
            cents = np.stack([t.centroid for t in prev_themes])
            got, sim = assign_to_existing(x[new_idx], cents, params.outlier_similarity)
            sums = {t.theme_id: t.centroid.astype(np.float64) * t.size for t in prev_themes}
            for i, g, s in zip(new_idx, got, sim, strict=True):
                if g < 0:
                    continue
                theme = prev_themes[g]
                state.members[story_ids[i]] = (theme.theme_id, float(s), now)
                sums[theme.theme_id] += x[i]
                theme.size += 1
            for t in prev_themes:
                if t.size:
                    t.centroid = (sums[t.theme_id] / t.size).astype(np.float32)
                    t.updated_at = now
        present = set(story_ids)
        unassigned = sum(1 for s in story_ids if s not in state.members)
        if n and unassigned > max(params.min_theme_size, params.recluster_share * n):
            result = cluster(x, params, texts)
            micro = (result.micro_labels, result.micro_centroids)
            _apply_recluster(state, story_ids, texts, result, params, now)
        else:
            # members whose stories disappeared (deleted upstream) no longer count
            for sid in [s for s in state.members if s not in present]:
                tid = state.members.pop(sid)[0]
                state.themes[tid].size -= 1
    _update_events(state, x, story_ids, texts, micro, params, now)
    return state


def _copy_state(state: ThemeState) -> ThemeState:
    return ThemeState(
        themes={k: replace(v, keywords=list(v.keywords)) for k, v in state.themes.items()},
        members=dict(state.members),
        event_members=dict(state.event_members),
        changes=[],
    )


def _apply_recluster(
    state: ThemeState,
    story_ids: Sequence[str],
    texts: Sequence[str],
    result: Clustering,
    params: ThemeParams,
    now: datetime,
) -> None:
    """Replace theme memberships with ``result``, keeping ids/labels of matched themes."""
    sid_index = {s: i for i, s in enumerate(story_ids)}
    old = np.full(len(story_ids), -1, dtype=np.int64)
    for sid, (tid, _, _) in state.members.items():
        if sid in sid_index:
            old[sid_index[sid]] = tid
    old_assigned_at = {sid: at for sid, (_, _, at) in state.members.items()}
    mapping, (old_ids, new_ids, inter) = match_clusters(old, result.labels, params.match_jaccard)
    labels = label_clusters(texts, result.labels, result.scores, sample=params.label_sample)
    new_to_id: dict[int, int] = {}
    next_id = state.next_id
    for c in range(len(result.centroids)):
        label, keywords = labels.get(c, (f"theme {c}", []))
        if c in mapping:
            tid = mapping[c]
            theme = state.themes[tid]
            old_words = {w for p in theme.label.lower().split(", ") for w in p.split()}
            if old_words & {w for k in keywords for w in k.split()}:
                theme.keywords = keywords  # same subject: keep the label users know
            else:
                state.changes.append(
                    ThemeChange(now, "relabelled", tid, [], f"{theme.label!r} -> {label!r}")
                )
                theme.label, theme.keywords = label, keywords
            theme.centroid = result.centroids[c]
            theme.updated_at = now
            theme.status = ACTIVE
        else:
            tid = next_id
            next_id += 1
            state.themes[tid] = Theme(
                tid, THEME, label, keywords, result.centroids[c], now, now, status=ACTIVE
            )
        new_to_id[c] = tid

    # History: where did unmatched old themes go, where did unmatched new ones come from.
    matched_old = set(mapping.values())
    for j, c in enumerate(new_ids):
        c = int(c)
        if c in mapping:
            continue
        tid = new_to_id[c]
        col = inter[:, j]
        if len(old_ids) and col.sum() > 0 and col.max() >= 0.5 * col.sum():
            src = int(old_ids[int(np.argmax(col))])
            if src in matched_old:
                state.changes.append(
                    ThemeChange(now, "split", src, [tid], f"{int(col.max())} stories moved")
                )
                continue
        state.changes.append(ThemeChange(now, "created", tid, [], state.themes[tid].label))
    for i, o in enumerate(old_ids):
        o = int(o)
        if o in matched_old:
            continue
        row = inter[i]
        theme = state.themes[o]
        if row.sum() > 0 and row.max() >= 0.5 * row.sum():
            dest = new_to_id[int(new_ids[int(np.argmax(row))])]
            theme.status = "merged"
            state.changes.append(ThemeChange(now, "merged", o, [dest], f"into {dest}"))
        else:
            theme.status = "retired"
            state.changes.append(ThemeChange(now, "retired", o, [], theme.label))
        theme.updated_at = now
    for t in state.active(THEME):
        if t.theme_id not in new_to_id.values():  # active but absent from the data
            t.status = "retired"
            t.updated_at = now
            state.changes.append(ThemeChange(now, "retired", t.theme_id, [], t.label))

    state.members = {}
    for t in state.themes.values():
        if t.level == THEME:
            t.size = 0
    for i, c in enumerate(result.labels):
        if c < 0:
            continue
        tid = new_to_id[int(c)]
        sid = story_ids[i]
        state.members[sid] = (tid, float(result.scores[i]), old_assigned_at.get(sid, now))
        state.themes[tid].size += 1


def _update_events(state, x, story_ids, texts, micro, params: ThemeParams, now) -> None:
    """Recompute events over all stories, keeping ids of events that persist."""
    n = len(story_ids)
    if micro is None:
        micro = micro_cluster(x, params) if n else (np.zeros(0, np.int64), x[:0])
    ev = find_events(x, micro[0], micro[1], params) if n else np.zeros(0, np.int64)
    sid_index = {s: i for i, s in enumerate(story_ids)}
    old = np.full(n, -1, dtype=np.int64)
    for sid, (tid, _, _) in state.event_members.items():
        if sid in sid_index:
            old[sid_index[sid]] = tid
    old_at = {sid: at for sid, (_, _, at) in state.event_members.items()}
    mapping, _ = match_clusters(old, ev, 0.5)
    for t in state.active(EVENT):
        t.status = "retired"  # revived below when matched
    state.event_members = {}
    next_id = state.next_id
    order = np.argsort(ev, kind="stable")  # group members of each event in one pass
    bounds = np.searchsorted(ev[order], np.arange(int(ev.max()) + 2 if n else 1))
    for e in range(len(bounds) - 1):
        members = order[bounds[e] : bounds[e + 1]]
        if len(members) == 0:
            continue
        centroid = x[members].mean(0).astype(np.float32)
        sims = x[members] @ _unit(centroid)
        central = members[int(np.argmax(sims))]
        parents = Counter(
            state.members[story_ids[i]][0] for i in members if story_ids[i] in state.members
        )
        parent = parents.most_common(1)[0][0] if parents else None
        label = _headline(texts[central])
        if e in mapping:
            tid = mapping[e]
            t = state.themes[tid]
            t.status, t.centroid, t.parent_id, t.updated_at = ACTIVE, centroid, parent, now
            t.size = len(members)
        else:
            tid = next_id
            next_id += 1
            state.themes[tid] = Theme(
                tid, EVENT, label, [], centroid, now, now, parent_id=parent, size=len(members)
            )
        for i, s in zip(members, sims, strict=True):
            sid = story_ids[i]
            state.event_members[sid] = (tid, float(s), old_at.get(sid, now))
    # Retired events carry no history worth keeping: drop them.
    for tid in [t.theme_id for t in state.themes.values() if t.level == EVENT]:
        if state.themes[tid].status != ACTIVE:
            del state.themes[tid]


def _headline(text: str, limit: int = 90) -> str:
    first = text.strip().split("\n", 1)[0].strip()
    return first if len(first) <= limit else first[: limit - 1].rsplit(" ", 1)[0] + "…"


def theme_assignments(state: ThemeState, story_ids: Sequence[str]) -> np.ndarray:
    """Theme id of each story (-1 when unassigned), e.g. for scoring."""
    return np.array([state.members.get(s, (-1,))[0] for s in story_ids], dtype=np.int64)
