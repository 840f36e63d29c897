// The HTML reports and results.json of a real run: prepared data, a tiny model trained with
// checkpoints at steps 4 and 8, `tessera eval` of both into RUN_DIR/eval, `tessera report RUN_DIR`.
//   - results.json is valid against docs/eval-results.schema.json (a validator of the JSON Schema
//     keywords the schema uses), and broken copies are not;
//   - report.html and the run page open in headless Chromium (Debian's chromium): the rendered DOM
//     holds every chart, the console shows no message, a screenshot is taken;
//   - both pages are self-contained: no scripts, no links or sources to fetch.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/unit/cli/tiny_run.h"
#include "tests/unit/test_support.h"

namespace tessera {
namespace {

using nlohmann::json;
using testing_support::CommandResult;
using testing_support::run_command;
using testing_support::slurp;
using testing_support::TempDir;

const std::string kBin = TESSERA_BIN;
const std::string kSchema = std::string(TESSERA_TEST_DATA) + "/../../docs/eval-results.schema.json";

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

bool has_type(const json& v, const std::string& type) {
  if (type == "object") return v.is_object();
  if (type == "array") return v.is_array();
  if (type == "string") return v.is_string();
  if (type == "integer") return v.is_number_integer();
  if (type == "number") return v.is_number();
  if (type == "boolean") return v.is_boolean();
  if (type == "null") return v.is_null();
  return false;
}

// The JSON Schema keywords docs/eval-results.schema.json uses: type, const, enum, required,
// properties, additionalProperties, items, minItems, minimum, minLength. Appends "PATH: problem".
void validate(const json& v, const json& schema, const std::string& path, std::vector<std::string>& errors) {
  const auto fail = [&](const std::string& what) { errors.push_back((path.empty() ? "/" : path) + ": " + what); };
  if (schema.contains("type")) {
    const json types = schema["type"].is_array() ? schema["type"] : json::array({schema["type"]});
    bool ok = false;
    for (const auto& t : types) ok = ok || has_type(v, t.get<std::string>());
    if (!ok) return fail("not of type " + schema["type"].dump());
  }
  if (schema.contains("const") && v != schema["const"]) fail("is not " + schema["const"].dump());
  if (schema.contains("enum") && std::find(schema["enum"].begin(), schema["enum"].end(), v) == schema["enum"].end()) {
    fail("is not one of " + schema["enum"].dump());
  }
  if (schema.contains("minimum") && v.is_number() && v.get<double>() < schema["minimum"].get<double>()) {
    fail("is below the minimum " + schema["minimum"].dump());
  }
  if (schema.contains("minLength") && v.is_string() && v.get<std::string>().size() < schema["minLength"].get<size_t>()) {
    fail("is shorter than " + schema["minLength"].dump());
  }
  if (v.is_object()) {
    for (const auto& r : schema.value("required", json::array())) {
      if (!v.contains(r.get<std::string>())) fail("lacks the required field " + r.dump());
    }
    for (const auto& [key, value] : v.items()) {
      if (schema.contains("properties") && schema["properties"].contains(key)) {
        validate(value, schema["properties"][key], path + "/" + key, errors);
      } else if (schema.contains("additionalProperties")) {
        validate(value, schema["additionalProperties"], path + "/" + key, errors);
      }
    }
  }
  if (v.is_array()) {
    if (schema.contains("minItems") && v.size() < schema["minItems"].get<size_t>()) fail("has too few items");
    for (size_t i = 0; schema.contains("items") && i < v.size(); ++i) {
      validate(v[i], schema["items"], path + "/" + std::to_string(i), errors);
    }
  }
}

std::vector<std::string> schema_errors(const json& v) {
  std::vector<std::string> errors;
  validate(v, json::parse(slurp(kSchema)), "", errors);
  return errors;
}

class ReportPages : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir;
    auto r = testing_support::train_tiny_run(*dir_, [](Config& c) {
      c.train.batch_size = 4;
      c.train.steps = 8;
      c.train.eval_interval = 2;
      c.train.eval_batches = 2;
      c.checkpoint.every = 4;
      c.monitor.interval = 2;
      c.monitor.peak_tflops = 0.1;
    }, "--no-samples");
    ASSERT_EQ(r.status, 0) << r.output;
    ASSERT_TRUE(contains(r.output, "monitoring: " + run() + "/report.html")) << r.output;
    r = run_command(kBin + " eval --ckpt " + run() + " --ckpt " + run() + ":4 --max-items 12 --report " + run() + "/eval");
    ASSERT_EQ(r.status, 0) << r.output;
    r = run_command(kBin + " report " + run(), testing_support::Capture::StdoutOnly);
    ASSERT_EQ(r.status, 0) << r.output;
    ASSERT_EQ(r.output, run() + "/report.html\n");
  }
  static void TearDownTestSuite() { delete dir_; }
  static std::string run() { return *dir_ / "run"; }

  // Opens `page` in headless Chromium: the rendered DOM, and the browser's log (console lines).
  struct Browser {
    std::string dom, log;
  };
  Browser open(const std::string& page, const std::string& action) {
    const std::string name = "browser-" + std::to_string(opened_++);  // a fresh profile each time
    const std::string flags = "chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
                              "--disable-background-networking --disable-component-update --disable-sync "
                              "--user-data-dir=" + (out_ / name) +
                              " --enable-logging=stderr --v=0 --window-size=1100,2400 ";
    const std::string err = out_ / (name + ".log");
    const CommandResult r = run_command("timeout 120 " + flags + action + " file://" + page + " 2>" + err,
                                        testing_support::Capture::StdoutOnly);
    EXPECT_EQ(r.status, 0) << "chromium " << action << " failed (is Debian's chromium installed? scripts/setup.sh): "
                           << slurp(err);
    return {r.output, slurp(err)};
  }

  // Opens the page twice: its DOM holds every chart id, the console stays silent, the
  // screenshot is a PNG of real size.
  void check_in_browser(const std::string& page, const std::vector<std::string>& chart_ids) {
    const Browser dom = open(page, "--dump-dom");
    for (const std::string& id : chart_ids) {
      EXPECT_TRUE(contains(dom.dom, "class=\"chart\" id=\"" + id + "\"")) << "chart " << id << " missing from the DOM";
    }
    EXPECT_FALSE(contains(dom.log, ":CONSOLE")) << dom.log;
    const std::string png = out_ / "page.png";
    const Browser shot = open(page, "--screenshot=" + png);
    EXPECT_FALSE(contains(shot.log, ":CONSOLE")) << shot.log;
    const std::string bytes = slurp(png);
    ASSERT_GT(bytes.size(), 20000u) << "no screenshot (or a blank one) at " << png;
    EXPECT_EQ(bytes.substr(1, 3), "PNG");
  }

  static TempDir* dir_;
  TempDir out_;
  int opened_ = 0;
};
TempDir* ReportPages::dir_ = nullptr;

TEST_F(ReportPages, ResultsJsonIsValidAgainstTheDocumentedSchema) {
  const json results = json::parse(slurp(run() + "/eval/results.json"));
  EXPECT_EQ(schema_errors(results), std::vector<std::string>{});
  ASSERT_EQ(results["comparisons"].size(), 5u);  // 3 perplexity metrics, acc and acc_norm: model 2 against model 1
  EXPECT_EQ(results["comparisons"][0]["paired"], true);  // the same windows
  json broken = results;
  broken["models"][0]["checkpoint"].erase("step");
  broken["models"][1]["tasks"]["cloze"]["n"] = "ten";
  broken["comparisons"][0]["mark"] = "great";
  EXPECT_EQ(schema_errors(broken),
            (std::vector<std::string>{"/comparisons/0/mark: is not one of [\"better\",\"worse\",\"\"]",
                                      "/models/0/checkpoint: lacks the required field \"step\"",
                                      "/models/1/tasks/cloze/n: not of type \"integer\""}));
}

TEST_F(ReportPages, EvaluationReportOpensInChromiumWithEveryChart) {
  check_in_browser(run() + "/eval/report.html",
                   {"metric-val_perplexity-mean_loss", "metric-val_perplexity-perplexity",
                    "metric-val_perplexity-bits_per_byte", "metric-cloze-acc", "metric-cloze-acc_norm", "loss-curves",
                    "train-throughput", "eval-throughput"});
}

TEST_F(ReportPages, RunPageOpensInChromiumWithEveryChart) {
  check_in_browser(run() + "/report.html", {"loss", "lr", "grad-norm", "throughput", "mfu", "rank-step-times"});
  const std::string page = slurp(run() + "/report.html");
  // The checkpoints at steps 4 and 8, each with its evaluation results.
  EXPECT_TRUE(contains(page, "<td>4</td><td><code>step-00000004.h5</code></td><td>val_perplexity mean_loss")) << page;
  EXPECT_TRUE(contains(page, "<td>8</td><td><code>step-00000008.h5</code></td><td>val_perplexity mean_loss")) << page;
}

TEST_F(ReportPages, PagesAreSelfContained) {
  for (const std::string& page : {run() + "/eval/report.html", run() + "/report.html"}) {
    std::string html = slurp(page);
    ASSERT_FALSE(html.empty()) << page;
    for (const char* fetch : {"<script", "src=", "href=", "@import", "url("}) EXPECT_FALSE(contains(html, fetch)) << page << ": " << fetch;
    // The only address is the SVG namespace, which is a name and never fetched.
    for (size_t at = html.find("xmlns=\"http://www.w3.org/2000/svg\""); at != std::string::npos;
         at = html.find("xmlns=\"http://www.w3.org/2000/svg\"")) {
      html.erase(at, 34);
    }
    EXPECT_FALSE(contains(html, "http:") || contains(html, "https:")) << page;
  }
}

}  // namespace
}  // namespace tessera
