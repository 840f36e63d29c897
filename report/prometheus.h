#pragma once
// Training metrics in Prometheus's text exposition format, as a file for node_exporter's
// textfile collector (--collector.textfile.directory): RUN_DIR/metrics.prom, rewritten whole
// through RUN_DIR/metrics.prom.tmp and a rename, so a scrape never reads half a file (the
// collector reads *.prom only). Every sample carries the label run="<absolute run directory>".
#include <string>
#include <vector>

namespace tessera::report {

struct PromSample {
  std::string name;    // e.g. tessera_train_loss (valid metric name: [a-zA-Z_:][a-zA-Z0-9_:]*)
  std::string help;
  std::string type;    // "gauge" or "counter"
  double value = 0;    // NaN and infinities are written as NaN, +Inf, -Inf
  std::vector<std::pair<std::string, std::string>> labels;  // besides run
};

// The exposition text: # HELP and # TYPE once per name (samples of one name kept together, in
// first-seen order), label values escaped (\\, \", \n).
std::string prometheus_text(const std::vector<PromSample>& samples, const std::string& run);

// Writes `path` atomically (path + ".tmp", then a rename).
void write_prometheus_file(const std::string& path, const std::vector<PromSample>& samples, const std::string& run);

}  // namespace tessera::report
