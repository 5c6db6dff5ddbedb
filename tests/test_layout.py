"""The house: lessons above, tools apart, plumbing below; no hands reaching into a lesson."""
import ast
import re

import pytest

from conftest import LESSONS, ROOT

pytestmark = pytest.mark.quick

PLUMBING = sorted((ROOT / "plumbing").glob("*.py"))
TOOLS = sorted((ROOT / "tools").rglob("*.py"))
CODE = [ROOT / f"{name}.py" for name in LESSONS] + [ROOT / "load.py"] + PLUMBING + TOOLS


def tree(path):
    return ast.parse(path.read_text(), filename=str(path))


def imported_modules(path):
    """Every module a file imports, at any depth: 'plumbing.cli', 'theano', ..."""
    found = set()
    for node in ast.walk(tree(path)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


@pytest.mark.parametrize("path", PLUMBING, ids=lambda p: p.name)
def test_plumbing_imports_neither_tools_nor_lessons(path):
    modules = imported_modules(path)
    assert not {m for m in modules if m.split(".")[0] == "tools"}, modules
    assert "import_script" not in path.read_text()


@pytest.mark.parametrize("name", LESSONS)
def test_a_lesson_imports_what_it_uses_by_name_and_nothing_of_the_tools(name):
    module = tree(ROOT / f"{name}.py")
    modules = imported_modules(ROOT / f"{name}.py")
    assert {m.split(".")[0] for m in modules} <= {"plumbing", "numpy", "theano", "load", "sklearn"}, modules
    names = {alias.asname or alias.name for node in module.body if isinstance(node, ast.ImportFrom)
             and node.module.startswith("plumbing") for alias in node.names}
    used = {node.id for node in ast.walk(module) if isinstance(node, ast.Name)}
    assert names <= used, names - used  # nothing imported that it does not use
    assert not any(isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                   and node.value.id == "plumbing" for node in ast.walk(module))  # no plumbing.X: named imports


@pytest.mark.parametrize("path", CODE, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_assignment_into_another_module_and_no_stack_frames(path):
    module = tree(path)
    modules = {alias.asname or alias.name.split(".")[0] for node in ast.walk(module)
               if isinstance(node, (ast.Import, ast.ImportFrom)) for alias in node.names}
    modules |= {node.targets[0].id for node in ast.walk(module) if isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Call) and getattr(node.value.func, "id", "") == "import_script"
                for _ in [0] if isinstance(node.targets[0], ast.Name)}
    for node in ast.walk(module):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AugAssign) else []
        for target in targets:
            assert not (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)
                        and target.value.id in modules), f"{path.name}:{node.lineno} assigns into {target.value.id}"
    assert "_getframe" not in path.read_text() and "f_back" not in path.read_text()


@pytest.mark.parametrize("path", TOOLS, ids=lambda p: str(p.relative_to(ROOT)))
def test_tools_never_read_what_a_lesson_prints(path):
    """A tool that runs a lesson reads its --log and --save files: the lesson's output goes to the
    terminal as it is, never into a pipe the tool parses."""
    source = path.read_text()
    for node in ast.walk(tree(path)):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") in ("run", "Popen"):
            call = ast.get_source_segment(source, node)
            if '.py"' in call or "_net" in call:  # it runs a lesson script
                assert "PIPE" not in call and "capture_output" not in call, call


# One job per module: no Python module outside the lessons (the seven scripts LESSONS names) over
# LIMIT lines; plumbing, tools, tests and load.py alike, every line counted. The speed-up ops' C code
# is C, in plumbing/c_code/*.c, and is not Python.
LIMIT = 300
MODULES = sorted(path for path in ROOT.rglob("*.py")
                 if not any(part.startswith(".") for part in path.relative_to(ROOT).parts)  # .venv, .venv-jax
                 and path.relative_to(ROOT).as_posix() not in {f"{name}.py" for name in LESSONS})


def test_no_module_outside_the_lessons_is_over_300_lines():
    over = {path.relative_to(ROOT).as_posix(): len(path.read_text().splitlines()) for path in MODULES}
    over = {name: lines for name, lines in over.items() if lines > LIMIT}
    assert not over, f"over {LIMIT} lines, split by job: " + ", ".join(f"{n} ({k})" for n, k in over.items())


def test_the_line_limit_sees_every_part_of_the_house():
    """The limit's list is the house: plumbing, tools (the book, the bench, the figures), tests, load.py."""
    names = {path.relative_to(ROOT).as_posix() for path in MODULES}
    assert {"load.py", "plumbing/cli.py", "tools/book/build.py", "tools/bench/bench.py",
            "tools/figures/__main__.py", "tests/conftest.py", "plumbing/speedups.py",
            "plumbing/speedups_corr.py", "plumbing/speedups_pool.py"} <= names, names
    assert not names & {f"{name}.py" for name in LESSONS}


C_FILES = sorted((ROOT / "plumbing" / "c_code").glob("*.c"))


def test_the_speedups_c_code_is_in_c_files_not_in_python_strings():
    """No string literal of plumbing/ over one line (docstrings aside) reads as C: the ops' C code
    is in plumbing/c_code/, every file of it read by an op of speedups.py or a speedups_*.py."""
    assert {path.name for path in C_FILES} >= {"max_pool.c", "max_pool_grad.c", "mrg_uniform.c", "batched_corr.c"}
    for path in PLUMBING:
        module = tree(path)
        docstrings = {id(node.body[0].value) for node in ast.walk(module)
                      if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef))
                      and node.body and isinstance(node.body[0], ast.Expr)
                      and isinstance(node.body[0].value, ast.Constant)}
        for node in ast.walk(module):
            if (isinstance(node, ast.Constant) and isinstance(node.value, str) and node.end_lineno > node.lineno
                    and id(node) not in docstrings):
                assert not ("{" in node.value and ";" in node.value), f"{path.name}:{node.lineno}: C in a string"
    ops = "".join(path.read_text() for path in (ROOT / "plumbing").glob("speedups*.py"))
    assert not [path.name for path in C_FILES if f'c_source("{path.name}"' not in ops]


@pytest.mark.parametrize("path", C_FILES, ids=lambda p: p.name)
def test_a_c_file_opens_with_what_it_is_and_what_fills_each_placeholder(path):
    """The opening /* ... */ comment (which c_source leaves out) names the file and every %(name)s
    placeholder of its code, and none that the code does not have."""
    text = path.read_text()
    assert text.startswith(f"/* {path.name}: ")
    comment, code = text.split("*/\n", 1)
    placeholders = lambda s: set(re.findall(r"%\((\w+)\)[sd]", s))  # noqa: E731
    assert placeholders(comment) == placeholders(code), path.name
