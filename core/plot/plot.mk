# core/plot: line charts as PNG and the built-in bitmap font.
core_libstrata_la_SOURCES += core/plot/plot.c core/plot/plot.h core/plot/font.c core/plot/font.h
