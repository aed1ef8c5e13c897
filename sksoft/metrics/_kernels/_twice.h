/* Compile the kernel body named by SK_IMPL twice: for the baseline instruction set (functions
 * suffixed _base) and, on x86-64 with GCC or Clang, for AVX2 + FMA (suffixed _avx2, with the
 * explicit four-lane loops of SK_VEC_AVX2). SK_FN(name) gives a function its suffix, SK_ATTR
 * its target attribute. The caller dispatches with SK_DISPATCH / SK_DISPATCH_RET (_vecmath.h).
 * No include guard: included once per body. */
#define SK_FN(name) name##_base
#define SK_ATTR
#include SK_IMPL
#undef SK_FN
#undef SK_ATTR

#ifdef SKSOFT_HAVE_AVX2_CLONE
#define SK_FN(name) name##_avx2
#define SK_ATTR __attribute__((target("avx2,fma")))
#define SK_VEC_AVX2 1
#include SK_IMPL
#undef SK_VEC_AVX2
#undef SK_FN
#undef SK_ATTR
#endif

#undef SK_IMPL
