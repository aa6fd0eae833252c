/* memplan.c — see memplan.h */
#include <stdlib.h>
#include "train/memplan.h"

static size_t round_up(size_t x)
{
    return (x + MEMPLAN_ALIGN - 1) / MEMPLAN_ALIGN * MEMPLAN_ALIGN;
}

static int live_together(const mem_block *a, const mem_block *b)
{
    return a->first <= b->last && b->first <= a->last;
}

int memplan_conflict(const mem_block *a, const mem_block *b)
{
    return live_together(a, b) && a->offset < b->offset + b->size && b->offset < a->offset + a->size;
}

/* order[] = indexes of blocks, largest first, ties by index (an insertion
 * sort: a network has tens of blocks, and the plan must be deterministic). */
static void sort_by_size(const mem_block *blocks, int *order, int n)
{
    for (int i = 0; i < n; i++) {
        int j = i;
        while (j > 0 && blocks[order[j - 1]].size < blocks[i].size)
            j--;
        for (int k = i; k > j; k--)
            order[k] = order[k - 1];
        order[j] = i;
    }
}

/* The lowest offset where b fits between the placed blocks live with it. */
static size_t lowest_fit(const mem_block *blocks, const int *placed, int n_placed, const mem_block *b)
{
    size_t at = 0;
    for (int moved = 1; moved;) {
        moved = 0;
        for (int k = 0; k < n_placed; k++) {
            const mem_block *p = &blocks[placed[k]];
            if (live_together(p, b) && at < p->offset + p->size && p->offset < at + b->size) {
                at = round_up(p->offset + p->size);
                moved = 1;
            }
        }
    }
    return at;
}

size_t memplan_place(mem_block *blocks, int n)
{
    int *order = malloc((n ? n : 1) * sizeof *order);
    size_t total = 0;
    sort_by_size(blocks, order, n);
    for (int k = 0; k < n; k++) {
        mem_block *b = &blocks[order[k]];
        b->offset = lowest_fit(blocks, order, k, b);
        if (b->offset + b->size > total)
            total = b->offset + b->size;
    }
    free(order);
    return round_up(total);
}
