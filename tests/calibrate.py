"""Calibrate the accuracy floors of test_scripts.py: each script's test schedule over several seeds,
as the lesson is and with its learning rate divided by 3 (a lesson that learns markedly worse).

    .venv/bin/python tests/calibrate.py [--seeds 1-5] [--scripts 2_logistic_regression,...]

Prints, per script and variant, the test accuracies over seeds; the floors in test_scripts.py sit
between the broken lesson's highest and the real lesson's lowest (the comment there quotes them).
"""
import argparse
import contextlib
import io
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
import plumbing.defaults  # noqa: E402,F401
from tools.lessons import import_script  # noqa: E402
from tools.reproduce import seeds  # noqa: E402
from test_scripts import SCHEDULES  # noqa: E402


# the one line that sets each lesson's learning rate, and the same line with it divided by 3
SLOWER = {
    "2_logistic_regression": ("updates = [[w, w - gradient * 0.05]]", "updates = [[w, w - gradient * 0.05 / 3]]"),
    "3_net": ("def sgd(cost, params, lr=0.05):", "def sgd(cost, params, lr=0.05 / 3):"),
    "4_modern_net": ("updates = RMSprop(cost, params, lr=0.001)", "updates = RMSprop(cost, params, lr=0.001 / 3)"),
    "5_convolutional_net": ("updates = RMSprop(cost, params, lr=0.001)", "updates = RMSprop(cost, params, lr=0.001 / 3)"),
}


def lesson(script, broken, folder):
    """The script as a module; broken: with its learning rate divided by 3, edited in a copy."""
    if not broken:
        return import_script(script)
    source = (ROOT / f"{script}.py").read_text()
    old, new = SLOWER[script]
    assert source.count(old) == 1, (script, old)
    path = Path(folder) / f"{script}_slower.py"
    path.write_text(source.replace(old, new))
    return import_script(str(path.with_suffix("")))  # an absolute path: the copy


def accuracy(module, seed, epochs, ntrain, ntest):
    with contextlib.redirect_stdout(io.StringIO()):
        return float(module.main(epochs=epochs, ntrain=ntrain, ntest=ntest, seed=seed))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=seeds, default=seeds("1-5"))
    parser.add_argument("--scripts", default=",".join(SCHEDULES))
    args = parser.parse_args()
    found = {}
    with tempfile.TemporaryDirectory() as folder:
        for script in args.scripts.split(","):
            epochs, ntrain, ntest, floor = SCHEDULES[script]
            for broken in (False, True):
                module = lesson(script, broken, folder)
                values = [accuracy(module, seed, epochs, ntrain, ntest) for seed in args.seeds]
                name = "lr / 3" if broken else "lesson"
                found[f"{script} {name}"] = values
                print(f"{script:22s} {name:6s} {epochs} epochs x {ntrain}: min {min(values):.4f} "
                      f"max {max(values):.4f}  {' '.join(f'{v:.4f}' for v in values)}  (floor {floor})", flush=True)
    print(json.dumps(found))


if __name__ == "__main__":
    main()
