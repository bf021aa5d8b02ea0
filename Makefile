# aifactory — make help lists the targets.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DELETE_ON_ERROR:
.DEFAULT_GOAL := help
MAKEFLAGS += --no-builtin-rules

# Every module of the workspace: go test ./... does not cross module
# boundaries, so each target loops over these.
MODULES := $(shell go work edit -json | sed -n 's/.*"DiskPath": "\(.*\)".*/\1/p')

# Pinned generators, installed into .tools/bin (go install pkg@version needs
# only the Go module proxy; no protoc).
BUF_VERSION := v1.75.0
PROTOC_GEN_GO_VERSION := v1.36.12
PROTOC_GEN_GO_GRPC_VERSION := v1.6.0
TOOLS := $(CURDIR)/.tools/bin

GOTEST_FLAGS ?=
BENCH ?=

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  %-12s %s\n", $$1, $$2}'

.PHONY: run
run: ## Run the whole mesh embedded (factoryctl dev), data in ./.factory
	go run ./tools/factoryctl dev

.PHONY: test
test: ## Run every module's tests (integration suites need FACTORY_TEST_* URLs)
	@for m in $(MODULES); do echo "== $$m"; (cd $$m && go test $(GOTEST_FLAGS) ./...); done

.PHONY: bench
bench: ## Run the benchmarks (BENCH=name for one; BENCH_FLAGS for tools/bench, e.g. --records 1000000)
	@if [[ -n "$(BENCH)" && " $$(go run ./tools/bench list | tr '\n' ' ') " == *" $(BENCH) "* ]]; then go run ./tools/bench $(BENCH_FLAGS) $(BENCH); exit; fi; \
	for m in $(MODULES); do (cd $$m && go test -run '^$$' -bench '$(or $(BENCH),.)' -benchmem ./...); done; \
	if [[ -z "$(BENCH)" ]]; then go run ./tools/bench $(BENCH_FLAGS) all; fi

.PHONY: build
build: ## Build the binaries into bin/
	@mkdir -p bin
	go build -o bin/ ./tools/factoryctl ./services/catalog/cmd/catalog ./services/ingestion/cmd/ingestion ./services/featurestore/cmd/featurestore

.PHONY: lint
lint: ## go vet and gofmt check on every module
	@for m in $(MODULES); do (cd $$m && go vet ./...); done
	@out=$$(gofmt -l $(MODULES)); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

$(TOOLS)/buf $(TOOLS)/protoc-gen-go $(TOOLS)/protoc-gen-go-grpc &:
	GOBIN=$(TOOLS) GOFLAGS= go install github.com/bufbuild/buf/cmd/buf@$(BUF_VERSION)
	GOBIN=$(TOOLS) GOFLAGS= go install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)
	GOBIN=$(TOOLS) GOFLAGS= go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@$(PROTOC_GEN_GO_GRPC_VERSION)

.PHONY: proto
proto: $(TOOLS)/buf $(TOOLS)/protoc-gen-go $(TOOLS)/protoc-gen-go-grpc ## Regenerate proto/gen/go
	cd proto && PATH=$(TOOLS):$$PATH buf lint && PATH=$(TOOLS):$$PATH buf generate

.PHONY: proto-check
proto-check: proto ## Fail when the committed generated code is stale
	git diff --exit-code -- proto/gen || (echo "proto/gen is stale: run make proto and commit"; exit 1)
