# make test: a virtualenv with everything the tests need, then ruff and the whole test suite.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: test lint install
test: install
	$(PY) -m ruff check .
	$(PY) -m pytest

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q -e '.[dev]'
	touch $@
