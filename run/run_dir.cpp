#include "run/run_dir.h"

#include <ctime>
#include <fstream>
#include <vector>

#include <fmt/format.h>

#include "core/error.h"

namespace fs = std::filesystem;

namespace tessera {

namespace {

constexpr const char* kSuperseded = "superseded";

void make_dirs(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  TESSERA_CHECK(!ec && fs::is_directory(dir), "cannot create run directory '{}': {}", dir.string(),
                ec ? ec.message() : "not a directory");
}

size_t count_lines(const fs::path& file) {
  std::ifstream in(file);
  size_t n = 0;
  for (std::string line; std::getline(in, line);) n += line.empty() ? 0 : 1;
  return n;
}

std::string utc_stamp() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

}  // namespace

RunDir::RunDir(const fs::path& dir) : dir_(dir) {
  for (const auto& sub : {dir_, checkpoints(), logs()}) make_dirs(sub);
}

std::string RunDir::earlier_run() const {
  size_t files = 0;
  std::error_code ec;
  for (const auto& e : fs::recursive_directory_iterator(checkpoints(), ec)) files += e.is_regular_file() ? 1 : 0;
  const size_t lines = count_lines(metrics_path());
  if (files == 0 && lines == 0) return "";
  return fmt::format("{} file(s) in checkpoints/, {} line(s) in metrics.jsonl", files, lines);
}

size_t RunDir::quarantined() const {
  size_t files = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(checkpoints() / "quarantine", ec)) files += e.is_regular_file() ? 1 : 0;
  return files;
}

fs::path RunDir::set_aside() {
  fs::path target = dir_ / kSuperseded / utc_stamp();
  for (int n = 1; fs::exists(target); ++n) target = dir_ / kSuperseded / fmt::format("{}-{}", utc_stamp(), n);
  make_dirs(target);
  std::vector<fs::path> entries;
  for (const auto& e : fs::directory_iterator(dir_)) {
    if (e.path().filename() != kSuperseded) entries.push_back(e.path());
  }
  for (const auto& from : entries) {
    std::error_code ec;
    fs::rename(from, target / from.filename(), ec);
    TESSERA_CHECK(!ec, "cannot move {} to {}: {}", from.string(), target.string(), ec.message());
  }
  for (const auto& sub : {checkpoints(), logs()}) make_dirs(sub);
  return target;
}

MetricsLog::MetricsLog(const fs::path& path, const char* mode) : path_(path), file_(std::fopen(path.c_str(), mode), &std::fclose) {
  TESSERA_CHECK(file_ != nullptr, "cannot open '{}' for writing", path.string());
}

MetricsLog MetricsLog::fresh(const fs::path& path) { return MetricsLog(path, "w"); }

MetricsLog MetricsLog::resumed(const fs::path& path, int64_t step) {
  std::string kept;
  {
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) {
      const auto record = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
      // A line cut short by a kill, or one of a step after the checkpoint, goes.
      if (!record.is_object() || !record.contains("step") || !record["step"].is_number_integer()) continue;
      if (record["step"].get<int64_t>() <= step) kept += line + "\n";
    }
  }
  fs::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << kept;
    TESSERA_CHECK(out.good(), "cannot write '{}'", tmp.string());
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  TESSERA_CHECK(!ec, "cannot replace '{}': {}", path.string(), ec.message());
  return MetricsLog(path, "a");
}

void MetricsLog::write(const nlohmann::json& record) {
  const std::string line = record.dump() + "\n";
  TESSERA_CHECK(std::fwrite(line.data(), 1, line.size(), file_.get()) == line.size() && std::fflush(file_.get()) == 0,
                "cannot write to '{}'", path_.string());
}

}  // namespace tessera
