"""What the pages take from results/: the {{...}} numbers (FORMAT.md lists them), and the blocks of
@log, @figure, @include, @bench, @levers and @startup. Each names what results/ lacks, as a problem of the page."""
import importlib
import json
import re
from pathlib import Path

import numpy as np

from tools.book.page import script_name
from tools.lessons import MNIST_LESSONS, ROOT

RESULTS = ROOT / "results"
NUMBER = re.compile(r"\{\{(.*?)\}\}")


# --- numbers -----------------------------------------------------------------------------------

def seed_accuracies(script, epochs):
    """{seed: test accuracy at epoch `epochs`} of every results/logs/SCRIPT-seedN.csv that long."""
    found = {}
    for path in sorted((RESULTS / "logs").glob(f"{script}-seed*.csv")):
        match = re.fullmatch(rf"{re.escape(script)}-seed(\d+)\.csv", path.name)
        if not match:
            continue
        rows = np.genfromtxt(path, delimiter=",", names=True, ndmin=1)
        if len(rows) >= epochs:
            found[int(match[1])] = float(rows["accuracy"][epochs - 1])
    return dict(sorted(found.items()))


def percent(values):
    values = np.asarray(values)
    if len(values) == 1:
        return f"{100 * values[0]:.2f} %"
    return f"{100 * values.mean():.2f} ± {100 * values.std(ddof=1):.2f} %"


def number(words):
    """The text of {{WORDS}}; raises ValueError with the reason when results/ lacks it."""
    kind, args = words[0], words[1:]
    need = {"accuracy": 2, "seeds": 2, "slide": 1, "w": 0, "old_net": 2, "modern_net": 2, "knn": 0}
    if kind not in need:
        raise ValueError(f"unknown number {{{{{' '.join(words)}}}}} (FORMAT.md lists them)")
    if len(args) != need[kind]:
        raise ValueError(f"{{{{{' '.join(words)}}}}} takes {need[kind]} argument(s)")
    if kind in ("accuracy", "seeds"):
        script, epochs = script_name(args[0]), int(args[1])
        found = seed_accuracies(script, epochs)
        if not found:
            raise ValueError(f"no log of {script} in results/logs reaches epoch {epochs}")
        return percent(list(found.values())) if kind == "accuracy" else ", ".join(map(str, found))
    if kind == "slide":
        script = script_name(args[0])
        if script not in MNIST_LESSONS:
            raise ValueError(f"no slide figure for {script} (tools/lessons.py, MNIST_LESSONS)")
        return MNIST_LESSONS[script].slide
    if kind == "w":
        path = RESULTS / "models" / "1_linear_regression-seed42.npz"
        if not path.exists():
            raise ValueError(f"missing {path.relative_to(ROOT)}")
        return f"{float(np.load(path)['w']):.4f}"
    if kind == "old_net":
        path = RESULTS / "old_net" / f"{args[0]}.csv"
        if not path.exists():
            raise ValueError(f"missing {path.relative_to(ROOT)}")
        rows = np.genfromtxt(path, delimiter=",", names=True, ndmin=1)
        epoch = int(args[1])
        if not 1 <= epoch <= len(rows):
            raise ValueError(f"{path.relative_to(ROOT)} has no epoch {epoch} (it has {len(rows)})")
        return f"{100 * float(rows['accuracy'][epoch - 1]):.2f} %"
    if kind == "modern_net":
        path = RESULTS / "modern_net" / f"{args[0]}.csv"
        if not path.exists():
            raise ValueError(f"missing {path.relative_to(ROOT)}")
        accuracy = np.genfromtxt(path, delimiter=",", names=True, ndmin=1)["accuracy"]
        if args[1] == "best":
            return f"{100 * accuracy.max():.2f} % (epoch {int(np.argmax(accuracy)) + 1})"
        if args[1] == "last10":
            return f"{100 * accuracy[-10:].mean():.2f} %"
        if args[1] == "epochs":
            return str(len(accuracy))
        span = re.fullmatch(r"mean(\d+)-(\d+)", args[1])
        if span and 1 <= int(span[1]) <= int(span[2]) <= len(accuracy):
            return f"{100 * accuracy[int(span[1]) - 1:int(span[2])].mean():.2f} %"
        if not args[1].isdigit():
            raise ValueError(f"{{{{{' '.join(words)}}}}}: the second word is an epoch, best, last10, epochs or "
                             f"meanA-B (epochs A to B of the {len(accuracy)})")
        epoch = int(args[1])
        if not 1 <= epoch <= len(accuracy):
            raise ValueError(f"{path.relative_to(ROOT)} has no epoch {epoch} (it has {len(accuracy)})")
        return f"{100 * float(accuracy[epoch - 1]):.2f} %"
    match = re.search(r"^\| k-nearest neighbours.*?\| ([\d.]+ %) \|", (RESULTS / "results.md").read_text(), re.M)
    if not match:
        raise ValueError("no k-NN row in results/results.md")
    return match[1]


def numbers(text, where, problems):
    def one(match):
        try:
            return number(match[1].split())
        except (ValueError, IndexError) as error:
            problems.add(where, str(error))
            return match[0]
    return NUMBER.sub(one, text)


# --- blocks ------------------------------------------------------------------------------------

def runs_of(path):
    """[(date, machine, command)] of a runs.md."""
    found = []
    for line in Path(path).read_text().splitlines():
        match = re.match(r"- (\d{4}-\d\d-\d\d), (.*?): `([^`]*)`", line)
        if match:
            found.append(match.groups())
    return found


def made_by(script, seed=42):
    """The entry of results/runs.md that last wrote SCRIPT-seedSEED.csv."""
    chosen = None
    for date, machine, command in runs_of(RESULTS / "runs.md"):
        scripts = re.search(r"--scripts\s+(\S+)", command)
        seeds = re.search(r"--seeds\s+(\S+)", command)
        if scripts and script not in scripts[1].split(","):
            continue
        if seeds:
            chosen_seeds = set()
            for part in seeds[1].split(","):
                low, _, high = part.partition("-")
                chosen_seeds |= set(range(int(low), int(high or low) + 1))
            if seed not in chosen_seeds:
                continue
        elif seed != 42:
            continue
        chosen = (date, machine, command)
    return chosen


def log_block(args, where, problems):
    script = script_name(args[0]) if args else ""
    path = RESULTS / "logs" / f"{script}-seed42.csv"
    if not path.exists():
        problems.add(where, f"@log: missing {path.relative_to(ROOT)}")
        return ""
    rows = np.genfromtxt(path, delimiter=",", names=True, ndmin=1)
    wanted = range(1, len(rows) + 1)
    if len(args) > 1:
        try:
            wanted = [int(e) for e in args[1].split(",")]
        except ValueError:
            problems.add(where, f"@log: epochs {args[1]!r} are not a list such as 1,2,3,10")
            return ""
        for epoch in wanted:
            if not 1 <= epoch <= len(rows):
                problems.add(where, f"@log: {path.relative_to(ROOT)} has no epoch {epoch} (it has {len(rows)})")
                return ""
    lines = []
    for epoch in wanted:
        row = rows[epoch - 1]
        line = f"epoch {epoch:3d}  cost {row['cost']:.4f}"
        if not np.isnan(row["accuracy"]):
            line += f"  test accuracy {row['accuracy']:.4f}"
        lines.append(line + f"  {row['seconds']:6.1f}s")
    if len(args) > 1 and len(wanted) < len(rows):
        lines.append(f"({len(wanted)} of its {len(rows)} epochs)")
    command = f"python {script}.py --seed 42 --epochs {len(rows)} --log {path.relative_to(ROOT)}"
    run = made_by(script)
    origin = f" Run by `{run[2]}` on {run[0]}, {run[1]}." if run else ""
    return f"`{command}`:{origin}\n\n```text\n" + "\n".join(lines) + "\n```\n"


def figure_block(args, where, problems):
    match = re.fullmatch(r"""(\S+)\s+("[^"]*"|'[^']*')""", args)
    if not match:
        problems.add(where, '@figure takes NAME.png "ALT TEXT"')
        return ""
    name, alt = match[1], match[2][1:-1]
    if not (RESULTS / "figures" / name).exists():
        problems.add(where, f"@figure: missing results/figures/{name}")
    if not alt.strip():
        problems.add(where, f"@figure {name}: empty alt text")
    return f"![{alt}](../results/figures/{name})\n\n*{alt}*\n"


def include_block(args, where, problems):
    path = ROOT / args.strip()
    if not args.strip() or not path.is_file():
        problems.add(where, f"@include: missing {args.strip() or 'PATH'}")
        return ""
    return path.read_text().rstrip() + "\n"


# @bench, @levers, @startup: results/bench/<file> and the function that prints it as the bench does
BENCH_BLOCKS = {"bench": ("results.json", "tools.bench.tables", "table"),
                "levers": ("levers.json", "tools.bench.tables", "levers_table"),
                "startup": ("startup.json", "tools.bench.startup", "table")}


def bench_block(word, where, problems):
    """The table `python -m tools.bench.bench` (with --levers, --startup) prints, from its JSON in results/bench."""
    name, module, function = BENCH_BLOCKS[word]
    path = RESULTS / "bench" / name
    if not path.exists():
        problems.add(where, f"@{word}: missing results/bench/{name}")
        return ""
    return getattr(importlib.import_module(module), function)(json.loads(path.read_text())) + "\n"
