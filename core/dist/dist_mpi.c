/* dist_mpi.c — dist.h over MPI (OpenMPI): MPI_COMM_WORLD is the job, and
 * the collectives its group after dist_split (a sweep over ranks).
 * MPI is initialised only when the process was started by a launcher
 * (mpirun, srun): plain `strata run` on an MPI build is one process that
 * never touches MPI. MPI's default error handler stays: a rank that dies
 * makes the job abort (mpirun ends the others). */
#define _POSIX_C_SOURCE 200809L
#include <limits.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "dist/dist.h"

static int active, rank, size = 1, world_rank, world_size = 1;
static MPI_Comm comm; /* the group's (dist_split), MPI_COMM_WORLD before */

int dist_init(int *argc, char ***argv)
{
    if (active || !dist_launcher_size())
        return 0;
    int provided;
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
        fprintf(stderr, "strata: MPI_Init failed\n");
        return 1;
    }
    active = 1;
    comm = MPI_COMM_WORLD;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    world_rank = rank;
    world_size = size;
    return 0;
}

void dist_finalize(void)
{
    int finalized = 0;
    if (active && MPI_Finalized(&finalized) == MPI_SUCCESS && !finalized)
        MPI_Finalize();
    active = 0;
}

void dist_abort(int code)
{
    if (active && world_size > 1)
        MPI_Abort(MPI_COMM_WORLD, code);
    exit(code);
}

int dist_rank(void) { return rank; }
int dist_size(void) { return size; }
const char *dist_mode(void) { return active ? "mpi" : "single"; }

/* A sum in pieces of at most INT_MAX floats (MPI counts are int). */
enum { MAX_PIECES = 8 };
struct dist_req {
    int n;
    MPI_Request r[MAX_PIECES];
};

dist_req *dist_allreduce_sum_async(float *buf, size_t n)
{
    if (size < 2 || n == 0)
        return NULL;
    dist_req *q = calloc(1, sizeof *q);
    if (!q) {
        fprintf(stderr, "strata: rank %d: out of memory for an allreduce\n", rank);
        dist_abort(1);
    }
    for (size_t done = 0; done < n; done += INT_MAX) {
        size_t piece = n - done < (size_t)INT_MAX ? n - done : (size_t)INT_MAX;
        if (q->n == MAX_PIECES) { /* > 8 * 2^31 floats: finish what is started, then go on */
            MPI_Waitall(q->n, q->r, MPI_STATUSES_IGNORE);
            q->n = 0;
        }
        MPI_Iallreduce(MPI_IN_PLACE, buf + done, (int)piece, MPI_FLOAT, MPI_SUM, comm, &q->r[q->n++]);
    }
    return q;
}

void dist_test(dist_req *q)
{
    int flag;
    if (q)
        MPI_Testall(q->n, q->r, &flag, MPI_STATUSES_IGNORE);
}

void dist_wait(dist_req *q)
{
    if (!q)
        return;
    MPI_Waitall(q->n, q->r, MPI_STATUSES_IGNORE);
    free(q);
}

void dist_sum_doubles(double *buf, int n)
{
    if (size > 1)
        MPI_Allreduce(MPI_IN_PLACE, buf, n, MPI_DOUBLE, MPI_SUM, comm);
}

void dist_sum_longs(long *buf, int n)
{
    if (size > 1)
        MPI_Allreduce(MPI_IN_PLACE, buf, n, MPI_LONG, MPI_SUM, comm);
}

void dist_sum_int64(int64_t *buf, int n)
{
    if (size > 1)
        MPI_Allreduce(MPI_IN_PLACE, buf, n, MPI_INT64_T, MPI_SUM, comm);
}

void dist_allgather_int64(const int64_t *mine, int k, int64_t *all)
{
    if (size > 1)
        MPI_Allgather(mine, k, MPI_INT64_T, all, k, MPI_INT64_T, comm);
    else
        memcpy(all, mine, sizeof *all * (size_t)k);
}

int dist_any(int flag)
{
    return dist_max(flag != 0);
}

int dist_max(int v)
{
    if (size > 1)
        MPI_Allreduce(MPI_IN_PLACE, &v, 1, MPI_INT, MPI_MAX, comm);
    return v;
}

void dist_bcast(void *buf, size_t n)
{
    for (size_t done = 0; size > 1 && done < n; done += INT_MAX) {
        size_t piece = n - done < (size_t)INT_MAX ? n - done : (size_t)INT_MAX;
        MPI_Bcast((char *)buf + done, (int)piece, MPI_BYTE, 0, comm);
    }
}

int dist_agree_u64(uint64_t v, int *which, uint64_t *value)
{
    if (size < 2)
        return 1;
    uint64_t *all = malloc(sizeof *all * size);
    if (!all) {
        fprintf(stderr, "strata: rank %d: out of memory\n", rank);
        dist_abort(1);
    }
    MPI_Allgather(&v, 1, MPI_UINT64_T, all, 1, MPI_UINT64_T, comm);
    int agree = 1;
    for (int r = 1; r < size && agree; r++)
        if (all[r] != all[0]) {
            agree = 0;
            *which = r;
            *value = all[r];
        }
    free(all);
    return agree;
}

void dist_hosts(char *buf, size_t bufsize)
{
    char name[MPI_MAX_PROCESSOR_NAME] = "";
    int len = 0;
    if (!active) {
        if (gethostname(name, sizeof name - 1) != 0)
            name[0] = 0;
    } else
        MPI_Get_processor_name(name, &len);
    if (!bufsize)
        return;
    snprintf(buf, bufsize, "%s", name);
    if (size < 2)
        return;
    char *all = calloc((size_t)size, MPI_MAX_PROCESSOR_NAME);
    if (!all) {
        fprintf(stderr, "strata: rank %d: out of memory\n", rank);
        dist_abort(1);
    }
    MPI_Allgather(name, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, all, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, comm);
    size_t used = 0;
    buf[0] = 0;
    for (int r = 0; r < size && used + 1 < bufsize; r++) {
        int k = snprintf(buf + used, bufsize - used, "%s%s", r ? "," : "", all + (size_t)r * MPI_MAX_PROCESSOR_NAME);
        used += k > 0 ? (size_t)k : 0;
    }
    free(all);
}

void dist_split(int color)
{
    if (!active || world_size < 2)
        return;
    MPI_Comm group;
    MPI_Comm_split(MPI_COMM_WORLD, color, world_rank, &group);
    comm = group;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
}

int dist_world_rank(void) { return world_rank; }
int dist_world_size(void) { return world_size; }

void dist_send(int dest, int tag, const void *buf, size_t n)
{
    if (n > (size_t)INT_MAX) {
        fprintf(stderr, "strata: rank %d: a message of %zu bytes is too large\n", world_rank, n);
        dist_abort(1);
    }
    MPI_Send(buf, (int)n, MPI_BYTE, dest, tag, MPI_COMM_WORLD);
}

char *dist_recv(int src, int *tag, int *from, size_t *n)
{
    MPI_Status st;
    int count = 0;
    MPI_Probe(src == DIST_ANY ? MPI_ANY_SOURCE : src, MPI_ANY_TAG, MPI_COMM_WORLD, &st);
    MPI_Get_count(&st, MPI_BYTE, &count);
    char *buf = malloc((size_t)count + 1);
    if (!buf) {
        fprintf(stderr, "strata: rank %d: out of memory for a message of %d bytes\n", world_rank, count);
        dist_abort(1);
    }
    MPI_Recv(buf, count, MPI_BYTE, st.MPI_SOURCE, st.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    buf[count] = 0;
    *tag = st.MPI_TAG;
    *from = st.MPI_SOURCE;
    *n = (size_t)count;
    return buf;
}
