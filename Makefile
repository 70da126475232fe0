# payment_request: `make run` to try the addon, `make test` to check it (what CI runs).
# Both set up what they need first (tools/bootstrap.py: Debian packages, Odoo 18.0 in .odoo/,
# a pinned virtual environment in .venv/), then run the harness (tools/run_tests.py,
# tools/run_odoo.py) with the environment's Python. See `make help`.

# The machine's Python, that runs the set-up (standard library only).
BOOTSTRAP_PYTHON ?= python3
BOOTSTRAP := $(BOOTSTRAP_PYTHON) tools/bootstrap.py
# Ways to use what one already has (see README.rst, Installation); given on the command line
# (make test PYTHON=...) or in the environment, they reach the set-up.
export PYTHON ODOO_PATH ODOO_ARCHIVE ODOO_DISABLE
# Extra pytest arguments for the Odoo suite, e.g. make test-odoo ODOO_TEST_ARGS="-k wizard"
ODOO_TEST_ARGS ?=
# REUSE_DB=1: upgrade the existing test database (-u) instead of making a fresh one.
REUSE_DB ?=
REUSE_FLAG := $(if $(filter 1 yes true,$(REUSE_DB)),--reuse-db)

.DEFAULT_GOAL := help
.PHONY: help setup lint test test-free test-odoo run bench load lock i18n clean distclean

help:
	@echo "make run        Odoo 18 on http://localhost:8069 with this addon, payment_demo and"
	@echo "                demo data (database payment_request_demo, login admin / admin)"
	@echo "make test       static checks, Odoo-free tests, then the whole Odoo suite with tours"
	@echo "                on a fresh database (what CI runs); results in .test-results/"
	@echo "make setup      only the set-up that run and test do first: Debian packages,"
	@echo "                Odoo 18.0 in .odoo/, the pinned virtual environment in .venv/"
	@echo "make lint       static checks: ruff, pylint-odoo, the OCA's module and translation"
	@echo "                checks, XML / manifest / text files, README generated (as pre-commit)"
	@echo "make test-free  Odoo-free tests only (tools/tests)"
	@echo "make test-odoo  Odoo suite only; REUSE_DB=1 upgrades the test database instead"
	@echo "                of recreating it; ODOO_TEST_ARGS=\"-k name\" selects tests"
	@echo "make bench      benchmarks (figures, not tests); BENCH_ARGS=\"--requests N\""
	@echo "make load       load test: customers paying at once on Odoo with 4 workers, on the"
	@echo "                bench database; LOAD_ARGS=\"--customers N --pairs N --timeout S\""
	@echo "make lock       recompile tools/requirements.txt from tools/requirements.in"
	@echo "make i18n       export i18n/payment_request.pot and merge it into fr.po (after make test)"
	@echo "make clean      remove .test-results/ and caches; make distclean also .venv/, .odoo/"
	@echo "ODOO_PATH=DIR (a folder holding odoo-bin) and PYTHON=INTERPRETER use an Odoo of"
	@echo "one's own; ODOO_DISABLE=1 runs the Odoo-free part only."

setup:
	$(BOOTSTRAP) --setup-only

lint:
	$(BOOTSTRAP) --odoo-free -- tools/run_tests.py --static

test:
	$(BOOTSTRAP) -- tools/run_tests.py $(REUSE_FLAG) -- $(ODOO_TEST_ARGS)

test-free:
	$(BOOTSTRAP) --odoo-free -- tools/run_tests.py --free

test-odoo:
	$(BOOTSTRAP) -- tools/run_tests.py --odoo $(REUSE_FLAG) -- $(ODOO_TEST_ARGS)

run:
	$(BOOTSTRAP) -- tools/run_odoo.py

bench:
	$(BOOTSTRAP) -- tools/bench.py $(BENCH_ARGS)

load:
	$(BOOTSTRAP) -- tools/load_test.py $(LOAD_ARGS)

lock:
	$(BOOTSTRAP) --setup-only
	cd tools && ../.venv/bin/uv pip compile --universal --python-version 3.11 \
		--override requirements-overrides.txt --no-header --annotation-style line \
		requirements.in -o requirements.txt

i18n:
	$(BOOTSTRAP) -- tools/i18n_export.py

clean:
	@if [ -f .test-results/odoo-run.pid ] && kill -0 "$$(cat .test-results/odoo-run.pid)" 2>/dev/null; then \
		echo "make run is still running (pid $$(cat .test-results/odoo-run.pid)): stop it first"; exit 1; fi
	@if [ -f .test-results/pgdata/postmaster.pid ]; then \
		echo "the project's own PostgreSQL cluster runs from .test-results/pgdata: stop it first"; exit 1; fi
	rm -rf .test-results .pytest_cache .ruff_cache tools/tests/__pycache__ tools/__pycache__

distclean: clean
	rm -rf .venv .odoo .odoo.partial
