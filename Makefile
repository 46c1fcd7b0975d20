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
                -DLLM_DATADIR='"$(DATADIR)"'
JQ_LIBS   = -ljq -lonig
CURL_LIBS = -lcurl -lm
DL_LIBS   = -ldl

PROGS = bin/llm-request bin/tool-extract bin/tool-run bin/tool-append bin/tool-mcp \
        bin/llm-prompt bin/llm-mock
SCRIPTS = bin/llm-loop bin/llm-guard-blocklist bin/llm-guard-json
LIBOBJ = lib/common.o lib/json.o lib/toolcall.o lib/jobs.o lib/schema.o \
         lib/sse.o lib/jsonscan.o lib/term.o lib/pattern.o \
         lib/textcalls.o lib/mcp.o lib/mcphost.o \
         lib/mcphttp.o
LIBHDR = lib/common.h lib/json.h lib/toolcall.h lib/jobs.h lib/schema.h \
         lib/sse.h lib/jsonscan.h lib/term.h lib/pattern.h \
         lib/textcalls.h lib/mcp.h lib/mcphost.h \
         lib/mcphttp.h
TOOLS_C = tools.d/add
TOOLS_SH = tools.d/get_weather tools.d/search_products \
           tools.d/get_order_status tools.d/get_time
TOOLS_DATA = tools.d/add.json tools.d/get_weather.json \
             tools.d/search_products.json tools.d/get_order_status.json
SAMPLE_DATA = tools.d/sample-data/weather.json \
              tools.d/sample-data/products.json \
              tools.d/sample-data/orders.json
MAN1 = man/man1/llm-request.1 man/man1/tool-extract.1 man/man1/tool-run.1 \
       man/man1/tool-mcp.1 \
       man/man1/tool-append.1 man/man1/llm-prompt.1 man/man1/llm-loop.1 \
       man/man1/llm-mock.1 man/man1/llm-guard-blocklist.1 \
       man/man1/llm-guard-json.1
MAN7 = man/man7/llm-tools.7

all: $(PROGS) $(TOOLS_C)

lib/libllm.a: $(LIBOBJ)
	$(AR) rcs $@ $(LIBOBJ)

lib/%.o: lib/%.c $(LIBHDR)
	$(CC) $(PROJ_CPPFLAGS) $(CPPFLAGS) $(PROJ_CFLAGS) $(CFLAGS) -c -o $@ $<

bin/llm-request: bin/llm-request.c lib/libllm.a $(LIBHDR)
	$(CC) $(PROJ_CPPFLAGS) $(CPPFLAGS) $(PROJ_CFLAGS) $(CFLAGS) $(LDFLAGS) \
	    -o $@ $< lib/libllm.a $(CURL_LIBS) $(JQ_LIBS) $(LDLIBS)

bin/tool-mcp: bin/tool-mcp.c lib/libllm.a $(LIBHDR)
	$(CC) $(PROJ_CPPFLAGS) $(CPPFLAGS) $(PROJ_CFLAGS) $(CFLAGS) $(LDFLAGS) \
	    -o $@ $< lib/libllm.a $(JQ_LIBS) $(DL_LIBS) $(LDLIBS)

bin/llm-mock: bin/llm-mock.c lib/libllm.a $(LIBHDR)
	$(CC) $(PROJ_CPPFLAGS) $(CPPFLAGS) $(PROJ_CFLAGS) $(CFLAGS) $(LDFLAGS) \
	    -o $@ $< lib/libllm.a $(JQ_LIBS) $(LDLIBS)

bin/%: bin/%.c lib/libllm.a $(LIBHDR)
	$(CC) $(PROJ_CPPFLAGS) $(CPPFLAGS) $(PROJ_CFLAGS) $(CFLAGS) $(LDFLAGS) \
	    -o $@ $< lib/libllm.a $(JQ_LIBS) $(LDLIBS)

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

# The MCP tests against the pinned reference software of tests/mcp
# (installed with npm), offline: in a network namespace with only lo.
check-mcp: deps
	@$(MAKE) --no-print-directory all
	@sh tests/mcp/install >/dev/null
	@unshare -rn sh -c 'ip link set lo up && exec bats tests/mcp/*.bats'

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
	rm -f $(PROGS) $(TOOLS_C) lib/*.o lib/libllm.a
	rm -rf build

.PHONY: all deps check check-mcp check-asan check-valgrind fuzz bench demo install \
	uninstall clean
