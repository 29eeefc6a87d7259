# The two commands a fresh machine needs: `make run` and `make test`.
# Each step records what it did and is skipped when nothing changed.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.requirements-installed
# torch is pinned in requirements.txt and installed first: an unpinned torch pulls CUDA.
TORCH := $(shell grep -E '^torch==' requirements.txt)

.PHONY: setup model index run test lint bench clean

setup: $(STAMP)

$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check "$(TORCH)"
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

model: setup
	$(PY) -m indexer model

index: model
	$(PY) -m indexer update

run: index
	$(PY) -m indexer inspect

test: model
	$(PY) -m pytest

lint: setup
	$(PY) -m ruff check indexer webapp tests bench

clean:
	rm -rf instance
