/* progress.c - a progress bar on stderr for long work.
 *
 * Drawn only when stderr is a terminal (or forced), at most ten times a
 * second, so that piping output to a file never fills it with bars. */
#include "config.h"
#include "cli/cli.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void cli_progress_init(struct cli_progress *p, const char *label, bool force)
{
	p->enabled = !cli.quiet && !cli.json && (force || isatty(STDERR_FILENO));
	p->label = label;
	p->last_draw_ms = 0;
	p->last_pct = -1;
}

void cli_progress_cb(void *ctx, uint64_t done, uint64_t total)
{
	struct cli_progress *p = ctx;
	if (!p || !p->enabled)
		return;
	uint64_t t = now_ms();
	int pct = total ? (int)(done * 100 / total) : 0;
	if (pct > 100)
		pct = 100;
	if (pct == p->last_pct || (t - p->last_draw_ms < 100 && pct != 100))
		return;
	p->last_draw_ms = t;
	p->last_pct = pct;
	char bar[41];
	int fill = pct * 40 / 100;
	for (int i = 0; i < 40; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[40] = '\0';
	fprintf(stderr, "\r%s [%s] %3d%%", p->label ? p->label : "", bar, pct);
	fflush(stderr);
}

void cli_progress_done(struct cli_progress *p)
{
	if (p->enabled && p->last_pct >= 0)
		fputc('\n', stderr);
}
