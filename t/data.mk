# t/data.mk — tests of the data pipeline, and the shipped data set.
DATA_TEST_FIXTURES = t/fixtures/imgwrite.c t/fixtures/imgwrite.h t/testlib.c t/testlib.h
DATA_TEST_CFLAGS = $(TEST_CFLAGS) $(PNG_CFLAGS)
DATA_TEST_LIBS = $(TEST_LIBS) $(PNG_LIBS) $(JPEG_LIBS) -lm

check_PROGRAMS += t/test_image t/test_dataset t/test_augment t/test_loader
TESTS += t/test_image t/test_dataset t/test_augment t/test_loader

t_test_image_SOURCES = t/test_image.c $(DATA_TEST_FIXTURES)
t_test_image_CFLAGS = $(DATA_TEST_CFLAGS)
t_test_image_LDADD = $(DATA_TEST_LIBS)
t_test_dataset_SOURCES = t/test_dataset.c $(DATA_TEST_FIXTURES)
t_test_dataset_CFLAGS = $(DATA_TEST_CFLAGS)
t_test_dataset_LDADD = $(DATA_TEST_LIBS)
t_test_augment_SOURCES = t/test_augment.c $(DATA_TEST_FIXTURES)
t_test_augment_CFLAGS = $(DATA_TEST_CFLAGS)
t_test_augment_LDADD = $(DATA_TEST_LIBS)
t_test_loader_SOURCES = t/test_loader.c $(DATA_TEST_FIXTURES)
t_test_loader_CFLAGS = $(DATA_TEST_CFLAGS)
t_test_loader_LDADD = $(DATA_TEST_LIBS)

EXTRA_DIST += data/flowers-mini scripts/make-flowers-mini scripts/get-flowers
