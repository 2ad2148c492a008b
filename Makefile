# The two commands a newcomer needs: `make run` and `make test`. The rest is for maintainers.
PYTHON ?= python3
PORT ?= 8000
# pytest-xdist workers for `make test` (each Postgres-backed worker gets its own database).
TEST_WORKERS ?= 2
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint bench clean messages

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ .installed

## Serve the app on the embedded SQLite database, with a demo project on first run.
run: .installed
	$(BIN)/arbiter db upgrade
	$(BIN)/arbiter demo --if-empty
	$(BIN)/arbiter serve --host 127.0.0.1 --port $(PORT)

## The whole suite (Postgres too when ARBITER_TEST_DATABASE_URL is set). pytest's exit
## status 5 ("no tests collected") is reported as such, never as a pass of something.
test: .installed-test
	@$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile --cov=app --cov-report=term $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; fi; exit $$rc

lint: .installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: .installed-test
	$(BIN)/python -m bench

## Extract the interface's messages (babel.cfg) and merge them into every catalog in locale/;
## then translate what is new (tests/test_i18n.py fails while a message is untranslated).
messages: .installed-test
	$(BIN)/pybabel extract -F babel.cfg -k N_ --no-location --sort-output -o locale/messages.pot .
	$(BIN)/pybabel update -i locale/messages.pot -d locale --no-fuzzy-matching --ignore-obsolete

clean:
	rm -rf $(VENV) .installed .installed-test .pytest_cache .ruff_cache .mypy_cache
