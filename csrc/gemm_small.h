/* Vector helpers for tiny and vector-shaped products, instantiated per (dtype, ISA) by gemm.c:
 *   SM_DOT:  sum_p x[p] * y[p]          (contiguous x and y)
 *   SM_AXPY: y[j] += alpha * x[j]
 * Four independent vector accumulators in the dot hide the FMA latency.
 * Parameters: SM_DOT, SM_AXPY, SM_T, SM_VB, SM_ATTR. */

SM_ATTR static SM_T SM_DOT(const SM_T *restrict x, const SM_T *restrict y, ptrdiff_t k)
{
    typedef SM_T vt __attribute__((vector_size(SM_VB), aligned(sizeof(SM_T)), may_alias));
    enum { L = SM_VB / sizeof(SM_T) };
    vt s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0};
    ptrdiff_t p = 0;
    for (; p + 4 * L <= k; p += 4 * L) {
        s0 += *(const vt *)(x + p) * *(const vt *)(y + p);
        s1 += *(const vt *)(x + p + L) * *(const vt *)(y + p + L);
        s2 += *(const vt *)(x + p + 2 * L) * *(const vt *)(y + p + 2 * L);
        s3 += *(const vt *)(x + p + 3 * L) * *(const vt *)(y + p + 3 * L);
    }
    for (; p + L <= k; p += L)
        s0 += *(const vt *)(x + p) * *(const vt *)(y + p);
    s0 = (s0 + s1) + (s2 + s3);
    SM_T t = 0;
    for (int q = 0; q < L; q++)
        t += s0[q];
    for (; p < k; p++)
        t += x[p] * y[p];
    return t;
}

SM_ATTR static void SM_AXPY(ptrdiff_t n, SM_T alpha, const SM_T *restrict x, SM_T *restrict y)
{
    for (ptrdiff_t j = 0; j < n; j++)
        y[j] += alpha * x[j];
}

#undef SM_DOT
#undef SM_AXPY
#undef SM_T
#undef SM_VB
#undef SM_ATTR
