"""The page "From Theano to today" (tools/book/pages/theano_to_today.md): its {{line PATH "ANCHOR"}}
links go to the one line of PATH that holds ANCHOR, in the committed docs/ and in a fresh build, so a
port line that moves without the page following fails here; every construct has its row with the
lesson's line and the three frameworks'; a bad anchor fails the build, naming it."""
import re

import pytest

from conftest import BOOK_PAGES, ROOT, book_build as build

pytestmark = pytest.mark.quick

PAGE = "theano_to_today"
LINK = re.compile(r'\[`([^`]+)`\]\(\.\./([\w./-]+\.py)#L(\d+) "([^"]+)"\)')
CONSTRUCTS = ["symbolic variable", "shared variable", "`theano.function` with `updates`", "`T.grad`",
              "`RandomStreams`", "dropout", "`conv2d`", "`pool_2d`", "softmax", "the cross-entropy",
              "`floatX`", "`allow_input_downcast`"]
FRAMEWORKS = ["torch", "jax", "pytensor"]


def links(text):
    return [(anchor, path, int(n), title) for anchor, path, n, title in LINK.findall(text)]


@pytest.mark.parametrize("which", ["committed", "fresh"])
def test_each_link_goes_to_the_one_line_holding_its_anchor(which, fresh):
    docs = ROOT / "docs" if which == "committed" else fresh[1]
    found = links((docs / f"{PAGE}.md").read_text())
    assert len(found) >= 4 * len(CONSTRUCTS) + 8  # the table's cells, then one line per trap at least
    for anchor, path, n, title in found:
        lines = (ROOT / path).read_text().splitlines()
        holding = [i + 1 for i, line in enumerate(lines) if anchor in line.strip()]
        assert holding == [n], f"{path}: {anchor!r} is on line(s) {holding}, the page links line {n}"
        assert title == f"{path}, line {n}"


def table_rows():
    text = (BOOK_PAGES / f"{PAGE}.md").read_text()
    rows = [line for line in text.splitlines() if line.startswith("| ") and not line.startswith("| ---")]
    header, body = rows[0], rows[1:]
    assert [c.strip() for c in header.strip("|").split("|")] == ["", "Theano (the lesson)", "PyTorch", "JAX", "PyTensor"]
    return {cells[0]: cells[1:] for cells in ([c.strip() for c in re.split(r"\|(?![^{]*\}\})", row.strip()[1:-1])]
                                              for row in body)}


def test_every_construct_has_its_row_with_the_lesson_and_all_three_frameworks():
    rows = table_rows()
    assert list(rows) == CONSTRUCTS
    for construct, cells in rows.items():
        assert len(cells) == 4, (construct, cells)
        theano, *ports = cells
        assert re.search(r'\{\{line \d_\w+\.py ', theano), (construct, theano)  # a lesson's own line
        for framework, cell in zip(FRAMEWORKS, ports):
            assert re.search(rf'\{{\{{line ports/{framework}/\d_\w+\.py ', cell), (construct, framework, cell)


def test_each_trap_of_pytensor_is_shown_by_a_line_of_its_port():
    text = (BOOK_PAGES / f"{PAGE}.md").read_text()
    traps = text.split("## PyTensor's traps", 1)[1].split("\n## ", 1)[0]
    items = re.split(r"\n- ", traps)[1:]
    assert len(items) >= 8
    for item in items:
        assert "{{line ports/pytensor/" in item, item


def several(anchor, path):
    hits = [str(i + 1) for i, line in enumerate((ROOT / path).read_text().splitlines()) if anchor in line.strip()]
    assert len(hits) > 1
    return f"{len(hits)} lines ({', '.join(hits)})"


@pytest.mark.parametrize("anchor, problem", [
    ("no such line", "anchor 'no such line' matches no line of ports/torch/4_modern_net.py"),
    ("import", f"anchor 'import' matches {several('import', 'ports/torch/4_modern_net.py')} "
               "of ports/torch/4_modern_net.py"),
])
def test_a_bad_line_anchor_fails_the_build_naming_it(tmp_path, anchor, problem):
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "sample.md").write_text(f'# A sample\n\nThe update: {{{{line ports/torch/4_modern_net.py "{anchor}"}}}}.\n')
    result = build("--pages", pages, "--out", tmp_path / "book", "--docs", tmp_path / "docs")
    assert result.returncode == 1
    assert f"sample.md:3: {problem}" in result.stderr
    assert len(result.stderr.splitlines()) == 2  # the problem, then the summary
    assert not (tmp_path / "docs").exists()  # nothing written


def test_a_good_line_anchor_builds_to_its_line(tmp_path):
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "sample.md").write_text('# A sample\n\n{{line ports/jax/4_modern_net.py "jax.value_and_grad(cost_of)"}}\n')
    result = build("--pages", pages, "--out", tmp_path / "book", "--docs", tmp_path / "docs")
    assert result.returncode == 0, result.stderr
    (anchor, path, n, _), = links((tmp_path / "docs" / "sample.md").read_text())
    assert "jax.value_and_grad(cost_of)" in (ROOT / path).read_text().splitlines()[n - 1]
    html = (tmp_path / "book" / "sample.html").read_text()
    assert f'href="../ports/jax/4_modern_net.py#L{n}"' in html  # the HTML book links likewise, relative
