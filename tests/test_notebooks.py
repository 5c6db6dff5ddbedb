"""The notebooks the book makes (tools/book/notebook.py): each lesson's notebook, run in a kernel,
computes what its script computes from the shell."""
import csv
import os
import re
import subprocess
import sys
import threading

import pytest

from conftest import ROOT, mnist_dir


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
