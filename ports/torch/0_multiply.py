"""Slide "Multiplication" in PyTorch: no graph to compile, a * b is computed where it is written; prints 2 and 9."""
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the lessons' folder: plumbing/
from plumbing.cli import run  # noqa: E402  (the command line: a flag for each keyword of main())


def multiply(a, b):  # theano.function(inputs=[a, b], outputs=a * b): here a plain function, run eagerly
    y = a * b
    return y


def main():
    print(multiply(torch.tensor(1.), torch.tensor(2.)).item())  # 2.0
    print(multiply(torch.tensor(3.), torch.tensor(3.)).item())  # 9.0
    return multiply(torch.tensor(3.), torch.tensor(3.)).item()


if __name__ == "__main__":
    run(main)
