# payment_request: `make run` to try it, `make test` to check it (what CI runs).
PYTHON ?= python3
ODOO_TEST_ARGS ?=

.PHONY: help lint test test-free test-odoo run bench clean

help:
	@echo "make run        Odoo 18 on http://localhost:8069 with this addon and demo data (admin/admin)"
	@echo "make test       static checks, Odoo-free tests, then the Odoo suite where Odoo 18 is found"
	@echo "make lint       static checks only"
	@echo "make test-free  Odoo-free tests only"
	@echo "make test-odoo  Odoo suite only (REUSE_DB=1 upgrades the test database instead of recreating it)"
	@echo "make bench      benchmarks (figures, not tests)"

lint:
	$(PYTHON) tools/run_tests.py --static

test:
	$(PYTHON) tools/run_tests.py -- $(ODOO_TEST_ARGS)

test-free:
	$(PYTHON) tools/run_tests.py --free

test-odoo:
	$(PYTHON) tools/run_tests.py --odoo $(if $(REUSE_DB),--reuse-db) -- $(ODOO_TEST_ARGS)

run:
	$(PYTHON) tools/run_odoo.py

bench:
	@if [ -f tools/bench.py ]; then $(PYTHON) tools/bench.py; else echo "no benchmark yet"; fi

clean:
	rm -rf .test-results .pytest_cache .ruff_cache
