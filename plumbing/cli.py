"""run(main): a lesson's command line, made from the keywords of its main().

Every keyword of main() is a flag (`batch_size=128` -> `--batch-size N`), its default the flag's
default and its type that of the default (int, float, str; None takes text; False is a switch).
The keywords the lessons share have their help and limits here; a lesson gives or overrides help
in main()'s docstring, one line per keyword (`seed: the initial weights`), and declares any other
limit where it calls run(): `run(main, seed=mrg_seed)`.
"""
import argparse
import inspect
import re
import sys

from plumbing.compiling import announce_compiling
from plumbing.graph import missing_for_picture, picture_name
from plumbing.paths import check_outputs
from plumbing.progress import Stop


def whole_number(text):
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def positive_int(text):
    value = whole_number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def seed_int(text):
    """A seed NumPy takes: 0 to 2**32 - 1."""
    value = whole_number(text)
    if not 0 <= value < 2 ** 32:
        raise argparse.ArgumentTypeError(f"must be from 0 to {2 ** 32 - 1}, got {value}")
    return value


MRG_SEEDS = 2147462579  # Theano's MRG_RandomStreams takes seeds 1 to this less one


def mrg_seed(text):
    """A seed both NumPy and Theano's MRG_RandomStreams take: 1 to 2147462578."""
    value = seed_int(text)
    if not 0 < value < MRG_SEEDS:
        raise argparse.ArgumentTypeError(f"{value}: this script's dropout noise comes from Theano's "
                                         f"MRG_RandomStreams, which takes seeds from 1 to {MRG_SEEDS - 1}")
    return value


def number(text):
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None


def dropout_rate(text):
    """A fraction dropout can zero: 0 (no dropout) up to, not including, 1 (everything zeroed)."""
    value = number(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 0 and below 1, got {value:g}")
    return value


SHARED = {  # the keywords the lessons share: (type, help)
    "epochs": (positive_int, "passes over the training set"),
    "batch_size": (positive_int, "examples per training step"),
    "ntrain": (positive_int, "use the first N training images"),
    "ntest": (positive_int, "use the first N test images"),
    "steps": (positive_int, "training steps"),
    "seed": (seed_int, "seed of NumPy's random numbers"),
    "data_dir": (str, "folder with the MNIST idx files (default: $MNIST_DIR, else data/mnist "
                      "beside load.py; downloaded there if missing)"),
    "log": (str, "write epoch, cost, test accuracy and seconds of every epoch to this CSV file"),
    "save": (str, "save the trained weights to this .npz file"),
    "graph": (bool, "print the graph of the cost and what theano.function compiled it to, then stop"),
}
TYPE_OF_DEFAULT = {int: whole_number, float: number, str: str, type(None): str, bool: bool}


def lesson_help(main):
    """{keyword: help} from the lines `keyword: text` of main()'s docstring."""
    names = inspect.signature(main).parameters
    found = re.findall(r"^\s*(\w+): (.+)$", inspect.getdoc(main) or "", flags=re.M)
    return {name: text.strip() for name, text in found if name in names}


def parser_for(main, limits=None):
    """An ArgumentParser with a flag for each keyword of main; limits: {keyword: type} declared by
    the lesson, which replace the type the keyword would have."""
    module = sys.modules.get(main.__module__)
    parser = argparse.ArgumentParser(description=(getattr(module, "__doc__", None) or "").strip())
    helps = lesson_help(main)
    for name, param in inspect.signature(main).parameters.items():
        kind, text = SHARED.get(name, (TYPE_OF_DEFAULT.get(type(param.default), str), f"main()'s {name}"))
        kind = (limits or {}).get(name, kind)
        text = helps.get(name, text)
        flag = "--" + name.replace("_", "-")
        if kind is bool:
            parser.add_argument(flag, action="store_true", help=text)
            continue
        if param.default is not None:
            text += f" (default: {param.default})"
        metavar = "N" if kind in (positive_int, seed_int, mrg_seed, whole_number) else \
            "X" if kind in (number, dropout_rate) else name.split("_")[-1].upper()
        parser.add_argument(flag, type=kind, default=param.default, help=text, metavar=metavar)
    return parser


def parse_args(main, argv=None, limits=None):
    """The keyword arguments for main from the command line (argv, else sys.argv)."""
    parser = parser_for(main, limits)
    args = parser.parse_args(argv)
    if {"ntrain", "batch_size"} <= set(vars(args)) and args.ntrain < args.batch_size:
        parser.error(f"--ntrain {args.ntrain} is smaller than one minibatch (--batch-size {args.batch_size})")
    return vars(args)


def check_paths(main, kwargs):
    """Before any training: the --save and --log files, and the picture --graph draws in the current
    folder, can be written; else one line and exit 2."""
    files = {"--save": kwargs.get("save"), "--log": kwargs.get("log")}
    if kwargs.get("graph") and not missing_for_picture():
        files["--graph"] = picture_name(getattr(sys.modules.get(main.__module__), "__file__", main.__module__))
    check_outputs(files)


def run(main, argv=None, **limits):
    """Run a lesson's main() from the shell: its flags, a line when Theano starts compiling, a
    clean Ctrl-C (exit 130), and one-line errors: a path that cannot be written (exit 2, before
    training), bad data, a write that fails (a full disk)."""
    from load import DataError
    kwargs = parse_args(main, argv, limits)
    check_paths(main, kwargs)
    announce_compiling()
    try:
        main(**kwargs)
    except Stop as stop:
        print(stop, file=sys.stderr)
        sys.exit(stop.code)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    except (DataError, OSError) as error:  # bad data; a --log or --save file that could not be written
        sys.exit(f"error: {error}")  # (a WriteError, an OSError, names the user's path)
