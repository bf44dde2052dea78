# dispatchd: emergency response dispatch engine for the Zhongshan 110 centre.
# CGO must stay enabled: geo uses H3 through cgo.
export CGO_ENABLED := 1
GO ?= go
GOLANGCI_VERSION ?= v2.15.0
BENCH_COUNT ?= 5
# drill replay benchmark: days replayed in memory (365 = the synthetic year) and with PostgreSQL
DRILL_BENCH_DAYS ?= 365
DRILL_BENCH_PG_DAYS ?= 1

.PHONY: run test bench lint fuzz soak build clean

## run: start the engine with embedded defaults (in-process Kafka on 127.0.0.1:9092, in-memory state)
run:
	$(GO) run ./cmd/dispatchd serve

build:
	$(GO) build -o bin/dispatchd ./cmd/dispatchd

## test: every test (PostgreSQL at 127.0.0.1:5432 is used where available; CI=true makes it mandatory)
test:
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 20m ./...

## bench: every benchmark figure quoted in docs/benchmarks.md
bench:
	$(GO) test -run '^$$' -bench 'BenchmarkRank' -benchtime 2000x -count $(BENCH_COUNT) ./dispatch/ | tee bench-rank.txt
	$(GO) test -run '^$$' -bench 'BenchmarkRankPostGIS' -benchtime 200x -count 3 ./dispatch/pgstore/ || true
	$(GO) test -run '^$$' -bench . -benchtime 3x -count 1 ./dispatch/kafkaio/ ./dispatch/pgstore/ ./resources/ ./cmd/dispatchd/
	DRILL_BENCH_DAYS=$(DRILL_BENCH_DAYS) DRILL_BENCH_PG_DAYS=$(DRILL_BENCH_PG_DAYS) $(GO) test -run '^$$' -bench 'BenchmarkReplay' -benchtime 1x -count 1 -timeout 60m ./dispatch/drill/ | tee bench-drill.txt

## fuzz: each fuzz target for a short fixed budget: FUZZTIME (default 10s) for the decoders,
## FUZZTIME_SCENARIO (default FUZZTIME) for the much slower scenario loader. CI gives counts (Nx):
## a duration races the fuzz coordinator's deadline on a loaded machine (golang/go#75804, fixed in Go 1.27)
FUZZTIME ?= 10s
FUZZTIME_SCENARIO ?= $(FUZZTIME)
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeIncident$$' -fuzztime $(FUZZTIME) ./dispatch/wire/
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeUnitEvent$$' -fuzztime $(FUZZTIME) ./dispatch/wire/
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeClientMessage$$' -fuzztime $(FUZZTIME) ./web/
	$(GO) test -run '^$$' -fuzz '^FuzzParseScenario$$' -fuzztime $(FUZZTIME_SCENARIO) ./dispatch/scenario/

## soak: the long fault tests of docs/reliability.md (20 SIGKILLs, 5 broker restarts, 40 broker-cluster faults, 20,000-incident
## streams, the known-bug cases); SEED=n changes the random fault points
soak:
	SOAK=1 $(GO) test -count=1 -timeout 90m -v -run 'TestKillEngine|TestPostgresOutage|TestBrokerRestart|TestTwoInstances|TestConsolesReconnect|TestStaleUnitReports|TestRestartMidStream|TestBrokerCluster' ./cmd/dispatchd/

## lint: pinned golangci-lint v2 (gosec, errcheck, staticcheck)
lint:
	$(GO) run github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_VERSION) run ./...

clean:
	rm -rf bin bench-*.txt
