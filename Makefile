# payment_request: `make run` to try the addon, `make test` to check it (what CI runs).
# The harness is tools/run_tests.py (tests) and tools/run_odoo.py (run); see `make help`.
PYTHON ?= python3
# Extra pytest arguments for the Odoo suite, e.g. make test-odoo ODOO_TEST_ARGS="-k wizard"
ODOO_TEST_ARGS ?=
# REUSE_DB=1: upgrade the existing test database (-u) instead of making a fresh one.
REUSE_DB ?=
REUSE_FLAG := $(if $(filter 1 yes true,$(REUSE_DB)),--reuse-db)

.DEFAULT_GOAL := help
.PHONY: help lint test test-free test-odoo run bench clean

help:
	@echo "make run        Odoo 18 on http://localhost:8069 with this addon, payment_demo and"
	@echo "                demo data (database payment_request_demo, login admin / admin)"
	@echo "make test       static checks, Odoo-free tests, then the Odoo suite on a fresh"
	@echo "                database where Odoo 18 is found (what CI runs);"
	@echo "                results in .test-results/ (summary.json, install.log, *.xml)"
	@echo "make lint       static checks: ruff, pylint-odoo, XML / manifest / translations"
	@echo "make test-free  Odoo-free tests only (tools/tests)"
	@echo "make test-odoo  Odoo suite only; REUSE_DB=1 upgrades the test database instead"
	@echo "                of recreating it; ODOO_TEST_ARGS=\"-k name\" selects tests"
	@echo "make bench      benchmarks (figures, not tests)"
	@echo "make clean      remove .test-results/ and caches"
	@echo "Odoo is found through ODOO_PATH (folder holding odoo-bin) or 'import odoo';"
	@echo "ODOO_DISABLE=1 makes the harness behave as if Odoo were absent."

lint:
	$(PYTHON) tools/run_tests.py --static

test:
	$(PYTHON) tools/run_tests.py $(REUSE_FLAG) -- $(ODOO_TEST_ARGS)

test-free:
	$(PYTHON) tools/run_tests.py --free

test-odoo:
	$(PYTHON) tools/run_tests.py --odoo $(REUSE_FLAG) -- $(ODOO_TEST_ARGS)

run:
	$(PYTHON) tools/run_odoo.py

bench:
	@if [ -f tools/bench.py ]; then $(PYTHON) tools/bench.py; else echo "no benchmark yet"; fi

clean:
	@if [ -f .test-results/odoo-run.pid ] && kill -0 "$$(cat .test-results/odoo-run.pid)" 2>/dev/null; then \
		echo "make run is still running (pid $$(cat .test-results/odoo-run.pid)): stop it first"; exit 1; fi
	@if [ -f .test-results/pgdata/postmaster.pid ]; then \
		echo "the project's own PostgreSQL cluster runs from .test-results/pgdata: stop it first"; exit 1; fi
	rm -rf .test-results .pytest_cache .ruff_cache tools/tests/__pycache__ tools/__pycache__
