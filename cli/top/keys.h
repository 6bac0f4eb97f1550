/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The keys of `iohazard top`, as data: one table of {keys, views, action, help}. The live view
 * looks keys up in it (ui_curses.c), and the help screen, the key bar at the bottom and the
 * "Keys:" paragraph of `iohazard top --help` are generated from it (render_text.c), so they
 * cannot disagree with what a key does. tests/unit/test_top_keys.c checks that docs/cli.md
 * and the man page name every key the table shows.
 *
 * Actions are verbs; each view decides what a verb means there (Up selects the hazard above in
 * the table and scrolls in the details), like htop's Action.c.
 */
#ifndef IOH_TOP_KEYS_H
#define IOH_TOP_KEYS_H

#include <stddef.h>
#include <stdint.h>

enum top_view { TOP_VIEW_TABLE, TOP_VIEW_DETAILS, TOP_VIEW_HELP, TOP_VIEW__MAX };

/* A set of views, for the rows of the table. */
#define TOP_IN(v) (1u << (v))
#define TOP_IN_TABLE TOP_IN(TOP_VIEW_TABLE)
#define TOP_IN_DETAILS TOP_IN(TOP_VIEW_DETAILS)
#define TOP_IN_HELP TOP_IN(TOP_VIEW_HELP)

enum top_action {
	TOP_ACT_NONE,
	TOP_ACT_QUIT,
	TOP_ACT_HELP,
	TOP_ACT_UP,
	TOP_ACT_DOWN,
	TOP_ACT_PAGE_UP,
	TOP_ACT_PAGE_DOWN,
	TOP_ACT_FIRST,
	TOP_ACT_LAST,
	TOP_ACT_OPEN, /* details of the selected hazard */
	TOP_ACT_BACK, /* to the previous view */
	TOP_ACT_SORT,
	TOP_ACT_REVERSE,
	TOP_ACT_FILTER,
	TOP_ACT_PAUSE, /* a toggle: pause, resume */
	TOP_ACT_REDRAW,
	TOP_ACT__MAX,
};

/* The code of a row that takes every key not bound before it in the same view. */
#define TOP_KEY_ANY (-1)
#define TOP_KEY_BINDS_MAX 8 /* codes of one row, with room for the 0 that ends them */

struct top_key_bind {
	int code;	  /* a curses key code: a character, KEY_UP, ...; 0 ends the list */
	const char *name; /* as the help and the docs write it; NULL: another code of the
			   * same physical key (Enter sends '\r', '\n' or KEY_ENTER) */
	enum top_action action;
};

struct top_key {
	struct top_key_bind binds[TOP_KEY_BINDS_MAX];
	unsigned views;	      /* TOP_IN_* where these bindings apply */
	const char *help;     /* the line of the help screen */
	const char *brief;    /* a word or two: the key bar and `top --help` */
	unsigned bar_views;   /* TOP_IN_* whose key bar shows it */
	const char *bar_keys; /* the keys as the bar shows them; NULL: the first name */
	const char *brief_on; /* `brief` while the action's toggle is on (pause: "resume") */
};

extern const struct top_key top_keys[];
extern const size_t top_keys_count;

/* The action of `code` in `view`: the first row of the view that binds it, else NONE. */
enum top_action top_key_action(enum top_view view, int code);

/* Bit of an action in the masks of top_render_keybar(). */
#define TOP_ACT_BIT(a) (1u << (a))

#endif
