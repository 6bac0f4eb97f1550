/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The interactive `iohazard top`: the only part of the CLI that knows about curses
 * (cli/top/ui_curses.c). It owns the terminal and the keys; the caller owns the socket, the
 * clock and the main loop (poll() on the socket and on stdin), so the view never blocks on
 * the daemon and the daemon never waits on a slow terminal.
 */
#ifndef IOH_TOP_UI_H
#define IOH_TOP_UI_H

#include <stdbool.h>
#include <stdint.h>

#include "cli/top/model.h"

struct top_ui;

/* Whether this process can run the live view: stdin and stdout are terminals and TERM names a
 * terminal curses knows (not unset, empty or "dumb"). 0, or -1 with a sentence in *why. */
int top_ui_check_terminal(const char **why);
/* Takes over the terminal. `host` is shown in the header. 0 or -errno. */
int top_ui_init(struct top_ui **ui, struct top_model *model, const char *host);
/* Reads every pending key (and KEY_RESIZE after SIGWINCH). Returns true when the user quit. */
bool top_ui_input(struct top_ui *ui);
/* Draws when something changed since the last draw, or always when `tick` (ages move). */
void top_ui_draw(struct top_ui *ui, int64_t now_realtime_ns, bool tick);
/* Gives the terminal back as it was. Accepts NULL. */
void top_ui_fini(struct top_ui *ui);

#endif
