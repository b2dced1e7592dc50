# Two commands: `make demo` and `make test`. Both install what they need first.
VENV    ?= .venv
PY      := $(VENV)/bin/python
PYTEST  ?= $(VENV)/bin/pytest
# Debian packages the tests run as real servers / interop peers.
APT_PKGS := mosquitto mosquitto-clients influxdb victoria-metrics mbpoll chromium chromium-driver
SUDO    := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# node-opcua (npm), the independent OPC UA peer of tests/interop; needs Node.js >= 20 and npm.
NODE_DIR := tests/interop/nodeopcua

# Node-RED + node-red-contrib-modbus (npm), the peer of the load benchmark (bench/load.py).
NR_DIR := bench/nodered

.PHONY: demo test test-all soak lint typecheck deps sysdeps nodedeps nodejs clean bench bench-oee \
	bench-memory fuzz bench-history bench-spc

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

deps: $(VENV)/.installed

nodejs:
	@command -v node >/dev/null && command -v npm >/dev/null || { \
	  echo "installing Debian packages: nodejs npm (node-opcua interop tests, Node-RED bench)"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends nodejs npm; }
	@node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)' || \
	  { echo "node-opcua and Node-RED need Node.js >= 20 (found $$(node --version))"; exit 1; }

# The stamps live in node_modules, so deleting node_modules also reinstalls.
$(NODE_DIR)/node_modules/.installed: $(NODE_DIR)/package.json $(NODE_DIR)/package-lock.json | nodejs
	npm ci --prefix $(NODE_DIR) --no-audit --no-fund --loglevel=error
	touch $@

$(NR_DIR)/node_modules/.installed: $(NR_DIR)/package.json $(NR_DIR)/package-lock.json | nodejs
	npm ci --prefix $(NR_DIR) --no-audit --no-fund --loglevel=error
	touch $@

nodedeps: $(NODE_DIR)/node_modules/.installed

sysdeps:
	@missing=""; for p in $(APT_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

demo: deps
	$(VENV)/bin/oee-edge demo

# The suite waits on real servers and real time far more than it computes: two workers
# (a test file each, so its module-scoped servers stay shared) halve it on two cores.
TEST_WORKERS ?= 2

test: deps sysdeps nodedeps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy core edge connectors oee api simulators
	$(PYTEST) -q -p no:cacheprovider -n $(TEST_WORKERS) --dist loadfile

# The zero-data-loss soak (tests/integration/test_soak.py): OEE_SOAK_MINUTES (default 60)
# of killed brokers, databases, simulators and gateways; OEE_FAULT_REPORT=FILE keeps the JSON.
soak: deps sysdeps
	$(PYTEST) -q -m soak -p no:cacheprovider -s

test-all: deps sysdeps nodedeps
	$(PYTEST) -q -m 'not soak' -p no:cacheprovider -n $(TEST_WORKERS) --dist loadfile

# Benchmarks are not tests: they print the tables of docs/BENCHMARKS.md (about 40 min).
# BENCH_ARGS=... adds options to both load runs (e.g. --runs 1 --seconds 10 for a quick look).
bench: deps sysdeps $(NR_DIR)/node_modules/.installed
	$(PY) -m bench.load --protocol modbus --machines 50,200,500 --tags 30 --runs 3 $(BENCH_ARGS)
	$(PY) -m bench.load --protocol modbus --machines 50 --interval 0.1 --tags 30 --runs 3 $(BENCH_ARGS)
	$(PY) -m bench.load --protocol opcua --machines 100 --tags 50 --runs 3 $(BENCH_ARGS)
	$(PY) -m bench.oee_tracker

bench-oee: deps
	$(PY) -m bench.oee_tracker

# SPC per point at 1,000 charts: the statistics, the engine (publications, checkpoints, MQTT
# encoding) and what machines without a chart pay in Gateway.take (not part of `make bench`).
bench-spc: deps
	$(PY) -m bench.spc

# The worst history requests the API allows while 200 machines are polled (about 5 min).
bench-history: deps sysdeps
	$(PY) -m bench.history_load --machines 200 --runs 3 --seconds 30 $(BENCH_ARGS)

# The gateway's memory over an hour at 500 machines x 30 tags (BENCH_ARGS=--minutes 10 ...).
bench-memory: deps sysdeps
	$(PY) -m bench.memory --machines 500 --tags 30 --minutes 60 $(BENCH_ARGS)

# The Modbus decoder and answer checks fed arbitrary registers, frames and byte streams
# (the property tests `make test` runs with 200 examples each), FUZZ_EXAMPLES each
# (default 20000: about 12 minutes on one core). Not part of `make test`.
FUZZ_EXAMPLES ?= 20000
fuzz: deps
	OEE_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PYTEST) -q -p no:cacheprovider --hypothesis-show-statistics \
	  tests/connectors/modbus/test_decode_properties.py tests/connectors/modbus/test_frames_properties.py

lint: deps
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

typecheck: deps
	$(VENV)/bin/mypy core edge connectors oee api simulators

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info $(NODE_DIR)/node_modules \
	  $(NR_DIR)/node_modules
