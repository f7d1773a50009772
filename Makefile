# coreastrad: build, run, test, install.
#
#   make            build coreastrad and coreastractl into build/
#   make run        install missing packages, then run the daemon in the
#                   foreground on its built-in defaults
#   make test       install missing packages, build with ASan and UBSan into
#                   build/san, run each fuzz target for a few seconds, then
#                   every unit and regress test under kyua
#   make install    PREFIX=/usr/local DESTDIR=

PREFIX	?= /usr/local
SBINDIR	?= $(PREFIX)/sbin
MANDIR	?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
BUILD	?= build
SAN	?= 0
TRAP	?= 0

PKGS	 = libevent libssh2 libcurl json-c libbsd-overlay openssl libseccomp
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lhttp_parser
ATF_CFLAGS := $(shell pkg-config --cflags atf-c 2>/dev/null)
ATF_LIBS   := $(shell pkg-config --libs atf-c 2>/dev/null)

WARN	 = -Wall -Wextra -Wshadow -Wcast-qual -Wsign-compare \
	   -Wmissing-prototypes -Wstrict-prototypes -Werror
CFLAGS	?= -O2 -g
CFLAGS	+= $(WARN) -std=gnu11 -D_GNU_SOURCE -Icommon -Iproto -Idaemon -Icompat \
	   -I$(BUILD) $(PKG_CFLAGS)
ifeq ($(SAN),1)
CFLAGS	+= -fsanitize=address,undefined -fno-omit-frame-pointer \
	   -fno-sanitize-recover=undefined
LDFLAGS	+= -fsanitize=address,undefined
endif
ifeq ($(TRAP),1)
CFLAGS	+= -DSANDBOX_TRAP
endif

COMMON_SRCS = common/log.c common/imsg.c common/util.c
DAEMON_SRCS = daemon/coreastrad.c daemon/proc.c daemon/parent.c \
	      daemon/session.c daemon/knownhosts.c daemon/connect.c \
	      daemon/control.c daemon/front.c daemon/front_api.c \
	      daemon/http.c daemon/multipart.c daemon/json.c \
	      daemon/worker.c daemon/worker_ssh.c daemon/worker_ftp.c \
	      daemon/spawner.c daemon/ftplist.c daemon/datachan.c \
	      daemon/sandbox.c
CTL_SRCS    = ctl/coreastractl.c

COMMON_OBJS = $(COMMON_SRCS:%.c=$(BUILD)/%.o)
DAEMON_OBJS = $(DAEMON_SRCS:%.c=$(BUILD)/%.o) $(BUILD)/daemon/parse.o
CTL_OBJS    = $(CTL_SRCS:%.c=$(BUILD)/%.o)

# Unit tests: each links the modules it tests, nothing else.
TESTS	= t_imsg t_config t_http t_multipart t_json t_sandbox t_session \
	  t_ftplist t_spawn
t_imsg_OBJS	 = common/imsg.o common/util.o
t_config_OBJS	 = daemon/parse.o common/log.o common/util.o
t_http_OBJS	 = daemon/http.o
t_multipart_OBJS = daemon/multipart.o
t_json_OBJS	 = daemon/json.o common/util.o
t_sandbox_OBJS	 = daemon/sandbox.o common/log.o common/util.o
t_session_OBJS	 = daemon/session.o
t_ftplist_OBJS	 = daemon/ftplist.o common/util.o
t_spawn_OBJS	 = daemon/worker.o daemon/worker_ssh.o daemon/worker_ftp.o \
		   daemon/datachan.o daemon/ftplist.o daemon/sandbox.o \
		   daemon/proc.o common/imsg.o common/log.o common/util.o

TEST_BINS = $(TESTS:%=$(BUILD)/tests/%)

all: $(BUILD)/coreastrad $(BUILD)/coreastractl

$(BUILD)/coreastrad: $(COMMON_OBJS) $(DAEMON_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/coreastractl: $(COMMON_OBJS) $(CTL_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/%.o: %.c $(wildcard */*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/daemon/parse.c $(BUILD)/daemon/parse.h: daemon/parse.y
	@mkdir -p $(BUILD)/daemon
	bison -d -o $(BUILD)/daemon/parse.c daemon/parse.y

$(BUILD)/daemon/parse.o: $(BUILD)/daemon/parse.c daemon/config.h
	$(CC) $(CFLAGS) -Wno-missing-prototypes -c -o $@ $<

$(BUILD)/tests/%.o: tests/%.c $(wildcard */*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(ATF_CFLAGS) -c -o $@ $<

.SECONDEXPANSION:
$(TEST_BINS): $(BUILD)/tests/%: $(BUILD)/tests/%.o \
	    $$(addprefix $(BUILD)/,$$($$*_OBJS))
	$(CC) $(LDFLAGS) -o $@ $^ $(ATF_LIBS) $(PKG_LIBS)

# Packages: etc/deps.debian lists every Debian package the build, run and
# tests need.  As root, missing ones are installed; otherwise the exact
# command is printed and make stops.
deps:
	@sh etc/deps.sh etc/deps.debian

# The unprivileged user and the empty chroot directory.
setup: deps
	@sh etc/setup.sh

run: deps setup all
	./$(BUILD)/coreastrad -d

tests: all $(TEST_BINS)

test: deps setup
	$(MAKE) BUILD=build/san SAN=1 tests
	$(MAKE) fuzz-smoke
	@sh regress/run-tests.sh build/san

# Fuzzing: libFuzzer targets for the parsers of untrusted input, built
# with clang, ASan and UBSan into build/fuzz (see tests/fuzz/README).
# make fuzz runs each target for FUZZ_SECONDS, or until FUZZ_RUNS
# executions if that ends first; make fuzz-smoke for FUZZ_SMOKE_SECONDS.
# Both keep a growing corpus in build/fuzz/corpus.
FUZZ_CC		?= clang
FUZZ_BUILD	 = build/fuzz
FUZZ_SECONDS	?= 60
FUZZ_RUNS	?= -1
FUZZ_SMOKE_SECONDS ?= 5
FUZZ_SAN	 = -fsanitize=address,undefined \
		   -fno-sanitize-recover=undefined -fno-omit-frame-pointer
# The code under test gets coverage feedback; the harnesses do not, so
# their byte-by-byte checks do not flood the fuzzer with comparisons.
FUZZ_HCFLAGS	 = -O1 -g $(WARN) -std=gnu11 -D_GNU_SOURCE -Icommon -Iproto \
		   -Idaemon -Icompat -Itests/fuzz -I$(FUZZ_BUILD) \
		   $(PKG_CFLAGS) $(FUZZ_SAN)
FUZZ_CFLAGS	 = $(FUZZ_HCFLAGS) -fsanitize=fuzzer-no-link
FUZZ_TARGETS	?= fz_http fz_multipart fz_json fz_ftplist fz_config \
		   fz_imsg_parent
fz_http_OBJS	 = daemon/http.o
fz_multipart_OBJS = daemon/multipart.o
fz_json_OBJS	 = daemon/json.o common/util.o
fz_ftplist_OBJS	 = daemon/ftplist.o common/util.o
fz_config_OBJS	 = daemon/parse.o common/log.o common/util.o
fz_imsg_parent_OBJS = daemon/parent.o daemon/proc.o daemon/session.o \
		   daemon/connect.o daemon/knownhosts.o daemon/control.o \
		   daemon/parse.o common/log.o common/imsg.o common/util.o
FUZZ_BINS	 = $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/%)

$(FUZZ_BUILD)/%.o: %.c $(wildcard */*.h) $(wildcard tests/fuzz/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_BUILD)/tests/fuzz/%.o: tests/fuzz/%.c $(wildcard */*.h) \
	    $(wildcard tests/fuzz/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_HCFLAGS) -c -o $@ $<

$(FUZZ_BUILD)/daemon/parse.c: daemon/parse.y
	@mkdir -p $(FUZZ_BUILD)/daemon
	bison -d -o $@ daemon/parse.y

$(FUZZ_BUILD)/daemon/parse.o: $(FUZZ_BUILD)/daemon/parse.c daemon/config.h
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Wno-missing-prototypes -c -o $@ $<

$(FUZZ_BINS): $(FUZZ_BUILD)/%: $(FUZZ_BUILD)/tests/fuzz/%.o \
	    $(FUZZ_BUILD)/tests/fuzz/fz.o \
	    $$(addprefix $(FUZZ_BUILD)/,$$($$*_OBJS))
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ $(PKG_LIBS)

fuzz: deps $(FUZZ_BINS)
	@FUZZ_RUNS=$(FUZZ_RUNS) sh tests/fuzz/run.sh $(FUZZ_BUILD) \
	    $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-smoke: deps $(FUZZ_BINS)
	@sh tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SMOKE_SECONDS) \
	    $(FUZZ_TARGETS)

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(SYSCONFDIR)
	install -m 0555 $(BUILD)/coreastrad $(BUILD)/coreastractl \
	    $(DESTDIR)$(SBINDIR)
	install -m 0444 daemon/coreastrad.8 ctl/coreastractl.8 \
	    $(DESTDIR)$(MANDIR)/man8
	install -m 0444 daemon/coreastrad.conf.5 $(DESTDIR)$(MANDIR)/man5
	test -e $(DESTDIR)$(SYSCONFDIR)/coreastrad.conf || install -m 0644 \
	    etc/coreastrad.conf $(DESTDIR)$(SYSCONFDIR)/coreastrad.conf
	if [ -z "$(DESTDIR)" ]; then sh etc/setup.sh; fi

clean:
	rm -rf build

.PHONY: all run test tests deps setup install clean fuzz fuzz-smoke
