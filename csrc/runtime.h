/* Shared runtime services for minnet's kernels: OpenMP shim, CPU feature levels, and
 * per-thread workspaces that are reused across calls (fresh pages cost ~3 us each here). */
#ifndef MN_RUNTIME_H
#define MN_RUNTIME_H

#include <stddef.h>

#ifdef _OPENMP
#include <omp.h>
#else
/* Without OpenMP the pragmas are ignored and these stand in, so kernels compile serial. */
static inline int omp_get_thread_num(void) { return 0; }
static inline int omp_get_num_threads(void) { return 1; }
static inline int omp_get_max_threads(void) { return 1; }
#endif

/* Instruction-set levels a kernel can be dispatched to; higher includes lower. */
enum mn_isa { MN_ISA_GENERIC = 0, MN_ISA_AVX2 = 1, MN_ISA_AVX512 = 2 };

/* Activations a GEMM epilogue (and elementwise kernels) can apply. */
enum mn_act { MN_ACT_IDENTITY = 0, MN_ACT_RELU = 1, MN_ACT_SIGMOID = 2, MN_ACT_TANH = 3 };

int mn_openmp_enabled(void);
int mn_omp_max_threads(void);
/* The best level this CPU supports (probed once with __builtin_cpu_supports). */
int mn_cpu_isa(void);
/* `requested` clamped to what the CPU supports. */
int mn_effective_isa(int requested);

/* A 64-byte aligned scratch buffer of at least `bytes`, owned by the calling thread and kept
 * between calls; `slot` distinguishes buffers a kernel needs at the same time. NULL on OOM. */
#define MN_WORKSPACE_SLOTS 4
void *mn_workspace(int slot, size_t bytes);
/* Free the calling thread's workspaces (minnet.empty_cache()). Returns the bytes released. */
size_t mn_workspace_release(void);
size_t mn_workspace_bytes(void);

#endif
