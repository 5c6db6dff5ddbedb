"""plumbing/bootstrap.py, the set-up behind `make run` and `make test`: every way it can fail is one
message with the way out, and leaves no half-made .venv. (Its success path, fetching Python 3.11
with uv on a machine without one, is `make check-fresh`.)"""
import os
import shutil
import socket
import subprocess
import sys
import time

from conftest import ROOT

BOOTSTRAP = ROOT / "plumbing" / "bootstrap.py"


def bootstrap(tmp_path, *args, path_programs=(), **env):
    """Run bootstrap.py with a PATH holding only `path_programs` (links to the real ones)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for program in path_programs:
        os.symlink(shutil.which(program) or program, bin_dir / os.path.basename(program))
    full = {k: v for k, v in os.environ.items() if not k.startswith("UV_")}
    full.update(PATH=str(bin_dir), **env)
    started = time.monotonic()
    done = subprocess.run([sys.executable, str(BOOTSTRAP), "--venv", str(tmp_path / "venv"), *args],
                          capture_output=True, text=True, env=full, timeout=300)
    return done, time.monotonic() - started


def assert_one_clear_error(done, tmp_path):
    assert done.returncode == 1
    assert done.stderr.startswith("error: ") and "Traceback" not in done.stderr
    assert not (tmp_path / "venv").exists()


def test_a_python_that_does_not_exist_is_named(tmp_path):
    done, _ = bootstrap(tmp_path, "--python", "/no/such/python3.11", path_programs=["g++"])
    assert_one_clear_error(done, tmp_path)
    assert "PYTHON=/no/such/python3.11: no such program" in done.stderr


def test_a_python_that_is_not_311_is_named_with_its_version(tmp_path):
    # a Python that reports another version, made for real: this one, behind a wrapper script
    fake = tmp_path / "python3.9"
    fake.write_text(f"#!/bin/sh\nexec {sys.executable} -c "
                    "'import json; print(json.dumps({\"version\": \"3.9.18\"}))'\n")
    fake.chmod(0o755)
    done, _ = bootstrap(tmp_path, "--python", str(fake), path_programs=["g++"])
    assert_one_clear_error(done, tmp_path)
    assert "is Python 3.9.18; Theano 1.0.5 needs Python 3.11" in done.stderr


def test_no_compiler_is_said_before_anything_is_installed(tmp_path):
    done, seconds = bootstrap(tmp_path, path_programs=[sys.executable])
    assert_one_clear_error(done, tmp_path)
    assert "no C++ compiler" in done.stderr and "g++" in done.stderr
    assert done.stdout == "" and seconds < 30  # nothing was fetched or installed first


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when this returns: connections are refused


def test_no_python_311_and_no_network_says_both_ways_out(tmp_path):
    uv = shutil.which("uv", path=os.path.dirname(sys.executable)) or shutil.which("uv")
    assert uv, "uv is in requirements.txt"
    done, _ = bootstrap(
        tmp_path, path_programs=["g++", uv],
        UV_PYTHON_INSTALL_DIR=str(tmp_path / "uv-pythons"), UV_CACHE_DIR=str(tmp_path / "uv-cache"),
        UV_PYTHON_DOWNLOADS_JSON_URL=f"http://127.0.0.1:{closed_port()}/python-downloads.json")
    assert_one_clear_error(done, tmp_path)
    message = done.stderr
    assert "needs Python 3.11" in message and "no python3.11 on PATH" in message
    assert "uv could not download one" in message
    assert "make PYTHON=/path/to/python3.11" in message and "connect to the internet" in message
    assert not any((tmp_path / "uv-pythons").glob("cpython-*"))


def test_a_virtual_environments_python_stands_for_the_one_it_was_made_from():
    """A venv is never made from another venv's interpreter (nor `make` remake .venv from its own)."""
    sys.path.insert(0, str(ROOT / "plumbing"))
    import bootstrap
    info = bootstrap.probe(sys.executable)  # the tests run in .venv
    assert sys.prefix != sys.base_prefix and info["version"].startswith("3.11.")
    assert not info["executable"].startswith(sys.prefix)
    assert subprocess.run([info["executable"], "-c", "import sys; assert sys.prefix == sys.base_prefix"]).returncode == 0
