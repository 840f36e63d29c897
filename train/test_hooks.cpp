#include "train/test_hooks.h"

#include <cstdio>
#include <cstdlib>

#include "core/error.h"

namespace tessera::train {

void apply_test_hooks(TrainOptions& options) {
  if (const char* at = std::getenv("TESSERA_TEST_SPIKE_AT")) {
    char* end = nullptr;
    const long long step = std::strtoll(at, &end, 10);
    TESSERA_CHECK(end != at && *end == '\0' && step > 0, "TESSERA_TEST_SPIKE_AT='{}': expected a step number", at);
    options.spike_at = step;
  }
  if (const char* slow = std::getenv("TESSERA_TEST_SLOW")) {
    SlowSteps s;
    long long first = 0, last = 0;
    int used = 0;
    const int n = std::sscanf(slow, "%d:%lld:%lld:%lf%n", &s.rank, &first, &last, &s.seconds, &used);
    TESSERA_CHECK(n == 4 && slow[used] == '\0' && s.rank >= 0 && first >= 1 && last >= first && s.seconds >= 0,
                  "TESSERA_TEST_SLOW='{}': expected RANK:FIRST_STEP:LAST_STEP:SECONDS", slow);
    s.first = first;
    s.last = last;
    options.slow = s;
  }
}

}  // namespace tessera::train
