"""The pictures on the pages are what `make figures` draws from what is committed: the logs and the
trained models in results/ (seed 42's of each lesson, the moons lesson's runs), and the two studies'
logs. Drawn afresh here, without training, each must equal the committed one pixel for pixel, and
each saved model, evaluated again, must get the test accuracy its log ends with.

Pixel for pixel across CPUs: the weight pictures, the charts and the moons' pictures compute
nothing through BLAS. The readout, the misclassified digits and the conv maps do: another GEMM
kernel moves a probability by about 1e-7, far below a pixel's 1/255, and changes a prediction only
if a test digit is that close to a tie between two classes (the accuracy check below would see it
first). Run on AMD EPYC family 25 model 17 with OpenBLAS's SkylakeX (AVX-512) kernels and, forced
by OPENBLAS_CORETYPE=Haswell, its AVX2 ones: all equal (2026-12-04)."""
import shutil

import numpy as np
import pytest

from conftest import MNIST_LESSONS, ROOT, png_pixels, run_script

RESULTS = ROOT / "results"
FIGURES = RESULTS / "figures"


def run(tool, *args):
    done = run_script(tool, *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def drawn(tmp_path_factory):
    """What make figures runs, into a temporary folder: the studies' reports read copies of their
    logs, so that nothing in results/ is written."""
    out = tmp_path_factory.mktemp("drawn")
    printed = run("tools/figures", "--results", RESULTS, "--out", out / "figures")
    for study in ("old_net", "modern_net"):
        shutil.copytree(RESULTS / study, out / study)
    run("tools/old_net", "report", "--out", out / "old_net")
    run("tools/modern_net", "report", "--out", out / "modern_net", "--logs", RESULTS / "logs")
    return out, printed


def test_every_committed_picture_is_drawn_again_from_what_is_committed(drawn):
    out, _ = drawn
    assert sorted(p.name for p in (out / "figures").iterdir()) == sorted(p.name for p in FIGURES.iterdir())


@pytest.mark.parametrize("name", sorted(p.name for p in FIGURES.glob("*.png")))
def test_a_committed_picture_equals_a_fresh_drawing(drawn, name):
    out, _ = drawn
    committed, fresh = png_pixels(FIGURES / name), png_pixels(out / "figures" / name)
    assert committed.shape == fresh.shape, f"{name}: redraw it with make figures"
    assert min(fresh.shape[:2]) > 100 and fresh.std() > 0.05, f"{name}: nothing drawn"
    differ = np.any(committed != fresh, axis=-1)
    assert not differ.any(), f"{name}: {differ.sum()} pixels differ from a fresh drawing; redraw it with make figures"


def test_the_committed_animation_equals_a_fresh_drawing(drawn):
    from PIL import Image, ImageSequence
    out, _ = drawn
    frames = [[np.asarray(frame.convert("RGB")) for frame in ImageSequence.Iterator(Image.open(path))]
              for path in (FIGURES / "understanding_rmsprop.gif", out / "figures" / "understanding_rmsprop.gif")]
    assert len(frames[0]) == len(frames[1]) > 10
    assert all(np.array_equal(a, b) for a, b in zip(*frames))


def test_the_studies_reports_are_current(drawn):
    out, _ = drawn
    for study in ("old_net", "modern_net"):
        assert (out / f"{study}.md").read_text() == (RESULTS / f"{study}.md").read_text(), study


@pytest.mark.parametrize("script", list(MNIST_LESSONS))
def test_each_committed_model_gets_the_accuracy_its_log_ends_with(drawn, script):
    _, printed = drawn
    assert (RESULTS / "models" / f"{script}-seed42.npz").exists(), f"{script}'s seed-42 model is not committed"
    last = (RESULTS / "logs" / f"{script}-seed42.csv").read_text().splitlines()[-1].split(",")
    assert int(last[0]) == 100  # the slide's schedule
    assert f"{script}: test accuracy {float(last[2]):.4f} (saved model, evaluated again)" in printed
