# t/local.mk — tests of the core's training step.
check_PROGRAMS += t/test_trainer
TESTS += t/test_trainer
t_test_trainer_SOURCES = t/test_trainer.c t/testlib.c t/testlib.h
t_test_trainer_CFLAGS = $(TEST_CFLAGS) $(YAML_CFLAGS)
t_test_trainer_LDADD = $(TEST_LIBS)
