# make run: set up .venv if needed, then run all six scripts on a short schedule.
# make test: the same set-up, then the test suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
# MNIST: $MNIST_DIR if set, else the read-only copy beside the repo (development and CI machines),
# else load.py's own folder, data/mnist, filled from the mirrors on first use.
SHARED_MNIST := $(wildcard $(abspath ../shared/datasets/mnist))
export MNIST_DIR ?= $(SHARED_MNIST)

.PHONY: run test reproduce reproduce-quick figures bench clean

$(VENV)/installed: requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null || \
	  { echo "Theano 1.0.5 needs Python 3.11: install it, or run: make PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

run: $(VENV)/installed
	$(PY) 0_multiply.py
	$(PY) 1_linear_regression.py --epochs 10
	$(PY) 2_logistic_regression.py --epochs 3
	$(PY) 3_net.py --epochs 3
	$(PY) 4_modern_net.py --epochs 2
	$(PY) 5_convolutional_net.py --epochs 1

test: $(VENV)/installed
	$(PY) -m pytest -q tests

reproduce: $(VENV)/installed  # the slides' full schedules, about an hour on 2 cores; ARGS="--epochs 20"
	$(PY) reproduce.py $(ARGS)

reproduce-quick: $(VENV)/installed  # minutes
	$(PY) reproduce.py --quick $(ARGS)

figures: $(VENV)/installed  # from what reproduce wrote into results/, and the moons' pictures
	$(PY) figures.py $(ARGS)
	$(PY) moons.py

bench: $(VENV)/installed  # Theano against PyTorch on the CPU; PyTorch is installed for this only
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-bench.txt
	$(PY) bench/bench.py $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache __pycache__ tests/__pycache__
