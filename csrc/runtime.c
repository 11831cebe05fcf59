/* The one runtime of the process (contracts in runtime.h), linked into
 * minnet._kernels._runtime only (the thread pool is in runtime_threads.c): the CPU's
 * instruction-set level (probed once with __builtin_cpu_supports, so that every family picks
 * its per-ISA kernels the same way), and the per-thread workspaces that kernels reuse across
 * calls, because a freshly mapped page costs a fault each time it is touched. Other extensions
 * reach it through the table at the end (runtime_link.c). */
#include "runtime.h"

#include <stdlib.h>

int mn_cpu_isa(void)
{
    static int level = -1;
    if (level < 0) {
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
            __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
            __builtin_cpu_supports("fma"))
            level = MN_ISA_AVX512;
        else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
            level = MN_ISA_AVX2;
        else
            level = MN_ISA_GENERIC;
#else
        level = MN_ISA_GENERIC;
#endif
    }
    return level;
}

int mn_effective_isa(int requested)
{
    int best = mn_cpu_isa();
    if (requested < 0 || requested > best)
        return best;
    return requested;
}

/* Thread-local so that two Python threads calling kernels at once (the GIL is released)
 * never share scratch; pool workers reach the caller's buffers through pointers. */
static _Thread_local void *ws_ptr[MN_WORKSPACE_SLOTS];
static _Thread_local size_t ws_size[MN_WORKSPACE_SLOTS];

void *mn_workspace(int slot, size_t bytes)
{
    if (slot < 0 || slot >= MN_WORKSPACE_SLOTS)
        return NULL;
    if (bytes == 0)
        bytes = 64;
    if (ws_size[slot] < bytes) {
        /* grow by 1.5x so a slowly growing shape does not reallocate every call */
        size_t want = bytes + bytes / 2;
        want = (want + 63) & ~(size_t)63;
        void *p = NULL;
        if (posix_memalign(&p, 64, want) != 0)
            return NULL;
        free(ws_ptr[slot]);
        ws_ptr[slot] = p;
        ws_size[slot] = want;
    }
    return ws_ptr[slot];
}

size_t mn_workspace_release(void)
{
    size_t total = 0;
    for (int i = 0; i < MN_WORKSPACE_SLOTS; i++) {
        total += ws_size[i];
        free(ws_ptr[i]);
        ws_ptr[i] = NULL;
        ws_size[i] = 0;
    }
    return total;
}

size_t mn_workspace_bytes(void)
{
    size_t total = 0;
    for (int i = 0; i < MN_WORKSPACE_SLOTS; i++)
        total += ws_size[i];
    return total;
}

static const mn_runtime_api table = {
    MN_RUNTIME_API_VERSION, mn_cpu_isa,         mn_effective_isa, mn_workspace,
    mn_workspace_release,   mn_workspace_bytes, mn_parallel,      mn_in_parallel,
};

const mn_runtime_api *mn_runtime_table(void) { return &table; }
