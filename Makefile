# Makefile - builds libgusto, the gusto CLI and gusto-sandbox; runs the tests.
#
#   make            build everything into build/
#   make test       the whole suite (what CI runs): normal build, then ASan+UBSan
#   make demo       install missing packages, build, start the sandbox, use it
#   make san        build with AddressSanitizer + UBSan into build-san/
#   make lint       refuse banned string functions
#   make fuzz       libFuzzer (clang) on every parser, FUZZ_SECONDS (60) each; crashes
#                   land in tests/fuzz-regressions/TARGET/, replayed by make test
#   make soak       2 x 1,000 employees through a sandbox injecting 10% faults
#   make bench      benchmarks against Gusto's SDK, Prism and a bare server (bench-quick: < 60 s)
#   make install PREFIX=/usr/local

PREFIX  ?= /usr/local
BUILD   ?= build
CC      ?= cc
OPT     ?= -O2 -g
SAN_FLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

PKGS    = libmicrohttpd sqlite3 jansson libcrypto
CPPFLAGS += -D_GNU_SOURCE -Iinclude -Isrc
CFLAGS  += -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wformat=2 \
           -Wno-format-nonliteral $(OPT) $(shell pkg-config --cflags $(PKGS)) \
           $(shell pkg-config --cflags libpq)
LDLIBS  += $(shell pkg-config --libs $(PKGS)) -lpthread -lm
ifeq ($(SAN),1)
CFLAGS  += $(SAN_FLAGS)
LDFLAGS += $(SAN_FLAGS)
endif

SANDBOX_SRC = $(wildcard src/sandbox/*.c)
SANDBOX_OBJ = $(SANDBOX_SRC:%.c=$(BUILD)/%.o)
LIB_SRC     = $(wildcard src/lib/*.c)
LIB_OBJ     = $(LIB_SRC:%.c=$(BUILD)/pic/%.o)
CLI_SRC     = $(wildcard src/cli/*.c)
CLI_OBJ     = $(CLI_SRC:%.c=$(BUILD)/%.o)
# gusto sync / gusto profile: the mirror store (SQLite, PostgreSQL), engine, sinks.
SYNC_SRC    = $(wildcard src/sync/*.c)
SYNC_OBJ    = $(SYNC_SRC:%.c=$(BUILD)/%.o)
# gusto serve: the HTTP service for workflow engines and Gusto webhooks.
SERVE_SRC   = $(wildcard src/serve/*.c)
SERVE_OBJ   = $(SERVE_SRC:%.c=$(BUILD)/%.o)
SYNC_LIBS   = $(shell pkg-config --libs libpq libcurl)
LIB_LIBS    = $(shell pkg-config --libs libcurl jansson yajl sqlite3 libcrypto)
TEST_BINS   = $(BUILD)/tests/sandbox_test $(BUILD)/tests/lib_test $(BUILD)/tests/oauth_test $(BUILD)/tests/batches_test \
              $(BUILD)/tests/hostile_test
VERSION     = 0.1.0

all: $(BUILD)/gusto-sandbox $(BUILD)/libgusto.a $(BUILD)/libgusto.so $(BUILD)/gusto $(TEST_BINS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/pic/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -fPIC -fvisibility=hidden -DGUSTO_BUILDING -MMD -MP -c -o $@ $<

$(BUILD)/gusto-sandbox: $(SANDBOX_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(shell pkg-config --libs libcurl)

$(BUILD)/libgusto.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/libgusto.so: $(LIB_OBJ)
	$(CC) $(LDFLAGS) -shared -Wl,-soname,libgusto.so.0 -o $@ $^ $(LIB_LIBS)

$(BUILD)/gusto: $(CLI_OBJ) $(SYNC_OBJ) $(SERVE_OBJ) $(BUILD)/libgusto.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LIB_LIBS) $(SYNC_LIBS) $(LDLIBS)

$(BUILD)/tests/sandbox_test: $(BUILD)/tests/sandbox_test.o $(BUILD)/tests/testutil.o
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(shell pkg-config --libs libcurl)

$(BUILD)/tests/batches_test: $(BUILD)/tests/batches_test.o $(BUILD)/tests/testutil.o
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(shell pkg-config --libs libcurl)

$(BUILD)/tests/oauth_test: $(BUILD)/tests/oauth_test.o $(BUILD)/tests/testutil.o
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(shell pkg-config --libs libcurl)

$(BUILD)/tests/hostile_test: $(BUILD)/tests/hostile_test.o $(BUILD)/tests/testutil.o
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(shell pkg-config --libs libcurl)

$(BUILD)/tests/lib_test: $(BUILD)/tests/lib_test.o $(BUILD)/tests/testutil.o $(BUILD)/libgusto.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(LIB_LIBS)

deps:
	./scripts/deps.sh

test: deps
	./tests/run.sh

san:
	$(MAKE) SAN=1 BUILD=build-san all

demo: deps all
	./scripts/demo.sh

# make bench: bench/run.sh, results in docs/performance.md; bench-quick: the same, smaller, < 60 s
BENCH_BINS = $(BUILD)/bench/client_bench $(BUILD)/bench/proc_time $(BUILD)/bench/bare_server \
             $(BUILD)/bench/curl_once

$(BUILD)/bench/client_bench: $(BUILD)/bench/client_bench.o $(BUILD)/libgusto.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LIB_LIBS) $(LDLIBS)

$(BUILD)/bench/proc_time: $(BUILD)/bench/proc_time.o
	$(CC) $(LDFLAGS) -o $@ $^

$(BUILD)/bench/curl_once: $(BUILD)/bench/curl_once.o
	$(CC) $(LDFLAGS) -o $@ $^ $(shell pkg-config --libs libcurl)

$(BUILD)/bench/bare_server: $(BUILD)/bench/bare_server.o
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

bench: deps all $(BENCH_BINS)
	./bench/run.sh

bench-quick: deps all $(BENCH_BINS)
	./bench/run.sh --quick

# make fuzz: libFuzzer harnesses (clang) in build-fuzz/, each run FUZZ_SECONDS (60);
# FUZZ_TARGETS="input csv sandbox callback response serve" picks some.
fuzz: deps
	./fuzz/run.sh

# make soak: 2 x 1,000 employees through a sandbox injecting 10% faults (< 10 min)
soak: deps all
	./tests/soak.sh

.PHONY: fuzz soak

lint:
	@! grep -nE '\b(strcpy|strcat|sprintf|vsprintf|strtok|atoi|atol|gets)\s*\(' \
	    $$(find src include tests bench fuzz -name '*.c' -o -name '*.h') || \
	    { echo "lint: banned function above" >&2; exit 1; }
	@echo "lint: ok"

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig \
	    $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/share/man/man1 \
	    $(DESTDIR)$(PREFIX)/share/bash-completion/completions
	install -m 755 $(BUILD)/gusto $(BUILD)/gusto-sandbox $(DESTDIR)$(PREFIX)/bin/
	install -m 644 include/gusto.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 $(BUILD)/libgusto.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(BUILD)/libgusto.so $(DESTDIR)$(PREFIX)/lib/libgusto.so.$(VERSION)
	ln -sf libgusto.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libgusto.so.0
	ln -sf libgusto.so.0 $(DESTDIR)$(PREFIX)/lib/libgusto.so
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' gusto.pc.in \
	    > $(DESTDIR)$(PREFIX)/lib/pkgconfig/gusto.pc
	install -m 644 man/gusto.1 man/gusto-sandbox.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 completions/gusto.bash \
	    $(DESTDIR)$(PREFIX)/share/bash-completion/completions/gusto

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/gusto $(DESTDIR)$(PREFIX)/bin/gusto-sandbox \
	    $(DESTDIR)$(PREFIX)/include/gusto.h $(DESTDIR)$(PREFIX)/lib/libgusto.* \
	    $(DESTDIR)$(PREFIX)/lib/pkgconfig/gusto.pc \
	    $(DESTDIR)$(PREFIX)/share/man/man1/gusto.1 \
	    $(DESTDIR)$(PREFIX)/share/man/man1/gusto-sandbox.1 \
	    $(DESTDIR)$(PREFIX)/share/bash-completion/completions/gusto

clean:
	rm -rf build build-san build-fuzz

.PHONY: all deps test san demo lint bench bench-quick install uninstall clean
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
