"""MNIST from its four raw idx files: mnist(ntrain, ntest, onehot) -> trX, teX, trY, teY.

The files are read from a data folder (gzipped or not) and checked before use. Missing files are
downloaded from a list of mirrors, checked against the SHA-256 of MNIST's own bytes, and moved
into place only when complete. Nothing is ever written next to files that are already there.
"""
import gzip
import hashlib
import os
import struct
import sys
import tempfile
import zlib
from pathlib import Path

import numpy as np

TRAIN_IMAGES = "train-images-idx3-ubyte"
TRAIN_LABELS = "train-labels-idx1-ubyte"
TEST_IMAGES = "t10k-images-idx3-ubyte"
TEST_LABELS = "t10k-labels-idx1-ubyte"

SHA256 = {  # of the decompressed idx bytes, so any mirror's gzip wrapper is accepted
    TRAIN_IMAGES: "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    TRAIN_LABELS: "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    TEST_IMAGES: "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    TEST_LABELS: "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}

MIRRORS = [  # public copies of the original files, tried in order after $MNIST_MIRROR
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
]

DEFAULT_DIR = Path(__file__).resolve().parent / "data" / "mnist"

IMAGES_MAGIC, LABELS_MAGIC = 2051, 2049


class DataError(Exception):
    """The data cannot be used; the message names the file and says why."""


def data_folder(path=None):
    """The data folder: `path`, else $MNIST_DIR, else data/mnist beside this file."""
    return Path(path or os.environ.get("MNIST_DIR") or DEFAULT_DIR).expanduser()


def mirrors():
    """$MNIST_MIRROR first (it may be plain http, e.g. a local server), then the public ones."""
    own = os.environ.get("MNIST_MIRROR", "").strip()
    return ([own.rstrip("/") + "/"] if own else []) + MIRRORS


def find(folder, name):
    """The file `name` or `name.gz` in folder, or None."""
    for candidate in (folder / name, folder / (name + ".gz")):
        if os.path.lexists(candidate):
            return candidate
    return None


def read_bytes(path, name=None):
    """The idx bytes of a file, decompressed if it is gzipped; errors say `name` (default: path)."""
    name = name or path
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except IsADirectoryError:
        raise DataError(f"{name}: is a directory, not a file") from None
    except OSError as e:
        raise DataError(f"{name}: cannot be read ({e.strerror or e})") from None
    if not raw:
        raise DataError(f"{name}: the file is empty")
    if raw[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(raw)
        except (EOFError, OSError, zlib.error) as e:
            raise DataError(f"{name}: truncated or corrupt gzip data ({e})") from None
    return raw


def parse_idx(data, path, kind):
    """uint8 array from idx bytes: (n, 28, 28) images or (n,) labels 0-9, checked."""
    magic, ndim = (IMAGES_MAGIC, 3) if kind == "images" else (LABELS_MAGIC, 1)
    if len(data) < 4 + 4 * ndim:
        raise DataError(f"{path}: too short for an idx header ({len(data)} bytes)")
    found = struct.unpack(">i", data[:4])[0]
    if found != magic:
        raise DataError(f"{path}: magic number {found}, expected {magic} for MNIST {kind}")
    shape = struct.unpack(f">{ndim}i", data[4:4 + 4 * ndim])
    if kind == "images" and shape[1:] != (28, 28):
        raise DataError(f"{path}: images are {shape[1]}x{shape[2]}, expected 28x28")
    if shape[0] <= 0:
        raise DataError(f"{path}: holds {shape[0]} {kind}")
    expected = 4 + 4 * ndim + int(np.prod(shape))
    if len(data) != expected:
        raise DataError(f"{path}: {len(data)} bytes, the header promises {expected} "
                        f"({shape[0]} {kind}); the file is truncated or padded")
    array = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)
    if kind == "labels" and array.max() > 9:
        raise DataError(f"{path}: label {array.max()} is out of the range 0-9")
    return array


def read_pair(folder, images_name, labels_name):
    """uint8 images (n, 28, 28) and labels (n,) of one split, checked against each other."""
    images_path, labels_path = find(folder, images_name), find(folder, labels_name)
    images = parse_idx(read_bytes(images_path), images_path, "images")
    labels = parse_idx(read_bytes(labels_path), labels_path, "labels")
    if len(images) != len(labels):
        raise DataError(f"{images_path} holds {len(images)} images but {labels_path} "
                        f"holds {len(labels)} labels")
    return images, labels


def download(name, folder, urls=None, progress=None):
    """Fetch name.gz from the first mirror that serves MNIST's exact bytes into folder."""
    import pooch  # fetching only; reading needs nothing but numpy

    urls = mirrors() if urls is None else urls
    progress = sys.stderr.isatty() if progress is None else progress
    failures = []
    for base in urls:
        url = base + name + ".gz"
        fd, part = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".part")
        os.close(fd)
        try:
            print(f"downloading {url}", file=sys.stderr)
            pooch.HTTPDownloader(progressbar=progress, timeout=60)(url, part, None)
            digest = hashlib.sha256(read_bytes(part, url)).hexdigest()
            if digest != SHA256[name]:
                raise DataError(f"{url}: expected SHA-256 {SHA256[name]}, got {digest}")
            os.chmod(part, 0o644)  # mkstemp made it private
            os.replace(part, folder / (name + ".gz"))
            return folder / (name + ".gz")
        except DataError as e:
            failures.append(f"  {e}")
        except OSError as e:  # one mirror failed (requests' errors, HTTP or network, are OSErrors; so is a full disk): try the next
            failures.append(f"  {url}: {e}")
        finally:
            if os.path.exists(part):
                os.remove(part)
    raise DataError(f"{name}: no mirror gave MNIST's file:\n" + "\n".join(failures))


def ensure(folder, urls=None):
    """Make sure all four files are in folder, downloading the missing ones. If that fails, what
    this call added is removed again: the files it fetched and the folders it made."""
    missing = [name for name in SHA256 if find(folder, name) is None]
    if not missing:
        return
    made = [level for level in [folder, *folder.parents] if not os.path.lexists(level)][::-1]  # outermost first
    fetched = []
    try:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=folder):  # can we write there at all?
                pass
        except OSError as e:
            raise DataError(missing_message(folder, f"the folder cannot be written ({e.strerror})")) from None
        for name in missing:
            try:
                fetched.append(download(name, folder, urls))
            except DataError as e:
                raise DataError(missing_message(folder, str(e), missing)) from None
    except BaseException:  # a failed download, or Ctrl-C during one
        for path in fetched:
            path.unlink(missing_ok=True)
        for level in reversed(made):
            try:
                level.rmdir()
            except OSError:  # not made, or not empty: something else is in it now
                pass
        raise


def missing_message(folder, why, missing=None):
    missing = missing or [name for name in SHA256 if find(folder, name) is None]
    return (f"MNIST files missing: {', '.join(missing)} (looked in {folder}, .gz or not).\n"
            f"Downloading them failed: {why}\n"
            f"Either set MNIST_DIR (or --data-dir) to a folder that holds the four idx files, "
            f"or put them into {folder}.")


def one_hot(x, n):
    o_h = np.zeros((len(x), n), dtype=np.float32)
    o_h[np.arange(len(x)), x] = 1
    return o_h


def mnist(ntrain=60000, ntest=10000, onehot=True, data_dir=None, urls=None):
    """trX (ntrain, 784) and teX (ntest, 784) float32 in [0, 1]; trY, teY one-hot float32 or 0-9."""
    folder = data_folder(data_dir)
    ensure(folder, urls)
    sets = []
    for images_name, labels_name, n in ((TRAIN_IMAGES, TRAIN_LABELS, ntrain),
                                        (TEST_IMAGES, TEST_LABELS, ntest)):
        images, labels = read_pair(folder, images_name, labels_name)
        if n > len(images):
            raise DataError(f"asked for {n} images, {find(folder, images_name)} holds {len(images)}")
        X = images[:n].reshape(n, 28 * 28).astype(np.float32)  # no float64 copy
        X /= 255.
        Y = one_hot(labels[:n], 10) if onehot else labels[:n].astype(np.int64)
        sets.append((X, Y))
    (trX, trY), (teX, teY) = sets
    return trX, teX, trY, teY
