#include "report/prometheus.h"

#include <cmath>
#include <set>

#include <fmt/format.h>

#include "datasets/manifest.h"

namespace tessera::report {

namespace {

std::string label_value(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string value_text(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", v);
}

}  // namespace

std::string prometheus_text(const std::vector<PromSample>& samples, const std::string& run) {
  std::string out;
  std::set<std::string> done;
  for (const PromSample& first : samples) {
    if (!done.insert(first.name).second) continue;
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", first.name, first.help, first.name, first.type);
    for (const PromSample& s : samples) {
      if (s.name != first.name) continue;
      std::string labels = "run=\"" + label_value(run) + "\"";
      for (const auto& [k, v] : s.labels) labels += fmt::format(",{}=\"{}\"", k, label_value(v));
      out += fmt::format("{}{{{}}} {}\n", s.name, labels, value_text(s.value));
    }
  }
  return out;
}

void write_prometheus_file(const std::string& path, const std::vector<PromSample>& samples, const std::string& run) {
  datasets::write_file_atomically(path, prometheus_text(samples, run));
}

}  // namespace tessera::report
