# dbtail — build, test, fuzz, bench, demo, install.
# `make` builds ./dbtail; `make test` installs what it needs, then runs every test.

PKGS     := libpq libmariadb libcurl jansson zlib libdeflate rdkafka libzstd libmicrohttpd
CC       ?= cc
VERSION  := $(shell cat VERSION)
WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wformat=2 -Wundef -Wvla -Wpointer-arith -Wimplicit-fallthrough -fno-common
CFLAGS   ?= -O2 -g
ALL_CFLAGS = -std=c11 -D_DEFAULT_SOURCE -D_GNU_SOURCE -DDBTAIL_VERSION='"$(VERSION)"' \
             $(WARN) $(CFLAGS) $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm -lpthread
SAN      := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

PREFIX   ?= /usr/local
BINDIR   := $(PREFIX)/bin
MANDIR   := $(PREFIX)/share/man/man1

LIB_SRC  := $(filter-out src/main.c,$(wildcard src/*.c readers/*.c sinks/*.c schemas/*.c))
MAIN_SRC := src/main.c
HDRS     := $(wildcard src/*.h readers/*.h sinks/*.h schemas/*.h)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
HELPER_SRC := $(wildcard tests/lib/*.c)

OBJ      := $(patsubst %.c,build/rel/%.o,$(LIB_SRC) $(MAIN_SRC))
SAN_OBJ  := $(patsubst %.c,build/asan/%.o,$(LIB_SRC))
UNIT_BIN := $(patsubst tests/unit/%.c,build/asan/tests/%,$(UNIT_SRC))
HELPER_BIN := $(patsubst tests/lib/%.c,build/tests/%,$(HELPER_SRC))
REPLAY_BIN := $(patsubst tests/fuzz/%.c,build/asan/fuzz/%,$(FUZZ_SRC))

.PHONY: all test unit deps fuzz bench demo install clean check-format
all: dbtail

dbtail: $(OBJ)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

build/rel/%.o: %.c $(HDRS) VERSION
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(ALL_CFLAGS) -c -o $@ $<

build/asan/%.o: %.c $(HDRS) VERSION
	@mkdir -p $(dir $@)
	@echo "  CC asan $<"
	@$(CC) $(ALL_CFLAGS) -O1 $(SAN) -c -o $@ $<

# The sanitized dbtail is the one the integration tests run.
build/asan/dbtail: $(SAN_OBJ) build/asan/src/main.o
	$(CC) $(ALL_CFLAGS) $(SAN) -o $@ $^ $(LDLIBS)

build/asan/tests/%: tests/unit/%.c tests/unit/unit.c tests/unit/unit.h $(SAN_OBJ)
	@mkdir -p $(dir $@)
	@echo "  LD asan $@"
	@$(CC) $(ALL_CFLAGS) -O1 $(SAN) -o $@ $< tests/unit/unit.c $(SAN_OBJ) $(LDLIBS)

# Each fuzz target, linked with a corpus replayer instead of libFuzzer, for `make test`. Fuzz
# targets ignore results on purpose, which gcc, unlike clang, will not let a (void) cast say.
build/asan/fuzz/%: tests/fuzz/%.c tests/fuzz/replay.c $(SAN_OBJ)
	@mkdir -p $(dir $@)
	@echo "  LD asan $@"
	@$(CC) $(ALL_CFLAGS) -Wno-unused-result -O1 $(SAN) -o $@ $< tests/fuzz/replay.c $(SAN_OBJ) $(LDLIBS)

# Test helpers (e.g. the Kafka mock broker) are tools, not code under test.
build/tests/%: tests/lib/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LDLIBS)

deps:
	@scripts/install-deps.sh

unit: $(UNIT_BIN)

test: deps
	@$(MAKE) --no-print-directory -j$$(nproc) dbtail build/asan/dbtail $(UNIT_BIN) $(REPLAY_BIN) $(HELPER_BIN)
	@tests/run.sh

# libFuzzer targets need clang (`make fuzz`); `make test` replays their corpora (build/asan/fuzz).
FUZZ_BIN := $(patsubst tests/fuzz/%.c,build/fuzz/%,$(FUZZ_SRC))
build/fuzz/%: tests/fuzz/%.c $(LIB_SRC) $(HDRS)
	@mkdir -p $(dir $@)
	clang $(filter-out -Wimplicit-fallthrough,$(ALL_CFLAGS)) -O1 -g -fsanitize=fuzzer,address,undefined \
	    -o $@ $< $(LIB_SRC) $(LDLIBS)

fuzz: deps $(FUZZ_BIN)
	@for f in $(FUZZ_BIN); do \
	    name=$$(basename $$f); \
	    echo "== $$name ($${FUZZ_SECONDS:-60}s)"; \
	    mkdir -p build/fuzz/corpus-$$name; \
	    $$f -max_total_time=$${FUZZ_SECONDS:-60} build/fuzz/corpus-$$name tests/fuzz/corpus/$$name || exit 1; \
	done

bench: deps dbtail $(HELPER_BIN)
	@bench/run.sh $(BENCH)

demo: deps dbtail
	@scripts/demo.sh

install: dbtail
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)
	install -m 0755 dbtail $(DESTDIR)$(BINDIR)/dbtail
	install -m 0644 docs/dbtail.1 $(DESTDIR)$(MANDIR)/dbtail.1

check-format:
	clang-format --dry-run --Werror $(LIB_SRC) $(MAIN_SRC) $(HDRS)

clean:
	rm -rf build dbtail
