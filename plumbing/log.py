"""--log: a CSV file with one row per epoch (epoch, cost, accuracy, seconds), which the tools read.

The whole file is rewritten, atomically, after each epoch: a reader never sees half a row, and a
run stopped early, or a write that fails (a full disk), leaves every finished epoch.
"""
from plumbing.paths import WriteError
from plumbing.saving import write_atomically

HEADER = "epoch,cost,accuracy,seconds\n"


class EpochLog:
    def __init__(self, path):
        self.path = path
        self.rows = []

    def add(self, epoch, cost, accuracy, seconds):
        """Record epoch (counted from 1); accuracy may be None (a lesson without a test set)."""
        self.rows.append(f"{epoch},{cost:.6f},{'' if accuracy is None else accuracy},{seconds:.3f}\n")
        try:
            write_atomically(self.path, lambda f: f.write((HEADER + "".join(self.rows)).encode()))
        except WriteError as e:
            kept = f"it keeps epochs 1 to {epoch - 1}" if len(self.rows) > 1 else "nothing was logged"
            raise WriteError(e.path, e.why, f"--log {e.path}: epoch {epoch} was not logged ({e.why}); {kept}") from None
