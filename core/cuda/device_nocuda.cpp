// Built instead of device.cu when CUDA is off (-DTESSERA_CUDA=OFF): no GPU is ever visible.
#include "core/device.h"

namespace tessera {

bool built_with_cuda() { return false; }
std::vector<GpuInfo> visible_gpus() { return {}; }

}  // namespace tessera
