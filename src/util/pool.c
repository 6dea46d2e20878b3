/* pool.c - a fixed-size thread pool with a bounded job queue.
 *
 * The queue bound is the point: a producer that reads faster than the
 * workers compress must wait, so the memory held in queued jobs is at most
 * queue_max jobs, whatever the input size. */
#include "config.h"
#include "util/util.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

struct job {
	void (*fn)(void *);
	void *arg;
};

struct od_pool {
	pthread_mutex_t lock;
	pthread_cond_t not_empty, not_full, idle;
	struct job *q;
	unsigned qmax, head, count;
	unsigned running; /* jobs taken but not finished */
	unsigned nthreads;
	bool stop;
	pthread_t *threads;
};

static void *worker(void *p_)
{
	od_pool *p = p_;
	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (!p->count && !p->stop)
			pthread_cond_wait(&p->not_empty, &p->lock);
		if (!p->count && p->stop)
			break;
		struct job j = p->q[p->head];
		p->head = (p->head + 1) % p->qmax;
		p->count--;
		p->running++;
		pthread_cond_signal(&p->not_full);
		pthread_mutex_unlock(&p->lock);
		j.fn(j.arg);
		pthread_mutex_lock(&p->lock);
		p->running--;
		if (!p->count && !p->running)
			pthread_cond_broadcast(&p->idle);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

static _Thread_local bool pool_forbidden;

void od_pool_forbid(void)
{
	pool_forbidden = true;
}

bool od_pool_allowed(void)
{
	return !pool_forbidden;
}

od_pool *od_pool_new(unsigned nthreads, unsigned queue_max, od_err *e)
{
	if (pool_forbidden) {
		od_err_set(e, OD_E_UNSUPPORTED, "this thread may not start worker threads");
		return NULL;
	}
	if (!nthreads) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		nthreads = n > 0 ? (unsigned)n : 1;
	}
	if (nthreads > 256)
		nthreads = 256;
	if (!queue_max)
		queue_max = 2 * nthreads;
	od_pool *p = calloc(1, sizeof *p);
	if (!p) {
		od_err_nomem(e);
		return NULL;
	}
	p->q = calloc(queue_max, sizeof *p->q);
	p->threads = calloc(nthreads, sizeof *p->threads);
	if (!p->q || !p->threads) {
		free(p->q);
		free(p->threads);
		free(p);
		od_err_nomem(e);
		return NULL;
	}
	p->qmax = queue_max;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->not_empty, NULL);
	pthread_cond_init(&p->not_full, NULL);
	pthread_cond_init(&p->idle, NULL);
	for (unsigned i = 0; i < nthreads; i++) {
		int rc = pthread_create(&p->threads[i], NULL, worker, p);
		if (rc) {
			od_err_errno(e, rc, "cannot start worker thread %u", i);
			p->nthreads = i;
			od_pool_free(p);
			return NULL;
		}
		p->nthreads = i + 1;
	}
	return p;
}

unsigned od_pool_threads(const od_pool *p)
{
	return p->nthreads;
}

int od_pool_submit(od_pool *p, void (*fn)(void *), void *arg, od_err *e)
{
	pthread_mutex_lock(&p->lock);
	while (p->count == p->qmax && !p->stop)
		pthread_cond_wait(&p->not_full, &p->lock);
	if (p->stop) {
		pthread_mutex_unlock(&p->lock);
		return od_err_set(e, OD_E_INTERNAL, "thread pool is shutting down");
	}
	p->q[(p->head + p->count) % p->qmax] = (struct job){fn, arg};
	p->count++;
	pthread_cond_signal(&p->not_empty);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

void od_pool_wait(od_pool *p)
{
	pthread_mutex_lock(&p->lock);
	while (p->count || p->running)
		pthread_cond_wait(&p->idle, &p->lock);
	pthread_mutex_unlock(&p->lock);
}

void od_pool_free(od_pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_broadcast(&p->not_empty);
	pthread_cond_broadcast(&p->not_full);
	pthread_mutex_unlock(&p->lock);
	for (unsigned i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->not_empty);
	pthread_cond_destroy(&p->not_full);
	pthread_cond_destroy(&p->idle);
	free(p->q);
	free(p->threads);
	free(p);
}
