#include "checkpoint/reader.h"

#include <algorithm>

#include <fmt/format.h>

#include "checkpoint/attributes.h"
#include "checkpoint/digest_check.h"
#include "checkpoint/h5io.h"

namespace tessera::checkpoint {

namespace {

std::vector<core::ParamInfo> read_group_tensors(hid_t file, const std::string& group, const std::string& path) {
  auto g = h5io::open_group(file, group, path);
  std::vector<core::ParamInfo> infos;
  for (const std::string& name : h5io::member_names(g.get(), path + ": /" + group)) {
    const std::string what = fmt::format("{}: /{}/{}", path, group, name);
    TESSERA_CHECK(H5Oexists_by_name(g.get(), name.c_str(), H5P_DEFAULT) > 0, "{} is a dangling link", what);
    H5O_info_t oinfo;
    h5::check(H5Oget_info_by_name2(g.get(), name.c_str(), &oinfo, H5O_INFO_BASIC, H5P_DEFAULT), what);
    TESSERA_CHECK(oinfo.type == H5O_TYPE_DATASET, "{} is not a dataset", what);
    auto dset = h5::checked(H5Dopen2(g.get(), name.c_str(), H5P_DEFAULT), H5Dclose,
                                      what + ": cannot open the dataset (damaged object header?)");
    TESSERA_CHECK(h5io::dataset_kind(dset.get()) == "f32", "{} is not a 32-bit float dataset", what);
    const core::Shape shape = h5io::dataset_shape(dset.get(), what);
    TESSERA_CHECK(shape.size() <= 2, "{} has {} dimensions (at most 2 are supported)", what, shape.size());
    infos.push_back(attributes::read_tensor(dset.get(), name, shape, what));
  }
  return infos;
}

bool same_tensors(const std::vector<core::ParamInfo>& a, const std::vector<core::ParamInfo>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].name != b[i].name || a[i].shape != b[i].shape) return false;
  }
  return true;
}

}  // namespace

Header read_header(const std::string& path, bool digest_checked) {
  if (!digest_checked) check_file_digest(nullptr, path);  // before HDF5 parses a byte of it
  h5::QuietErrors quiet;
  Header h;
  h.path = path;
  const auto file = h5io::open_file(path, false, nullptr);
  h.meta = attributes::read_meta(file.get(), path);
  h.model = read_group_tensors(file.get(), "model", path);
  for (const auto& info : h.model) h.datasets.push_back({"/model/" + info.name, static_cast<uint64_t>(info.numel()) * 4});
  h.has_optim = h5io::link_exists(file.get(), "optim");
  if (h.has_optim) {
    for (const std::string moment : {"m", "v"}) {
      const auto infos = read_group_tensors(file.get(), "optim/" + moment, path);
      TESSERA_CHECK(same_tensors(infos, h.model), "{}: the tensors of /optim/{} differ from those of /model", path, moment);
      for (const auto& info : infos) {
        h.datasets.push_back({"/optim/" + moment + "/" + info.name, static_cast<uint64_t>(info.numel()) * 4});
      }
    }
    h5io::read_int_dataset(file.get(), "optim/step", path);
    h.datasets.push_back({"/optim/step", 8});
  }
  for (const std::string name : {"loader", "rng"}) {
    h.datasets.push_back({"/state/" + name, h5io::read_string_dataset(file.get(), "state/" + name, path).size()});
  }
  return h;
}

void check_tensors(const Header& header, const std::vector<core::ParamInfo>& infos) {
  for (size_t i = 0; i < infos.size(); ++i) {
    const auto& want = infos[i];
    const auto it = std::find_if(header.model.begin(), header.model.end(), [&](const auto& t) { return t.name == want.name; });
    TESSERA_CHECK(it != header.model.end(), "{}: the model has tensor '{}' {} that the checkpoint lacks", header.path,
                  want.name, core::shape_str(want.shape));
    TESSERA_CHECK(it->shape == want.shape, "{}: tensor '{}' has shape {} in the checkpoint, the model expects {}",
                  header.path, want.name, core::shape_str(it->shape), core::shape_str(want.shape));
  }
  for (const auto& t : header.model) {
    const bool known = std::any_of(infos.begin(), infos.end(), [&](const auto& i) { return i.name == t.name; });
    TESSERA_CHECK(known, "{}: the checkpoint has tensor '{}' {} that the model lacks", header.path, t.name,
                  core::shape_str(t.shape));
  }
}

StateFields read_state(const std::string& path) {
  h5::QuietErrors quiet;
  const auto file = h5io::open_file(path, false, nullptr);
  StateFields s;
  if (h5io::link_exists(file.get(), "optim/step")) s.optim_step = h5io::read_int_dataset(file.get(), "optim/step", path);
  s.loader_json = h5io::read_string_dataset(file.get(), "state/loader", path);
  s.rng_json = h5io::read_string_dataset(file.get(), "state/rng", path);
  return s;
}

void read_tensors(const parallel::World* world, const parallel::Topology& topo, const std::string& path,
                  const std::string& group, const std::vector<core::ParamInfo>& infos, const Holding& holding) {
  std::vector<std::vector<Piece>> by_tensor(infos.size());
  for (const Piece& p : pieces_of(infos, topo.tp_rank, topo.tp, holding.spans)) by_tensor[p.tensor].push_back(p);
  h5::QuietErrors quiet;
  const auto file = h5io::open_file(path, false, world && world->uses_mpi() ? world : nullptr);
  for (size_t i = 0; i < infos.size(); ++i) {
    const std::string name = "/" + group + "/" + infos[i].name;
    const std::string what = path + ": " + name;
    auto dset = h5::checked(H5Dopen2(file.get(), name.c_str(), H5P_DEFAULT), H5Dclose, what);
    h5io::read_pieces(dset.get(), infos[i].shape, by_tensor[i], h5io::io_for(world, infos[i], topo.tp), what);
  }
}

}  // namespace tessera::checkpoint
