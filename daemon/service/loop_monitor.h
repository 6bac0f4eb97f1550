/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Blindness of the event loop itself, seen from outside it. The loop pets the monitor on
 * every tick; a thread of the monitor checks the age of the last pet. When the loop has not
 * run for IOH_LOOP_STALL_NS (a callback stuck in the kernel, the process stopped), the
 * thread logs it at once, while the loop cannot, and the next pet returns how long the
 * loop was gone so the daemon turns it into a blind episode (status, metrics, journal).
 */
#ifndef IOH_LOOP_MONITOR_H
#define IOH_LOOP_MONITOR_H

#include <stdint.h>

/* Fifteen ticks: far above a busy turn of the loop (RECORDS_PER_TURN, one resolver
 * deadline) and above the scheduling delays of an overloaded host (2.3 s seen with a load of
 * 10 on 2 CPUs), far below the systemd watchdog (30 s). Events of a shorter stall wait in the
 * ring buffer and are handled late, not lost (a full buffer is counted as loss anyway). */
#define IOH_LOOP_STALL_NS (3000ull * 1000000ull)

struct ioh_loop_monitor;

int ioh_loop_monitor_start(struct ioh_loop_monitor **out);
void ioh_loop_monitor_free(struct ioh_loop_monitor *m);

/* From the loop, with CLOCK_MONOTONIC now. Returns how long the loop was gone when that was
 * longer than IOH_LOOP_STALL_NS (the gap since the previous pet), else 0. */
uint64_t ioh_loop_monitor_pet(struct ioh_loop_monitor *m, uint64_t now_ns);

/* Nanoseconds the loop has been gone right now, if over the limit, else 0 (any thread). */
uint64_t ioh_loop_monitor_stalled_ns(struct ioh_loop_monitor *m);

#endif
