"""The house: lessons above, tools apart, plumbing below; no hands reaching into a lesson."""
import ast

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
