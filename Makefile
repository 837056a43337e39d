# musicwb: `make demo` builds the demo library and runs the whole batch; `make test` runs the
# test suite. Both create .venv and install the package on first use, and reuse it afterwards.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.musicwb-installed
TEST_STAMP := $(VENV)/.musicwb-test-installed
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install demo djmix lab test test-fast bench clean-reports

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[notebooks,test]'
	touch $(STAMP)

# The tests also run the linkage on Spark (local mode), so they need the optional spark extra.
$(TEST_STAMP): $(STAMP)
	$(BIN)/python -m pip install -q -e '.[notebooks,test,spark,peers]'
	touch $(TEST_STAMP)

# The demo has its own store (data/demo.duckdb), so a MUSICWB_STORE pointing at a real library is
# never touched; its reports go to the top-level reports/.
DEMO_ENV := MUSICWB_STORE=data/demo.duckdb MUSICWB_REPORTS_DIR=reports

demo: install
	$(BIN)/musicwb demo
	$(DEMO_ENV) $(BIN)/musicwb extract --workers 2
	$(DEMO_ENV) $(BIN)/musicwb artifact build
	$(DEMO_ENV) $(BIN)/musicwb batch --config batch.demo.toml

# The match_diagnostics notebook on the DJ Mix Dataset's dev corpus (batch.djmix.toml): the
# corpus is imported once into its own store, data/djmix.duckdb; the report goes to reports/.
DJMIX_DATA ?= $(or $(MUSICWB_TEST_DATA),../shared/data)/djsets/djmix/djmix-dataset-dev.json
DJMIX_STORE := data/djmix.duckdb

$(DJMIX_STORE): $(DJMIX_DATA) | $(STAMP)
	$(BIN)/musicwb tracklists import --format djmix --store $@ $(DJMIX_DATA)

djmix: install $(DJMIX_STORE)
	$(BIN)/musicwb batch --config batch.djmix.toml --store $(DJMIX_STORE) \
		--notebook match_diagnostics --out reports

# JupyterLab on the notebooks; as root (a container) Jupyter refuses to start without --allow-root.
LAB_ARGS ?= $(if $(filter 0,$(shell id -u)),--allow-root)

lab: install
	$(BIN)/jupyter lab notebooks/ $(LAB_ARGS)

test: $(TEST_STAMP)
	$(BIN)/python -m pytest --nbval-lax --doctest-modules musicwb tests notebooks

test-fast: $(TEST_STAMP)
	$(BIN)/python -m pytest -m "not slow and not browser" --doctest-modules musicwb tests

bench: install
	$(BIN)/python bench/run.py

clean-reports:
	rm -rf reports/*/
