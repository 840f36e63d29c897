// Random batches follow the loader's layout rule: the ranks' parts of a global batch, side by
// side, are the single-rank batch.
#include <gtest/gtest.h>

#include "train/batches.h"

namespace tessera::train {
namespace {

TEST(RandomBatches, GlobalBatchIsIndependentOfTheLayout) {
  datasets::LoaderOptions one;
  one.batch_size = 8;
  one.seq_len = 5;
  one.seed = 3;
  auto single = random_batches(50, one);
  datasets::Batch whole;
  single->next(whole);
  single->next(whole);  // the second global batch
  for (int dp : {2, 4, 8}) {
    std::vector<int32_t> joined;
    for (int r = 0; r < dp; ++r) {
      datasets::LoaderOptions o = one;
      o.batch_size = 8 / static_cast<size_t>(dp);
      o.dp_rank = r;
      o.dp_size = dp;
      auto source = random_batches(50, o);
      datasets::Batch part;
      source->next(part);
      source->next(part);
      joined.insert(joined.end(), part.inputs.begin(), part.inputs.end());
      for (size_t i = 0; i + 1 < part.inputs.size(); ++i) {
        if ((i + 1) % 5 != 0) {
          EXPECT_EQ(part.targets[i], part.inputs[i + 1]);  // shifted by one
        }
      }
    }
    EXPECT_EQ(joined, whole.inputs) << "dp " << dp;
  }
  for (int32_t id : whole.inputs) {
    EXPECT_GE(id, 0);
    EXPECT_LT(id, 50);
  }
}

}  // namespace
}  // namespace tessera::train
