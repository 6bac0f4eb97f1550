/* SPDX-License-Identifier: GPL-2.0-only */
/* The detectors the correlator runs, one file per hazard. */
#ifndef IOH_DETECTORS_H
#define IOH_DETECTORS_H

#include "daemon/correlator/correlator.h"

/* rename-without-dir-fsync and rename-unsynced-source (seed case 3). */
extern const struct ioh_detector ioh_detector_rename_durability;
/* mixed-direct-buffered (seed case 2). */
extern const struct ioh_detector ioh_detector_mixed_direct_buffered;
/* dirty-throttle-stall (seed case 4). */
extern const struct ioh_detector ioh_detector_dirty_throttle;
/* splice-stall (seed case 5). */
extern const struct ioh_detector ioh_detector_splice_stall;
/* writeback-mount and writeback-truncate-unsynced (seed case 1). */
extern const struct ioh_detector ioh_detector_writeback_exposure;
/* fsync-error-retried (fsyncgate). */
extern const struct ioh_detector ioh_detector_fsync_error_retried;

/* Room the correlator keeps for detector state. */
#define IOH_DETECTORS_MAX 16

extern const struct ioh_detector *const ioh_detectors[];
extern const unsigned ioh_detectors_count;

#endif
