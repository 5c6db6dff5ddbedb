"""load.py on the real MNIST files, on bad files made in a temp dir, and downloading from a real
HTTP server on 127.0.0.1."""
import gzip
import hashlib
import http.server
import os
import struct
import threading

import numpy as np
import pytest

import load
from load import DataError


# --- the real files -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def real(real_mnist_dir):
    return load.mnist(data_dir=real_mnist_dir)


def test_real_mnist_shapes_dtypes_and_ranges(real):
    trX, teX, trY, teY = real
    assert trX.shape == (60000, 784) and teX.shape == (10000, 784)
    assert trY.shape == (60000, 10) and teY.shape == (10000, 10)
    assert {a.dtype for a in real} == {np.dtype(np.float32)}  # no float64 copy anywhere
    assert trX.min() == 0 and trX.max() == 1
    assert abs(trX.mean() * 255 - 33.3184) < 1e-3
    assert np.all(trY.sum(axis=1) == 1) and np.all(teY.sum(axis=1) == 1)
    assert list(trY[:10].argmax(axis=1)) == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert list(np.bincount(trY.argmax(axis=1))) == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert list(np.bincount(teY.argmax(axis=1))) == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_subsets_and_integer_labels(real_mnist_dir):
    trX, teX, trY, teY = load.mnist(ntrain=1000, ntest=300, onehot=False, data_dir=real_mnist_dir)
    assert trX.shape == (1000, 784) and teX.shape == (300, 784)
    assert list(trY[:10]) == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4] and teY.shape == (300,)


def test_real_files_hash_to_the_pinned_values(real_mnist_dir):
    for name, digest in load.SHA256.items():
        assert hashlib.sha256(load.read_bytes(load.find(real_mnist_dir, name))).hexdigest() == digest


# --- bad files ----------------------------------------------------------------------------------

def idx_bytes(kind, n, magic=None, dims=(28, 28), payload=None):
    if kind == "images":
        header = struct.pack(">iiii", magic or load.IMAGES_MAGIC, n, *dims)
        body = payload if payload is not None else bytes(np.random.RandomState(n).randint(0, 256, n * dims[0] * dims[1]).astype(np.uint8))
    else:
        header = struct.pack(">ii", magic or load.LABELS_MAGIC, n)
        body = payload if payload is not None else bytes(np.arange(n, dtype=np.uint8) % 10)
    return header + body


@pytest.fixture
def small(tmp_path):
    """A valid folder of small idx files with MNIST's names: 30 training and 20 test examples."""
    files = {load.TRAIN_IMAGES: idx_bytes("images", 30), load.TRAIN_LABELS: idx_bytes("labels", 30),
             load.TEST_IMAGES: idx_bytes("images", 20), load.TEST_LABELS: idx_bytes("labels", 20)}
    for name, data in files.items():  # two gzipped, two plain: both are read
        if name.startswith("train"):
            (tmp_path / (name + ".gz")).write_bytes(gzip.compress(data))
        else:
            (tmp_path / name).write_bytes(data)
    return tmp_path


def test_any_valid_idx_files_are_accepted_and_nothing_is_written(small):
    before = sorted((p.name, p.stat().st_mtime_ns) for p in small.iterdir())
    trX, teX, trY, teY = load.mnist(ntrain=30, ntest=20, data_dir=small, urls=[])
    assert trX.shape == (30, 784) and teY.shape == (20, 10)
    assert list(trY.argmax(axis=1)[:12]) == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]
    assert sorted((p.name, p.stat().st_mtime_ns) for p in small.iterdir()) == before


def replace(folder, name, data):
    for old in (folder / name, folder / (name + ".gz")):
        if old.exists():
            old.unlink()
    (folder / name).write_bytes(data)
    return folder / name


BAD = {
    "empty file": (load.TEST_LABELS, b"", "the file is empty"),
    "wrong magic number": (load.TEST_IMAGES, idx_bytes("images", 20, magic=2049), "magic number 2049, expected 2051"),
    "wrong dimensions": (load.TEST_IMAGES, idx_bytes("images", 20, dims=(32, 32)), "images are 32x32, expected 28x28"),
    "truncated payload": (load.TEST_IMAGES, idx_bytes("images", 20)[:-100], "truncated or padded"),
    "header cut short": (load.TEST_LABELS, b"\x00\x00\x08", "too short for an idx header"),
    "count mismatch": (load.TEST_LABELS, idx_bytes("labels", 19), "holds 20 images but"),
    "label out of range": (load.TEST_LABELS, idx_bytes("labels", 20, payload=bytes([3] * 19 + [12])), "label 12 is out of the range 0-9"),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_file_is_refused_naming_the_file(small, case):
    name, data, reason = BAD[case]
    replace(small, name, data)
    with pytest.raises(DataError) as error:
        load.mnist(ntrain=30, ntest=20, data_dir=small, urls=[])
    assert reason in str(error.value) and name in str(error.value)


def test_truncated_gzip_is_refused(small):
    data = (small / (load.TRAIN_IMAGES + ".gz")).read_bytes()
    (small / (load.TRAIN_IMAGES + ".gz")).write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match=f"{load.TRAIN_IMAGES}.gz: truncated or corrupt gzip"):
        load.mnist(ntrain=30, ntest=20, data_dir=small, urls=[])


def test_directory_where_a_file_should_be(small):
    (small / load.TEST_LABELS).unlink()
    (small / load.TEST_LABELS).mkdir()
    with pytest.raises(DataError, match=f"{load.TEST_LABELS}: is a directory"):
        load.mnist(ntrain=30, ntest=20, data_dir=small, urls=[])


def test_unreadable_file(small):
    target = small / load.TEST_LABELS
    if os.geteuid() == 0:  # root reads any mode: make a file no open() can read, a symlink loop
        target.unlink()
        os.symlink(target.name + ".loop", target)
        os.symlink(target.name, small / (target.name + ".loop"))
    else:
        target.chmod(0)
    with pytest.raises(DataError, match=f"{load.TEST_LABELS}: cannot be read"):
        load.mnist(ntrain=30, ntest=20, data_dir=small, urls=[])


def test_asking_for_more_images_than_the_file_holds(small):
    with pytest.raises(DataError, match="asked for 31 images"):
        load.mnist(ntrain=31, ntest=20, data_dir=small, urls=[])


def test_missing_file_without_a_mirror_says_what_and_where(small):
    (small / load.TEST_LABELS).unlink()
    with pytest.raises(DataError) as error:
        load.mnist(ntrain=30, ntest=20, data_dir=small, urls=[])
    message = str(error.value)
    assert f"MNIST files missing: {load.TEST_LABELS}" in message and str(small) in message
    assert "MNIST_DIR" in message
    assert sorted(p.name for p in small.iterdir()) == sorted(
        [load.TRAIN_IMAGES + ".gz", load.TRAIN_LABELS + ".gz", load.TEST_IMAGES])


def test_data_folder_order(tmp_path, monkeypatch):
    monkeypatch.delenv("MNIST_DIR", raising=False)
    assert load.data_folder() == load.DEFAULT_DIR and load.DEFAULT_DIR.is_absolute()
    monkeypatch.setenv("MNIST_DIR", str(tmp_path))
    assert load.data_folder() == tmp_path
    assert load.data_folder(tmp_path / "given") == tmp_path / "given"


# --- downloading from a real server on 127.0.0.1 ------------------------------------------------

class Handler(http.server.BaseHTTPRequestHandler):
    """/good/ serves the real files (gzipped here from whatever form the data folder holds them in),
    /missing/ 404s, /wrong/ serves other bytes, /drop/ hangs up midway, /images-only/ 404s the labels."""
    source = None
    served = {}

    def do_GET(self):
        route, name = self.path.strip("/").split("/", 1)
        found = load.find(self.source, name[:-len(".gz")]) if name.endswith(".gz") else None
        if route == "missing" or found is None or (route == "images-only" and "labels" in name):
            self.send_error(404)
            return
        if name not in self.served:
            self.served[name] = load.read_bytes(found)
        raw = self.served[name]
        data = gzip.compress(raw[:-1] + b"\x00" if route == "wrong" else raw, compresslevel=1)
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data[: len(data) // 2] if route == "drop" else data)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server(real_mnist_dir):
    Handler.source = real_mnist_dir
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


def test_the_server_serves_an_unzipped_data_folder_too(server, real_mnist_dir, tmp_path):
    # what the original download script leaves: the idx files without .gz
    unzipped = tmp_path / "unzipped"
    unzipped.mkdir()
    (unzipped / load.TEST_LABELS).write_bytes(load.read_bytes(load.find(real_mnist_dir, load.TEST_LABELS)))
    Handler.source, Handler.served = unzipped, {}
    try:
        path = load.download(load.TEST_LABELS, tmp_path, [server + "good/"], progress=False)
    finally:
        Handler.source, Handler.served = real_mnist_dir, {}
    assert hashlib.sha256(gzip.decompress(path.read_bytes())).hexdigest() == load.SHA256[load.TEST_LABELS]


def test_a_programming_error_is_not_reported_as_a_bad_mirror(server, tmp_path):
    # progress must be True, False or a tqdm-like bar: a caller's mistake, not the mirror's
    with pytest.raises(AttributeError):
        load.download(load.TEST_LABELS, tmp_path, [server + "good/"], progress="yes")
    assert list(tmp_path.iterdir()) == []


def test_download_verifies_and_moves_into_place(server, tmp_path):
    path = load.download(load.TEST_LABELS, tmp_path, [server + "good/"], progress=False)
    assert path == tmp_path / (load.TEST_LABELS + ".gz")
    assert [p.name for p in tmp_path.iterdir()] == [path.name]
    assert hashlib.sha256(gzip.decompress(path.read_bytes())).hexdigest() == load.SHA256[load.TEST_LABELS]


def test_404_then_next_mirror(server, tmp_path):
    load.download(load.TEST_LABELS, tmp_path, [server + "missing/", server + "good/"], progress=False)
    assert [p.name for p in tmp_path.iterdir()] == [load.TEST_LABELS + ".gz"]


@pytest.mark.parametrize("route, reason", [("missing", "404"), ("wrong", "expected SHA-256"),
                                           ("drop", "IncompleteRead")])
def test_bad_server_leaves_nothing_behind(server, tmp_path, route, reason):
    with pytest.raises(DataError) as error:
        load.download(load.TEST_LABELS, tmp_path, [server + route + "/"], progress=False)
    message = str(error.value)
    assert load.TEST_LABELS in message and server + route in message and reason in message
    assert list(tmp_path.iterdir()) == []


def test_wrong_bytes_name_expected_and_actual_hash(server, tmp_path):
    with pytest.raises(DataError) as error:
        load.download(load.TEST_LABELS, tmp_path, [server + "wrong/"], progress=False)
    served = load.read_bytes(load.find(Handler.source, load.TEST_LABELS))[:-1] + b"\x00"
    actual = hashlib.sha256(served).hexdigest()
    assert load.SHA256[load.TEST_LABELS] in str(error.value) and actual in str(error.value)


def test_mnist_fetches_what_is_missing_through_mnist_mirror(server, tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_MIRROR", server + "good")
    assert load.mirrors()[0] == server + "good/"
    trX, teX, trY, teY = load.mnist(ntrain=100, ntest=100, data_dir=tmp_path / "new")
    assert trX.shape == (100, 784) and list(trY[:3].argmax(axis=1)) == [5, 0, 4]
    assert sorted(p.name for p in (tmp_path / "new").iterdir()) == sorted(n + ".gz" for n in load.SHA256)


def test_a_failed_download_leaves_no_folder_and_no_file_it_added(server, tmp_path):
    # the training images come, then the labels fail: the folders made and the file fetched go again
    data_dir = tmp_path / "new" / "data" / "mnist"
    with pytest.raises(DataError) as error:
        load.mnist(ntrain=100, ntest=100, data_dir=data_dir, urls=[server + "images-only/"])
    assert load.TRAIN_LABELS in str(error.value) and "404" in str(error.value)
    assert load.TRAIN_IMAGES + "," in str(error.value)  # it was missing when the call began
    assert list(tmp_path.iterdir()) == []


def test_a_failed_download_keeps_what_was_there(server, tmp_path, real_mnist_dir):
    mine = load.read_bytes(load.find(real_mnist_dir, load.TEST_LABELS))
    (tmp_path / load.TEST_LABELS).write_bytes(mine)  # one file already there, unzipped
    with pytest.raises(DataError):
        load.ensure(tmp_path, urls=[server + "images-only/"])
    assert [p.name for p in tmp_path.iterdir()] == [load.TEST_LABELS]
    assert (tmp_path / load.TEST_LABELS).read_bytes() == mine


def test_default_mirrors_are_https():
    assert load.MIRRORS and all(url.startswith("https://") for url in load.MIRRORS)
