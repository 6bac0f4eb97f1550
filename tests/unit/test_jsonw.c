// SPDX-License-Identifier: GPL-2.0-only
/*
 * The JSON writer's nesting checks: balanced documents finish clean; closing a container that
 * was never opened, nesting past JSONW_MAX_DEPTH or leaving one open is a caller bug that
 * aborts (assert) in this debug build, in a child process so the suite goes on.
 */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/util/jsonw.h"
#include "tests/unit/check.h"

enum misuse { END_WITHOUT_BEGIN, TOO_DEEP, LEFT_OPEN };

/* Runs one misuse in a child; returns the signal that ended it, or 0 if it exited. */
static int child_signal(enum misuse what)
{
	pid_t pid;
	int status;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct strbuf sb;
		struct jsonw w;

		/* The assertion message is expected: keep the test output clean. */
		if (!freopen("/dev/null", "w", stderr))
			_exit(3);
		strbuf_init(&sb);
		jsonw_init(&w, &sb);
		switch (what) {
		case END_WITHOUT_BEGIN:
			jsonw_obj_begin(&w);
			jsonw_obj_end(&w);
			jsonw_arr_end(&w);
			break;
		case TOO_DEEP:
			for (int i = 0; i < JSONW_MAX_DEPTH; i++)
				jsonw_arr_begin(&w);
			break;
		case LEFT_OPEN:
			jsonw_obj_begin(&w);
			jsonw_key(&w, "a");
			jsonw_arr_begin(&w);
			jsonw_arr_end(&w);
			break;
		}
		_exit(jsonw_finish(&w) == 0 ? 0 : 2);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

int main(void)
{
	TEST_CASE("balanced nesting up to the maximum depth finishes clean")
	{
		struct strbuf sb;
		struct jsonw w;

		strbuf_init(&sb);
		jsonw_init(&w, &sb);
		for (int i = 0; i < JSONW_MAX_DEPTH - 1; i++)
			jsonw_arr_begin(&w);
		jsonw_int(&w, 1);
		for (int i = 0; i < JSONW_MAX_DEPTH - 1; i++)
			jsonw_arr_end(&w);
		CHECK_INT(jsonw_finish(&w), 0);
		CHECK_STR(sb.buf, "[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]");
		strbuf_free(&sb);
	}

	TEST_CASE("nesting bugs abort instead of writing unbalanced JSON")
	{
		CHECK_INT(child_signal(END_WITHOUT_BEGIN), SIGABRT);
		CHECK_INT(child_signal(TOO_DEEP), SIGABRT);
		CHECK_INT(child_signal(LEFT_OPEN), SIGABRT);
	}
	return check_summary();
}
