# loci - build, run and test. See README.md.
#
#   make                 build ./loci (release build in build/rel)
#   make run             install what is missing, build, serve the embedded default
#   make test            install what is missing, build, run every test
#   make SANITIZE=address,undefined test    the same under ASan+UBSan (build/san)
#   make unit            only the unit tests
#   make format          apply .clang-format

CC      ?= cc
SANITIZE ?=
WERROR  ?= -Werror

WARN    = -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 \
          -Wvla -Wwrite-strings -Wcast-qual
# libh2o 2.2.5's pkg-config file does not add this; its headers need it for the evloop build.
DEFS    = -D_GNU_SOURCE -DH2O_USE_LIBUV=0
OPT     ?= -O2
CFLAGS  += -std=c17 $(OPT) -g $(WARN) $(WERROR) $(DEFS) -Isrc -MMD -MP
LDLIBS  = -lh2o-evloop -lsqlite3 -lcurl -ljansson -lyaml -lssl -lcrypto -lz -lpthread -lm

ifneq ($(SANITIZE),)
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

.PHONY: all deps deps-test run test unit tools format clean
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

run: deps
	@$(MAKE) --no-print-directory loci
	./loci serve $(ARGS)

unit: $(BUILD)/unit-tests
	$(BUILD)/unit-tests

test: deps-test
	@$(MAKE) --no-print-directory $(BIN) $(BUILD)/unit-tests tools
	@LOCI_BIN=$(CURDIR)/$(BIN) LOCI_BUILD=$(CURDIR)/$(BUILD) tests/run.sh

format:
	clang-format -i $(SRC) $(UNIT_SRC) $(TOOL_SRC) $(shell find src tests -name '*.h')

clean:
	rm -rf build loci

-include $(shell find build -name '*.d' 2>/dev/null)
