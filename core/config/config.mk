# core/config: the YAML tree (includes, -s overrides), typed option getters,
# the experiment file, sweep grids, one-line error reporting.
core_libstrata_la_SOURCES += \
	core/config/error.c core/config/error.h \
	core/config/yaml_tree.c core/config/yaml_tree.h \
	core/config/opts.c core/config/opts.h \
	core/config/experiment.c core/config/experiment.h \
	core/config/sweep.c core/config/sweep.h
