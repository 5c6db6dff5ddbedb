"""Output paths (plumbing/paths.py): a --save, --log or --graph path that cannot be written stops a
lesson before training with one line naming it, in every tool that writes too; a write that fails
later (a disk that fills up) is one line naming the file, leaves nothing half-written, keeps a file
already there as it was, and a log keeps every finished epoch. Made for real: /proc, a path under a
file, a 64 KiB tmpfs filled up."""
import os
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT, epoch_lines, own_stderr, run_script

TINY = ["--epochs", 1, "--ntrain", 256, "--ntest", 100]
PAGE = 4096  # tmpfs counts its space in pages


def one_error_line(result):
    """The process's own stderr (less the compiling line), which must be a single line."""
    lines = own_stderr(result.stderr).splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr and "Exception ignored" not in result.stderr
    return lines[0]


@pytest.mark.quick
def test_save_where_no_file_can_be_made_stops_before_training():
    result = run_script("3_net", *TINY, "--save", "/proc/w.npz")
    assert result.returncode == 2 and not epoch_lines(result.stdout)
    assert one_error_line(result) == "error: --save /proc/w.npz: cannot write in /proc (no file can be created there)"


@pytest.mark.quick
def test_save_under_a_file_stops_before_training(tmp_path):
    (tmp_path / "some_file").write_text("mine")
    result = run_script("3_net", *TINY, "--save", "some_file/w.npz", cwd=tmp_path)
    assert result.returncode == 2 and not epoch_lines(result.stdout)
    assert one_error_line(result) == "error: --save some_file/w.npz: cannot write in some_file (it is a file, not a folder)"
    assert (tmp_path / "some_file").read_text() == "mine"


@pytest.mark.quick
def test_log_under_a_file_stops_before_the_first_epoch():
    result = run_script("3_net", *TINY, "--log", "/etc/passwd/x.csv")
    assert result.returncode == 2 and not epoch_lines(result.stdout)
    assert one_error_line(result) == "error: --log /etc/passwd/x.csv: cannot write in /etc/passwd (it is a file, not a folder)"


@pytest.mark.quick
def test_graph_picture_in_a_folder_that_takes_no_files_stops_before_compiling():
    from plumbing.graph import missing_for_picture
    if missing_for_picture():
        pytest.skip(f"--graph draws no picture here (it needs {' and '.join(missing_for_picture())})")
    result = run_script("2_logistic_regression", "--graph", "--ntrain", 128, "--ntest", 10, cwd="/proc")
    assert result.returncode == 2 and "Theano" not in result.stdout
    assert one_error_line(result) == ("error: --graph 2_logistic_regression_graph.png: cannot write in . "
                                      "(no file can be created there)")


@pytest.mark.quick
def test_the_check_makes_missing_folders_and_leaves_nothing(tmp_path):
    from plumbing.paths import why_unwritable
    assert why_unwritable(tmp_path / "a" / "b" / "w.npz") is None
    assert why_unwritable(tmp_path / "c", folder=True) is None
    assert list(tmp_path.iterdir()) == []  # the folders it made to try are gone, and its test file
    assert why_unwritable(tmp_path) == f"{tmp_path} is a folder"
    assert why_unwritable("/proc/a/w.npz") == "cannot make the folder /proc/a (no folder can be made there)"


def test_checks_of_one_new_folder_at_once_all_pass(tmp_path):
    """Lessons started together with --save into the same new folder: each check makes that folder
    and removes it again, and sees the others' come and go."""
    from concurrent.futures import ThreadPoolExecutor
    from plumbing.paths import why_unwritable
    target = tmp_path / "results" / "models" / "w.npz"
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: why_unwritable(target), range(400)))
    assert answers == [None] * 400
    # no test file is left; a folder may be (empty), where another check was using it when its maker removed it
    assert all(p.is_dir() for p in tmp_path.rglob("*"))


@pytest.mark.quick
@pytest.mark.parametrize("tool, flag", [("tools/reproduce", "--results"), ("tools/figures", "--out"),
                                        ("tools/old_net", "--out"), ("tools/bench/bench", "--json"),
                                        ("tools/book/build", "--out"), ("tools/book/build", "--docs")])
def test_every_tool_that_writes_checks_its_output_first(tool, flag, tmp_path):
    (tmp_path / "some_file").write_text("mine")
    target = tmp_path / "some_file" / ("x.json" if flag == "--json" else "out")
    args = {"tools/old_net": ["report"], "tools/bench/bench": ["--peers", ""]}.get(tool, [])
    result = run_script(tool, *args, flag, target, timeout=120)
    assert result.returncode == 2, result.stdout + result.stderr
    where = target.parent if flag == "--json" else target
    assert one_error_line(result) == (f"error: {flag} {target}: cannot write in {where} "
                                      f"({'it' if where == target.parent else target.parent} is a file, not a folder)")


# --- a disk that fills up: a 64 KiB tmpfs ---------------------------------------------------------

def mounted_tmpfs(folder, size):
    """A tmpfs of `size` mounted on folder (mounting needs root), or the test skipped."""
    folder.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here, which needs root: {done.stderr.strip()}")
    return folder


@pytest.fixture
def small_disk(tmp_path):
    """A 64 KiB tmpfs of our own; fill(pages) leaves that many pages free."""
    folder = mounted_tmpfs(tmp_path / "disk", "64k")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def fill(folder, pages_free):
    stat = os.statvfs(folder)
    with open(folder / "filler", "ab") as f:  # real bytes: a sparse file takes no pages
        f.write(b"\xff" * (stat.f_bavail * stat.f_frsize - pages_free * PAGE))
    stat = os.statvfs(folder)
    assert stat.f_bavail * stat.f_frsize == pages_free * PAGE


def test_save_onto_a_full_disk_stops_before_training_and_keeps_the_old_file(small_disk):
    (small_disk / "w.npz").write_text("the weights of yesterday")
    fill(small_disk, 0)
    result = run_script("2_logistic_regression", *TINY, "--save", small_disk / "w.npz")
    assert result.returncode == 2 and not epoch_lines(result.stdout)
    assert one_error_line(result) == (f"error: --save {small_disk / 'w.npz'}: cannot write in {small_disk} "
                                      f"(No space left on device)")
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler", "w.npz"]
    assert (small_disk / "w.npz").read_text() == "the weights of yesterday"


def test_save_that_fills_the_disk_after_training_is_one_line_and_keeps_the_old_file(small_disk):
    (small_disk / "w.npz").write_text("the weights of yesterday")
    fill(small_disk, 1)  # room for the check's test file, not for logistic regression's 31 KB of weights
    result = run_script("2_logistic_regression", *TINY, "--save", small_disk / "w.npz")
    assert result.returncode == 1 and len(epoch_lines(result.stdout)) == 1  # it trained, then failed
    assert one_error_line(result) == (f"error: --save {small_disk / 'w.npz'}: the trained weights were not saved "
                                      f"(No space left on device)")
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler", "w.npz"]  # no half-written file
    assert (small_disk / "w.npz").read_text() == "the weights of yesterday"


def test_log_that_fills_the_disk_keeps_every_finished_epoch(small_disk):
    fill(small_disk, 1)  # one page: the first epoch's log; the second epoch's new copy finds none
    log = small_disk / "log.csv"
    result = run_script("2_logistic_regression", *TINY[2:], "--epochs", 3, "--log", log)
    assert result.returncode == 1 and len(epoch_lines(result.stdout)) == 2
    assert one_error_line(result) == (f"error: --log {log}: epoch 2 was not logged (No space left on device); "
                                      f"it keeps epochs 1 to 1")
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler", "log.csv"]
    header, row = log.read_text().splitlines()
    assert header == "epoch,cost,accuracy,seconds" and row.startswith("1,")



def draw_moons(out, tmp_path):
    """python -m tools.figures on the committed moons runs alone (the first pictures it draws)."""
    results = tmp_path / "results"
    (results / "models").mkdir(parents=True)
    shutil.copy(ROOT / "results" / "models" / "understanding.npz", results / "models")
    return subprocess.run([sys.executable, "-m", "tools.figures", "--results", str(results), "--out", str(out)],
                          capture_output=True, text=True, cwd=ROOT)


def test_a_picture_that_fills_the_disk_is_one_line_and_leaves_nothing(small_disk, tmp_path):
    fill(small_disk, 1)  # room for the check's test file, not for the first picture
    result = draw_moons(small_disk, tmp_path)
    assert result.returncode == 1
    assert one_error_line(result) == f"error: cannot write {small_disk / 'understanding_sgd.png'} (No space left on device)"
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler"]


def test_an_animation_that_fills_the_disk_is_one_line_and_leaves_nothing(tmp_path):
    # the room the still pictures take: the committed ones' (test_committed_pictures.py draws them
    # again, the same), and a page to spare; the animation is some 70 pages
    stills = sorted((ROOT / "results" / "figures").glob("understanding_*.png"))
    assert [p.name for p in stills] == ["understanding_rmsprop.png", "understanding_sgd.png", "understanding_units.png"]
    disk = mounted_tmpfs(tmp_path / "disk", "1m")
    try:
        fill(disk, 2 + sum(-(-p.stat().st_size // PAGE) for p in stills))  # the stills and the check's file fit
        result = draw_moons(disk, tmp_path)
        assert result.returncode == 1
        gif = disk / "understanding_rmsprop.gif"
        assert one_error_line(result) == f"error: cannot write {gif} (No space left on device)"
        assert sorted(p.name for p in disk.iterdir()) == ["filler", *(p.name for p in stills)]  # no .part left
    finally:
        subprocess.run(["umount", str(disk)], check=True)
