#include "core/run_dir.h"

#include "core/error.h"

namespace tessera {

RunDir::RunDir(const std::filesystem::path& dir) : dir_(dir) {
  for (const auto& sub : {dir_, checkpoints(), logs()}) {
    std::error_code ec;
    std::filesystem::create_directories(sub, ec);
    TESSERA_CHECK(!ec && std::filesystem::is_directory(sub), "cannot create run directory '{}': {}", sub.string(),
                  ec ? ec.message() : "not a directory");
  }
}

MetricsLog::MetricsLog(const std::filesystem::path& path, Mode mode)
    : path_(path), file_(std::fopen(path.c_str(), mode == Mode::fresh ? "w" : "a"), &std::fclose) {
  TESSERA_CHECK(file_ != nullptr, "cannot open '{}' for writing", path.string());
}

void MetricsLog::write(const nlohmann::json& record) {
  const std::string line = record.dump() + "\n";
  TESSERA_CHECK(std::fwrite(line.data(), 1, line.size(), file_.get()) == line.size() && std::fflush(file_.get()) == 0,
                "cannot write to '{}'", path_.string());
}

}  // namespace tessera
