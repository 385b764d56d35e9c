"""Article extraction (crawler/article.py) on small pages written for these tests
(tests/pages/): clutter removal, metadata variants, encodings, canonical links."""

from __future__ import annotations

import codecs
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from crawler.article import Article, ExtractionError, decode_html, extract_article

PAGES = Path(__file__).parent / "pages"
BST = timezone(timedelta(hours=1))


def page(name: str) -> bytes:
    return (PAGES / name).read_bytes()


@pytest.fixture(scope="module")
def jsonld_article() -> Article:
    return extract_article(page("article_jsonld.html"),
                           url="https://wardreport.example/news/2023/harwick-endoscopy-unit")


def test_body_keeps_every_paragraph(jsonld_article: Article) -> None:
    body = jsonld_article.body
    assert body.startswith("Harwick Hospitals Trust has been awarded £12m")
    assert body.endswith("from its own capital budget.")
    for fragment in ("six procedure rooms", "More than 1,800 patients",
                     "“end the scramble for rooms”", "estimated at £2.4m"):
        assert fragment in body
    assert len(body.split("\n\n")) == 5  # one paragraph per block


@pytest.mark.parametrize("clutter", [
    "cookies", "Accept all", "Manage settings",            # cookie banner
    "Workforce", "Opinion", "Search the site",              # navigation and search
    "Share on", "Facebook",                                 # share buttons
    "Related stories", "fourth month running",              # related links
    "leaked every winter", "Retired GP", "Comments",        # reader comments
    "morning briefing", "unsubscribe", "Sign up",           # newsletter box
    "All rights reserved", "Privacy policy", "independent health-policy news site",  # footer
    "By Martha Quill",                                      # byline
])
def test_body_drops_page_furniture(jsonld_article: Article, clutter: str) -> None:
    assert clutter not in jsonld_article.body


def test_headline_is_metadata_not_body(jsonld_article: Article) -> None:
    assert jsonld_article.title == "Harwick trust wins £12m for new endoscopy unit"
    assert jsonld_article.title not in jsonld_article.body


def test_json_ld_metadata(jsonld_article: Article) -> None:
    a = jsonld_article
    assert a.author == "Martha Quill"
    assert a.published == datetime(2023, 6, 13, 8, 30, tzinfo=BST)
    assert a.updated == datetime(2023, 6, 14, 16, 5, tzinfo=BST)
    assert a.canonical_url == "https://wardreport.example/news/2023/harwick-endoscopy-unit"
    assert a.language == "en-GB"
    assert a.description == ("The money will pay for six procedure rooms and cut waiting "
                             "times for cancer tests.")
    assert a.sitename == "The Ward Report"
    assert a.encoding == "utf_8"


def test_meta_tag_metadata() -> None:
    a = extract_article(page("article_meta_tags.html"))
    assert a.title == "Eastcliff practices agree to merge"
    assert a.author == "Owen Pryce"
    assert a.published == datetime(2021, 11, 2, 9, 15, tzinfo=UTC)
    assert a.updated == datetime(2021, 11, 3, 11, 0, tzinfo=UTC)
    # no <link rel="canonical">: og:url stands in
    assert a.canonical_url == "https://coastalhealth.example/2021/11/eastcliff-practices-merge/"
    assert a.language == "en"
    assert a.body.startswith("Three GP practices in Eastcliff")
    assert "Tags" not in a.body and "Copyright" not in a.body
    assert "Social care" not in a.body


def test_time_element_date_and_not_the_comment_time() -> None:
    a = extract_article(page("article_time_element.html"))
    assert a.published == datetime(2022, 2, 8, 7, 45, tzinfo=UTC)
    assert a.updated is None  # the reader comment's later time is not an update
    assert a.body.startswith("A dental practice in Marlow Vale")
    assert "Published" not in a.body
    assert "nowhere to go" not in a.body


def test_windows_1252_declared_as_latin_1() -> None:
    raw = page("article_cp1252.html")
    assert b"\x93unacceptable\x94" in raw  # the stored page really is cp1252 bytes
    a = extract_article(raw)
    assert a.encoding == "cp1252"
    assert "a delay its chief executive called “unacceptable”" in a.body
    assert "ambulance – a delay" in a.body
    assert "The trust’s board" in a.body
    assert "fined £20,000" in a.body and "Café owners" in a.body
    assert not any("\x80" <= ch <= "\x9f" for ch in a.body)
    assert a.title == "Weald ambulance trust fined £20,000"
    assert a.published is None  # only a copyright year on the page: no date


def test_relative_canonical_is_resolved() -> None:
    a = extract_article(page("newsletter_briefing.html"),
                        url="http://127.0.0.1:8080/briefings/latest.html")
    assert a.canonical_url == "http://127.0.0.1:8080/briefings/2024-05-17.html"
    assert a.published == datetime(2024, 5, 17, 7, 0, tzinfo=BST)


def test_str_and_bytes_input_agree() -> None:
    raw = page("article_meta_tags.html")
    from_bytes = extract_article(raw)
    from_str = extract_article(raw.decode("utf-8"))
    assert from_str.body == from_bytes.body
    assert from_str.title == from_bytes.title
    assert from_str.encoding is None


def test_article_split_over_sibling_containers() -> None:
    paragraphs = [
        f"Paragraph {n} of the report explains how the Redbank trust plans to recruit "
        f"{n * 10} more nurses over the next two years, mostly from overseas." for n in range(1, 9)
    ]
    first = "".join(f"<p>{p}</p>" for p in paragraphs[:4])
    second = "".join(f"<p>{p}</p>" for p in paragraphs[4:])
    html = ("<html><head><title>Redbank nurses</title></head><body><article>"
            f"<div class='article-body grid'>{first}</div>"
            "<div class='ad-rail'><p>Advertisement</p></div>"
            f"<div class='article-body grid'>{second}</div>"
            "</article></body></html>")
    body = extract_article(html).body
    for p in paragraphs:
        assert p in body


def test_page_without_article_text_has_empty_body() -> None:
    html = "<html><body><nav><a href='/'>Home</a> <a href='/news'>News</a></nav></body></html>"
    assert extract_article(html).body == ""


@pytest.mark.parametrize("bad, message", [
    (b"", "empty document"),
    ("   \n", "empty document"),
    (b"just some words, no markup at all", "not an HTML document"),
    (12345, "expected HTML as bytes or str"),
])
def test_bad_input_raises_clear_error(bad, message: str) -> None:
    with pytest.raises(ExtractionError, match=message):
        extract_article(bad)


@pytest.mark.parametrize("data, text, encoding", [
    (codecs.BOM_UTF8 + "<p>£5m</p>".encode(), "<p>£5m</p>", "utf_8"),
    (codecs.BOM_UTF16_LE + "<p>£5m</p>".encode("utf-16-le"), "<p>£5m</p>", "utf_16_le"),
    # declared latin-1 but really UTF-8: the bytes win
    ('<meta charset="iso-8859-1"><p>£5m – “cut”</p>'.encode(),
     '<meta charset="iso-8859-1"><p>£5m – “cut”</p>', "utf_8"),
    # declared UTF-8 but not valid UTF-8: guessed
    (b'<meta charset="utf-8"><p>\x93cut\x94 by \xa35m, with many more words to read</p>',
     '<meta charset="utf-8"><p>“cut” by £5m, with many more words to read</p>', "cp1252"),
    # no declaration, valid UTF-8
    ("<p>Café</p>".encode(), "<p>Café</p>", "utf_8"),
    # a byte windows-1252 leaves undefined becomes its C1 control, not an error
    (b'<meta charset="windows-1252"><p>a\x81b</p>', '<meta charset="windows-1252"><p>a\x81b</p>',
     "cp1252"),
    (b"<?xml version='1.0' encoding='ISO-8859-1'?><p>\x96</p>",
     "<?xml version='1.0' encoding='ISO-8859-1'?><p>–</p>", "cp1252"),
])
def test_decode_html(data: bytes, text: str, encoding: str) -> None:
    assert decode_html(data) == (text, encoding)
