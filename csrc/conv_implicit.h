/* Implicit-GEMM micro-kernels of the stride-1 convolution, instantiated by conv_isa.h per
 * dtype and ISA: DT, IFN(name), IATTR, IVB (vector bytes), IMR (rows per tile), INV (vectors
 * per tile row), IKB (weight columns per weight-gradient tile). IFN(ik_fwd) is
 * ik_fwd_{avx512,avx2,generic}_{f32,f64}; ik_fwd_st, tr_lanes and deinterleave_row exist in
 * the avx512 copies only. They are called through the table of conv_isa.h (ik_for) by
 * conv_implicit_driver.h, and for the depthwise kernels at the end by conv_depthwise.h.
 *
 * Over zero-padded "wide" planes (rows of Wp = OW + (kW-1)*dW, see conv_direct.h), the
 * im2col matrix of a stride-1 convolution never needs to be built: its row k = (c, p, q) is
 * the padded plane itself from offset off[k] = c*Hp*Wp + p*dH*Wp + q*dW, so a GEMM micro-panel
 * of it (k x NR pixels) is NR consecutive elements at xp + off[k] + t0, for every k. The
 * kernels below read those straight from the padded planes (unaligned vector loads), which
 * removes both the im2col copy and the GEMM's packing of it: the two cost more than the
 * multiply on the course's layers (16-64 channels), where the GEMM has only 16-64 rows. */

/* acc[r][v] := sum_k wp[k*IMR + r] * xb[off[k] + v*lanes + (0..lanes-1)]: one IMR x NR tile
 * (NR = INV * lanes pixels) of W @ im2col. wp: IMR rows of the weight, k-major (packed once
 * per call); xb: the padded planes + the tile's first pixel. dw3 != 0 says kW = 3 with
 * column dilation dw3: taps then come in threes at off[k] + {0, dw3, 2*dw3}, walked from one
 * pointer without the table (one table load per three taps instead of one per tap). */
#define IK_TAP(src)                                                                              \
    do {                                                                                         \
        const DT *s_ = (src);                                                                    \
        vt bv[INV];                                                                              \
        _Pragma("GCC unroll 4") for (int v = 0; v < INV; v++) bv[v] = *(const vt *)(s_ + v * L); \
        _Pragma("GCC unroll 16") for (int r = 0; r < IMR; r++)                                   \
        {                                                                                        \
            const DT a = wp[r];                                                                  \
            _Pragma("GCC unroll 4") for (int v = 0; v < INV; v++) acc[r][v] += a * bv[v];        \
        }                                                                                        \
        wp += IMR;                                                                               \
    } while (0)
#define IK_ACC(acc)                                                                        \
    do {                                                                                   \
        _Pragma("GCC unroll 16") for (int r = 0; r < IMR; r++)                             \
            _Pragma("GCC unroll 4") for (int v = 0; v < INV; v++) acc[r][v] = (vt){0};     \
        if (dw3) {                                                                         \
            for (ptrdiff_t k = 0; k < K; k += 3) {                                         \
                const DT *s3 = xb + off[k];                                                \
                IK_TAP(s3);                                                                \
                IK_TAP(s3 + dw3);                                                          \
                IK_TAP(s3 + 2 * dw3);                                                      \
            }                                                                              \
        } else {                                                                           \
            _Pragma("GCC unroll 2") for (ptrdiff_t k = 0; k < K; k++) IK_TAP(xb + off[k]); \
        }                                                                                  \
    } while (0)

/* The tile into a buffer: out[r*ldo + t] (portable; the caller crops the valid columns). */
IATTR static void IFN(ik_fwd)(ptrdiff_t K, const DT *restrict wp, const DT *restrict xb,
                              const ptrdiff_t *restrict off, ptrdiff_t dw3, DT *restrict out,
                              ptrdiff_t ldo)
{
    typedef DT vt __attribute__((vector_size(IVB), aligned(sizeof(DT)), may_alias));
    enum { L = IVB / sizeof(DT) };
    vt acc[IMR][INV];
    IK_ACC(acc);
#pragma GCC unroll 16
    for (int r = 0; r < IMR; r++)
#pragma GCC unroll 4
        for (int v = 0; v < INV; v++)
            *(vt *)(out + r * ldo + v * L) = acc[r][v];
}

#if MN_X86 && IVB == 64
/* AVX-512: the tile straight into the output, no buffer and no crop pass. A vector of wide
 * pixels holds valid ones (column < OW) and garbage; the valid ones, in order, are
 * consecutive output pixels, so each vector is compressed to them (vcompress in a register)
 * and stored under a prefix mask at y + ybase[v]. Rows r < nrows get act(acc + bias[r]). */
IATTR static void IFN(ik_fwd_st)(ptrdiff_t K, const DT *restrict wp, const DT *restrict xb,
                                 const ptrdiff_t *restrict off, ptrdiff_t dw3, DT *restrict y,
                                 ptrdiff_t ldy, int nrows, const ptrdiff_t *restrict ybase,
                                 const unsigned *restrict msk, const DT *restrict bias, int relu)
{
    typedef DT vt __attribute__((vector_size(IVB), aligned(sizeof(DT)), may_alias));
    typedef __typeof__((vt){0} < (vt){0}) vmask;
    enum { L = IVB / sizeof(DT) };
    vt acc[IMR][INV];
    IK_ACC(acc);
#pragma GCC unroll 16
    for (int r = 0; r < IMR; r++) {
        if (r >= nrows)
            break;
        const DT bo = bias ? bias[r] : (DT)0;
#pragma GCC unroll 4
        for (int v = 0; v < INV; v++) {
            vt val = acc[r][v] + bo;
            if (relu) /* v > 0 ? v : 0, as the crop loops (NaN -> 0) */
                val = (vt)((vmask)val & (vmask)(val > (vt){0}));
            DT *dst = y + r * ldy + ybase[v];
#if DT_F32
            const __mmask16 m = (__mmask16)msk[v];
            const __m512 c = _mm512_maskz_compress_ps(m, (__m512)val);
            _mm512_mask_storeu_ps(dst, (__mmask16)((1u << __builtin_popcount(m)) - 1), c);
#else
            const __mmask8 m = (__mmask8)msk[v];
            const __m512d c = _mm512_maskz_compress_pd(m, (__m512d)val);
            _mm512_mask_storeu_pd(dst, (__mmask8)((1u << __builtin_popcount(m)) - 1), c);
#endif
        }
    }
}
#endif

/* Weight gradient, transposed: dwt[kk*ldw + o] += sum_t src[kk][t] * dyt[t*ldt + o] for
 * kk < IKB and o < NV * lanes, over the valid pixels t = i*Wp + j (i < OH, j < OW) of the wide
 * rows. src[kk] = xp + off[k0 + kk] (a row of the implicit im2col matrix), dyt the image's
 * output gradient transposed to pixel-major (channels contiguous). The garbage columns
 * j >= OW are skipped, not multiplied by their zeros: 2 of every 9 pixels at 7x7, 2 of 16
 * at 14x14. */
// clang-format off: it takes _Pragma(...) for an expression and rewraps the loop after it
#define IK_DW_BODY(NV)                                                                     \
    typedef DT vt __attribute__((vector_size(IVB), aligned(sizeof(DT)), may_alias));      \
    enum { L = IVB / sizeof(DT) };                                                         \
    vt acc[IKB][NV];                                                                       \
    const DT *s[IKB];                                                                      \
    _Pragma("GCC unroll 16") for (int kk = 0; kk < IKB; kk++)                              \
    {                                                                                      \
        s[kk] = src[kk];                                                                   \
        _Pragma("GCC unroll 4") for (int v = 0; v < NV; v++) acc[kk][v] = (vt){0};         \
    }                                                                                      \
    for (ptrdiff_t i = 0; i < OH; i++)                                                     \
        for (ptrdiff_t t = i * Wp; t < i * Wp + OW; t++) {                                 \
            vt a[NV];                                                                      \
            _Pragma("GCC unroll 4") for (int v = 0; v < NV; v++) a[v] =                    \
                *(const vt *)(dyt + t * ldt + v * L);                                      \
            _Pragma("GCC unroll 16") for (int kk = 0; kk < IKB; kk++)                      \
            {                                                                              \
                const DT xv = s[kk][t];                                                    \
                _Pragma("GCC unroll 4") for (int v = 0; v < NV; v++) acc[kk][v] +=         \
                    xv * a[v];                                                             \
            }                                                                              \
        }                                                                                  \
    _Pragma("GCC unroll 16") for (int kk = 0; kk < IKB; kk++)                              \
        _Pragma("GCC unroll 4") for (int v = 0; v < NV; v++)                               \
            *(vt *)(dwt + kk * ldw + v * L) += acc[kk][v];
// clang-format on

IATTR static void IFN(ik_dw2)(ptrdiff_t OH, ptrdiff_t OW, ptrdiff_t Wp,
                              const DT *const *restrict src, const DT *restrict dyt, ptrdiff_t ldt,
                              DT *restrict dwt, ptrdiff_t ldw)
{
    IK_DW_BODY(2)
}

IATTR static void IFN(ik_dw1)(ptrdiff_t OH, ptrdiff_t OW, ptrdiff_t Wp,
                              const DT *const *restrict src, const DT *restrict dyt, ptrdiff_t ldt,
                              DT *restrict dwt, ptrdiff_t ldw)
{
    IK_DW_BODY(1)
}
#undef IK_DW_BODY

/* dyt[(i*Wp + j)*Cp + o] := dy[o*OH*OW + i*OW + j] for o < cout, i < OH, j < OW: one image's
 * output gradient to pixel-major over the wide rows. Entries for j >= OW or o >= cout are not
 * written by the portable loop (the caller zeroed them once); the AVX-512 one writes zeros
 * there (16x16 / 8x8 register transposes of masked row loads). */
#if MN_X86 && IVB == 64
#if DT_F32
IATTR static inline void IFN(tr_lanes)(__m512 *r)
{
    __m512 t[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
        const __m512d a = _mm512_castps_pd(t[i]), b = _mm512_castps_pd(t[i + 1]);
        const __m512d c = _mm512_castps_pd(t[i + 2]), d = _mm512_castps_pd(t[i + 3]);
        r[i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
        r[i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
        r[i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
        r[i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
    }
    for (int h = 0; h < 16; h += 8)
        for (int i = 0; i < 4; i++) {
            t[h + i] = _mm512_shuffle_f32x4(r[h + i], r[h + i + 4], 0x88);
            t[h + i + 4] = _mm512_shuffle_f32x4(r[h + i], r[h + i + 4], 0xdd);
        }
    for (int i = 0; i < 8; i++) {
        r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
        r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xdd);
    }
}
#define TR_V __m512
#define TR_LOAD(m, p) _mm512_maskz_loadu_ps((__mmask16)(m), (p))
#define TR_STORE(p, v) _mm512_storeu_ps((p), (v))
#define TR_ZERO _mm512_setzero_ps()
#else
IATTR static inline void IFN(tr_lanes)(__m512d *r)
{
    __m512d t[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm512_unpacklo_pd(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_pd(r[i], r[i + 1]);
    }
    for (int h = 0; h < 8; h += 4) {
        r[h] = _mm512_shuffle_f64x2(t[h], t[h + 2], 0x88);
        r[h + 1] = _mm512_shuffle_f64x2(t[h + 1], t[h + 3], 0x88);
        r[h + 2] = _mm512_shuffle_f64x2(t[h], t[h + 2], 0xdd);
        r[h + 3] = _mm512_shuffle_f64x2(t[h + 1], t[h + 3], 0xdd);
    }
    for (int i = 0; i < 4; i++) {
        t[i] = _mm512_shuffle_f64x2(r[i], r[i + 4], 0x88);
        t[i + 4] = _mm512_shuffle_f64x2(r[i], r[i + 4], 0xdd);
    }
    for (int i = 0; i < 8; i++)
        r[i] = t[i];
}
#define TR_V __m512d
#define TR_LOAD(m, p) _mm512_maskz_loadu_pd((__mmask8)(m), (p))
#define TR_STORE(p, v) _mm512_storeu_pd((p), (v))
#define TR_ZERO _mm512_setzero_pd()
#endif
IATTR static void IFN(ik_dyt)(const DT *restrict dy, ptrdiff_t cout, ptrdiff_t OH, ptrdiff_t OW,
                              ptrdiff_t Wp, DT *restrict dyt, ptrdiff_t Cp)
{
    enum { L = IVB / sizeof(DT) };
    const ptrdiff_t P = OH * OW;
    for (ptrdiff_t ob = 0; ob < Cp; ob += L)
        for (ptrdiff_t i = 0; i < OH; i++)
            for (ptrdiff_t j0 = 0; j0 < Wp; j0 += L) {
                const ptrdiff_t nv = OW - j0 < 0 ? 0 : (OW - j0 > L ? L : OW - j0);
                const unsigned m = (unsigned)((1ull << nv) - 1);
                TR_V v[L];
                for (int r = 0; r < L; r++)
                    v[r] = (ob + r < cout && nv > 0) ? TR_LOAD(m, dy + (ob + r) * P + i * OW + j0)
                                                     : TR_ZERO;
                IFN(tr_lanes)(v);
                const ptrdiff_t ns = Wp - j0 < L ? Wp - j0 : L;
                DT *d = dyt + (i * Wp + j0) * Cp + ob;
                for (ptrdiff_t l = 0; l < ns; l++)
                    TR_STORE(d + l * Cp, v[l]);
            }
}
#undef TR_V
#undef TR_LOAD
#undef TR_STORE
#undef TR_ZERO
#else
IATTR static void IFN(ik_dyt)(const DT *restrict dy, ptrdiff_t cout, ptrdiff_t OH, ptrdiff_t OW,
                              ptrdiff_t Wp, DT *restrict dyt, ptrdiff_t Cp)
{
    for (ptrdiff_t o = 0; o < cout; o++)
        for (ptrdiff_t i = 0; i < OH; i++) {
            const DT *src = dy + (o * OH + i) * OW;
            DT *dst = dyt + i * Wp * Cp + o;
            for (ptrdiff_t j = 0; j < OW; j++)
                dst[j * Cp] = src[j];
        }
}
#endif
#undef IK_ACC
#undef IK_TAP

/* The interior of c_n padded planes: dst[c*Hp*Wp + r*Wp + j] := src[(c*H + r)*W + j] for
 * r < rows, j < cols (dst points at the first interior element; the zero border was
 * written once per call and nothing else writes these buffers). */
IATTR static void IFN(ik_interior)(const DT *restrict src, ptrdiff_t c_n, ptrdiff_t H, ptrdiff_t W,
                                   ptrdiff_t rows, ptrdiff_t cols, DT *restrict dst, ptrdiff_t Hp,
                                   ptrdiff_t Wp)
{
    for (ptrdiff_t c = 0; c < c_n; c++)
        for (ptrdiff_t r = 0; r < rows; r++) {
            const DT *s = src + (c * H + r) * W;
            DT *d = dst + c * Hp * Wp + r * Wp;
#if MN_X86 && IVB == 64
            enum { L = IVB / sizeof(DT) };
            for (ptrdiff_t j = 0; j < cols; j += L) {
                const unsigned m = cols - j >= L ? (unsigned)((1ull << L) - 1)
                                                 : (unsigned)((1ull << (cols - j)) - 1);
#if DT_F32
                _mm512_mask_storeu_ps(d + j, (__mmask16)m,
                                      _mm512_maskz_loadu_ps((__mmask16)m, s + j));
#else
                _mm512_mask_storeu_pd(d + j, (__mmask8)m,
                                      _mm512_maskz_loadu_pd((__mmask8)m, s + j));
#endif
            }
#else
            for (ptrdiff_t j = 0; j < cols; j++)
                d[j] = s[j];
#endif
        }
}

/* out[i] := y[i] > 0 ? dy[i] : 0 (the relu's backward), and, when sums is given, the sum of
 * each of the rows rows of P (in double, as the bias gradient elsewhere). */
IATTR static void IFN(ik_relu_mask)(const DT *restrict dy, const DT *restrict y, ptrdiff_t rows,
                                    ptrdiff_t P, DT *restrict out, double *restrict sums)
{
    for (ptrdiff_t r = 0; r < rows; r++) {
        const DT *d = dy + r * P, *yy = y + r * P;
        DT *o = out + r * P;
        DT s = 0;
#pragma omp simd reduction(+ : s)
        for (ptrdiff_t i = 0; i < P; i++) {
            const DT v = yy[i] > 0 ? d[i] : (DT)0;
            o[i] = v;
            s += v;
        }
        if (sums)
            sums[r] = s;
    }
}

#if MN_X86 && IVB == 64
/* even[j] := padded[2j], odd[j] := padded[2j + 1] for j < Wp, padded[e] = xrow[e - pad_l]
 * inside [0, W), else 0. */
IATTR static void IFN(deinterleave_row)(const DT *restrict xrow, ptrdiff_t W, ptrdiff_t pad_l,
                                        ptrdiff_t Wp, DT *restrict even, DT *restrict odd)
{
    enum { L = IVB / sizeof(DT) };
    for (ptrdiff_t j = 0; j < Wp; j += L) {
        const ptrdiff_t e0 = 2 * j - pad_l; /* input column of lane 0 of the low load */
        /* lanes m of a load at column e with 0 <= e + m < W: [max(0, -e), min(L, W - e)) */
#define LANES(e)                                                                        \
    ({                                                                                  \
        const ptrdiff_t a_ = (e) < 0 ? -(e) : 0, b_ = W - (e) < L ? W - (e) : L;        \
        b_ > a_ ? ((b_ >= 64 ? ~0ull : (1ull << b_) - 1) & ~((1ull << a_) - 1)) : 0ull; \
    })
        const unsigned long long mlo = LANES(e0), mhi = LANES(e0 + L);
#undef LANES
        const ptrdiff_t n = Wp - j < L ? Wp - j : L;
        const unsigned long long ms = (n == 64 ? ~0ull : (1ull << n) - 1);
#if DT_F32
        const __m512 lo = _mm512_maskz_loadu_ps((__mmask16)mlo, xrow + e0);
        const __m512 hi = _mm512_maskz_loadu_ps((__mmask16)mhi, xrow + e0 + L);
        const __m512i ie =
            _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        const __m512i io =
            _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
        _mm512_mask_storeu_ps(even + j, (__mmask16)ms, _mm512_permutex2var_ps(lo, ie, hi));
        _mm512_mask_storeu_ps(odd + j, (__mmask16)ms, _mm512_permutex2var_ps(lo, io, hi));
#else
        const __m512d lo = _mm512_maskz_loadu_pd((__mmask8)mlo, xrow + e0);
        const __m512d hi = _mm512_maskz_loadu_pd((__mmask8)mhi, xrow + e0 + L);
        const __m512i ie = _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14);
        const __m512i io = _mm512_setr_epi64(1, 3, 5, 7, 9, 11, 13, 15);
        _mm512_mask_storeu_pd(even + j, (__mmask8)ms, _mm512_permutex2var_pd(lo, ie, hi));
        _mm512_mask_storeu_pd(odd + j, (__mmask8)ms, _mm512_permutex2var_pd(lo, io, hi));
#endif
    }
}
#endif

/* Strides (see ik_planes in conv_implicit_driver.h): every element of the sh x sw phase planes of
 * one image written, zeros included: plane (a, b) of channel c, pixel (i, j) := padded input
 * (i*sh + a, j*sw + b). Column loops split into their zero and copied ranges so that they
 * vectorise. */
IATTR static void IFN(ik_phases)(const DT *restrict x_chw, ptrdiff_t c_n, ptrdiff_t H, ptrdiff_t W,
                                 ptrdiff_t sh, ptrdiff_t sw, ptrdiff_t pad_t, ptrdiff_t pad_l,
                                 ptrdiff_t Hp, ptrdiff_t Wp, DT *restrict xp)
{
    for (ptrdiff_t a = 0; a < sh; a++)
        for (ptrdiff_t b = 0; b < sw; b++) {
            /* columns j with 0 <= j*sw + b - pad_l < W */
            ptrdiff_t j0 = 0, j1 = Wp;
            while (j0 < Wp && j0 * sw + b - pad_l < 0)
                j0++;
            while (j1 > j0 && (j1 - 1) * sw + b - pad_l >= W)
                j1--;
            for (ptrdiff_t c = 0; c < c_n; c++) {
                DT *pl = xp + ((a * sw + b) * c_n + c) * Hp * Wp;
                for (ptrdiff_t i = 0; i < Hp; i++) {
                    const ptrdiff_t r = i * sh + a - pad_t;
                    DT *row = pl + i * Wp;
                    if (r < 0 || r >= H) {
                        for (ptrdiff_t j = 0; j < Wp; j++)
                            row[j] = 0;
                        continue;
                    }
                    const DT *src = x_chw + (c * H + r) * W + b - pad_l;
#if MN_X86 && IVB == 64
                    if (sw == 2 && b == 0) {
                        /* both column phases of the row at once: 2 masked loads of 2L
                         * consecutive padded pixels, split into even and odd lanes */
                        IFN(deinterleave_row)(x_chw + (c * H + r) * W, W, pad_l, Wp, row,
                                              pl + Hp * Wp * c_n + i * Wp);
                        continue;
                    }
                    if (sw == 2 && b == 1)
                        continue; /* written with b == 0 */
#endif
                    for (ptrdiff_t j = 0; j < j0; j++)
                        row[j] = 0;
                    if (sw == 2) {
                        for (ptrdiff_t j = j0; j < j1; j++)
                            row[j] = src[2 * j];
                    } else {
                        for (ptrdiff_t j = j0; j < j1; j++)
                            row[j] = src[j * sw];
                    }
                    for (ptrdiff_t j = j1; j < Wp; j++)
                        row[j] = 0;
                }
            }
        }
}

/* ---- depthwise (one input channel per group), stride 1 -----------------------------------
 * A tile of 8 rows would use one: these run per plane instead, a vector of pixels of one
 * output row at a time, every tap a load and an FMA from the zero-bordered plane (rows Wp
 * apart, slack after), so there is no garbage column and no scratch output.
 * out[i*OW + j] := act(bias + sum_{s < ns} sum_{p, q} w[s*kh*kw + p*kw + q] *
 *                        src[s*sstride + (i + p*dh)*Wp + j + q*dw]) */
IATTR static void IFN(dwise_plane)(const DT *restrict src, ptrdiff_t ns, ptrdiff_t sstride,
                                   ptrdiff_t Wp, ptrdiff_t OH, ptrdiff_t OW, const DT *restrict w,
                                   ptrdiff_t kh, ptrdiff_t kw, ptrdiff_t dh, ptrdiff_t dwd,
                                   DT bias, int relu, DT *restrict out)
{
    typedef DT vt __attribute__((vector_size(IVB), aligned(sizeof(DT)), may_alias));
    typedef __typeof__((vt){0} < (vt){0}) vmask;
    enum { L = IVB / sizeof(DT) };
    for (ptrdiff_t i = 0; i < OH; i++)
        for (ptrdiff_t j0 = 0; j0 < OW; j0 += L) {
            vt acc = (vt){0} + bias;
            for (ptrdiff_t sI = 0; sI < ns; sI++) {
                const DT *ws = w + sI * kh * kw;
                for (ptrdiff_t p = 0; p < kh; p++) {
                    const DT *xr = src + sI * sstride + (i + p * dh) * Wp + j0;
                    if (kw == 3) {
                        acc += ws[p * 3] * *(const vt *)xr;
                        acc += ws[p * 3 + 1] * *(const vt *)(xr + dwd);
                        acc += ws[p * 3 + 2] * *(const vt *)(xr + 2 * dwd);
                    } else {
                        for (ptrdiff_t q = 0; q < kw; q++)
                            acc += ws[p * kw + q] * *(const vt *)(xr + q * dwd);
                    }
                }
            }
            if (relu)
                acc = (vt)((vmask)acc & (vmask)(acc > (vt){0}));
            if (OW - j0 >= L) {
                *(vt *)(out + i * OW + j0) = acc;
            } else {
                DT tmp[L] __attribute__((aligned(IVB)));
                *(vt *)tmp = acc;
                for (ptrdiff_t j = 0; j < OW - j0; j++)
                    out[i * OW + j0 + j] = tmp[j];
            }
        }
}

/* dw[k] += sum_{t < T} dyw[t] * src[toff[k] + t] for the khw taps (one plane): dyw is the
 * plane's dY over wide rows (zero in the garbage columns and up to T, a multiple of the
 * vector), toff[p*kw + q] = p*dh*Wp + q*dw. 3x3: the nine sums in registers, one dY load
 * per nine FMAs. */
IATTR static void IFN(dwise_dw)(const DT *restrict dyw, const DT *restrict src, ptrdiff_t T,
                                const ptrdiff_t *restrict toff, ptrdiff_t khw, DT *restrict dw)
{
    typedef DT vt __attribute__((vector_size(IVB), aligned(sizeof(DT)), may_alias));
    enum { L = IVB / sizeof(DT) };
    if (khw == 9) {
        vt acc[9];
        const DT *xs[9];
#pragma GCC unroll 9
        for (int k = 0; k < 9; k++) {
            acc[k] = (vt){0};
            xs[k] = src + toff[k];
        }
        for (ptrdiff_t t = 0; t < T; t += L) {
            const vt d = *(const vt *)(dyw + t);
#pragma GCC unroll 9
            for (int k = 0; k < 9; k++)
                acc[k] += d * *(const vt *)(xs[k] + t);
        }
#pragma GCC unroll 9
        for (int k = 0; k < 9; k++) {
            DT sum = 0;
            for (int l = 0; l < L; l++)
                sum += acc[k][l];
            dw[k] += sum;
        }
        return;
    }
    for (ptrdiff_t k = 0; k < khw; k++) {
        vt acc = (vt){0};
        const DT *xs = src + toff[k];
        for (ptrdiff_t t = 0; t < T; t += L)
            acc += *(const vt *)(dyw + t) * *(const vt *)(xs + t);
        DT sum = 0;
        for (int l = 0; l < L; l++)
            sum += acc[l];
        dw[k] += sum;
    }
}

#undef IFN
#undef IATTR
#undef IVB
#undef IMR
#undef INV
#undef IKB
