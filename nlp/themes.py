"""Themes and events: clustering story embeddings, labelling and keeping ids stable.

Pure functions over numpy arrays and texts; nothing here touches the database. This module
keeps the theme state and its stable updates; the clustering lives in ``nlp.theme_clustering``
and the labels in ``nlp.theme_labels`` (both re-exported here).

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

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import numpy as np

from nlp.theme_clustering import (
    Clustering,
    ThemeParams,
    assign_to_existing,
    check_vectors,
    cluster,
    find_events,
    micro_cluster,
    unit_vectors,
)
from nlp.theme_labels import label_clusters

__all__ = [
    "ACTIVE", "EVENT", "THEME", "Clustering", "Theme", "ThemeChange", "ThemeParams", "ThemeState",
    "assign_to_existing", "cluster", "find_events", "label_clusters", "match_clusters",
    "theme_assignments", "update_themes",
]

THEME, EVENT = "theme", "event"
ACTIVE = "active"


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
    x = check_vectors(vectors) if n else np.zeros((0, 384), np.float32)
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
        sims = x[members] @ unit_vectors(centroid)
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
