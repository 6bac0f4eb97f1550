// SPDX-License-Identifier: GPL-2.0-only
/*
 * The (pid, callsite) -> chain table (daemon/stacks/table.h) and how findings get their
 * evidence from it: a kept chain is attached, an unknown key says "omitted", a disabled table
 * "disabled", findings of no user call carry no stack evidence at all; full sets evict the
 * least recently used entry and count it. Chains here come from snapshots that cannot be
 * unwound (no modules), so the unwinder reports them unresolved, which is itself the status to
 * carry.
 */
#include <string.h>

#include "daemon/correlator/correlator.h"
#include "daemon/sinks/finding_format.h"
#include "daemon/stacks/table.h"
#include "tests/unit/check.h"

static struct ioh_event stack_event(uint32_t pid, uint64_t callsite)
{
	static uint8_t bytes[64];
	struct ioh_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = IOH_EV_STACK;
	ev.pid = pid;
	ev.callsite = callsite;
	ev.stack.pid = pid;
	ev.stack.callsite = callsite;
	ev.stack.regs[IOH_STACK_REG_IP] = 0x401000;
	ev.stack.regs[IOH_STACK_REG_SP] = 0x7ffc0000;
	ev.stack.regs_mask = (1u << IOH_STACK_NREGS) - 1;
	ev.stack.stack = bytes;
	ev.stack.stack_len = sizeof(bytes);
	return ev;
}

static void test_lookup(void)
{
	struct ioh_stacks *t = ioh_stacks_new(8);
	struct ioh_stacks_stats st;
	struct ioh_stack_chain c;
	struct ioh_event ev;

	CHECK(t != NULL);
	if (!t)
		return;
	TEST_CASE("a kept chain is found by (pid, callsite) only")
	{
		ev = stack_event(100, 0xabc);
		ioh_stacks_feed(t, &ev);
		ioh_stacks_lookup(t, 100, 0xabc, &c);
		CHECK_INT(c.status, IOH_STACK_UNRESOLVED);
		ioh_stacks_lookup(t, 101, 0xabc, &c);
		CHECK_INT(c.status, IOH_STACK_OMITTED);
		ioh_stacks_lookup(t, 100, 0xabd, &c);
		CHECK_INT(c.status, IOH_STACK_OMITTED);
		ioh_stacks_lookup(t, 100, 0, &c); /* the kernel took none */
		CHECK_INT(c.status, IOH_STACK_OMITTED);
		ioh_stacks_get_stats(t, &st);
		CHECK_INT(st.snapshots, 1);
		CHECK_INT(st.unresolved, 1);
		CHECK_INT(st.attached, 1);
		CHECK_INT(st.omitted, 3);
		CHECK_INT(st.capacity, 8);
	}

	TEST_CASE("full sets evict the least recently used chain, counted")
	{
		for (uint64_t k = 1; k <= 64; k++) {
			ev = stack_event(200, k);
			ioh_stacks_feed(t, &ev);
		}
		ioh_stacks_get_stats(t, &st);
		CHECK_INT(st.entries, 8);
		CHECK(st.evictions >= 64 + 1 - 8);
		ioh_stacks_lookup(t, 200, 64, &c); /* the newest is kept */
		CHECK_INT(c.status, IOH_STACK_UNRESOLVED);
	}

	TEST_CASE("disabled: every lookup says so, STACK events are ignored")
	{
		ioh_stacks_set_enabled(t, false);
		ev = stack_event(300, 7);
		ioh_stacks_feed(t, &ev);
		ioh_stacks_lookup(t, 200, 64, &c);
		CHECK_INT(c.status, IOH_STACK_DISABLED);
		ioh_stacks_get_stats(t, &st);
		CHECK_INT(st.snapshots, 65);
		ioh_stacks_set_enabled(t, true);
	}
	ioh_stacks_free(t);
}

static void test_evidence(void)
{
	struct ioh_finding f;
	struct strbuf sb;
	static const struct ioh_stack_frame frames[] = {
	    {.pc = 0x7f0000001000,
	     .module = "/usr/lib/x86_64-linux-gnu/libc.so.6",
	     .offset = 0x1000,
	     .function = "rename"},
	    {.pc = 0x555500001234,
	     .module = "/usr/bin/app",
	     .build_id = "abcd",
	     .offset = 0x1234,
	     .function = "save_config",
	     .file = "/src/app/config.c",
	     .line = 118},
	    {.pc = 0x555500002000, .module = "/usr/bin/app", .offset = 0x2000},
	};

	TEST_CASE("evidence.stack and stack_status in JSON, the call site in text")
	{
		memset(&f, 0, sizeof(f));
		f.rule = "rename-without-dir-fsync";
		f.user_call = true;
		f.stack.status = IOH_STACK_OK;
		f.stack.frames = frames;
		f.stack.n_frames = 3;
		strbuf_init(&sb);
		ioh_finding_json(&f, 0, &sb);
		CHECK(strstr(sb.buf,
			     "\"stack_status\":\"ok\",\"stack\":[{\"module\":\"/usr/lib/"
			     "x86_64-linux-gnu/libc.so.6\",\"build_id\":null,\"offset\":4096,"
			     "\"function\":\"rename\",\"file\":null,\"line\":0}") != NULL);
		CHECK(strstr(sb.buf,
			     "{\"module\":\"/usr/bin/app\",\"build_id\":null,\"offset\":8192,"
			     "\"function\":null,\"file\":null,\"line\":0}]") != NULL);
		strbuf_free(&sb);
		strbuf_init(&sb);
		ioh_finding_text(&f, 0, &sb);
		CHECK(strstr(sb.buf, " at save_config (config.c:118) in /usr/bin/app -- fix") !=
		      NULL);
		strbuf_free(&sb);
	}

	TEST_CASE("omitted, disabled, and no user call at all")
	{
		memset(&f, 0, sizeof(f));
		f.rule = "splice-stall";
		f.stack.status = IOH_STACK_OMITTED;
		strbuf_init(&sb);
		ioh_finding_json(&f, 0, &sb);
		CHECK(strstr(sb.buf, "\"stack_status\":\"omitted\"}") != NULL);
		CHECK(strstr(sb.buf, "\"stack\":") == NULL);
		strbuf_free(&sb);
		strbuf_init(&sb);
		ioh_finding_text(&f, 0, &sb);
		CHECK(strstr(sb.buf, " (stack omitted) -- fix") != NULL);
		strbuf_free(&sb);
		f.stack.status = IOH_STACK_NONE;
		strbuf_init(&sb);
		ioh_finding_json(&f, 0, &sb);
		CHECK(strstr(sb.buf, "stack") == NULL);
		strbuf_free(&sb);
	}
}

int main(void)
{
	test_lookup();
	test_evidence();
	return check_summary();
}
