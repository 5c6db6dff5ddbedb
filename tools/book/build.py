"""The book: tools/book/pages/*.md (format: FORMAT.md beside this file) into docs/NAME.md (committed),
book/NAME.html with its stylesheet, and book/notebooks/NAME.ipynb for each lesson page.

    python -m tools.book.build                 (make book)
    python -m tools.book.build --out DIR --docs DIR --pages DIR

Trains nothing and reads only what is committed: the scripts, results/ and the page sources. Fails
(exit 1, one line per problem) on an anchor matching no line or several, a script line neither shown
nor omitted or shown twice, a missing figure or results number, an unknown directive.
"""
# The build by job, each module beside this one:
#   page.py           a page's model: its steps, rows and blocks; the talk's order; anchors
#   sources.py        reading a page source: front matter, steps, anchors, coverage, links
#   results.py        the {{...}} numbers and the @log, @figure, @include, @bench, @levers, @startup blocks
#   markdown_page.py  docs/NAME.md
#   html_page.py      book/NAME.html and style.css
#   notebook.py       book/notebooks/NAME.ipynb
import argparse
import sys
from pathlib import Path

from tools.book.html_page import stylesheet, to_html
from tools.book.markdown_page import GENERATED, to_markdown
from tools.book.notebook import shape_of, to_notebook  # noqa: F401  (shape_of: the notebook's model, for tests)
from tools.book.page import Problems, arc_order
from tools.book.sources import check_links, read_page
from tools.lessons import ROOT
from tools.logs import write
from tools.one_line import run

PAGES = ROOT / "tools" / "book" / "pages"


# --- the build ---------------------------------------------------------------------------------

def build(pages_dir=PAGES, out=ROOT / "book", docs=ROOT / "docs", notebooks=True):
    """Build everything; returns the problems (empty on success) and the pages."""
    problems = Problems()
    pages = [read_page(path, problems) for path in sorted(Path(pages_dir).glob("*.md"))]
    lessons, others = arc_order(pages)
    names = {p.name for p in pages}
    check_links(pages, problems)
    written = {}
    for page in pages:
        written[page.name] = (to_markdown(page, lessons, others), to_html(page, lessons, others, names),
                              to_notebook(page, names, problems) if page.script and notebooks else None)
    if problems:
        return problems, pages
    out, docs = Path(out), Path(docs)
    (out / "notebooks").mkdir(parents=True, exist_ok=True)
    docs.mkdir(parents=True, exist_ok=True)
    for old in docs.glob("*.md"):  # pages removed since: only the files this build wrote
        if old.stem not in names and old.read_text().startswith(GENERATED.format(name=old.stem)):
            old.unlink()
    for name, (markdown_, html_, notebook) in written.items():
        write(docs / f"{name}.md", markdown_)
        write(out / f"{name}.html", html_)
        if notebook:
            write(out / "notebooks" / f"{name}.ipynb", notebook)
    write(out / "style.css", stylesheet())
    return problems, pages


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", default=str(PAGES), help="the page sources (default: tools/book/pages)")
    parser.add_argument("--out", default=str(ROOT / "book"), help="the HTML book and notebooks (default: book)")
    parser.add_argument("--docs", default=str(ROOT / "docs"), help="the Markdown pages (default: docs)")
    args = parser.parse_args(argv)
    from plumbing.paths import check_outputs  # before any work: the folders can be written
    check_outputs(folders={"--out": args.out, "--docs": args.docs})
    problems, pages = build(args.pages, args.out, args.docs)
    if problems:
        for problem in problems:
            print(f"error: {problem}", file=sys.stderr)
        print(f"book not built: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    print(f"{len(pages)} page(s): {args.docs}/*.md, {args.out}/*.html, "
          f"{sum(1 for p in pages if p.script)} notebook(s) in {args.out}/notebooks")
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
