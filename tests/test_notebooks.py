"""The notebooks the book makes (tools/book/notebook.py): each lesson's notebook, run in a kernel,
computes what its script computes from the shell."""
import csv
import os
import re
import subprocess
import sys
import threading

import pytest

from conftest import BOOK_PAGES as PAGES, ROOT, mnist_dir, page_sources


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


def test_a_notebook_runs_in_the_kernel_the_setup_page_registers(fresh, tmp_path, monkeypatch):
    """The set-up page's one command registers .venv as a Jupyter kernel (--user: here a temporary
    JUPYTER_DATA_DIR); a notebook opened as Jupyter opens it, with the kernel its metadata names,
    finds that kernel, runs in the .venv's Python, and learns."""
    import nbformat
    from jupyter_client.kernelspec import KernelSpecManager
    from nbclient import NotebookClient
    from nbformat.v4 import new_code_cell

    venv_python = ROOT / ".venv" / "bin" / "python"
    if not venv_python.exists():
        pytest.skip("no .venv: the tests run from another environment")
    commands = [line.strip() for line in (PAGES / "setup.md").read_text().splitlines() if "ipykernel install" in line]
    assert len(commands) == 1 and commands[0].startswith(".venv/bin/python -m ipykernel install --user ")
    data_dir = tmp_path / "jupyter"
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(data_dir))
    monkeypatch.setenv("JUPYTER_PREFER_ENV_PATH", "0")  # as a Jupyter outside .venv looks (make notebook's
    # JupyterLab, inside it, finds the same kernel registered in .venv itself)
    if mnist_dir():
        monkeypatch.setenv("MNIST_DIR", mnist_dir())
    done = subprocess.run(commands[0], shell=True, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr

    nb = nbformat.read(fresh[0] / "notebooks" / "1_linear_regression.ipynb", as_version=4)
    name = nb.metadata.kernelspec.name
    assert KernelSpecManager().find_kernel_specs()[name] == str(data_dir / "kernels" / name)
    nb.cells.append(new_code_cell("import sys; print(sys.executable)"))
    NotebookClient(nb, timeout=300, resources={"metadata": {"path": str(tmp_path)}}).execute()  # its kernel
    printed_ = [o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert printed_[-1].strip() == str(venv_python)
    w = [float(t.split("w = ")[1]) for t in printed_ if "w = " in t]
    assert len(w) == 1 and abs(w[0] - 2) < 0.1  # y = 2x + noise: the page says w ends at about 2.00


RUN_SNIPPETS = """import sys, traceback
for name, code in snippets:
    try:
        exec(compile(code, name, "exec"), {"__name__": "__main__"})
        print("ran", name, flush=True)
    except BaseException:
        print("failed", name, traceback.format_exc(), flush=True)
"""


def test_the_own_code_snippets_run_from_any_folder(tmp_path):
    """Every lesson page's "Use it from your own code" block, as a reader runs it: .venv/bin/python in
    a folder of their own (one process for all, each block in a namespace of its own); a weights
    file a block loads is made first as its page says (--save), on a tiny schedule."""
    venv_python = ROOT / ".venv" / "bin" / "python"
    if not venv_python.exists():
        pytest.skip("no .venv: the tests run from another environment")
    env = dict(os.environ, **({"MNIST_DIR": mnist_dir()} if mnist_dir() else {}))
    env.pop("PYTHONPATH", None)
    snippets = []
    for path in page_sources():
        text = path.read_text()
        if "## Use it from your own code" not in text:
            continue
        section = text[text.index("## Use it from your own code"):text.index("## Try it")]
        code = re.search(r"```python\n(.*?)```", section, re.S)[1]
        snippets.append((path.stem, code))
        for weights in re.findall(r'np\.load\("([\w.]+)"', code):
            script, = re.findall(rf"`\.venv/bin/python (\S+\.py) --save {re.escape(weights)}`", section)
            made = subprocess.run([str(venv_python), str(ROOT / script), "--epochs", "1", "--ntrain", "256",
                                   "--ntest", "100", "--save", weights], cwd=tmp_path, env=env, capture_output=True,
                                  text=True, timeout=300)
            assert made.returncode == 0, made.stderr
    assert len(snippets) >= 7  # the six lessons and the moons
    done = subprocess.run([str(venv_python), "-c", f"snippets = {snippets!r}\n" + RUN_SNIPPETS], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=600)
    ran = [line.split()[1] for line in done.stdout.splitlines() if line.startswith("ran ")]
    assert done.returncode == 0 and ran == [name for name, _ in snippets], done.stdout[-3000:] + done.stderr[-2000:]
