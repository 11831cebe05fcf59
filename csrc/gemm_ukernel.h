/* One register-blocked GEMM micro-kernel, instantiated per (dtype, ISA) by gemm.c:
 *   ct[MR x NR] := sum_p ap[p, 0:MR]^T * bp[p, 0:NR]
 * and its twin UK_DNAME that writes a full tile of a row-major C from the registers:
 *   C[0:MR, 0:NR] := relu?(alpha * acc + beta * C + bias[0:NR])
 * ap is a packed MR-row micro-panel (k-major), bp a packed NR-column micro-panel (k-major).
 * Written with GCC vector extensions; the target attribute decides whether a vector is one
 * zmm, one ymm or one xmm register, and FMA contraction turns `acc += a * b` into vfmadd.
 * Parameters: UK_NAME, UK_T, UK_VB (vector bytes), UK_MR, UK_NV (vectors per row), UK_ATTR;
 * UK_KUNROLL (k steps unrolled, default 2). */
#ifndef UK_KUNROLL
#define UK_KUNROLL 2
#endif
#ifndef UK_PRAGMA_
#define UK_PRAGMA_(x) _Pragma(#x)
#define UK_UNROLL_(n) UK_PRAGMA_(GCC unroll n)
#endif

/* Skipping the tile buffer saves a store and a reload per tile. */
UK_ATTR static void UK_DNAME(ptrdiff_t kc, const UK_T *restrict ap, const UK_T *restrict bp,
                             UK_T *restrict c, ptrdiff_t ldc, UK_T alpha, UK_T beta,
                             const UK_T *restrict bias, int relu)
{
    typedef UK_T vt __attribute__((vector_size(UK_VB), aligned(sizeof(UK_T)), may_alias));
    enum { L = UK_VB / sizeof(UK_T), NR = UK_NV * L };
    vt acc[UK_MR][UK_NV];
#pragma GCC unroll 16
    for (int i = 0; i < UK_MR; i++)
#pragma GCC unroll 4
        for (int v = 0; v < UK_NV; v++)
            acc[i][v] = (vt){0};

    UK_UNROLL_(UK_KUNROLL)
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

    typedef __typeof__((vt){0} < (vt){0}) vmask; /* the integer vector a comparison yields */
#pragma GCC unroll 16
    for (int i = 0; i < UK_MR; i++)
#pragma GCC unroll 4
        for (int v = 0; v < UK_NV; v++) {
            vt *cv = (vt *)(c + i * ldc + v * L);
            vt r = alpha * acc[i][v];
            if (beta != 0)
                r += beta * *cv;
            if (bias)
                r += *(const vt *)(bias + v * L);
            if (relu) /* zero where r < 0; NaN compares false and is kept, as in np.maximum */
                r = (vt)((vmask)r & ~(r < (vt){0}));
            *cv = r;
        }
}

/* The tile-buffer form is the direct one writing a C of row stride NR with alpha 1, beta 0, no
 * bias: flattened, the constants fold away and the k loop is the same code. */
UK_ATTR __attribute__((flatten)) static void UK_NAME(ptrdiff_t kc, const UK_T *restrict ap,
                                                     const UK_T *restrict bp, UK_T *restrict ct)
{
    UK_DNAME(kc, ap, bp, ct, UK_NV * (UK_VB / sizeof(UK_T)), 1, 0, NULL, 0);
}

#undef UK_NAME
#undef UK_DNAME
#undef UK_T
#undef UK_VB
#undef UK_MR
#undef UK_NV
#undef UK_ATTR
#undef UK_KUNROLL
