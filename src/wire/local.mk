# wire: the sotto-protocol 1 codec (man/sotto-protocol.7) shared by the
# client and the relay. Depends on util and jansson only.
noinst_LIBRARIES += libsottowire.a
libsottowire_a_SOURCES = \
	src/wire/b64.c src/wire/b64.h \
	src/wire/wire.c src/wire/wire.h \
	src/wire/wire_parse.c src/wire/wire_fast.c src/wire/wire_int.h \
	src/wire/wire_build.c src/wire/wire_http.c
libsottowire_a_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)

dist_man_MANS += man/sotto-protocol.7

check_PROGRAMS += tests/test_wire
TESTS += tests/test_wire
tests_test_wire_SOURCES = tests/test_wire.c
tests_test_wire_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(JANSSON_CFLAGS)
tests_test_wire_LDADD = libsottowire.a libsottoutil.a $(JANSSON_LIBS) $(CMOCKA_LIBS)

# The fuzz harness, driven over the seed corpus by a plain main() so that
# make check compiles and exercises it; `make fuzz` runs it under libFuzzer.
check_PROGRAMS += tests/fuzz_wire
TESTS += tests/fuzz_wire
tests_fuzz_wire_SOURCES = tests/fuzz_wire.c
tests_fuzz_wire_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_WIRE_MAIN
tests_fuzz_wire_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_fuzz_wire_LDADD = libsottowire.a libsottoutil.a $(JANSSON_LIBS)
EXTRA_DIST += tests/corpus/wire

FUZZ_SECONDS = 60
fuzz_wire_files = tests/fuzz_wire.c src/wire/b64.c src/wire/wire.c src/wire/wire_parse.c \
	src/wire/wire_build.c src/wire/wire_fast.c src/wire/wire_http.c src/util/err.c \
	src/util/xmalloc.c
fuzz: fuzz-wire
fuzz-wire:
	@test -n "$(CLANG)" || { echo "make fuzz needs clang" >&2; exit 1; }
	$(CLANG) -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -std=gnu11 \
		-I$(top_srcdir) -I$(top_srcdir)/src -I$(top_builddir) $(JANSSON_CFLAGS) \
		-o fuzz-wire-libfuzzer $(addprefix $(top_srcdir)/,$(fuzz_wire_files)) $(JANSSON_LIBS)
	rm -rf fuzz-corpus-wire && mkdir -p fuzz-corpus-wire
	cp $(top_srcdir)/tests/corpus/wire/* fuzz-corpus-wire/
	./fuzz-wire-libfuzzer -max_total_time=$(FUZZ_SECONDS) -max_len=300000 fuzz-corpus-wire
.PHONY: fuzz fuzz-wire
CLEANFILES += fuzz-wire-libfuzzer
