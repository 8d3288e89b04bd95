/* SPDX-License-Identifier: MIT */
/*
 * The terminal UI's loop (see tui.h): terminal set-up and restore (also on
 * Ctrl-C, SIGTERM and crash signals), then, until the operator quits, a
 * model tick, a draw and the keys pressed meanwhile. The model is in
 * tui_model.c, drawing in tui_draw.c, the key tables in tui_keys.c and
 * what the keys do in tui_actions.c.
 */
#include "config.h"
#include "ui-tui/tui.h"

#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <curses.h>

#include "ui-tui/tui_actions.h"
#include "ui-tui/tui_draw.h"
#include "ui-tui/tui_keys.h"
#include "ui-tui/tui_model.h"

/* ---- terminal and signals ------------------------------------------- */

static volatile sig_atomic_t tui_signalled;
static volatile sig_atomic_t tui_curses_on;

static void on_stop_signal(int sig)
{
    tui_signalled = sig;
}

static void on_crash_signal(int sig)
{
    /* endwin() is not async-signal-safe, but the process is dying anyway
     * and an operator's terminal left in raw mode is worse. */
    if (tui_curses_on)
        endwin();
    signal(sig, SIG_DFL);
    raise(sig);
}

struct saved_signals {
    struct sigaction act[6];
};

static const int stop_sigs[] = {SIGINT, SIGTERM, SIGHUP};
static const int crash_sigs[] = {SIGSEGV, SIGABRT, SIGBUS};

static void signals_install(struct saved_signals *s)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_stop_signal;
    for (int i = 0; i < 3; i++)
        sigaction(stop_sigs[i], &sa, &s->act[i]);
    sa.sa_handler = on_crash_signal;
    sa.sa_flags = SA_RESETHAND;
    for (int i = 0; i < 3; i++)
        sigaction(crash_sigs[i], &sa, &s->act[3 + i]);
}

static void signals_restore(const struct saved_signals *s)
{
    for (int i = 0; i < 3; i++)
        sigaction(stop_sigs[i], &s->act[i], NULL);
    for (int i = 0; i < 3; i++)
        sigaction(crash_sigs[i], &s->act[3 + i], NULL);
}

static void curses_start(void)
{
    initscr();
    tui_curses_on = 1;
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    set_escdelay(25);
    curs_set(0);
    if (has_colors()) {
        start_color();
        use_default_colors();
    }
    leaveok(stdscr, TRUE);
}

static int stopped(const struct tui_options *opts)
{
    return tui_signalled || (opts->stop && *opts->stop);
}

/* Every key waiting, then back to the model. A resize is the terminal's
 * doing, not a key binding: the view draws everything again. */
static void read_keys(struct tui_model *m, struct tui_view *v)
{
    int ch;

    timeout(m->playing || m->live ? 10 : 100);
    for (ch = getch(); ch != ERR && !m->quit; ch = getch()) {
        if (ch == KEY_RESIZE)
            tui_draw_invalidate(v);
        else
            tui_keys_press(m, ch);
        timeout(0);
    }
}

int tui_run(const struct tui_options *opts)
{
    struct saved_signals saved;
    struct tui_model m;
    struct tui_view v;
    const char *cs;
    int r;

    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
        return -ENOTTY;
    setlocale(LC_ALL, "");
    cs = nl_langinfo(CODESET);
    r = tui_model_init(&m, opts);
    if (r < 0) {
        tui_model_fini(&m);
        return r;
    }
    tui_signalled = 0;
    signals_install(&saved);
    curses_start();
    r = tui_draw_init(&v, opts->graphics, cs && strcmp(cs, "UTF-8") == 0);
    if (r < 0)
        goto out;
    while (!m.quit && !stopped(opts)) {
        tui_model_tick(&m);
        tui_actions_export_poll(&m);
        tui_draw(&v, &m);
        read_keys(&m, &v);
    }
    r = 0;
out:
    tui_draw_fini(&v);
    endwin();
    tui_curses_on = 0;
    signals_restore(&saved);
    tui_model_fini(&m);
    return r;
}
