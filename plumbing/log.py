"""--log: a CSV file with one row per epoch (epoch, cost, accuracy, seconds), which the tools read.

The whole file is rewritten, atomically, after each epoch: a reader never sees half a row, and a
run stopped early leaves every finished epoch.
"""
from plumbing.saving import write_atomically

HEADER = "epoch,cost,accuracy,seconds\n"


class EpochLog:
    def __init__(self, path):
        self.path = path
        self.rows = []

    def add(self, epoch, cost, accuracy, seconds):
        """Record epoch (counted from 1); accuracy may be None (a lesson without a test set)."""
        self.rows.append(f"{epoch},{cost:.6f},{'' if accuracy is None else accuracy},{seconds:.3f}\n")
        write_atomically(self.path, lambda f: f.write((HEADER + "".join(self.rows)).encode()))
