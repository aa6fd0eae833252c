# core/dist: the ranks of a data-parallel run (dist.h), over MPI when
# configured with it (the default when OpenMPI is found), else one process;
# the gradient buckets reduced while backward goes on (buckets.c).
core_libstrata_la_SOURCES += core/dist/dist.h core/dist/launcher.c core/dist/buckets.c core/dist/buckets.h \
	core/dist/net_sync.c core/dist/net_sync.h
if MPI
core_libstrata_la_SOURCES += core/dist/dist_mpi.c
core_libstrata_la_CFLAGS += $(MPI_CFLAGS)
core_libstrata_la_LIBADD += $(MPI_LIBS)
else
core_libstrata_la_SOURCES += core/dist/dist_single.c
endif
