#include "run/config.h"

#include <cmath>
#include <fstream>
#include <sstream>
#include <variant>

#include <nlohmann/json.hpp>
#include <toml++/toml.h>

#include "core/error.h"

namespace tessera {

namespace {

using FieldRef = std::variant<std::string*, Family*, int64_t*, uint64_t*, double*, bool*>;

// Every key of the config, in file order. Parsing, printing and overrides all walk this list,
// so a key added here is known everywhere.
template <typename F>
void for_each_field(Config& c, F&& f) {
  f("model", "family", FieldRef(&c.model.family));
  f("model", "n_layer", FieldRef(&c.model.n_layer));
  f("model", "d_model", FieldRef(&c.model.d_model));
  f("model", "n_head", FieldRef(&c.model.n_head));
  f("model", "n_kv_head", FieldRef(&c.model.n_kv_head));
  f("model", "d_ff", FieldRef(&c.model.d_ff));
  f("model", "seq_len", FieldRef(&c.model.seq_len));
  f("model", "vocab_size", FieldRef(&c.model.vocab_size));
  f("model", "tie_embeddings", FieldRef(&c.model.tie_embeddings));
  f("data", "dir", FieldRef(&c.data.dir));
  f("train", "batch_size", FieldRef(&c.train.batch_size));
  f("train", "grad_accum", FieldRef(&c.train.grad_accum));
  f("train", "steps", FieldRef(&c.train.steps));
  f("train", "lr", FieldRef(&c.train.lr));
  f("train", "min_lr", FieldRef(&c.train.min_lr));
  f("train", "warmup_steps", FieldRef(&c.train.warmup_steps));
  f("train", "weight_decay", FieldRef(&c.train.weight_decay));
  f("train", "grad_clip", FieldRef(&c.train.grad_clip));
  f("train", "eval_interval", FieldRef(&c.train.eval_interval));
  f("train", "eval_batches", FieldRef(&c.train.eval_batches));
  f("train", "seed", FieldRef(&c.train.seed));
  f("train", "device", FieldRef(&c.train.device));
  f("train", "max_bad_steps", FieldRef(&c.train.max_bad_steps));
  f("train", "spike_zscore", FieldRef(&c.train.spike_zscore));
  f("train", "spike_window", FieldRef(&c.train.spike_window));
  f("train", "precision", FieldRef(&c.train.precision));
  f("parallel", "tp", FieldRef(&c.parallel.tp));
  f("parallel", "zero", FieldRef(&c.parallel.zero));
  f("parallel", "timeout_s", FieldRef(&c.parallel.timeout_s));
  f("parallel", "bucket_mb", FieldRef(&c.parallel.bucket_mb));
  f("parallel", "overlap", FieldRef(&c.parallel.overlap));
  f("parallel", "sync_precision", FieldRef(&c.parallel.sync_precision));
  f("checkpoint", "every", FieldRef(&c.checkpoint.every));
  f("checkpoint", "every_minutes", FieldRef(&c.checkpoint.every_minutes));
  f("checkpoint", "keep", FieldRef(&c.checkpoint.keep));
  f("monitor", "interval", FieldRef(&c.monitor.interval));
  f("monitor", "straggler_ratio", FieldRef(&c.monitor.straggler_ratio));
  f("monitor", "throughput_drop", FieldRef(&c.monitor.throughput_drop));
  f("monitor", "hang_factor", FieldRef(&c.monitor.hang_factor));
  f("monitor", "hang_min_s", FieldRef(&c.monitor.hang_min_s));
  f("monitor", "peak_tflops", FieldRef(&c.monitor.peak_tflops));
}

const char* type_name(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a floating-point number";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    default: return "a date or time";
  }
}

// Assigns a TOML value to a field, or throws naming `where` (file and key) and both types.
void assign(const FieldRef& field, const toml::node& node, const std::string& where) {
  std::visit(
      [&](auto* target) {
        using T = std::remove_pointer_t<decltype(target)>;
        if constexpr (std::is_same_v<T, std::string>) {
          TESSERA_CHECK(node.is_string(), "{} must be a string, got {}", where, type_name(node));
          *target = node.as_string()->get();
        } else if constexpr (std::is_same_v<T, Family>) {
          TESSERA_CHECK(node.is_string(), "{} must be a string, got {}", where, type_name(node));
          *target = family_from_name(node.as_string()->get(), where);
        } else if constexpr (std::is_same_v<T, bool>) {
          TESSERA_CHECK(node.is_boolean(), "{} must be true or false, got {}", where, type_name(node));
          *target = node.as_boolean()->get();
        } else if constexpr (std::is_same_v<T, double>) {
          TESSERA_CHECK(node.is_number(), "{} must be a number, got {}", where, type_name(node));
          *target = node.is_integer() ? static_cast<double>(node.as_integer()->get()) : node.as_floating_point()->get();
          TESSERA_CHECK(std::isfinite(*target), "{} must be a finite number, got {}", where, *target);
        } else if constexpr (std::is_same_v<T, uint64_t>) {
          TESSERA_CHECK(node.is_integer(), "{} must be an integer, got {}", where, type_name(node));
          const int64_t v = node.as_integer()->get();
          TESSERA_CHECK(v >= 0, "{} must not be negative, got {}", where, v);
          *target = static_cast<uint64_t>(v);
        } else {
          TESSERA_CHECK(node.is_integer(), "{} must be an integer, got {}", where, type_name(node));
          *target = node.as_integer()->get();
        }
      },
      field);
}

FieldRef find_field(Config& c, std::string_view section, std::string_view key, bool& found) {
  FieldRef result;
  found = false;
  for_each_field(c, [&](const char* s, const char* k, FieldRef ref) {
    if (section == s && key == k) {
      result = ref;
      found = true;
    }
  });
  return result;
}

bool is_section(std::string_view name) {
  return name == "model" || name == "data" || name == "train" || name == "parallel" || name == "checkpoint" ||
         name == "monitor";
}

toml::table parse_toml(const std::string& text, const std::string& source) {
  try {
    return toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    TESSERA_FAIL("{}:{}:{}: invalid TOML: {}", source, e.source().begin.line, e.source().begin.column,
                 e.description());
  }
}

void apply_table(Config& c, const toml::table& root, const std::string& source) {
  for (const auto& [section_key, section_node] : root) {
    const std::string section(section_key.str());
    TESSERA_CHECK(is_section(section), "{}: unknown section [{}] (sections: model, data, train, parallel, checkpoint, monitor)",
                  source, section);
    TESSERA_CHECK(section_node.is_table(), "{}: '{}' must be a table ([{}]), got {}", source, section, section,
                  type_name(section_node));
    for (const auto& [key, value] : *section_node.as_table()) {
      bool found = false;
      const FieldRef field = find_field(c, section, key.str(), found);
      TESSERA_CHECK(found, "{}: unknown key '{}' in [{}]", source, key.str(), section);
      assign(field, value, fmt::format("{}: [{}] {}", source, section, key.str()));
    }
  }
}

// "section.key=value": the value is read as a TOML value; a bare word is a string (family=llama).
void apply_override(Config& c, const std::string& text) {
  const size_t eq = text.find('=');
  const size_t dot = text.find('.');
  TESSERA_CHECK(eq != std::string::npos && dot != std::string::npos && dot < eq,
                "--set '{}': expected section.key=value", text);
  const std::string section = text.substr(0, dot), key = text.substr(dot + 1, eq - dot - 1);
  const std::string value = text.substr(eq + 1);
  bool found = false;
  const FieldRef field = find_field(c, section, key, found);
  TESSERA_CHECK(found, "--set '{}': unknown key '{}.{}'", text, section, key);
  toml::table parsed;
  try {
    parsed = toml::parse("v = " + value);
  } catch (const toml::parse_error&) {
    parsed = toml::table{{"v", value}};
  }
  assign(field, *parsed.get("v"), fmt::format("--set {}.{}", section, key));
}

}  // namespace

Config Config::parse(const std::string& toml_text, const std::string& source,
                     const std::vector<std::string>& overrides) {
  Config c;
  apply_table(c, parse_toml(toml_text, source), source);
  for (const auto& o : overrides) apply_override(c, o);
  c.validate(source);
  return c;
}

Config Config::load(const std::string& path, const std::vector<std::string>& overrides) {
  std::ifstream in(path, std::ios::binary);
  TESSERA_CHECK(in.good(), "cannot read config file '{}'", path);
  std::ostringstream text;
  text << in.rdbuf();
  TESSERA_CHECK(!in.bad(), "error while reading config file '{}'", path);
  return parse(text.str(), path, overrides);
}

std::string Config::to_toml() const {
  toml::table root;
  Config copy = *this;
  for_each_field(copy, [&](const char* section, const char* key, FieldRef ref) {
    if (!root.contains(section)) root.insert(section, toml::table{});
    toml::table& t = *root.get_as<toml::table>(section);
    std::visit(
        [&](auto* v) {
          using T = std::remove_pointer_t<decltype(v)>;
          if constexpr (std::is_same_v<T, uint64_t>) {
            t.insert(key, static_cast<int64_t>(*v));
          } else if constexpr (std::is_same_v<T, Family>) {
            t.insert(key, std::string(family_name(*v)));
          } else {
            t.insert(key, *v);
          }
        },
        ref);
  });
  std::ostringstream out;
  out << root << "\n";
  return out.str();
}

std::string Config::to_json() const {
  nlohmann::ordered_json j;
  Config copy = *this;
  for_each_field(copy, [&](const char* section, const char* key, FieldRef ref) {
    std::visit(
        [&](auto* v) {
          if constexpr (std::is_same_v<std::remove_pointer_t<decltype(v)>, Family>) {
            j[section][key] = std::string(family_name(*v));
          } else {
            j[section][key] = *v;
          }
        },
        ref);
  });
  return j.dump();
}

void Config::validate(const std::string& source) const {
  auto require = [&](bool ok, const char* key, const std::string& rule) {
    TESSERA_CHECK(ok, "{}: {} {}", source, key, rule);
  };
  const ModelConfig& m = model;
  require(m.n_layer >= 1, "model.n_layer", "must be at least 1");
  require(m.n_head >= 1, "model.n_head", "must be at least 1");
  require(m.d_model >= 1 && m.d_model % m.n_head == 0, "model.d_model",
          fmt::format("({}) must be a positive multiple of model.n_head ({})", m.d_model, m.n_head));
  require(m.n_kv_head >= 0 && m.n_head % m.kv_heads() == 0, "model.n_kv_head",
          fmt::format("({}) must divide model.n_head ({})", m.n_kv_head, m.n_head));
  require(!facts(m.family).rotary || m.head_dim() % 2 == 0, "model.d_model",
          fmt::format("/ n_head ({}) must be even for rotary embeddings", m.head_dim()));
  require(m.d_ff >= 0, "model.d_ff", "must not be negative (0 means the family's default)");
  require(m.seq_len >= 1, "model.seq_len", "must be at least 1");
  require(m.vocab_size >= 2, "model.vocab_size", "must be at least 2");
  require(train.batch_size >= 1, "train.batch_size", "must be at least 1");
  require(train.grad_accum >= 1, "train.grad_accum", "must be at least 1");
  require(train.steps >= 0, "train.steps", "must not be negative");
  require(train.lr > 0, "train.lr", "must be positive");
  require(train.min_lr >= 0 && train.min_lr <= train.lr, "train.min_lr", "must be between 0 and train.lr");
  require(train.warmup_steps >= 0, "train.warmup_steps", "must not be negative");
  require(train.weight_decay >= 0, "train.weight_decay", "must not be negative");
  require(train.grad_clip >= 0, "train.grad_clip", "must not be negative (0 disables clipping)");
  require(train.eval_interval >= 0, "train.eval_interval", "must not be negative (0 disables evaluation)");
  require(train.eval_batches >= 1, "train.eval_batches", "must be at least 1");
  require(train.device == "cpu" || train.device == "cuda", "train.device",
          fmt::format("must be \"cpu\" or \"cuda\", got \"{}\"", train.device));
  require(train.max_bad_steps >= 1, "train.max_bad_steps", "must be at least 1");
  require(train.spike_zscore >= 0, "train.spike_zscore", "must not be negative (0 disables spike rollback)");
  require(train.spike_window >= 2, "train.spike_window", "must be at least 2");
  require(train.precision == "fp32" || train.precision == "bf16", "train.precision",
          fmt::format("must be \"fp32\" or \"bf16\", got \"{}\"", train.precision));
  require(parallel.tp >= 1, "parallel.tp", "must be at least 1");
  require(parallel.timeout_s > 0, "parallel.timeout_s", "must be positive");
  require(parallel.bucket_mb > 0, "parallel.bucket_mb", "must be positive");
  require(parallel.sync_precision == "fp32" || parallel.sync_precision == "bf16", "parallel.sync_precision",
          fmt::format("must be \"fp32\" or \"bf16\", got \"{}\"", parallel.sync_precision));
  require(m.n_head % parallel.tp == 0 && m.kv_heads() % parallel.tp == 0, "parallel.tp",
          fmt::format("({}) must divide model.n_head ({}) and the key/value heads ({})", parallel.tp, m.n_head,
                      m.kv_heads()));
  require(checkpoint.every >= 0, "checkpoint.every", "must not be negative (0 disables periodic checkpoints)");
  require(checkpoint.every_minutes >= 0, "checkpoint.every_minutes", "must not be negative (0 disables them)");
  require(checkpoint.keep >= 1, "checkpoint.keep", "must be at least 1");
  require(monitor.interval >= 1, "monitor.interval", "must be at least 1");
  require(monitor.straggler_ratio > 1, "monitor.straggler_ratio", "must be greater than 1");
  require(monitor.throughput_drop > 0 && monitor.throughput_drop < 1, "monitor.throughput_drop",
          "must be between 0 and 1 (a fraction of the usual throughput)");
  require(monitor.hang_factor > 1, "monitor.hang_factor", "must be greater than 1");
  require(monitor.hang_min_s >= 0, "monitor.hang_min_s", "must not be negative");
  require(monitor.peak_tflops >= 0, "monitor.peak_tflops", "must not be negative (0: no MFU)");
}

}  // namespace tessera
