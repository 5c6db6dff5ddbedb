"""--save: the values of shared variables into an .npz file, and files that are never half-written."""
import os
import tempfile

import numpy as np


def write_atomically(path, write):
    """write(f) into a temporary file beside path, then rename: never a half-written file."""
    path = os.path.abspath(path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd, part = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(part, 0o666 & ~umask)  # as open() would have made it, not mkstemp's 0600
        os.replace(part, path)
    except BaseException:
        os.remove(part)
        raise


def save_arrays(path, **arrays):
    """Arrays, by name, into an .npz file (read it with allow_pickle=False)."""
    write_atomically(path, lambda f: np.savez(f, **arrays))


def save_weights(path, **params):
    """The values of shared variables, by name, into an .npz file (read it with allow_pickle=False)."""
    save_arrays(path, **{name: p.get_value() for name, p in params.items()})
    print(f"saved {', '.join(params)} to {path}")
