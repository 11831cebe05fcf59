/* The narrow micro-kernel, instantiated per (dtype, ISA) by gemm.c, for a C with few columns
 * (a 10-class head, a batch-1 layer via the transposed product):
 *   ct[8 x L] := sum_p a[i*rsa + p*csa] * bp[p, 0:L]       (L = one vector of columns)
 * A is read in place, unpacked: broadcasts need no contiguity, so the cost of packing A (a
 * transpose of the whole activation matrix) disappears. Two accumulators per row (even and
 * odd p) keep 16 FMA chains in flight to cover the FMA latency; with 16 vector registers
 * (AVX2) those and the B vectors do not fit, so UKN_ONE_ACC keeps one per row (8 chains).
 * Parameters: UKN_NAME, UKN_T, UKN_VB, UKN_ATTR, UKN_ONE_ACC (0 if undefined). */
#ifndef UKN_ONE_ACC
#define UKN_ONE_ACC 0
#endif

UKN_ATTR static void UKN_NAME(ptrdiff_t kc, const UKN_T *restrict a, ptrdiff_t rsa, ptrdiff_t csa,
                              const UKN_T *restrict bp, UKN_T *restrict ct)
{
    typedef UKN_T vt __attribute__((vector_size(UKN_VB), aligned(sizeof(UKN_T)), may_alias));
    enum { L = UKN_VB / sizeof(UKN_T) };
    vt acc0[8], acc1[8];
    const UKN_T *ar[8];
#pragma GCC unroll 8
    for (int i = 0; i < 8; i++) {
        acc0[i] = (vt){0};
        acc1[i] = (vt){0};
        ar[i] = a + i * rsa;
    }
    ptrdiff_t p = 0;
    for (; !UKN_ONE_ACC && p + 2 <= kc; p += 2) {
        const vt b0 = *(const vt *)(bp + p * L), b1 = *(const vt *)(bp + (p + 1) * L);
        const ptrdiff_t o0 = p * csa, o1 = (p + 1) * csa;
#pragma GCC unroll 8
        for (int i = 0; i < 8; i++) {
            acc0[i] += ar[i][o0] * b0;
            acc1[i] += ar[i][o1] * b1;
        }
    }
    for (; p < kc; p++) {
        const vt b0 = *(const vt *)(bp + p * L);
        const ptrdiff_t o0 = p * csa;
#pragma GCC unroll 8
        for (int i = 0; i < 8; i++)
            acc0[i] += ar[i][o0] * b0;
    }
#pragma GCC unroll 8
    for (int i = 0; i < 8; i++)
        *(vt *)(ct + i * L) = acc0[i] + acc1[i];
}

#undef UKN_NAME
#undef UKN_T
#undef UKN_VB
#undef UKN_ATTR
#undef UKN_ONE_ACC
