# fuzz.mk - builds the fuzz harnesses (input csv sandbox callback response serve); read after the Makefile (make -f Makefile -f fuzz/fuzz.mk BUILD=DIR fuzz-bins): with FUZZ=1 they link libFuzzer (clang), otherwise fuzz/replay.c, which replays files (tests/fuzz_regress.sh).

FUZZ_TARGETS   = input csv sandbox callback response serve
SANDBOX_NOMAIN = $(filter-out $(BUILD)/src/sandbox/main.o,$(SANDBOX_OBJ))
# Only the CLI files a harness needs, so new commands never break the link.
CLI_INPUT      = $(addprefix $(BUILD)/src/cli/,input.o output.o advice.o dryrun.o term.o table.o) \
                 $(BUILD)/src/sync/progress.o
CLI_CSV        = $(addprefix $(BUILD)/src/cli/,csv.o batch_input.o normalise.o session.o input.o output.o advice.o term.o table.o) \
                 $(BUILD)/src/sync/progress.o
ifeq ($(FUZZ),1)
FUZZ_DRIVER    =
FUZZ_LDFLAGS   = -fsanitize=fuzzer
else
FUZZ_DRIVER    = $(BUILD)/fuzz/replay.o
FUZZ_LDFLAGS   =
endif

fuzz-bins: $(FUZZ_TARGETS:%=$(BUILD)/fuzz/%)

$(BUILD)/fuzz/input: $(BUILD)/fuzz/fuzz_input.o $(CLI_INPUT) $(BUILD)/libgusto.a $(FUZZ_DRIVER)
	$(CC) $(LDFLAGS) $(FUZZ_LDFLAGS) -o $@ $^ $(LIB_LIBS) $(LDLIBS)

$(BUILD)/fuzz/csv: $(BUILD)/fuzz/fuzz_csv.o $(CLI_CSV) $(BUILD)/libgusto.a $(FUZZ_DRIVER)
	$(CC) $(LDFLAGS) $(FUZZ_LDFLAGS) -o $@ $^ $(LIB_LIBS) $(LDLIBS)

# libcurl: the sandbox delivers webhooks with it.
$(BUILD)/fuzz/sandbox: $(BUILD)/fuzz/fuzz_sandbox.o $(SANDBOX_NOMAIN) $(FUZZ_DRIVER)
	$(CC) $(LDFLAGS) $(FUZZ_LDFLAGS) -o $@ $^ $(LDLIBS) $(shell pkg-config --libs libcurl)

$(BUILD)/fuzz/callback: $(BUILD)/fuzz/fuzz_callback.o $(BUILD)/src/cli/callback.o \
                       $(BUILD)/src/shared/pctdecode.o $(FUZZ_DRIVER)
	$(CC) $(LDFLAGS) $(FUZZ_LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/fuzz/response: $(BUILD)/fuzz/fuzz_response.o $(BUILD)/libgusto.a $(FUZZ_DRIVER)
	$(CC) $(LDFLAGS) $(FUZZ_LDFLAGS) -o $@ $^ $(LIB_LIBS) $(LDLIBS)

# gusto-connect serve's webhook receiver, --config and masking; its state and sync
# code come along.
$(BUILD)/fuzz/serve: $(BUILD)/fuzz/fuzz_serve.o $(SERVE_OBJ) $(SYNC_OBJ) $(BUILD)/src/cli/output.o \
                    $(BUILD)/src/cli/term.o $(BUILD)/src/cli/table.o \
                    $(BUILD)/src/cli/advice.o $(BUILD)/libgusto.a $(FUZZ_DRIVER)
	$(CC) $(LDFLAGS) $(FUZZ_LDFLAGS) -o $@ $^ $(LIB_LIBS) $(SYNC_LIBS) $(SERVE_LIBS) $(LDLIBS)

.PHONY: fuzz-bins
