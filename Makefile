# knit - build, test, fuzz and benchmark.  `make deps` once, then `make test`.
CC       ?= cc
PKGS     := libarchive jansson libpcre2-8 zlib libcrypto libisal
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CHECK_LIBS = $(shell pkg-config --libs check 2>/dev/null)
WARN     := -Wall -Wextra -Werror
OPT      ?= -O2 -g
CFLAGS_ALL = -std=c11 -D_GNU_SOURCE $(WARN) $(OPT) $(PKG_CFLAGS) $(EXTRA_CFLAGS) $(CFLAGS)
# libei (erl_interface) from the OTP installation: knit is a hidden C node for node commands
EI_DIR   := $(lastword $(sort $(wildcard /usr/lib/erlang/lib/erl_interface-*)))
CFLAGS_ALL += -I$(EI_DIR)/include
LDLIBS_ALL = $(PKG_LIBS) -L$(EI_DIR)/lib -lei -lpthread -lm $(EXTRA_LDFLAGS)
# knit itself is not linked against libarchive, libcrypto and libisal: knit/lazylib.c loads them when
# a command first uses them (the tests and fuzz targets link them, and may call them too)
LAZY_PKGS  := libarchive libcrypto libisal
KNIT_LIBS  = $(shell pkg-config --libs $(filter-out $(LAZY_PKGS),$(PKGS)) 2>/dev/null) \
	-L$(EI_DIR)/lib -lei -lpthread -lm $(EXTRA_LDFLAGS)
ifeq ($(EI_DIR),)
ifeq ($(filter deps clean,$(MAKECMDGOALS)),)
$(error no libei: /usr/lib/erlang/lib/erl_interface-*/ is missing; run 'make deps' (erlang-dev))
endif
endif

BUILD    ?= build
LIB_SRC  := $(filter-out knit/main.c,$(wildcard knit/*.c))
LIB_OBJ  := $(LIB_SRC:knit/%.c=$(BUILD)/obj/%.o)
UNIT_SRC := $(wildcard tests/check_*.c)
UNIT_BIN := $(UNIT_SRC:tests/%.c=$(BUILD)/tests/%)
TOOL_SRC := $(wildcard tests/tool_*.c)
TOOL_BIN := $(TOOL_SRC:tests/%.c=$(BUILD)/tests/%)

# Debian packages the project needs: compilers, -dev libraries, Check, OTP for the tests.
DEB_PKGS := build-essential pkg-config clang libclang-rt-14-dev libarchive-dev \
	libjansson-dev libpcre2-dev zlib1g-dev libssl-dev libisal-dev check hyperfine time git jq rebar3 \
	erlang-base erlang-dev erlang-src erlang-tools erlang-reltool erlang-nox

.PHONY: all deps check-deps test unit-bins unit-test asan-test fuzz fuzz-bins bench demo \
	clean install
PREFIX   ?= /usr/local
# The binary is build/knit: ./knit is the source directory.
all: $(BUILD)/knit

$(BUILD)/obj/%.o: knit/%.c $(wildcard knit/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

$(BUILD)/libknit.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/knit: $(BUILD)/obj/main.o $(BUILD)/libknit.a
	$(CC) $(CFLAGS_ALL) -o $@ $^ $(KNIT_LIBS)

$(BUILD)/tests/%: tests/%.c $(BUILD)/libknit.a $(wildcard tests/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Iknit -o $@ $< $(BUILD)/libknit.a $(CHECK_LIBS) $(LDLIBS_ALL)

# deps: install what is missing, do nothing when everything is present
deps:
	@missing=$$(for p in $(DEB_PKGS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "make deps: installing" $$missing; \
		SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

# check-deps: name what is missing and stop (make deps installs; the tests never do)
check-deps:
	@missing=$$(for p in $(DEB_PKGS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "missing Debian packages:" $$missing; echo "run 'make deps' to install them"; exit 1; \
	fi; \
	root=$$(erl -noshell -eval 'io:format("~s", [code:root_dir()]), halt().' 2>/dev/null); \
	if [ -z "$$root" ] || { [ ! -f "$$root/usr/include/ei.h" ] && \
		! ls "$$root"/lib/erl_interface-*/include/ei.h >/dev/null 2>&1; }; then \
		echo "missing: OTP's erl_interface headers (ei.h, package erlang-dev)"; \
		echo "run 'make deps' to install them"; exit 1; \
	fi

test: check-deps
	$(MAKE) --no-print-directory unit-bins
	KNIT_BUILD=$(BUILD) tests/run.sh

# unit-test: the Check suites only
unit-test: check-deps
	$(MAKE) --no-print-directory unit-bins
	@fails=0; for t in $(UNIT_BIN); do echo "== $$(basename $$t)"; $$t || fails=1; done; \
	[ $$fails = 0 ]

unit-bins: $(BUILD)/knit $(UNIT_BIN) $(TOOL_BIN)

ASAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
asan-test: check-deps
	$(MAKE) --no-print-directory BUILD=build-asan OPT="-O1 -g" \
		EXTRA_CFLAGS="$(ASAN_FLAGS)" EXTRA_LDFLAGS="$(ASAN_FLAGS)" unit-bins
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
		KNIT_BUILD=build-asan KNIT_SANITIZED=1 tests/run.sh

# fuzz: libFuzzer targets tests/fuzz/fuzz_*.c (text parser, ETF decoder, beam reader) built
# with clang into build-fuzz/, then tests/fuzz/run.sh runs each for FUZZ_S seconds
FUZZ_S ?= 60
FUZZ_FLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
FUZZ_BIN := $(patsubst tests/fuzz/%.c,build-fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))
fuzz:
	$(MAKE) --no-print-directory BUILD=build-fuzz CC=clang OPT="-O1 -g" \
		EXTRA_CFLAGS="$(FUZZ_FLAGS)" EXTRA_LDFLAGS="-fsanitize=address,undefined" \
		fuzz-bins
	FUZZ_S=$(FUZZ_S) tests/fuzz/run.sh

fuzz-bins: $(FUZZ_BIN)

build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c build-fuzz/libknit.a
	$(CC) $(CFLAGS_ALL) -Iknit -fsanitize=fuzzer -o $@ $< build-fuzz/libknit.a $(LDLIBS_ALL)

bench: $(BUILD)/knit
	KNIT_BUILD=$(BUILD) bench/run.sh

demo: $(BUILD)/knit
	KNIT_BUILD=$(BUILD) tests/demo.sh

# install: the binary, the templates it renders (found as ../share/knit/templates) and the
# man page
install: $(BUILD)/knit
	install -D -m 0755 $(BUILD)/knit $(DESTDIR)$(PREFIX)/bin/knit
	install -D -m 0644 knit.1 $(DESTDIR)$(PREFIX)/share/man/man1/knit.1
	install -d $(DESTDIR)$(PREFIX)/share/knit/templates
	install -m 0644 templates/* $(DESTDIR)$(PREFIX)/share/knit/templates/

# knit.1: the man page, generated from README.md (committed; tests/t_house.sh checks it)
knit.1: README.md knit/main.c tools/readme2man.sh
	tools/readme2man.sh >$@.tmp && mv $@.tmp $@

clean:
	rm -rf build build-asan build-fuzz
