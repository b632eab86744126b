# Two commands on a fresh Debian/Ubuntu machine: `make run` and `make test`.
# Both install what is missing first, and are quick when everything is present.
SHELL := /bin/bash
CARGO ?= cargo
HARPERDB_DIR := .cache/harperdb
HARPERDB_JS := $(HARPERDB_DIR)/node_modules/harperdb/bin/harperdb.js
JS_DEPS := tests/js/node_modules/.installed

.PHONY: run test deps harperdb bench clean

deps:
	@scripts/deps.sh

## Build and start a local switchyard-node (PORT=9925 by default).
run: deps
	$(CARGO) build --release --locked -p switchyard-node
	@scripts/run-local.sh

## Every test in the workspace: unit, integration, fuzz properties, conformance.
## The benchmarks are built too (dev profile, cheap) so they keep compiling.
test: deps $(JS_DEPS)
	$(CARGO) build --workspace --benches --profile dev --locked
	@scripts/cargo-test.sh

## The real JavaScript peers the scenario tests drive (socketcluster-client), from the lock file.
$(JS_DEPS): tests/js/package.json tests/js/package-lock.json
	@scripts/deps.sh node
	cd tests/js && npm ci --no-audit --no-fund
	touch $@

## HarperDB 4.7 from npm into .cache/harperdb (for benchmarks and HarperDB tests).
harperdb: $(HARPERDB_JS)
$(HARPERDB_JS):
	@scripts/deps.sh node
	mkdir -p $(HARPERDB_DIR)
	[ -f $(HARPERDB_DIR)/package.json ] || echo '{"name":"harperdb-cache","private":true}' > $(HARPERDB_DIR)/package.json
	cd $(HARPERDB_DIR) && npm install --no-audit --no-fund harperdb@4.7

## The benchmarks, switchyard-node and HarperDB side by side (see BENCHMARKS.md).
bench: deps harperdb
	BENCH_DATE="$$(date -u +%F)" $(CARGO) bench --locked -p switchyard-e2e --bench ops_api
	BENCH_DATE="$$(date -u +%F)" $(CARGO) bench --locked -p switchyard-e2e --bench replication

clean:
	$(CARGO) clean
	rm -rf .switchyard
