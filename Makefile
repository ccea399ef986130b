# loci - build, run and test. See README.md.
#
#   make                 build ./loci (release build in build/rel)
#   make run             install what is missing, build, serve the embedded default
#   make test            install what is missing, build, run every test
#   make SANITIZE=address,undefined test    the same under ASan+UBSan (build/san)
#   make unit            only the unit tests
#   make fuzz            build the libFuzzer harnesses (clang) and run each for FUZZ_TIME seconds
#   make SANITIZE=thread tsan    the server suites under ThreadSanitizer (build/tsan)
#   make format          apply .clang-format
#   make bench           the benchmark (bench/run.sh, docs/benchmarks.md); bench-quick for development

CC      ?= cc
SANITIZE ?=
WERROR  ?= -Werror

WARN    = -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 \
          -Wvla -Wwrite-strings -Wcast-qual
# libh2o 2.2.5's pkg-config file does not add this; its headers need it for the evloop build.
DEFS    = -D_GNU_SOURCE -DH2O_USE_LIBUV=0
OPT     ?= -O2
# libpq's headers live in their own directory (Debian: /usr/include/postgresql)
PQ_INC  := $(shell pg_config --includedir 2>/dev/null || echo /usr/include/postgresql)
CFLAGS  += -std=c17 $(OPT) -g $(WARN) $(WERROR) $(DEFS) -Isrc -I$(PQ_INC) -MMD -MP
LDLIBS  = -lh2o-evloop -lsqlite3 -lpq -lcurl -ljansson -lyaml -lssl -lcrypto -lz -lpthread -lm

ifeq ($(SANITIZE),thread)
BUILD   = build/tsan
CFLAGS  += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer
LDFLAGS += -fsanitize=$(SANITIZE)
else ifneq ($(SANITIZE),)
BUILD   = build/san
CFLAGS  += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=$(SANITIZE)
else
BUILD   = build/rel
endif

SRC      := $(shell find src -name '*.c' | sort)
LIB_SRC  := $(filter-out src/main.c,$(SRC))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC := $(shell find tests/unit -name '*.c' | sort)
UNIT_OBJ := $(UNIT_SRC:%.c=$(BUILD)/%.o)
TOOL_SRC := $(wildcard tests/tools/*.c)
TOOLS    := $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tools/%)
BIN      := $(BUILD)/loci

.PHONY: all deps deps-test run test unit tools format clean fuzz fuzz-build fuzz-harnesses fuzz-merge tsan bench bench-quick
all: loci

loci: $(BIN)
	@[ -n "$(SANITIZE)" ] || ln -sf $(BIN) loci

deps:
	@scripts/deps.sh build

deps-test:
	@scripts/deps.sh test

$(BUILD)/lib.a: $(LIB_OBJ)
	@rm -f $@
	@ar rcs $@ $^

$(BIN): $(BUILD)/src/main.o $(BUILD)/lib.a
	@echo "  LD $@"
	@$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/unit-tests: $(UNIT_OBJ) $(BUILD)/lib.a
	@echo "  LD $@"
	@$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tools/%: tests/tools/%.c $(BUILD)/lib.a
	@mkdir -p $(dir $@)
	@echo "  LD $@"
	@$(CC) $(CFLAGS) -Itests $(LDFLAGS) -o $@ $< $(BUILD)/lib.a $(LDLIBS)

$(BUILD)/tests/%.o: tests/%.c
	@mkdir -p $(dir $@)
	@echo "  CC $<"
	@$(CC) $(CFLAGS) -Itests -c -o $@ $<

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC $<"
	@$(CC) $(CFLAGS) -c -o $@ $<

tools: $(TOOLS)

# the HTTP stack's ceiling for `make bench`: a hello-world on the same libh2o
$(BUILD)/hello: bench/hello.c
	@mkdir -p $(dir $@)
	@echo "  LD $@"
	@$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< -lh2o-evloop -lssl -lcrypto -lz -lpthread

# nanoseconds per signed URL, per provider (printed by `make bench`)
$(BUILD)/signbench: bench/signbench.c $(BUILD)/lib.a
	@mkdir -p $(dir $@)
	@echo "  LD $@"
	@$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/lib.a $(LDLIBS)

bench:
	@BUILD=$(BUILD) bench/run.sh

bench-quick:
	@BUILD=$(BUILD) BENCH_QUICK=1 bench/run.sh

run: deps
	@$(MAKE) --no-print-directory loci
	./loci serve $(ARGS)

unit: $(BUILD)/unit-tests
	$(BUILD)/unit-tests

test: deps-test
	@$(MAKE) --no-print-directory $(BIN) $(BUILD)/unit-tests tools
	@[ -n "$(SANITIZE)" ] || $(MAKE) --no-print-directory fuzz-build
	@LOCI_BIN=$(CURDIR)/$(BIN) LOCI_BUILD=$(CURDIR)/$(BUILD) \
	    LOCI_FUZZ_BUILD=$(if $(SANITIZE),,$(CURDIR)/$(FUZZ_BUILD)/fuzz) tests/run.sh

# --- fuzzing: libFuzzer harnesses tests/fuzz/<name>.c with corpora in tests/fuzz/corpus/<name>/ ---
# The project's objects are compiled again with clang into FUZZ_BUILD (-fsanitize=fuzzer-no-link
# plus ASan and UBSan) and each harness links them with libFuzzer. `make test` runs every harness
# briefly (tests/fuzz/run.sh); `make fuzz` runs each for FUZZ_TIME seconds and keeps what it finds
# in FUZZ_BUILD/work (new corpus entries, crash-<name>-* inputs). FUZZERS="enc sigv4" picks some.
FUZZ_BUILD ?= build/fuzz
FUZZ_TIME  ?= 60
FUZZ_NAMES := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/*.c))
FUZZERS    ?= $(FUZZ_NAMES)

fuzz-build: deps-test
	@$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) CC=clang SANITIZE=fuzzer-no-link,address,undefined fuzz-harnesses

fuzz-harnesses: $(FUZZ_NAMES:%=$(BUILD)/fuzz/%)

$(BUILD)/fuzz/%: tests/fuzz/%.c $(BUILD)/lib.a
	@mkdir -p $(dir $@)
	@echo "  LD $@"
	@$(CC) $(CFLAGS) -Itests -Itests/fuzz -fsanitize=fuzzer -o $@ $< $(BUILD)/lib.a $(LDLIBS)

fuzz: fuzz-build
	@LOCI_FUZZ_BUILD=$(CURDIR)/$(FUZZ_BUILD)/fuzz LOCI_FUZZ_WORK=$(CURDIR)/$(FUZZ_BUILD)/work tests/fuzz/run.sh $(FUZZ_TIME) $(FUZZERS)

# Adds to the committed corpora only the inputs from `make fuzz` that reach new coverage.
fuzz-merge: fuzz-build
	@for n in $(FUZZERS); do [ -d $(FUZZ_BUILD)/work/corpus/$$n ] || continue; \
	    $(FUZZ_BUILD)/fuzz/$$n -merge=1 tests/fuzz/corpus/$$n $(FUZZ_BUILD)/work/corpus/$$n 2>&1 | tail -n 1; done

# --- ThreadSanitizer: the suites that drive the server's threads (docs/testing.md) ---
TSAN_SUITES ?= unit e2e_api e2e_server e2e_audit e2e_cli
tsan:
	@[ "$(SANITIZE)" = thread ] || { echo "use: make SANITIZE=thread tsan" >&2; exit 2; }
	@$(MAKE) --no-print-directory deps-test $(BIN) $(BUILD)/unit-tests tools
	@LOCI_BIN=$(CURDIR)/$(BIN) LOCI_BUILD=$(CURDIR)/$(BUILD) TESTS="$(TSAN_SUITES)" tests/run.sh

format:
	clang-format -i $(SRC) $(UNIT_SRC) $(TOOL_SRC) $(shell find src tests -name '*.h')

clean:
	rm -rf build loci

-include $(shell find build -name '*.d' 2>/dev/null)
