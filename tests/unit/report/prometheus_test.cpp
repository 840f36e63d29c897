// The Prometheus textfile: HELP and TYPE once per metric, labels with the run and escaping, the
// special values, and the atomic write (no temporary file left, the .tmp name not matching *.prom).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "report/prometheus.h"
#include "tests/unit/test_support.h"

namespace tessera::report {
namespace {

TEST(Prometheus, ExpositionText) {
  const std::vector<PromSample> s = {
      {"tessera_train_loss", "Training loss", "gauge", 2.5, {}},
      {"tessera_train_anomalies_total", "Anomalies", "counter", 3, {{"kind", "straggler"}}},
      {"tessera_train_val_loss", "Validation loss", "gauge", NAN, {}},
      {"tessera_train_anomalies_total", "Anomalies", "counter", 0, {{"kind", "hung_step"}}},
      {"tessera_train_mfu", "MFU", "gauge", INFINITY, {}}};
  EXPECT_EQ(prometheus_text(s, "/runs/a \"b\"\\c"),
            "# HELP tessera_train_loss Training loss\n"
            "# TYPE tessera_train_loss gauge\n"
            "tessera_train_loss{run=\"/runs/a \\\"b\\\"\\\\c\"} 2.5\n"
            "# HELP tessera_train_anomalies_total Anomalies\n"
            "# TYPE tessera_train_anomalies_total counter\n"
            "tessera_train_anomalies_total{run=\"/runs/a \\\"b\\\"\\\\c\",kind=\"straggler\"} 3\n"
            "tessera_train_anomalies_total{run=\"/runs/a \\\"b\\\"\\\\c\",kind=\"hung_step\"} 0\n"
            "# HELP tessera_train_val_loss Validation loss\n"
            "# TYPE tessera_train_val_loss gauge\n"
            "tessera_train_val_loss{run=\"/runs/a \\\"b\\\"\\\\c\"} NaN\n"
            "# HELP tessera_train_mfu MFU\n"
            "# TYPE tessera_train_mfu gauge\n"
            "tessera_train_mfu{run=\"/runs/a \\\"b\\\"\\\\c\"} +Inf\n");
}

TEST(Prometheus, WrittenWholeThroughATemporaryFile) {
  testing_support::TempDir dir;
  const std::string path = dir / "metrics.prom";
  write_prometheus_file(path, {{"tessera_train_step", "Steps", "gauge", 10, {}}}, "r");
  write_prometheus_file(path, {{"tessera_train_step", "Steps", "gauge", 20, {}}}, "r");
  EXPECT_EQ(testing_support::slurp(path), "# HELP tessera_train_step Steps\n# TYPE tessera_train_step gauge\n"
                                          "tessera_train_step{run=\"r\"} 20\n");
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path), std::filesystem::directory_iterator()), 1);
}

}  // namespace
}  // namespace tessera::report
