"""The lesson pages' port blocks (<details class="port">, tools/book/html_page.py) in a real browser
with JavaScript off: Chromium from file://, at 1400 and 390 px. Closed at first, opened by a click,
the code inside then visible and within the page's width, and after the lesson's own lines."""
import re
from pathlib import Path

import pytest

from conftest import BOOK_PAGES, ROOT, book_build as build
from test_book_browser import CHROMIUM, CHROMIUM_ARGS

LESSONS = ["0_multiply", "1_linear_regression", "2_logistic_regression", "3_net", "4_modern_net",
           "5_convolutional_net"]

# for each step's code column: where its port blocks are, and whether the lesson's lines come first
STEPS = """[...document.querySelectorAll('main .row .code')].filter(c => c.querySelector('details.port')).map(c => {
    const kids = [...c.children];
    const firstPort = kids.findIndex(k => k.matches('details.port'));
    const lastLesson = kids.map(k => !k.matches('details.port')).lastIndexOf(true);
    return [firstPort, lastLesson, kids.slice(firstPort).every(k => k.matches('details.port'))];
})"""
BOX = "e => { const r = e.getBoundingClientRect(); return [r.left, r.right, r.width, r.height]; }"


def test_the_port_blocks_open_without_javascript_and_fit_the_page(tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no {CHROMIUM} here (CI installs it: apt-get install chromium)")
    playwright = pytest.importorskip("playwright.sync_api")
    out = tmp_path / "book"
    result = build("--pages", BOOK_PAGES, "--out", out, "--docs", tmp_path / "docs")
    assert result.returncode == 0, result.stderr
    problems = []
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            for width in (1400, 390):
                context = browser.new_context(viewport={"width": width, "height": 900}, java_script_enabled=False)
                tab = context.new_page()
                for name in LESSONS:
                    where = f"{name}.html at {width} px"
                    tab.goto((out / f"{name}.html").as_uri(), wait_until="load")
                    assert tab.evaluate("1 + 1") == 2  # the test's own scripts still run: the page's are off
                    blocks = tab.locator("main .row details.port")
                    frameworks = set(tab.locator("main .row details.port summary .framework").all_inner_texts())
                    if frameworks != {"PyTorch", "JAX", "PyTensor"}:
                        problems.append(f"{where}: port blocks for {sorted(frameworks)}")
                    for first_port, last_lesson, ports_last in tab.evaluate(STEPS):
                        if not (ports_last and (last_lesson == -1 or last_lesson < first_port)):
                            problems.append(f"{where}: a port block before the lesson's lines")
                    closed = tab.evaluate("[...document.querySelectorAll('details.port')].every(d => !d.open)")
                    if not closed:
                        problems.append(f"{where}: a port block is open before any click")
                    # open one block of each framework, and the largest block, by a click on its summary
                    chosen = {}
                    for i in range(blocks.count()):
                        framework = blocks.nth(i).locator("summary .framework").inner_text()
                        lines = blocks.nth(i).locator("pre").evaluate_all(
                            "ps => ps.map(p => p.textContent.split('\\n').length).reduce((a, b) => a + b, 0)")
                        if framework not in chosen or lines > chosen[framework][1]:
                            chosen[framework] = (i, lines)
                    for framework, (i, _) in sorted(chosen.items()):
                        block = blocks.nth(i)
                        code = block.locator("pre").first
                        if code.is_visible():
                            problems.append(f"{where}: {framework}'s code is visible while its block is closed")
                        block.locator("summary").click()
                        if not block.evaluate("d => d.open") or not code.is_visible():
                            problems.append(f"{where}: {framework}'s block does not open on a click")
                            continue
                        left, right, w, h = code.evaluate(BOX)
                        if w < 100 or h < 10 or left < 0 or right > width:
                            problems.append(f"{where}: {framework}'s open code is at {left:.0f}..{right:.0f} px, "
                                            f"{w:.0f} x {h:.0f}")
                        text = re.sub(r"^\s*\d+\s?", "", code.inner_text().strip())  # less its line number
                        if not text or text.splitlines()[0].strip() not in \
                                (ROOT / "ports" / port_dir(framework) / f"{name}.py").read_text():
                            problems.append(f"{where}: {framework}'s block shows {text[:60]!r}")
                    scroll = tab.evaluate("document.documentElement.scrollWidth")
                    if scroll > width:
                        problems.append(f"{where}: with the blocks open the page scrolls sideways ({scroll} px)")
                    if width == 390 and name == "5_convolutional_net":
                        shots = ROOT / "book" / "screenshots"
                        shots.mkdir(parents=True, exist_ok=True)
                        tab.screenshot(path=str(shots / f"{name}-ports-phone.png"))
                context.close()
        finally:
            browser.close()
    assert not problems, "\n".join(problems)


def port_dir(framework):
    return {"PyTorch": "torch", "JAX": "jax", "PyTensor": "pytensor"}[framework]
