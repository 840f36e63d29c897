#pragma once
// Atomic commit of checkpoint files in a checkpoints directory:
//
//   DIR/step-00000100.h5.tmp   written by every rank, closed, fsynced
//   DIR/step-00000100.h5       the same file after rank 0's rename
//   DIR/step-00000100.h5.sha256  the whole file's digest (file_digest.h), written before the
//                              rename: a damaged file is refused before HDF5 parses it (HDF5 is
//                              not hardened against corrupt metadata)
//   DIR/latest                 one line naming the newest committed checkpoint (temp + rename)
//
// A crash at any moment leaves `latest` naming a complete, fsynced checkpoint (or absent, before
// the first one). These functions are local: the caller (save_checkpoint) runs them on rank 0.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "checkpoint/file_digest.h"

namespace tessera::checkpoint {

void fsync_path(const std::filesystem::path& path);  // a file or a directory
// Writes `path` through `path.tmp`, fsync and rename, then fsyncs the directory.
void write_file_durably(const std::filesystem::path& path, const std::string& bytes);

// The file name `latest` holds, or nothing when there is none (or it is empty).
std::optional<std::string> read_latest(const std::filesystem::path& dir);
// The moments of a save, in order; tests stop a save at each one (SaveOptions::at).
enum class SavePoint {
  begin,          // nothing written yet
  written,        // every rank's data is in the temporary file; checksums and fsync not yet done
  synced,         // the temporary file is complete and durable
  digest_stored,  // its digest file is durable; the rename not yet done
  renamed,        // step-N.h5 committed; `latest` not yet moved
  pointed,        // `latest` names it; rotation not yet done
};
using SaveHook = std::function<void(SavePoint)>;

// Records `tmp`'s digest beside `final_name` (the datasets' ranges already hashed in `known`, the
// rest hashed now), renames `tmp` to `final_name` in `dir`, fsyncs the directory, then points
// `latest` at it; `at`, when set, is called at digest_stored, renamed and pointed.
void commit(const std::filesystem::path& dir, const std::filesystem::path& tmp, const std::string& final_name,
            std::vector<DigestRange> known, const SaveHook& at = {});

struct Listed {
  int64_t step = 0;
  std::filesystem::path path;
};
// Committed checkpoints (step-*.h5) of `dir`, by ascending step.
std::vector<Listed> list_checkpoints(const std::filesystem::path& dir);

}  // namespace tessera::checkpoint
