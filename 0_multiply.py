"""Slide "Multiplication": a symbolic graph a * b compiled to a function; prints 2 and 9."""
import plumbing.defaults  # Theano's set-up: import it before theano
import theano
from theano import tensor as T

from plumbing.cli import run  # the command line: a flag for each keyword of main()


def main():
    a = T.scalar()
    b = T.scalar()

    y = a * b

    multiply = theano.function(inputs=[a, b], outputs=y)

    print(multiply(1, 2))  # 2.0
    print(multiply(3, 3))  # 9.0
    return multiply(3, 3)


if __name__ == "__main__":
    run(main)
