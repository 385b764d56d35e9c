"""The Redis side of a shared crawl, against a real redis-server: per-host leases (limit,
delay, expiry of a dead worker's lease) on a fake clock, and crawl rounds (join, resume,
seeding claimed once)."""

from __future__ import annotations

import pytest

redis = pytest.importorskip("redis", reason="the 'scale' extra is not installed")

from crawler.frontier import Frontier  # noqa: E402
from crawler.host_slots import HostSlots  # noqa: E402


class FakeClock:
    def __init__(self) -> None:
        self.ms = 1_000_000

    def __call__(self) -> int:
        return self.ms


@pytest.fixture
def client(redis_url):
    con = redis.Redis.from_url(redis_url)
    yield con
    con.close()


def test_a_host_never_has_more_leases_than_its_limit(client):
    clock = FakeClock()
    slots = HostSlots(client, "t", limit=2, lease_seconds=60, clock=clock)
    assert slots.try_acquire("news.example", "a") == 0
    assert slots.try_acquire("news.example", "b") == 0
    wait = slots.try_acquire("news.example", "c")
    assert 0 < wait <= slots.poll_seconds  # full: ask again soon
    assert slots.try_acquire("other.example", "x") == 0  # hosts are independent
    assert slots.in_flight() == 3
    slots.release("news.example", "a")
    assert slots.try_acquire("news.example", "c") == 0
    assert slots.in_flight() == 3


def test_the_delay_spaces_requests_to_a_host_over_all_workers(client):
    clock = FakeClock()
    worker_1 = HostSlots(client, "t", limit=5, clock=clock)
    worker_2 = HostSlots(client, "t", limit=5, clock=clock)
    assert worker_1.try_acquire("news.example", "a", delay=1.5) == 0
    assert worker_2.try_acquire("news.example", "b", delay=1.5) == pytest.approx(1.5)
    clock.ms += 1000
    assert worker_2.try_acquire("news.example", "b", delay=1.5) == pytest.approx(0.5)
    clock.ms += 500
    assert worker_2.try_acquire("news.example", "b", delay=1.5) == 0


def test_a_dead_workers_lease_expires(client):
    clock = FakeClock()
    slots = HostSlots(client, "t", limit=1, lease_seconds=10, clock=clock)
    assert slots.try_acquire("news.example", "dead-worker") == 0  # never released
    clock.ms += 9_000
    assert slots.try_acquire("news.example", "live") > 0
    clock.ms += 1_001
    assert slots.try_acquire("news.example", "live") == 0
    assert slots.in_flight() == 1


def test_workers_starting_together_share_a_round_and_seed_once(client):
    frontier = Frontier(client, "t")
    assert frontier.join("w1", ["src"]) == 1
    assert frontier.join("w2", ["src"]) == 1  # w1 is alive: same round
    assert frontier.claim_seeding(1, "src") is True
    assert frontier.claim_seeding(1, "src") is False
    assert frontier.claim_seeding(1, "other") is True
    frontier.leave("w1")
    frontier.leave("w2")
    assert frontier.join("w3", ["src"]) == 2  # nobody alive, queue empty: a new round
    assert frontier.claim_seeding(2, "src") is True


def test_a_worker_resumes_the_round_whose_queue_was_left_with_requests(client):
    frontier = Frontier(client, "t")
    assert frontier.join("w1", ["src"]) == 1
    client.zadd(frontier.queue_key("src"), {b"a queued request": 0})
    frontier.leave("w1")  # stopped (or died) with requests queued
    assert frontier.join("w2", ["src"]) == 1
    assert frontier.queued("src") == 1


def test_a_republication_found_by_another_worker_in_the_same_round_is_linked(client):
    from crawl_server import article_text

    from crawler.dedup import MinHashIndex, minhash
    from crawler.shared_dedup import nearest_or_claim

    frontier = Frontier(client, "t")
    original = article_text(5, 400)
    republished = original + "\nIssued by the trust's press office."
    index_1, shared_1 = MinHashIndex(), frontier.shared_fingerprints(1)
    index_2, shared_2 = MinHashIndex(), frontier.shared_fingerprints(1)
    shared_2.catch_up(index_2)  # worker 2 has read the (empty) list ...
    assert nearest_or_claim(index_1, shared_1, "orig", minhash(original)) is None
    # ... and a claim made on that stale reading is refused, writing nothing,
    assert shared_2.publish("copy", minhash(republished), expected=0) is False
    # so worker 2 catches up and links the republication to worker 1's original.
    assert nearest_or_claim(index_2, shared_2, "copy", minhash(republished)) == "orig"
    other = article_text(6, 400)
    assert nearest_or_claim(index_2, shared_2, "other", minhash(other)) is None
    assert nearest_or_claim(index_1, shared_1, "copy-2", minhash(other + " Ends.")) == "other"
    assert frontier.shared_fingerprints(2).read == 0  # each round has its own list


def test_an_article_is_claimed_once_per_round_over_workers_and_sources(client):
    from crawler.state import StoreContext

    frontier = Frontier(client, "t")
    url = "https://news.example/articles/1.html"
    worker_1 = StoreContext(db_path="unused.duckdb")
    worker_2 = StoreContext(db_path="unused.duckdb")
    worker_1.claim_in_round = lambda u: frontier.claim_article(1, u)
    worker_2.claim_in_round = lambda u: frontier.claim_article(1, u)
    assert worker_1.claim_request(url) is True
    assert worker_1.claim_request(url) is False  # another source of the same worker
    assert worker_2.claim_request(url) is False  # another worker
    assert frontier.claim_article(2, url) is True  # next round: fetched again if announced
