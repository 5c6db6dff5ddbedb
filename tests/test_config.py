"""Theano's defaults from plumbing/defaults.py, and the user's own settings keeping priority."""
import importlib.util
import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT, epoch_lines, run_script

SHOW = "import plumbing.defaults, theano; print(theano.config.floatX, repr(theano.config.blas.ldflags))"


def run_python(tmp_path, code, **env):
    """`code` in a fresh Python from the repository's folder, with none of the user's Theano or
    thread settings (no THEANO_FLAGS, no config file, no OPENBLAS_/OMP_/GOMP_ variables) but `env`."""
    full = {k: v for k, v in os.environ.items()
            if k not in ("THEANO_FLAGS", "THEANORC") and not k.startswith(("OPENBLAS_", "GOTO_", "OMP_", "GOMP_"))}
    full.update({"THEANORC": str(tmp_path / "no-theanorc"), **env})
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=full, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result


def theano_config(tmp_path, **env):
    floatx, ldflags = run_python(tmp_path, SHOW, **env).stdout.strip().split(" ", 1)
    return floatx, eval(ldflags)


def theano_config_value(tmp_path, name, **env):
    return run_python(tmp_path, f"import plumbing.defaults, theano; print(theano.config.{name})", **env).stdout.strip()


# Compiles a BLAS op (Dot22) and reports which library the process loaded for it, as the kernel
# reads /proc/self/maps, and how many threads each BLAS runs, as threadpoolctl reads them.
SHOW_BLAS = """
import json, os, numpy as np, plumbing.defaults, theano, theano.tensor as T
from threadpoolctl import threadpool_info
x = T.fmatrix()
f = theano.function([x], T.dot(x, x))
a = np.random.RandomState(0).rand(200, 300).astype("float32")
ok = bool(np.allclose(f(a[:, :200]), a[:, :200] @ a[:, :200], rtol=1e-4))
maps = open("/proc/self/maps").read()
print(json.dumps({"ok": ok, "ops": [type(n.op).__name__ for n in f.maker.fgraph.toposort()],
                  "ldflags": theano.config.blas.ldflags, "openmp": theano.config.openmp,
                  "pypi": "libscipy_openblas" in maps,
                  "system": any("libopenblas" in line and ".libs/" not in line for line in maps.splitlines()),
                  "threads": {os.path.basename(i["filepath"]): i["num_threads"] for i in threadpool_info()}}))
"""


def blas_report(tmp_path, **env):
    result = run_python(tmp_path, SHOW_BLAS, **env)
    return json.loads(result.stdout), result.stderr


pypi_openblas_installed = importlib.util.find_spec("scipy_openblas32") is not None


@pytest.mark.skipif(not pypi_openblas_installed, reason="no wheel of scipy-openblas32 for this platform")
def test_defaults_float32_and_the_pypi_openblas(tmp_path):
    assert theano_config(tmp_path)[0] == "float32"
    report, stderr = blas_report(tmp_path)
    assert report["ok"] and report["ops"] == ["Dot22"] and report["pypi"] and report["openmp"]
    assert stderr == ""  # no warning from Theano on a normal run
    assert report["threads"]["libscipy_openblas.so"] == min(len(os.sched_getaffinity(0)), 64)  # the wheel's cap


# CPU seconds the process spends in the 0.3 s after a multi-threaded product: an OpenBLAS thread
# that spins waiting for more work burns them, one that sleeps does not
IDLE_CPU = """
import resource, time, numpy as np, plumbing.defaults, theano, theano.tensor as T
x = T.fmatrix()
f = theano.function([x], T.dot(x, x))
a = np.random.RandomState(0).rand(1000, 1000).astype("float32")
f(a)
time.sleep(0.5)
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
f(a)
before = cpu()
time.sleep(0.3)
print(cpu() - before)
"""


@pytest.mark.skipif(not pypi_openblas_installed or len(os.sched_getaffinity(0)) < 2,
                    reason="needs the OpenBLAS wheel and two cores")
def test_idle_openblas_threads_sleep_instead_of_spinning(tmp_path):
    def idle_cpu_seconds(**env):
        return float(run_python(tmp_path, IDLE_CPU, **env).stdout)
    ours = idle_cpu_seconds()
    # the reference: OpenBLAS's own wait, 2**28 cycles, set by the user, who wins; it spins on the
    # other core (0.10 s of the 0.3 s on an idle 2-core machine, less when other work has that core)
    spinning = idle_cpu_seconds(OPENBLAS_THREAD_TIMEOUT="28")
    assert spinning > 0.02 and ours < 0.01 + 0.25 * spinning, (ours, spinning)


@pytest.mark.skipif(not pypi_openblas_installed, reason="no wheel of scipy-openblas32 for this platform")
def test_users_blas_threads_win(tmp_path):
    report, _ = blas_report(tmp_path, OPENBLAS_NUM_THREADS="2")
    assert report["pypi"] and report["threads"]["libscipy_openblas.so"] == 2


@pytest.mark.skipif(not pypi_openblas_installed, reason="no wheel of scipy-openblas32 for this platform")
def test_without_openmp_openblas_keeps_its_threads(tmp_path):
    report, _ = blas_report(tmp_path, THEANO_FLAGS="openmp=False")
    assert report["ok"] and report["pypi"] and not report["openmp"]
    assert report["threads"]["libscipy_openblas.so"] == min(len(os.sched_getaffinity(0)), 64)  # the wheel's cap


@pytest.mark.skipif(not pypi_openblas_installed, reason="no wheel of scipy-openblas32 for this platform")
def test_users_cxxflags_are_kept_beside_the_blas_renames(tmp_path):
    report, _ = blas_report(tmp_path, THEANO_FLAGS="gcc.cxxflags=-DTUTORIAL_TEST_FLAG")
    assert report["ok"] and report["pypi"]
    cxxflags = theano_config_value(tmp_path, "gcc.cxxflags", THEANO_FLAGS="gcc.cxxflags=-DTUTORIAL_TEST_FLAG")
    assert "-DTUTORIAL_TEST_FLAG" in cxxflags.split() and "-Dsgemm_=scipy_sgemm_" in cxxflags.split()


def test_a_broken_pypi_openblas_falls_back_and_still_trains(tmp_path):
    """A scipy_openblas32 whose library does not load (here: not a library at all) is passed over."""
    broken = tmp_path / "site" / "scipy_openblas32"
    (broken / "lib").mkdir(parents=True)
    (broken / "__init__.py").write_text("")
    (broken / "lib" / "libscipy_openblas.so").write_bytes(b"not a shared library\n")
    report, _ = blas_report(tmp_path, PYTHONPATH=str(tmp_path / "site"))
    assert report["ok"] and not report["pypi"]
    assert report["ldflags"] in ("", "-lopenblas") and report["system"] == (report["ldflags"] == "-lopenblas")
    # trains as with the default BLAS: the same seed gives the same accuracy, to float32 rounding
    args = ("--epochs", 1, "--ntrain", 12800, "--ntest", 2000)
    fallback = run_script("2_logistic_regression", *args, env={"PYTHONPATH": str(tmp_path / "site")})
    default = run_script("2_logistic_regression", *args)
    assert fallback.returncode == 0 and "Traceback" not in fallback.stderr, fallback.stderr
    assert default.returncode == 0, default.stderr
    (cost, accuracy), (default_cost, default_accuracy) = epoch_lines(fallback.stdout)[-1], epoch_lines(default.stdout)[-1]
    assert abs(cost - default_cost) < 1e-3 and abs(accuracy - default_accuracy) <= 0.001 and accuracy > 0.5  # chance: 0.1



def test_theano_flags_keep_priority(tmp_path):
    assert theano_config(tmp_path, THEANO_FLAGS="floatX=float64,blas.ldflags=") == ("float64", "")


def test_theanorc_keeps_priority(tmp_path):
    rc = tmp_path / "theanorc"
    rc.write_text("[global]\nfloatX = float64\n\n[blas]\nldflags =\n")
    assert theano_config(tmp_path, THEANORC=str(rc)) == ("float64", "")


def test_openmp_only_with_a_real_blas(tmp_path):
    for flags, expected in [("blas.ldflags=", "False"), ("blas.ldflags=-lblas", "True"),
                            ("blas.ldflags=,openmp=True", "True")]:
        assert theano_config_value(tmp_path, "openmp", THEANO_FLAGS=flags) == expected, flags


@pytest.mark.parametrize("script, epochs, ntrain", [("2_logistic_regression", 2, 12800),
                                                    ("5_convolutional_net", 1, 256)])
def test_numpy_blas_fallback_trains_as_the_default_blas(script, epochs, ntrain):
    """NumPy's BLAS is a second implementation of the same products: the same seed gives the same
    costs and accuracy, to float32 rounding."""
    args = ("--epochs", epochs, "--ntrain", ntrain, "--ntest", 500)
    fallback = run_script(script, *args, env={"THEANO_FLAGS": "blas.ldflags="})
    default = run_script(script, *args)
    assert fallback.returncode == 0, fallback.stderr
    assert default.returncode == 0, default.stderr
    for (cost, accuracy), (default_cost, default_accuracy) in zip(epoch_lines(fallback.stdout), epoch_lines(default.stdout)):
        assert abs(cost - default_cost) < 1e-3 and abs(accuracy - default_accuracy) <= 0.004
