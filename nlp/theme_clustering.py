"""Clustering story embeddings into themes and events: micro-clusters, size-weighted Ward
merges cut at the best cosine silhouette, topic words for small collections, and the
near-duplicate events graph. Pure numpy; see ``nlp.themes`` for the whole design."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from nlp.theme_labels import phrases, stop_words


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


def check_vectors(vectors: np.ndarray) -> np.ndarray:
    x = np.asarray(vectors, dtype=np.float32)
    if x.ndim != 2:
        raise ValueError(f"expected a 2-d array of vectors, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("vectors contain NaN or infinite values")
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    if np.any(norms == 0):
        raise ValueError("vectors contain all-zero rows")
    return x / norms


def unit_vectors(x: np.ndarray) -> np.ndarray:
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
    c = unit_vectors(np.asarray(centroids, dtype=np.float32))
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
    return labels, unit_vectors(group_sums(x, labels, len(used))).astype(np.float32)


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
    emb = check_vectors(vectors)
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
            x = unit_vectors(np.hstack([emb, params.lexical_weight * words])).astype(np.float32)
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
    labels, centroids, scores = finalise_clusters(emb, labels, params)
    if x is not emb:  # micro-clusters serve event search, which is in embedding space
        micro_c = unit_vectors(group_sums(emb, micro, m)).astype(np.float32)
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
    return unit_vectors(reduced).astype(np.float32)


def finalise_clusters(x: np.ndarray, labels: np.ndarray, params: ThemeParams):
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
    c_unit = unit_vectors(centroids)
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
    x = check_vectors(vectors)
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
    x = check_vectors(vectors)
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


