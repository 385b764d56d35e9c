"""The web pages (`policywatch serve`) through Starlette's test client, on a real DuckDB file:
every page, every search filter, downloads, sorting, paging, and each error a user can cause."""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
from datetime import date, datetime
from urllib.parse import quote

import pytest
from starlette.testclient import TestClient
from web_db import GRANTS, ICB, TRUST, build

from web.app import create_app
from web.highlight import Span, render, sentence_around


@pytest.fixture(scope="module")
def client(tmp_path_factory) -> TestClient:
    path = build(tmp_path_factory.mktemp("web") / "web.duckdb")
    return TestClient(create_app(path), raise_server_exceptions=False)


def rows_of(html: str) -> list[str]:
    body = html.split('<tbody>', 1)[1].split('</tbody>', 1)[0]
    return re.findall(r"<tr>(.*?)</tr>", body, re.S)


def download(client: TestClient, query: str) -> list[dict[str, str]]:
    response = client.get(f"/search?{query}&format=csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.text)))


# ------------------------------------------------------------------------------- search


def test_search_lists_amounts_largest_first_with_story_links(client):
    response = client.get("/search")
    assert response.status_code == 200
    rows = rows_of(response.text)
    assert len(rows) == 50  # one page
    assert "£56m" in rows[0] and "/story/s4-v1-s0?at=" in rows[0]
    assert "page 1 of 2" in response.text


@pytest.mark.parametrize(("query", "expected"), [
    ("role=deficit", {"14000000.0", "6000000.0", "21500000.0"}),
    ("role=deficit&min=10m", {"14000000.0", "21500000.0"}),
    ("role=deficit&max=£14m", {"14000000.0", "6000000.0"}),
    ("org=ashgrove&min=1.2bn", set()),
    ("role=deficit&period=2023/24", {"6000000.0"}),
    ("role=deficit&since=2024-01-01", {"6000000.0", "21500000.0"}),
    ("org=Fernhill+ICB&min=55m", {"55000000.0", "56000000.0"}),
])
def test_amount_filters_match_the_cli(client, query, expected):
    assert {row["value_gbp"] for row in download(client, query)} == expected


def test_rating_and_organisation_searches(client):
    ratings = download(client, "kind=ratings&org=ashgrove")
    assert [r["rating"] for r in ratings] == [
        "inadequate", "special measures", "good", "requires improvement"]
    assert download(client, "kind=ratings&rating=good") == [ratings[2]]
    assert [r["published"] for r in download(client, "kind=ratings&since=2024-03-01")] == [
        "2024-06-15", "2024-06-15"]
    orgs = download(client, "kind=orgs&type=commissioner")
    assert [r["name"] for r in orgs] == [ICB]
    response = client.get("/search?kind=orgs&org=ashgrove")
    assert f'href="/org/{quote(TRUST)}"' in response.text


def test_filters_that_do_not_apply_are_named(client):
    response = client.get("/search?kind=ratings&role=deficit")
    assert response.status_code == 200
    assert "Not used for ratings: role." in response.text


def test_sorting_applies_to_the_whole_result(client):
    rows = download(client, "sort=value_gbp&dir=asc")
    assert [r["value_gbp"] for r in rows[:3]] == ["1000000.0", "2000000.0", "3000000.0"]
    assert {r["org"] for r in download(client, "sort=org&dir=desc")} == {ICB}
    assert [r["org"] for r in download(client, "sort=org&dir=desc&page=2")][-3:] == [TRUST] * 3
    page = client.get("/search?sort=value_gbp&dir=asc")
    assert "value gbp ▲" in page.text and "dir=desc" in page.text


def test_downloads_hold_exactly_the_rows_shown(client):
    second = client.get("/search?page=2")
    assert len(rows_of(second.text)) == GRANTS + 3 - 50
    as_csv = download(client, "page=2")
    as_json = client.get("/search?page=2&format=json").json()
    assert len(as_csv) == len(as_json) == GRANTS + 3 - 50
    assert [r["text"] for r in as_csv] == [r["text"] for r in as_json]
    assert list(as_json[0]) == ["published", "org", "value_gbp", "role", "period", "text",
                                "story_id"]
    for row in as_json:
        assert row["text"] in second.text


def test_paging_links(client):
    first = client.get("/search")
    assert 'rel="next" href="/search?page=2"' in first.text
    second = client.get("/search?page=2")
    assert 'rel="prev"' in second.text and 'rel="next"' not in second.text


@pytest.mark.parametrize(("query", "status", "message"), [
    ("min=lots", 400, "min &#39;lots&#39; is not an amount"),
    ("max=12xyz", 400, "max &#39;12xyz&#39; is not an amount"),
    ("min=20m&max=1m", 400, "min is larger than max"),
    ("since=yesterday", 400, "is not a date: use YYYY-MM-DD"),
    ("kind=people", 400, "kind &#39;people&#39; is not one of"),
    ("role=bribe", 400, "role &#39;bribe&#39; is not one of"),
    ("kind=ratings&rating=superb", 400, "rating &#39;superb&#39; is not one of"),
    ("sort=colour", 400, "sort &#39;colour&#39; is not one of"),
    ("page=two", 400, "page &#39;two&#39; is not a number"),
    ("page=0", 400, "page must be 1 or more"),
    ("page=3", 404, "page 3 is beyond the end: there are 2 page(s)"),
    ("org=Zyxwv+Quorble", 404, "no organisation matches"),
    ("format=xml", 400, "format &#39;xml&#39; is not one of"),
])
def test_bad_search_input_is_a_clear_page(client, query, status, message):
    response = client.get(f"/search?{query}")
    assert response.status_code == status
    assert message in response.text
    assert "Traceback" not in response.text


def test_an_empty_result_is_a_page_not_an_error(client):
    response = client.get("/search?org=ashgrove&role=funding")
    assert response.status_code == 200 and "Nothing matches these filters." in response.text


# ------------------------------------------------------------------------- organisation


def test_organisation_page(client):
    response = client.get(f"/org/{quote(TRUST)}")
    assert response.status_code == 200
    html = response.text
    assert "Type: <strong>provider</strong>" in html
    timeline = html.split('id="ratings-timeline"', 1)[1].split("</figure>", 1)[0]
    assert timeline.count('class="rating-point"') == 4
    # Directions along the scale: requires improvement -> good (up) -> inadequate (down).
    assert "▲ good" in timeline and "▼ inadequate" in timeline
    chart = html.split('id="money-chart"', 1)[1].split("</figure>", 1)[0]
    assert chart.count('class="bar"') == 3 and "2022: £14m (deficit)" in chart
    assert "Ashgrove improves" in html and 'href="/theme/1"' in html
    # Each fact links to its story at the fact's offset, so the story page can single it out.
    amounts = html.split('id="org-amounts"', 1)[1]
    assert re.search(r'href="/story/s3-v1-s0\?at=\d+#focus"', amounts)


def test_organisation_by_alias_or_normalised_name(client):
    assert client.get("/org/ashgrove%20general%20nhs%20trust").status_code == 200


def test_organisation_by_its_stored_id(client):
    response = client.get("/org/x-ashgrove-general-nhs-trust")
    assert response.status_code == 200
    assert f'<h1 id="org-name">{TRUST}</h1>' in response.text
    assert "Id: <code>x-ashgrove-general-nhs-trust</code>" in response.text


def test_unknown_organisation_is_a_404_with_suggestions(client):
    response = client.get("/org/Ashgrove%20Generel%20NHS%20Trust")
    assert response.status_code == 404
    assert "no organisation called" in response.text and f"did you mean {TRUST}" in response.text


# -------------------------------------------------------------------------------- story


def test_story_highlights_facts_and_the_followed_sentence(client):
    search = client.get("/search?role=deficit&period=2022-23")
    link = re.search(r'href="(/story/s1-v1-s0\?at=\d+)#focus"', search.text).group(1)
    html = client.get(link).text
    assert 'class="fact fact-amount" id="amount-0" title="deficit · ' in html
    assert 'class="fact fact-rating"' in html and 'class="fact fact-org"' in html
    focus = re.search(r'<span class="focus" id="focus">(.*?)</span>', html, re.S).group(1)
    assert re.sub(r"<[^>]+>", "", focus) == \
        "Managers said the trust ran a deficit of £14m in 2022-23."
    assert "http://news.test/s1" in html and "2023-03-10" in html


def test_story_errors(client):
    assert client.get("/story/nothing-here").status_code == 404
    response = client.get("/story/s1-v1-s0?at=start")
    assert response.status_code == 400 and "is not a character offset" in response.text


def test_highlight_keeps_markup_nested_and_escaped():
    body = "A <b> trust owes £5m. Next."
    spans = [Span(2, 5, "org", 0, "tag"), Span(3, 9, "org", 1, "overlaps"),
             Span(17, 20, "amount", 0, "deficit")]
    focus = sentence_around(body, "A <b> trust owes £5m.", 17)
    html = str(render(body, spans, focus))
    assert html == ('<span class="focus" id="focus">A <mark class="fact fact-org" id="org-0" '
                    'title="tag">&lt;b&gt;</mark> trust owes <mark class="fact fact-amount" '
                    'id="amount-0" title="deficit">£5m</mark>.</span> Next.')
    assert sentence_around(body, "not there", 3) is None


# ------------------------------------------------------------------------------- themes


def test_themes_and_theme_page(client):
    listing = client.get("/themes")
    assert listing.status_code == 200 and 'href="/theme/1"' in listing.text
    html = client.get("/theme/1").text
    assert "Trust ratings and deficits" in html
    chart = html.split('id="weekly-chart"', 1)[1].split("</figure>", 1)[0]
    bars = re.findall(r'<title>(\d{4}-\d\d-\d\d): (\d+)</title>', chart)
    # One bar per week from the first story to the last, zero weeks included, not cumulative.
    assert len(bars) > 60 and sum(int(n) for _, n in bars) == 3
    assert max(int(n) for _, n in bars) == 1
    assert date.fromisoformat(bars[0][0]).weekday() == 0
    assert "split" in html and 'href="/theme/2"' in html and TRUST in html and "£21.5m" in html


@pytest.mark.parametrize(("url", "status"), [("/theme/99", 404), ("/theme/one", 400)])
def test_theme_errors(client, url, status):
    assert client.get(url).status_code == status


# -------------------------------------------------------------------------- what changed


def test_what_changed_since_a_date(client):
    html = client.get("/changes?since=2024-01-01").text
    changes = html.split('id="rating-changes"', 1)[1].split("</table>", 1)[0]
    assert "▲ good" in changes and "▼ inadequate" in changes
    assert "requires improvement" in changes
    assert "into special measures" in html
    deficits = html.split('id="deficits"', 1)[1].split("</table>", 1)[0]
    assert "£21.5m" in deficits and "£6m" in deficits and "£14m" not in deficits
    later = client.get("/changes?since=2024-03-01").text
    assert "▲ good" not in later and "▼ inadequate" in later


def test_what_changed_defaults_to_the_month_before_the_latest_story(client):
    html = client.get("/changes").text
    assert "What changed since 2024-05-21" in html


def test_what_changed_refuses_a_bad_date(client):
    response = client.get("/changes?since=2024-13-01")
    assert response.status_code == 400 and "is not a date" in response.text


# -------------------------------------------------------------------------------- status


def test_status_page_names_the_failing_source(client):
    html = client.get("/status").text
    failing = html.split('id="failing"', 1)[1].split("</ul>", 1)[0]
    assert "broken-feed" in failing and "good-news" not in failing
    assert "http_500: 4" in html and "good-news" in html


# ---------------------------------------------------------------------- app-wide errors


def test_unknown_path_and_static_files(client):
    missing = client.get("/no/such/page")
    assert missing.status_code == 404 and "no such page" in missing.text
    css = client.get("/static/style.css")
    assert css.status_code == 200 and "mark.fact-amount" in css.text
    assert client.get("/", follow_redirects=False).headers["location"] == "/search"


def test_pages_load_nothing_from_elsewhere(client):
    for url in ("/search", f"/org/{quote(TRUST)}", "/story/s1-v1-s0", "/theme/1", "/changes",
                "/status"):
        html = client.get(url).text
        assert not re.search(r'(?:src|href)="(?:https?:)?//', html.replace(
            'href="http://news.test/', "")), url


def test_missing_database_is_a_503_page(tmp_path):
    client = TestClient(create_app(tmp_path / "none.duckdb"), raise_server_exceptions=False)
    response = client.get("/search")
    assert response.status_code == 503 and "no database at" in response.text


def test_database_locked_by_a_writer_is_a_503_page(tmp_path):
    path = build(tmp_path / "locked.duckdb")
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1]); "
         "print('ready', flush=True); sys.stdin.read()", str(path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        client = TestClient(create_app(path), raise_server_exceptions=False)
        response = client.get("/status")
    finally:
        holder.communicate("")
    assert response.status_code == 503
    assert "is in use" in response.text and "Traceback" not in response.text


# ---------------------------------------------------------------------- the serve command


def test_serve_refuses_a_missing_database_in_one_line(tmp_path):
    from click.testing import CliRunner

    import cli

    result = CliRunner().invoke(cli.cli, ["serve", "--db", str(tmp_path / "none.duckdb")])
    assert result.exit_code != 0
    assert result.output.startswith("Error: no database at ")
    assert len(result.output.strip().splitlines()) == 1


def test_serve_refuses_a_port_in_use_in_one_line(tmp_path):
    import socket

    from click.testing import CliRunner

    import cli

    path = build(tmp_path / "serve.duckdb")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(cli.cli, ["serve", "--db", str(path), "--port", str(port)])
    assert result.exit_code != 0
    assert result.output.startswith(f"Error: cannot listen on 127.0.0.1:{port}: ")


def test_demo_serve_opens_the_pages_over_the_demo_database(tmp_path, monkeypatch):
    """`demo --serve` serves the database it built on 127.0.0.1:8000 (the crawl, extraction
    and clustering are replaced here; the end-to-end tests run them)."""
    from click.testing import CliRunner

    import cli
    import pipeline
    from crawler.run import CrawlReport

    served = []
    report = CrawlReport(started_at=datetime(2026, 1, 1))
    monkeypatch.setattr(pipeline, "run_crawl", lambda *a, **k: report)
    monkeypatch.setattr(pipeline, "process_stories", lambda *a, **k: {
        "org_mentions": 0, "amounts": 0, "ratings": 0})
    monkeypatch.setattr(pipeline, "update_themes_job", lambda *a, **k: {"stories": 0, "themes": 0})
    monkeypatch.setattr(cli, "start_server", lambda *a, **k: served.append((a, k)))
    path = tmp_path / "demo.duckdb"
    result = CliRunner().invoke(cli.cli, ["demo", "--db", str(path), "--serve"])
    assert result.exit_code == 0, result.output
    assert served == [((path, "127.0.0.1", 8000), {"open_browser": True})]
