# minigrad developer tasks (GNU make).
# Works on a fresh machine with only python3, make and bash: `make test` builds .venv first.

SHELL   := /bin/bash
PY      ?= python3
VENV    ?= .venv
VPY     := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
EXTRAS  ?= dev,examples,viz,io
# Always pinned: an unpinned `torch` would resolve to the multi-GB CUDA build.
TORCH   ?= torch==2.13.0
PIP     := $(VPY) -m pip
PIP_Q   ?= -q
PYTEST_ARGS ?= -p xdist -n 2
# The backend-independent tests, run again on the guard device (minigrad/guard.py: a strict CPU
# stand-in for CuPy) so CI without a GPU catches NumPy-only code. See docs/backends.md.
GUARD_TESTS ?= tests/ops tests/nn tests/optim tests/test_devices.py tests/test_autograd.py \
	tests/test_anomaly.py tests/test_memory.py tests/test_trace.py tests/test_viz.py \
	tests/test_serialization.py tests/data tests/models

.PHONY: venv demo test test-plain test-guard test-cuda-standin lint format bench clean dot

venv: $(STAMP)

# Re-runs whenever pyproject.toml changes.
$(STAMP): pyproject.toml
	@if [ ! -x "$(VPY)" ]; then \
		echo ">> creating $(VENV) with $(PY)"; \
		$(PY) -m venv $(VENV) || { rm -rf $(VENV); \
			echo "error: '$(PY) -m venv' failed (on Debian/Ubuntu: apt-get install python3-venv)" >&2; exit 1; }; \
	fi
	$(PIP) install $(PIP_Q) --upgrade pip
	$(PIP) install $(PIP_Q) -e '.[$(EXTRAS)]' '$(TORCH)'
	@touch $@

# Graphviz's `dot` binary (the python `graphviz` package only wraps it).
# Best effort: installed via apt when missing and we are root; never fatal.
dot:
	@if ! command -v dot >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo ">> installing graphviz (dot) via apt-get"; \
			{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
				apt-get install -y -qq --no-install-recommends graphviz; } >/dev/null 2>&1 \
				|| echo "warning: could not install graphviz; rendering tests may skip" >&2; \
		else \
			echo "note: graphviz 'dot' not found; rendering tests may skip" >&2; \
		fi; \
	fi

demo: venv
	$(VPY) examples/demo.py

# The plain (NumPy) suite, the guard run, then the CUDA tests through minigrad's real CuPy
# backend code over a stand-in CuPy (tests/_fake_cupy.py); stops at the first that fails.
test: test-plain test-guard test-cuda-standin

test-plain: venv dot
	$(VPY) -m pytest $(PYTEST_ARGS)

test-guard: venv
	MINIGRAD_TEST_DEVICE=guard $(VPY) -m pytest $(PYTEST_ARGS) $(GUARD_TESTS)

test-cuda-standin: venv
	$(VPY) -m pytest -p tests._fake_cupy tests/test_devices.py tests/test_backend.py -k "cuda or gpu"

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: venv
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: venv
	$(VPY) benchmarks/run.py

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
