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

.PHONY: venv demo test test-plain test-guard test-cuda-standin test-fast-check lint format bench clean dot sysdeps

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

# System programs the tests use: graphviz's `dot` (drawings) and Chromium with its driver (the
# browser test of the backprop step-through page). Installed with apt when missing and we are
# root, in one apt run; never fatal here: the tests say what is missing (in CI the browser test
# fails instead of skipping). `make dot` installs graphviz alone (all the demo needs).
define apt_install
	@missing=""; for pair in $(1); do \
		command -v "$${pair##*:}" >/dev/null 2>&1 || missing="$$missing $${pair%%:*}"; \
	done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo ">> installing$$missing via apt-get"; \
			{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
				apt-get install -y -qq --no-install-recommends $$missing; } >/dev/null 2>&1 \
				|| echo "warning: could not install$$missing; tests that need them skip" >&2; \
		else \
			echo "note:$$missing not installed (as root: apt-get install$$missing);" \
				"tests that need them skip" >&2; \
		fi; \
	fi
endef

dot:
	$(call apt_install,graphviz:dot)

sysdeps:
	$(call apt_install,graphviz:dot chromium:chromium chromium-driver:chromedriver)

demo: venv dot
	$(VPY) examples/demo.py

# The plain (NumPy) suite, the guard run, then the CUDA tests through minigrad's real CuPy
# backend code over a stand-in CuPy (tests/_fake_cupy.py); stops at the first that fails.
test: test-plain test-guard test-cuda-standin

test-plain: venv sysdeps
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

# The op and nn suites with every node recorded and every rule called both ways (minigrad/_fast.py
# against autograd.py's plain path): any difference fails.
test-fast-check: $(STAMP)
	MINIGRAD_CHECK_FAST=1 $(VPY) -m pytest $(PYTEST_ARGS) tests/ops tests/nn
