"""moons.py: what its pictures claim, measured on the training runs themselves."""
import pytest

from conftest import run_script
from tutorial import import_script

PNG, GIF = b"\x89PNG\r\n\x1a\n", b"GIF89a"


@pytest.fixture(scope="module")
def moons_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("figures")
    results = import_script("moons").main(steps=20000, seed=42, out=str(out))
    return results, out


def test_rmsprop_reaches_a_lower_cost_than_sgd(moons_run):
    results, _ = moons_run
    assert results["rectifiers, RMSprop"]["cost"][-1] < results["rectifiers, SGD"]["cost"][-1]


def test_rectifiers_end_no_higher_than_sigmoids(moons_run):
    results, _ = moons_run
    assert results["rectifiers, SGD"]["cost"][-1] <= results["sigmoids, SGD"]["cost"][-1]


def test_the_trained_nets_bend_around_the_moons(moons_run):
    results, _ = moons_run
    line = results["logistic regression"]
    assert 0.75 < line < 0.95
    assert results["rectifiers, SGD"]["accuracy"] > line + 0.05
    assert results["rectifiers, RMSprop"]["accuracy"] > line + 0.05


def test_every_picture_is_written(moons_run):
    _, out = moons_run
    for name in ("understanding_sgd.png", "understanding_units.png", "understanding_rmsprop.png"):
        assert (out / name).read_bytes()[:8] == PNG
    assert (out / "understanding_rmsprop.gif").read_bytes()[:6] == GIF
    assert not list(out.glob(".*"))  # no half-written file left


def test_same_seed_same_costs_from_the_shell(tmp_path):
    first = run_script("moons", "--steps", 300, "--out", tmp_path / "a")
    second = run_script("moons", "--steps", 300, "--out", tmp_path / "b")
    assert first.returncode == 0, first.stderr
    assert first.stdout.replace(str(tmp_path / "a"), "") == second.stdout.replace(str(tmp_path / "b"), "")
    assert "cost" in first.stdout and "--steps" in run_script("moons", "-h").stdout
