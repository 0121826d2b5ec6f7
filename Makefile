# Every target builds .venv on first use, so a fresh clone needs only python3 and make.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

BENCH  := $(VENV)/.bench-installed

.PHONY: demo test lint bench bench-quick web fanout clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(BENCH): $(STAMP)
	$(PY) -m pip install --quiet -e '.[dev,bench]'
	touch $(BENCH)

bench: $(BENCH)
	$(PY) -m benchmarks --json benchmarks/results.jsonl --plot benchmarks/results.png \
		--markdown benchmarks/results.md

bench-quick: $(BENCH)
	$(PY) -m benchmarks --quick

web: $(STAMP)
	$(PY) -m examples.web_chat

fanout: $(STAMP)  # needs redis-server (apt-get install redis-server) or --redis URL
	$(PY) -m examples.fanout

demo: $(STAMP)
	$(PY) -m rxstream demo

test: $(STAMP)
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check rxstream tests examples benchmarks
	$(VENV)/bin/ruff format --check rxstream tests examples benchmarks
	$(VENV)/bin/mypy --strict rxstream

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache test-artifacts
