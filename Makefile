# Two commands on a fresh Debian/Ubuntu machine: `make run` and `make test`.
# Both install what is missing first, and are quick when everything is present.
SHELL := /bin/bash
CARGO ?= cargo
HARPERDB_DIR := .cache/harperdb
HARPERDB_JS := $(HARPERDB_DIR)/node_modules/harperdb/bin/harperdb.js
JS_DEPS := tests/js/node_modules/.installed
UI_DEPS := ui/node_modules/.installed
UI_DIST := ui/dist/index.html
UI_SOURCES := $(shell find ui/src -type f) ui/index.html ui/vite.config.ts ui/tsconfig.json

.PHONY: run test deps gui-deps harperdb sc-fanout bench node clean package

deps:
	@scripts/deps.sh

gui-deps:
	@scripts/deps.sh gui

## Build and open the studio (release build), with a ready local instance on first launch.
## The `switchyard` command line is built beside it and linked into ~/.local/bin (a link, so a
## rebuild updates it).
run: gui-deps $(UI_DIST)
	$(CARGO) build --release --locked -p switchyard-app -p switchyard-cli
	@mkdir -p "$(HOME)/.local/bin" && ln -sfn "$(CURDIR)/target/release/switchyard" "$(HOME)/.local/bin/switchyard"
	@case ":$$PATH:" in *":$(HOME)/.local/bin:"*) ;; *) echo "note: switchyard is in $(HOME)/.local/bin, which is not on your PATH";; esac
	@scripts/run-studio.sh

## Installable packages in target/packages: the studio's .deb (with the `switchyard` command
## line) and switchyard-node's .deb (a systemd service). APPIMAGE=1 adds the studio's AppImage
## (the Tauri bundler downloads its tools from github.com).
package: gui-deps $(UI_DIST)
	$(CARGO) build --release --locked -p switchyard-app -p switchyard-cli -p switchyard-node
	@scripts/package.sh release target/packages

## Only a local switchyard-node, no window (PORT=9925 by default).
node: deps
	$(CARGO) build --release --locked -p switchyard-node
	@scripts/run-local.sh

## Every test: the UI's unit tests (Vitest), then every Rust test target of the workspace,
## including the studio end to end under Xvfb and the transcript against a real HarperDB 4.7
## (installed once into .cache/harperdb). The benchmarks are built (dev profile) too. One build of
## the whole workspace: building the app alone first compiled the Tauri stack twice, since the
## workspace's test dependencies widen shared crates' features (getrandom, rustix, uuid, zbus).
test: gui-deps $(JS_DEPS) $(UI_DIST) $(HARPERDB_JS)
	$(CARGO) build --workspace --benches --bins --profile dev --locked
	@scripts/cargo-test.sh

## The UI's npm packages at the lock file's versions. (`npm install`, not `npm ci`: this npm writes
## only the current platform's optional packages — rollup's, esbuild's native binaries — into the
## lock, and `npm ci` then refuses the lock as out of sync.)
$(UI_DEPS): ui/package.json ui/package-lock.json
	@scripts/deps.sh node
	cd ui && npm install --no-audit --no-fund
	touch $@

## The built UI that the studio binary embeds (type-checked first).
$(UI_DIST): $(UI_DEPS) $(UI_SOURCES)
	cd ui && npm run build

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

## The stock socketcluster-server and its fan-out generator (shared/bench/sc-fanout), the anchor
## of the fan-out benchmark, installed into .cache/sc-fanout (shared/ is read-only).
SC_FANOUT_DIR := .cache/sc-fanout
SC_FANOUT_SRC := ../shared/bench/sc-fanout
sc-fanout: $(SC_FANOUT_DIR)/node_modules/.installed
$(SC_FANOUT_DIR)/node_modules/.installed: $(wildcard $(SC_FANOUT_SRC)/*)
	@scripts/deps.sh node
	@[ -d $(SC_FANOUT_SRC) ] || { echo "error: $(SC_FANOUT_SRC) is missing (the shared/ folder beside this checkout)" >&2; exit 1; }
	mkdir -p $(SC_FANOUT_DIR)
	cp $(SC_FANOUT_SRC)/*.js $(SC_FANOUT_SRC)/package.json $(SC_FANOUT_DIR)/
	cd $(SC_FANOUT_DIR) && npm install --no-audit --no-fund
	touch $@

## The benchmarks, switchyard-node side by side with HarperDB and with socketcluster-server, and
## the studio grid (see BENCHMARKS.md).
bench: gui-deps harperdb sc-fanout $(UI_DIST)
	BENCH_DATE="$$(date -u +%F)" $(CARGO) bench --locked -p switchyard-e2e --bench ops_api
	BENCH_DATE="$$(date -u +%F)" $(CARGO) bench --locked -p switchyard-e2e --bench replication
	$(CARGO) bench --locked -p switchyard-e2e --bench apply
	BENCH_DATE="$$(date -u +%F)" $(CARGO) bench --locked -p switchyard-e2e --bench verify
	$(CARGO) build --release --locked -p switchyard-node
	BENCH_DATE="$$(date -u +%F)" $(CARGO) bench --locked -p switchyard-e2e --bench fanout
	$(CARGO) build --release --locked -p switchyard-app
	BENCH_DATE="$$(date -u +%F)" SWITCHYARD_STUDIO_BIN=$(CURDIR)/target/release/switchyard-studio $(CARGO) bench --locked -p switchyard-e2e --bench studio_grid
	BENCH_DATE="$$(date -u +%F)" SWITCHYARD_STUDIO_BIN=$(CURDIR)/target/release/switchyard-studio $(CARGO) bench --locked -p switchyard-e2e --bench tail
	BENCH_DATE="$$(date -u +%F)" SWITCHYARD_STUDIO_BIN=$(CURDIR)/target/release/switchyard-studio $(CARGO) bench --locked -p switchyard-e2e --bench topology
	SWITCHYARD_STUDIO_BIN=$(CURDIR)/target/release/switchyard-studio $(CARGO) bench --locked -p switchyard-e2e --bench memory

clean:
	$(CARGO) clean
	rm -rf .switchyard ui/dist ui/node_modules
