/* The runtime as every extension but minnet._kernels._runtime sees it: the functions of
 * runtime.h, forwarding to the one runtime.c in the process (see runtime.h). The table is
 * bound once, at import, before any kernel can run. */
#include "runtime.h"

#include <stddef.h>

static const mn_runtime_api *rt;

int mn_runtime_bind(const void *api)
{
    const mn_runtime_api *t = (const mn_runtime_api *)api;
    if (!t || t->version != MN_RUNTIME_API_VERSION)
        return -1;
    rt = t;
    return 0;
}

int mn_cpu_isa(void) { return rt->cpu_isa(); }
int mn_effective_isa(int requested) { return rt->effective_isa(requested); }
void *mn_workspace(int slot, size_t bytes) { return rt->workspace(slot, bytes); }
size_t mn_workspace_release(void) { return rt->workspace_release(); }
size_t mn_workspace_bytes(void) { return rt->workspace_bytes(); }
void mn_parallel(int n_threads, int n_chunks, mn_chunk_fn fn, void *ctx)
{
    rt->parallel(n_threads, n_chunks, fn, ctx);
}
int mn_in_parallel(void) { return rt->in_parallel(); }
