"""Output paths: checked before any work, so that a run is never lost to a typo or an unwritable
folder at its end; and the one-line error when writing fails anyway (a disk that fills up).

A path is writable when its folder exists or can be made, and a test file can be created there,
written (one byte: a disk already full is found now) and removed. The check leaves nothing behind:
the folders it made to try are removed again, and made for good when the file is written.
"""
import errno
import os
import sys
import tempfile
from pathlib import Path


class WriteError(OSError):
    """Writing a file failed: `path` as the user gave it, `why` in words; the message is one line,
    by default `cannot write PATH (WHY)`."""

    def __init__(self, path, why, message=None):
        super().__init__(message or f"cannot write {path} ({why})")
        self.path, self.why = path, why


def reason(error):
    """An OSError's reason in words: 'No space left on device'."""
    return error.strerror or str(error)


def why_unwritable(path, folder=False, attempts=3):
    """Why a file cannot be written at path (or into path, if folder), in words, or None.

    The check makes the missing folders and a test file, then removes what it made. Two commands
    checking the same new folder at once (two lessons started with --save into it) can see each
    other's folder come and go; a failure is looked at again, and only one that stays is reported."""
    for _ in range(attempts):
        why = _why_unwritable(path, folder)
        if why is None:
            return None
    return why


def _why_unwritable(path, folder):
    path = Path(path).expanduser()
    where = path if folder else path.parent
    if not folder and path.is_dir():
        return f"{path} is a folder"
    existing = where
    while not os.path.lexists(existing) and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        named = "it" if existing == where else existing
        return f"cannot write in {where} ({named} is a file, not a folder)"
    missing = []  # the folders to make, outermost first
    level = where
    while level != existing:
        missing.insert(0, level)
        level = level.parent
    made = []
    try:
        for level in missing:
            try:
                os.mkdir(level)
            except FileExistsError:  # made since by another command: there, and not ours to remove
                continue
            except OSError as e:
                why = "no folder can be made there" if e.errno == errno.ENOENT else reason(e)
                return f"cannot make the folder {level} ({why})"
            made.append(level)
        fd, test_file = tempfile.mkstemp(dir=where, prefix=".", suffix=".check")
        try:
            os.write(fd, b"x")
        finally:
            os.close(fd)
            os.remove(test_file)
    except OSError as e:
        if e.errno == errno.ENOENT:  # /proc, say: the folder is there, but takes no new files
            return f"cannot write in {where} (no file can be created there)"
        return f"cannot write in {where} ({reason(e)})"
    finally:
        for level in reversed(made):
            try:
                os.rmdir(level)
            except OSError:
                pass
    return None


def check_outputs(files=None, folders=None):
    """Before any work: {flag: path} of the files and folders a command will write (None: not
    asked for). On the first that cannot be written, one line on stderr and exit 2:
    `--save /proc/w.npz: cannot write in /proc (no file can be created there)`."""
    for given, folder in ((files or {}, False), (folders or {}, True)):
        for flag, path in given.items():
            if path is None or (path == "" and not folder):
                continue
            why = why_unwritable(path, folder)
            if why:
                print(f"error: {flag} {path}: {why}", file=sys.stderr)
                sys.exit(2)
