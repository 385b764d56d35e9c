"""Article extraction: the main text and the metadata of one HTML page.

``extract_article`` turns a saved or downloaded page into an :class:`Article`: body text
without page furniture (navigation, cookie banners, related links, comments, share buttons,
footers), title, author, publication and update dates, canonical URL, language, description
and site name.

The body comes from trafilatura in precision mode, checked against its balanced mode:

* pages that spread one article over several sibling containers with the same class (a
  layout that ad slots produce) get those containers merged before extraction, so the
  extractor does not stop after the first chunk;
* a precision result under a fifth of the balanced mode's length (precision mode locked onto
  a wrong block) is replaced by the balanced result;
* a precision line whose words the balanced mode has with inline text restored (link text
  dropped with its wrapper) is replaced by the fuller line;
* the headline, when the extractor repeats it as the first line, lines that are the text of
  a navigation, header or footer block, and furniture lines listed in
  ``data/boilerplate_lines.txt`` are removed.

The body has one paragraph per block, blocks separated by a blank line (list items and table
rows stay on consecutive lines) and by two blank lines where the page puts a thematic break
(``<hr>``) or an empty spacer paragraph: the layout of the project's plain-text newsletter
documents, so that ``crawler.stories.split_stories`` reads both alike.

Dates: htmldate picks the day (JSON-LD, meta tags, ``<time>`` elements, then the text; a
bare copyright year is not a date), and a datetime stated in the markup for that day (JSON-LD,
meta tags, ``<time>`` outside reader comments) supplies the time of day and UTC offset. The
canonical URL from ``<link rel="canonical">`` (or ``og:url``), the language from the
``lang`` attribute or the content-language meta tags.

Bytes are decoded here rather than by the parser: byte-order mark first, then the declared
charset (``<meta charset>``, ``http-equiv`` content type, XML declaration), then UTF-8, then
a statistical guess. A declared ISO-8859-1/ASCII charset is read as windows-1252, as
browsers do, since pages labelled latin-1 are nearly always cp1252 (curly quotes, dashes).
"""

from __future__ import annotations

import codecs
import json
import re
from copy import deepcopy
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from importlib import resources
from urllib.parse import urljoin

import trafilatura
from htmldate import find_date
from lxml.html import HtmlElement
from trafilatura.metadata import extract_metadata
from trafilatura.utils import load_html

__all__ = ["Article", "ExtractionError", "decode_html", "extract_article"]

_ISO_FORMAT = "%Y-%m-%dT%H:%M:%S%z"


class ExtractionError(ValueError):
    """The input cannot be read as an HTML page."""


@dataclass
class Article:
    """Main text and metadata of one page. Missing metadata is ``None``; ``body`` is ``""``
    when the page has no main text (an index page, a video page)."""

    body: str
    title: str | None = None
    author: str | None = None
    published: datetime | None = None
    updated: datetime | None = None
    canonical_url: str | None = None
    language: str | None = None
    description: str | None = None
    sitename: str | None = None
    url: str | None = None
    encoding: str | None = None


# --------------------------------------------------------------------------------------------
# Decoding
# --------------------------------------------------------------------------------------------

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_PRESCAN_BYTES = 8192
_XML_DECLARATION = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([\w.:-]+)[\"']", re.I)
_META_CHARSET = re.compile(rb"<meta\b[^>]*?charset\s*=\s*[\"']?\s*([\w.:-]+)", re.I)
# WHATWG Encoding Standard: these labels all mean windows-1252 in a browser.
_CP1252_LABELS = {"latin_1", "iso8859_1", "ascii", "cp1252"}
_LATIN_SIBLINGS = {"cp1250", "cp1254", "cp1257", "iso8859_2", "iso8859_9", "iso8859_15",
                   "iso8859_13", "iso8859_4", "mac_roman", "mac_latin2", "cp850", "cp437"}
# Declaring a UTF-16 charset inside a byte-compatible document is impossible; browsers use UTF-8.
_UTF16_LABELS = {"utf_16", "utf_16_le", "utf_16_be"}


def _c1_fallback(error: UnicodeDecodeError) -> tuple[str, int]:
    # windows-1252 leaves five bytes unassigned; browsers map them to the C1 controls.
    return error.object[error.start : error.end].decode("latin-1"), error.end


codecs.register_error("policywatch-c1", _c1_fallback)


def _codec_name(label: bytes | str) -> str | None:
    if isinstance(label, bytes):
        label = label.decode("ascii", "ignore")
    try:
        return codecs.lookup(label.strip()).name.replace("-", "_")
    except LookupError:
        return None


def _declared_charset(data: bytes) -> str | None:
    head = data[:_PRESCAN_BYTES]
    match = _XML_DECLARATION.match(head) or _META_CHARSET.search(head)
    return _codec_name(match.group(1)) if match else None


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def decode_html(data: bytes) -> tuple[str, str]:
    """Decode an HTML page given as bytes. Returns ``(text, encoding)``, the encoding being
    the Python codec name used."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(name, "replace"), name.replace("-", "_")
    declared = _declared_charset(data)
    if declared in _UTF16_LABELS:
        declared = "utf_8"
    if declared in _CP1252_LABELS:
        # valid UTF-8 with non-ASCII bytes is never cp1252 prose: a mislabelled UTF-8 page
        if not data.isascii() and _is_utf8(data):
            return data.decode("utf-8"), "utf_8"
        return data.decode("cp1252", "policywatch-c1"), "cp1252"
    if declared:
        try:
            return data.decode(declared), declared
        except (UnicodeDecodeError, LookupError):
            pass  # a wrong label: guess below
    if _is_utf8(data):
        return data.decode("utf-8"), "utf_8"
    try:
        from charset_normalizer import from_bytes

        guess = from_bytes(data[:200_000]).best()
        if guess is not None and guess.encoding:
            name = _codec_name(guess.encoding)
            # on short Latin-script text the detector picks a sibling code page at random;
            # windows-1252 is by far the most common of them on the web
            if name in _CP1252_LABELS or name in _LATIN_SIBLINGS:
                return data.decode("cp1252", "policywatch-c1"), "cp1252"
            if name:
                return data.decode(name, "replace"), name
    except ImportError:  # pragma: no cover - trafilatura depends on it
        pass
    return data.decode("cp1252", "policywatch-c1"), "cp1252"


# --------------------------------------------------------------------------------------------
# Body
# --------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _boilerplate_patterns() -> tuple[re.Pattern[str], ...]:
    text = resources.files("crawler").joinpath("data/boilerplate_lines.txt").read_text("utf-8")
    return tuple(
        re.compile(line.strip(), re.IGNORECASE)
        for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    )


_WORD = re.compile(r"\w+")


def _words(text: str | None) -> list[str]:
    return _WORD.findall(text.lower()) if text else []


def _norm(text: str | None) -> str:
    return " ".join(_words(text))


# a later container must hold this much paragraph text to count as a chunk of the article
_MIN_CHUNK_CHARS = 200


_LAYOUT_CELL_BLOCKS = ("p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "table", "div")


def _is_layout_table(table: HtmlElement) -> bool:
    """A table used to lay a page out (e-mail newsletters): marked as presentation, or with
    a cell that holds paragraphs, headings, lists or another table. A data table has
    header cells or plain text in its cells."""
    if table.get("role") in ("presentation", "none"):
        return True
    if table.find(".//th") is not None and not table.xpath(".//td//table"):
        return False
    for cell in table.iter("td"):
        if any(child.tag in _LAYOUT_CELL_BLOCKS for child in cell if isinstance(child.tag, str)):
            return True
    return False


def _unwrap_layout_tables(tree: HtmlElement) -> None:
    """Turn layout tables into plain blocks, so that an e-mail newsletter's paragraphs and
    headings read in page order, each on its own, rather than as rows of one data table."""
    # A page laid out by tables alone (an e-mail's web version) has no content container
    # for the extractor to find: its outermost layout table becomes the article.
    has_container = tree.find(".//article") is not None or tree.find(".//main") is not None
    for table in reversed(list(tree.iter("table"))):  # inner tables first
        if not _is_layout_table(table):
            continue
        own = [elem for elem in table.iter("tbody", "thead", "tfoot", "tr", "td", "th")
               if next(elem.iterancestors("table"), None) is table]
        for elem in [table, *own]:
            elem.tag = "div"
            for attr in ("width", "cellpadding", "cellspacing", "align", "valign", "border"):
                elem.attrib.pop(attr, None)
        if not has_container and next(table.iterancestors("table"), None) is None:
            table.tag = "article"


def _merge_split_containers(tree: HtmlElement) -> None:
    """Join article bodies that a page splits into sibling containers of the same class.

    Extractors take the first content container they find. Some sites cut the body into
    several blocks of one class (``div.article__body`` between ad rails); moving the later
    blocks' children into the first keeps the whole text without changing anything else.
    """
    try:  # trafilatura's own content-container expression, so both agree on "first"
        from trafilatura.xpaths import BODY_XPATH
    except ImportError:  # pragma: no cover - internal module moved: skip the repair
        return
    found = BODY_XPATH[0](tree)
    if not found or not found[0].get("class"):
        return
    first = found[0]
    cls = first.get("class")
    blocks = [
        el
        for el in tree.iter(first.tag)
        if el.get("class") == cls
        and el is not first
        and not any(anc is first for anc in el.iterancestors())
        and not any(anc is el for anc in first.iterancestors())
        and sum(len(p.text_content()) for p in el.iter("p")) >= _MIN_CHUNK_CHARS
    ]
    for block in blocks:
        for child in list(block):
            first.append(child)
        block.getparent().remove(block)


def _lines(text: str | None) -> list[str]:
    return [line for line in (text or "").split("\n") if line.strip()]


def _is_subsequence(short: list[str], long: list[str]) -> bool:
    it = iter(long)
    return all(word in it for word in short)


def _restore_inline_text(lines: list[str], fuller: list[str]) -> list[str]:
    """Replace each line by the balanced-mode line holding all its words plus a few more
    (inline elements the precision mode drops with their wrapper)."""
    index: dict[str, list[tuple[list[str], str]]] = {}
    present = {_norm(line) for line in fuller}
    for line in fuller:
        words = _words(line)
        if words:
            index.setdefault(words[0], []).append((words, line))
    out = []
    for line in lines:
        words = _words(line)
        best = line
        if len(words) >= 8 and " ".join(words) not in present:
            for cand_words, cand in index.get(words[0], []):
                if (
                    len(words) < len(cand_words) <= 1.5 * len(words) + 10
                    and cand_words[-1] == words[-1]
                    and _is_subsequence(words, cand_words)
                ):
                    best = cand
                    break
        out.append(best)
    return out


def _navigation_texts(tree: HtmlElement) -> set[str]:
    """Texts of navigation, header and footer blocks and of their links and items."""
    texts = set()
    for block in tree.xpath("//nav | //footer | //header[not(ancestor::article)]"
                            " | //*[@role='navigation' or @role='contentinfo']"):
        for elem in (block, *block.iter("a", "li", "p")):
            norm = _norm(elem.text_content())
            if norm:
                texts.add(norm)
    return texts


def _drop_furniture(lines: list[str], title: str | None, navigation: set[str]) -> list[str]:
    patterns = _boilerplate_patterns()
    title_norm = _norm(title)
    out = []
    for i, line in enumerate(lines):
        stripped = line.strip().lstrip("-•*> ").strip()
        norm = _norm(stripped)
        if i < 3 and title_norm and norm == title_norm:
            continue
        if norm in navigation or any(p.fullmatch(stripped) for p in patterns):
            continue
        out.append(line)
    return out


_FALLBACK_RATIO = 0.2
# below this the balanced result is navigation or a caption, not a missed article
_FALLBACK_MIN_CHARS = 250


def _extract_body(tree: HtmlElement, url: str | None, title: str | None) -> str:
    options = {"url": url, "include_comments": False, "include_tables": True}
    precise = trafilatura.extract(deepcopy(tree), favor_precision=True, **options) or ""
    balanced = trafilatura.extract(deepcopy(tree), **options) or ""
    lines = _lines(precise)
    fuller = _lines(balanced)
    # precision mode sometimes locks onto a wrong, tiny block (a reprint notice)
    if len(precise) < _FALLBACK_RATIO * len(balanced) and len(balanced) >= _FALLBACK_MIN_CHARS:
        lines = fuller
    else:
        lines = _restore_inline_text(lines, fuller)
    lines = _drop_furniture(lines, title, _navigation_texts(tree))
    return _join_paragraphs(lines, _texts_after_breaks(tree))


_LEAF_BLOCKS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "td", "dd"}


def _texts_after_breaks(tree: HtmlElement) -> set[str]:
    """Normalised texts of the blocks that follow a thematic break (``<hr>``) or an empty
    spacer paragraph: where a page puts extra space, often between two stories."""
    texts: set[str] = set()
    pending = False
    for elem in tree.iter():
        if not isinstance(elem.tag, str):
            continue
        if elem.tag == "hr" or (elem.tag == "p" and not elem.text_content().strip()):
            pending = True
        elif pending and elem.tag in _LEAF_BLOCKS:
            text = " ".join(elem.text_content().split())
            if text:
                texts.add(text)
                pending = False
    return texts


def _join_paragraphs(lines: list[str], after_breaks: set[str]) -> str:
    """Paragraphs separated by a blank line, two before a block that follows a thematic
    break on the page; list items and table rows stay on consecutive lines."""
    out: list[str] = []
    for line in lines:
        if out and line[:2] in ("- ", "| ") and out[-1][:2] == line[:2]:
            out[-1] += "\n" + line
            continue
        if out:
            out.append("\n\n\n" if " ".join(line.split()) in after_breaks else "\n\n")
        out.append(line)
    return "".join(out)


# --------------------------------------------------------------------------------------------
# Metadata
# --------------------------------------------------------------------------------------------


def _parse_iso(value: str | None) -> datetime | None:
    if not value or not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.strip())
    except ValueError:
        return None


def _find_date(tree: HtmlElement, url: str | None, *, original: bool, extensive: bool
               ) -> datetime | None:
    # htmldate prunes the tree it is given: always hand it a copy
    return _parse_iso(find_date(deepcopy(tree), original_date=original,
                                extensive_search=extensive, outputformat=_ISO_FORMAT, url=url))


_PUBLISHED_KEYS = ("datePublished", "dateCreated", "uploadDate")
_MODIFIED_KEYS = ("dateModified",)
_META_PUBLISHED = ("article:published_time", "og:published_time", "datepublished", "pubdate",
                   "publishdate", "dc.date.issued", "dcterms.created", "date")
_META_MODIFIED = ("article:modified_time", "og:updated_time", "datemodified",
                  "dcterms.modified", "last-modified")


def _json_ld_dates(tree: HtmlElement) -> tuple[list[str], list[str]]:
    published: list[str] = []
    modified: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            published.extend(str(node[k]) for k in _PUBLISHED_KEYS if node.get(k))
            modified.extend(str(node[k]) for k in _MODIFIED_KEYS if node.get(k))
            for value in node.values():
                if isinstance(value, (list, dict)):
                    walk(value)

    for script in tree.xpath('//script[@type="application/ld+json"]/text()'):
        try:
            walk(json.loads(script))
        except ValueError:
            continue  # broken JSON-LD is common; htmldate still reads the rest
    return published, modified


def _markup_dates(tree: HtmlElement) -> tuple[list[datetime], list[datetime]]:
    """Exact datetimes (with time of day and offset) stated in the page's markup."""
    published, modified = _json_ld_dates(tree)
    for meta in tree.iter("meta"):
        key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").lower()
        if key in _META_PUBLISHED:
            published.append(meta.get("content") or "")
        elif key in _META_MODIFIED:
            modified.append(meta.get("content") or "")
    # times of reader comments are not the article's
    for elem in tree.xpath(
        '//time[@datetime][not(ancestor::*[contains(translate(@class, "COMENT", "coment"),'
        ' "comment") or contains(translate(@id, "COMENT", "coment"), "comment")])]'
    ):
        prop = (elem.get("itemprop") or "").lower()
        (modified if prop == "datemodified" else published).append(elem.get("datetime"))
    parse = [_parse_iso(v) for v in published], [_parse_iso(v) for v in modified]
    return [d for d in parse[0] if d], [d for d in parse[1] if d]


def _copyright_year_only(tree: HtmlElement, found: datetime) -> bool:
    """htmldate's text search falls back to a bare year (a copyright line), given as
    1 January: not a publication date unless the page states that day."""
    if (found.month, found.day) != (1, 1):
        return False
    text = " ".join(tree.xpath("//body//text()"))
    return not re.search(rf"(?i)\b(?:1(?:st)? jan\w*|jan\w* 1(?:st)?\b)|{found.year}-01-01|"
                         rf"01/01/{found.year}", text)


def _refine(day: datetime | None, exact: list[datetime]) -> datetime | None:
    """htmldate's day, with the time of day of a markup datetime on that day."""
    if day is None:
        return None
    for value in exact:
        if value.date() == day.date() and (value.time() != day.time() or value.tzinfo):
            return value
    return day


def _dates(tree: HtmlElement, url: str | None, published: datetime | None
           ) -> tuple[datetime | None, datetime | None]:
    """Publication date (markup first, then the text) and the date of a later update."""
    if published is None:
        published = _find_date(tree, url, original=True, extensive=True)
        if published is not None and _copyright_year_only(tree, published):
            published = None
    latest = _find_date(tree, url, original=False, extensive=False)
    exact_published, exact_modified = _markup_dates(tree)
    published = _refine(published, exact_published)
    latest = _refine(latest, exact_modified + exact_published)
    updated = None
    if latest and published and _comparable(latest) > _comparable(published):
        updated = latest
    return published, updated


def _comparable(value: datetime) -> datetime:
    # naive values are taken as UTC, so that naive and aware datetimes compare
    if value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


def _canonical_url(tree: HtmlElement, url: str | None) -> str | None:
    for xpath in (
        '//link[contains(concat(" ", normalize-space(translate(@rel, "CANOLI", "canoli")), " "),'
        ' " canonical ")]/@href',
        '//meta[@property="og:url"]/@content',
    ):
        for href in tree.xpath(xpath):
            href = href.strip()
            if href:
                return urljoin(url, href) if url else href
    return None


def _language(tree: HtmlElement) -> str | None:
    candidates = tree.xpath(
        "/html/@lang | /html/@xml:lang", namespaces={"xml": "http://www.w3.org/XML/1998/namespace"}
    )
    candidates += tree.xpath(
        '//meta[translate(@http-equiv, "CONTENTLAGU", "contentlagu")="content-language"]/@content'
        ' | //meta[@name="language" or @name="dc.language" or @name="DC.language"]/@content'
        ' | //meta[@property="og:locale"]/@content'
    )
    for value in candidates:
        value = value.strip().split(",")[0].strip().replace("_", "-")
        if re.fullmatch(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*", value):
            primary, *rest = value.split("-")
            return "-".join(
                [primary.lower(), *(part.upper() if len(part) == 2 else part for part in rest)]
            )
    return None


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------


def extract_article(html: bytes | str, url: str | None = None) -> Article:
    """Extract the body text and metadata of one HTML page.

    ``html`` is the page as bytes (decoded with :func:`decode_html`) or text; ``url`` is
    where it came from, used to resolve a relative canonical link. Raises
    :class:`ExtractionError` when the input is empty or not HTML.
    """
    encoding = None
    if isinstance(html, bytes):
        text, encoding = decode_html(html)
    elif isinstance(html, str):
        text = html
    else:
        raise ExtractionError(f"expected HTML as bytes or str, got {type(html).__name__}")
    if not text.strip():
        raise ExtractionError("empty document")
    if "<" not in text[:_PRESCAN_BYTES]:
        raise ExtractionError("not an HTML document (no markup in the first 8 KB)")
    tree = load_html(text)
    if tree is None:
        raise ExtractionError("not an HTML document (the parser found no element tree)")

    meta = extract_metadata(
        deepcopy(tree),
        default_url=url,
        date_config={
            "original_date": True,
            "extensive_search": False,
            "outputformat": _ISO_FORMAT,
        },
    )
    published, updated = _dates(tree, url, _parse_iso(meta.date))
    _unwrap_layout_tables(tree)
    _merge_split_containers(tree)
    body = _extract_body(tree, url, meta.title)
    return Article(
        body=body,
        title=meta.title or None,
        author=meta.author or None,
        published=published,
        updated=updated,
        canonical_url=_canonical_url(tree, url),
        language=_language(tree),
        description=meta.description or None,
        sitename=meta.sitename or None,
        url=url,
        encoding=encoding,
    )
