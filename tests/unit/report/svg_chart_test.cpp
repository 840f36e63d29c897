// The SVG chart module's output structure: one <svg class="chart"> per chart with its id, one
// polyline per series with one point per finite value (gaps split it), points inside the plot,
// bars whose heights are proportional to their values, error bars spanning +- the error, escaping,
// and "no data" for an empty chart.
#include <gtest/gtest.h>

#include <cmath>
#include <regex>
#include <string>
#include <vector>

#include "report/svg_chart.h"

namespace tessera::report {
namespace {

size_t count(const std::string& text, const std::string& part) {
  size_t n = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + part.size())) ++n;
  return n;
}

// Every value of attribute `name` in the text, in order.
std::vector<double> attribute_values(const std::string& text, const std::string& name) {
  std::vector<double> out;
  const std::regex re(" " + name + "=\"([-0-9.e+]+)\"");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator(); ++it) {
    out.push_back(std::stod((*it)[1]));
  }
  return out;
}

// The points="x,y ..." of each polyline.
std::vector<std::vector<std::pair<double, double>>> polylines(const std::string& text) {
  std::vector<std::vector<std::pair<double, double>>> out;
  const std::regex re("<polyline[^>]* points=\"([^\"]*)\"");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator(); ++it) {
    std::vector<std::pair<double, double>> pts;
    const std::string list = (*it)[1];
    const std::regex pt("([-0-9.]+),([-0-9.]+)");
    for (auto p = std::sregex_iterator(list.begin(), list.end(), pt); p != std::sregex_iterator(); ++p) {
      pts.emplace_back(std::stod((*p)[1]), std::stod((*p)[2]));
    }
    out.push_back(pts);
  }
  return out;
}

TEST(NiceTicks, StepsOfOneTwoOrFiveTimesAPowerOfTen) {
  EXPECT_EQ(nice_ticks(0, 10, 5), (std::vector<double>{0, 2, 4, 6, 8, 10}));
  EXPECT_EQ(nice_ticks(0.13, 0.61, 5), (std::vector<double>{0.2, 0.3, 0.4, 0.5, 0.6}));
  EXPECT_EQ(nice_ticks(3, 1234, 5), (std::vector<double>{200, 400, 600, 800, 1000, 1200}));
  EXPECT_EQ(nice_ticks(-0.004, 0.011, 3), (std::vector<double>{-0.0, 0.005, 0.01}));
}

TEST(Escape, MarkupCharacters) { EXPECT_EQ(escape("a<b & \"c\">'"), "a&lt;b &amp; &quot;c&quot;&gt;&#39;"); }

TEST(LineChart, OnePolylinePerSeriesWithOnePointPerValueInsideThePlot) {
  LineChart c{"loss", "Loss <train>", "step", "loss", {}, {{5, "rollback"}}, false};
  c.series.push_back({"train", {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, {5, 4.5, 4, 3.8, 3.6, 3.5, 3.4, 3.3, 3.2, 3.1}});
  c.series.push_back({"val", {5, 10}, {3.9, 3.3}});
  const std::string s = svg(c);
  EXPECT_EQ(s.rfind("<svg", 0), 0u);
  EXPECT_EQ(count(s, "</svg>"), 1u);
  EXPECT_NE(s.find("id=\"loss\""), std::string::npos);
  EXPECT_NE(s.find("data-chart=\"line\""), std::string::npos);
  EXPECT_NE(s.find("<title>Loss &lt;train&gt;</title>"), std::string::npos);
  const auto lines = polylines(s);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].size(), 10u);
  EXPECT_EQ(lines[1].size(), 2u);
  for (const auto& line : lines) {
    for (const auto& [x, y] : line) {
      EXPECT_GE(x, 68);
      EXPECT_LE(x, 640 - 16);
      EXPECT_GE(y, 40);
      EXPECT_LE(y, 300 - 46);
    }
  }
  // x increases with the step, y falls as the loss falls (SVG rows grow downwards).
  EXPECT_LT(lines[0][0].first, lines[0][9].first);
  EXPECT_LT(lines[0][0].second, lines[0][9].second);
  // The first and last steps span the whole plot width.
  EXPECT_NEAR(lines[0][0].first, 68, 0.1);
  EXPECT_NEAR(lines[0][9].first, 624, 0.1);
  EXPECT_EQ(count(s, "class=\"marker\""), 1u);
  EXPECT_EQ(count(s, "class=\"legend\""), 1u);  // two series: a legend
}

TEST(LineChart, NonFiniteValuesSplitTheLineAndLoneValuesAreDots) {
  LineChart c{"g", "gaps", "step", "y", {}, {}, false};
  c.series.push_back({"s", {1, 2, 3, 4, 5, 6}, {1, 2, NAN, 3, INFINITY, 4}});
  const std::string s = svg(c);
  const auto lines = polylines(s);
  ASSERT_EQ(lines.size(), 1u);  // 1-2; then 4 and 6 stand alone
  EXPECT_EQ(lines[0].size(), 2u);
  EXPECT_EQ(count(s, "<circle class=\"point\""), 2u);
  EXPECT_EQ(count(s, "class=\"legend\""), 0u);  // one series: no legend
}

TEST(LineChart, ALongSeriesKeepsEachPixelColumnsExtremes) {
  Series s{"loss", {}, {}};
  for (int i = 0; i < 100000; ++i) {
    s.x.push_back(i);
    s.y.push_back(i == 54321 ? 50.0 : 1.0 + 1e-5 * (i % 7));  // one spike among 100k steps
  }
  const std::string svg_text = svg(LineChart{"long", "long", "step", "loss", {s}, {}, false});
  const auto lines = polylines(svg_text);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_LE(lines[0].size(), 2u * 556u);  // two per pixel column of the 556-pixel plot
  EXPECT_GE(lines[0].size(), 556u);
  double top = 1e9;
  for (const auto& [x, y] : lines[0]) top = std::min(top, y);
  EXPECT_NEAR(top, 40, 0.1);  // the spike still reaches the top of the plot
  EXPECT_LT(svg_text.size(), 40000u);
}

TEST(LineChart, LogAxisDropsNonPositiveValues) {
  LineChart c{"lr", "lr", "step", "lr", {}, {}, true};
  c.series.push_back({"lr", {1, 2, 3}, {1e-4, 1e-3, 0}});
  EXPECT_EQ(polylines(svg(c))[0].size(), 2u);
}

TEST(Charts, WithoutDataSayNoData) {
  const std::string line = svg(LineChart{"e", "empty", "x", "y", {{"s", {1}, {NAN}}}, {}, false});
  EXPECT_NE(line.find("no data"), std::string::npos);
  EXPECT_NE(line.find("id=\"e\""), std::string::npos);
  EXPECT_EQ(count(line, "<polyline"), 0u);
  const std::string bars = svg(BarChart{"b", "empty", "y", {"m"}, {}});
  EXPECT_NE(bars.find("no data"), std::string::npos);
}

TEST(BarChart, BarHeightsProportionalToValuesAndErrorBarsSpanTwoErrors) {
  BarChart c{"acc", "acc", "acc", {"model 1", "model 2"}, {{"acc", {0.25, 0.5}, {0.05, 0.1}}, {"acc_norm", {0.75, NAN}, {0, 0}}}};
  const std::string s = svg(c);
  EXPECT_NE(s.find("data-chart=\"bar\""), std::string::npos);
  EXPECT_EQ(count(s, "<rect class=\"bar\""), 3u);  // the NaN draws no bar
  EXPECT_EQ(attribute_values(s, "data-value"), (std::vector<double>{0.25, 0.5, 0.75}));
  std::vector<double> bars;
  const std::regex re("<rect class=\"bar\"[^>]* height=\"([0-9.]+)\"");
  for (auto it = std::sregex_iterator(s.begin(), s.end(), re); it != std::sregex_iterator(); ++it) bars.push_back(std::stod((*it)[1]));
  ASSERT_EQ(bars.size(), 3u);
  EXPECT_NEAR(bars[1] / bars[0], 2.0, 0.02);
  EXPECT_NEAR(bars[2] / bars[0], 3.0, 0.03);
  // Error bars: two (the zero error draws none), each 2 errors long on the same scale as the bars.
  EXPECT_EQ(attribute_values(s, "data-error"), (std::vector<double>{0.05, 0.1}));
  const std::regex eb("class=\"error-bar\"[^>]* y1=\"([0-9.]+)\" y2=\"([0-9.]+)\"");
  std::vector<double> spans;
  for (auto it = std::sregex_iterator(s.begin(), s.end(), eb); it != std::sregex_iterator(); ++it) {
    spans.push_back(std::stod((*it)[2]) - std::stod((*it)[1]));
  }
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_NEAR(spans[0] / bars[0], 2 * 0.05 / 0.25, 0.02);
  EXPECT_NEAR(spans[1] / bars[0], 2 * 0.1 / 0.25, 0.02);
  EXPECT_EQ(count(s, "class=\"bar-group\""), 2u);
}

}  // namespace
}  // namespace tessera::report
