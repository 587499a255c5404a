# volmount: build, package, install and test the Docker volume plugin.
# `make help` lists the targets. Installing and the integration tests need
# root; scripts/engine.sh and scripts/plugin.sh do the work.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PLUGIN ?= volmount
TAG ?= latest
REGISTRY ?=
# Where `make push` takes the plugin from: build/plugin-docker after
# `make rootfs-docker` pushes the Dockerfile's build instead.
PUSH_DIR ?= $(PLUGIN_DIR)
# HTTP timeout of the daemon's calls to the plugin, in seconds; 0 means only
# the daemon's own per-call limits, as after `docker plugin install`.
ENABLE_TIMEOUT ?= 0
# FORCE=1 removes and recreates a plugin even while the engine has volumes of
# it, deleting their data; without it such a plugin is upgraded in place.
FORCE ?=
GO ?= go
INTEGRATION_TIMEOUT ?= 60m
# Packages whose tests need root; they run only with VOLMOUNT_ROOT_TESTS=1.
ROOT_TEST_PKGS ?= ./mounter/...

BUILD_DIR := build
BINARY := $(BUILD_DIR)/rootfs/volmount
PLUGIN_DIR := $(BUILD_DIR)/plugin
DOCKER_PLUGIN_DIR := $(BUILD_DIR)/plugin-docker
TEST_DOCKER_HOST := unix:///run/volmount-test/docker.sock
TEST_REGISTRY := 127.0.0.1:5000
INTEGRATION_LOG := $(BUILD_DIR)/integration.log
# Held while the private test engine is in use, so that two runs (tests,
# benchmarks) never share or stop each other's engine.
TEST_LOCK := /run/volmount-test.lock

export FORCE

.PHONY: help build rootfs rootfs-docker plugin install push \
	test test-unit test-root test-integration test-lab bench lint clean

help: ## list the targets
	@echo "volmount targets (variables: PLUGIN=$(PLUGIN) TAG=$(TAG) REGISTRY=$(REGISTRY)):"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | \
		awk -F ':.*## ' '{ printf "  %-18s %s\n", $$1, $$2 }'

build: ## build the static plugin binary build/rootfs/volmount
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '-s -w' -o $(BINARY) ./plugin

rootfs: build ## assemble build/plugin (config.json, rootfs/) from the binary
	@scripts/plugin.sh rootfs $(PLUGIN_DIR) $(BINARY)

rootfs-docker: ## assemble build/plugin-docker through the Dockerfile (pulls nothing)
	@scripts/plugin.sh rootfs-docker $(DOCKER_PLUGIN_DIR)

plugin: rootfs ## create plugin PLUGIN:TAG in the engine, replacing an old one
	@scripts/plugin.sh create $(PLUGIN):$(TAG) $(PLUGIN_DIR)

install: ## install Debian's engine if none runs, then create and enable the plugin
	@scripts/engine.sh install
	@scripts/engine.sh start-default
	@$(MAKE) --no-print-directory plugin
	@docker plugin enable --timeout $(ENABLE_TIMEOUT) $(PLUGIN):$(TAG) >/dev/null
	@echo "$(PLUGIN):$(TAG) is enabled; try: docker volume create -d $(PLUGIN) myvolume"

push: rootfs ## push the plugin as REGISTRY/PLUGIN:TAG
	@test -n "$(REGISTRY)" || { echo "set REGISTRY, e.g. make push REGISTRY=registry.example.com/me" >&2; exit 2; }
	@scripts/plugin.sh create $(REGISTRY)/$(PLUGIN):$(TAG) $(PUSH_DIR)
	docker plugin push $(REGISTRY)/$(PLUGIN):$(TAG)
	@docker plugin rm $(REGISTRY)/$(PLUGIN):$(TAG) >/dev/null

test: ## unit tests, integration tests, then the network lab
	@$(MAKE) --no-print-directory test-unit
	@$(MAKE) --no-print-directory test-integration
	@$(MAKE) --no-print-directory test-lab

test-unit: ## unit tests; as root also the tests that need root
	$(GO) test $$($(GO) list ./... | grep -v '/integration$$')
	@if [ "$$(id -u)" = 0 ]; then $(MAKE) --no-print-directory test-root; \
	else echo "not root: skipping the root-only tests (make test-root)"; fi

test-root: ## tests that mount for real (root only)
	VOLMOUNT_ROOT_TESTS=1 $(GO) test -count=1 $(ROOT_TEST_PKGS)

# The integration tests run against a private engine with the plugin
# enabled, the test image, the Dockerfile's plugin directory and a registry
# on $(TEST_REGISTRY); all of it is stopped afterwards, whatever the outcome.
test-integration: rootfs ## integration tests in a private engine (root only)
	@exec 9>$(TEST_LOCK); flock 9; \
	trap 'scripts/engine.sh registry-stop; scripts/engine.sh stop-test' EXIT; \
	scripts/engine.sh start-test; \
	export DOCKER_HOST=$(TEST_DOCKER_HOST); \
	scripts/engine.sh test-image; \
	scripts/plugin.sh rootfs-docker $(DOCKER_PLUGIN_DIR); \
	FORCE=1 scripts/plugin.sh create $(PLUGIN):$(TAG) $(PLUGIN_DIR); \
	docker plugin enable --timeout $(ENABLE_TIMEOUT) $(PLUGIN):$(TAG) >/dev/null; \
	scripts/engine.sh registry-start; \
	echo "go test -tags integration ./integration/... (DOCKER_HOST=$$DOCKER_HOST)"; \
	VOLMOUNT_INTEGRATION=1 \
	VOLMOUNT_PLUGIN=$(PLUGIN):$(TAG) \
	VOLMOUNT_PLUGIN_DIR=$(CURDIR)/$(PLUGIN_DIR) \
	VOLMOUNT_DOCKER_PLUGIN_DIR=$(CURDIR)/$(DOCKER_PLUGIN_DIR) \
	VOLMOUNT_REGISTRY=$(TEST_REGISTRY) \
	VOLMOUNT_TEST_IMAGE=volmount-test/busybox:latest \
	VOLMOUNT_ENGINE=$(CURDIR)/scripts/engine.sh \
	$(GO) test -tags integration -count=1 -v -timeout $(INTEGRATION_TIMEOUT) \
		./integration/... 2>&1 | tee $(INTEGRATION_LOG); \
	if ! grep -q -- '^--- PASS' $(INTEGRATION_LOG); then \
		echo "test-integration: no integration test passed; did any run?" >&2; exit 1; fi; \
	if [ -n "$${CI:-}" ] && grep -- '--- SKIP' $(INTEGRATION_LOG); then \
		echo "test-integration: in CI every integration test must run" >&2; exit 1; fi

# The benchmarks of issue 3 against Docker's local driver and the protocol
# floor; the private engine part waits while integration tests run.
bench: build ## run the benchmarks and print one table (root only; see bench/RESULTS.md)
	@bench/run.sh $(BINARY)

# The lab boots a qemu guest with a kernel that has the NFS and CIFS clients
# and real NFS and SMB servers, and runs lab/cases there (lab/README.md).
test-lab: ## NFS and CIFS cases against real servers in a qemu guest (root only)
	bash lab/run.sh

lint: ## gofmt, go vet (also with the integration tag), bash -n on the scripts
	@files=$$(gofmt -l .); \
	if [ -n "$$files" ]; then echo "gofmt needed:"; echo "$$files"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags integration ./...
	$(GO) vet -tags lab ./lab/...
	@for f in scripts/*.sh lab/*.sh .ci/run; do bash -n $$f; done
	@if command -v shellcheck >/dev/null; then shellcheck -x scripts/*.sh lab/*.sh .ci/run; fi

clean: ## remove build/
	rm -rf $(BUILD_DIR)
