"""Each port's dropout, on its own (worker.py draws it in the port's venv): it keeps each unit with
the retain probability 1 - p, scales the kept ones by 1 / (1 - p) as the lessons do, draws a new
mask each time, and gives its input back unchanged at p = 0.

The kept fraction of 625,000 units: its standard deviation is sqrt(r (1 - r) / n) <= 6.3e-4; the
test allows 5 of those (3e-3), which a correct dropout misses once in about 2 million runs.
"""
import numpy as np
import pytest

from conftest import PORTS, work

UNITS = 1000 * 625  # worker.DROPOUT_SHAPE


@pytest.mark.parametrize("framework", PORTS)
def test_a_ports_dropout_keeps_the_retain_fraction_and_scales_the_kept_units(framework, tmp_path):
    draws = work(framework, "dropout", "4_modern_net", "--seed", 3, "--out", tmp_path / "dropout.npz")
    for p in (0.2, 0.5):
        retain = 1 - p
        first, second = draws[f"p{p}_1"], draws[f"p{p}_2"]
        for mask in (first, second):
            assert mask.dtype == np.float32, f"{framework}: dropout made {mask.dtype} of float32"
            kept = mask != 0
            np.testing.assert_allclose(mask[kept], np.float32(1) / np.float32(retain), rtol=1e-6,
                                       err_msg=f"{framework}: kept units are scaled by 1 / {retain}")
            assert abs(kept.mean() - retain) < 5 * np.sqrt(retain * p / UNITS), \
                f"{framework}: kept {kept.mean():.4f} of the units at p = {p}"
        assert (first != second).mean() > 0.1, f"{framework}: two draws gave the same mask"
    np.testing.assert_array_equal(draws["p0"], np.ones_like(draws["p0"]))
