#pragma once
// A thread-safe cache of encoded pieces: natural text repeats its words, so most pieces are encoded
// once. Pieces are looked up a batch at a time, one shared lock per batch and one exclusive lock for
// the batch's new entries, so that locking costs little per piece. Bounded: when full it is emptied
// and refills with what the text uses now.
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "datasets/tokenizer.h"

namespace tessera::datasets {

class PieceCache {
 public:
  static constexpr size_t kMaxEntries = size_t{1} << 18;
  static constexpr size_t kMaxPieceBytes = 128;  // longer pieces are rare and not worth the memory

  // Appends the ids of each piece to `out`, in order: the cached ids, or those that
  // `encode_piece(piece, ids)` writes into `ids` (then cached).
  template <typename EncodePiece>
  void encode(std::span<const std::string_view> pieces, std::vector<TokenId>& out, EncodePiece&& encode_piece) const {
    std::vector<std::pair<std::string_view, std::vector<TokenId>>> fresh;
    {
      const std::shared_lock lock(mutex_);
      for (const std::string_view piece : pieces) {
        if (const auto it = entries_.find(piece); it != entries_.end()) {
          out.insert(out.end(), it->second.begin(), it->second.end());
          continue;
        }
        std::vector<TokenId> ids;
        encode_piece(piece, ids);
        out.insert(out.end(), ids.begin(), ids.end());
        if (piece.size() <= kMaxPieceBytes) fresh.emplace_back(piece, std::move(ids));
      }
    }
    if (fresh.empty()) return;
    const std::unique_lock lock(mutex_);
    if (entries_.size() + fresh.size() > kMaxEntries) entries_.clear();
    for (auto& [piece, ids] : fresh) entries_.try_emplace(std::string(piece), std::move(ids));
  }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  // Caching does not change what a tokenizer is, so a const tokenizer fills its cache.
  mutable std::shared_mutex mutex_;
  mutable std::unordered_map<std::string, std::vector<TokenId>, Hash, std::equal_to<>> entries_;
};

}  // namespace tessera::datasets
