/* Pooling kernels (contracts in pool.h). Each plane is independent, so threads take
 * contiguous blocks of planes (or of output rows); a thread count that does not pay for the
 * region on a small input is cut down by mn_par_threads. Max pooling stores the
 * argmax as a flat index into its plane (PyTorch's convention, so indices compare and load
 * across the two), and the backward scatters by it: no second pass over the windows.
 *
 * Fast paths, all giving the general loops' results bit for bit (values, indices, the order
 * of every float addition): 2x2 stride-2 windows without padding (max and average, forward
 * and backward; the backward writes each window's four dx once instead of memset + scatter),
 * and for other windows the inner output columns of each row (windows wholly inside the
 * plane's columns) 16 at a time. The AVX-512 float kernels are here; pool_impl.h holds the
 * per-dtype loops and the dispatch. */
#include "pool.h"

#include <math.h>
#include <string.h>

#include "parfor.h"
#include "runtime.h"

/* Lane masks of the AVX-512 kernels: the lowest n of 16 (n may be <= 0 or > 16). */
static inline unsigned low16(ptrdiff_t n)
{
    return n <= 0 ? 0u : n >= 16 ? 0xffffu : (1u << n) - 1u;
}

/* Redoes the windows of a 2x2 stride-2 output row that hold a NaN (the first NaN wins);
 * pool_impl.h, per dtype. */
static void maxpool2x2_nan_row_f32(const float *r0, ptrdiff_t w, ptrdiff_t ow, int64_t base,
                                   float *y, int64_t *idx);

#if MN_X86
#include <immintrin.h>

/* The source vectors of 16 2x2 windows: a0 := a[0..15] and b0 := b[0..15] (masks la, lb; the
 * even/odd permute of a0|b0 gives the windows' top taps), a1, b1 the same one row (w) down.
 * b is either the next 16 floats of a's row or, for rows of <= 8 windows, the next output
 * row's top row. */
ATTR_AVX512 static inline void load_taps(const float *a, const float *b, __mmask16 la,
                                         __mmask16 lb, ptrdiff_t w, __m512 *a0, __m512 *b0,
                                         __m512 *a1, __m512 *b1)
{
    *a0 = _mm512_maskz_loadu_ps(la, a);
    *b0 = _mm512_maskz_loadu_ps(lb, b);
    *a1 = _mm512_maskz_loadu_ps(la, a + w);
    *b1 = _mm512_maskz_loadu_ps(lb, b + w);
}

/* Max and first-maximum offset of 16 2x2 windows: a0|b0 hold 32 floats of the top row, a1|b1
 * of the bottom row (window j at columns 2j, 2j+1). Each row keeps its first maximum (a
 * strictly greater right tap replaces), the bottom wins only if strictly greater: the first
 * maximum in row-major order, the scalar rule. *off := 0, 1, w or w+1 (wv, w1v: w and w+1);
 * *nan := the lanes with a NaN tap (the caller redoes those rows by the scalar rule). */
ATTR_AVX512 static inline __m512 max2x2_f32(__m512 a0, __m512 b0, __m512 a1, __m512 b1, __m512i wv,
                                            __m512i w1v, __m512i *off, __mmask16 *nan)
{
    const __m512i pe =
        _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i po = _mm512_add_epi32(pe, _mm512_set1_epi32(1));
    const __m512 v0 = _mm512_permutex2var_ps(a0, pe, b0), v1 = _mm512_permutex2var_ps(a0, po, b0),
                 v2 = _mm512_permutex2var_ps(a1, pe, b1), v3 = _mm512_permutex2var_ps(a1, po, b1);
    *nan = _mm512_cmp_ps_mask(v0, v1, _CMP_UNORD_Q) | _mm512_cmp_ps_mask(v2, v3, _CMP_UNORD_Q);
    __mmask16 c = _mm512_cmp_ps_mask(v1, v0, _CMP_GT_OQ);
    const __m512 mt = _mm512_mask_blend_ps(c, v0, v1);
    const __m512i ot = _mm512_maskz_mov_epi32(c, _mm512_set1_epi32(1));
    c = _mm512_cmp_ps_mask(v3, v2, _CMP_GT_OQ);
    const __m512 mb = _mm512_mask_blend_ps(c, v2, v3);
    const __m512i ob = _mm512_mask_blend_epi32(c, wv, w1v);
    c = _mm512_cmp_ps_mask(mb, mt, _CMP_GT_OQ);
    *off = _mm512_mask_blend_epi32(c, ot, ob);
    return _mm512_mask_blend_ps(c, mt, mb);
}

/* max2x2_f32 of the (up to) 16 windows of one output row whose top-left taps start at r (nj
 * of them real: the loads are masked to the row) */
ATTR_AVX512 static inline __m512 max2x2_row16(const float *r, ptrdiff_t nj, ptrdiff_t w,
                                              __m512i wv, __m512i w1v, __m512i *off,
                                              __mmask16 *nan)
{
    __m512 a0, b0, a1, b1;
    load_taps(r, r + 16, (__mmask16)low16(2 * nj), (__mmask16)low16(2 * nj - 16), w, &a0, &b0, &a1,
              &b1);
    return max2x2_f32(a0, b0, a1, b1, wv, w1v, off, nan);
}

/* idx[0..n-1] := the first n (<= 16) int32 lanes of at, widened */
ATTR_AVX512 static inline void store_idx16(int64_t *idx, ptrdiff_t n, __m512i at)
{
    _mm512_mask_storeu_epi64(idx, (__mmask8)low16(n),
                             _mm512_cvtepi32_epi64(_mm512_castsi512_si256(at)));
    if (n > 8)
        _mm512_mask_storeu_epi64(idx + 8, (__mmask8)low16(n - 8),
                                 _mm512_cvtepi32_epi64(_mm512_extracti32x8_epi32(at, 1)));
}

/* 2x2 stride-2 max pooling of float planes with AVX-512, 16 windows per step. Two loads per
 * input row and an even/odd two-register permute give the four taps of 16 windows; the max
 * and its offset are picked per row pair (strictly greater replaces, so each pair keeps its
 * first maximum) and then between the rows (the bottom one only if strictly greater): the
 * first maximum in row-major order, the scalar loop's tie rule. Offsets and indices are int32
 * (a plane has < 2^31 elements; checked by the caller) and widened only for the stores. Rows
 * of at most 8 windows (14x14 and 7x7 planes) go two output rows per step: both rows' loads
 * fill the two halves, and a compress packs the 2*ow results into the contiguous output.
 * NaN windows are rare: an unordered compare flags the row pair, which is then redone by the
 * scalar rule (first NaN wins). Rows t0..t1-1 of the flat (plane, output row) sequence. */
ATTR_AVX512 static void maxpool2x2_fwd_f32_avx512(const float *x, ptrdiff_t t0, ptrdiff_t t1,
                                                  ptrdiff_t h, ptrdiff_t w, ptrdiff_t oh,
                                                  ptrdiff_t ow, float *y, int64_t *idx)
{
    const __m512i wv = _mm512_set1_epi32((int)w), w1 = _mm512_set1_epi32((int)w + 1);
    /* row pointer and in-plane offset of flat row t */
#define ROW(t) (x + ((t) / oh) * h * w + 2 * ((t) % oh) * w)
#define BASE(t) ((int)(2 * ((t) % oh) * w))
    if (ow <= 8) {
        const __m512i lane =
            _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 0, 2, 4, 6, 8, 10, 12, 14);
        const __mmask16 lm = (__mmask16)low16(2 * ow);
        for (ptrdiff_t t = t0; t < t1; t += 2) {
            const int two = t + 1 < t1;
            const float *a = ROW(t), *b = two ? ROW(t + 1) : a;
            __m512 a0, b0, a1, b1;
            load_taps(a, b, lm, two ? lm : 0, w, &a0, &b0, &a1, &b1);
            __m512i off;
            __mmask16 nan;
            const __m512 m = max2x2_f32(a0, b0, a1, b1, wv, w1, &off, &nan);
            const __m512i base = _mm512_inserti32x8(_mm512_set1_epi32(BASE(t)),
                                                    _mm256_set1_epi32(two ? BASE(t + 1) : 0), 1);
            const __m512i at = _mm512_add_epi32(_mm512_add_epi32(lane, base), off);
            const __mmask16 k = (__mmask16)(low16(ow) | (two ? low16(ow) << 8 : 0u));
            const ptrdiff_t n = (1 + two) * ow;
            _mm512_mask_storeu_ps(y + t * ow, (__mmask16)low16(n), _mm512_maskz_compress_ps(k, m));
            store_idx16(idx + t * ow, n, _mm512_maskz_compress_epi32(k, at));
            if (nan) {
                maxpool2x2_nan_row_f32(a, w, ow, BASE(t), y + t * ow, idx + t * ow);
                if (two)
                    maxpool2x2_nan_row_f32(b, w, ow, BASE(t + 1), y + (t + 1) * ow,
                                           idx + (t + 1) * ow);
            }
        }
        return;
    }
    const __m512i lane =
        _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    for (ptrdiff_t t = t0; t < t1; t++) {
        const float *r0 = ROW(t);
        float *yr = y + t * ow;
        int64_t *ir = idx + t * ow;
        __mmask16 nan = 0;
        for (ptrdiff_t j = 0; j < ow; j += 16) {
            const ptrdiff_t nj = ow - j;
            __m512i off;
            __mmask16 nj_nan;
            const __m512 m = max2x2_row16(r0 + 2 * j, nj, w, wv, w1, &off, &nj_nan);
            nan |= nj_nan;
            const __m512i at = _mm512_add_epi32(
                _mm512_add_epi32(lane, _mm512_set1_epi32(BASE(t) + 2 * (int)j)), off);
            _mm512_mask_storeu_ps(yr + j, (__mmask16)low16(nj), m);
            store_idx16(ir + j, nj < 16 ? nj : 16, at);
        }
        if (nan)
            maxpool2x2_nan_row_f32(r0, w, ow, BASE(t), yr, ir);
    }
#undef ROW
#undef BASE
}

/* The 16 windows' dy spread over their four taps by where each index points (offset from
 * the window's top-left: 0, 1, w or w + 1); 1 when some valid lane's index is in none. */
ATTR_AVX512 static inline int split_taps_f32(__mmask16 k, __m512i off, __m512 d, __m512i one,
                                             __m512i wv, __m512i w1, __m512 *te, __m512 *to,
                                             __m512 *be, __m512 *bo)
{
    const __mmask16 m0 = _mm512_mask_cmpeq_epi32_mask(k, off, _mm512_setzero_si512()),
                    m1 = _mm512_mask_cmpeq_epi32_mask(k, off, one),
                    m2 = _mm512_mask_cmpeq_epi32_mask(k, off, wv),
                    m3 = _mm512_mask_cmpeq_epi32_mask(k, off, w1);
    if ((__mmask16)(m0 | m1 | m2 | m3) != k)
        return 1;
    *te = _mm512_maskz_mov_ps(m0, d);
    *to = _mm512_maskz_mov_ps(m1, d);
    *be = _mm512_maskz_mov_ps(m2, d);
    *bo = _mm512_maskz_mov_ps(m3, d);
    return 0;
}

/* Backward of one plane of 2x2 stride-2 max pooling when every index lies in its own window
 * (always, for indices from the forward): each window's four dx are written directly, dy at
 * the argmax and zero elsewhere, so dx is written once with no memset pass. The offsets are
 * checked 16 windows at a time (int64 saturated to int32 first, so a wild index cannot alias a
 * valid one); on the first window that fails, returns 1 and the caller redoes the plane with
 * the general scatter. dy + 0 turns -0 into +0, as 0 + dy does in the scatter. Rows of at most
 * 8 windows go two per step (an expand spreads their 2*ow contiguous dy and indices into the
 * two halves). */
ATTR_AVX512 static int maxpool2x2_bwd_plane_f32_avx512(const float *dy, const int64_t *idx,
                                                       float *dx, ptrdiff_t h, ptrdiff_t w,
                                                       ptrdiff_t oh, ptrdiff_t ow)
{
    const __m512i one = _mm512_set1_epi32(1), wv = _mm512_set1_epi32((int)w),
                  w1 = _mm512_set1_epi32((int)w + 1);
    const __m512i ilo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i ihi = _mm512_add_epi32(ilo, _mm512_set1_epi32(8));
    const __m512 zero = _mm512_setzero_ps();
    if (ow <= 8) {
        const __m512i lane =
            _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 0, 2, 4, 6, 8, 10, 12, 14);
        const __mmask16 lr = (__mmask16)low16(2 * ow);
        for (ptrdiff_t i = 0; i < oh; i += 2) {
            const int two = i + 1 < oh;
            const ptrdiff_t n = (1 + two) * ow;
            const __mmask16 ln = (__mmask16)low16(n);
            const __mmask16 k = (__mmask16)(low16(ow) | (two ? low16(ow) << 8 : 0u));
            const __m512 d = _mm512_maskz_expand_ps(
                k, _mm512_add_ps(_mm512_maskz_loadu_ps(ln, dy + i * ow), zero));
            const __m256i il =
                _mm512_cvtsepi64_epi32(_mm512_maskz_loadu_epi64((__mmask8)ln, idx + i * ow));
            const __m256i ih = _mm512_cvtsepi64_epi32(
                _mm512_maskz_loadu_epi64((__mmask8)(ln >> 8), idx + i * ow + 8));
            const __m512i iv = _mm512_maskz_expand_epi32(
                k, _mm512_inserti32x8(_mm512_castsi256_si512(il), ih, 1));
            const __m512i base = _mm512_inserti32x8(_mm512_set1_epi32((int)(2 * i * w)),
                                                    _mm256_set1_epi32((int)(2 * (i + 1) * w)), 1);
            const __m512i off = _mm512_sub_epi32(iv, _mm512_add_epi32(lane, base));
            __m512 te, to, be, bo;
            if (split_taps_f32(k, off, d, one, wv, w1, &te, &to, &be, &bo))
                return 1;
            float *r = dx + 2 * i * w;
            _mm512_mask_storeu_ps(r, lr, _mm512_permutex2var_ps(te, ilo, to));
            _mm512_mask_storeu_ps(r + w, lr, _mm512_permutex2var_ps(be, ilo, bo));
            if (two) {
                _mm512_mask_storeu_ps(r + 2 * w, lr, _mm512_permutex2var_ps(te, ihi, to));
                _mm512_mask_storeu_ps(r + 3 * w, lr, _mm512_permutex2var_ps(be, ihi, bo));
            }
        }
    } else {
        const __m512i lane =
            _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        for (ptrdiff_t i = 0; i < oh; i++) {
            float *r = dx + 2 * i * w;
            for (ptrdiff_t j = 0; j < ow; j += 16) {
                const ptrdiff_t nj = ow - j;
                const __mmask16 k = (__mmask16)low16(nj);
                const __m512 d = _mm512_add_ps(_mm512_maskz_loadu_ps(k, dy + i * ow + j), zero);
                const __m256i il = _mm512_cvtsepi64_epi32(
                    _mm512_maskz_loadu_epi64((__mmask8)k, idx + i * ow + j));
                const __m256i ih = _mm512_cvtsepi64_epi32(
                    _mm512_maskz_loadu_epi64((__mmask8)(k >> 8), idx + i * ow + j + 8));
                const __m512i iv = _mm512_inserti32x8(_mm512_castsi256_si512(il), ih, 1);
                const __m512i off = _mm512_sub_epi32(
                    iv, _mm512_add_epi32(lane, _mm512_set1_epi32((int)(2 * i * w + 2 * j))));
                __m512 te, to, be, bo;
                if (split_taps_f32(k, off, d, one, wv, w1, &te, &to, &be, &bo))
                    return 1;
                const __mmask16 s0 = (__mmask16)low16(2 * nj), s1 = (__mmask16)low16(2 * nj - 16);
                _mm512_mask_storeu_ps(r + 2 * j, s0, _mm512_permutex2var_ps(te, ilo, to));
                _mm512_mask_storeu_ps(r + 2 * j + 16, s1, _mm512_permutex2var_ps(te, ihi, to));
                _mm512_mask_storeu_ps(r + w + 2 * j, s0, _mm512_permutex2var_ps(be, ilo, bo));
                _mm512_mask_storeu_ps(r + w + 2 * j + 16, s1, _mm512_permutex2var_ps(be, ihi, bo));
            }
        }
    }
    /* what no window covers: a last odd column and row */
    if (w > 2 * ow)
        for (ptrdiff_t r = 0; r < 2 * oh; r++)
            memset(dx + r * w + 2 * ow, 0, (size_t)(w - 2 * ow) * sizeof(float));
    if (h > 2 * oh)
        memset(dx + 2 * oh * w, 0, (size_t)((h - 2 * oh) * w) * sizeof(float));
    return 0;
}

/* 2x2 stride-2 average pooling without padding, AVX-512 floats: the four taps of 16 windows
 * as in the max kernel, summed in the scalar loop's order (((0 + x00) + x01) + x10) + x11 and
 * divided by d (a multiply by 1/d when d is a power of two: the same correctly rounded
 * quotient), so results equal the general loop's bit for bit. Flat rows t0..t1-1, two per
 * step when a row has at most 8 windows. */
ATTR_AVX512 static void avgpool2x2_fwd_f32_avx512(const float *x, ptrdiff_t t0, ptrdiff_t t1,
                                                  ptrdiff_t h, ptrdiff_t w, ptrdiff_t oh,
                                                  ptrdiff_t ow, float d, float *y)
{
    const __m512i pe =
        _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i po = _mm512_add_epi32(pe, _mm512_set1_epi32(1));
    const int pow2 = d == 1 || d == 2 || d == 4 || d == 8 || d == 16;
    const __m512 dv = _mm512_set1_ps(pow2 ? 1.0f / d : d), zero = _mm512_setzero_ps();
#define ROW(t) (x + ((t) / oh) * h * w + 2 * ((t) % oh) * w)
#define DIVIDE(s) (pow2 ? _mm512_mul_ps((s), dv) : _mm512_div_ps((s), dv))
    if (ow <= 8) {
        const __mmask16 lm = (__mmask16)low16(2 * ow);
        for (ptrdiff_t t = t0; t < t1; t += 2) {
            const int two = t + 1 < t1;
            const float *a = ROW(t), *b = two ? ROW(t + 1) : a;
            __m512 a0, b0, a1, b1;
            load_taps(a, b, lm, two ? lm : 0, w, &a0, &b0, &a1, &b1);
            __m512 s = _mm512_add_ps(_mm512_add_ps(zero, _mm512_permutex2var_ps(a0, pe, b0)),
                                     _mm512_permutex2var_ps(a0, po, b0));
            s = _mm512_add_ps(s, _mm512_permutex2var_ps(a1, pe, b1));
            s = _mm512_add_ps(s, _mm512_permutex2var_ps(a1, po, b1));
            const __mmask16 k = (__mmask16)(low16(ow) | (two ? low16(ow) << 8 : 0u));
            _mm512_mask_storeu_ps(y + t * ow, (__mmask16)low16((1 + two) * ow),
                                  _mm512_maskz_compress_ps(k, DIVIDE(s)));
        }
    } else {
        for (ptrdiff_t t = t0; t < t1; t++) {
            const float *r0 = ROW(t);
            for (ptrdiff_t j = 0; j < ow; j += 16) {
                const ptrdiff_t nj = ow - j;
                __m512 a0, b0, a1, b1;
                load_taps(r0 + 2 * j, r0 + 2 * j + 16, (__mmask16)low16(2 * nj),
                          (__mmask16)low16(2 * nj - 16), w, &a0, &b0, &a1, &b1);
                __m512 s = _mm512_add_ps(_mm512_add_ps(zero, _mm512_permutex2var_ps(a0, pe, b0)),
                                         _mm512_permutex2var_ps(a0, po, b0));
                s = _mm512_add_ps(s, _mm512_permutex2var_ps(a1, pe, b1));
                s = _mm512_add_ps(s, _mm512_permutex2var_ps(a1, po, b1));
                _mm512_mask_storeu_ps(y + t * ow + j, (__mmask16)low16(nj), DIVIDE(s));
            }
        }
    }
#undef ROW
}

/* Its backward: every dx of window (i, j) is dy[i, j] / d (+ 0, as the scatter's 0 + v), so
 * dx is written once, each dy duplicated into the two columns of its window by a permute and
 * stored to both rows; the uncovered last odd row/column is zeroed. Whole planes p0..p1-1. */
ATTR_AVX512 static void avgpool2x2_bwd_f32_avx512(const float *dy, float *dx, ptrdiff_t p0,
                                                  ptrdiff_t p1, ptrdiff_t h, ptrdiff_t w,
                                                  ptrdiff_t oh, ptrdiff_t ow, float d)
{
    const __m512i dlo = _mm512_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
    const __m512i dhi = _mm512_add_epi32(dlo, _mm512_set1_epi32(8));
    const int pow2 = d == 1 || d == 2 || d == 4 || d == 8 || d == 16;
    const __m512 dv = _mm512_set1_ps(pow2 ? 1.0f / d : d), zero = _mm512_setzero_ps();
    for (ptrdiff_t p = p0; p < p1; p++) {
        const float *g = dy + p * oh * ow;
        float *o = dx + p * h * w;
        if (ow <= 8) {
            /* two rows per step: 2*ow contiguous dy, expanded into the two halves */
            const __mmask16 lr = (__mmask16)low16(2 * ow);
            for (ptrdiff_t i = 0; i < oh; i += 2) {
                const int two = i + 1 < oh;
                const __mmask16 k = (__mmask16)(low16(ow) | (two ? low16(ow) << 8 : 0u));
                const __m512 s = _mm512_maskz_expand_ps(
                    k, _mm512_maskz_loadu_ps((__mmask16)low16((1 + two) * ow), g + i * ow));
                const __m512 v = _mm512_add_ps(DIVIDE(s), zero);
                float *r = o + 2 * i * w;
                const __m512 lo = _mm512_permutexvar_ps(dlo, v);
                _mm512_mask_storeu_ps(r, lr, lo);
                _mm512_mask_storeu_ps(r + w, lr, lo);
                if (two) {
                    const __m512 hi = _mm512_permutexvar_ps(dhi, v);
                    _mm512_mask_storeu_ps(r + 2 * w, lr, hi);
                    _mm512_mask_storeu_ps(r + 3 * w, lr, hi);
                }
            }
        } else {
            for (ptrdiff_t i = 0; i < oh; i++) {
                float *r = o + 2 * i * w;
                for (ptrdiff_t j = 0; j < ow; j += 16) {
                    const ptrdiff_t nj = ow - j;
                    const __m512 v = _mm512_add_ps(
                        DIVIDE(_mm512_maskz_loadu_ps((__mmask16)low16(nj), g + i * ow + j)), zero);
                    const __mmask16 s0 = (__mmask16)low16(2 * nj),
                                    s1 = (__mmask16)low16(2 * nj - 16);
                    const __m512 lo = _mm512_permutexvar_ps(dlo, v),
                                 hi = _mm512_permutexvar_ps(dhi, v);
                    _mm512_mask_storeu_ps(r + 2 * j, s0, lo);
                    _mm512_mask_storeu_ps(r + 2 * j + 16, s1, hi);
                    _mm512_mask_storeu_ps(r + w + 2 * j, s0, lo);
                    _mm512_mask_storeu_ps(r + w + 2 * j + 16, s1, hi);
                }
            }
        }
        if (w > 2 * ow)
            for (ptrdiff_t r = 0; r < 2 * oh; r++)
                memset(o + r * w + 2 * ow, 0, (size_t)(w - 2 * ow) * sizeof(float));
        if (h > 2 * oh)
            memset(o + 2 * oh * w, 0, (size_t)((h - 2 * oh) * w) * sizeof(float));
    }
#undef DIVIDE
}

/* The inner columns of one output row of general average pooling (windows wholly inside the
 * plane's columns, one divisor d): y[j] := (sum over rows r0..r1-1, taps q < kw of
 * x[r, c + j*sw + q]) / d, 16 windows per step. Each lane adds its taps from +0 in the
 * per-window loop's order, so the results are that loop's bit for bit; masked loads cover a
 * short row (14 windows at stride 2 on 28 columns) in one step, where GCC's loop fell back to
 * its scalar epilogue. Stride 1: one load per tap; stride 2: two loads and the even permute;
 * others: a gather. */
ATTR_AVX512 static void avgpool_row_fwd_f32_avx512(const float *x, ptrdiff_t w, ptrdiff_t r0,
                                                   ptrdiff_t r1, ptrdiff_t kw, ptrdiff_t sw,
                                                   ptrdiff_t c, ptrdiff_t n, float d, float *y)
{
    const __m512i pe =
        _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i step =
        _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                           _mm512_set1_epi32((int)sw));
    const __m512 dv = _mm512_set1_ps(d);
    for (ptrdiff_t j = 0; j < n; j += 16) {
        const ptrdiff_t nj = n - j;
        const __mmask16 m = (__mmask16)low16(nj);
        const __mmask16 l0 = (__mmask16)low16(2 * nj - 1), l1 = (__mmask16)low16(2 * nj - 17);
        __m512 s = _mm512_setzero_ps();
        for (ptrdiff_t r = r0; r < r1; r++) {
            const float *p = x + r * w + c + j * sw;
            for (ptrdiff_t q = 0; q < kw; q++) {
                __m512 v;
                if (sw == 1)
                    v = _mm512_maskz_loadu_ps(m, p + q);
                else if (sw == 2)
                    v = _mm512_permutex2var_ps(_mm512_maskz_loadu_ps(l0, p + q), pe,
                                               _mm512_maskz_loadu_ps(l1, p + q + 16));
                else
                    v = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, step, p + q, 4);
                s = _mm512_add_ps(s, v);
            }
        }
        _mm512_mask_storeu_ps(y + j, m, _mm512_div_ps(s, dv));
    }
}

/* Its backward for strides 1 and 2 with (15*sw + kw) <= 64: dx[r, c + j*sw + q] += v[j] for
 * rows r0..r1-1, j < n, q < kw, in a plane of lim elements at dx. The dx columns under 16
 * windows (at most 4 vectors) are loaded once per row, take every tap's shares in registers
 * and are stored once, instead of a read-modify-write per tap. q runs downwards, so each
 * element takes its windows' shares in ascending window order, as the per-window loop adds
 * them (the same result bit for bit); a lane adds only where a window covers it. */
ATTR_AVX512 static void avgpool_row_bwd_f32_avx512(const float *v, ptrdiff_t w, ptrdiff_t r0,
                                                   ptrdiff_t r1, ptrdiff_t kw, ptrdiff_t sw,
                                                   ptrdiff_t c, ptrdiff_t n, float *dx,
                                                   ptrdiff_t lim)
{
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i zero = _mm512_setzero_si512(), odd = _mm512_set1_epi32(sw == 2 ? 1 : 0);
    for (ptrdiff_t j = 0; j < n; j += 16) {
        const ptrdiff_t nj = n - j < 16 ? n - j : 16, len = (nj - 1) * sw + kw;
        const int segs = (int)((len + 15) / 16);
        const __m512 a = _mm512_maskz_loadu_ps((__mmask16)low16(nj), v + j);
        const __m512i span = _mm512_set1_epi32((int)(nj * sw));
        /* the shares of tap q in column vector s, the same for every row: column 16s + lane
         * takes window (16s + lane - q) / sw where that is a whole window index */
        __m512 share[64 * 4];
        __mmask16 ok[64 * 4];
        for (ptrdiff_t q = 0; q < kw; q++)
            for (int s = 0; s < segs; s++) {
                const __m512i t = _mm512_add_epi32(lane, _mm512_set1_epi32(16 * s - (int)q));
                ok[q * 4 + s] = _mm512_cmpge_epi32_mask(t, zero) &
                                _mm512_cmplt_epi32_mask(t, span) & _mm512_testn_epi32_mask(t, odd);
                share[q * 4 + s] = _mm512_permutexvar_ps(sw == 2 ? _mm512_srai_epi32(t, 1) : t, a);
            }
        for (ptrdiff_t r = r0; r < r1; r++) {
            float *p = dx + r * w + c + j * sw;
            for (int s = 0; s < segs; s++) {
                /* whole vectors where they stay inside the plane (this thread's): the lanes
                 * past the row go back unchanged, and the next window row's load of the same
                 * vector is forwarded from this store, which a masked store is not (a stall
                 * that doubled the time at stride 1) */
                const int whole = p + 16 * s + 16 <= dx + lim;
                const __mmask16 in = (__mmask16)low16(len - 16 * s);
                __m512 acc =
                    whole ? _mm512_loadu_ps(p + 16 * s) : _mm512_maskz_loadu_ps(in, p + 16 * s);
                for (ptrdiff_t q = kw - 1; q >= 0; q--)
                    acc = _mm512_mask_add_ps(acc, ok[q * 4 + s] & in, acc, share[q * 4 + s]);
                if (whole)
                    _mm512_storeu_ps(p + 16 * s, acc);
                else
                    _mm512_mask_storeu_ps(p + 16 * s, in, acc);
            }
        }
    }
}

/* The inner columns of one output row of general max pooling (windows wholly inside the
 * plane's columns), 16 windows per step: y[j], idx[j] := max and flat index over the taps in
 * rows rows[0..nr-1] (those inside the plane) and columns c + j*sw + q*dw, q < kw, with the
 * scalar loop's rule tap by tap (the first tap; then a larger value, or a NaN unless a NaN is
 * held), so the same value and index. Stride 1: a load per tap; 2: two loads and the even
 * permute; others: a gather. */
ATTR_AVX512 static void maxpool_row_fwd_f32_avx512(const float *x, ptrdiff_t w,
                                                   const ptrdiff_t *rows, ptrdiff_t nr,
                                                   ptrdiff_t kw, ptrdiff_t sw, ptrdiff_t dw,
                                                   ptrdiff_t c, ptrdiff_t n, float *y,
                                                   int64_t *idx)
{
    const __m512i pe =
        _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i step = _mm512_mullo_epi32(lane, _mm512_set1_epi32((int)sw));
    for (ptrdiff_t j = 0; j < n; j += 16) {
        const ptrdiff_t nj = n - j;
        const __mmask16 m = (__mmask16)low16(nj);
        const __mmask16 l0 = (__mmask16)low16(2 * nj - 1), l1 = (__mmask16)low16(2 * nj - 17);
        __m512 best = _mm512_setzero_ps();
        __m512i at = _mm512_setzero_si512();
        int first = 1;
        for (ptrdiff_t k = 0; k < nr; k++) {
            const ptrdiff_t r = rows[k];
            for (ptrdiff_t q = 0; q < kw; q++) {
                const ptrdiff_t off = r * w + c + j * sw + q * dw;
                const float *p = x + off;
                __m512 v;
                if (sw == 1)
                    v = _mm512_maskz_loadu_ps(m, p);
                else if (sw == 2)
                    v = _mm512_permutex2var_ps(_mm512_maskz_loadu_ps(l0, p), pe,
                                               _mm512_maskz_loadu_ps(l1, p + 16));
                else
                    v = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, step, p, 4);
                const __m512i here = _mm512_add_epi32(step, _mm512_set1_epi32((int)off));
                if (first) {
                    best = v;
                    at = here;
                    first = 0;
                    continue;
                }
                const __mmask16 take = _mm512_cmp_ps_mask(v, best, _CMP_GT_OQ) |
                                       (_mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q) &
                                        _mm512_cmp_ps_mask(best, best, _CMP_ORD_Q));
                best = _mm512_mask_blend_ps(take, best, v);
                at = _mm512_mask_blend_epi32(take, at, here);
            }
        }
        _mm512_mask_storeu_ps(y + j, m, best);
        store_idx16(idx + j, nj < 16 ? nj : 16, at);
    }
}

/* conv2d's fused relu + 2x2 max pooling (pool.h), 16 windows per step: max2x2_f32 with
 * "offsets" 0, 1, 2, 3 gives the window code directly; 4 where the max is not > 0. Input
 * through the relu has no NaN. */
ATTR_AVX512 static void relu_maxpool2x2_fwd_f32_avx512(const float *x, ptrdiff_t planes,
                                                       ptrdiff_t h, ptrdiff_t w, float *y,
                                                       uint8_t *code)
{
    const ptrdiff_t oh = h / 2, ow = w / 2;
    const __m512i two = _mm512_set1_epi32(2), three = _mm512_set1_epi32(3),
                  four = _mm512_set1_epi32(4);
    for (ptrdiff_t t = 0; t < planes * oh; t++) {
        const float *r0 = x + (t / oh) * h * w + 2 * (t % oh) * w;
        for (ptrdiff_t j = 0; j < ow; j += 16) {
            const ptrdiff_t nj = ow - j;
            __m512i off;
            __mmask16 nan;
            const __m512 m = max2x2_row16(r0 + 2 * j, nj, w, two, three, &off, &nan);
            const __mmask16 k = (__mmask16)low16(nj),
                            pos = _mm512_cmp_ps_mask(m, _mm512_setzero_ps(), _CMP_GT_OQ);
            _mm512_mask_storeu_ps(y + t * ow + j, k, m);
            _mm512_mask_cvtepi32_storeu_epi8(code + t * ow + j, k,
                                             _mm512_mask_mov_epi32(four, pos, off));
        }
    }
}

/* Its backward, 16 windows per step: each window's four dx written once (dy at the coded tap,
 * zeros at the others), the plane's sum kept in a vector. */
ATTR_AVX512 static void relu_maxpool2x2_bwd_f32_avx512(const float *dy, const uint8_t *code,
                                                       ptrdiff_t planes, ptrdiff_t h, ptrdiff_t w,
                                                       float *dx, double *sums)
{
    const ptrdiff_t oh = h / 2, ow = w / 2;
    const __m512i ilo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i ihi = _mm512_add_epi32(ilo, _mm512_set1_epi32(8));
    const __m512i c1 = _mm512_set1_epi32(1), c2 = _mm512_set1_epi32(2), c3 = _mm512_set1_epi32(3),
                  c4 = _mm512_set1_epi32(4);
    for (ptrdiff_t pl = 0; pl < planes; pl++) {
        float *xp = dx + pl * h * w;
        __m512 s = _mm512_setzero_ps();
        for (ptrdiff_t i = 0; i < oh; i++) {
            float *r0 = xp + 2 * i * w, *r1 = r0 + w;
            const float *d = dy + (pl * oh + i) * ow;
            const uint8_t *c = code + (pl * oh + i) * ow;
            for (ptrdiff_t j = 0; j < ow; j += 16) {
                const ptrdiff_t nj = ow - j;
                const __mmask16 k = (__mmask16)low16(nj);
                const __m512 v = _mm512_maskz_loadu_ps(k, d + j);
                const __m512i cv = _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(k, c + j));
                const __m512 te = _mm512_maskz_mov_ps(
                                 _mm512_mask_cmpeq_epi32_mask(k, cv, _mm512_setzero_si512()), v),
                             to = _mm512_maskz_mov_ps(_mm512_mask_cmpeq_epi32_mask(k, cv, c1), v),
                             be = _mm512_maskz_mov_ps(_mm512_mask_cmpeq_epi32_mask(k, cv, c2), v),
                             bo = _mm512_maskz_mov_ps(_mm512_mask_cmpeq_epi32_mask(k, cv, c3), v);
                s = _mm512_mask_add_ps(s, _mm512_mask_cmplt_epi32_mask(k, cv, c4), s, v);
                const __mmask16 s0 = (__mmask16)low16(2 * nj), s1 = (__mmask16)low16(2 * nj - 16);
                _mm512_mask_storeu_ps(r0 + 2 * j, s0, _mm512_permutex2var_ps(te, ilo, to));
                _mm512_mask_storeu_ps(r0 + 2 * j + 16, s1, _mm512_permutex2var_ps(te, ihi, to));
                _mm512_mask_storeu_ps(r1 + 2 * j, s0, _mm512_permutex2var_ps(be, ilo, bo));
                _mm512_mask_storeu_ps(r1 + 2 * j + 16, s1, _mm512_permutex2var_ps(be, ihi, bo));
            }
            if (w > 2 * ow)
                r0[w - 1] = r1[w - 1] = 0;
        }
        if (h > 2 * oh)
            memset(xp + 2 * oh * w, 0, (size_t)w * sizeof(float));
        if (sums)
            sums[pl] = _mm512_reduce_add_ps(s);
    }
}
#endif

#define DT float
#define SFX f32
#include "pool_impl.h"
#undef DT
#undef SFX

#define DT double
#define SFX f64
#include "pool_impl.h"
#undef DT
#undef SFX
