"""The HTML book (tools/book/html_page.py) in a real browser: Chromium from file://, wide and at 390 px."""
import re
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from conftest import BOOK_PAGES as PAGES, ROOT, book_build as build

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def ids_of(path, cache={}):
    if path not in cache:
        cache[path] = set(re.findall(r'\sid="([^"]+)"', Path(path).read_text()))
    return cache[path]


TABLE_CELLS_RIGHT_EDGES = """[...document.querySelectorAll('table')].map(t => [
    [...t.querySelectorAll('th')].map(th => th.textContent.trim()),
    [...t.querySelectorAll('th, td')].map(c => Math.ceil(c.getBoundingClientRect().right))])"""


def test_the_html_book_in_a_browser(tmp_path):
    """book/*.html (built here, as make book does) in Chromium from file://, wide and at 390 px:
    no console error, every picture loaded with alt text, every internal link and #anchor resolves,
    no horizontal scroll on a phone, and a table of four columns (the index's results) all on its
    screen; screenshots into book/screenshots."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no {CHROMIUM} here (CI installs it: apt-get install chromium)")
    playwright = pytest.importorskip("playwright.sync_api")
    book = ROOT / "book"
    result = build("--pages", PAGES, "--out", book, "--docs", tmp_path)  # the committed docs/ stay as they are
    assert result.returncode == 0, result.stderr
    shots = book / "screenshots"
    shots.mkdir(exist_ok=True)
    files = sorted(book.glob("*.html"))
    assert files
    problems = []
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            for width, height, tag in [(1400, 1000, "wide"), (390, 844, "phone")]:
                tab = browser.new_page(viewport={"width": width, "height": height})
                errors = []
                tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
                tab.on("pageerror", lambda e: errors.append(str(e)))
                tab.on("requestfailed", lambda r: errors.append(f"failed: {r.url}"))
                for path in files:
                    errors.clear()
                    tab.goto(path.as_uri(), wait_until="load")
                    where = f"{path.name} ({tag})"
                    problems += [f"{where}: {e}" for e in errors]
                    for img in tab.evaluate("[...document.images].map(i => [i.src, i.alt, i.complete, i.naturalWidth])"):
                        if not (img[2] and img[3] > 0):
                            problems.append(f"{where}: picture not loaded: {img[0]}")
                        if not img[1].strip():
                            problems.append(f"{where}: picture without alt text: {img[0]}")
                    if tag == "phone":
                        scroll = tab.evaluate("document.documentElement.scrollWidth")
                        if scroll > 390:
                            problems.append(f"{where}: scrolls sideways ({scroll} px wide)")
                        # a table of four columns (the index's results) shows all of them on the screen
                        for headers, right in tab.evaluate(TABLE_CELLS_RIGHT_EDGES):
                            if len(headers) == 4 and max(right) > 390:
                                problems.append(f"{where}: table {headers} reaches {max(right)} px, "
                                                f"off a 390 px screen")
                        if path.name == "index.html":
                            seen = [h for h, _ in tab.evaluate(TABLE_CELLS_RIGHT_EDGES)]
                            assert ["lesson", "what it adds", "slide", "here"] in seen, seen
                    else:
                        for href in tab.evaluate("[...document.querySelectorAll('a[href]')].map(a => a.href)"):
                            url = urlparse(href)
                            if url.scheme != "file":
                                continue
                            target = Path(unquote(url.path))
                            if not target.exists():
                                problems.append(f"{where}: link to a missing file {target}")
                            elif url.fragment and target.suffix == ".html" and url.fragment not in ids_of(target):
                                problems.append(f"{where}: link to a missing anchor {target.name}#{url.fragment}")
                    tab.screenshot(path=str(shots / f"{path.stem}-{tag}.png"))  # the first screen: a full
                    # page at 1400 px takes seconds
                tab.close()
        finally:
            browser.close()
    assert not problems, "\n".join(problems)
