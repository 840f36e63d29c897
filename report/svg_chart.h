#pragma once
// Self-contained SVG charts for the HTML reports: no scripts, no external fonts or styles, so a
// page opens offline. Each chart is one <svg class="chart" id=ID data-chart="line|bar"> element:
//   line chart  one <polyline class="line" data-series=NAME> per series with points (gaps where
//               y is not finite start a new polyline; a series longer than twice the plot's
//               width in pixels keeps each pixel column's lowest and highest point), optional
//               vertical event markers
//               (<line class="marker">), axes with "nice" ticks, a legend
//   bar chart   groups (e.g. metrics) of bars (e.g. model versions): <rect class="bar"
//               data-value=V> with an error bar <line class="error-bar"> of +- error when > 0
// A chart with no finite data says so in its body ("no data") instead of drawing axes.
#include <string>
#include <string_view>
#include <vector>

namespace tessera::report {

// Text made safe for HTML and SVG element content and attribute values (& < > " ').
std::string escape(std::string_view text);

// Tick positions covering [lo, hi] at a step of 1, 2 or 5 times a power of ten, about `count`.
std::vector<double> nice_ticks(double lo, double hi, int count = 5);

struct Series {
  std::string name;
  std::vector<double> x, y;  // equal lengths; a non-finite y leaves a gap
};

struct Marker {
  double x = 0;
  std::string label;  // shown as the marker's <title> (a tooltip)
};

struct LineChart {
  std::string id, title, x_label, y_label;
  std::vector<Series> series;
  std::vector<Marker> markers;  // vertical lines: rollbacks, anomalies
  bool log_y = false;           // a log10 y axis (positive values only; others are gaps)
};

struct BarGroup {
  std::string label;                 // e.g. a metric
  std::vector<double> values, errors;  // one per series (NaN: no bar)
};

struct BarChart {
  std::string id, title, y_label;
  std::vector<std::string> series;  // e.g. model versions, one colour each
  std::vector<BarGroup> groups;
};

std::string svg(const LineChart& chart);
std::string svg(const BarChart& chart);

}  // namespace tessera::report
