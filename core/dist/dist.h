/* dist.h — the processes of one data-parallel run (MPI ranks), as the rest
 * of strata sees them. Two implementations, chosen by ./configure:
 * dist_mpi.c (built --with-mpi, the default when OpenMPI is found) and
 * dist_single.c (--without-mpi: one process, every call trivial). Nothing
 * outside core/dist includes <mpi.h> or tests for MPI.
 *
 * A program built with MPI but started without mpirun (no
 * OMPI_COMM_WORLD_SIZE, PMIX_RANK or PMI_SIZE in the environment) does not
 * initialise MPI at all: it is one process, exactly as without MPI. A build
 * without MPI started as several processes by a launcher refuses to run
 * (each would train the whole run).
 *
 * Every collective call below must be made by every rank, in the same
 * order; with one process each returns at once (sums are the value itself,
 * bit for bit). */
#ifndef STRATA_DIST_H
#define STRATA_DIST_H

#include <stddef.h>
#include <stdint.h>

/* The number of processes the launcher (mpirun, srun) started, read from
 * the environment without touching MPI; 0 when not started by one. */
int dist_launcher_size(void);

/* Join the job when started by mpirun (call once, before anything else
 * that may print or fork). Returns 0, or the exit status after a message
 * on stderr: 2 when this build has no MPI but was started as several
 * processes, 1 when MPI_Init fails. */
int dist_init(int *argc, char ***argv);
/* Leave the job (collective). Safe when dist_init was not called. */
void dist_finalize(void);
/* End every rank of the job now with exit status code (a rank that cannot
 * go on and whose peers may be waiting for it). One process: exit(code). */
void dist_abort(int code);

int dist_rank(void); /* 0 .. dist_size() - 1; 0 without MPI */
int dist_size(void); /* 1 without MPI or outside mpirun */
/* "mpi" when MPI was initialised, "single" otherwise. */
const char *dist_mode(void);

/* Sum n floats over the ranks, in place, started now; NULL with one rank
 * (nothing to do). dist_test pokes MPI's progress (non-blocking); dist_wait
 * completes and frees the request (NULL is fine). */
typedef struct dist_req dist_req;
dist_req *dist_allreduce_sum_async(float *buf, size_t n);
void dist_test(dist_req *r);
void dist_wait(dist_req *r);

/* Blocking sums over the ranks, in place. */
void dist_sum_doubles(double *buf, int n);
void dist_sum_longs(long *buf, int n);
void dist_sum_int64(int64_t *buf, int n);
/* Every rank's k values, in rank order: all[r * k .. r * k + k) are rank
 * r's mine (all holds dist_size() * k). */
void dist_allgather_int64(const int64_t *mine, int k, int64_t *all);
/* 1 when flag is non-zero on any rank (every rank gets the same answer). */
int dist_any(int flag);
/* The largest v over the ranks (every rank gets it). */
int dist_max(int v);
/* Rank 0's bytes to every rank (buf holds size bytes everywhere). */
void dist_bcast(void *buf, size_t size);
/* Compare v over the ranks: 1 when every rank has rank 0's value; else 0
 * and *rank gets the lowest rank that differs, *value its value. */
int dist_agree_u64(uint64_t v, int *rank, uint64_t *value);
/* The ranks' host names, comma-separated in rank order, into buf. */
void dist_hosts(char *buf, size_t size);

/* ---- groups and messages (a sweep over ranks, core/cli/sweep_ranks.c) ---- */

/* Split the job into groups (collective over the whole job): the ranks
 * giving the same color form one, ordered by world rank. From then on
 * dist_rank, dist_size and every collective call above are the group's;
 * the point-to-point calls below keep world ranks. One process: nothing. */
void dist_split(int color);
/* The rank in, and size of, the whole job (equal to dist_rank and dist_size
 * before dist_split). */
int dist_world_rank(void);
int dist_world_size(void);
/* Send n bytes (< 2 GiB) to world rank dest with tag (0 .. 32767);
 * returns when buf may be reused. */
void dist_send(int dest, int tag, const void *buf, size_t n);
/* Wait for the next message to this rank from world rank src (DIST_ANY:
 * from any): its bytes, malloc'd and NUL-terminated (*n of them before the
 * NUL), its tag and sender. Out of memory ends the job. */
#define DIST_ANY (-1)
char *dist_recv(int src, int *tag, int *from, size_t *n);

#endif
