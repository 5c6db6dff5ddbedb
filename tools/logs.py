"""What the lessons write, read back: the --log CSV files named SCRIPT-seedN.csv; a lesson run
until its log meets a stop rule; and runs.md, the list of what was run."""
import datetime
import os
import platform
import re
import signal
import subprocess
import time
from pathlib import Path

import numpy as np

from plumbing.machine import cpu_name
from plumbing.saving import write_atomically


def read_log(path, column="accuracy"):
    """One column of a --log file (epoch, cost, accuracy, seconds), epoch by epoch."""
    with open(path) as f:
        names = f.readline().strip().split(",")
    data = np.genfromtxt(path, delimiter=",", skip_header=1, ndmin=2)
    return data[:, names.index(column)] if data.size else np.empty(0)


def run_watched(command, log, rule, poll=0.5):
    """Run a lesson (command, which writes its --log to log) and watch the log: once rule(accuracy
    per epoch) gives (epoch, reason), stop the lesson as Ctrl-C does, after its minibatch (the log
    keeps every finished epoch). Ctrl-C here reaches the lesson too. Returns (that stop or None,
    the lesson's exit code)."""
    log.unlink(missing_ok=True)
    proc = subprocess.Popen(command)
    stop = None
    try:
        while stop is None:
            running = proc.poll() is None
            stop = rule(read_log(log)) if log.exists() else None
            if stop or not running:
                break
            time.sleep(poll)
        if stop and proc.poll() is None:
            proc.send_signal(signal.SIGINT)
    except KeyboardInterrupt:  # the lesson got it too: it stops after its minibatch
        pass
    return stop, proc.wait()


def seed_logs(logs, script, column="accuracy"):
    """{seed: column per epoch} of every SCRIPT-seedN.csv in logs."""
    found = {}
    for path in Path(logs).glob(f"{script}-seed*.csv"):
        match = re.fullmatch(rf"{re.escape(script)}-seed(\d+)\.csv", path.name)
        if match:
            found[int(match[1])] = read_log(path, column)
    return dict(sorted(found.items()))


def spread(logs, script):
    """[(epochs, seeds, accuracies)] for each length of run of script in logs, shortest first."""
    runs = seed_logs(logs, script)
    rows = []
    for epochs in sorted({len(a) for a in runs.values()}):
        chosen = [s for s, a in runs.items() if len(a) >= epochs]
        rows.append((epochs, chosen, np.array([runs[s][epochs - 1] for s in chosen])))
    return rows


def write(path, text):
    write_atomically(path, lambda f: f.write(text.encode()))


def machine():
    return f"{cpu_name()}, {os.cpu_count()} cores, {platform.system()}, Python {platform.python_version()}"


def record_run(folder, command, started, note=""):
    """Add the command, the machine, the minutes since `started` and a note (how it ended, if not
    as planned) to the list of runs in folder/runs.md, after its last item: a paragraph written
    below the list (how the runs were made) stays below it."""
    path = Path(folder) / "runs.md"
    lines = path.read_text().splitlines() if path.exists() else []
    items = [i for i, line in enumerate(lines) if line.startswith("- ")]
    lines.insert(items[-1] + 1 if items else len(lines),
                 f"- {datetime.date.today().isoformat()}, {machine()}: `{command}`, "
                 f"{(time.perf_counter() - started) / 60:.1f} min{'; ' + note if note else ''}")
    write(path, "\n".join(lines) + "\n")
