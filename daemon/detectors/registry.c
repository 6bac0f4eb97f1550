// SPDX-License-Identifier: GPL-2.0-only
#include "daemon/detectors/detectors.h"

const struct ioh_detector *const ioh_detectors[] = {
    &ioh_detector_rename_durability,  &ioh_detector_mixed_direct_buffered,
    &ioh_detector_dirty_throttle,     &ioh_detector_splice_stall,
    &ioh_detector_writeback_exposure, &ioh_detector_fsync_error_retried,
};

const unsigned ioh_detectors_count = sizeof(ioh_detectors) / sizeof(ioh_detectors[0]);
