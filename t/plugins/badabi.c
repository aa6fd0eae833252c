/* badabi.c — test-only modules that strata must refuse, one per way a
 * descriptor can be wrong. Built several times (see t/core.mk) with
 * BADABI_MODE:
 *   0  badabi.so      — claims ABI version 99
 *   1  refuseabi.so   — returns NULL: it speaks only ABI 99
 *   2  noname.so      — right ABI, empty name
 *   3  unknownkind.so — right ABI, kind 9
 *   4  noops.so       — a layer without its operations table */
#include <stddef.h>
#include <strata/plugin.h>

#ifndef BADABI_MODE
#define BADABI_MODE 0
#endif

static const strata_plugin desc = {
    .abi_version = BADABI_MODE == 0 ? 99 : STRATA_ABI_VERSION,
    .kind = BADABI_MODE == 3 ? (strata_plugin_kind)9 : STRATA_PLUGIN_LAYER,
    .name = BADABI_MODE == 2 ? "" : "badabi",
    .version = "0.0",
    .description = "a module strata must refuse",
    .layer = NULL,
    .optimizer = NULL,
};

const strata_plugin *STRATA_PLUGIN_ENTRY(int host_abi_version)
{
    if (BADABI_MODE == 1 && host_abi_version != 99)
        return NULL;
    return &desc;
}
