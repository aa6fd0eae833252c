# core/optim: learning-rate schedules, part of libstrata.
core_libstrata_la_SOURCES += core/schedule.c core/schedule.h
