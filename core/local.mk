# core: libstrata (everything but the command line) and the strata program.
# Each folder of core/ appends its sources in its own .mk (included from
# Makefile.am): config, model, train, data, store, plot, cli.
# libstrata is a libtool convenience library: linked into the strata program
# and the tests, never installed (plugins must not link it; they get what
# they need from the host through strata/plugin.h).
noinst_LTLIBRARIES = core/libstrata.la
core_libstrata_la_SOURCES =
core_libstrata_la_CFLAGS = $(AM_CFLAGS) -pthread $(YAML_CFLAGS) $(SQLITE_CFLAGS) $(OPENBLAS_CFLAGS) $(PNG_CFLAGS)
core_libstrata_la_LIBADD = $(YAML_LIBS) $(SQLITE_LIBS) $(OPENBLAS_LIBS) $(PNG_LIBS) $(JPEG_LIBS) $(DL_LIBS) -lm -lpthread
stratainclude_HEADERS += core/include/strata/plugin.h

bin_PROGRAMS += core/strata
core_strata_SOURCES =
core_strata_CFLAGS = $(AM_CFLAGS)
core_strata_LDADD = core/libstrata.la

# The one-page map of the folders and their rules (belongs with the top
# EXTRA_DIST in Makefile.am; kept here to stay in core's files).
