/* roostctl_wipe.h: process-wide setup of libcurl and Jansson with
 * allocators that wipe memory before freeing it (see roostctl_wipe.c). */
#ifndef ROOST_TOOLS_ROOSTCTL_WIPE_H
#define ROOST_TOOLS_ROOSTCTL_WIPE_H

#include "lib/rs_err.h"

/* Installs the allocators and runs curl_global_init; call once, first,
 * before any other libcurl or Jansson call. 0 or -1. */
int roostctl_wipe_init(void) RS_MUST_CHECK;
/* curl_global_cleanup; call once at exit. */
void roostctl_wipe_cleanup(void);

#endif
