# Nedry: one Makefile for the filter, its host harness and the nedry command.
# Needs Go (>= 1.25) and nothing else.

GO            ?= go
WASM_ENV      := GOOS=wasip1 GOARCH=wasm
WASM_FLAGS    := -buildmode=c-shared -trimpath -ldflags='-s -w'
BUILD         := build
GUEST_DIRS    := $(wildcard host-test/testdata/guests/*)
GUESTS        := $(patsubst host-test/testdata/guests/%,$(BUILD)/guests/%.wasm,$(GUEST_DIRS))
FUZZTIME      ?= 10s
# host-test's fuzz targets run the compiled filter: every fuzz worker compiles
# the module and replays the whole corpus before fuzzing, which took 7 s of a
# 10 s -fuzztime on a quiet 2-core machine and more than 10 s (a failed run:
# context deadline exceeded) on a busy one, so they get more time.
HOST_FUZZTIME ?= 25s
# Short soak in make test; make soak runs the full million requests.
SOAK_REQUESTS ?= 100000

.PHONY: all build guests cguests test bench base run command e2e fmt lint soak ecds push package coldstart clean

all: build

## build: compile the filter into build/nedry.wasm and print its size
build: $(BUILD)/nedry.wasm
	@printf 'build/nedry.wasm: %s bytes\n' "$$(wc -c < $(BUILD)/nedry.wasm | tr -d ' ')"

$(BUILD)/nedry.wasm: go.mod go.sum $(shell find filter -name '*.go' 2>/dev/null)
	@mkdir -p $(BUILD)
	$(WASM_ENV) $(GO) build $(WASM_FLAGS) -o $@ ./filter

## guests: the host harness's tiny test guests and the no-op floor guest
guests: $(GUESTS)

$(BUILD)/guests/%.wasm: host-test/testdata/guests/%/*.go host-test/testdata/guestabi/*.go
	@mkdir -p $(BUILD)/guests
	$(WASM_ENV) $(GO) build $(WASM_FLAGS) -o $@ ./host-test/testdata/guests/$*

## cguests: rebuild the C reference guests of the benchmarks with clang and lld
## (Debian: apt-get install clang lld). Their .wasm files are committed, so
## nothing else needs a C toolchain: CI and make bench never run this.
CGUESTS_DIR := host-test/testdata/cguests
CLANG       ?= clang
CGUEST_FLAGS := --target=wasm32-unknown-unknown -O2 -nostdlib -ffreestanding \
	-Wall -Wextra -Werror -Wno-unused-parameter -Wl,--no-entry -Wl,--strip-all
cguests:
	$(CLANG) $(CGUEST_FLAGS) -o $(CGUESTS_DIR)/noop.wasm $(CGUESTS_DIR)/noop.c $(CGUESTS_DIR)/common.c
	$(CLANG) $(CGUEST_FLAGS) -o $(CGUESTS_DIR)/prefix.wasm $(CGUESTS_DIR)/prefix.c $(CGUESTS_DIR)/common.c
	@wc -c $(CGUESTS_DIR)/*.wasm

## test: the one test command (unit, wasm behaviour, validation, short fuzz and soak)
test: build guests
	NEDRY_SOAK_REQUESTS=$(SOAK_REQUESTS) $(GO) test -count=1 -timeout 20m ./...
	@for t in $$($(GO) test -list '^Fuzz' ./host-test/ | grep '^Fuzz'); do \
		echo "fuzz $$t ($(HOST_FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(HOST_FUZZTIME) ./host-test/ || exit 1; \
	done
	@for p in $$($(GO) list ./filter/...); do \
		for t in $$($(GO) test -list '^Fuzz' $$p | grep '^Fuzz'); do \
			echo "fuzz $$p $$t ($(FUZZTIME))"; \
			$(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$p || exit 1; \
		done; \
	done

## soak: the full soak (1,000,000 requests with resets and config pushes)
soak: build guests
	NEDRY_SOAK_REQUESTS=1000000 $(GO) test -count=1 -timeout 60m -run 'Soak' ./host-test/

## bench: benchmarks against the no-op floor guest, the C reference guests and
## the module of the previous commit (BASE_REF, built into build/base), median
## of BENCHCOUNT runs, printed as a table
BENCHCOUNT ?= 3
BASE_REF   ?= HEAD~1
BASE_WASM  := $(BUILD)/base/nedry.wasm
bench: build guests base
	base=$$(test -f $(BASE_WASM) && echo "$(CURDIR)/$(BASE_WASM)"); \
	NEDRY_BASE_WASM=$$base NEDRY_BASELINE_WASM=$$base \
		$(GO) test -run '^$$' -bench . -benchmem -count $(BENCHCOUNT) -timeout 60m ./host-test/... | tee $(BUILD)/bench.txt
	$(GO) run ./host-test/benchtable -wasm $(BUILD)/nedry.wasm < $(BUILD)/bench.txt

## base: build the filter as of BASE_REF (default: the previous commit) into
## build/base/nedry.wasm, from git archive, for make bench to compare with.
## Without git or that commit, or when it does not build, it says so, and
## make bench runs without it.
base:
	@rm -rf $(BUILD)/base && mkdir -p $(BUILD)/base/src
	@if git rev-parse -q --verify '$(BASE_REF)^{commit}' >/dev/null 2>&1; then \
		if git archive '$(BASE_REF)' go.mod go.sum filter | tar -x -C $(BUILD)/base/src && \
			(cd $(BUILD)/base/src && $(WASM_ENV) $(GO) build $(WASM_FLAGS) -o ../nedry.wasm ./filter); then \
			printf 'build/base/nedry.wasm: %s as of %s\n' "$$(git rev-parse --short '$(BASE_REF)')" '$(BASE_REF)'; \
		else \
			rm -f $(BASE_WASM); \
			echo "base: the filter as of $(BASE_REF) does not build (above): the comparisons with it are skipped"; \
		fi; \
	else \
		echo "base: no commit $(BASE_REF) here: the comparisons with the previous module are skipped"; \
	fi
	@rm -rf $(BUILD)/base/src

## run: the local chaos proxy with the demo upstream and examples/quickstart.json
## (CONFIG=FILE runs another configuration). One line per phase. The filter
## and the command build side by side (make -j2): a first run spends most of its time compiling Go's standard library
## for wasip1 and for the host, each build serial at its start (the runtime
## package) and its end, so two builds keep both cores busy where one leaves
## one idle (see the README for what it costs). The command is built without
## `nedry package` (tag nedry_nopackage: no go-containerregistry) and run with
## exec, so stopping make stops the proxy. RUN_ARGS adds flags to nedry run.
RUN_ARGS ?=
# CONFIG is also make push's, which requires it: no default of its own.
RUN_CONFIG = $(or $(CONFIG),examples/quickstart.json)
run:
	@echo "make run [1/2] build: build/nedry.wasm and build/nedry side by side (first run: downloads wazero, gjson and yaml, compiles Go's standard library twice, for wasip1 and for this machine, and wazero)"
	@$(MAKE) --no-print-directory -j2 build command
	@echo "make run [2/2] start: build/nedry run --demo --config $(RUN_CONFIG) $(RUN_ARGS)"
	@exec $(BUILD)/nedry run --demo --config $(RUN_CONFIG) --wasm $(BUILD)/nedry.wasm $(RUN_ARGS)

## command: build/nedry as make run builds it: without nedry package (tag
## nedry_nopackage), without cgo (CGO_ENABLED=0: Go's own DNS resolver; a
## machine without a C compiler builds the same binary) and without debug
## information (no DWARF from the compiler, no symbol table from the linker;
## stack traces keep their function names and lines). Measured from empty
## caches, make run's command: runtime/cgo and net's C files cost 2 to 4 s
## of CPU, DWARF about 8 s of 70 (the interpreter of wazero 30 %), and the
## link takes 0.5 s instead of 0.95 s, at the end of the build where nothing
## else runs.
NEDRY_RUN_TAGS  := nedry_nopackage
NEDRY_RUN_FLAGS := -gcflags=all=-dwarf=false -ldflags='-s -w'
command:
	@mkdir -p $(BUILD)
	CGO_ENABLED=0 $(GO) build -tags $(NEDRY_RUN_TAGS) $(NEDRY_RUN_FLAGS) -o $(BUILD)/nedry ./host-test/cmd/nedry
	@printf '$(BUILD)/nedry: %s bytes\n' "$$(wc -c < $(BUILD)/nedry | tr -d ' ')"

## coldstart: measure make run from empty module and build caches (temporary
## directories, removed after): wall and CPU time until the proxy listens,
## then the same warm
coldstart:
	@sh scripts/coldstart.sh

## e2e: the real-Envoy end-to-end test (skips with a message when no envoy binary is found)
e2e: build
	$(GO) test -count=1 -tags e2e -v -timeout 10m ./envoy/

## ecds: the ECDS file envoy/ecds/envoy.yaml watches, ECDS (default
## build/ecds/nedry-filter.yaml), copied from the template envoy/ecds/nedry-filter.yaml
## when missing; run it before starting Envoy
ECDS ?= $(BUILD)/ecds/nedry-filter.yaml
ecds: build
	@mkdir -p $(dir $(ECDS))
	@if [ ! -f $(ECDS) ]; then cp envoy/ecds/nedry-filter.yaml $(ECDS) && echo "$(ECDS): copied from envoy/ecds/nedry-filter.yaml"; fi

## push: check CONFIG and atomically replace the ECDS file a running Envoy watches
## (ECDS, default build/ecds/nedry-filter.yaml; the shipped template is never written)
ifneq ($(filter push,$(MAKECMDGOALS)),)
ifeq ($(CONFIG),)
$(error make push: set CONFIG to the configuration to push, for example make push CONFIG=examples/latency-jitter.json)
endif
endif
push: ecds
	$(GO) run ./host-test/cmd/nedry push --wasm $(BUILD)/nedry.wasm --config $(CONFIG) --ecds $(ECDS)

## package: build/nedry.wasm as an OCI image for Istio's WasmPlugin, without Docker:
##   an OCI image layout in OUT (default build/nedry-oci, TAG names it), or
##   pushed to PUSH=REGISTRY/REPOSITORY:TAG with the docker login credentials;
##   FORMAT=artifact makes the Wasm OCI artifact instead of the plain image
OUT    ?= $(BUILD)/nedry-oci
FORMAT ?= image
package: build
ifeq ($(PUSH),)
	@# The default layout is rebuilt whole, so replaced images leave no blobs behind.
	@if [ "$(OUT)" = "$(BUILD)/nedry-oci" ]; then rm -rf "$(OUT)"; fi
	$(GO) run ./host-test/cmd/nedry package --wasm $(BUILD)/nedry.wasm --format $(FORMAT) --out $(OUT) $(if $(TAG),--tag $(TAG))
else
	$(GO) run ./host-test/cmd/nedry package --wasm $(BUILD)/nedry.wasm --format $(FORMAT) --push $(PUSH)
endif

fmt:
	gofmt -w $$(git ls-files '*.go')

lint:
	$(GO) vet ./...
	$(WASM_ENV) $(GO) vet ./filter/...

clean:
	rm -rf $(BUILD)
