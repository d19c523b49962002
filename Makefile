# Kiln: `make run` serves it, `make test` tests everything. Both install what is missing.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := run

CARGO_LEPTOS_VERSION := 0.3.10
BINARYEN_VERSION := 132.0.0
# wasm-bindgen-cli must match the wasm-bindgen crate in Cargo.lock exactly.
WASM_BINDGEN_VERSION := $(shell awk '/^name = "wasm-bindgen"$$/ {getline; gsub(/"/, "", $$3); print $$3; exit}' Cargo.lock)

TOOLS_DIR ?= $(HOME)/.cache/kiln/tools
CARGO_TARGET_DIR ?= $(CURDIR)/target
PLUGIN_TARGET_DIR ?= $(CARGO_TARGET_DIR)/plugins
PLUGIN_DIST := plugins/dist
PLUGIN_WASM = $(PLUGIN_TARGET_DIR)/wasm32-wasip2/release
# Plugins shipped with Kiln: each directory has a kiln-plugin.toml.
BUNDLED_PLUGINS := snippet-extractor llm-policy parsers/rust parsers/python parsers/javascript \
	parsers/go parsers/markdown parsers/generic
export CARGO_TARGET_DIR
export PATH := $(HOME)/.cargo/bin:$(TOOLS_DIR)/node_modules/.bin:$(PATH)

# The variables cargo-leptos sets while building. Setting them for every cargo command
# keeps `cargo test` from recompiling crates that read them at compile time.
export LEPTOS_OUTPUT_NAME := kiln
export LEPTOS_SITE_ROOT := target/site
export LEPTOS_SITE_PKG_DIR := pkg
export LEPTOS_SITE_ADDR ?= 127.0.0.1:3000
export LEPTOS_RELOAD_PORT := 3001
# Server-function URLs hash the crate's path unless given a key: with this one the
# browser bundle and the server agree even when checkouts at different paths share
# one target directory.
export SERVER_FN_OVERRIDE_KEY := kiln

KILN_BIN := $(CARGO_TARGET_DIR)/release/kiln
# Made by `build` when the site and the binary are current (lives with the site, in
# the checkout, so a fresh clone always builds).
SITE_STAMP := $(LEPTOS_SITE_ROOT)/.built
SURREAL_SERVER := $(CARGO_TARGET_DIR)/surreal-server/release/kiln-test-surreal-server
E2E_ADDR := 127.0.0.1:3107

.PHONY: run build check test test-rust test-plugins test-e2e test-api schemathesis test-examples lint fmt tools rust-tools web-tools browser plugins surreal-server clean-data bench bench-scale bench-chat

## run: build everything and serve Kiln at http://$(LEPTOS_SITE_ADDR) on ./data
run: build
	$(KILN_BIN) serve

## build: the bundled plugins, the server and the hydrated site (release)
build: tools plugins
	@test -x $(KILN_BIN) || rm -f $(SITE_STAMP)
	@$(MAKE) --no-print-directory $(SITE_STAMP)

# `cargo leptos build` re-generates and re-optimises the browser bundle every time
# (≈ 45 s), so it runs only when a source changed since the site was built — or the
# binary did (another checkout sharing the target directory rebuilt it).
SITE_SOURCES := $(shell find app frontend server/src server/core server/plugin-host plugins migrations wit \
	-type f \( -name '*.rs' -o -name '*.surql' -o -name '*.wit' -o -name '*.css' -o -name 'Cargo.toml' \) \
	-not -path '*/target/*' -not -path '*/dist/*' 2>/dev/null) $(wildcard app/public/*) Cargo.toml Cargo.lock
# `--split`: every page is a lazy route, a wasm chunk of its own (see kiln_app::App).
# The site's wasm, js and css are then stored compressed too, which the server sends
# to browsers that accept them.
$(SITE_STAMP): $(SITE_SOURCES) $(wildcard $(KILN_BIN))
	cargo leptos build --release --split
	node frontend/precompress.mjs $(LEPTOS_SITE_ROOT)/$(LEPTOS_SITE_PKG_DIR)
	touch $@

## test: every Rust test, the plugin tests on real .wasm, Playwright in Chromium
test: tools plugins lint test-plugins test-rust test-e2e test-api test-examples

## check: the fast lane before `make test`: formatting, clippy on the host crates, and
## every crate's unit tests (no integration tests, no browser, no SurrealDB server)
check: plugins
	cargo fmt --all --check
	cargo clippy --release --workspace --exclude kiln-frontend --all-targets -- -D warnings
	cargo test --release --workspace --exclude kiln-frontend --lib

# The app crate's tests run with `ssr`: the server depends on `kiln-app/ssr`.
test-rust: plugins surreal-server
	KILN_SURREAL_SERVER=$(SURREAL_SERVER) cargo test --release --workspace --exclude kiln-frontend

## surreal-server: a real SurrealDB server for the `ws://` tests (its own workspace)
surreal-server:
	CARGO_TARGET_DIR=$(CARGO_TARGET_DIR)/surreal-server cargo build --release --locked \
		--manifest-path server/testing/surreal-server/Cargo.toml

test-plugins:
	cd plugins && cargo test --lib --workspace --target-dir $(PLUGIN_TARGET_DIR)

test-e2e: build browser end2end/node_modules/.installed
	cd end2end && KILN_BIN=$(KILN_BIN) KILN_E2E_ADDR=$(E2E_ADDR) npx playwright test

## test-api: schemathesis (from PyPI, into the tools directory) checks a running Kiln
## against its OpenAPI document: every operation, logged in, 25 examples each
SCHEMATHESIS_VERSION := 4.32.5
SCHEMATHESIS := $(TOOLS_DIR)/schemathesis/bin/schemathesis
test-api: build schemathesis
	end2end/api/schemathesis.sh $(KILN_BIN) $(SCHEMATHESIS) 25

schemathesis:
	@$(SCHEMATHESIS) --version 2>/dev/null | grep -qF "$(SCHEMATHESIS_VERSION)" || \
		(python3 -m venv $(TOOLS_DIR)/schemathesis && \
		 $(TOOLS_DIR)/schemathesis/bin/pip install --quiet "schemathesis==$(SCHEMATHESIS_VERSION)")

## test-examples: the plugin written in Python (componentize-py from PyPI), built
## and checked under Kiln's real limits
test-examples: build
	TOOLS_DIR=$(TOOLS_DIR) plugins/examples/python-snippets/build.sh $(PLUGIN_DIST)/examples
	$(KILN_BIN) plugin check $(PLUGIN_DIST)/examples/example.python-snippets/python_snippets.wasm

lint:
	cargo fmt --all --check
	cd plugins && cargo fmt --all --check
	cargo clippy --release --workspace --exclude kiln-frontend --all-targets -- -D warnings
	cargo clippy --release -p kiln-frontend --target wasm32-unknown-unknown -- -D warnings
	cd plugins && cargo clippy --target wasm32-wasip2 --release --target-dir $(PLUGIN_TARGET_DIR) -- -D warnings

fmt:
	cargo fmt --all
	cd plugins && cargo fmt --all

## bench-scale: Kiln on a big repository (SIZE_MB of real source, default 500): memory,
## data size, indexing throughput first vs last tenth, search p50/p99, restart; prints only
SIZE_MB ?= 500
bench-scale: build
	python3 end2end/bench/scale.py $(KILN_BIN) $(SIZE_MB)

## bench-chat: chat figures (WebSocket fan-out, per-token overhead, idle socket memory,
## a 10,000-message thread, the hydration bundle); prints, asserts nothing
bench-chat: plugins
	cargo bench --workspace --exclude kiln-frontend --bench chat

## bench: plugin host figures (per-call overhead, sandbox vs native); prints, asserts nothing
bench: plugins
	cargo bench --workspace --exclude kiln-frontend --bench plugins
	cargo bench -p kiln-core --bench indexing

## plugins: the bundled plugins and the test fixtures, as wasm32-wasip2 components
plugins: rust-tools
	cd plugins && cargo build --target wasm32-wasip2 --release --workspace --target-dir $(PLUGIN_TARGET_DIR)
	mkdir -p $(PLUGIN_DIST)/fixtures
	cp $(PLUGIN_WASM)/kiln_snippet_extractor.wasm $(PLUGIN_WASM)/kiln_llm_policy.wasm $(PLUGIN_WASM)/kiln_parser_*.wasm $(PLUGIN_DIST)/
	cp $(PLUGIN_WASM)/kiln_fixture_*.wasm $(PLUGIN_DIST)/fixtures/
	plugins/bundle.sh $(PLUGIN_WASM) $(PLUGIN_DIST) $(addprefix plugins/,$(BUNDLED_PLUGINS))

tools: rust-tools web-tools

# Each step checks before it installs, so a second run installs nothing.
rust-tools:
	@# RocksDB's bindings are generated with libclang when the storage engine is compiled.
	@ls /usr/lib/llvm-*/lib/libclang.so >/dev/null 2>&1 || \
		($(SUDO) apt-get update && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y libclang-dev)
	@rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
	@rustup target list --installed | grep -qx wasm32-wasip2 || rustup target add wasm32-wasip2
	@wasm-bindgen --version 2>/dev/null | grep -qF "$(WASM_BINDGEN_VERSION)" || \
		cargo install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION) --force
	@cargo leptos --version 2>/dev/null | grep -qF "$(CARGO_LEPTOS_VERSION)" || \
		cargo install cargo-leptos --version $(CARGO_LEPTOS_VERSION) --locked --features no_downloads --force

# wasm-opt from npm's binaryen: Debian's is too old for the wasm-bindgen output.
web-tools:
	@test -x $(TOOLS_DIR)/node_modules/.bin/wasm-opt || \
		(mkdir -p $(TOOLS_DIR) && cd $(TOOLS_DIR) && npm install --no-save --no-audit --no-fund binaryen@$(BINARYEN_VERSION))

SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
browser:
	@command -v chromium >/dev/null || \
		($(SUDO) apt-get update && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y chromium chromium-driver)

end2end/node_modules/.installed: end2end/package.json end2end/package-lock.json
	cd end2end && npm ci --no-audit --no-fund
	touch $@

clean-data:
	rm -rf data
