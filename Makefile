# Every target runs with Go alone, except lint, which also fetches the
# OpenAPI linter through npx (Node.js).
GO       ?= go
SPECTRAL ?= npx --yes @stoplight/spectral-cli@6.16.3
# staticcheck's default checks; `go run pkg@version` leaves go.mod alone.
STATICCHECK ?= $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2
BIN      := bin/vast-mcp
# The one version (gen/VERSION): --version, User-Agent, server.json, image tag.
VERSION  := $(shell cat gen/VERSION)
GENERATED := gen mcp README.md

# Executions, not a duration: a -fuzztime duration can end in a spurious
# "context deadline exceeded" failure on Go 1.26 (golang/go#75804).
FUZZTIME ?= 100000x
FUZZ_TARGETS := ./gen:FuzzDecodeResponse ./mcp:FuzzToolCall ./mcp:FuzzParseDockerFlags ./mcp:FuzzImageReference ./gen:FuzzSanitizeSkipsOnlyWhatCannotMatch ./mcp:FuzzLinePlaceholders ./mcp:FuzzValidationAgreesWithJSONSchema

.PHONY: all generate check-generated lint test e2e figures build check-deploy image bench demo fuzz spec-change-check declare-check vendor vendor-check clean

all: generate lint test build

## generate: regenerate gen/ (oapi-codegen), mcp/tools.gen.go (specgen) and README's tool reference
generate:
	$(GO) generate ./...

## vendor: take a newly published Vast.ai document in (SPEC=file; SOURCE_REPO, SOURCE_PATH, SOURCE_COMMIT, SOURCE_DATE optional): report, check the overlay, regenerate
vendor:
	@test -n "$(SPEC)" || { echo "usage: make vendor SPEC=path/to/openapi.yaml [SOURCE_REPO=… SOURCE_PATH=… SOURCE_COMMIT=… SOURCE_DATE=…]" >&2; exit 2; }
	$(GO) run -C internal/vendorspec . -root $(CURDIR) -spec $(abspath $(SPEC)) \
		-repo "$(SOURCE_REPO)" -path "$(SOURCE_PATH)" -commit "$(SOURCE_COMMIT)" -date "$(SOURCE_DATE)"
	$(MAKE) --no-print-directory generate
	$(GO) test ./mcp -run '^TestToolSnapshots$$' -update >/dev/null

## declare-check: prove a new GET and a new DELETE become working tools with an overlay entry and make generate alone
declare-check:
	scripts/declare-check.sh

## vendor-check: vendoring the vendored document changes nothing; the older one fails with a readable report
vendor-check:
	scripts/vendor-check.sh

## check-generated: fail when generated files differ from what `make generate` writes
check-generated: generate
	@if ! git diff --quiet -- $(GENERATED) || [ -n "$$(git ls-files --others --exclude-standard -- $(GENERATED))" ]; then \
		git diff --stat -- $(GENERATED); git ls-files --others --exclude-standard -- $(GENERATED); \
		echo "generated files are stale: run 'make generate' and commit the result" >&2; exit 1; \
	fi

## lint: gofmt, go vet, staticcheck, and the OpenAPI linter on the effective (overlaid) spec
lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed" >&2; exit 1; }
	$(GO) vet ./...
	$(GO) vet -C internal/vendorspec ./...
	$(STATICCHECK) ./...
	@mkdir -p .build
	$(GO) run ./internal/specgen -spec openapi.yaml -overlay overlay.yaml -effective .build/openapi.effective.json
	$(SPECTRAL) lint --ruleset .spectral.yaml --fail-severity warn .build/openapi.effective.json

## test: the whole test suite once (race detector when cgo is available), its output swept for the test API keys
test:
	scripts/test.sh

## e2e: three replicas behind HAProxy with one Redis, against a rate-limited fake API (needs haproxy and redis-server; VAST_MCP_E2E=1 fails instead of skipping without them)
e2e:
	$(GO) vet -tags e2e ./e2e/
	$(GO) test -tags e2e -count=1 -run '^TestTeamDeployment$$' ./e2e/

## figures: calls/s and p99 through the balancer, memory per replica with idle clients (BENCHMARKS.md)
figures:
	$(GO) test -tags e2e -count=1 -run '^TestFigures$$' -v ./e2e/ -figures

## build: the vast-mcp binary in bin/, static on Linux: no C library to load at each spawn (BENCHMARKS.md)
build:
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN) ./cmd/vast-mcp

## check-deploy: the Kubernetes manifests, Dockerfile and server.json, checked offline (deploy/, a module of its own)
check-deploy:
	cd deploy && $(GO) vet ./... && $(GO) test -count=1 ./...

## image: the container image, tagged with the version (needs Docker; CI has none, so check-deploy checks the Dockerfile instead)
image:
	docker build -t ghcr.io/vast-mcp/vast-mcp:$(VERSION) .

## bench: Go benchmarks (ns/op, allocs/op), then the process-level harness against the bare mcp-go floor (BENCHMARKS.md)
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...
	$(GO) run ./bench/harness

## fuzz: each fuzz target for FUZZTIME executions (seed corpora in */testdata/fuzz also run in make test)
fuzz:
	@for target in $(FUZZ_TARGETS); do \
		pkg=$${target%%:*}; name=$${target#*:}; \
		echo "fuzz $$name ($$pkg, $(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$$name$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	done

## demo: the server end to end in sandbox mode; needs no Vast.ai account
demo: build
	$(BIN) demo

## spec-change-check: prove a field added to openapi.yaml reaches client and tools with `make generate` alone
spec-change-check:
	scripts/spec-change-check.sh

clean:
	rm -rf bin .build
