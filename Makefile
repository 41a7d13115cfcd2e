# Mulin: `make run` starts everything for a demo; `make test` checks the code (`make lint`) and runs the whole test suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint setup db bench migration clean

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $(STAMP)

setup: $(STAMP)

db: setup
	$(BIN)/flask --app bot init-db
	$(BIN)/flask --app bot demo-data

run: setup
	$(BIN)/python -m bot.devtools.launcher

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: db lint
	$(BIN)/python -m pytest -q

bench: setup
	$(BIN)/python bench/webhook_bench.py
	$(BIN)/python bench/answer_bench.py
	$(BIN)/python bench/answer_profile.py
	$(BIN)/python bench/scheduler_memory_bench.py
	$(BIN)/python bench/cold_start.py
	$(BIN)/python bench/intent_eval.py
	$(BIN)/python bench/conversation_eval.py
	$(BIN)/python bench/long_message_bench.py
	$(BIN)/python bench/notice_bench.py
	$(BIN)/python bench/sheet_bench.py
	$(BIN)/python bench/consult_bench.py
	$(BIN)/python bench/console_bench.py

migration: setup
	$(BIN)/python -m bot.storage.migrate "$(MESSAGE)"

clean:
	rm -rf $(VENV) instance
