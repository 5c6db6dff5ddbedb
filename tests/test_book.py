"""The book (tools/book/build.py, FORMAT.md): it builds from what is committed, docs/ is a fresh
build, every script line is on its page once, the numbers are results/'s, and bad page sources fail
the build. The notebooks: test_notebooks.py; the HTML in a browser: test_book_browser.py."""
import csv
import re
from decimal import Decimal

import numpy as np
import pytest

from conftest import ROOT, book_build as build, page_sources

ANCHOR = r"""("[^"]*"|'[^']*')"""
DIRECTIVE = re.compile(rf"^@(code|added|omit)\s+{ANCHOR}(?:\s*\.\.\s*({ANCHOR[1:-1]}|\+\d+))?")


def front(path):
    text = path.read_text()
    match = re.match(r"---\n(.*?)\n---\n", text, re.S)
    meta = dict(line.split(":", 1) for line in match[1].splitlines() if ":" in line) if match else {}
    return {k.strip(): v.strip() for k, v in meta.items()}, text


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
                if words.split()[0] == "line":  # a link to a line, not a number: test_book_today.py
                    continue
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
@port-omit torch '\"\"\"Slide' .. "run(main)": the ports: tests/test_book_ports.py
@port-omit jax '\"\"\"Slide' .. "run(main)": as above
@port-omit pytensor '\"\"\"Slide' .. "run(main)": as above
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
