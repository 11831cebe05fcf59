/* Shared runtime services for minnet's kernels: the thread pool, CPU feature levels, and
 * per-thread workspaces that are reused across calls (a fresh page costs a fault each time).
 *
 * One runtime per process: csrc/runtime.c is linked into minnet._kernels._runtime only. Every
 * other extension links csrc/runtime_link.c, whose functions of the same names forward to that
 * one through the table below, which the extension binds when it is imported
 * (_runtime.pxd: bind_runtime). So the workspaces, and minnet.empty_cache() that frees them,
 * are the same for every kernel family. */
#ifndef MN_RUNTIME_H
#define MN_RUNTIME_H

#include <stddef.h>

#include "names.h"

/* Function attributes for the per-ISA copies of hot loops (see KERNELS.md: runtime dispatch).
 * The rest of the code stays baseline x86-64 so the build runs on any x86-64 CPU. */
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define MN_X86 1
#define ATTR_AVX512 __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,fma")))
#define ATTR_AVX2 __attribute__((target("avx2,fma")))
#else
#define MN_X86 0
#endif

/* Instruction-set levels a kernel can be dispatched to; higher includes lower. */
enum mn_isa { MN_ISA_GENERIC = 0, MN_ISA_AVX2 = 1, MN_ISA_AVX512 = 2 };

/* A pointer to the per-ISA copy of `base` (a table or a function named base_avx512,
 * base_avx2 and base_generic, see names.h) that an effective ISA level (mn_effective_isa)
 * selects: MN_ISA_PICK(MN_ISA_AVX2, tab_f32) is &tab_f32_avx2. Off x86 only base_generic
 * exists. `isa` is evaluated up to twice. */
#if MN_X86
#define MN_ISA_PICK(isa, base)                       \
    ((isa) >= MN_ISA_AVX512 ? &MN_JOIN(base, avx512) \
     : (isa) >= MN_ISA_AVX2 ? &MN_JOIN(base, avx2)   \
                            : &MN_JOIN(base, generic))
#else
#define MN_ISA_PICK(isa, base) ((void)(isa), &MN_JOIN(base, generic))
#endif

/* Activations a GEMM epilogue (and elementwise kernels) can apply. */
enum mn_act { MN_ACT_IDENTITY = 0, MN_ACT_RELU = 1, MN_ACT_SIGMOID = 2, MN_ACT_TANH = 3 };

/* The best level this CPU supports (probed once with __builtin_cpu_supports). */
int mn_cpu_isa(void);
/* `requested` clamped to what the CPU supports. */
int mn_effective_isa(int requested);

/* A 64-byte aligned scratch buffer of at least `bytes`, owned by the calling thread and kept
 * between calls; `slot` distinguishes buffers a kernel needs at the same time. NULL on OOM.
 * Slots by owner (a kernel that calls another must not share its slots): 0-2 GEMM, 3 and 7
 * conv2d, 4-6 rnn (which calls the GEMM while holding its own). */
#define MN_WORKSPACE_SLOTS 8
void *mn_workspace(int slot, size_t bytes);
/* Free the calling thread's workspaces (minnet.empty_cache()). Returns the bytes released. */
size_t mn_workspace_release(void);
size_t mn_workspace_bytes(void);

/* The thread pool (csrc/runtime_threads.c). A job is `n_chunks` independent calls
 * fn(ctx, chunk, n_chunks), chunk in [0, n_chunks), run by up to `n_threads` threads of which
 * the caller is one; returns when all have returned. Which thread runs a chunk is not fixed
 * (a late thread may run none), so a chunk must depend only on its index: results are then
 * the same for every thread count. No chunk may wait for another (there is no barrier: split
 * phases into successive jobs). Called from inside a chunk, or from a second thread while a
 * job runs, the job runs serially on the calling thread. */
typedef void (*mn_chunk_fn)(void *ctx, int chunk, int n_chunks);
void mn_parallel(int n_threads, int n_chunks, mn_chunk_fn fn, void *ctx);
/* 1 inside a chunk (a nested kernel then runs serially). */
int mn_in_parallel(void);
/* minnet.set_num_threads / get_num_threads; exported for threadpoolctl (minnet._threadpool). */
void mn_set_num_threads(int n);
int mn_get_num_threads(void);
/* Worker threads started so far (0 in a fresh fork()ed child); idle spin in microseconds. */
int mn_pool_workers(void);
void mn_set_spin_us(int us);
int mn_get_spin_us(void);
/* Microseconds from submitting a 2-thread job until a worker starts its chunk (-1: none did
 * within 20 ms, e.g. inside a chunk): `idle_us` after a job of its own (warm_up), or after
 * whatever the process did last (!warm_up; e.g. a NumPy call). */
double mn_pool_wake_us(int idle_us, int warm_up);

/* The runtime's functions, as _runtime hands them to the other extensions (a PyCapsule). */
typedef struct {
    int version; /* MN_RUNTIME_API_VERSION */
    int (*cpu_isa)(void);
    int (*effective_isa)(int requested);
    void *(*workspace)(int slot, size_t bytes);
    size_t (*workspace_release)(void);
    size_t (*workspace_bytes)(void);
    void (*parallel)(int n_threads, int n_chunks, mn_chunk_fn fn, void *ctx);
    int (*in_parallel)(void);
} mn_runtime_api;
#define MN_RUNTIME_API_VERSION 3

/* runtime.c: the table of its functions. */
const mn_runtime_api *mn_runtime_table(void);
/* runtime_link.c: forward this extension's mn_* runtime calls to `api`. Returns 0, or -1 if
 * `api` is NULL or of another version (the caller raises ImportError). */
int mn_runtime_bind(const void *api);

#endif
