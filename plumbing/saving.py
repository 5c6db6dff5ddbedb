"""--save: the values of shared variables into an .npz file, and files that are never half-written."""
import io
import os
import tempfile

import numpy as np

from plumbing.paths import WriteError, reason


def write_atomically(path, write):
    """write(f) into a temporary file beside path, then rename: never a half-written file, and a
    file already at path stays as it was if anything fails. A failure (a full disk, a folder that
    cannot be made) is a WriteError naming path."""
    given, path = path, os.path.abspath(path)
    part = None
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, part = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".", suffix=".part")
        with os.fdopen(fd, "wb") as f:
            write(f)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(part, 0o666 & ~umask)  # as open() would have made it, not mkstemp's 0600
        os.replace(part, path)
        part = None
    except OSError as e:
        raise WriteError(given, reason(e)) from None
    finally:
        if part is not None and os.path.exists(part):
            os.remove(part)


def save_arrays(path, **arrays):
    """Arrays, by name, into an .npz file (read it with allow_pickle=False)."""
    data = io.BytesIO()  # the zip is made in memory: a disk that fills up fails one write, cleanly
    np.savez(data, **arrays)
    write_atomically(path, lambda f: f.write(data.getbuffer()))


def save_weights(path, **params):
    """The values of shared variables, by name, into an .npz file (read it with allow_pickle=False)."""
    try:
        save_arrays(path, **{name: p.get_value() for name, p in params.items()})
    except WriteError as e:
        raise WriteError(e.path, e.why, f"--save {e.path}: the trained weights were not saved ({e.why})") from None
    print(f"saved {', '.join(params)} to {path}")
