# make run: set up .venv if needed, then run all six scripts on a short schedule.
# make test: the same set-up, then the whole test suite; make quick: the minute's tests for editing a lesson.
# make test-ports: the PyTorch, JAX and PyTensor venvs (make ports), then the ports' tests (tests_ports/).
# Set-up (plumbing/bootstrap.py): Python 3.11 from PYTHON=..., else from PATH, else fetched by uv;
# then requirements.txt into .venv.
PYTHON ?=
BOOTSTRAP_PYTHON := $(or $(shell command -v python3),$(PYTHON),python3)
VENV := .venv
PY := $(VENV)/bin/python
# MNIST: $MNIST_DIR if set, else the read-only copy beside the repo (development and CI machines),
# else load.py's own folder, data/mnist, filled from the mirrors on first use.
SHARED_MNIST := $(wildcard $(abspath ../shared/datasets/mnist))
export MNIST_DIR ?= $(SHARED_MNIST)

RESULTS ?= results

.PHONY: run test quick ports test-ports port-runs check-fresh reproduce reproduce-quick figures old-net modern-net bench book notebook clean

$(VENV)/installed: requirements.txt plumbing/requirements-uv.txt plumbing/bootstrap.py plumbing/venv_hook.py
	@command -v $(BOOTSTRAP_PYTHON) >/dev/null || \
	  { echo "error: no python3 here: install it (Debian/Ubuntu: sudo apt-get install python3 python3-venv)" >&2; exit 1; }
	@$(BOOTSTRAP_PYTHON) plumbing/bootstrap.py --python '$(PYTHON)' --venv $(VENV)
	@touch $@

run: $(VENV)/installed
	$(PY) 0_multiply.py
	$(PY) 1_linear_regression.py --epochs 10
	$(PY) 2_logistic_regression.py --epochs 3
	$(PY) 3_net.py --epochs 3
	$(PY) 4_modern_net.py --epochs 2
	$(PY) 5_convolutional_net.py --epochs 1

test: $(VENV)/installed
	$(PY) -m pytest -q tests

quick: $(VENV)/installed  # for someone editing a lesson: helpers, shapes, one short run per script
	$(PY) -m pytest -q -m quick tests

check-fresh:  # make run and make test on a new Debian 13 root, as a newcomer (root; about 8 minutes)
	bash plumbing/check_fresh.sh

reproduce: $(VENV)/installed  # the slides' full schedules, about an hour on 2 cores; ARGS="--seeds 1-5" or "--epochs 20"
	$(PY) -m tools.reproduce $(ARGS)

reproduce-quick: $(VENV)/installed  # minutes; into results/quick (then: make figures RESULTS=results/quick)
	$(PY) -m tools.reproduce --quick $(ARGS)

# make figures: every picture on the pages, from the committed logs and trained models (no training)
figures: $(VENV)/installed $(RESULTS)/models/understanding.npz  # into $(RESULTS)/figures
	$(PY) -m tools.figures --results $(RESULTS) $(ARGS)
	$(PY) -m tools.old_net report --out $(RESULTS)/old_net
	$(PY) -m tools.modern_net report --out $(RESULTS)/modern_net --logs $(RESULTS)/logs

$(RESULTS)/models/understanding.npz: | $(VENV)/installed  # the moons lesson's runs, made only if missing (a minute)
	$(PY) understanding.py --save $@

old-net: $(VENV)/installed  # the old net's 98.4 %: the posted code far past 100 epochs, then one change at a time
	$(PY) -m tools.old_net long
	$(PY) -m tools.old_net one-change

# the modern net's 99.0 %: seeds 1, 2 and 3 far past 100 epochs, then 100-epoch runs with one change
# each; about 4.5 s of one core per epoch, some 75 minutes in all (AMD EPYC family 25 model 17). Other
# settings: make modern-net LONG_ARGS="--seeds 4 --max-epochs 500" CHANGE_ARGS="--epochs 50"
modern-net: $(VENV)/installed
	$(PY) -m tools.modern_net long $(LONG_ARGS)
	$(PY) -m tools.modern_net one-change $(CHANGE_ARGS)

TORCH_INDEX ?= https://download.pytorch.org/whl/cpu
JAX_VENV := .venv-jax
$(JAX_VENV)/installed: ports/requirements-jax.txt  # JAX needs numpy 2: a venv of its own
	$(BOOTSTRAP_PYTHON) -m venv --clear $(JAX_VENV)
	$(JAX_VENV)/bin/pip install --quiet --disable-pip-version-check -r ports/requirements-jax.txt
	@touch $@

TORCH_VENV := .venv-torch
$(TORCH_VENV)/installed: ports/requirements-torch.txt  # PyTorch's CPU build, numpy 2: a venv of its own
	$(BOOTSTRAP_PYTHON) -m venv --clear $(TORCH_VENV)
	$(TORCH_VENV)/bin/pip install --quiet --disable-pip-version-check $(if $(TORCH_INDEX),--extra-index-url $(TORCH_INDEX)) \
	  -r ports/requirements-torch.txt
	@touch $@

PYTENSOR_VENV := .venv-pytensor
$(PYTENSOR_VENV)/installed: ports/requirements-pytensor.txt  # PyTensor needs numpy 2: a venv of its own
	$(BOOTSTRAP_PYTHON) -m venv --clear $(PYTENSOR_VENV)
	$(PYTENSOR_VENV)/bin/pip install --quiet --disable-pip-version-check -r ports/requirements-pytensor.txt
	@touch $@

ports: $(VENV)/installed $(TORCH_VENV)/installed $(JAX_VENV)/installed $(PYTENSOR_VENV)/installed  # the ports' venvs

test-ports: ports  # each port against its lesson (tests_ports/): each side in its own venv, about 5 minutes
	$(PY) -m pytest -q tests_ports

# each port trained with the slide's schedule (the convnet's 10 epochs), seed 42, one thread, beside the
# lesson's seeds: results/ports/ports.md; about 3 hours of one core. ARGS="--frameworks jax --scripts 3_net"
port-runs: ports
	$(PY) -m tools.port_runs $(ARGS)

bench: ports  # Theano against the lessons' ports in PyTorch, JAX and PyTensor on the CPU, each in its venv
	$(PY) -m tools.bench.bench $(ARGS)

book: $(VENV)/installed  # docs/*.md (committed), book/*.html and book/notebooks/ from tools/book/pages; trains nothing
	$(PY) -m tools.book.build

# The notebooks' kernel: the .venv's Python, registered under this name (the notebooks ask for it).
# In a Jupyter of your own: .venv/bin/python -m ipykernel install --user --name theano-tutorial
KERNEL := theano-tutorial
$(VENV)/jupyter-installed: $(VENV)/installed tools/book/requirements-jupyter.txt  # JupyterLab, pinned, into .venv
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt -r tools/book/requirements-jupyter.txt
	$(PY) -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Theano tutorial (.venv)"
	@touch $@

notebook: $(VENV)/jupyter-installed book  # JupyterLab on book/notebooks/, the lessons' kernel chosen (first time: a minute to install)
	$(VENV)/bin/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) book/notebooks

clean:
	rm -rf $(VENV) $(JAX_VENV) $(TORCH_VENV) $(PYTENSOR_VENV) book .uv .pytest_cache __pycache__ */__pycache__ */*/__pycache__
