# musicwb: `make demo` builds the demo library and runs the whole batch; `make test` runs the
# test suite. Both create .venv and install the package on first use, and reuse it afterwards.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.musicwb-installed
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install demo test test-fast bench clean-reports

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[notebooks,test]'
	touch $(STAMP)

demo: install
	$(BIN)/musicwb demo
	$(BIN)/musicwb extract --workers 2
	$(BIN)/musicwb batch

test: install
	$(BIN)/python -m pytest --nbval-lax tests notebooks

test-fast: install
	$(BIN)/python -m pytest -m "not slow and not browser" tests

bench: install
	$(BIN)/python bench/run.py

clean-reports:
	rm -rf reports/*/
