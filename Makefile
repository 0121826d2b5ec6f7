# Every target builds .venv on first use, so a fresh clone needs only python3 and make.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m rxstream demo

test: $(STAMP)
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check rxstream tests examples
	$(VENV)/bin/ruff format --check rxstream tests examples
	$(VENV)/bin/mypy --strict rxstream

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
