// SPDX-License-Identifier: GPL-2.0-only
/* TEMPORARY until daemon/stacks/unwind.c (h7) is merged: weak stand-ins so the tree links. */
#include <stdlib.h>

#include "daemon/stacks/stack.h"

struct ioh_unwinder {
	int unused;
};

__attribute__((weak)) struct ioh_unwinder *ioh_unwinder_new(void)
{
	return calloc(1, sizeof(struct ioh_unwinder));
}

__attribute__((weak)) void ioh_unwinder_free(struct ioh_unwinder *u)
{
	free(u);
}

__attribute__((weak)) int ioh_unwind(struct ioh_unwinder *u, const struct ioh_stack_snapshot *snap,
				     struct ioh_stack_frame *frames, int max,
				     enum ioh_stack_status *status)
{
	(void)u;
	(void)snap;
	(void)frames;
	(void)max;
	*status = IOH_STACK_UNRESOLVED;
	return 0;
}
