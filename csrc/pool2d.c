/* Pooling kernels (contracts in pool2d.h). Each plane is independent, so threads take
 * contiguous blocks of planes; a thread count that does not pay for the region (~1-2 us) on a
 * small input is cut down by mn_par_threads. Max pooling stores the argmax as a flat index
 * into its plane (PyTorch's convention, so indices compare and load across the two), and the
 * backward scatters by it: no second pass over the windows. */
#include "pool2d.h"

#include <math.h>
#include <string.h>

#include "parfor.h"
#include "runtime.h"

#if MN_X86
#include <immintrin.h>

/* 2x2 stride-2 max pooling of float planes with AVX-512, 8 windows per step: two 16-float
 * loads (rows r and r+1), an even/odd permute gives the four taps, and masked compares and
 * blends pick the max and its offset in the tie order of the scalar loop (strictly greater
 * replaces, so the first maximum wins). GCC would not vectorise the stride-2 scalar loop for
 * rows of 7-14 windows, and its branches mispredicted on every other window. NaN windows are
 * fixed up afterwards by the caller. Tails use masked loads/stores. */
ATTR_AVX512 static void maxpool2x2_planes_f32_avx512(const float *x, ptrdiff_t planes,
                                                     ptrdiff_t h, ptrdiff_t w, ptrdiff_t oh,
                                                     ptrdiff_t ow, float *yp, int64_t *ip)
{
    const __m512i perm = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13,
                                           15);
    const __m256i one = _mm256_set1_epi32(1), wv = _mm256_set1_epi32((int)w),
                  w1 = _mm256_set1_epi32((int)w + 1);
    const __m256i lane2 = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14);
    for (ptrdiff_t t = 0; t < planes * oh; t++) {
        const ptrdiff_t pl = t / oh, i = t % oh;
        const int64_t base = 2 * i * w;
        const float *r0 = x + pl * h * w + base, *r1 = r0 + w;
        float *y = yp + t * ow;
        int64_t *idx = ip + t * ow;
        for (ptrdiff_t j = 0; j < ow; j += 8) {
            const ptrdiff_t nj = ow - j < 8 ? ow - j : 8;
            const __mmask16 lm = (__mmask16)((1u << (2 * nj)) - 1);
            const __mmask8 sm = (__mmask8)((1u << nj) - 1);
            const __m512 a = _mm512_permutexvar_ps(perm, _mm512_maskz_loadu_ps(lm, r0 + 2 * j));
            const __m512 b = _mm512_permutexvar_ps(perm, _mm512_maskz_loadu_ps(lm, r1 + 2 * j));
            const __m256 v0 = _mm512_castps512_ps256(a);
            const __m256 v1 = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(a), 1));
            const __m256 v2 = _mm512_castps512_ps256(b);
            const __m256 v3 = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(b), 1));
            __mmask8 c = _mm256_cmp_ps_mask(v1, v0, _CMP_GT_OQ);
            __m256 m = _mm256_mask_blend_ps(c, v0, v1);
            __m256i o = _mm256_maskz_mov_epi32(c, one);
            c = _mm256_cmp_ps_mask(v2, m, _CMP_GT_OQ);
            m = _mm256_mask_blend_ps(c, m, v2);
            o = _mm256_mask_blend_epi32(c, o, wv);
            c = _mm256_cmp_ps_mask(v3, m, _CMP_GT_OQ);
            m = _mm256_mask_blend_ps(c, m, v3);
            o = _mm256_mask_blend_epi32(c, o, w1);
            _mm256_mask_storeu_ps(y + j, sm, m);
            const __m256i off = _mm256_add_epi32(o, lane2);
            const __m512i at = _mm512_add_epi64(_mm512_cvtepi32_epi64(off),
                                                _mm512_set1_epi64(base + 2 * j));
            _mm512_mask_storeu_epi64(idx + j, sm, at);
        }
    }
}
#endif

#define DT float
#define SFX f32
#include "pool2d_impl.h"
#undef DT
#undef SFX

#define DT double
#define SFX f64
#include "pool2d_impl.h"
#undef DT
#undef SFX
