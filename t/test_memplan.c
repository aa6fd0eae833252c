/* test_memplan.c — the arena planner: blocks live together never share
 * bytes, blocks that are not may, offsets are aligned, and the plan is the
 * same every time. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include "train/memplan.h"
#include "testlib.h"

static uint64_t rng = 12345;

static unsigned next(unsigned n)
{
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (unsigned)(rng >> 33) % n;
}

START_TEST(test_no_conflicts_random)
{
    for (int trial = 0; trial < 200; trial++) {
        int n = 1 + (int)next(60);
        mem_block b[60];
        for (int i = 0; i < n; i++) {
            int a = (int)next(100), len = (int)next(30);
            b[i] = (mem_block){.size = 1 + next(5000), .first = a, .last = a + len};
        }
        size_t arena = memplan_place(b, n);
        for (int i = 0; i < n; i++) {
            ck_assert_uint_eq(b[i].offset % MEMPLAN_ALIGN, 0);
            ck_assert_uint_le(b[i].offset + b[i].size, arena);
            for (int j = 0; j < i; j++)
                ck_assert_msg(!memplan_conflict(&b[i], &b[j]), "trial %d: blocks %d and %d overlap", trial, i, j);
        }
    }
}
END_TEST

START_TEST(test_disjoint_lifetimes_share)
{
    mem_block b[3] = {{.size = 1000, .first = 0, .last = 1},
                      {.size = 1000, .first = 2, .last = 3},  /* after the first: may take its place */
                      {.size = 500, .first = 1, .last = 2}};  /* live with both */
    size_t arena = memplan_place(b, 3);
    ck_assert_uint_eq(b[0].offset, b[1].offset);
    ck_assert(b[2].offset >= 1000);
    ck_assert_uint_eq(arena, 1024 + 512);
}
END_TEST

START_TEST(test_all_live_is_the_sum)
{
    mem_block b[4];
    size_t sum = 0;
    for (int i = 0; i < 4; i++) {
        b[i] = (mem_block){.size = 100 * (i + 1), .first = 0, .last = 10};
        sum += (b[i].size + MEMPLAN_ALIGN - 1) / MEMPLAN_ALIGN * MEMPLAN_ALIGN;
    }
    ck_assert_uint_eq(memplan_place(b, 4), sum);
}
END_TEST

START_TEST(test_deterministic)
{
    mem_block a[20], b[20];
    for (int i = 0; i < 20; i++)
        a[i] = b[i] = (mem_block){.size = 64 * (1 + i % 3), .first = i % 7, .last = i % 7 + i % 4};
    ck_assert_uint_eq(memplan_place(a, 20), memplan_place(b, 20));
    for (int i = 0; i < 20; i++)
        ck_assert_uint_eq(a[i].offset, b[i].offset);
}
END_TEST

int main(void)
{
    return RUN_TEST_CASES("memplan",
        {.name = "place",
         .tests = TESTS(test_no_conflicts_random, test_disjoint_lifetimes_share, test_all_live_is_the_sum,
                        test_deterministic)});
}
