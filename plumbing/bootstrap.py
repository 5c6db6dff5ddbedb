"""Set up .venv for the tutorial: find or fetch Python 3.11, then install requirements.txt.

`make run` and `make test` call it; run it with whatever python3 the machine has (3.8 or newer):

    python3 plumbing/bootstrap.py [--python PATH] [--venv .venv]

Python 3.11, in this order: --python (make PYTHON=...) if given; else a `python3.11` or `python3`
on PATH that is 3.11 with its venv module, distutils and headers (Python.h, which Theano compiles
against); else uv's own 3.11 (`uv python install 3.11`), with uv from PATH or, where there is none,
installed from PyPI into .uv/. uv reads its usual settings (UV_PYTHON_INSTALL_DIR,
UV_PYTHON_INSTALL_MIRROR, UV_PYTHON_DOWNLOADS_JSON_URL, uv.toml, ...); nothing is downloaded when a
usable 3.11 is already there. Every failure is one message that says the way out; a failed
install leaves no .venv behind.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
UV_REQUIREMENTS = os.path.join(ROOT, "plumbing", "requirements-uv.txt")

# What a Python must have for the tutorial: 3.11, a venv with pip, distutils (Theano imports it),
# Python.h (Theano compiles C++ against it). Printed as JSON by the candidate itself.
PROBE = """
import json, os, sys, sysconfig
def has(module):
    try:
        __import__(module)
        return True
    except Exception:
        return False
# inside a virtual environment, the interpreter it was made from: a venv is made from that one
base = getattr(sys, "_base_executable", sys.executable) if sys.prefix != sys.base_prefix else sys.executable
print(json.dumps({"version": "%d.%d.%d" % sys.version_info[:3], "executable": base,
                  "venv": has("venv") and has("ensurepip"), "distutils": has("distutils.sysconfig"),
                  "headers": os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h"))}))
"""

# On Debian and Ubuntu, a system Python 3.11 comes in parts
MISSING_PART = {"venv": "the venv module (Debian/Ubuntu: python3.11-venv)",
                "distutils": "distutils (Debian/Ubuntu: python3-distutils)",
                "headers": "its C headers, Python.h (Debian/Ubuntu: python3.11-dev)"}


class Failure(Exception):
    """One message for the user; the exit code is 1."""


def say(message):
    print(f"==> {message}", flush=True)


def probe(python):
    """What `python` is (see PROBE), or None when it does not run."""
    try:
        done = subprocess.run([python, "-c", PROBE], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def missing(info):
    """The parts a Python 3.11 lacks for the tutorial, as words; [] when it has them all."""
    return [MISSING_PART[part] for part in ("venv", "distutils", "headers") if not info[part]]


def requested_python(name):
    """The Python given with --python: it must exist, be 3.11 and be complete."""
    path = shutil.which(name)
    if path is None:
        raise Failure(f"PYTHON={name}: no such program. Give the path of a Python 3.11, or leave "
                      f"PYTHON out and the tutorial finds or fetches one itself.")
    info = probe(path)
    if info is None:
        raise Failure(f"PYTHON={name} ({path}) does not run as a Python.")
    if not info["version"].startswith("3.11."):
        raise Failure(f"PYTHON={name} is Python {info['version']}; Theano 1.0.5 needs Python 3.11. "
                      f"Leave PYTHON out and the tutorial fetches a 3.11 with uv.")
    if missing(info):
        raise Failure(f"PYTHON={name} (Python {info['version']}) lacks {' and '.join(missing(info))}.")
    return info["executable"]


def python_on_path(seen):
    """A complete Python 3.11 called python3.11 or python3 on PATH, or None; notes what was seen."""
    for name in ("python3.11", "python3"):
        path = shutil.which(name)
        info = probe(path) if path else None
        if info is None:
            continue
        if not info["version"].startswith("3.11."):
            seen.append(f"{name} is Python {info['version']} ({path})")
        elif missing(info):
            seen.append(f"{name} is Python {info['version']} ({path}) but lacks {' and '.join(missing(info))}")
        else:
            return info["executable"]
    return None


def find_uv():
    """uv from PATH, else from .uv/, installed there from PyPI with this Python when missing."""
    uv = shutil.which("uv")
    if uv:
        return uv
    home = os.path.join(ROOT, ".uv")
    uv = os.path.join(home, "bin", "uv")
    if os.path.exists(uv):
        return uv
    say(f"installing uv (to fetch Python 3.11) into {home}")
    made = subprocess.run([sys.executable, "-m", "venv", home], capture_output=True, text=True)
    if made.returncode != 0:
        shutil.rmtree(home, ignore_errors=True)
        raise Failure(f"{sys.executable} could not make a virtual environment (it lacks the venv "
                      f"module: on Debian/Ubuntu, sudo apt-get install python3-venv).")
    pip = subprocess.run([os.path.join(home, "bin", "python"), "-m", "pip", "install", "--quiet",
                          "--disable-pip-version-check", "-r", UV_REQUIREMENTS])
    if pip.returncode != 0:
        shutil.rmtree(home, ignore_errors=True)
        raise Failure("pip could not install uv from PyPI (see above); check the network and run make again.")
    return uv


def uv_python(seen):
    """uv's own Python 3.11: installed by uv unless it has one already."""
    found = "; ".join(seen) or "no python3.11 on PATH"
    say(f"no complete Python 3.11 here ({found}): getting one with uv")
    uv = find_uv()
    # from /, without VIRTUAL_ENV: uv would otherwise find this repository's own .venv
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "CONDA_PREFIX")}
    installed = subprocess.run([uv, "python", "install", "3.11"], capture_output=True, text=True, cwd="/", env=env)
    if installed.returncode != 0:
        reason = [line.strip() for line in installed.stderr.splitlines() if line.strip()]
        raise Failure(
            f"Theano 1.0.5 needs Python 3.11, and this machine has none that is complete ({found}). "
            f"uv could not download one: {reason[-1] if reason else 'it failed'}\n"
            f"Either install Python 3.11 with its venv module and headers yourself and run "
            f"make PYTHON=/path/to/python3.11, or connect to the internet and run make again.")
    located = subprocess.run([uv, "python", "find", "--python-preference", "only-managed", "3.11"],
                             capture_output=True, text=True, cwd="/", env=env)
    path = located.stdout.strip()
    info = probe(path) if located.returncode == 0 and path else None
    if info is None or missing(info):
        raise Failure(f"uv installed Python 3.11 but it is not usable here ({path or located.stderr.strip()}).")
    return info["executable"]


def make_venv(python, venv, requirements):
    say(f"making {venv} with {python}")
    try:
        subprocess.run([python, "-m", "venv", "--clear", venv], check=True)
        say(f"installing {os.path.relpath(requirements)} (pinned versions) into {venv}")
        subprocess.run([os.path.join(venv, "bin", "python"), "-m", "pip", "install", "--quiet",
                        "--disable-pip-version-check", "-r", requirements], check=True)
    except subprocess.CalledProcessError:
        shutil.rmtree(venv, ignore_errors=True)
        raise Failure(f"installing into {venv} failed (see pip's message above); nothing was kept. "
                      f"Check the network and run make again.") from None
    install_hook(venv)


def install_hook(venv):
    """tutorial.pth in the venv's site-packages: the lessons' folder on sys.path, and the project's
    Theano flags for a plain `import theano` (plumbing/venv_hook.py)."""
    site = subprocess.run([os.path.join(venv, "bin", "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    hook = os.path.join(ROOT, "plumbing", "venv_hook.py")
    with open(os.path.join(site, "tutorial.pth"), "w") as pth:  # the hook by its path: `plumbing` stays unimported
        pth.write(f"{ROOT}\nimport importlib.util as u; s = u.spec_from_file_location('tutorial_venv_hook', "
                  f"{hook!r}); s.loader.exec_module(u.module_from_spec(s))\n")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--python", default="", help="a Python 3.11 to use (make PYTHON=...)")
    parser.add_argument("--venv", default=os.path.join(ROOT, ".venv"), help="the folder to make")
    parser.add_argument("--requirements", default=os.path.join(ROOT, "requirements.txt"))
    args = parser.parse_args(argv)
    cxx = "g++"  # Theano's compiler
    try:
        if shutil.which(cxx) is None:
            raise Failure(f"no C++ compiler: Theano compiles its ops with {cxx}, which is not on PATH. "
                          f"Install it (Debian/Ubuntu: sudo apt-get install g++) and run make again.")
        seen = []
        python = (requested_python(args.python) if args.python
                  else python_on_path(seen) or uv_python(seen))
        make_venv(python, os.path.abspath(args.venv), args.requirements)
    except Failure as failure:
        print(f"error: {failure}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
