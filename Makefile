# Two commands on a fresh machine with python3 and make:
#   make run    install everything, then run the main job on the embedded default
#   make test   install everything, then run the test suite
VENV ?= .venv
BIN := $(VENV)/bin
export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))

.PHONY: install run test lint bench fuzz clean

$(VENV)/.installed: pyproject.toml uv.lock
	python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv
	$(BIN)/uv sync --frozen --extra dev
	touch $@

install: $(VENV)/.installed

run: install
	$(BIN)/inertial up

test: install
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/python -m temporal.search_attributes --check

bench: install
	$(BIN)/python -m bench

# Long fuzzing of the native frame parser (fuzz/native_parser.py): RUNS executions per mode, ASan + UBSan.
RUNS ?= 10000000
fuzz: install
	fuzz/run.sh native $(RUNS)
	fuzz/run.sh differential $$(( $(RUNS) / 100 ))
	$(BIN)/python -m fuzz.decoders -runs=$$(( $(RUNS) / 10 )) -max_len=4096 -artifact_prefix=build/fuzz/ build/fuzz/corpus-decoders

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
