"""Slide "Multiplication" in JAX: a * b traced to a graph and compiled by jax.jit; prints 2 and 9."""
import sys
from pathlib import Path

import jax

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the lessons' folder: plumbing/
from plumbing.cli import run  # noqa: E402  (the command line: a flag for each keyword of main())


@jax.jit  # theano.function(inputs=[a, b], outputs=y): a and b are traced as symbols, the graph compiled once
def multiply(a, b):
    y = a * b
    return y


def main():
    print(multiply(1., 2.))  # 2.0
    print(multiply(3., 3.))  # 9.0
    return float(multiply(3., 3.))


if __name__ == "__main__":
    run(main)
