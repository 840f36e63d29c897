#include "core/model/family.h"

#include "core/error.h"

namespace tessera {

const FamilyFacts& facts(Family family) {
  for (const FamilyFacts& f : kFamilies) {
    if (f.family == family) return f;
  }
  TESSERA_FAIL("unknown model family {}", static_cast<int>(family));
}

Family family_from_name(std::string_view name, std::string_view where) {
  for (const FamilyFacts& f : kFamilies) {
    if (f.name == name) return f.family;
  }
  TESSERA_FAIL("{}: unknown model family \"{}\" (known: {})", where, name, family_names());
}

Family family_from_hf_class(std::string_view hf_class, std::string_view where) {
  std::string known;
  for (const FamilyFacts& f : kFamilies) {
    if (f.hf_class == hf_class) return f.family;
    known += (known.empty() ? "" : ", ") + std::string(f.hf_class);
  }
  TESSERA_FAIL("{}: architecture \"{}\" is not supported (known: {})", where, hf_class, known);
}

std::string family_names() {
  std::string names;
  for (const FamilyFacts& f : kFamilies) names += (names.empty() ? "" : ", ") + std::string(f.name);
  return names;
}

int64_t default_ff_dim(Family family, int64_t d_model) {
  return facts(family).gated_mlp ? (8 * d_model / 3 + 63) / 64 * 64 : 4 * d_model;
}

}  // namespace tessera
