#pragma once
// Which checkpoints of a run count, and which are removed. A checkpoint counts only once it
// verifies (verify.h: its digest, structure and every dataset's SHA-256):
//   - rotation keeps the `keep` newest checkpoints that verify, plus every tagged one; older valid
//     ones are deleted;
//   - a file that does not verify is never the reason a good one is deleted: the trainer moves it
//     aside into DIR/quarantine/ (with its digest), where it stays for inspection;
//   - every command that resolves a run directory, and every resume, takes the newest checkpoint
//     by step that verifies (candidates()). `latest` names the newest committed one for other
//     tools; a save cut between its rename and the pointer's update leaves it one behind, and the
//     newer file, complete and verified, is still the one used.
// Local functions: the trainer runs them on rank 0 only.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace tessera::checkpoint {

inline constexpr const char* kQuarantineDir = "quarantine";

// Committed checkpoints in the order a resume tries them: by descending step.
std::vector<std::filesystem::path> candidates(const std::filesystem::path& dir);

// Whether a file verifies, remembered per (path, size, modification time) so that rotation does
// not hash the same unchanged file at every save.
class Validity {
 public:
  bool ok(const std::filesystem::path& file);
  // Records a file this process has just written and hashed (a fresh commit).
  void trust(const std::filesystem::path& file);

 private:
  std::map<std::string, std::string> verified_;  // path -> "size:mtime" when it verified
};

// Moves `file` and its digest into DIR/quarantine/ (a numbered name when one is there already);
// returns the new path.
std::filesystem::path quarantine(const std::filesystem::path& file);

struct Rotation {
  std::vector<std::filesystem::path> deleted, quarantined;
};
// Keeps the `keep` newest checkpoints of `dir` that verify (keep <= 0: all), the one just
// `committed` (a file name: never deleted, counted among the kept) and those in `tagged` (file
// names, not counted); deletes the other valid ones with their digests, quarantines those that do
// not verify, and deletes stale *.tmp files.
Rotation rotate(const std::filesystem::path& dir, int64_t keep, const std::string& committed,
                const std::set<std::string>& tagged, Validity& validity);

}  // namespace tessera::checkpoint
