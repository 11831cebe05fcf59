/* The write-back of one micro-tile, instantiated per (dtype, ISA) by gemm.c:
 *   C[i, j] := act(alpha * ct[i, j] + beta * C[i, j] + bias[i * brs + j * bcs])
 * for i < mr, j < nr; beta == 0 never reads C. The contiguous case (csc == 1) is split into
 * simple passes over a row so each one vectorises; the strided case (the transposed product
 * used for narrow N) is scalar.
 * Parameters: EP_NAME, EP_T, EP_ACT (scalar activation), EP_ATTR. */

EP_ATTR static void EP_NAME(const EP_T *restrict ct, ptrdiff_t ldt, EP_T *restrict c,
                            ptrdiff_t rsc, ptrdiff_t csc, int mr, int nr, EP_T alpha, EP_T beta,
                            const EP_T *restrict bias, ptrdiff_t brs, ptrdiff_t bcs, int act)
{
    for (int i = 0; i < mr; i++) {
        const EP_T *restrict t = ct + i * ldt;
        EP_T *restrict cr = c + i * rsc;
        const EP_T *restrict br = bias ? bias + i * brs : NULL;
        if (csc == 1 && (br == NULL || bcs == 1)) {
            if (beta == 0)
                for (int j = 0; j < nr; j++)
                    cr[j] = alpha * t[j];
            else
                for (int j = 0; j < nr; j++)
                    cr[j] = alpha * t[j] + beta * cr[j];
            if (br)
                for (int j = 0; j < nr; j++)
                    cr[j] += br[j];
            switch (act) {
            case MN_ACT_RELU:
                for (int j = 0; j < nr; j++)
                    cr[j] = EP_ACT(cr[j], MN_ACT_RELU);
                break;
            case MN_ACT_SIGMOID:
                for (int j = 0; j < nr; j++)
                    cr[j] = EP_ACT(cr[j], MN_ACT_SIGMOID);
                break;
            case MN_ACT_TANH:
                for (int j = 0; j < nr; j++)
                    cr[j] = EP_ACT(cr[j], MN_ACT_TANH);
                break;
            default: break;
            }
        } else {
            for (int j = 0; j < nr; j++) {
                EP_T v = alpha * t[j];
                if (beta != 0)
                    v += beta * cr[j * csc];
                if (br)
                    v += br[j * bcs];
                cr[j * csc] = EP_ACT(v, act);
            }
        }
    }
}

#undef EP_NAME
#undef EP_T
#undef EP_ACT
#undef EP_ATTR
