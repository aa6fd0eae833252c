/* memplan.h — placing buffers with known lifetimes in one arena.
 *
 * Each block is live from step `first` to step `last` (inclusive, in any
 * time unit). Blocks that are live at the same time get disjoint byte
 * ranges; blocks that never are may share memory. The training step uses
 * it so that the gradients of the bottom layers reuse the memory of the top
 * layers' activations, which are dead by then. */
#ifndef STRATA_MEMPLAN_H
#define STRATA_MEMPLAN_H

#include <stddef.h>

#define MEMPLAN_ALIGN 64

typedef struct mem_block {
    size_t size;
    int first, last;
    size_t offset; /* set by memplan_place */
} mem_block;

/* Assign offsets (multiples of MEMPLAN_ALIGN), largest blocks first, each
 * at the lowest offset free for its lifetime. Returns the arena size. */
size_t memplan_place(mem_block *blocks, int n);

/* 1 when two placed blocks are live together and their bytes overlap. */
int memplan_conflict(const mem_block *a, const mem_block *b);

#endif
