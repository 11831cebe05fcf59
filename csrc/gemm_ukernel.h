/* One register-blocked GEMM micro-kernel, instantiated per (dtype, ISA) by gemm.c:
 *   ct[MR x NR] := sum_p ap[p, 0:MR]^T * bp[p, 0:NR]
 * ap is a packed MR-row micro-panel (k-major), bp a packed NR-column micro-panel (k-major).
 * Written with GCC vector extensions; the target attribute decides whether a vector is one
 * zmm, one ymm or one xmm register, and FMA contraction turns `acc += a * b` into vfmadd.
 * Parameters: UK_NAME, UK_T, UK_VB (vector bytes), UK_MR, UK_NV (vectors per row), UK_ATTR. */

UK_ATTR static void UK_NAME(ptrdiff_t kc, const UK_T *restrict ap, const UK_T *restrict bp,
                            UK_T *restrict ct)
{
    typedef UK_T vt __attribute__((vector_size(UK_VB), aligned(sizeof(UK_T)), may_alias));
    enum { L = UK_VB / sizeof(UK_T), NR = UK_NV * L };
    vt acc[UK_MR][UK_NV];
#pragma GCC unroll 16
    for (int i = 0; i < UK_MR; i++)
#pragma GCC unroll 4
        for (int v = 0; v < UK_NV; v++)
            acc[i][v] = (vt){0};

#pragma GCC unroll 2
    for (ptrdiff_t p = 0; p < kc; p++) {
        vt bv[UK_NV];
#pragma GCC unroll 4
        for (int v = 0; v < UK_NV; v++)
            bv[v] = *(const vt *)(bp + v * L);
#pragma GCC unroll 16
        for (int i = 0; i < UK_MR; i++) {
            const UK_T ai = ap[i];
#pragma GCC unroll 4
            for (int v = 0; v < UK_NV; v++)
                acc[i][v] += ai * bv[v];
        }
        ap += UK_MR;
        bp += NR;
    }

#pragma GCC unroll 16
    for (int i = 0; i < UK_MR; i++)
#pragma GCC unroll 4
        for (int v = 0; v < UK_NV; v++)
            *(vt *)(ct + i * NR + v * L) = acc[i][v];
}

#undef UK_NAME
#undef UK_T
#undef UK_VB
#undef UK_MR
#undef UK_NV
#undef UK_ATTR
