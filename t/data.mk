# t/data.mk — tests of the data pipeline, and the shipped data set.
DATA_TEST_FIXTURES = t/fixtures/imgwrite.c t/fixtures/imgwrite.h
DATA_TEST_CFLAGS = $(TEST_CFLAGS) $(PNG_CFLAGS)
DATA_TEST_LIBS = $(TEST_LIBS) $(PNG_LIBS) $(JPEG_LIBS) -lm

check_PROGRAMS += t/test_image
TESTS += t/test_image

t_test_image_SOURCES = t/test_image.c $(DATA_TEST_FIXTURES)
t_test_image_CFLAGS = $(DATA_TEST_CFLAGS)
t_test_image_LDADD = $(DATA_TEST_LIBS)
