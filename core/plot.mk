# core/plot.mk: line charts as PNG (plot, the built-in font) and `strata plot`.
core_libstrata_la_SOURCES += core/plot.c core/plot.h core/font.c core/font.h
core_strata_SOURCES += core/cmd_plot.c
