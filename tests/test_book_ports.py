"""The lesson pages' ports, step by step (@port and @port-omit, tools/book/FORMAT.md): every line of
every port is on its lesson's page once, in a closed <details> block per framework after the
lesson's lines, each block the port file's own lines; the notebooks get none of it; a port line left
out or shown twice, or an anchor matching no line or two, fails the build. In a browser:
test_book_ports_browser.py."""
import json
import re

import pytest

from conftest import ROOT, book_build as build, page_sources

PORTS = {"torch": "PyTorch", "jax": "JAX", "pytensor": "PyTensor"}
DETAILS = re.compile(r"<details><summary>(PyTorch|JAX|PyTensor) · (ports/\w+/\w+\.py), lines? ([\d–, ]+)</summary>\n\n"
                     r"(.*?)\n\n</details>", re.S)
FENCE = re.compile(r"```python\n(.*?)\n```", re.S)


def lesson_pages():
    return [p for p in page_sources() if re.search(r"^script: \d_\w+\.py$", p.read_text(), re.M)]


def script_of(source):
    return re.search(r"^script: (\S+)$", source.read_text(), re.M)[1]


def spans(text):
    """'12–14, 20' -> [(12, 14), (20, 20)]"""
    return [tuple(map(int, s.split("–"))) if "–" in s else (int(s), int(s)) for s in text.split(", ")]


@pytest.mark.quick
def test_the_six_lessons_have_pages_and_three_ports_each():
    assert [script_of(p) for p in lesson_pages()] == [f.name for f in sorted((ROOT / "ports" / "torch").glob("*.py"))]
    for source in lesson_pages():
        for port in PORTS:
            assert (ROOT / "ports" / port / script_of(source)).is_file()


@pytest.mark.parametrize("which", ["committed", "fresh"])
def test_each_details_block_is_the_port_files_lines_and_every_line_is_on_the_page_once(which, fresh):
    docs = ROOT / "docs" if which == "committed" else fresh[1]
    for source in lesson_pages():
        script = script_of(source)
        text = (docs / f"{source.stem}.md").read_text()
        steps = text.split("\n## Lines not shown\n")[0]
        count = {port: {} for port in PORTS}
        frameworks_shown = set()
        for name, path, where, body in DETAILS.findall(steps):
            port = path.split("/")[1]
            assert PORTS[port] == name and path == f"ports/{port}/{script}"
            frameworks_shown.add(port)
            lines = (ROOT / path).read_text().splitlines()
            fences = FENCE.findall(body)
            assert len(fences) == len(spans(where)), f"{path} {where}: {len(fences)} code blocks"
            for code, (first, last) in zip(fences, spans(where)):
                assert code == "\n".join(lines[first - 1:last]), f"{source.stem}: {path} lines {first}–{last}"
                for n in range(first, last + 1):
                    count[port][n] = count[port].get(n, 0) + 1
        assert frameworks_shown == set(PORTS), f"{source.stem}: blocks for {sorted(frameworks_shown)} only"
        # the end note: each omitted range with its reason and its lines
        note = text.split("Lines of the ports left out above, and why:")[1]
        for port in PORTS:
            path = f"ports/{port}/{script}"
            lines = (ROOT / path).read_text().splitlines()
            for where, reason, code in re.findall(rf"- `{re.escape(path)}, lines? ([\d–]+)`: ([^\n]+)\n\n  ```python\n(.*?)\n  ```",
                                                  note, re.S):
                (first, last), = spans(where)
                assert reason.strip() and code == "\n".join(("  " + l).rstrip() for l in lines[first - 1:last])
                for n in range(first, last + 1):
                    count[port][n] = count[port].get(n, 0) + 1
            missing = [n for n, line in enumerate(lines, 1) if line.strip() and not count[port].get(n)]
            twice = [n for n, c in count[port].items() if c > 1 and lines[n - 1].strip()]
            assert not missing and not twice, f"{source.stem}, {path}: lines not on the page {missing}, twice {twice}"


def test_the_lessons_code_comes_first_in_each_step(fresh):
    """In each step, the lesson's lines (a fenced block after its label) come before the first port block."""
    for source in lesson_pages():
        text = (fresh[1] / f"{source.stem}.md").read_text().split("\n## Lines not shown\n")[0]
        for step in text.split("\n## ")[1:]:
            if "<details>" in step and f"`{script_of(source)}, line" in step:
                assert step.index(f"`{script_of(source)}, line") < step.index("<details>"), step.splitlines()[0]


def test_the_notebooks_have_no_port_code(fresh):
    """The notebooks run the lesson: no code cell names a port's framework, no cell has a port block."""
    framework = re.compile(r"\b(torch|jax|jnp|pytensor)\b")
    for source in lesson_pages():
        cells = json.loads((fresh[0] / "notebooks" / f"{source.stem}.ipynb").read_text())["cells"]
        assert len(cells) > 5
        for cell in cells:
            text = "".join(cell["source"])
            if cell["cell_type"] == "code":
                assert not framework.search(text), f"{source.stem}.ipynb runs port code: {text[:200]}"
            assert "<details" not in text, f"{source.stem}.ipynb has a port block"


# --- bad inputs, made for real ---------------------------------------------------------------------

SAMPLE = """---
script: 0_multiply.py
title: Multiplication
---

## Two scalars

@omit '\"\"\"Slide' .. "from plumbing.cli import run": imports
@added "def main():"
@code "a = T.scalar()" .. "y = a * b"
@port torch "def multiply(a, b):" .. "return y"
@port jax "@jax.jit" .. "return y"
@port pytensor "def main():" .. "y = a * b"

## A function

@code "multiply = theano.function" .. "return multiply(3, 3)"
@port torch "def main():" .. "return multiply(torch.tensor(3.)"
@port jax "def main():" .. "return float(multiply(3., 3.))"
@port pytensor "multiply = pytensor.function(" .. "return multiply(3, 3)"
@added 'if __name__' .. "run(main)"
@port-omit torch '\"\"\"Slide' .. "from plumbing.cli import run": imports
@port-omit jax '\"\"\"Slide' .. "from plumbing.cli import run": imports
@port-omit pytensor '\"\"\"Slide' .. 'pytensor.config.floatX = "float32"': imports
@port torch 'if __name__' .. "run(main)"
@port jax 'if __name__' .. "run(main)"
@port pytensor 'if __name__' .. "run(main)"
"""


def built(tmp_path, text):
    (tmp_path / "pages").mkdir()
    (tmp_path / "pages" / "0_multiply.md").write_text(text)
    return build("--pages", tmp_path / "pages", "--out", tmp_path / "book", "--docs", tmp_path / "docs")


@pytest.mark.quick
def test_a_sample_page_with_its_ports_builds(tmp_path):
    result = built(tmp_path, SAMPLE)
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "docs" / "0_multiply.md").read_text()
    assert ("<details><summary>PyTorch · ports/torch/0_multiply.py, lines 11–13</summary>\n\n```python\n"
            "def multiply(a, b):") in text
    assert text.index("    a = T.scalar()") < text.index("<details><summary>PyTorch") < text.index("<details><summary>JAX")
    assert "Lines of the ports left out above, and why:" in text
    assert "<details><summary>PyTorch · ports/torch/0_multiply.py, lines 16–19, 22–23</summary>" in text
    html = (tmp_path / "book" / "0_multiply.html").read_text()  # a block per framework and step, 3 in the note
    assert html.count('<details class="port">') == 3 + 3 + 3 and " open" not in html


@pytest.mark.quick
@pytest.mark.parametrize("change, expected", [
    (('@port jax "@jax.jit" .. "return y"\n', ""),
     "ports/jax/0_multiply.py line 11 is neither shown nor omitted: @jax.jit"),
    (('@port torch \'if __name__\' .. "run(main)"\n', '@port torch \'if __name__\' .. "run(main)"\n@port torch "run(main)"\n'),
     "ports/torch/0_multiply.py line 23 is already in the block of"),
    (('@port jax "def main():" .. "return float(multiply(3., 3.))"', '@port jax "def main():" .. "print(multiply("'),
     "anchor 'print(multiply(' matches 2 lines (18, 19) of ports/jax/0_multiply.py"),
    (('@port pytensor "def main():" .. "y = a * b"', '@port pytensor "def main():" .. "y = a @ b"'),
     "anchor 'y = a @ b' matches no line of ports/pytensor/0_multiply.py"),
    (('@port torch "def multiply(a, b):"', '@port tensorflow "def multiply(a, b):"'),
     "@port tensorflow: no such port here"),
    (('imports\n@port-omit jax', 'imports\n@port-omit jax \'\"\"\"Slide\'\n@port-omit jax'), "bad directive"),
], ids=["not-covered", "twice", "two-lines", "no-line", "unknown-framework", "omit-without-reason"])
def test_a_bad_port_directive_fails_the_build_naming_it(tmp_path, change, expected):
    old, new = change
    assert SAMPLE.count(old) == 1
    result = built(tmp_path, SAMPLE.replace(old, new))
    assert result.returncode == 1
    assert expected in result.stderr, result.stderr
    assert not (tmp_path / "docs").exists()  # nothing written
