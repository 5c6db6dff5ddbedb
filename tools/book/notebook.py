"""book/notebooks/NAME.ipynb: a lesson page as a notebook that runs. The script's imports first, the
parameters cell (main()'s keywords on the page's short schedule), then the page's prose and blocks in
page order, main()'s body dedented; and checks that page order can run."""
import ast
import re
from dataclasses import dataclass

from tools.book.page import Row, omitted, rel, script_name


def notebook_values(text):
    """'epochs=2 ntrain=12800' -> {'epochs': 2, 'ntrain': 12800}."""
    values = {}
    for word in text.split():
        key, _, value = word.partition("=")
        try:
            values[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            values[key] = value
    return values


@dataclass
class ScriptShape:
    """What the notebook drops or moves, by line number (1-based)."""
    imports: list  # import lines kept for the first cell
    dropped: dict  # {line: why} left out of the notebook
    main_body: set  # lines of main()'s body (dedented)
    main_indent: int
    keywords: dict  # main()'s keywords and defaults
    ends: dict  # {line: last kept line of the top-level statement (module's or main()'s) it is in}

    def open_after(self, line):
        """Whether the statement of `line` goes on after it (a cell cannot end there)."""
        return self.ends.get(line, line) > line


def shape_of(page):
    tree = ast.parse("\n".join(page.lines))
    dropped, imports, main_body, keywords, indent = {}, [], set(), {}, 4
    statements = []

    def drop(node, why, first=None):
        for n in range(first or node.lineno, node.end_lineno + 1):
            dropped[n] = why
    for node in tree.body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and node is tree.body[0]:
            drop(node, "the script's docstring (the page's title says it)")
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            module = getattr(node, "module", None) or ""
            if module in ("plumbing.cli", "plumbing.graph"):
                drop(node, "the command line and --graph: not in a notebook")
            else:
                imports.extend(range(node.lineno, node.end_lineno + 1))
                drop(node, "moved to the first cell")
        elif isinstance(node, ast.If) and "__main__" in ast.unparse(node.test):
            drop(node, "the command line: the parameters cell takes its place")
        elif isinstance(node, ast.FunctionDef) and node.name == "main":
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                drop(body[0], "main()'s docstring")
                body = body[1:]
            for n in range(node.lineno, node.body[0].lineno):
                dropped[n] = "def main(...): its keywords are the parameters cell"
            args = node.args
            for arg, default in zip(args.args[len(args.args) - len(args.defaults):], args.defaults):
                keywords[arg.arg] = ast.literal_eval(default)
            for stmt in body:
                main_body.update(range(stmt.lineno, stmt.end_lineno + 1))
                statements.append(stmt)
                if isinstance(stmt, ast.If) and ast.unparse(stmt.test) == "graph":
                    drop(stmt, "--graph: a picture of the graph, from the shell")
                elif isinstance(stmt, ast.Return):
                    drop(stmt, "main()'s result: in a notebook the variables stay")
            if body:
                indent = body[0].col_offset
        if not (isinstance(node, ast.FunctionDef) and node.name == "main"):
            statements.append(node)
    ends = {}
    for stmt in statements:
        kept = [n for n in range(stmt.lineno, stmt.end_lineno + 1) if n not in dropped]
        for n in kept:
            ends[n] = kept[-1]
    return ScriptShape(imports, dropped, main_body, indent, keywords, ends)


def notebook_code(page, shape, numbers_):
    out = []
    for n in numbers_:
        if n in shape.dropped:
            continue
        line = page.lines[n - 1]
        if n in shape.main_body:
            line = line[shape.main_indent:] if line[:shape.main_indent].strip() == "" else line.lstrip()
        out.append(line)
    return "\n".join(out).strip("\n")


def notebook_markdown(text, page_names):
    text = re.sub(r"\]\(\.\./", "](../../", text)
    return re.sub(r"\]\((\w+)\.md(#[\w-]*)?\)",
                  lambda m: f"](../{m[1]}.html{m[2] or ''})" if m[1] in page_names else m[0], text)


def to_notebook(page, page_names, problems):
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
    shape = shape_of(page)
    values = dict(shape.keywords)
    overrides = notebook_values(page.meta.get("notebook", ""))
    for key in overrides:
        if key not in values:
            problems.add(f"{rel(page.path)}:1", f"notebook: {key} is not a keyword of {page.script}'s main()")
    values.update(overrides)
    values.update({k: v for k, v in {"log": None, "save": None, "graph": False}.items() if k in values})
    stem = script_name(page.script)
    cells = [new_markdown_cell(f"# {page.title}\n\nThe notebook of [{page.name}](../{page.name}.html), made by "
                               f"`make book` from `{page.script}` and the page's prose: run it with the project's "
                               f"`.venv` (its Python finds `plumbing` and sets Theano up).")]
    cells.append(new_code_cell("\n".join(page.lines[n - 1] for n in shape.imports)))
    cells.append(new_markdown_cell("The parameters: `main()`'s keywords, on a short schedule. "
                                   "Interrupt the kernel to stop training after the current minibatch "
                                   "(twice: at once)."))
    cells.append(new_code_cell("\n".join(f"{k} = {v!r}" for k, v in values.items()),
                               metadata={"tags": ["parameters"]}))
    shown = {n for b in page.blocks if b.kind != "omit" for n in range(b.first, b.last + 1)}
    left_out = [n for b in omitted(page) for n in range(b.first, b.last + 1)
                if page.lines[n - 1].strip() and n not in shape.dropped]
    outside = [n for n in left_out if n not in shape.main_body]
    if outside:
        cells.append(new_markdown_cell("Defined in the script but not explained on the page:"))
        cells.append(new_code_cell(notebook_code(page, shape, outside)))
    # main()'s lines the page leaves out run right after the shown line before them in the script
    body_shown = sorted(n for n in shape.main_body if n in shown)
    after, before_first = {}, []
    for n in (n for n in left_out if n in shape.main_body):
        earlier = [m for m in body_shown if m < n]
        (after.setdefault(earlier[-1], []) if earlier else before_first).append(n)
    order = []  # main()'s lines in the order the notebook runs them
    items = []  # ('md', text) or ('code', [line numbers]) in page order
    for section in page.sections:
        heading = f"## {section.heading}\n\n" if section.heading else ""
        for row in section.rows or [Row()]:
            text = re.sub(r"\n{3,}", "\n\n", heading + "\n".join(row.prose).strip("\n")).strip()
            heading = ""
            if text:
                items.append(("md", notebook_markdown(text, page_names)))
            for block in row.blocks:
                lines = []
                for n in range(block.first, block.last + 1):
                    lines += (before_first if body_shown and n == body_shown[0] else []) + [n] + after.get(n, [])
                lines = [n for n in lines if n not in shape.dropped]
                order += [n for n in lines if n in shape.main_body]
                if any(page.lines[n - 1].strip() for n in lines):
                    items.append(("code", lines))
    # a statement the page splits (a loop whose lines are partly the talk's, partly this project's)
    # is one cell: the prose between its parts follows the cell
    pending, deferred = None, []
    for kind, value in items:
        if kind == "md":
            if pending and shape.open_after(pending[-1]):
                deferred.append(value)
            else:
                if pending:
                    cells.append(new_code_cell(notebook_code(page, shape, pending)))
                    pending = None
                cells.append(new_markdown_cell(value))
        elif pending and shape.open_after(pending[-1]):
            pending += value
        else:
            if pending:
                cells.append(new_code_cell(notebook_code(page, shape, pending)))
            cells.extend(new_markdown_cell(text) for text in deferred)
            pending, deferred = value, []
    if pending:
        cells.append(new_code_cell(notebook_code(page, shape, pending)))
    cells.extend(new_markdown_cell(text) for text in deferred)
    check_notebook_order(page, shape, order, problems)
    dropped = sorted(shape.dropped)
    listing = "\n".join(f"    {page.lines[n - 1].rstrip()}" for n in dropped if page.lines[n - 1].strip()
                        and shape.dropped[n] != "moved to the first cell")
    cells.append(new_markdown_cell(
        "## Left out of this notebook\n\nLines of the script that only make sense in a function or from "
        "the shell (`def main`, its docstring, `return`, `--graph`, the command line); "
        "its imports are in the first cell:\n\n" + listing))
    cells.append(new_markdown_cell(
        "## The lesson from your own code\n\n"
        + (f"`import {stem}` is a syntax error (a name cannot start with a digit): load"
           if stem[0].isdigit() else "Load")
        + " the script by its path with importlib, from any folder. That defines its functions and trains "
        "nothing."))
    cells.append(new_code_cell(
        "import importlib.util\nimport sys\nfrom pathlib import Path\n\nimport plumbing\n\n"
        f"path = Path(plumbing.__file__).resolve().parent.parent / {page.script!r}\n"
        f"spec = importlib.util.spec_from_file_location({('lesson_' + stem)!r}, path)\n"
        "lesson = importlib.util.module_from_spec(spec)\n"
        "sys.modules[spec.name] = lesson\nspec.loader.exec_module(lesson)\n"
        "print([name for name, value in vars(lesson).items() if callable(value) "
        "and getattr(value, '__module__', None) == spec.name])"
        + ("\n# e.g. the same model on new symbolic inputs: lesson.model(X, ...)" if "model" in
           "\n".join(page.lines) else "")))
    nb = new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "theano-tutorial", "display_name": "Theano tutorial (.venv)", "language": "python"},
        "language_info": {"name": "python"}})
    nbformat.validate(nb)
    return nbformat.writes(nb)


def check_notebook_order(page, shape, order, problems):
    """main()'s lines run in the notebook in page order: they must keep the script's order, and a
    name defined at the script's top level must be defined before a line of main() uses it."""
    positions = order
    for a, b in zip(positions, positions[1:]):
        if b < a:
            problems.add(rel(page.path), f"{page.script} line {b} comes after line {a} on the page: the lines of "
                                         f"main() keep the script's order (the notebook runs them in page order)")
            break
    tree = ast.parse("\n".join(page.lines))
    defined = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name != "main":
            defined[node.name] = node.lineno
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    defined[target.id] = node.lineno
    cell_of = {}
    for block_index, block in enumerate(b for b in page.blocks if b.kind != "omit"):
        for n in range(block.first, block.last + 1):
            cell_of[n] = block_index
    for n in order:
        names = set()
        try:
            names = {node.id for node in ast.walk(ast.parse(page.lines[n - 1].strip()))
                     if isinstance(node, ast.Name)}
        except SyntaxError:
            pass
        for name in names & set(defined):
            where = cell_of.get(defined[name])
            if where is not None and n in cell_of and where > cell_of[n]:
                problems.add(rel(page.path), f"{page.script} line {n} uses {name}, which the page shows later "
                                             f"(line {defined[name]}): the notebook would run it first")
