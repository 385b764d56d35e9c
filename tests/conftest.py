"""Shared pytest fixtures: a database with a few stored stories, and the sample site."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_SITE = ROOT / "fixtures" / "site"


def add_story(con, *, article_id: str, url: str, title: str, body: str,
              published: datetime | None = None, source: str = "test",
              headline: str | None = None) -> str:
    """Insert an article with one story, as the crawler would; returns the story id."""
    now = datetime(2026, 11, 1, 12, 0)
    con.execute(
        "INSERT INTO articles (article_id, source, url, title, published, first_seen, "
        "last_fetched) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [article_id, source, url, title, published, now, now],
    )
    con.execute(
        "INSERT INTO article_versions (article_id, version, fetched_at, content_hash, body) "
        "VALUES (?, 1, ?, ?, ?)", [article_id, now, f"hash-{article_id}", body],
    )
    story_id = f"{article_id}-v1-s0"
    con.execute(
        "INSERT INTO stories (story_id, article_id, version, story_index, headline, "
        "start_offset, body, published) VALUES (?, ?, 1, 0, ?, 0, ?, ?)",
        [story_id, article_id, headline or title, body, published],
    )
    return story_id


@pytest.fixture(scope="session")
def full_nlp():
    """policywatch's whole extraction pipeline (loaded once, cached by ``load_pipeline``)."""
    from nlp.extract import load_pipeline

    return load_pipeline()


@pytest.fixture
def sample_site() -> Iterator[object]:
    """The bundled sample news site, served on 127.0.0.1 on an ephemeral port."""
    from crawler.sample_site import serve_site

    with serve_site(SAMPLE_SITE) as site:
        yield site


@pytest.fixture
def redis_url(tmp_path_factory) -> Iterator[str]:
    """The URL of a real redis-server of this test alone (127.0.0.1, free port, no
    persistence); the test skips when redis-server is not installed."""
    pytest.importorskip("redis", reason="the 'scale' extra is not installed")
    from redis_server import RedisServer

    with RedisServer(tmp_path_factory.mktemp("redis")) as server:
        yield server.url


@pytest.fixture(scope="session")
def ray_address() -> Iterator[str]:
    """A Ray head on 127.0.0.1 for the scale-out tests: the one at
    $POLICYWATCH_TEST_RAY_ADDRESS (the Makefile's) if set, else one started for this session
    and stopped at its end."""
    from scale.local_ray import LOCAL_ENV, local_ray_head

    os.environ.update(LOCAL_ENV)  # before Ray is imported: it reads them once
    pytest.importorskip("ray")
    if os.environ.get("POLICYWATCH_TEST_RAY_ADDRESS"):
        yield os.environ["POLICYWATCH_TEST_RAY_ADDRESS"]
        return
    with local_ray_head(num_cpus=2) as address:
        yield address
