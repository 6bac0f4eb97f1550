// SPDX-License-Identifier: GPL-2.0-only
/*
 * The curses side of `iohazard top`, and the only file that includes curses. Every line comes
 * from render_text.c already escaped and fitted; this file adds colour, the selection bar and
 * the keys. Each view (hazard table, details, help) is an init/loop/fini triple: `loop` takes
 * one action, `draw` paints the view, and fini returns to the previous view. Keys become
 * actions through the key table (cli/top/keys.c), which also writes the key bar and the help.
 */
#include <errno.h>
#include <ncursesw/curses.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/top/keys.h"
#include "cli/top/render_text.h"
#include "cli/top/ui.h"

#define MIN_COLS 80
#define MIN_LINES 24
#define HEADER_LINES 4
#define PANEL_LINES 6 /* dirty-throttle and splice panel at the bottom, at 24 lines */

enum { PAIR_CRIT = 1, PAIR_WARN, PAIR_NOTE, PAIR_TITLE };

struct top_ui {
	struct top_model *model;
	const char *host;
	SCREEN *screen;
	enum top_view view;
	enum top_view back;    /* where help returns to */
	size_t details_scroll; /* first line shown in the details view */
	bool dirty;	       /* a key or a resize changed what is shown */
	bool quit;
	bool colors;
	int64_t now_ns; /* realtime of this draw, for the ages in the table */
};

struct view {
	void (*init)(struct top_ui *ui);
	/* One action (cli/top/keys.h); returns false if the view did not use it (then the
	 * actions of every view apply). */
	bool (*loop)(struct top_ui *ui, enum top_action action);
	void (*draw)(struct top_ui *ui);
	void (*fini)(struct top_ui *ui);
};

static const struct view views[TOP_VIEW__MAX];

static void switch_view(struct top_ui *ui, enum top_view next)
{
	if (views[ui->view].fini)
		views[ui->view].fini(ui);
	ui->view = next;
	if (views[next].init)
		views[next].init(ui);
	ui->dirty = true;
}

/* ---- drawing helpers ------------------------------------------------------------------------ */

/* Lines are fitted to COLS - 1: writing the last column of the last line would scroll. */
static int draw_width(void)
{
	return COLS - 1;
}

static void put_line(int y, const char *text, attr_t attr, bool fill)
{
	if (y < 0 || y >= LINES)
		return;
	attron(attr);
	mvaddstr(y, 0, text);
	if (fill) {
		int x = getcurx(stdscr);

		for (; x < draw_width(); x++)
			addch(' ');
	}
	attroff(attr);
}

static void put_fitted(int y, const char *text, attr_t attr, bool fill)
{
	struct strbuf sb;

	strbuf_init(&sb);
	top_put_fitted(&sb, text, draw_width(), false, false);
	put_line(y, sb.buf ? sb.buf : "", attr, fill);
	strbuf_free(&sb);
}

/* The key bar of the current view from the key table, then `extra`. */
static void draw_keys(struct top_ui *ui, unsigned on, unsigned off, const char *extra)
{
	struct strbuf sb;

	strbuf_init(&sb);
	top_render_keybar(ui->view, on, off, &sb);
	if (extra)
		strbuf_puts(&sb, extra);
	put_fitted(LINES - 1, sb.buf ? sb.buf : "", A_REVERSE, true);
	strbuf_free(&sb);
}

static bool too_small(void)
{
	if (COLS >= MIN_COLS && LINES >= MIN_LINES)
		return false;
	erase();
	mvprintw(0, 0, "iohazard top needs at least %dx%d;", MIN_COLS, MIN_LINES);
	mvprintw(1, 0, "this terminal is %dx%d.", COLS, LINES);
	mvprintw(2, 0, "Enlarge it, or press q.");
	return true;
}

static attr_t severity_attr(struct top_ui *ui, int severity)
{
	if (!ui->colors)
		return severity >= 3 ? A_BOLD : A_NORMAL;
	switch (severity) {
	case 3:
		return COLOR_PAIR(PAIR_CRIT) | A_BOLD;
	case 2:
		return COLOR_PAIR(PAIR_WARN);
	case 1:
		return COLOR_PAIR(PAIR_NOTE);
	default:
		return A_NORMAL;
	}
}

/* ---- the hazard table ----------------------------------------------------------------------- */

static size_t table_visible(void)
{
	int n =
	    LINES - HEADER_LINES - 1 /* table header */ - 1 /* gap */ - PANEL_LINES - 1 /* keys */;

	return n > 0 ? (size_t)n : 0;
}

static bool table_loop(struct top_ui *ui, enum top_action action)
{
	struct top_model *m = ui->model;
	long page = (long)table_visible();

	switch (action) {
	case TOP_ACT_UP:
		top_model_move(m, -1);
		return true;
	case TOP_ACT_DOWN:
		top_model_move(m, 1);
		return true;
	case TOP_ACT_PAGE_UP:
		top_model_move(m, -(page > 1 ? page - 1 : 1));
		return true;
	case TOP_ACT_PAGE_DOWN:
		top_model_move(m, page > 1 ? page - 1 : 1);
		return true;
	case TOP_ACT_FIRST:
		top_model_select_first(m);
		return true;
	case TOP_ACT_LAST:
		top_model_select_last(m);
		return true;
	case TOP_ACT_OPEN:
		if (top_model_selected(m))
			switch_view(ui, TOP_VIEW_DETAILS);
		return true;
	default:
		return false;
	}
}

static void table_draw(struct top_ui *ui)
{
	struct top_model *m = ui->model;
	struct top_hazard *const *rows;
	struct top_lines header, panel;
	struct top_columns cols;
	struct strbuf sb;
	size_t n, visible = table_visible();
	int y;

	top_lines_init(&header);
	top_lines_init(&panel);
	strbuf_init(&sb);
	top_render_header(m, ui->host, draw_width(), ui->now_ns, &header);
	for (size_t i = 0; i < header.n && i < HEADER_LINES; i++)
		put_line((int)i, header.v[i], i == 0 ? A_BOLD : A_NORMAL, false);

	top_columns_layout(m, draw_width(), &cols);
	top_render_table_header(&cols, &sb);
	put_line(HEADER_LINES, sb.buf ? sb.buf : "",
		 ui->colors ? COLOR_PAIR(PAIR_TITLE) | A_BOLD : A_REVERSE, true);
	strbuf_reset(&sb);

	rows = top_model_rows(m, &n);
	top_model_scroll_to_selection(m, visible);
	y = HEADER_LINES + 1;
	if (!n)
		put_line(y,
			 m->filter_rule ? "  (no hazards for this rule; f shows the next rule)"
					: "  (no hazards seen)",
			 A_DIM, false);
	for (size_t i = m->scroll; i < n && i < m->scroll + visible; i++, y++) {
		top_render_row(rows[i], &cols, ui->now_ns, &sb);
		put_line(y, sb.buf ? sb.buf : "",
			 i == m->selected ? A_REVERSE : severity_attr(ui, rows[i]->severity),
			 i == m->selected);
		strbuf_reset(&sb);
	}

	top_render_panel(m, draw_width(), PANEL_LINES, &panel);
	y = LINES - 1 - PANEL_LINES;
	for (size_t i = 0; i < panel.n && i < PANEL_LINES; i++)
		put_line(y + (int)i, panel.v[i], panel.v[i][0] != ' ' ? A_BOLD : A_NORMAL, false);

	strbuf_printf(&sb, "  row %zu/%zu", n ? m->selected + 1 : 0, n);
	draw_keys(ui, m->paused ? TOP_ACT_BIT(TOP_ACT_PAUSE) : 0, 0, sb.buf);
	strbuf_free(&sb);
	top_lines_free(&header);
	top_lines_free(&panel);
}

/* ---- details -------------------------------------------------------------------------------- */

static void details_init(struct top_ui *ui)
{
	ui->details_scroll = 0;
}

static bool details_loop(struct top_ui *ui, enum top_action action)
{
	switch (action) {
	case TOP_ACT_UP:
		if (ui->details_scroll)
			ui->details_scroll--;
		return true;
	case TOP_ACT_DOWN:
		ui->details_scroll++; /* clamped when drawn: the text changes with the data */
		return true;
	case TOP_ACT_PAGE_UP:
		ui->details_scroll = ui->details_scroll > (size_t)LINES / 2
					 ? ui->details_scroll - (size_t)LINES / 2
					 : 0;
		return true;
	case TOP_ACT_PAGE_DOWN:
		ui->details_scroll += (size_t)LINES / 2;
		return true;
	case TOP_ACT_BACK:
		switch_view(ui, TOP_VIEW_TABLE);
		return true;
	default:
		return false;
	}
}

static void details_draw(struct top_ui *ui)
{
	struct top_hazard *h = top_model_selected(ui->model);
	struct top_lines lines;
	size_t room = (size_t)LINES - 2, max_scroll;

	if (!h) {
		switch_view(ui, TOP_VIEW_TABLE);
		views[TOP_VIEW_TABLE].draw(ui);
		return;
	}
	top_lines_init(&lines);
	top_render_details(h, draw_width(), ui->now_ns, &lines);
	max_scroll = lines.n > room ? lines.n - room : 0;
	if (ui->details_scroll > max_scroll)
		ui->details_scroll = max_scroll;
	put_fitted(0, "Hazard details", ui->colors ? COLOR_PAIR(PAIR_TITLE) | A_BOLD : A_REVERSE,
		   true);
	for (size_t i = 0; i < room && ui->details_scroll + i < lines.n; i++)
		put_line((int)i + 1, lines.v[ui->details_scroll + i],
			 i + ui->details_scroll == 0 ? severity_attr(ui, h->severity) | A_BOLD
						     : A_NORMAL,
			 false);
	/* Up/Down only when there is something to scroll to. */
	draw_keys(ui, 0, max_scroll ? 0 : TOP_ACT_BIT(TOP_ACT_UP), NULL);
	top_lines_free(&lines);
}

/* ---- help ----------------------------------------------------------------------------------- */

static bool help_loop(struct top_ui *ui, enum top_action action)
{
	if (action != TOP_ACT_BACK)
		return false;
	switch_view(ui, ui->back);
	return true;
}

static void help_draw(struct top_ui *ui)
{
	struct top_lines lines;

	top_lines_init(&lines);
	top_render_help(&lines);
	put_fitted(0, "Help", ui->colors ? COLOR_PAIR(PAIR_TITLE) | A_BOLD : A_REVERSE, true);
	for (size_t i = 0; i < lines.n && (int)i + 1 < LINES - 1; i++)
		put_fitted((int)i + 1, lines.v[i], A_NORMAL, false);
	draw_keys(ui, 0, 0, NULL);
	top_lines_free(&lines);
}

static const struct view views[TOP_VIEW__MAX] = {
    [TOP_VIEW_TABLE] = {.loop = table_loop, .draw = table_draw},
    [TOP_VIEW_DETAILS] = {.init = details_init, .loop = details_loop, .draw = details_draw},
    [TOP_VIEW_HELP] = {.loop = help_loop, .draw = help_draw},
};

/* ---- the public side ------------------------------------------------------------------------ */

int top_ui_check_terminal(const char **why)
{
	const char *term = getenv("TERM");

	if (!term || !*term) {
		*why = "TERM is not set: the live view needs a terminal (use -b for plain text)";
		return -1;
	}
	if (strcmp(term, "dumb") == 0) {
		*why = "TERM is 'dumb': the live view needs a terminal that can move the cursor "
		       "(use -b for plain text)";
		return -1;
	}
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		*why = "standard input and output must be a terminal for the live view (use -b "
		       "for plain text)";
		return -1;
	}
	return 0;
}

int top_ui_init(struct top_ui **out, struct top_model *model, const char *host)
{
	struct top_ui *ui = calloc(1, sizeof(*ui));

	if (!ui)
		return -ENOMEM;
	/* newterm, not initscr: an unknown TERM is an error to report, not an exit. */
	ui->screen = newterm(NULL, stdout, stdin);
	if (!ui->screen) {
		free(ui);
		return -ENOTTY;
	}
	ui->model = model;
	ui->host = host;
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE); /* the caller's poll() says when a key is there */
	curs_set(0);
	set_escdelay(50);
	if (has_colors()) {
		start_color();
		use_default_colors();
		init_pair(PAIR_CRIT, COLOR_RED, -1);
		init_pair(PAIR_WARN, COLOR_YELLOW, -1);
		init_pair(PAIR_NOTE, COLOR_CYAN, -1);
		init_pair(PAIR_TITLE, COLOR_BLACK, COLOR_CYAN);
		ui->colors = true;
	}
	ui->view = TOP_VIEW_TABLE;
	ui->dirty = true;
	*out = ui;
	return 0;
}

/* Actions that mean the same in every view they are bound in. */
static void global_action(struct top_ui *ui, enum top_action action)
{
	struct top_model *m = ui->model;

	switch (action) {
	case TOP_ACT_QUIT:
		ui->quit = true;
		break;
	case TOP_ACT_HELP:
		if (ui->view != TOP_VIEW_HELP) {
			ui->back = ui->view;
			switch_view(ui, TOP_VIEW_HELP);
		}
		break;
	case TOP_ACT_SORT:
		top_model_next_sort(m);
		break;
	case TOP_ACT_REVERSE:
		top_model_toggle_reverse(m);
		break;
	case TOP_ACT_FILTER:
		top_model_next_filter(m);
		break;
	case TOP_ACT_PAUSE:
		top_model_set_paused(m, !m->paused);
		break;
	case TOP_ACT_REDRAW: /* a terminal garbled by someone else's output */
		clearok(curscr, TRUE);
		break;
	default:
		break;
	}
}

bool top_ui_input(struct top_ui *ui)
{
	int key;

	while ((key = getch()) != ERR) {
		enum top_action action;

		ui->dirty = true;
		if (key == KEY_RESIZE)
			continue; /* ncurses already updated LINES and COLS */
		action = top_key_action(ui->view, key);
		if (!views[ui->view].loop(ui, action))
			global_action(ui, action);
		if (ui->quit)
			break;
	}
	return ui->quit;
}

void top_ui_draw(struct top_ui *ui, int64_t now_ns, bool tick)
{
	if (!tick && !ui->dirty && !ui->model->changed)
		return;
	ui->now_ns = now_ns;
	erase();
	if (!too_small())
		views[ui->view].draw(ui);
	/* refresh() sends only what differs from the screen: cheap on a slow line. */
	refresh();
	ui->dirty = false;
	ui->model->changed = false;
}

void top_ui_fini(struct top_ui *ui)
{
	if (!ui)
		return;
	endwin();
	delscreen(ui->screen);
	free(ui);
}
