/* installcheck_plugin.c — compiled by `make installcheck` against the
 * installed <strata/plugin.h> only, as an out-of-tree plugin would be. */
#include <strata/plugin.h>

static const strata_plugin plugin = {
    .abi_version = STRATA_ABI_VERSION,
    .kind = STRATA_PLUGIN_LAYER,
    .name = "installcheck_plugin",
    .version = "0",
};

const strata_plugin *STRATA_PLUGIN_ENTRY(int host_abi_version)
{
    return host_abi_version == STRATA_ABI_VERSION ? &plugin : 0;
}
