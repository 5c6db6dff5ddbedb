"""Slide "Multiplication" in PyTensor: a symbolic graph a * b compiled to a function; prints 2 and 9."""
import sys
from pathlib import Path

import pytensor
from pytensor import tensor as T

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the lessons' folder: plumbing/
from plumbing.cli import run  # noqa: E402  (the command line: a flag for each keyword of main())

pytensor.config.floatX = "float32"  # the lessons' floatX (PyTensor's default is float64)


def main():
    a = T.scalar()
    b = T.scalar()

    y = a * b

    multiply = pytensor.function(inputs=[a, b], outputs=y)

    print(multiply(1, 2))  # 2.0
    print(multiply(3, 3))  # 9.0
    return multiply(3, 3)


if __name__ == "__main__":
    run(main)
