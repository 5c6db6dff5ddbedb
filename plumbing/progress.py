"""Progress: one line per epoch, a bar inside an epoch on a terminal, a stop on a NaN cost.

While it runs, Ctrl-C lets the current minibatch (or the epoch's test evaluation) finish, then
stops with the last result (exit 130 from the shell); a second Ctrl-C stops at once. After the last
of `epochs` epochs, or close(), Ctrl-C is back to what it was before, for whatever runs next.
"""
import sys
import time

import numpy as np

from plumbing.interrupt import DeferredInterrupt
from plumbing.log import EpochLog
from plumbing.threads import ThreadTuner


class Stop(Exception):
    """Training stopped early; the message says why, `code` is the exit code from the shell."""

    def __init__(self, message, code):
        super().__init__(message)
        self.code = code


class Progress:
    def __init__(self, steps, epochs=None, log=None):
        self.steps = steps
        self.epochs = epochs
        self.log = EpochLog(log) if log else None
        self.costs = []
        self.last = "no epoch finished yet"
        self.started = time.perf_counter()
        self.bar = None
        self.interrupt = DeferredInterrupt()
        self.threads = ThreadTuner()  # all the cores or one thread, whichever is faster now

    def __del__(self):  # a Progress dropped before its last epoch (an exception in training, say)
        try:
            self.close()
        except Exception:  # at interpreter exit the signal module may already be gone
            pass

    def close(self):
        """Close the bar and give Ctrl-C back its previous handler."""
        self._close_bar()
        self.interrupt.restore()

    def _stop(self, message, code):
        self.close()
        raise Stop(message, code)

    def step(self, cost):
        """Record one training step's cost."""
        self.threads.step()
        cost = float(cost)
        if self.bar is None and sys.stderr.isatty():
            from tqdm import tqdm
            self.bar = tqdm(total=self.steps, leave=False, unit="step", file=sys.stderr)
        if self.bar is not None:
            self.bar.update()
        self.costs.append(cost)
        if not np.isfinite(cost):
            self._stop(f"stopped: the training cost became {cost} at step {len(self.costs)} "
                       f"of this epoch; last result: {self.last}", 1)
        if self.interrupt.pending:
            self._stop(f"interrupted after step {len(self.costs)} of this epoch; "
                       f"last result: {self.last}", 130)

    def epoch(self, i, accuracy=None):
        """Print the line for epoch i (counted from 0) and start the next one."""
        self.threads.pause()  # the test evaluation is not a training step
        self._close_bar()
        cost = np.mean(self.costs)
        line = f"epoch {i + 1:3d}  cost {cost:.4f}"
        if accuracy is not None:
            line += f"  test accuracy {accuracy:.4f}"
        seconds = time.perf_counter() - self.started
        line += f"  {seconds:6.1f}s"
        print(line, flush=True)
        self.last = line
        if self.log:
            self.log.add(i + 1, cost, accuracy, seconds)
        if self.interrupt.pending:  # Ctrl-C during the test evaluation
            self._stop(f"interrupted; last result: {line}", 130)
        if self.epochs is not None and i + 1 >= self.epochs:
            self.close()
        self.costs = []
        self.started = time.perf_counter()

    def _close_bar(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None
