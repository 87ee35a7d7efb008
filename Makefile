# FNE steering indicators. `make demo` and `make test` work on a fresh Debian machine as root: they
# install and start what they need (ClickHouse from Debian, npm packages) and stop what they started.
SHELL := /bin/bash
GO ?= go
CH := deploy/clickhouse/local
WITH_CH := $(CH)/with-clickhouse.sh
BIN := bin/fne
export FNE_CLICKHOUSE_ADDR ?= 127.0.0.1:9000

.PHONY: reference-france dashboards check-clickhouse-current all build test test-go test-frontend vet bench demo clickhouse-up clickhouse-down migrate plugin plugin-backend plugin-frontend up down clean report-deps report-demo bench-report prometheus-install cluster-up cluster-down test-cluster

all: build

build:
	$(GO) build -o $(BIN) ./collector/cmd/fne

## clickhouse-up / clickhouse-down: the project's own server on loopback (data under .run/clickhouse).
clickhouse-up:
	$(CH)/clickhouse.sh up

clickhouse-down:
	$(CH)/clickhouse.sh down

migrate: build clickhouse-up
	$(BIN) migrate

## dashboards: write dashboards/*.json from their Go code (dashboards/gen, Grafana Foundation SDK);
## `go test ./dashboards/gen` fails when the committed files differ from what it generates.
dashboards:
	$(GO) run ./dashboards/gen -out dashboards

## test: every test, storage included, against a real ClickHouse started (and stopped) here.
test: vet report-deps prometheus-install
	$(WITH_CH) $(MAKE) --no-print-directory test-go
	@if [ -f plugin/package.json ]; then $(MAKE) --no-print-directory test-frontend; fi

vet:
	$(GO) vet -tags integration ./...

## prometheus-install: the Debian package prometheus for the dashboards' PromQL test, unpacked under
## .run/prometheus (no service started); a prometheus on the PATH is used instead.
prometheus-install:
	deploy/prometheus/install.sh

test-go:
	$(GO) test -race -tags integration -count=1 -timeout 30m ./...

test-frontend:
	cd plugin && npm ci --no-audit --no-fund && npm run typecheck && npm run lint && npm run test:ci && npm run build

## cluster-up / cluster-down: the loopback test cluster (ZooKeeper 2281 + four ClickHouse 18.16, 2 shards
## × 2 replicas, TCP 9101-9104, HTTP 8201-8204; data under .run/cluster). See README « Mode cluster ».
CLUSTER := deploy/clickhouse/cluster/cluster.sh
CLUSTER_TEST_PKGS := ./internal/migrate ./internal/engine ./collector/cli ./plugin/pkg/plugin
cluster-up:
	$(CLUSTER) up

cluster-down:
	$(CLUSTER) down

## test-cluster: the cluster tests (build tags integration + cluster) on a cluster started and stopped
## here, compared with the single server (started too if absent). -p 1: the packages share the cluster,
## and some kill one of its servers.
test-cluster:
	@$(CLUSTER) up
	@$(WITH_CH) $(GO) test -p 1 -tags 'integration cluster' -count=1 -timeout 15m -run '^TestCluster' $(CLUSTER_TEST_PKGS); \
	  rc=$$?; $(CLUSTER) down; exit $$rc

## bench: performance benchmarks against the real server (prints the ratios of the issues). Sizes:
## FNE_BENCH_ROWS (département, 10 M activities), FNE_BENCH_NATIONAL_ROWS (national, 50 M: about 5 min
## and 2.5 GB on 2 cores; FNE_BENCH_NATIONAL_DB keeps that database for the next runs),
## FNE_BENCH_ACTIVITES (ingested file, 1 M), FNE_BENCH_REPEAT (alternated ingestion runs, 3). Generated
## databases are dropped at the end unless named.
bench: build report-deps
	$(WITH_CH) $(GO) test -tags integration -run '^$$' -bench . -benchtime 1x -timeout 180m ./...
	$(MAKE) --no-print-directory bench-report

## bench-report: BenchmarkReportPacks (the département pack and the 12 EPCI packs, time of each and total)
## on the engine's 10 M-activity data set, generated once by BenchmarkScale into FNE_BENCH_DB (default
## fne_bench_rapport, kept for the next runs: DROP DATABASE fne_bench_rapport to free it).
bench-report: build report-deps
	$(WITH_CH) bash -c 'export FNE_BENCH_DB=$${FNE_BENCH_DB:-fne_bench_rapport}; \
	  n=$$(curl -fsS "http://127.0.0.1:$${FNE_CH_HTTP_PORT:-8123}/" --data-binary "SELECT count() FROM $$FNE_BENCH_DB.activites" 2>/dev/null || echo 0); \
	  if [ "$${n:-0}" = 0 ]; then $(GO) test -tags integration -run "^$$" -bench "^BenchmarkScale$$" -benchtime 1x -timeout 60m ./internal/engine/ || exit 1; fi; \
	  $(GO) test -tags integration -run "^$$" -bench "^BenchmarkReportPacks$$" -benchtime 1x -timeout 30m ./internal/report/'

## report-deps: what `fne report` needs to print PDF (Debian packages chromium, poppler-utils for
## pdftotext, fonts-liberation), installed only when missing.
report-deps:
	@if ! command -v chromium >/dev/null || ! command -v pdftotext >/dev/null || ! command -v pdftoppm >/dev/null \
	   || ! fc-list 2>/dev/null | grep -qi 'Liberation Sans'; then \
	  echo "Installation de chromium, poppler-utils et fonts-liberation (fne report)…"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium poppler-utils fonts-liberation fontconfig >/dev/null; \
	fi

## report-demo: the demo pack of the département (PDF and HTML) and each of its pages as PNG, in
## demo-rapport/ (run `make demo` first).
report-demo: build report-deps
	mkdir -p demo-rapport
	$(BIN) report --out demo-rapport/rapport.pdf
	$(BIN) report --format html --out demo-rapport/rapport.html
	rm -f demo-rapport/page-*.png && pdftoppm -r 60 -png demo-rapport/rapport.pdf demo-rapport/page

## check-clickhouse-current: replay the migrations and the queries logged by the local 18.16 server
## (run `make test` or `make demo` first) on the current ClickHouse engine (chDB).
check-clickhouse-current: clickhouse-up
	deploy/clickhouse/current/check.sh

## demo: ClickHouse up, schema and reference, demo data ingested, indicators printed for the
## département of the reference and for one EPCI (DEMO_EPCI), at the latest month of the demo data.
DEMO_EPCI ?= epci:200040566
demo: build clickhouse-up
	$(BIN) migrate
	$(BIN) reference
	$(BIN) demo
	@echo
	$(BIN) indicators
	@echo
	$(BIN) indicators --territory $(DEMO_EPCI)
	@echo
	@echo "ClickHouse reste démarré (make clickhouse-down pour l'arrêter)."

## reference-france: regenerate the national territorial reference (schemas/reference/france) from the
## npm package @etalab/decoupage-administratif@6.0.0, fetched with npm pack into a temporary folder.
REFERENCE_PKG := @etalab/decoupage-administratif@6.0.0
reference-france:
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	  (cd "$$tmp" && npm pack --silent $(REFERENCE_PKG) >/dev/null) && \
	  $(GO) run ./internal/reference/cmd/reference-france -tgz "$$tmp"/etalab-decoupage-administratif-6.0.0.tgz -out schemas/reference/france

## plugin: the complete Grafana plugin folder in plugin/dist (frontend + backend executables).
PLUGIN_EXE := gpx_fneindicateurs
plugin: plugin-frontend plugin-backend

# Static executables (no cgo), stripped; Grafana picks the one named after its OS and architecture.
plugin-backend:
	CGO_ENABLED=0 GOOS=linux GOARCH=amd64 $(GO) build -trimpath -ldflags '-s -w' -o plugin/dist/$(PLUGIN_EXE)_linux_amd64 ./plugin/pkg
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -trimpath -ldflags '-s -w' -o plugin/dist/$(PLUGIN_EXE)_linux_arm64 ./plugin/pkg

plugin-frontend:
	cd plugin && npm ci --no-audit --no-fund && npm run build

## up / down: the whole stack with Docker (Grafana, ClickHouse, collector, Prometheus).
up: plugin
	docker compose -f deploy/docker-compose.yml up -d --build

down:
	docker compose -f deploy/docker-compose.yml down

clean:
	rm -rf bin plugin/dist
