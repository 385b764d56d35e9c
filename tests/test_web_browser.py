"""`policywatch serve` over the demo database, driven by headless Chromium (Debian's
``chromium`` and ``chromium-driver``, through selenium): search an organisation, open its
page, see the ratings timeline and the money chart, follow a fact to its story and see the
sentence highlighted, with no console errors. Screenshots go to
``$POLICYWATCH_ARTEFACTS`` (default ``test-artefacts/``), under ``browser/``.

The demo database is built once with ``policywatch demo`` (a few minutes); set
``POLICYWATCH_DEMO_DB`` to an existing demo database to reuse it. Chromium is told to make no
connection of its own, and every page it loads is on 127.0.0.1.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from conftest import ROOT

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
if not (CHROMIUM and CHROMEDRIVER):
    pytest.skip("Debian's chromium and chromium-driver are not installed "
                "(`make browser` installs them)", allow_module_level=True)

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

# Building the demo database (crawl, extraction, embeddings) is part of the first test's set-up.
pytestmark = pytest.mark.timeout(1800)

ORG = "Castlebridge NHS Trust"  # a sample-site trust with ratings and amounts
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1",
       "TOKENIZERS_PARALLELISM": "false"}


@pytest.fixture(scope="module")
def artefacts() -> Path:
    base = Path(os.environ.get("POLICYWATCH_ARTEFACTS", ROOT / "test-artefacts"))
    out = base / "browser"
    out.mkdir(parents=True, exist_ok=True)
    return out


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> Path:
    given = os.environ.get("POLICYWATCH_DEMO_DB")
    if given:
        return Path(given)
    path = tmp_path_factory.mktemp("browser") / "demo.duckdb"
    subprocess.run([sys.executable, "-c", "import cli; cli.main()", "demo", "--db", str(path)],
                   check=True, env=ENV, cwd=ROOT, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=900)
    return path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server(demo_db) -> str:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", "import cli; cli.main()", "serve", "--db", str(demo_db),
         "--host", "127.0.0.1", "--port", str(port)],
        env=ENV, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):  # until it answers, or the process ends
            if process.poll() is not None:
                pytest.fail(f"policywatch serve exited: {process.stderr.read()}")
            try:
                with urllib.request.urlopen(base + "/status", timeout=5):
                    break
            except OSError:
                try:
                    process.wait(timeout=0.1)
                except subprocess.TimeoutExpired:
                    pass
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def browser():
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 "--window-size=1280,1000", "--no-first-run", "--no-default-browser-check",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-default-apps", "--disable-extensions",
                 "--disable-domain-reliability", "--no-proxy-server",
                 "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def console_errors(driver) -> list[str]:
    return [entry["message"] for entry in driver.get_log("browser")
            if entry["level"] == "SEVERE"]


def screenshot(driver, path: Path) -> None:
    """The whole page, not only the window."""
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, min(max(height, 600), 4000))
    driver.save_screenshot(str(path))
    driver.set_window_size(1280, 1000)


def test_search_an_organisation_then_its_page_then_a_story(server, browser, artefacts):
    wait = WebDriverWait(browser, 30)
    browser.get(server + "/search")
    form = browser.find_element(By.ID, "search-form")
    form.find_element(By.NAME, "org").send_keys("castlebridge nhs")
    form.find_element(By.CSS_SELECTOR, "select[name=kind] option[value=orgs]").click()
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait.until(ec.presence_of_element_located((By.ID, "results")))
    screenshot(browser, artefacts / "search.png")
    links = browser.find_elements(By.CSS_SELECTOR, "#results a.org-link")
    assert ORG in [link.text for link in links]
    next(link for link in links if link.text == ORG).click()

    wait.until(ec.text_to_be_present_in_element((By.ID, "org-name"), ORG))
    points = browser.find_elements(By.CSS_SELECTOR, "#ratings-timeline svg g.rating-point")
    bars = browser.find_elements(By.CSS_SELECTOR, "#money-chart svg rect.bar")
    assert points and bars
    assert all(p.is_displayed() and p.size["width"] > 0 for p in points)
    assert all(b.size["height"] >= 0 for b in bars) and any(b.size["height"] > 0 for b in bars)
    screenshot(browser, artefacts / "organisation.png")
    assert console_errors(browser) == []
    theme_links = [a.get_attribute("href") for a in
                   browser.find_elements(By.CSS_SELECTOR, "a[href*='/theme/']")]

    fact = browser.find_element(By.CSS_SELECTOR, "#org-amounts a.story-link")
    fact.click()
    focus = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#story-text .focus")))
    marked = focus.find_elements(By.CSS_SELECTOR, "mark.fact-amount")
    assert marked and focus.is_displayed()
    assert focus.value_of_css_property("outline-style") == "solid"
    screenshot(browser, artefacts / "story.png")
    assert console_errors(browser) == []

    assert theme_links, "the organisation's stories are in no theme"
    browser.get(theme_links[0])
    wait.until(ec.presence_of_element_located((By.ID, "theme-label")))
    assert browser.find_elements(By.CSS_SELECTOR, "#weekly-chart svg rect.bar")
    screenshot(browser, artefacts / "theme.png")
    for page in ("/changes", "/status", "/themes"):
        browser.get(server + page)
        screenshot(browser, artefacts / f"{page.strip('/')}.png")
    assert console_errors(browser) == []


def test_errors_are_pages_in_the_browser_too(server, browser, artefacts):
    browser.get(server + "/search?min=lots")
    assert "is not an amount" in browser.find_element(By.ID, "error-message").text
    screenshot(browser, artefacts / "error.png")
