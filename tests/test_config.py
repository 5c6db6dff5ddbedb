"""Theano's defaults from tutorial.py, and the user's own settings keeping priority."""
import os
import subprocess
import sys

import pytest

from conftest import ROOT, epoch_lines, run_script

SHOW = "import tutorial, theano; print(theano.config.floatX, repr(theano.config.blas.ldflags))"


def theano_config(tmp_path, **env):
    full = {k: v for k, v in os.environ.items() if k not in ("THEANO_FLAGS", "THEANORC")}
    full.update({"THEANORC": str(tmp_path / "no-theanorc"), **env})
    result = subprocess.run([sys.executable, "-c", SHOW], cwd=ROOT, env=full, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    floatx, ldflags = result.stdout.split()
    return floatx, eval(ldflags)


def test_defaults_float32_and_the_system_openblas_when_present(tmp_path):
    floatx, ldflags = theano_config(tmp_path)
    assert floatx == "float32"
    linker_finds = subprocess.run(["g++", "-print-file-name=libopenblas.so"], capture_output=True,
                                  text=True).stdout.strip()
    assert ldflags == ("-lopenblas" if os.path.isabs(linker_finds) else "")


def test_theano_flags_keep_priority(tmp_path):
    assert theano_config(tmp_path, THEANO_FLAGS="floatX=float64,blas.ldflags=") == ("float64", "")


def test_theanorc_keeps_priority(tmp_path):
    rc = tmp_path / "theanorc"
    rc.write_text("[global]\nfloatX = float64\n\n[blas]\nldflags =\n")
    assert theano_config(tmp_path, THEANORC=str(rc)) == ("float64", "")


SHOW_OPENMP = "import tutorial, theano; print(theano.config.openmp)"


def test_openmp_only_with_a_real_blas(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("THEANO_FLAGS", "THEANORC")}
    for flags, expected in [("blas.ldflags=", "False"), ("blas.ldflags=-lblas", "True"),
                            ("blas.ldflags=,openmp=True", "True")]:
        env.update(THEANO_FLAGS=flags, THEANORC=str(tmp_path / "none"))
        result = subprocess.run([sys.executable, "-c", SHOW_OPENMP], cwd=ROOT, env=env, capture_output=True, text=True)
        assert result.stdout.strip() == expected, (flags, result.stderr)


@pytest.mark.parametrize("script, epochs, ntrain, floor", [("2_logistic_regression", 2, 12800, 0.8),
                                                           ("5_convolutional_net", 1, 256, 0.0)])
def test_numpy_blas_fallback_trains(script, epochs, ntrain, floor):
    result = run_script(script, "--epochs", epochs, "--ntrain", ntrain, "--ntest", 500,
                        env={"THEANO_FLAGS": "blas.ldflags="})
    assert result.returncode == 0, result.stderr
    assert epoch_lines(result.stdout)[-1][1] >= floor
