/* launcher.c — see dist.h (dist_launcher_size) */
#include <stdlib.h>
#include "dist/dist.h"

/* OpenMPI's mpirun sets OMPI_COMM_WORLD_SIZE; PMI launchers (Slurm's srun)
 * PMI_SIZE; a PMIx launcher PMIX_RANK (its size then unknown here: 1). */
int dist_launcher_size(void)
{
    const char *vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"};
    for (int i = 0; i < 2; i++) {
        const char *v = getenv(vars[i]);
        if (v && *v)
            return atoi(v) > 0 ? atoi(v) : 1;
    }
    return getenv("PMIX_RANK") ? 1 : 0;
}
