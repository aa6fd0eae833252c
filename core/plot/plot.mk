# core/plot: the chart model, its PNG rasteriser and SVG writer, the
# bitmap font, the confusion matrix, atomic output files.
core_libstrata_la_SOURCES += core/plot/plot.c core/plot/plot.h core/plot/font.c core/plot/font.h \
	core/plot/chart.c core/plot/chart.h core/plot/atomic_file.c core/plot/atomic_file.h \
	core/plot/svg.c core/plot/svg.h core/plot/chart_svg.c core/plot/chart_svg.h \
	core/plot/confusion.c core/plot/confusion.h
