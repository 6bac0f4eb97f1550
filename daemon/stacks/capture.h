/* SPDX-License-Identifier: GPL-2.0-only */
/* Capture glue between the kernel's STACK records and the unwinder (capture.c). */
#ifndef IOH_STACKS_CAPTURE_H
#define IOH_STACKS_CAPTURE_H

#include <stdbool.h>

#include "daemon/stacks/stack.h"

/*
 * A kernel hint of an exited task (path, dev, ino, range, pgoff): reads the build id and ELF
 * address from the file at the path if it is the same inode on the same device. Returns
 * whether a build id was found.
 */
bool ioh_stack_hint_fill(struct ioh_stack_module *m);

#endif
