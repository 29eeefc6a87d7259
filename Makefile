# The two commands a fresh machine needs: `make run` and `make test`.
# Each step records what it did and is skipped when nothing changed.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.requirements-installed
# torch is pinned in requirements.txt and installed first: an unpinned torch pulls CUDA.
TORCH := $(shell grep -E '^torch==' requirements.txt)

.PHONY: setup browser redis model index run test lint docs soak milvus clean

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

# Debian's Chromium for the real-browser test (Playwright cannot download its own here).
browser:
	@test -x /usr/bin/chromium || { [ "$$(id -u)" = 0 ] \
	  && apt-get update -qq \
	  && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; } \
	  || echo "no chromium: the browser test will be skipped"

# Debian's Redis for the test of the question limit shared by several workers.
redis:
	@command -v redis-server >/dev/null || { [ "$$(id -u)" = 0 ] \
	  && apt-get update -qq \
	  && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; } \
	  || echo "no redis-server: the test of the limit shared by workers will be skipped"

# One gunicorn worker per core (python -m webapp --workers 1: waitress, one process).
run: index
	$(PY) -m webapp --warm

test: model browser redis
	$(PY) -m pytest

lint: setup
	$(PY) -m ruff check indexer webapp tests bench

# The README's settings table is generated from the registry in indexer/settings.py.
docs: setup
	$(PY) -m indexer settings --readme README.md

# 32 clients for 60 s against the production server, with two index updates under load.
soak: model
	$(PY) -m bench.soak --clients 32 --seconds 60 --out bench/out/soak.json

# A Milvus engine several processes share: milvus-lite's server, on loopback only (its
# default bind is every interface). Then: POLICYQA_INDEX_BACKEND=milvus
# POLICYQA_MILVUS_URI=http://127.0.0.1:$(MILVUS_PORT) for `indexer` and `webapp`.
MILVUS_PORT ?= 19530
milvus: setup
	$(PY) -m milvus_lite server --host 127.0.0.1 --port $(MILVUS_PORT) --data-dir instance/milvus-server

clean:
	rm -rf instance
