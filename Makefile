# llm-tools: function calling for OpenAI-compatible APIs as POSIX filters.
# Plain make; user CFLAGS, CPPFLAGS, LDFLAGS and LDLIBS pass through.

VERSION   = 0.1.0
PREFIX    = /usr/local
BINDIR    = $(PREFIX)/bin
MANPREFIX = $(PREFIX)/share/man
DATADIR   = $(PREFIX)/share/llm-tools

CC     = cc
CFLAGS = -O2 -g
WERROR = -Werror
PROJ_CFLAGS   = -std=c11 -Wall -Wextra $(WERROR)
PROJ_CPPFLAGS = -D_DEFAULT_SOURCE -D_GNU_SOURCE -Ilib \
                -DLLM_TOOLS_VERSION='"$(VERSION)"' \
                -DLLM_DATADIR='"$(DATADIR)"'
JQ_LIBS   = -ljq -lonig
DL_LIBS   = -ldl

# Where objects and programs go: here by default; a build variant sets
# BUILD (see the variants below) and gets BUILD/lib, BUILD/bin, BUILD/fuzz.
BUILD =
B = $(BUILD:%=%/)

PROG_NAMES = llm-request tool-extract tool-run tool-append llm-prompt llm-mock \
             llm-status llm-holder tool-serve tool-mcp
PROGS = $(PROG_NAMES:%=bin/%)
SCRIPTS = bin/llm-loop bin/llm-runs bin/llm-guard-blocklist bin/llm-guard-json
LIB_NAMES = common json toolcall jobs jobspawn schema schemacheck schemavalue \
            schemaobject schemaref pattern sse chatstream jsonscan term \
            textcalls mcp completion httpd fault reply \
            request http holder isolate toolsdir runner toolschema status runfiles \
            mcphost mcphttp payload apiheaders chatcall
LIBHDR = $(LIB_NAMES:%=lib/%.h)
LIBOBJ = $(LIB_NAMES:%=$(B)lib/%.o)
LIBA = $(B)lib/libllm.a
# The MCP programs' modules (LIBHDR and LIBOBJ expand when used).
LIB_NAMES += mcpconf mcpspawn mcpserver mcphold mcpserve mcpfront
FUZZ_NAMES = sse schema toolcall append jsonscan textcalls
TOOLS_C = tools.d/add
TOOLS_SH = tools.d/get_weather tools.d/search_products \
           tools.d/get_order_status tools.d/get_time
TOOLS_DATA = tools.d/add.json tools.d/get_weather.json \
             tools.d/search_products.json tools.d/get_order_status.json
SAMPLE_DATA = tools.d/sample-data/weather.json \
              tools.d/sample-data/products.json \
              tools.d/sample-data/orders.json
MAN1 = man/man1/llm-request.1 man/man1/tool-extract.1 man/man1/tool-run.1 \
       man/man1/tool-append.1 man/man1/llm-prompt.1 man/man1/llm-loop.1 \
       man/man1/llm-mock.1 man/man1/llm-guard-blocklist.1 \
       man/man1/llm-guard-json.1 man/man1/llm-runs.1 man/man1/llm-status.1 man/man1/llm-holder.1 \
       man/man1/tool-serve.1 man/man1/tool-mcp.1
MAN7 = man/man7/llm-tools.7

all: $(PROGS) $(TOOLS_C)

# The programs alone, in $(B)bin (all of a build variant).
programs: $(PROG_NAMES:%=$(B)bin/%)

$(LIBA): $(LIBOBJ)
	$(AR) rcs $@ $(LIBOBJ)

$(B)lib/%.o: lib/%.c $(LIBHDR)
	@mkdir -p $(@D)
	$(CC) $(PROJ_CPPFLAGS) $(CPPFLAGS) $(PROJ_CFLAGS) $(CFLAGS) -c -o $@ $<

# llm-request and llm-holder load libcurl themselves (lib/curlload.c):
# llm-request when it makes a transfer itself, which through a
# connection holder it need not; llm-holder once it is listening.
$(B)bin/llm-request $(B)bin/llm-holder: $(B)lib/curlload.o
$(B)bin/llm-request: LINK_LIBS = $(B)lib/curlload.o $(DL_LIBS) -lm
$(B)bin/llm-holder: LINK_LIBS = $(B)lib/curlload.o $(DL_LIBS) -lm -lpthread
# tool-mcp too, once it reaches an HTTP server: a call through its holder
# never does.
$(B)bin/tool-mcp: $(B)lib/curlload.o
$(B)bin/tool-mcp: LINK_LIBS = $(B)lib/curlload.o $(DL_LIBS)
$(B)bin/%: bin/%.c $(LIBA) $(LIBHDR) Makefile
	@mkdir -p $(@D)
	$(CC) $(PROJ_CPPFLAGS) $(CPPFLAGS) $(PROJ_CFLAGS) $(CFLAGS) $(LDFLAGS) \
	    -o $@ $< $(LIBA) $(LINK_LIBS) $(JQ_LIBS) $(LDLIBS)

# A server on lib/httpd.c that the tests run.
$(B)tests/httpd/echo: tests/httpd/echo.c $(LIBA) $(LIBHDR)
	@mkdir -p $(@D)
	$(CC) $(PROJ_CPPFLAGS) $(CPPFLAGS) $(PROJ_CFLAGS) $(CFLAGS) $(LDFLAGS) \
	    -o $@ $< $(LIBA) $(JQ_LIBS) $(LDLIBS)

# The fuzz harnesses of tests/fuzz/NAME_fuzz.c, each linked with
# FUZZ_MAIN: the corpus replayer, or nothing under libFuzzer.
FUZZ_MAIN = tests/fuzz/replay.c
fuzzers: $(FUZZ_NAMES:%=$(B)fuzz/%)
print-fuzz-names:
	@echo $(FUZZ_NAMES)
print-version:
	@echo $(VERSION)
print-progs:
	@echo $(PROG_NAMES)

$(B)fuzz/%: tests/fuzz/%_fuzz.c $(FUZZ_MAIN) tests/fuzz/fuzz.h $(LIBA) $(LIBHDR)
	@mkdir -p $(@D)
	$(CC) $(PROJ_CPPFLAGS) $(CPPFLAGS) $(PROJ_CFLAGS) $(CFLAGS) $(LDFLAGS) \
	    $(FUZZ_LDFLAGS) -o $@ $< $(FUZZ_MAIN) $(LIBA) $(JQ_LIBS) $(LDLIBS)

# The build variants, each in its own directory under build/:
#   asan         the programs with AddressSanitizer and UBSan
#   valgrind     the programs as built normally, for valgrind to run
#   fuzz-replay  the fuzz harnesses as corpus replayers, with the sanitizers
#   fuzz-build   the fuzz harnesses under libFuzzer (clang)
SAN_CFLAGS = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
             -fno-sanitize-recover=undefined
asan:
	@$(MAKE) --no-print-directory BUILD=build/asan WERROR= \
	    CFLAGS='$(SAN_CFLAGS) -Wno-format-truncation' programs
valgrind:
	@$(MAKE) --no-print-directory BUILD=build/valgrind programs
fuzz-replay:
	@$(MAKE) --no-print-directory BUILD=build/fuzz-replay WERROR= \
	    CFLAGS='$(SAN_CFLAGS)' fuzzers
fuzz-build:
	@$(MAKE) --no-print-directory BUILD=build/fuzz-libfuzzer WERROR= \
	    CC=clang CFLAGS='$(SAN_CFLAGS) -fsanitize=fuzzer-no-link' \
	    FUZZ_MAIN= FUZZ_LDFLAGS=-fsanitize=fuzzer fuzzers

# The JSON Schema Test Suite runner of tests/schema-suite.bats.
build/schema-suite: tests/schema-suite.c lib/libllm.a $(LIBHDR)
	@mkdir -p build
	$(CC) $(PROJ_CPPFLAGS) $(CPPFLAGS) $(PROJ_CFLAGS) $(CFLAGS) $(LDFLAGS) \
	    -o $@ $< lib/libllm.a $(JQ_LIBS) $(LDLIBS)

tools.d/add: tools.d/add.c
	$(CC) $(PROJ_CPPFLAGS) $(CPPFLAGS) $(PROJ_CFLAGS) $(CFLAGS) $(LDFLAGS) \
	    -o $@ $< $(JQ_LIBS) $(LDLIBS)

# Installs the Debian packages the build and the tests need (as root), or
# prints the apt-get line to run.
deps:
	@sh tests/deps.sh

check: deps
	@$(MAKE) --no-print-directory all
	@sh tests/run

# The tests against real MCP software (tests/mcp/*.bats): npm installs the
# pinned packages into build/mcp once; the tests run offline.
check-mcp: deps
	@$(MAKE) --no-print-directory all
	@sh tests/mcp/run

# The suite against ASan/UBSan builds, and under valgrind: any report fails.
check-asan: deps
	@sh tests/check-memory asan

check-valgrind: deps
	@sh tests/check-memory valgrind

# Each fuzz harness under libFuzzer for FUZZ_TIME seconds (make check only
# replays their corpora).
FUZZ_TIME = 60
fuzz: deps
	@sh tests/fuzz/run fuzz $(FUZZ_TIME)

bench: deps
	@$(MAKE) --no-print-directory all
	@sh tests/bench/run

demo: deps
	@$(MAKE) --no-print-directory all
	@sh tests/demo/run

install: all
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANPREFIX)/man1 \
	    $(DESTDIR)$(MANPREFIX)/man7 $(DESTDIR)$(DATADIR)/tools.d/sample-data
	cp -f $(PROGS) $(SCRIPTS) $(DESTDIR)$(BINDIR)/
	cp -f $(MAN1) $(DESTDIR)$(MANPREFIX)/man1/
	cp -f $(MAN7) $(DESTDIR)$(MANPREFIX)/man7/
	cp -f $(TOOLS_C) $(TOOLS_SH) $(TOOLS_DATA) $(DESTDIR)$(DATADIR)/tools.d/
	cp -f $(SAMPLE_DATA) $(DESTDIR)$(DATADIR)/tools.d/sample-data/
	cp -f tests/demo/model.jq $(DESTDIR)$(DATADIR)/demo-model.jq

uninstall:
	for f in $(PROGS) $(SCRIPTS); do rm -f $(DESTDIR)$(BINDIR)/$${f#bin/}; done
	for f in $(MAN1); do rm -f $(DESTDIR)$(MANPREFIX)/man1/$${f#man/man1/}; done
	rm -f $(DESTDIR)$(MANPREFIX)/man7/llm-tools.7
	rm -rf $(DESTDIR)$(DATADIR)

clean:
	rm -f $(PROGS) $(TOOLS_C) lib/*.o lib/libllm.a tests/httpd/echo
	rm -rf build

.PHONY: all programs fuzzers print-fuzz-names print-version print-progs asan valgrind fuzz-replay fuzz-build deps check \
	check-mcp check-asan check-valgrind fuzz bench demo install uninstall clean
