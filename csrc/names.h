/* The naming macros of every kernel family, defined once for the whole of csrc.
 *
 * A family's loops are compiled several times (per dtype, often per ISA too) by including one
 * header after defining DT, a name suffix and a target attribute; inside, a function is
 * written FN(name) (DFN, IFN, BFN for the per-ISA copies) and these macros paste the suffixes
 * on. The rule: a generated name is the base name followed by its suffixes, each after an
 * underscore: the dtype (f32, f64) and, for a per-ISA copy, the ISA (generic, avx2, avx512),
 * in the order the family's instantiation adds them. Examples:
 *   conv_implicit.h, IFN(ik_fwd), AVX-512 copy of the float32 pass  -> ik_fwd_avx512_f32
 *   eltwise_impl.h, FN(act_fwd_) with SFX = f32_avx2                 -> act_fwd_f32_avx2
 *   norm_impl.h, BFN(stats), float64 generic copy                    -> bn_stats_f64_generic
 * So to find a name seen in a profile or a backtrace, drop its _f32/_f64 and
 * _generic/_avx2/_avx512 parts and grep for the base (ik_fwd); each family says which names
 * it generates in a comment by its naming macro.
 *
 *   MN_CAT(a, b)   a and b expanded, then pasted:  MN_CAT(act_fwd_, f32_avx2) -> act_fwd_f32_avx2
 *   MN_JOIN(a, b)  the same with "_" between:      MN_JOIN(ik_fwd, avx512)    -> ik_fwd_avx512
 *
 * Never undefined: the headers included several times define their FN-style macros on top of
 * these and #undef only their own. */
#ifndef MN_NAMES_H
#define MN_NAMES_H

#define MN_CAT_(a, b) a##b
#define MN_CAT(a, b) MN_CAT_(a, b)
#define MN_JOIN(a, b) MN_CAT(MN_CAT(a, _), b)

#endif
