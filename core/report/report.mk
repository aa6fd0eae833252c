# core/report: `strata report`'s HTML page and the run data it shows.
core_libstrata_la_SOURCES += core/report/run_data.c core/report/run_data.h \
	core/report/report.c core/report/report.h
