# Set-up and everyday commands. `make venv` is idempotent: it re-installs only when
# pyproject.toml changed since the last install.
PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: venv run test lint bench zoo clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	# torch first: 2.13.0 is a CPU build on local disk; an unpinned torch would pull a multi-GB CUDA build.
	$(VPY) -m pip install --quiet --disable-pip-version-check torch==2.13.0
	$(VPY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

run: venv
	$(VENV)/bin/latent-explorer --zoo

test: venv lint
	QT_QPA_PLATFORM=offscreen $(VPY) -m pytest -q

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy checkpoints trainer explorer
	$(VENV)/bin/lint-imports --no-cache

bench: venv
	$(VPY) -m benchmarks --out bench-results.json

zoo: venv
	$(VENV)/bin/latent-train zoo

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
