/* net_sync.h — keeping the ranks' copies of a network the same: rank 0's
 * parameters to every rank (after initialisation or a checkpoint load),
 * and a checksum of the trained weights to check they still agree. */
#ifndef STRATA_NET_SYNC_H
#define STRATA_NET_SYNC_H

#include <stdint.h>
#include "model/network.h"

/* Every parameter (buffers included: batch norm's running statistics)
 * from rank 0. */
void net_sync_from_rank0(network *net);
/* Only the buffers (parameters flagged STRATA_PARAM_BUFFER) from rank 0. */
void net_sync_buffers(network *net);
/* FNV-1a over the bits of the trained parameters (buffers excluded: each
 * rank's batch norm statistics are its own until net_sync_buffers). */
uint64_t net_weights_checksum(const network *net);

#endif
