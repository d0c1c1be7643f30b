# The collections ledger. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

GO          ?= go
BIN         ?= bin
LEDGER_STORE ?= ./data/ledger.db
BENCH_DIR   ?= $(CURDIR)/data/bench
BENCH_TIME  ?= 3s
FUZZ_TIME   ?= 30s

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*?## "} /^[a-zA-Z_-]+:.*?## / {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

VERSION     ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT      ?= $(shell git rev-parse HEAD 2>/dev/null)
LDFLAGS     := -X main.version=$(VERSION) -X main.commit=$(COMMIT)

.PHONY: build
build: ## Build the ledger binary into bin/ (ledger version says which commit).
	@mkdir -p $(BIN)
	@echo "building $(BIN)/ledger (the first build downloads and compiles the dependencies: a few minutes on 2 cores; later builds take seconds)"
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/ledger ./cmd/ledger

.PHONY: run
run: build ## Build and start the ledger on the embedded store (LEDGER_STORE, default ./data/ledger.db).
	LEDGER_STORE=$(LEDGER_STORE) ./$(BIN)/ledger serve

# The PostgreSQL database run-postgres uses (`docker compose up -d postgres`
# starts one with these credentials).
POSTGRES_URL ?= postgres://ledger:ledger@localhost:5432/ledger?sslmode=disable

.PHONY: run-postgres
run-postgres: build ## Build and start the ledger on PostgreSQL (LEDGER_STORE from POSTGRES_URL; `docker compose up -d postgres` starts one); views and keys in ./data.
	LEDGER_STORE='$(POSTGRES_URL)' ./$(BIN)/ledger serve

.PHONY: test
test: ## Run every test with the race detector, after vet and a gofmt check.
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted"; exit 1; fi
	$(GO) vet ./...
	@$(MAKE) --no-print-directory check-alerts
	@$(MAKE) --no-print-directory lint-openapi
	$(GO) test -race -count=1 -timeout 20m ./...

REDOCLY_CLI  := @redocly/cli@2.77.0
SPECTRAL_CLI := @stoplight/spectral-cli@6.16.3
NPX          := npx --yes --cache $(CURDIR)/.cache/npm

.PHONY: generate
generate: ## Regenerate the Go client (client/) from http/openapi.yaml.
	cd client && $(GO) generate ./...

.PHONY: lint-openapi
lint-openapi: ## Lint the OpenAPI document with redocly (recommended) and spectral (spectral:oas): no error, no warning.
	@if command -v npx >/dev/null; then \
	  $(NPX) $(REDOCLY_CLI) lint --config redocly.yaml http/openapi.yaml && \
	  $(NPX) $(SPECTRAL_CLI) lint --ruleset .spectral.yaml --fail-severity=warn http/openapi.yaml; \
	elif [ -n "$$CI" ]; then echo "npx is missing: .ci/run installs Debian's nodejs and npm"; exit 1; \
	else echo "SKIPPED: the OpenAPI document was not linted: npx is missing (apt-get install -y nodejs npm)"; fi

.PHONY: check-alerts
check-alerts: ## Check the Prometheus alerting rules and run their unit tests (promtool, Debian's prometheus package).
	@if command -v promtool >/dev/null; then \
	  cd deploy/prometheus && promtool check rules alerts.yml && promtool test rules alerts_test.yml; \
	elif [ -n "$$CI" ]; then echo "promtool is missing: .ci/run installs Debian's prometheus package"; exit 1; \
	else echo "SKIPPED: the alerting rules were not checked: promtool is missing (apt-get install -y prometheus)"; fi

.PHONY: test-kurrentdb
test-kurrentdb: ## Run the store contract against KurrentDB (docker compose up -d kurrentdb first).
	LEDGER_TEST_KURRENTDB=$${LEDGER_TEST_KURRENTDB:-esdb://localhost:2113?tls=false} \
	  $(GO) test -count=1 -run TestContract -v ./eventstore/kurrent/

.PHONY: bench
bench: ## Run the event-store benchmarks behind docs/PERFORMANCE.md (data under $(BENCH_DIR)).
	@mkdir -p $(BENCH_DIR)
	LEDGER_BENCH_DIR=$(BENCH_DIR) $(GO) test -run '^$$' -bench . -benchtime=$(BENCH_TIME) -count=1 ./eventstore/embedded/

FUZZ_TARGETS := ./eventstore/embedded/:FuzzDecodeRecord ./domain/:FuzzParseAmount ./domain/:FuzzParseDate \
	./domain/:FuzzDecodeEvent ./reconcile/:FuzzParseStatement ./http/:FuzzCommandBody ./http/:FuzzJSONDepth \
	./journal/:FuzzStreamNames

.PHONY: fuzz
fuzz: ## Run every fuzz target for FUZZ_TIME each (their seeds also run in make test).
	@set -e; for t in $(FUZZ_TARGETS); do \
	  pkg=$${t%%:*}; name=$${t##*:}; \
	  echo "== $$name ($$pkg) for $(FUZZ_TIME)"; \
	  $(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime=$(FUZZ_TIME) $$pkg; \
	done

SOAK_ROUNDS ?= 60

.PHONY: soak
soak: ## Kill a loaded server SOAK_ROUNDS times (default 60) and check that nothing acknowledged is lost.
	set -o pipefail; LEDGER_SOAK_ROUNDS=$(SOAK_ROUNDS) $(GO) test -count=1 -timeout $$(( $(SOAK_ROUNDS) / 3 + 10 ))m -run '^TestCrashUnderLoad$$' -v ./cmd/ledger/ | grep -E 'round|PASS|FAIL|ok'

.PHONY: currencies
currencies: ## Replace domain/iso4217/list-one.xml with the newest ISO 4217 List One (from the npm package currency-codes, which ships it verbatim).
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	  (cd "$$tmp" && npm pack --silent currency-codes@latest >/dev/null && tar xzf currency-codes-*.tgz); \
	  cp "$$tmp/package/iso-4217-list-one.xml" domain/iso4217/list-one.xml; \
	  grep -o 'Pblshd="[^"]*"' domain/iso4217/list-one.xml; \
	  $(GO) test -count=1 ./domain/iso4217/

.PHONY: clean
clean: ## Remove the binary and benchmark data (never ./data/ledger.db).
	rm -rf $(BIN) $(BENCH_DIR)
