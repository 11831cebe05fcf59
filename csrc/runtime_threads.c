/* minnet's thread pool (contract in runtime.h: mn_parallel). Linked into
 * minnet._kernels._runtime only, so a process has one pool.
 *
 * Why not libgomp's team (measured, bench/RESULTS.md "Thread pool"): an OpenMP parallel region
 * ends only when every thread of its team has arrived, so on 2 cores a team thread whose core
 * is held by someone else (NumPy's OpenBLAS workers spin for ~0.1 s after each call; the VM
 * lends its second vCPU) stalls the kernel for a scheduler tick, 4 ms, where the work itself
 * takes 0.5 ms. And libgomp's idle threads spin (GOMP_SPINCOUNT) holding the cores that
 * OpenBLAS wants next, and its pool does not survive fork().
 *
 * Here a job is n_chunks independent pieces of work. Threads claim chunks one at a time from
 * an atomic word that holds (generation << 32 | next chunk); the caller claims chunks too, and
 * the job is complete when all chunks are done, not when all threads have arrived. A worker
 * that wakes late finds the chunks taken (or the generation moved on) and goes back to
 * waiting, so it never holds a kernel up; the caller alone can run a whole job. Idle workers
 * spin for MINNET_SPIN_US microseconds (default 100: the gaps between the kernels of a
 * training step are shorter) with sched_yield(), so a thread of another library that wants
 * the core gets it at once, then sleep on a futex (a condition variable off Linux). The pool
 * is rebuilt lazily in a fork()ed child: the atfork handler forgets the parent's workers.
 *
 * Nested calls (a kernel run from inside a chunk, e.g. conv2d's per-image GEMMs) and a second
 * Python thread calling while a job runs both execute their job inline on the calling thread:
 * correct, never deadlocking, and the cores are already busy anyway. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/* Sleeping: a futex on Linux (no lock on either side); elsewhere, or built with
 * -DMN_POOL_NO_FUTEX (tests/kernels/test_pool_c.py runs both), a condition variable. */
#if defined(__linux__) && !defined(MN_POOL_NO_FUTEX)
#define POOL_FUTEX 1
#include <linux/futex.h>
#include <sys/syscall.h>
#else
#define POOL_FUTEX 0
#endif

#include "runtime.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#else
#define CPU_RELAX() ((void)0)
#endif

#define MAX_WORKERS 1023

/* One job at a time (the submit lock). Fields written by the submitter before it publishes
 * the generation; read by a worker before it claims, and valid if the claim succeeds (a job's
 * fields are rewritten only after all its chunks were claimed and done). */
static struct {
    mn_chunk_fn fn;
    void *ctx;
    int n_chunks;
    int n_workers; /* workers 1..n_workers may take part (the job's thread count - 1) */
} job;

static uint64_t claim_word;  /* generation << 32 | next chunk index */
static unsigned generation;  /* futex word: bumped once per job */
static int done_chunks;      /* chunks of the current job finished */
static int n_sleeping;       /* workers blocked in futex wait */
static int n_started;        /* worker threads that exist */
static int spin_us = 100;    /* idle spin before sleeping */
static int num_threads_ = 1; /* minnet.set_num_threads */
static pthread_mutex_t submit_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t start_lock = PTHREAD_MUTEX_INITIALIZER;
static _Thread_local int in_job; /* this thread is running a chunk (or is a worker) */

/* Block while `generation` is `seen` (spurious returns are fine: the caller loops), and wake
 * up to n sleepers after a new generation was published. The submitter publishes, then reads
 * n_sleeping; a sleeper counts itself, then re-reads the generation (both sequentially
 * consistent): one of the two sees the other, so no wake-up is lost. */
#if POOL_FUTEX
static void wait_generation(unsigned seen)
{
    if (__atomic_load_n(&generation, __ATOMIC_SEQ_CST) == seen)
        syscall(SYS_futex, &generation, FUTEX_WAIT_PRIVATE, seen, NULL, NULL, 0);
}

static void wake_workers(int n)
{
    syscall(SYS_futex, &generation, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}
#else
static pthread_mutex_t sleep_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sleep_cond = PTHREAD_COND_INITIALIZER;

static void wait_generation(unsigned seen)
{
    pthread_mutex_lock(&sleep_lock);
    while (__atomic_load_n(&generation, __ATOMIC_SEQ_CST) == seen)
        pthread_cond_wait(&sleep_cond, &sleep_lock);
    pthread_mutex_unlock(&sleep_lock);
}

static void wake_workers(int n)
{
    (void)n;
    pthread_mutex_lock(&sleep_lock);
    pthread_cond_broadcast(&sleep_cond);
    pthread_mutex_unlock(&sleep_lock);
}
#endif

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec * 1e-3;
}

/* Claim and run chunks of generation `gen` until none are left. */
static void run_chunks(uint32_t gen, int worker)
{
    for (;;) {
        uint64_t w = __atomic_load_n(&claim_word, __ATOMIC_ACQUIRE);
        if ((uint32_t)(w >> 32) != gen)
            return;
        const mn_chunk_fn fn = __atomic_load_n(&job.fn, __ATOMIC_RELAXED);
        void *const ctx = __atomic_load_n(&job.ctx, __ATOMIC_RELAXED);
        const int n = __atomic_load_n(&job.n_chunks, __ATOMIC_RELAXED);
        const int nw = __atomic_load_n(&job.n_workers, __ATOMIC_RELAXED);
        const uint32_t idx = (uint32_t)w;
        if (worker > nw || idx >= (uint32_t)n)
            return;
        if (!__atomic_compare_exchange_n(&claim_word, &w, w + 1, 0, __ATOMIC_ACQ_REL,
                                         __ATOMIC_ACQUIRE))
            continue;
        fn(ctx, (int)idx, n);
        __atomic_fetch_add(&done_chunks, 1, __ATOMIC_RELEASE);
    }
}

/* What a new worker is started with: its id (1..) and the generation it must treat as seen.
 * That is the generation before the job being submitted, read under the submit lock: a worker
 * that read `generation` itself once running could read the new job's and wait past it. */
typedef struct {
    int id;
    unsigned seen;
} worker_start;

static void *worker_main(void *arg)
{
    const worker_start start = *(const worker_start *)arg;
    free(arg);
    const int id = start.id;
    in_job = 1;
#if defined(__linux__)
    pthread_setname_np(pthread_self(), "minnet-pool"); /* top/ps -T, and the tests, see it */
#elif defined(__APPLE__)
    pthread_setname_np("minnet-pool");
#endif
    unsigned seen = start.seen;
    for (;;) {
        /* wait for a new generation: spin (yielding), then sleep */
        unsigned g = __atomic_load_n(&generation, __ATOMIC_ACQUIRE);
        if (g == seen) {
            const double until = now_us() + spin_us;
            int polls = 0;
            while ((g = __atomic_load_n(&generation, __ATOMIC_ACQUIRE)) == seen) {
                if (++polls < 64) {
                    CPU_RELAX();
                    continue;
                }
                polls = 0;
                if (now_us() >= until)
                    break;
                sched_yield();
            }
            while (g == seen) {
                __atomic_fetch_add(&n_sleeping, 1, __ATOMIC_SEQ_CST);
                wait_generation(seen);
                __atomic_fetch_sub(&n_sleeping, 1, __ATOMIC_SEQ_CST);
                g = __atomic_load_n(&generation, __ATOMIC_ACQUIRE);
            }
        }
        seen = g;
        run_chunks((uint32_t)g, id);
    }
    return NULL;
}

/* Start workers up to `want` (under start_lock; the caller holds the submit lock, so
 * `generation` is the one before its job). Returns how many exist. */
static int ensure_workers(int want)
{
    if (want > MAX_WORKERS)
        want = MAX_WORKERS;
    if (__atomic_load_n(&n_started, __ATOMIC_ACQUIRE) >= want)
        return want;
    pthread_mutex_lock(&start_lock);
    while (n_started < want) {
        worker_start *start = malloc(sizeof *start);
        if (start == NULL)
            break;
        start->id = n_started + 1;
        start->seen = __atomic_load_n(&generation, __ATOMIC_ACQUIRE);
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        /* workers run kernels only: the kernels' stack use is small and bounded */
        pthread_attr_setstacksize(&attr, 8u << 20);
        const int rc = pthread_create(&t, &attr, worker_main, start);
        pthread_attr_destroy(&attr);
        if (rc != 0) {
            free(start);
            break;
        }
        __atomic_store_n(&n_started, n_started + 1, __ATOMIC_RELEASE);
    }
    const int have = n_started;
    pthread_mutex_unlock(&start_lock);
    return have < want ? have : want;
}

void mn_parallel(int n_threads, int n_chunks, mn_chunk_fn fn, void *ctx)
{
    if (n_chunks <= 0)
        return;
    if (n_threads > n_chunks)
        n_threads = n_chunks;
    if (n_threads <= 1 || in_job || pthread_mutex_trylock(&submit_lock) != 0) {
        const int outer = in_job;
        in_job = 1;
        for (int i = 0; i < n_chunks; i++)
            fn(ctx, i, n_chunks);
        in_job = outer;
        return;
    }
    const int nw = ensure_workers(n_threads - 1);
    __atomic_store_n(&job.fn, fn, __ATOMIC_RELAXED);
    __atomic_store_n(&job.ctx, ctx, __ATOMIC_RELAXED);
    __atomic_store_n(&job.n_chunks, n_chunks, __ATOMIC_RELAXED);
    __atomic_store_n(&job.n_workers, nw, __ATOMIC_RELAXED);
    __atomic_store_n(&done_chunks, 0, __ATOMIC_RELAXED);
    const unsigned g = __atomic_load_n(&generation, __ATOMIC_RELAXED) + 1u;
    __atomic_store_n(&claim_word, (uint64_t)g << 32, __ATOMIC_RELEASE);
    __atomic_store_n(&generation, g, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&n_sleeping, __ATOMIC_SEQ_CST) > 0)
        wake_workers(nw);
    in_job = 1;
    run_chunks((uint32_t)g, 0);
    in_job = 0;
    /* the chunks still running elsewhere were claimed before ours ran out: short waits */
    int polls = 0;
    while (__atomic_load_n(&done_chunks, __ATOMIC_ACQUIRE) < n_chunks) {
        if (++polls < 256)
            CPU_RELAX();
        else
            sched_yield();
    }
    pthread_mutex_unlock(&submit_lock);
}

int mn_in_parallel(void) { return in_job; }

void mn_set_num_threads(int n)
{
    __atomic_store_n(&num_threads_, n < 1 ? 1 : n, __ATOMIC_RELAXED);
}

int mn_get_num_threads(void) { return __atomic_load_n(&num_threads_, __ATOMIC_RELAXED); }

int mn_pool_workers(void) { return __atomic_load_n(&n_started, __ATOMIC_ACQUIRE); }

void mn_set_spin_us(int us) { spin_us = us < 0 ? 0 : us; }

int mn_get_spin_us(void) { return spin_us; }

/* Wake latency: the time from submitting a 2-chunk job until a worker starts a chunk. The
 * caller's chunk waits (up to 20 ms) for the worker's, so the caller cannot take both. */
typedef struct {
    int64_t started_ns; /* 0 until a worker started */
    pthread_t caller;
} wake_probe;

static void wake_chunk(void *ctx, int ch, int n)
{
    wake_probe *p = ctx;
    (void)ch;
    (void)n;
    if (!pthread_equal(pthread_self(), p->caller)) {
        __atomic_store_n(&p->started_ns, (int64_t)(now_us() * 1e3), __ATOMIC_RELEASE);
        return;
    }
    /* spin, then yield: if the worker was woken onto this core, it gets it */
    const double give_up = now_us() + 20000.0;
    for (int polls = 0;
         __atomic_load_n(&p->started_ns, __ATOMIC_ACQUIRE) == 0 && now_us() < give_up;)
        if (++polls < 4096)
            CPU_RELAX();
        else
            sched_yield();
}

double mn_pool_wake_us(int idle_us, int warm_up)
{
    struct timespec ts = {idle_us / 1000000, (long)(idle_us % 1000000) * 1000L};
    wake_probe p = {0, pthread_self()};
    if (warm_up || mn_pool_workers() == 0)
        mn_parallel(2, 2, wake_chunk, &p); /* the worker exists and has seen a job */
    if (idle_us > 0)
        nanosleep(&ts, NULL);
    p.started_ns = 0;
    const double t0 = now_us();
    mn_parallel(2, 2, wake_chunk, &p);
    const int64_t started = __atomic_load_n(&p.started_ns, __ATOMIC_ACQUIRE);
    return started > 0 ? (double)started * 1e-3 - t0 : -1.0;
}

/* The child of fork() has only the forking thread: forget the parent's workers (the next job
 * starts new ones) and any lock another parent thread held. The prepare handler takes the
 * submit lock, so no job is half-published at the fork. */
static void atfork_prepare(void) { pthread_mutex_lock(&submit_lock); }

static void atfork_parent(void) { pthread_mutex_unlock(&submit_lock); }

static void atfork_child(void)
{
    pthread_mutex_init(&submit_lock, NULL);
    pthread_mutex_init(&start_lock, NULL);
    n_started = 0;
    n_sleeping = 0;
#if !POOL_FUTEX
    pthread_mutex_init(&sleep_lock, NULL);
    pthread_cond_init(&sleep_cond, NULL);
#endif
    in_job = 0;
}

__attribute__((constructor)) static void pool_init(void)
{
    const char *s = getenv("MINNET_SPIN_US");
    if (s && *s) {
        char *end;
        const long v = strtol(s, &end, 10);
        if (*end == '\0' && v >= 0 && v <= 1000000)
            spin_us = (int)v;
    }
    pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}
