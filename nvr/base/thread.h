/* SPDX-License-Identifier: MIT */
/*
 * Which thread is this? The recorder marks its libuv loop thread while the
 * loop runs, so code that must never run there (disk and SQLite work)
 * asserts it is elsewhere: a programmer error caught by every test that
 * runs the recorder, not a comment to trust.
 */
#ifndef NVR_BASE_THREAD_H
#define NVR_BASE_THREAD_H

/* Marks (1) or unmarks (0) the calling thread as the event-loop thread. */
void nvr_thread_set_loop(int is_loop);

/* 1 if the calling thread is marked as the event-loop thread. */
int nvr_thread_is_loop(void);

/* Aborts, naming the caller, when blocking disk or database work runs on
 * the loop thread. On in every build type: it costs one thread-local read. */
#define NVR_ASSERT_NOT_LOOP()                   \
    do {                                        \
        if (nvr_thread_is_loop())               \
            nvr_thread_abort_on_loop(__func__); \
    } while (0)

/* Logs that fn ran on the loop thread and aborts. */
_Noreturn void nvr_thread_abort_on_loop(const char *fn);

#endif
