/* Row tiles of 3-wide convolutions with stride 1 or 2, and 5-wide ones with stride 1
 * (forward and dX; their dW stays with the wide tiles) (AVX-512 and AVX2, float32; the dW
 * tiles at the end AVX-512 only), included by
 * conv_isa.h in its float instantiation after the implicit kernels (it uses their 16x16
 * transpose). Stride 1: forward, dX (the flipped convolution of dY) and dW; stride 2: the
 * forward and dW (value m meets tap q of pixel (m - q) / 2), dX stays with the phases.
 *
 * The implicit tiles (conv_implicit.h) put 32 consecutive *wide* pixels in the vector lanes,
 * so the wide rows' Wp - OW garbage columns are computed too: 2 of every 9 pixels at 7x7, 2
 * of 16 at 14x14. Here the lanes hold output channels instead: a tile is R pixels of one
 * output row (no garbage beyond the row's last partial tile) x NV*16 channels, acc[j][v]
 * for pixel j, channels v*16.. . For each input channel c and kernel row p the three taps'
 * weight vectors stay in registers while the R + 2 input values x[c, i + p, j0 .. j0 + R + 1]
 * are broadcast once each: tap q of pixel j reads value j + q, so every value feeds up to
 * three pixels. Per (c, p): 3*NV weight loads and R + 2 broadcasts for 3*R*NV FMAs (R = 8,
 * NV = 2: 26 loads for 48 FMAs; the wide tile needs 10 loads for 16): fewer loads per FMA,
 * and no garbage columns computed.
 *
 * The epilogue transposes each channel block (16x16 in registers) and stores every channel's
 * R pixels with a mask, bias and relu applied on the way (relu: v > 0 ? v : 0, NaN -> 0, as
 * the other epilogues).
 *
 * Weights: ik_pack's layout with mr = NV*16 (k-major, the NV*16 rows of a block contiguous
 * per k; k = (c, p, q)). Inputs: the zero-bordered planes of ik_pad (rows of Wp, planes of
 * Hp*Wp); x0 points at the tile's first pixel's window corner. A tile reads up to R + 1
 * elements past its first pixel, so the caller leaves that much slack after the last plane
 * (and OW + R + 1 <= 16 + Wp: a partial last tile reads on into the next row or the slack). */

#define RT_DEF(R, NV, S, KW)                                                                      \
    ATTR_AVX512 static void rowtile_##R##_##NV##_##S##_##KW(                                      \
        ptrdiff_t C, ptrdiff_t kh, const float *restrict wt, const float *restrict x0,            \
        ptrdiff_t Wp, ptrdiff_t HWp, float *restrict y, ptrdiff_t ldy, int nvalid, int ncout,     \
        const float *restrict bias, int relu)                                                     \
    {                                                                                             \
        __m512 acc[R][NV];                                                                        \
        _Pragma("GCC unroll 16") for (int j = 0; j < R; j++)                                      \
            _Pragma("GCC unroll 2") for (int v = 0; v < NV; v++) acc[j][v] = _mm512_setzero_ps(); \
        for (ptrdiff_t c = 0; c < C; c++)                                                         \
            for (ptrdiff_t p = 0; p < kh; p++) {                                                  \
                const float *a = x0 + c * HWp + p * Wp;                                           \
                const float *w = wt + (c * kh + p) * KW * (NV * 16);                              \
                __m512 wq[KW][NV];                                                                \
                _Pragma("GCC unroll 5") for (int q = 0; q < KW; q++)                              \
                    _Pragma("GCC unroll 2") for (int v = 0; v < NV; v++) wq[q][v] =               \
                        _mm512_loadu_ps(w + (q * NV + v) * 16);                                   \
                /* value m meets tap q of pixel (m - q) / S */                                    \
                _Pragma("GCC unroll 40") for (int m = 0; m < S * (R - 1) + KW; m++)               \
                {                                                                                 \
                    const __m512 xv = _mm512_set1_ps(a[m]);                                       \
                    _Pragma("GCC unroll 5") for (int q = 0; q < KW; q++)                          \
                        _Pragma("GCC unroll 2") for (int v = 0; v < NV; v++)                      \
                    {                                                                             \
                        if (m >= q && (m - q) % S == 0 && (m - q) / S < R)                        \
                            acc[(m - q) / S][v] =                                                 \
                                _mm512_fmadd_ps(xv, wq[q][v], acc[(m - q) / S][v]);               \
                    }                                                                             \
                }                                                                                 \
            }                                                                                     \
        const __mmask16 keep = (__mmask16)((1u << nvalid) - 1);                                   \
        _Pragma("GCC unroll 2") for (int v = 0; v < NV; v++)                                      \
        {                                                                                         \
            __m512 r[16];                                                                         \
            _Pragma("GCC unroll 16") for (int j = 0; j < 16; j++) r[j] =                          \
                j < R ? acc[j < R ? j : 0][v] : _mm512_setzero_ps();                              \
            tr_lanes_avx512_f32(r);                                                               \
            const int no = ncout - v * 16 < 16 ? ncout - v * 16 : 16;                             \
            for (int o = 0; o < no; o++) {                                                        \
                __m512 val = r[o];                                                                \
                if (bias)                                                                         \
                    val = _mm512_add_ps(val, _mm512_set1_ps(bias[v * 16 + o]));                   \
                if (relu)                                                                         \
                    val = _mm512_maskz_mov_ps(                                                    \
                        _mm512_cmp_ps_mask(val, _mm512_setzero_ps(), _CMP_GT_OQ), val);           \
                _mm512_mask_storeu_ps(y + (v * 16 + o) * ldy, keep, val);                         \
            }                                                                                     \
        }                                                                                         \
    }

/* rowtile_<R>_<NV>_<S>_<KW>: R pixels, NV channel vectors, stride S, KW taps wide:
 * rowtile_{7,8,12}_2_{1,2}_3, rowtile_{14,16}_1_{1,2}_3, and at 5 taps (stride 1 only; no
 * 12-pixel tile, whose 24 accumulators and 10 weight vectors would not fit the 32 registers)
 * rowtile_{7,8}_2_1_5, rowtile_{14,16}_1_1_5 */
RT_DEF(7, 2, 1, 3)
RT_DEF(8, 2, 1, 3)
RT_DEF(12, 2, 1, 3)
RT_DEF(14, 1, 1, 3)
RT_DEF(16, 1, 1, 3)
RT_DEF(7, 2, 2, 3)
RT_DEF(8, 2, 2, 3)
RT_DEF(12, 2, 2, 3)
RT_DEF(14, 1, 2, 3)
RT_DEF(16, 1, 2, 3)
RT_DEF(7, 2, 1, 5)
RT_DEF(8, 2, 1, 5)
RT_DEF(14, 1, 1, 5)
RT_DEF(16, 1, 1, 5)
#undef RT_DEF

typedef void (*rowtile_fn)(ptrdiff_t, ptrdiff_t, const float *, const float *, ptrdiff_t,
                           ptrdiff_t, float *, ptrdiff_t, int, int, const float *, int);

/* ---- AVX2: the same tiles with 8 channels a vector and 16 vector registers ----------------
 * One channel vector (8 channels) x R = 7 or 8 pixels: 8 accumulators, the KW weight vectors
 * of (c, p) and a broadcast fit 16 ymm at 3 and at 5 taps (two channel vectors would leave
 * room for only 4 pixels at 3 taps, none at 5). Per (c, p) at 3 taps: 3 weight loads and 10
 * broadcasts for 24 FMAs (the AVX2 wide tile: 6 loads for 8). The epilogue transposes the 8
 * pixel vectors in registers and stores each channel's pixels under a lane mask. */
ATTR_AVX2 static inline void tr8_avx2(__m256 r[8])
{
    __m256 t[8], u[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
        u[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
        u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
        u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
    }
    for (int i = 0; i < 4; i++) {
        r[i] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x20);
        r[i + 4] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x31);
    }
}

#define RT2_DEF(R, S, KW)                                                                      \
    ATTR_AVX2 static void rowtile2_##R##_##S##_##KW(                                           \
        ptrdiff_t C, ptrdiff_t kh, const float *restrict wt, const float *restrict x0,         \
        ptrdiff_t Wp, ptrdiff_t HWp, float *restrict y, ptrdiff_t ldy, int nvalid, int ncout,  \
        const float *restrict bias, int relu)                                                  \
    {                                                                                          \
        __m256 acc[R];                                                                         \
        _Pragma("GCC unroll 8") for (int j = 0; j < R; j++) acc[j] = _mm256_setzero_ps();      \
        for (ptrdiff_t c = 0; c < C; c++)                                                      \
            for (ptrdiff_t p = 0; p < kh; p++) {                                               \
                const float *a = x0 + c * HWp + p * Wp;                                        \
                const float *w = wt + (c * kh + p) * KW * 8;                                   \
                __m256 wq[KW];                                                                 \
                _Pragma("GCC unroll 5") for (int q = 0; q < KW; q++) wq[q] =                   \
                    _mm256_loadu_ps(w + q * 8);                                                \
                /* value m meets tap q of pixel (m - q) / S */                                 \
                _Pragma("GCC unroll 40") for (int m = 0; m < S * (R - 1) + KW; m++)            \
                {                                                                              \
                    const __m256 xv = _mm256_broadcast_ss(a + m);                              \
                    _Pragma("GCC unroll 5") for (int q = 0; q < KW; q++)                       \
                    {                                                                          \
                        if (m >= q && (m - q) % S == 0 && (m - q) / S < R)                     \
                            acc[(m - q) / S] = _mm256_fmadd_ps(xv, wq[q], acc[(m - q) / S]);   \
                    }                                                                          \
                }                                                                              \
            }                                                                                  \
        const __m256i keep = _mm256_cmpgt_epi32(_mm256_set1_epi32(nvalid),                     \
                                                _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));    \
        __m256 r[8];                                                                           \
        _Pragma("GCC unroll 8") for (int j = 0; j < 8; j++) r[j] =                             \
            j < R ? acc[j < R ? j : 0] : _mm256_setzero_ps();                                  \
        tr8_avx2(r);                                                                           \
        const int no = ncout < 8 ? ncout : 8;                                                  \
        for (int o = 0; o < no; o++) {                                                         \
            __m256 val = r[o];                                                                 \
            if (bias)                                                                          \
                val = _mm256_add_ps(val, _mm256_set1_ps(bias[o]));                             \
            if (relu) /* v > 0 ? v : 0, NaN -> 0 */                                            \
                val = _mm256_and_ps(val, _mm256_cmp_ps(val, _mm256_setzero_ps(), _CMP_GT_OQ)); \
            _mm256_maskstore_ps(y + o * ldy, keep, val);                                       \
        }                                                                                      \
    }

/* rowtile2_<R>_<S>_<KW>: R pixels x 8 channels, stride S, KW taps */
RT2_DEF(7, 1, 3)
RT2_DEF(8, 1, 3)
RT2_DEF(7, 2, 3)
RT2_DEF(8, 2, 3)
RT2_DEF(7, 1, 5)
RT2_DEF(8, 1, 5)
#undef RT2_DEF

/* Pixels per tile for rows of OW: 7 or 8 with two channel vectors (16 accumulators), 14 or
 * 16 with one (a tile of 7 would keep too few FMAs in flight); whichever splits the row
 * exactly, else the larger (the last tile partial). */
static inline int rowtile_r(ptrdiff_t OW, int nv)
{
    const int r = nv == 2 ? 8 : 16;
    return OW % r == 0 ? r : OW % (r - r / 8) == 0 ? r - r / 8 : r;
}

/* One image (one group): out[o*ldy + i*OW + j] for o < rows, every output pixel, from the
 * planes xp (C channels of Hp x Wp, stride s = 1 or 2 in both directions: output (i, j)
 * reads (s*i + p, s*j + q)) and wp (ik_pack, mr = the block's channels: 16 or 32 on
 * AVX-512, 8 on AVX2, as rowtile_nv chose); kw = 3, or 5 at stride 1. */
static void rowtile_image(ptrdiff_t C, ptrdiff_t kh, ptrdiff_t kw, const float *wp, ptrdiff_t K,
                          ptrdiff_t rows, int mr, int s, const float *xp, ptrdiff_t Hp,
                          ptrdiff_t Wp, ptrdiff_t OH, ptrdiff_t OW, float *out, ptrdiff_t ldy,
                          const float *bias, int relu)
{
    if (mr == 8) {
        /* AVX2: 7 pixels where they split the row exactly, else 8 (the last tile partial) */
        const int R = OW % 7 == 0 ? 7 : 8;
        const rowtile_fn fn = kw == 5  ? (R == 7 ? rowtile2_7_1_5 : rowtile2_8_1_5)
                              : s == 1 ? (R == 7 ? rowtile2_7_1_3 : rowtile2_8_1_3)
                                       : (R == 7 ? rowtile2_7_2_3 : rowtile2_8_2_3);
        for (ptrdiff_t ob = 0; ob < rows; ob += 8)
            for (ptrdiff_t i = 0; i < OH; i++)
                for (ptrdiff_t j0 = 0; j0 < OW; j0 += R)
                    fn(C, kh, wp + ob * K, xp + s * (i * Wp + j0), Wp, Hp * Wp,
                       out + ob * ldy + i * OW + j0, ldy, (int)(OW - j0 < R ? OW - j0 : R),
                       (int)(rows - ob < 8 ? rows - ob : 8), bias ? bias + ob : NULL, relu);
        return;
    }
    const int nv = mr / 16;
    const int R = rowtile_r(OW, nv);
    rowtile_fn fn, f8, f12;
    if (kw == 5) {
        fn = nv == 2 ? (R == 7 ? rowtile_7_2_1_5 : rowtile_8_2_1_5)
                     : (R == 14 ? rowtile_14_1_1_5 : rowtile_16_1_1_5);
        f8 = rowtile_8_2_1_5;
        f12 = NULL;
    } else {
        fn = s == 1 ? (nv == 2 ? (R == 7 ? rowtile_7_2_1_3 : rowtile_8_2_1_3)
                               : (R == 14 ? rowtile_14_1_1_3 : rowtile_16_1_1_3))
                    : (nv == 2 ? (R == 7 ? rowtile_7_2_2_3 : rowtile_8_2_2_3)
                               : (R == 14 ? rowtile_14_1_2_3 : rowtile_16_1_2_3));
        f8 = s == 1 ? rowtile_8_2_1_3 : rowtile_8_2_2_3;
        f12 = s == 1 ? rowtile_12_2_1_3 : rowtile_12_2_2_3;
    }
    /* rows of 20+ pixels with two channel vectors: nb tiles of 12 pixels first (24
     * accumulators, fewer loads per FMA), as many as leave a multiple of 8 for the 8-pixel
     * tiles (32 = 12+12+8, 28 = 12+8+8) */
    ptrdiff_t nb = f12 && nv == 2 && OW >= 20 ? OW / 12 : 0;
    while (nb > 0 && (OW - 12 * nb) % 8 != 0)
        nb--;
    for (ptrdiff_t ob = 0; ob < rows; ob += mr)
        for (ptrdiff_t i = 0; i < OH; i++)
            for (ptrdiff_t j0 = 0; j0 < OW;) {
                const int r = j0 < 12 * nb ? 12 : nb ? 8 : R;
                (r == 12 ? f12
                 : r == R
                     ? fn
                     : f8)(C, kh, wp + ob * K, xp + s * (i * Wp + j0), Wp, Hp * Wp,
                           out + ob * ldy + i * OW + j0, ldy, (int)(OW - j0 < r ? OW - j0 : r),
                           (int)(rows - ob < mr ? rows - ob : mr), bias ? bias + ob : NULL, relu);
                j0 += r;
            }
}

/* ---- weight gradient, the same idea ------------------------------------------------------
 * dW^T[(c, p, q), o] = sum_{i, j} x[c, i + p, j + q] * dy[o, i, j]. For one (c, p) and
 * output row i, input value m of row i + p meets pixel j = m - q for each tap q: broadcast it
 * once and multiply it by the three dY vectors of pixels m, m-1, m-2, a window that slides one
 * load per step. Four (c, p) rows share the window: per input position 4 broadcasts and NV
 * loads for 12*NV FMAs (the wide dW tile: 10 loads for 16). The first and last two positions
 * of a row skip the taps whose pixel is off the row (a 7-wide row would otherwise do 27
 * products for 21).
 * xr: the four rows' planes at output row 0 (xp + c*Hp*Wp + p*Wp); dyt: pixel-major dY over
 * wide rows (ik_dyt), channels from the block's first; dwt: += into rows (c, p, q) of the
 * first (c, p), ld apart; ng: how many of the four (c, p) are real (the others repeat the
 * last and are not stored). */
/* the dW tiles' 4 x 3 x NV accumulators: zeroed, and added into dwt rows (c, p, q) at the end */
#define RW_ZERO(NV)                                                             \
    _Pragma("GCC unroll 4") for (int g = 0; g < 4; g++)                         \
        _Pragma("GCC unroll 3") for (int q = 0; q < 3; q++)                     \
            _Pragma("GCC unroll 2") for (int v = 0; v < NV; v++) acc[g][q][v] = \
                _mm512_setzero_ps()
// clang-format off: it takes _Pragma(...) for an expression and rewraps the loop after it
#define RW_STORE(NV) /* constant indices: a run-time g kept acc in memory through the loop */ \
    _Pragma("GCC unroll 4") for (int g = 0; g < 4; g++)                                    \
        _Pragma("GCC unroll 3") for (int q = 0; q < 3; q++)                                \
            _Pragma("GCC unroll 2") for (int v = 0; v < NV; v++) if (g < ng)               \
            {                                                                              \
                float *o = dwt + (g * 3 + q) * ld + v * 16;                                \
                _mm512_storeu_ps(o, _mm512_add_ps(_mm512_loadu_ps(o), acc[g][q][v]));      \
            }
// clang-format on

/* output row i at stride S: the four (c, p) input rows x0..x3 and its dY^T row d */
#define RW_ROW(S)                                                       \
    const float *x0 = xr[0] + (S) * i * Wx, *x1 = xr[1] + (S) * i * Wx, \
                *x2 = xr[2] + (S) * i * Wx, *x3 = xr[3] + (S) * i * Wx; \
    const float *d = dyt + i * Wd * Cp

/* one input position m: shift the window (dY of pixels m, m-1, m-2), load dY[m] if LOAD,
 * and the FMAs of the taps whose pixel m - q lies in the row (T0, T1, T2) */
#define RW_STEP(NV, LOAD, T0, T1, T2)                                        \
    do {                                                                     \
        _Pragma("GCC unroll 2") for (int v = 0; v < NV; v++)                 \
        {                                                                    \
            d2[v] = d1[v];                                                   \
            d1[v] = d0[v];                                                   \
            if (LOAD)                                                        \
                d0[v] = _mm512_loadu_ps(d + m * Cp + v * 16);                \
        }                                                                    \
        const float xs[4] = {x0[m], x1[m], x2[m], x3[m]};                    \
        _Pragma("GCC unroll 4") for (int g = 0; g < 4; g++)                  \
        {                                                                    \
            const __m512 xv = _mm512_set1_ps(xs[g]);                         \
            _Pragma("GCC unroll 2") for (int v = 0; v < NV; v++)             \
            {                                                                \
                if (T0)                                                      \
                    acc[g][0][v] = _mm512_fmadd_ps(xv, d0[v], acc[g][0][v]); \
                if (T1)                                                      \
                    acc[g][1][v] = _mm512_fmadd_ps(xv, d1[v], acc[g][1][v]); \
                if (T2)                                                      \
                    acc[g][2][v] = _mm512_fmadd_ps(xv, d2[v], acc[g][2][v]); \
            }                                                                \
        }                                                                    \
    } while (0)

/* (OW >= 2: the first two and last two positions are peeled, so that only the 3*OW products
 * of the row are computed) */
#define RW_DEF(NV)                                                                              \
    ATTR_AVX512 static void rowdw_##NV(ptrdiff_t OH, ptrdiff_t OW, ptrdiff_t Wx, ptrdiff_t Wd,  \
                                       const float *const *xr, const float *restrict dyt,       \
                                       ptrdiff_t Cp, float *restrict dwt, ptrdiff_t ld, int ng) \
    {                                                                                           \
        __m512 acc[4][3][NV];                                                                   \
        RW_ZERO(NV);                                                                            \
        for (ptrdiff_t i = 0; i < OH; i++) {                                                    \
            RW_ROW(1);                                                                          \
            __m512 d0[NV], d1[NV], d2[NV];                                                      \
            _Pragma("GCC unroll 2") for (int v = 0; v < NV; v++) d0[v] = d1[v] =                \
                _mm512_setzero_ps();                                                            \
            ptrdiff_t m = 0;                                                                    \
            RW_STEP(NV, 1, 1, 0, 0);                                                            \
            m = 1;                                                                              \
            RW_STEP(NV, 1, 1, 1, 0);                                                            \
            for (m = 2; m < OW; m++)                                                            \
                RW_STEP(NV, 1, 1, 1, 1);                                                        \
            RW_STEP(NV, 0, 0, 1, 1);                                                            \
            m = OW + 1;                                                                         \
            RW_STEP(NV, 0, 0, 0, 1);                                                            \
        }                                                                                       \
        RW_STORE(NV);                                                                           \
    }

/* rowdw_{2,1}: stride 1, NV channel vectors */
RW_DEF(2)
RW_DEF(1)
#undef RW_DEF
#undef RW_STEP

/* Stride 2: input position m = 2j + q, so x[2j] meets taps 0 (pixel j) and 2 (pixel j - 1),
 * x[2j + 1] tap 1 (pixel j); the window is dY of pixels j and j - 1. Per pixel 8 broadcasts
 * and NV loads for 12*NV FMAs. xr rows advance 2*Wx per output row. */
#define RW2_STEP(NV, FIRST)                                                               \
    do {                                                                                  \
        _Pragma("GCC unroll 2") for (int v = 0; v < NV; v++)                              \
        {                                                                                 \
            d1[v] = d0[v];                                                                \
            d0[v] = _mm512_loadu_ps(d + j * Cp + v * 16);                                 \
        }                                                                                 \
        const float xe[4] = {x0[2 * j], x1[2 * j], x2[2 * j], x3[2 * j]};                 \
        const float xo[4] = {x0[2 * j + 1], x1[2 * j + 1], x2[2 * j + 1], x3[2 * j + 1]}; \
        _Pragma("GCC unroll 4") for (int g = 0; g < 4; g++)                               \
        {                                                                                 \
            const __m512 ev = _mm512_set1_ps(xe[g]), ov = _mm512_set1_ps(xo[g]);          \
            _Pragma("GCC unroll 2") for (int v = 0; v < NV; v++)                          \
            {                                                                             \
                acc[g][0][v] = _mm512_fmadd_ps(ev, d0[v], acc[g][0][v]);                  \
                acc[g][1][v] = _mm512_fmadd_ps(ov, d0[v], acc[g][1][v]);                  \
                if (!(FIRST))                                                             \
                    acc[g][2][v] = _mm512_fmadd_ps(ev, d1[v], acc[g][2][v]);              \
            }                                                                             \
        }                                                                                 \
    } while (0)

#define RW2_DEF(NV)                                                                              \
    ATTR_AVX512 static void rowdw2_##NV(ptrdiff_t OH, ptrdiff_t OW, ptrdiff_t Wx, ptrdiff_t Wd,  \
                                        const float *const *xr, const float *restrict dyt,       \
                                        ptrdiff_t Cp, float *restrict dwt, ptrdiff_t ld, int ng) \
    {                                                                                            \
        __m512 acc[4][3][NV];                                                                    \
        RW_ZERO(NV);                                                                             \
        for (ptrdiff_t i = 0; i < OH; i++) {                                                     \
            RW_ROW(2);                                                                           \
            __m512 d0[NV], d1[NV];                                                               \
            _Pragma("GCC unroll 2") for (int v = 0; v < NV; v++) d0[v] = d1[v] =                 \
                _mm512_setzero_ps();                                                             \
            ptrdiff_t j = 0;                                                                     \
            RW2_STEP(NV, 1);                                                                     \
            for (j = 1; j < OW; j++)                                                             \
                RW2_STEP(NV, 0);                                                                 \
            /* x[2*OW]: tap 2 of the last pixel */                                               \
            const float xl[4] = {x0[2 * OW], x1[2 * OW], x2[2 * OW], x3[2 * OW]};                \
            _Pragma("GCC unroll 4") for (int g = 0; g < 4; g++)                                  \
            {                                                                                    \
                const __m512 ev = _mm512_set1_ps(xl[g]);                                         \
                _Pragma("GCC unroll 2") for (int v = 0; v < NV; v++) acc[g][2][v] =              \
                    _mm512_fmadd_ps(ev, d0[v], acc[g][2][v]);                                    \
            }                                                                                    \
        }                                                                                        \
        RW_STORE(NV);                                                                            \
    }

/* rowdw2_{2,1}: stride 2, NV channel vectors */
RW2_DEF(2)
RW2_DEF(1)
#undef RW2_DEF
#undef RW2_STEP
#undef RW_ZERO
#undef RW_STORE
#undef RW_ROW

typedef void (*rowdw_fn)(ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, const float *const *,
                         const float *, ptrdiff_t, float *, ptrdiff_t, int);

/* AVX2, stride 1: the same tile over 8 channels (one ymm) and three (c, p) rows: 9
 * accumulators, the 3-vector dY window and a broadcast in the 16 ymm registers (four rows,
 * 12 accumulators, spilled in the loop). Per input position 3 broadcasts and 1 load for 9
 * FMAs. As above, the first and last two positions of a row do only the taps whose pixel is
 * on the row. */
#define RW8_STEP(LOAD, T0, T1, T2)                              \
    do {                                                        \
        d2 = d1;                                                \
        d1 = d0;                                                \
        if (LOAD)                                               \
            d0 = _mm256_loadu_ps(d + m * Cp);                   \
        _Pragma("GCC unroll 3") for (int g = 0; g < 3; g++)     \
        {                                                       \
            const __m256 xv = _mm256_broadcast_ss(xg[g] + m);   \
            if (T0)                                             \
                acc[g][0] = _mm256_fmadd_ps(xv, d0, acc[g][0]); \
            if (T1)                                             \
                acc[g][1] = _mm256_fmadd_ps(xv, d1, acc[g][1]); \
            if (T2)                                             \
                acc[g][2] = _mm256_fmadd_ps(xv, d2, acc[g][2]); \
        }                                                       \
    } while (0)

ATTR_AVX2 static void rowdw_avx2(ptrdiff_t OH, ptrdiff_t OW, ptrdiff_t Wx, ptrdiff_t Wd,
                                 const float *const *xr, const float *restrict dyt, ptrdiff_t Cp,
                                 float *restrict dwt, ptrdiff_t ld, int ng)
{
    __m256 acc[3][3];
    _Pragma("GCC unroll 3") for (int g = 0; g < 3; g++)
        _Pragma("GCC unroll 3") for (int q = 0; q < 3; q++) acc[g][q] = _mm256_setzero_ps();
    for (ptrdiff_t i = 0; i < OH; i++) {
        const float *xg[3] = {xr[0] + i * Wx, xr[1] + i * Wx, xr[2] + i * Wx};
        const float *d = dyt + i * Wd * Cp;
        __m256 d0 = _mm256_setzero_ps(), d1 = d0, d2 = d0;
        ptrdiff_t m = 0;
        RW8_STEP(1, 1, 0, 0);
        m = 1;
        RW8_STEP(1, 1, 1, 0);
        for (m = 2; m < OW; m++)
            RW8_STEP(1, 1, 1, 1);
        RW8_STEP(0, 0, 1, 1);
        m = OW + 1;
        RW8_STEP(0, 0, 0, 1);
    }
    /* constant indices only (a run-time one would keep acc in memory through the loop) */
    _Pragma("GCC unroll 3") for (int g = 0; g < 3; g++)
        _Pragma("GCC unroll 3") for (int q = 0; q < 3; q++) if (g < ng)
    {
        float *o = dwt + (g * 3 + q) * ld;
        _mm256_storeu_ps(o, _mm256_add_ps(_mm256_loadu_ps(o), acc[g][q]));
    }
}
#undef RW8_STEP

/* One image's dW^T (K = C*kh*3 rows of Cp channels, += into dwt) from its zero-bordered
 * planes xp (C of Hp x Wp; stride s = 1 or 2 both ways) and dY^T over rows of Wd pixels
 * (ik_dyt). */
static void rowdw_image(ptrdiff_t C, ptrdiff_t kh, int s, ptrdiff_t OH, ptrdiff_t OW,
                        const float *xp, ptrdiff_t Hp, ptrdiff_t Wp, const float *dyt,
                        ptrdiff_t Wd, ptrdiff_t Cp, float *dwt, int avx2)
{
    const rowdw_fn f2 = s == 1 ? rowdw_2 : rowdw2_2, f1 = s == 1 ? rowdw_1 : rowdw2_1;
    const ptrdiff_t rows = C * kh;
    const int G = avx2 ? 3 : 4; /* (c, p) rows a tile; AVX2: stride 1, Cp a multiple of 8 */
    for (ptrdiff_t r0 = 0; r0 < rows; r0 += G) {
        const float *xr[4];
        for (int g = 0; g < G; g++) {
            const ptrdiff_t r = r0 + g < rows ? r0 + g : rows - 1;
            xr[g] = xp + (r / kh) * Hp * Wp + (r % kh) * Wp;
        }
        const int ng = (int)(rows - r0 < G ? rows - r0 : G);
        if (avx2) {
            for (ptrdiff_t ob = 0; ob < Cp; ob += 8)
                rowdw_avx2(OH, OW, Wp, Wd, xr, dyt + ob, Cp, dwt + r0 * 3 * Cp + ob, Cp, ng);
            continue;
        }
        ptrdiff_t ob = 0;
        for (; ob + 32 <= Cp; ob += 32)
            f2(OH, OW, Wp, Wd, xr, dyt + ob, Cp, dwt + r0 * 3 * Cp + ob, Cp, ng);
        if (ob < Cp)
            f1(OH, OW, Wp, Wd, xr, dyt + ob, Cp, dwt + r0 * 3 * Cp + ob, Cp, ng);
    }
}
