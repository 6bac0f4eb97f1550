// SPDX-License-Identifier: GPL-2.0-only
/*
 * The key table of `iohazard top` (keys.h). Only the key codes come from curses' header
 * (KEY_UP is a number there); no curses function is called here, so the table links into the
 * unit tests without a terminal.
 */
#include <ncursesw/curses.h>

#include "cli/top/keys.h"

#define CTRL(c) ((c)&0x1f)
#define ESC 27
#define DEL 127 /* what many terminals send for Backspace */

/* Rows in the order the help screen, the key bar and `top --help` list them. */
const struct top_key top_keys[] = {
    {
	.binds = {{'q', "q", TOP_ACT_QUIT}, {'Q', "Q", TOP_ACT_QUIT}},
	.views = TOP_IN_TABLE | TOP_IN_DETAILS | TOP_IN_HELP,
	.help = "quit (also Ctrl-C)",
	.brief = "quit",
	.bar_views = TOP_IN_TABLE | TOP_IN_DETAILS | TOP_IN_HELP,
    },
    {
	.binds = {{'?', "?", TOP_ACT_HELP},
		  {'h', "h", TOP_ACT_HELP},
		  {KEY_F(1), "F1", TOP_ACT_HELP}},
	.views = TOP_IN_TABLE | TOP_IN_DETAILS,
	.help = "this help; any key closes it",
	.brief = "help",
	.bar_views = TOP_IN_TABLE | TOP_IN_DETAILS,
    },
    {
	.binds = {{KEY_UP, "Up", TOP_ACT_UP},
		  {'k', "k", TOP_ACT_UP},
		  {KEY_DOWN, "Down", TOP_ACT_DOWN},
		  {'j', "j", TOP_ACT_DOWN}},
	.views = TOP_IN_TABLE | TOP_IN_DETAILS,
	.help = "select a hazard (scroll, in details)",
	.brief = "move/scroll",
	.bar_views = TOP_IN_DETAILS, /* when the details do not fit */
	.bar_keys = "Up/Down",
    },
    {
	.binds = {{KEY_PPAGE, "PgUp", TOP_ACT_PAGE_UP},
		  {KEY_NPAGE, "PgDn", TOP_ACT_PAGE_DOWN},
		  {' ', "Space", TOP_ACT_PAGE_DOWN}},
	.views = TOP_IN_TABLE | TOP_IN_DETAILS,
	.help = "a page up, down (half a page in details)",
	.brief = "page",
    },
    {
	.binds = {{KEY_HOME, "Home", TOP_ACT_FIRST},
		  {'g', "g", TOP_ACT_FIRST},
		  {KEY_END, "End", TOP_ACT_LAST},
		  {'G', "G", TOP_ACT_LAST}},
	.views = TOP_IN_TABLE,
	.help = "the first, the last hazard",
	.brief = "first/last",
    },
    {
	.binds = {{'\r', "Enter", TOP_ACT_OPEN},
		  {'\n', NULL, TOP_ACT_OPEN},
		  {KEY_ENTER, NULL, TOP_ACT_OPEN},
		  {KEY_RIGHT, "Right", TOP_ACT_OPEN}},
	.views = TOP_IN_TABLE,
	.help = "details of the selected hazard: evidence and the fix",
	.brief = "details",
	.bar_views = TOP_IN_TABLE,
    },
    {
	.binds = {{ESC, "Esc", TOP_ACT_BACK},
		  {KEY_LEFT, "Left", TOP_ACT_BACK},
		  {KEY_BACKSPACE, "Backspace", TOP_ACT_BACK},
		  {DEL, NULL, TOP_ACT_BACK},
		  {'\r', "Enter", TOP_ACT_BACK},
		  {'\n', NULL, TOP_ACT_BACK},
		  {KEY_ENTER, NULL, TOP_ACT_BACK}},
	.views = TOP_IN_DETAILS,
	.help = "back from details to the table",
	.brief = "back",
	.bar_views = TOP_IN_DETAILS,
	.bar_keys = "Esc/Left",
    },
    {
	.binds = {{'s', "s", TOP_ACT_SORT}},
	.views = TOP_IN_TABLE | TOP_IN_DETAILS,
	.help = "next sort: severity, last seen, count, first seen, rule, path",
	.brief = "sort",
	.bar_views = TOP_IN_TABLE,
    },
    {
	.binds = {{'r', "r", TOP_ACT_REVERSE}},
	.views = TOP_IN_TABLE | TOP_IN_DETAILS,
	.help = "reverse the sort order",
	.brief = "reverse",
	.bar_views = TOP_IN_TABLE,
    },
    {
	.binds = {{'f', "f", TOP_ACT_FILTER}},
	.views = TOP_IN_TABLE | TOP_IN_DETAILS,
	.help = "filter by rule: cycles through the rules seen, then all rules",
	.brief = "filter",
	.bar_views = TOP_IN_TABLE,
    },
    {
	.binds = {{'p', "p", TOP_ACT_PAUSE}},
	.views = TOP_IN_TABLE | TOP_IN_DETAILS,
	.help = "pause (the daemon's data is kept and shown when you resume)",
	.brief = "pause",
	.brief_on = "resume",
	.bar_views = TOP_IN_TABLE,
    },
    {
	.binds = {{CTRL('l'), "Ctrl-L", TOP_ACT_REDRAW}},
	.views = TOP_IN_TABLE | TOP_IN_DETAILS,
	.help = "redraw a screen garbled by other output",
	.brief = "redraw",
    },
    {
	.binds = {{TOP_KEY_ANY, "any other key", TOP_ACT_BACK}},
	.views = TOP_IN_HELP,
	.help = "back from this help",
	.brief = "back",
	.bar_views = TOP_IN_HELP,
	.bar_keys = "any key:",
    },
};

const size_t top_keys_count = sizeof(top_keys) / sizeof(top_keys[0]);

enum top_action top_key_action(enum top_view view, int code)
{
	for (size_t i = 0; i < top_keys_count; i++) {
		const struct top_key *k = &top_keys[i];

		if (!(k->views & TOP_IN(view)))
			continue;
		for (size_t b = 0; b < TOP_KEY_BINDS_MAX && k->binds[b].code; b++)
			if (k->binds[b].code == code || k->binds[b].code == TOP_KEY_ANY)
				return k->binds[b].action;
	}
	return TOP_ACT_NONE;
}
