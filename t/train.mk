# t/train.mk — `strata run` end to end: training on a synthetic image folder,
# determinism, schedules, configuration and I/O errors, Ctrl-C.
check_PROGRAMS += t/test_train
TESTS += t/test_train
t_test_train_SOURCES = t/test_train.c t/fixtures/imgwrite.c t/fixtures/imgwrite.h
t_test_train_CFLAGS = $(TEST_CFLAGS) $(SQLITE_CFLAGS) $(PNG_CFLAGS)
t_test_train_LDADD = $(TEST_LIBS) $(SQLITE_LIBS) $(PNG_LIBS) $(JPEG_LIBS) -lm
