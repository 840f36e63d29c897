#pragma once
// Internal to attention_rows_paged (core/cpu/attention.h): its AVX-512 kernels for a float
// computation over a float or bf16 context, taken where the CPU has AVX-512F, D is a multiple of
// 16 and a page a multiple of 16 tokens. Sixteen tokens at a time, each token's row read once from
// its page (a bf16 row widened in registers), the context's next tokens fetched into cache as
// the scores run, so that the values are there when the weighted sums read them. The sums keep the
// order of the portable path (lane t mod 16, reduce_lanes' halving tree): the same bits.
#include <cstdint>

#include "core/cpu/attention.h"

namespace tessera::core::cpu::paged {

// Whether the kernels below run here, for pages of `page` tokens and heads of D values.
bool fits_avx512(int64_t page, int64_t D);

// scores (M, lds) = q (M, ldq) . the first n keys of ctx; lds >= n rounded up to 16, the entries
// past n hold no meaning. Prefetches the keys and values ahead.
template <typename E>
void scores_avx512(float* scores, int64_t lds, const float* q, int64_t ldq, int64_t M, const PagedContext<E>& ctx,
                   int64_t n, int64_t D);

// out (M, ldo) = p (M, ldp) @ the first n values of ctx; p's entries [n, n rounded up to 16) zero.
template <typename E>
void values_avx512(float* out, int64_t ldo, const float* p, int64_t ldp, int64_t M, const PagedContext<E>& ctx,
                   int64_t n, int64_t D);

}  // namespace tessera::core::cpu::paged
