#include "checkpoint/inspect.h"

#include <algorithm>
#include <cmath>
#include <map>

#include <nlohmann/json.hpp>

#include "checkpoint/commit.h"
#include "checkpoint/h5io.h"
#include "checkpoint/reader.h"
#include "checkpoint/reference.h"
#include "checkpoint/tags.h"

namespace fs = std::filesystem;

namespace tessera::checkpoint {

std::vector<Version> list_versions(const fs::path& run_dir) {
  const fs::path dir = checkpoints_dir(run_dir);
  const auto latest = read_latest(dir);
  std::map<std::string, std::vector<std::string>> tags_of;
  for (const auto& [tag, file] : read_tags(dir)) tags_of[file].push_back(tag);
  std::vector<Version> out;
  for (const Listed& l : list_checkpoints(dir)) {
    Version v;
    v.file = l.path;
    v.step = l.step;
    std::error_code ec;
    v.bytes = fs::file_size(l.path, ec);
    const std::string name = l.path.filename().string();
    v.latest = latest && *latest == name;
    v.tags = tags_of[name];
    try {
      const Header h = read_header(l.path.string());
      v.tokens_seen = h.meta.tokens_seen;
      v.val_loss = h.meta.val_loss;
      v.created_at = h.meta.created_at;
    } catch (const std::exception& e) {
      v.error = e.what();
    }
    out.push_back(std::move(v));
  }
  return out;
}

namespace {

void flatten(const nlohmann::json& j, const std::string& prefix, std::map<std::string, std::string>& out) {
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) flatten(v, prefix.empty() ? k : prefix + "." + k, out);
  } else {
    out[prefix] = j.dump();
  }
}

std::vector<float> read_full(hid_t file, const std::string& name, const core::Shape& shape) {
  std::vector<float> data(static_cast<size_t>(core::shape_numel(shape)));
  const Dims2 d = dims2(shape);
  auto dset = h5::checked(H5Dopen2(file, name.c_str(), H5P_DEFAULT), H5Dclose, name);
  h5io::read_pieces(dset.get(), shape, {{0, 0, 0, d.rows, d.cols, data.data(), d.cols}}, h5io::Io::serial, name);
  return data;
}

}  // namespace

Difference diff(const std::string& path_a, const std::string& path_b) {
  const Header a = read_header(path_a), b = read_header(path_b);
  Difference out;
  std::map<std::string, std::string> ca, cb;
  flatten(nlohmann::json::parse(a.meta.config_json), "", ca);
  flatten(nlohmann::json::parse(b.meta.config_json), "", cb);
  for (const auto& [key, value] : ca) {
    const auto it = cb.find(key);
    if (it == cb.end()) out.config.push_back(key + ": " + value + " -> (absent)");
    else if (it->second != value) out.config.push_back(key + ": " + value + " -> " + it->second);
  }
  for (const auto& [key, value] : cb) {
    if (!ca.count(key)) out.config.push_back(key + ": (absent) -> " + value);
  }
  h5::QuietErrors quiet;
  const auto fa = h5io::open_file(path_a, false, nullptr), fb = h5io::open_file(path_b, false, nullptr);
  std::vector<std::string> groups{"model"};
  if (a.has_optim && b.has_optim) groups = {"model", "optim/m", "optim/v"};
  for (const std::string& group : groups) {
    for (const auto& ta : a.model) {
      const std::string name = "/" + group + "/" + ta.name;
      const auto tb = std::find_if(b.model.begin(), b.model.end(), [&](const auto& t) { return t.name == ta.name; });
      if (tb == b.model.end()) {
        out.tensors.push_back({name, 0, "only in the first"});
        continue;
      }
      if (tb->shape != ta.shape) {
        out.tensors.push_back({name, 0, "shape " + core::shape_str(ta.shape) + " vs " + core::shape_str(tb->shape)});
        continue;
      }
      const auto va = read_full(fa.get(), name, ta.shape), vb = read_full(fb.get(), name, ta.shape);
      double num = 0, den = 0;
      for (size_t i = 0; i < va.size(); ++i) {
        const double d = static_cast<double>(va[i]) - static_cast<double>(vb[i]);
        num += d * d;
        den += static_cast<double>(va[i]) * static_cast<double>(va[i]);
      }
      out.tensors.push_back({name, den > 0 ? std::sqrt(num / den) : std::sqrt(num), ""});
    }
    if (group == "model") {
      for (const auto& tb : b.model) {
        const bool in_a = std::any_of(a.model.begin(), a.model.end(), [&](const auto& t) { return t.name == tb.name; });
        if (!in_a) out.tensors.push_back({"/model/" + tb.name, 0, "only in the second"});
      }
    }
  }
  return out;
}

}  // namespace tessera::checkpoint
