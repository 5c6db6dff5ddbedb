"""python -m tools.figures: the pictures (the package's docstring lists them), from what is in
RESULTS: each family drawn where its logs and saved models are."""
import argparse
import sys
from pathlib import Path

import numpy as np

from load import mnist
from plumbing.cli import positive_int
from plumbing.paths import check_outputs
from tools import figures
from tools.figures.accuracy import accuracy_chart
from tools.figures.digits import (conv_maps, conv_maps_picture, misclassified_picture, noise_picture, noisy_digits,
                                  readout, readout_picture)
from tools.figures.moons import moons_pictures, saved_moons
from tools.figures.saved import SavedModelError, pick_models, probabilities
from tools.figures.weights import weight_pictures
from tools.lessons import ROOT
from tools.one_line import run


def main():
    parser = argparse.ArgumentParser(prog="python -m tools.figures", description=figures.__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", default=str(ROOT / "results"), help="folder with logs/ and models/")
    parser.add_argument("--out", help="folder for the pictures (default: RESULTS/figures)")
    parser.add_argument("--ntest", type=positive_int, default=10000, help="test images to evaluate on")
    args = parser.parse_args()
    results = Path(args.results)
    out = Path(args.out or results / "figures")
    check_outputs(folders={"--out": out})
    models = pick_models(results)
    moons = results / "models" / "understanding.npz"
    if not models and not moons.exists():
        sys.exit(f"no saved models in {results / 'models'}: run reproduce.py (or make reproduce-quick) first")
    out.mkdir(parents=True, exist_ok=True)
    if moons.exists():
        moons_pictures(out, *saved_moons(moons))
    if not models:
        return
    for script, path in models.items():
        print(f"{script}: {path.name}")

    weight_pictures(models, out)
    accuracy_chart(results / "logs", out / "accuracy.png")

    trX, teX, trY, teY = mnist(ntrain=1, ntest=args.ntest, onehot=False)
    py_x = probabilities(models, teX)
    predictions = {script: p.argmax(axis=1) for script, p in py_x.items()}
    for script, predicted in predictions.items():
        print(f"{script}: test accuracy {np.mean(predicted == teY):.4f} (saved model, evaluated again)")
    readout_picture(*readout(py_x, teY), teX, teY, out / "readout.png")
    noise_picture(*noisy_digits(teX, list(range(8))), out / "noise.png")
    if "5_convolutional_net" in models:
        conv_maps_picture(teX[0], conv_maps(models["5_convolutional_net"], teX[0]), out / "conv_maps.png")
    misclassified_picture(teX, teY, predictions, out / "misclassified.png")


if __name__ == "__main__":
    sys.exit(run(main, SavedModelError))
