# syncctl — build, test and demo on a fresh Debian machine (run as root, or with sudo rights).
#   make demo    the phased rollout on two built-in test servers
#   make test    unit, integration (two test servers) and end-to-end tests
# Both install what is missing: Debian packages and the test server's Python virtualenv.

SHELL := /bin/bash
export PATH := /opt/swift/usr/bin:$(PATH)

VENV        ?= .venv
PYTHON      ?= python3
SWIFT       ?= swift
APT_PACKAGES = libmongoc-dev libbson-dev pkg-config
SUDO        := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
BIN          = .build/debug/syncctl

.PHONY: all build test demo bench deps venv clean release

all: build

# Debian packages: installed only when missing, in one apt-get run (update first, as a fresh
# machine needs).
deps:
	@missing=""; \
	pkg-config --exists libmongoc-1.0 libbson-1.0 2>/dev/null || missing="$(APT_PACKAGES)"; \
	$(PYTHON) -c 'import venv, ensurepip' 2>/dev/null || missing="$$missing python3-venv"; \
	if [ -n "$$missing" ]; then \
		echo "installing $${missing# }"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi

# The test server's virtualenv, rebuilt when its pinned requirements change.
venv: $(VENV)/.installed
$(VENV)/.installed: TestServer/requirements.txt | deps
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	@$(VENV)/bin/pip install -q --disable-pip-version-check -r TestServer/requirements.txt pytest
	@touch $@

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

# Two test servers on free loopback ports; SYNCCTL_TEST_LOCAL_URI/ATLAS_URI point at them for
# the run and both stop afterwards, whatever happens. Point those variables at real servers
# and run `swift test` directly to run the same tests against real MongoDB.
# (`--build-tests` builds every product too, syncctl included: no separate `swift build`.)
test: deps venv
	$(VENV)/bin/python -m pytest -q TestServer
	$(SWIFT) build --build-tests
	TESTSERVER_PYTHON=$(abspath $(VENV))/bin/python TestServer/with-servers.sh $(SWIFT) test --skip-build

demo: build venv
	TESTSERVER_PYTHON=$(abspath $(VENV))/bin/python TestServer/with-servers.sh scripts/demo.sh $(BIN)

# Benchmarks (release build) against two test servers; prints figures and ratios, asserts nothing.
bench: deps venv
	$(SWIFT) build -c release --product syncctl-bench
	TESTSERVER_PYTHON=$(abspath $(VENV))/bin/python TestServer/with-servers.sh .build/release/syncctl-bench $(BENCH)

clean:
	rm -rf .build $(VENV) demo
