# trading_grid — the two set-up commands are `make demo` and `make test`.
SHELL := /bin/bash
PHP ?= php
CARGO ?= cargo
EXT_DEBUG := $(CURDIR)/target/debug/libtrading_grid.so
EXT_RELEASE := $(CURDIR)/target/release/libtrading_grid.so
PHP_EXT := $(PHP) -d extension=$(EXT_DEBUG)

.PHONY: deps build build-release test chaos test-rust test-php test-stores lint-module stubs demo install bench fmt clippy

deps:
	@bash scripts/install-deps.sh

build: deps
	$(CARGO) build --workspace

build-release: deps
	$(CARGO) build --workspace --release

## The README's test command: everything CI runs.
test: build
	python3 tests/scripts/check-openapi.py
	$(CARGO) test --workspace
	TG_EXTENSION=$(EXT_DEBUG) $(PHP_EXT) /usr/bin/phpunit -c tests/php/phpunit.xml
	TG_EXTENSION=$(EXT_DEBUG) $(PHP_EXT) /usr/bin/phpunit -c tests/php/security.xml
	@if [ -x tests/scripts/store-tests.sh ]; then bash tests/scripts/store-tests.sh; fi
	@if [ -x tests/scripts/lint-module.sh ]; then bash tests/scripts/lint-module.sh; fi
	bash tests/scripts/chaos.sh --short
	bash bench/run.sh --smoke

## The reliability suite: chaos, crashes, outage, webhook abuse, hostile input, security,
## fuzzing. Rewrites RELIABILITY.md with the figures.
chaos: build
	bash tests/scripts/chaos.sh

## The benchmarks (release build, ~7 min): rewrites BENCHMARKS.md and bench/results/latest.json.
bench: build-release
	bash bench/run.sh

## Regenerates trading_grid.stubs.php from the built extension.
stubs: build
	$(PHP_EXT) tools/gen-stubs.php > trading_grid.stubs.php

## The README's demo command: the flows against the sandbox, explained step by step.
demo: build
	$(PHP_EXT) demo/demo.php

## Copies the release extension into PHP's extension dir and enables it (as a Drupal host needs).
install: build-release
	install -m 0755 $(EXT_RELEASE) "$$(php-config --extension-dir)/trading_grid.so"
	@for d in /etc/php/8.2/mods-available; do \
	  [ -d $$d ] && printf '; Trading Grid connector\nextension=trading_grid.so\n' > $$d/trading_grid.ini || true; \
	done
	@command -v phpenmod >/dev/null && phpenmod trading_grid || true
	@$(PHP) -r 'echo "trading_grid ", TradingGrid\version(), " installed\n";'

fmt:
	$(CARGO) fmt --all

clippy:
	$(CARGO) clippy --workspace --all-targets -- -D warnings
