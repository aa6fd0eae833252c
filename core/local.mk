# core: libstrata and the strata program.
lib_LTLIBRARIES += core/libstrata.la
core_libstrata_la_SOURCES = core/error.c core/error.h \
	core/yaml_tree.c core/yaml_tree.h core/opts.c core/opts.h \
	core/plugins.c core/plugins.h \
	core/model_spec.c core/model_spec.h core/build_vgg.c core/build_alexnet.c core/build_layers.c \
	core/network.c core/network.h core/summary.c core/summary.h \
	core/experiment.c core/experiment.h \
	core/augment_config.c core/augment_config.h core/init.c core/init.h \
	core/fork_join.c core/fork_join.h core/optimizer.c core/optimizer.h core/trainer.c core/trainer.h core/memplan.c core/memplan.h core/session.c core/session.h core/checkpoint.c core/checkpoint.h core/sweep.c core/sweep.h
core_libstrata_la_CFLAGS = $(AM_CFLAGS) -pthread $(YAML_CFLAGS) $(SQLITE_CFLAGS) $(OPENBLAS_CFLAGS) $(PNG_CFLAGS)
core_libstrata_la_LIBADD = $(YAML_LIBS) $(SQLITE_LIBS) $(OPENBLAS_LIBS) $(PNG_LIBS) $(JPEG_LIBS) $(DL_LIBS) -lm -lpthread
stratainclude_HEADERS += core/include/strata/plugin.h

bin_PROGRAMS += core/strata
core_strata_SOURCES = core/main.c core/cli.c core/cli.h core/cmd_summary.c core/cmd_plugins.c core/cmd_run.c core/cmd_resume.c core/cmd_predict.c core/cmd_sweep.c core/cmd_runs.c
core_strata_CFLAGS = $(AM_CFLAGS)
core_strata_LDADD = core/libstrata.la $(SQLITE_LIBS)
core_strata_CPPFLAGS = $(AM_CPPFLAGS) $(SQLITE_CFLAGS)
