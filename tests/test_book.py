"""The book (tools/book/build.py, FORMAT.md): it builds from what is committed, docs/ is a fresh
build, every script line is on its page once, the numbers are results/'s, each lesson's notebook
computes what its script computes, bad page sources fail the build, and the HTML works in a browser."""
import csv
import os
import re
import subprocess
import sys
import threading
from decimal import Decimal
from pathlib import Path
from urllib.parse import unquote, urlparse

import numpy as np
import pytest

from conftest import ROOT, mnist_dir

PAGES = Path(os.environ.get("BOOK_PAGES", ROOT / "tools" / "book" / "pages"))  # another folder: for developing
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ANCHOR = r"""("[^"]*"|'[^']*')"""
DIRECTIVE = re.compile(rf"^@(code|added|omit)\s+{ANCHOR}(?:\s*\.\.\s*({ANCHOR[1:-1]}|\+\d+))?")


def build(*args):
    return subprocess.run([sys.executable, "-m", "tools.book.build", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def page_sources():
    return sorted(PAGES.glob("*.md"))


def front(path):
    text = path.read_text()
    match = re.match(r"---\n(.*?)\n---\n", text, re.S)
    meta = dict(line.split(":", 1) for line in match[1].splitlines() if ":" in line) if match else {}
    return {k.strip(): v.strip() for k, v in meta.items()}, text


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    """One build into a temporary folder: (out, docs)."""
    tmp = tmp_path_factory.mktemp("book")
    result = build("--pages", PAGES, "--out", tmp / "book", "--docs", tmp / "docs")
    assert result.returncode == 0, result.stderr
    return tmp / "book", tmp / "docs"


@pytest.fixture(scope="module")
def pages():
    """The build's own model of each page: tools.book.build.read_page."""
    from tools.book import build as book
    problems = book.Problems()
    read = {path.stem: book.read_page(path, problems) for path in page_sources()}
    assert not problems, "\n".join(problems)
    return read


def test_the_book_builds_and_docs_is_a_fresh_build(fresh):
    out, docs = fresh
    assert page_sources(), "no page sources in tools/book/pages"
    stale = []
    for source in page_sources():
        committed = ROOT / "docs" / f"{source.stem}.md"
        built = (docs / f"{source.stem}.md").read_text()
        if not committed.exists():
            stale.append(f"docs/{source.stem}.md is missing")
        elif committed.read_text() != built:
            stale.append(f"docs/{source.stem}.md differs from a fresh build")
        assert (out / f"{source.stem}.html").exists()
        if "script" in front(source)[0]:
            assert (out / "notebooks" / f"{source.stem}.ipynb").exists()
    assert not stale, "; ".join(stale) + ": run make book and commit docs/"
    assert (out / "style.css").exists()


def test_every_script_line_is_shown_or_omitted_exactly_once(pages, fresh):
    docs = fresh[1]
    for name, page in pages.items():
        if not page.script:
            continue
        lines = (ROOT / page.script).read_text().splitlines()
        count = [0] * (len(lines) + 1)
        for block in page.blocks:
            assert 1 <= block.first <= block.last <= len(lines)
            for n in range(block.first, block.last + 1):
                count[n] += 1
        missing = [n for n, line in enumerate(lines, 1) if line.strip() and count[n] == 0]
        twice = [n for n, line in enumerate(lines, 1) if line.strip() and count[n] > 1]
        assert not missing and not twice, f"{name}: lines not on the page {missing}, twice {twice}"
        text = (docs / f"{name}.md").read_text()
        for line in lines:  # and the built page has each one, in a code block or in the omitted list
            assert line.strip() in text, f"{name}: {line.strip()!r} is not on docs/{name}.md"


def test_each_anchor_matches_exactly_one_line():
    for path in page_sources():
        meta, text = front(path)
        if "script" not in meta:
            continue
        lines = [line.strip() for line in (ROOT / meta["script"]).read_text().splitlines()]
        for line in text.splitlines():
            match = DIRECTIVE.match(line.strip())
            if not match:
                continue
            for anchor in (match[2], match[3]):
                if anchor and not anchor.startswith("+"):
                    hits = [n for n, l in enumerate(lines, 1) if anchor[1:-1] in l]
                    assert len(hits) == 1, f"{path.name}: {anchor} matches lines {hits}"


CENT = Decimal("0.01")


def log_column(path, column, exact=False):
    with open(path) as f:
        if exact:
            return [Decimal(row[column]) for row in csv.DictReader(f)]
        return np.array([float(row[column] or "nan") for row in csv.DictReader(f)])


def expected_number(words):
    """{{WORDS}} recomputed here from results/, without the build's code."""
    kind, args = words[0], words[1:]
    if kind in ("accuracy", "seeds"):
        script, epochs = args[0].removesuffix(".py"), int(args[1])
        found = {}
        for path in (ROOT / "results" / "logs").glob(f"{script}-seed*.csv"):
            accuracy = log_column(path, "accuracy", exact=True)
            if len(accuracy) >= epochs:
                found[int(path.stem.rsplit("seed", 1)[1])] = accuracy[epochs - 1]
        seeds = sorted(found)
        if kind == "seeds":
            return ", ".join(map(str, seeds))
        values = [100 * found[s] for s in seeds]  # exact decimals, as the logs write them
        mean = sum(values) / len(values)
        if len(values) == 1:
            return f"{values[0].quantize(CENT)} %"
        std = (sum((v - mean) ** 2 for v in values) / (len(values) - 1)).sqrt()
        return f"{mean.quantize(CENT)} ± {std.quantize(CENT)} %"
    if kind == "old_net":
        accuracy = log_column(ROOT / "results" / "old_net" / f"{args[0]}.csv", "accuracy", exact=True)
        return f"{(100 * accuracy[int(args[1]) - 1]).quantize(CENT)} %"
    if kind == "modern_net":
        path = ROOT / "results" / "modern_net" / f"{args[0]}.csv"
        accuracy = log_column(path, "accuracy", exact=True)
        if args[1] == "best":
            best = max(accuracy)
            return f"{(100 * best).quantize(CENT)} % (epoch {accuracy.index(best) + 1})"
        if args[1] == "last10":
            return f"{100 * log_column(path, 'accuracy')[-10:].mean():.2f} %"
        if args[1] == "epochs":
            return str(len(accuracy))
        if args[1].startswith("mean"):
            first, last = map(int, args[1][4:].split("-"))
            return f"{100 * log_column(path, 'accuracy')[first - 1:last].mean():.2f} %"
        return f"{(100 * accuracy[int(args[1]) - 1]).quantize(CENT)} %"
    if kind == "w":
        return f"{float(np.load(ROOT / 'results' / 'models' / '1_linear_regression-seed42.npz')['w']):.4f}"
    if kind == "slide":
        from tools.lessons import MNIST_LESSONS
        return MNIST_LESSONS[args[0].removesuffix(".py")].slide
    if kind == "knn":
        row = [l for l in (ROOT / "results" / "results.md").read_text().splitlines() if "k-nearest" in l][0]
        return row.split("|")[5].strip()
    raise AssertionError(f"unknown number {words}")


def test_the_numbers_on_the_pages_are_those_of_results(fresh):
    docs = fresh[1]
    seen = 0
    for path in page_sources():
        built = (docs / f"{path.stem}.md").read_text()
        assert "{{" not in built, f"docs/{path.stem}.md has an unresolved number"
        for line in path.read_text().splitlines():
            for words in re.findall(r"\{\{(.*?)\}\}", line):
                value = expected_number(words.split())
                assert value in built, f"{path.name}: {{{{{words}}}}} should read {value!r}"
                seen += 1
        if "@log" in path.read_text():  # a @log block: seed 42's epoch lines as the script prints them
            for match in re.finditer(r"^@log (\S+)(?: (\S+))?", path.read_text(), re.M):
                script = match[1].removesuffix(".py")
                log = ROOT / "results" / "logs" / f"{script}-seed42.csv"
                epochs = [int(e) for e in match[2].split(",")] if match[2] else range(1, len(log_column(log, "cost")) + 1)
                cost, accuracy = log_column(log, "cost"), log_column(log, "accuracy")
                for e in epochs:
                    assert f"epoch {e:3d}  cost {cost[e - 1]:.4f}" in built
                    if not np.isnan(accuracy[e - 1]):
                        assert f"cost {cost[e - 1]:.4f}  test accuracy {accuracy[e - 1]:.4f}" in built
    if not seen:
        pytest.skip("no {{number}} on any page yet")


# --- bad inputs, made for real ---------------------------------------------------------------------

MULTIPLY_PAGE = """---
script: 0_multiply.py
title: Multiplication
---

## Two scalars

@omit '\"\"\"Slide' .. "from plumbing.cli import run": imports
@added "def main():"
@code "a = T.scalar()" .. "y = a * b"

## A function

@code "multiply = theano.function" .. "return multiply(3, 3)"
@added 'if __name__' .. "run(main)"
"""


def write_page(folder, text, name="0_multiply"):
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.md").write_text(text)
    return folder


@pytest.mark.quick
def test_a_good_sample_page_builds(tmp_path):
    pages = write_page(tmp_path / "pages", MULTIPLY_PAGE)
    result = build("--pages", pages, "--out", tmp_path / "book", "--docs", tmp_path / "docs")
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "docs" / "0_multiply.md").read_text()
    assert "```python\n    a = T.scalar()\n    b = T.scalar()\n\n    y = a * b\n```" in text
    assert "*Added by this project, not in the talk:*" in text and "## Lines not shown" in text


@pytest.mark.quick
def test_an_anchor_on_two_lines_fails_the_build_naming_it(tmp_path):
    bad = MULTIPLY_PAGE.replace('@code "a = T.scalar()" .. "y = a * b"', '@code "T.scalar()" .. "y = a * b"')
    result = build("--pages", write_page(tmp_path / "pages", bad), "--out", tmp_path / "book",
                   "--docs", tmp_path / "docs")
    assert result.returncode == 1
    assert "0_multiply.md:10: anchor 'T.scalar()' matches 2 lines (10, 11) of the script" in result.stderr
    assert len(result.stderr.splitlines()) == 2  # the problem, then the summary
    assert not (tmp_path / "docs").exists()  # nothing written


@pytest.mark.quick
def test_a_line_missing_from_the_page_fails_the_build_naming_it(tmp_path):
    bad = MULTIPLY_PAGE.replace('@code "a = T.scalar()" .. "y = a * b"', '@code "a = T.scalar()" .. "b = T.scalar()"')
    result = build("--pages", write_page(tmp_path / "pages", bad), "--out", tmp_path / "book",
                   "--docs", tmp_path / "docs")
    assert result.returncode == 1
    assert "0_multiply.py line 13 is neither shown nor omitted: y = a * b" in result.stderr
    assert len(result.stderr.splitlines()) == 2  # the problem, then the summary


@pytest.mark.quick
def test_a_line_twice_a_missing_figure_or_number_fail_the_build(tmp_path):
    from tools.book.build import build as build_book
    bad = (MULTIPLY_PAGE.replace('@code "a = T.scalar()" .. "y = a * b"', '@code "a = T.scalar()" .. "y = a * b"\n'
                                 '@code "y = a * b"')
           + '\n@figure no_such.png "nothing"\n\nIt reaches {{accuracy 3_net 5000}}; {{nonsense}}.\n')
    problems, _ = build_book(write_page(tmp_path / "pages", bad), tmp_path / "book", tmp_path / "docs")
    text = "\n".join(problems)
    assert "0_multiply.py line 13 is already in the block of" in text
    assert "@figure: missing results/figures/no_such.png" in text
    assert "no log of 3_net in results/logs reaches epoch 5000" in text
    assert "unknown number {{nonsense}}" in text
    assert len(problems) == 4


# --- the notebooks ---------------------------------------------------------------------------------

TINY = {"epochs": 1, "ntrain": 256, "ntest": 100, "steps": 30}


def tiny_flags(keywords, log):
    """The tiny schedule as main()'s keywords and as the script's flags."""
    values = {k: v for k, v in TINY.items() if k in keywords}
    if "epochs" in values and "ntrain" not in keywords:
        values["epochs"] = 3  # 1_linear_regression: three passes over its 101 points
    if "log" in keywords:
        values["log"] = str(log)
    flags = [f"--{k.replace('_', '-')}={v}" for k, v in values.items()]
    return values, flags


def printed(text):
    """What a run printed, less the seconds of its epoch lines."""
    return [re.sub(r"\s+[\d.]+s$", "", line) for line in text.splitlines()
            if line.strip() and not line.startswith(("Compiling", "WARNING", "INFO"))]


def test_each_notebook_computes_what_its_script_computes(fresh, pages, tmp_path):
    """Each lesson's notebook, run in one kernel on a tiny schedule, against the script from the
    shell with the same flags: the --log CSVs' cost and accuracy columns equal exactly (same seed,
    same code, same process settings), else the printed lines."""
    import nbformat
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient
    from nbformat.v4 import new_code_cell
    from tools.book.build import shape_of

    out = fresh[0]
    env = dict(os.environ, **({"MNIST_DIR": mnist_dir()} if mnist_dir() else {}))
    lessons = [p for p in pages.values() if p.script]
    if not lessons:
        pytest.skip("no lesson pages yet")
    runs = {}
    for page in lessons:
        values, flags = tiny_flags(shape_of(page).keywords, tmp_path / f"{page.name}-notebook.csv")
        shell_flags = [f.replace(str(tmp_path / f"{page.name}-notebook.csv"), str(tmp_path / f"{page.name}-shell.csv"))
                       for f in flags]
        runs[page.name] = (page, values, shell_flags)

    shell = {}

    def from_the_shell():  # beside the kernel: one script at a time
        for name, (page, _, flags) in runs.items():
            shell[name] = subprocess.run([sys.executable, str(ROOT / page.script), *flags], capture_output=True,
                                         text=True, env=env, cwd="/", timeout=600)
    thread = threading.Thread(target=from_the_shell)
    thread.start()
    km = KernelManager(kernel_name="python3")
    km.start_kernel(cwd=str(ROOT), env=env)
    notebook_output = {}
    try:
        for name, (page, values, _) in runs.items():
            nb = nbformat.read(out / "notebooks" / f"{name}.ipynb", as_version=4)
            at = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
            nb.cells.insert(at + 1, new_code_cell("\n".join(f"{k} = {v!r}" for k, v in values.items())))
            NotebookClient(nb, km=km, timeout=600, resources={"metadata": {"path": str(ROOT)}}).execute()
            notebook_output[name] = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                                            for o in c.get("outputs", []) if o.get("name") == "stdout")
    finally:
        km.shutdown_kernel(now=True)
        thread.join()
    for name, (page, values, _) in runs.items():
        result = shell[name]
        assert result.returncode == 0, f"{page.script}: {result.stderr}"
        if "log" in values:
            for column in ("cost", "accuracy"):
                a = (tmp_path / f"{name}-notebook.csv").read_text()
                b = (tmp_path / f"{name}-shell.csv").read_text()
                assert [r[column] for r in csv.DictReader(a.splitlines())] == \
                       [r[column] for r in csv.DictReader(b.splitlines())], f"{name}: {column}"
        else:
            assert printed(notebook_output[name]) and \
                printed(notebook_output[name])[:len(printed(result.stdout))] == printed(result.stdout), name


# --- a real browser --------------------------------------------------------------------------------

def ids_of(path, cache={}):
    if path not in cache:
        cache[path] = set(re.findall(r'\sid="([^"]+)"', Path(path).read_text()))
    return cache[path]


def test_the_html_book_in_a_browser(tmp_path):
    """book/*.html (built here, as make book does) in Chromium from file://, wide and at 390 px:
    no console error, every picture loaded with alt text, every internal link and #anchor resolves,
    no horizontal scroll on a phone; screenshots into book/screenshots."""
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
