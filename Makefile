# railwatch — every entry point a developer or CI needs. See README.md.
# `make demo` and `make test` install what is missing first (scripts/install-deps.sh).

BUILD      ?= build
JOBS       ?= $(shell nproc)
CMAKE_ARGS ?=
DEMO_ARGS  ?=
ENGINE_COUNT ?= 2000
DEMO_BUILD ?= build-demo
DEMO_CMAKE_ARGS ?= -DCMAKE_BUILD_TYPE=Release \
	"-DCMAKE_CXX_FLAGS_RELEASE=-O1 -DNDEBUG -Wno-maybe-uninitialized -Wno-subobject-linkage" \
	-DCMAKE_UNITY_BUILD=ON -DCMAKE_UNITY_BUILD_BATCH_SIZE=8
SOURCES     = $(shell git ls-files '*.cpp' '*.hpp' 2>/dev/null)

.PHONY: all deps configure build test unit asan asan-units tsan lint bench bench-engine load format format-check demo demo-build tools browser-test package clean

all: build

deps:
	@./scripts/install-deps.sh

# Node.js test tooling, pinned by package-lock.json: graphql-js for the schema check,
# playwright-core for the browser tests (it drives Debian's chromium; no browser is downloaded),
# an OpenAPI 3.1 validator and ajv for docs/openapi.yaml (tools/openapi-validate).
# The dashboard's own npm packages (uPlot) are installed by CMake at configure time.
tools: deps
	@if [ ! -d tools/graphql-validate/node_modules/graphql ]; then \
		npm ci --prefix tools/graphql-validate --no-audit --no-fund --loglevel=error; fi
	@if [ ! -d tests/browser/node_modules/playwright-core ]; then \
		npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error; fi
	@if [ ! -d tools/openapi-validate/node_modules/@seriousme/openapi-schema-validator ]; then \
		npm ci --prefix tools/openapi-validate --no-audit --no-fund --loglevel=error; fi

# The dashboard in Chromium at desktop and phone widths; screenshots in $(BUILD)/browser/.
# RAILWATCH_URL=http://HOST:PORT (and RAILWATCH_API_TOKEN, RAILWATCH_SIM_URL) test a running
# server; without it a stand-in API serves the page (docs/DASHBOARD.md).
browser-test: tools
	@cd tests/browser && SCREENSHOT_DIR=$(CURDIR)/$(BUILD)/browser node --test --test-concurrency=1 dashboard.test.mjs

configure: deps
	@cmake -S . -B $(BUILD) -G Ninja $(CMAKE_ARGS) >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

# Every test: unit, integration (real SQLite, PostgreSQL, simulator, SMTP on loopback), lint.
# $(JOBS) CPU slots (at least 2: a test may take two): a test that keeps a core busy takes one, a
# test that mostly waits takes none and runs beside them (tests/CMakeLists.txt), up to
# $(WAITING_JOBS) more at once.
WAITING_JOBS ?= 4
test: build tools format-check
	@printf '{"version":{"major":1,"minor":0},"local":[{"cpus":[{"id":"0","slots":%d}]}]}\n' $$(( $(JOBS) > 2 ? $(JOBS) : 2 )) > $(abspath $(BUILD))/ctest-resources.json
	@ctest --test-dir $(BUILD) --output-on-failure -j $$(( $(JOBS) + $(WAITING_JOBS) )) \
		--resource-spec-file $(abspath $(BUILD))/ctest-resources.json --timeout 900

# Only the fast unit tests.
unit: build
	@ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS) -L unit

SANITIZER_ENV = ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ASAN_BUILD ?= build-asan
asan:
	@$(SANITIZER_ENV) $(MAKE) --no-print-directory test BUILD=$(ASAN_BUILD) \
		CMAKE_ARGS="-DCMAKE_BUILD_TYPE=Debug -DRAILWATCH_SANITIZE=address $(CMAKE_ARGS)"

# The part of `make asan` that CI runs (.ci/run; the whole of it would double CI's time): ASan +
# UBSan over the unit tests of the modules that take outside input apart: Railway's answers and
# errors (railway), HTTP (net), the rules fed by logs and statuses (core), time and text parsing
# (util).
ASAN_UNITS ?= core util net railway monitor
asan-units: deps
	@cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DRAILWATCH_SANITIZE=address $(CMAKE_ARGS) >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS) --target $(addprefix unit_,$(ASAN_UNITS))
	@for unit in $(ASAN_UNITS); do \
		echo "asan-units: unit_$$unit"; \
		$(SANITIZER_ENV) $(ASAN_BUILD)/tests/unit/$$unit/unit_$$unit --gtest_brief=1 || exit 1; \
	done

tsan:
	@TSAN_OPTIONS=suppressions=$(CURDIR)/tests/tsan.supp $(MAKE) --no-print-directory test BUILD=build-tsan \
		CMAKE_ARGS="-DCMAKE_BUILD_TYPE=RelWithDebInfo -DRAILWATCH_SANITIZE=thread"

# clang-tidy over the project's sources with the checked-in .clang-tidy; fails on any finding.
lint: configure
	@./scripts/lint.sh $(BUILD) $(JOBS)

# Every Google Benchmark binary, then the engine as a whole process (bench-engine below).
bench: build
	@./scripts/run-bench.sh $(BUILD)
	@ENGINE_COUNT=$(ENGINE_COUNT) ./scripts/bench-engine.sh $(BUILD)

# The monitoring engine as a whole process: the simulator, ENGINE_COUNT monitored instances on
# SQLite, `railwatch serve` following them (and, below 10,000, the Python poller beside it).
# Small by default; the acceptance's run: make bench-engine ENGINE_COUNT=100000 (ENGINE_SECONDS,
# ENGINE_WARMUP, ENGINE_PERF, ENGINE_JSON: scripts/bench-engine.sh). Figures: docs/PERFORMANCE.md.
bench-engine: configure
	@cmake --build $(BUILD) -j $(JOBS) --target railwatch engine_seed_instances
	@ENGINE_COUNT=$(ENGINE_COUNT) ./scripts/bench-engine.sh $(BUILD)

# The REST API and event streams under load on loopback (wrk on GET /api/v1/instances with 100,000
# instances stored, beside a trivial server; 200 event streams while /metrics is timed): builds
# only what it runs, then scripts/load-api.sh. Figures: docs/PERFORMANCE.md.
load: configure
	@cmake --build $(BUILD) -j $(JOBS) --target railwatch load_seed_instances load_stream_clients
	@./scripts/load-api.sh $(BUILD)

format:
	@clang-format -i $(SOURCES)

format-check:
	@clang-format --dry-run --Werror $(SOURCES) || \
		{ echo "format-check: run 'make format'"; exit 1; }

# Builds only the binary it runs (not the tests or benchmarks), then runs the whole system.
# DEMO_ARGS="--listen 127.0.0.1:0" when port 8080 is taken.
# It builds in its own directory, $(DEMO_BUILD), configured for a short first build rather than
# for debugging: a unity build (about 8 sources per compiler run, so the heavy third-party headers
# are parsed and their templates compiled once per batch instead of once per file), -O1 and no
# debug information. `make build` and `make test` keep $(BUILD) and its RelWithDebInfo flags.
# -Wno-maybe-uninitialized: at -O1 GCC 12 reports std::optional members as maybe uninitialized
# where they are not (its GCC bug 80635); the -O2 builds keep the warning. -Wno-subobject-linkage:
# a unity batch includes each source like a header, and GCC then reports a class of that source
# with a member of a type from its anonymous namespace, as it would for a class in a header that
# several translation units define; each source is in one batch only, so nothing is defined twice.
demo: demo-build
	@./$(DEMO_BUILD)/railwatch demo $(DEMO_ARGS)

# The demo's binary alone, as `make demo` builds it (.ci/run builds it too: its unity batches put
# several sources in one compiler run, where names two sources each keep to themselves collide).
demo-build: deps
	@cmake -S . -B $(DEMO_BUILD) -G Ninja $(DEMO_CMAKE_ARGS) $(CMAKE_ARGS) >/dev/null
	@cmake --build $(DEMO_BUILD) -j $(JOBS) --target railwatch

# The Debian package (CPack): builds only what it packages (the binary and its man page), then
# $(BUILD)/railwatch_<version>_<arch>.deb. docs/PACKAGING.md.
package: configure
	@cmake --build $(BUILD) -j $(JOBS) --target railwatch railwatch_manpage
	@cd $(BUILD) && cpack -G DEB

clean:
	@rm -rf build build-asan build-tsan build-demo
