// SPDX-License-Identifier: GPL-2.0-only
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "daemon/util/duration.h"

const char *ioh_format_duration(uint64_t ns, char *buf, size_t size)
{
	static const struct {
		const char *name;
		double ns;   /* one of this unit */
		double next; /* where the next unit takes over, in this unit */
	} units[] = {
	    {"ns", 1, 1000},   {"µs", 1e3, 1000}, {"ms", 1e6, 1000}, {"s", 1e9, 60},
	    {"min", 60e9, 60}, {"h", 3600e9, 24}, {"d", 86400e9, 0},
	};
	size_t u = 0;
	double v = (double)ns;

	/* Pick the unit on the rounded value: 999.7 µs shows as "1ms", not "1000µs". */
	for (;;) {
		double in_unit = v / units[u].ns;
		double shown = in_unit < 9.95 ? round(in_unit * 10) / 10 : round(in_unit);

		if (units[u].next == 0 || shown < units[u].next) {
			if (shown != floor(shown))
				snprintf(buf, size, "%.1f%s", shown, units[u].name);
			else
				snprintf(buf, size, "%.0f%s", shown, units[u].name);
			return buf;
		}
		u++;
	}
}
