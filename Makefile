# The two commands a newcomer needs are `make demo` and `make test` (see README.md).
# The shell logic lives in scripts/; every target is safe to run again and fast the second time.

.PHONY: demo test lint bench install clean

demo:  ## install, migrate, load the demo city, run web server + task cluster (Ctrl-C stops both)
	@bash scripts/demo.sh

test:  ## the whole suite on PostgreSQL (installs and starts what it needs); pass PYTEST_ARGS="-k ..." to narrow
	@bash scripts/test.sh $(PYTEST_ARGS)

lint:  ## ruff check, ruff format --check, no model change without its migration (CI runs this before the tests)
	@bash scripts/lint.sh

bench:  ## every bench/bench_*.py on the casework_bench PostgreSQL database; output under bench/results/
	@bash scripts/bench.sh

install:  ## only install (system packages, .venv)
	@bash scripts/install.sh --test

clean:  ## remove the embedded demo database and files (var/), keep .venv
	rm -rf var
