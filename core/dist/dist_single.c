/* dist_single.c — dist.h for a build without MPI: one process. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "dist/dist.h"

int dist_init(int *argc, char ***argv)
{
    int n = dist_launcher_size();
    if (n < 2)
        return 0;
    fprintf(stderr, "strata: started as %d processes (mpirun?) but built without MPI: each would train the whole "
                    "run; build with MPI (./configure --with-mpi, OpenMPI: apt-get install libopenmpi-dev "
                    "openmpi-bin) or run one process\n", n);
    return 2;
}
void dist_finalize(void) {}
void dist_abort(int code) { exit(code); }
int dist_rank(void) { return 0; }
int dist_size(void) { return 1; }
const char *dist_mode(void) { return "single"; }
dist_req *dist_allreduce_sum_async(float *buf, size_t n) { return NULL; }
void dist_test(dist_req *r) {}
void dist_wait(dist_req *r) {}
void dist_sum_doubles(double *buf, int n) {}
void dist_sum_longs(long *buf, int n) {}
void dist_sum_int64(int64_t *buf, int n) {}
void dist_allgather_int64(const int64_t *mine, int k, int64_t *all)
{
    memcpy(all, mine, sizeof *all * (size_t)k);
}

int dist_any(int flag) { return flag != 0; }
int dist_max(int v) { return v; }
void dist_bcast(void *buf, size_t size) {}

int dist_agree_u64(uint64_t v, int *rank, uint64_t *value)
{
    return 1;
}

void dist_hosts(char *buf, size_t size)
{
    if (!size)
        return;
    if (gethostname(buf, size - 1) != 0)
        buf[0] = 0;
    buf[size - 1] = 0;
}

void dist_split(int color) {}
int dist_world_rank(void) { return 0; }
int dist_world_size(void) { return 1; }

/* One process has no one to talk to: a caller that gets here is a bug. */
void dist_send(int dest, int tag, const void *buf, size_t n)
{
    fprintf(stderr, "strata: internal error: a message to rank %d without MPI\n", dest);
    exit(1);
}

char *dist_recv(int src, int *tag, int *from, size_t *n)
{
    fprintf(stderr, "strata: internal error: waiting for a message without MPI\n");
    exit(1);
}
