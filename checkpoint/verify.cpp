#include "checkpoint/verify.h"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "checkpoint/agree.h"
#include "checkpoint/digest_check.h"
#include "checkpoint/h5io.h"
#include "checkpoint/reader.h"

namespace tessera::checkpoint {

std::string VerifyResult::summary() const {
  if (ok()) return fmt::format("{}: ok ({} datasets verified)", path, datasets_checked);
  return fmt::format("{}: {} problem{}: {}", path, problems.size(), problems.size() == 1 ? "" : "s",
                     fmt::join(problems, "; "));
}

namespace {

// A dataset's SHA-256: when the file digest has a range that is exactly the dataset's bytes, that
// range's digest (already checked against the file); otherwise computed now.
std::string dataset_digest(hid_t dset, const FileDigest* digest, const std::string& what) {
  if (digest) {
    const auto extent = h5io::contiguous_extent(dset, what);
    if (const DigestRange* range = extent ? digest->find(extent->offset, extent->length) : nullptr) return range->sha256;
  }
  return h5io::dataset_sha256(dset, what);
}

// This rank's share: {"header": error} or {"results": {"INDEX": "" | problem}}.
nlohmann::json check_share(const std::string& path, int size, int rank, const FileDigest* digest, std::vector<Job>& jobs) {
  nlohmann::json out;
  try {
    const Header header = read_header(path, /*digest_checked=*/true);
    jobs = header.datasets;
    h5::QuietErrors quiet;
    const auto file = h5io::open_file(path, false, nullptr);
    out["results"] = nlohmann::json::object();
    for (size_t j : assign(jobs, size, rank)) {
      const std::string& name = jobs[j].name;
      std::string problem;
      try {
        auto dset = h5::checked(H5Dopen2(file.get(), name.c_str(), H5P_DEFAULT), H5Dclose, name);
        TESSERA_CHECK(h5io::has_attr(dset.get(), "sha256"), "{}: no sha256 attribute", name);
        const std::string stored = h5io::read_string_attr(dset.get(), "sha256", name);
        const std::string actual = dataset_digest(dset.get(), digest, name);
        TESSERA_CHECK(stored == actual, "{}: checksum mismatch (stored {}, computed {})", name, stored.substr(0, 12),
                      actual.substr(0, 12));
      } catch (const std::exception& e) {
        problem = e.what();
      }
      out["results"][std::to_string(j)] = problem;
    }
  } catch (const std::exception& e) {
    out["header"] = e.what();
  }
  return out;
}

}  // namespace

VerifyResult verify_file(const std::string& path, const parallel::World* world) {
  VerifyResult r;
  r.path = path;
  const bool shared = world && world->size() > 1;
  // The file's digest first (the ranks share it), agreed before any rank lets HDF5 parse the file.
  std::optional<FileDigest> digest;
  try {
    digest = check_file_digest(shared ? world : nullptr, path);
  } catch (const Error& e) {
    r.problems = {e.what()};
    return r;
  }
  std::vector<Job> jobs;
  const nlohmann::json mine =
      check_share(path, shared ? world->size() : 1, shared ? world->rank() : 0, digest ? &*digest : nullptr, jobs);
  std::vector<nlohmann::json> all;
  if (shared) {
    for (const std::string& s : world->all_gather(mine.dump())) all.push_back(nlohmann::json::parse(s));
  } else {
    all.push_back(mine);
  }
  std::vector<std::string> header_errors;
  std::vector<bool> seen(jobs.size(), false);
  for (const auto& share : all) {
    if (share.contains("header")) {
      header_errors.push_back(share["header"].get<std::string>());
      continue;
    }
    for (const auto& [index, problem] : share["results"].items()) {
      const size_t j = std::stoul(index);
      if (j < seen.size()) seen[j] = true;
      if (!problem.get<std::string>().empty()) r.problems.push_back(problem.get<std::string>());
    }
  }
  if (!header_errors.empty()) {
    r.problems = {header_errors.front()};
    return r;
  }
  r.datasets_checked = static_cast<size_t>(std::count(seen.begin(), seen.end(), true));
  if (r.datasets_checked != jobs.size()) r.problems.push_back("not every dataset was checked");
  return r;
}

}  // namespace tessera::checkpoint
