# ferroflux: `make run` starts a local control plane with the controllers; `make test` runs
# every check. Both set up what they need on a fresh machine (Debian packages, Go tools).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build

CARGO ?= cargo
ROOT := $(abspath .)
BIN := $(ROOT)/.cache/bin
export PATH := $(BIN):$(PATH)
export KUBECONFIG ?= $(ROOT)/.cache/kubeconfig
# e2e runs the controller binaries built here.
export FERROFLUX_BIN_DIR ?= $(ROOT)/target/debug
E2E_THREADS ?= 4

.PHONY: build deps tools lint crds verify unit e2e test cluster-up cluster-down run bench charts-test

build:
	$(CARGO) build --workspace --bins

deps:
	hack/deps.sh

tools: deps
	hack/tools.sh

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

crds:
	$(CARGO) run -q -p ferroflux-crdgen -- --charts charts

verify:
	$(CARGO) run -q -p ferroflux-crdgen -- --charts charts --check

charts-test: tools
	hack/charts-test.sh

unit:
	$(CARGO) test --workspace --exclude ferroflux-e2e

e2e: tools build
	$(CARGO) test -p ferroflux-e2e --tests -- --test-threads=$(E2E_THREADS)

test: tools lint verify unit charts-test e2e

cluster-up: tools
	hack/cluster.sh up

cluster-down:
	hack/cluster.sh down

run: tools build cluster-up
	hack/run.sh

bench: tools
	hack/bench/controllers.sh
	hack/bench/gitrepositories.sh
	hack/bench/artifact.sh
	hack/bench/serve.sh
	hack/bench/kustomizations.sh
	hack/bench/kustomize.sh
	hack/bench/ssa.sh
	hack/bench/helm.sh
	hack/bench/rsa-keygen.sh
