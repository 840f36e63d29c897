#include "report/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

namespace tessera::report {

namespace {

constexpr double kWidth = 640, kHeight = 300;
constexpr double kLeft = 68, kRight = 16, kTop = 40, kBottom = 46;
constexpr double kPlotW = kWidth - kLeft - kRight, kPlotH = kHeight - kTop - kBottom;
constexpr std::string_view kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
                                         "#7f7f7f"};

std::string_view colour(size_t i) { return kPalette[i % std::size(kPalette)]; }

// A number for an axis label: short, without trailing zeros.
std::string tick_label(double v) {
  if (v == 0) return "0";
  const double a = std::abs(v);
  if (a >= 1e5 || a < 1e-3) return fmt::format("{:.2g}", v);
  std::string s = fmt::format("{:.4f}", v);
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

struct Range {
  double lo = std::numeric_limits<double>::infinity(), hi = -std::numeric_limits<double>::infinity();
  void add(double v) {
    if (!std::isfinite(v)) return;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  bool empty() const { return lo > hi; }
  // Widened to a non-empty span.
  Range padded() const {
    Range r = *this;
    if (r.hi == r.lo) {
      const double d = r.lo == 0 ? 1 : std::abs(r.lo) * 0.1;
      r.lo -= d;
      r.hi += d;
    }
    return r;
  }
};

std::string open_svg(const std::string& id, std::string_view kind, const std::string& title) {
  return fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" id=\"{}\" data-chart=\"{}\" role=\"img\" "
      "width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" font-family=\"sans-serif\" font-size=\"11\">"
      "<title>{}</title><text class=\"chart-title\" x=\"{}\" y=\"18\" font-size=\"13\" font-weight=\"bold\">{}</text>",
      escape(id), kind, kWidth, kHeight, kWidth, kHeight, escape(title), kLeft, escape(title));
}

std::string no_data(const std::string& id, std::string_view kind, const std::string& title) {
  return open_svg(id, kind, title) +
         fmt::format("<text class=\"no-data\" x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#888\">no data</text></svg>",
                     kWidth / 2, kHeight / 2);
}

// The y axis (ticks, grid lines, labels) and the axis title; `to_y` maps a value to a pixel row.
template <typename ToY>
std::string y_axis(const std::vector<double>& ticks, ToY to_y, const std::string& label, bool log_scale) {
  std::string out = "<g class=\"axis y-axis\">";
  for (double t : ticks) {
    const double y = to_y(t);
    out += fmt::format("<line x1=\"{}\" x2=\"{}\" y1=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#e5e5e5\"/>"
                       "<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\" dominant-baseline=\"middle\">{}</text>",
                       kLeft, kLeft + kPlotW, y, y, kLeft - 6, y, tick_label(log_scale ? std::pow(10.0, t) : t));
  }
  out += fmt::format("<line x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\" stroke=\"#444\"/>", kLeft, kLeft, kTop, kTop + kPlotH);
  out += fmt::format("<text x=\"14\" y=\"{}\" text-anchor=\"middle\" transform=\"rotate(-90 14 {})\">{}</text></g>",
                     kTop + kPlotH / 2, kTop + kPlotH / 2, escape(label));
  return out;
}

// A long series thinned to at most two points per pixel column: each run of points in one column
// keeps its lowest and highest (in step order), so spikes stay visible; a gap stays a gap. The
// page of a 100k-step run stays small (docs/benchmarks.md).
Series thinned(const Series& s, double x_lo, double x_hi) {
  const size_t n = std::min(s.x.size(), s.y.size());
  if (n <= static_cast<size_t>(2 * kPlotW)) return s;
  Series out{s.name, {}, {}};
  size_t i = 0;
  while (i < n) {
    if (!std::isfinite(s.y[i]) || !std::isfinite(s.x[i])) {
      out.x.push_back(s.x[i]);
      out.y.push_back(NAN);
      ++i;
      continue;
    }
    const auto column = [&](size_t k) {
      return std::min(kPlotW - 1, std::floor((s.x[k] - x_lo) / (x_hi - x_lo) * kPlotW));
    };
    size_t lo = i, hi = i, j = i;
    for (; j < n && std::isfinite(s.y[j]) && std::isfinite(s.x[j]) && column(j) == column(i); ++j) {
      if (s.y[j] < s.y[lo]) lo = j;
      if (s.y[j] > s.y[hi]) hi = j;
    }
    for (size_t k : {std::min(lo, hi), std::max(lo, hi)}) {
      out.x.push_back(s.x[k]);
      out.y.push_back(s.y[k]);
      if (lo == hi) break;
    }
    i = j;
  }
  return out;
}

std::string legend(const std::vector<std::string>& names) {
  std::string out = "<g class=\"legend\">";
  double x = kWidth - kRight;
  for (size_t i = names.size(); i-- > 0;) {  // right-aligned, first name leftmost
    const double w = 18 + 6.2 * static_cast<double>(names[i].size());
    x -= w;
    out += fmt::format("<rect x=\"{:.1f}\" y=\"24\" width=\"10\" height=\"10\" fill=\"{}\"/>"
                       "<text x=\"{:.1f}\" y=\"33\">{}</text>", x, colour(i), x + 13, escape(names[i]));
  }
  return out + "</g>";
}

}  // namespace

std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::vector<double> nice_ticks(double lo, double hi, int count) {
  if (!(hi > lo) || !std::isfinite(lo) || !std::isfinite(hi)) return {lo};
  const double raw = (hi - lo) / std::max(1, count);
  const int exponent = static_cast<int>(std::floor(std::log10(raw)));
  double multiple = 1;  // of the power of ten: the one nearest `raw` on a log scale
  for (double m : {2.0, 5.0, 10.0}) {
    if (std::abs(std::log(m * std::pow(10.0, exponent) / raw)) < std::abs(std::log(multiple * std::pow(10.0, exponent) / raw))) {
      multiple = m;
    }
  }
  // Ticks are k * multiple * 10^exponent, divided by 10^-exponent for negative exponents so that
  // 0.3 comes out as the double nearest 0.3 rather than 3 * 0.1.
  const auto at = [&](double k) {
    return exponent >= 0 ? k * multiple * std::pow(10.0, exponent) : k * multiple / std::pow(10.0, -exponent);
  };
  const double step = at(1);
  std::vector<double> ticks;
  for (double k = std::ceil(lo / step - 1e-9); at(k) <= hi + step * 1e-9; k += 1) ticks.push_back(at(k) == 0 ? 0.0 : at(k));
  return ticks;
}

std::string svg(const LineChart& chart) {
  const auto fy = [&](double y) { return chart.log_y ? (y > 0 ? std::log10(y) : NAN) : y; };
  Range xr, yr;
  for (const Series& s : chart.series) {
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (!std::isfinite(fy(s.y[i]))) continue;
      xr.add(s.x[i]);
      yr.add(fy(s.y[i]));
    }
  }
  if (xr.empty()) return no_data(chart.id, "line", chart.title);
  xr = xr.padded();
  yr = yr.padded();
  const std::vector<double> yt = nice_ticks(yr.lo, yr.hi), xt = nice_ticks(xr.lo, xr.hi, 6);
  yr.lo = std::min(yr.lo, yt.front());
  yr.hi = std::max(yr.hi, yt.back());
  const auto to_x = [&](double x) { return kLeft + (x - xr.lo) / (xr.hi - xr.lo) * kPlotW; };
  const auto to_y = [&](double y) { return kTop + kPlotH - (y - yr.lo) / (yr.hi - yr.lo) * kPlotH; };
  std::string out = open_svg(chart.id, "line", chart.title);
  out += y_axis(yt, to_y, chart.y_label, chart.log_y);
  out += "<g class=\"axis x-axis\">";
  for (double t : xt) {
    if (t < xr.lo || t > xr.hi) continue;
    out += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{}</text>", to_x(t), kTop + kPlotH + 16,
                       tick_label(t));
  }
  out += fmt::format("<line x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\" stroke=\"#444\"/>", kLeft, kLeft + kPlotW,
                     kTop + kPlotH, kTop + kPlotH);
  out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text></g>", kLeft + kPlotW / 2, kHeight - 8,
                     escape(chart.x_label));
  for (const Marker& m : chart.markers) {
    if (!std::isfinite(m.x) || m.x < xr.lo || m.x > xr.hi) continue;
    out += fmt::format("<line class=\"marker\" x1=\"{0:.1f}\" x2=\"{0:.1f}\" y1=\"{1}\" y2=\"{2}\" stroke=\"#c00\" "
                       "stroke-dasharray=\"4 3\"><title>{3}</title></line>",
                       to_x(m.x), kTop, kTop + kPlotH, escape(m.label));
  }
  std::vector<std::string> names;
  for (size_t k = 0; k < chart.series.size(); ++k) {
    const Series s = thinned(chart.series[k], xr.lo, xr.hi);
    names.push_back(s.name);
    out += fmt::format("<g class=\"series\" data-series=\"{}\">", escape(s.name));
    std::string points;
    size_t count = 0;
    const auto flush = [&] {
      if (count == 1) {  // a lone point: a dot
        const size_t comma = points.find(',');
        out += fmt::format("<circle class=\"point\" cx=\"{}\" cy=\"{}\" r=\"2.5\" fill=\"{}\"/>", points.substr(0, comma),
                           points.substr(comma + 1, points.size() - comma - 2), colour(k));
      } else if (count > 1) {
        points.pop_back();
        out += fmt::format("<polyline class=\"line\" data-series=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.5\" "
                           "points=\"{}\"/>", escape(s.name), colour(k), points);
      }
      points.clear();
      count = 0;
    };
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      const double y = fy(s.y[i]);
      if (!std::isfinite(y) || !std::isfinite(s.x[i])) {
        flush();
        continue;
      }
      points += fmt::format("{:.1f},{:.1f} ", to_x(s.x[i]), to_y(y));
      ++count;
    }
    flush();
    out += "</g>";
  }
  if (names.size() > 1) out += legend(names);
  return out + "</svg>";
}

std::string svg(const BarChart& chart) {
  Range yr;
  yr.add(0);
  bool any = false;
  for (const BarGroup& g : chart.groups) {
    for (size_t k = 0; k < g.values.size(); ++k) {
      if (!std::isfinite(g.values[k])) continue;
      any = true;
      const double e = k < g.errors.size() && std::isfinite(g.errors[k]) ? g.errors[k] : 0;
      yr.add(g.values[k] + e);
      yr.add(g.values[k] - e);
    }
  }
  if (!any) return no_data(chart.id, "bar", chart.title);
  yr = yr.padded();
  const std::vector<double> yt = nice_ticks(yr.lo, yr.hi);
  yr.lo = std::min(yr.lo, yt.front());
  yr.hi = std::max(yr.hi, yt.back());
  const auto to_y = [&](double y) { return kTop + kPlotH - (y - yr.lo) / (yr.hi - yr.lo) * kPlotH; };
  std::string out = open_svg(chart.id, "bar", chart.title);
  out += y_axis(yt, to_y, chart.y_label, false);
  const double group_w = kPlotW / static_cast<double>(std::max<size_t>(1, chart.groups.size()));
  const double bar_w = group_w * 0.8 / static_cast<double>(std::max<size_t>(1, chart.series.size()));
  const double zero = to_y(0);
  out += fmt::format("<line x1=\"{}\" x2=\"{}\" y1=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#444\"/>", kLeft, kLeft + kPlotW,
                     zero, zero);
  for (size_t gi = 0; gi < chart.groups.size(); ++gi) {
    const BarGroup& g = chart.groups[gi];
    const double x0 = kLeft + group_w * static_cast<double>(gi) + group_w * 0.1;
    out += fmt::format("<g class=\"bar-group\" data-group=\"{}\">", escape(g.label));
    for (size_t k = 0; k < g.values.size(); ++k) {
      const double v = g.values[k];
      if (!std::isfinite(v)) continue;
      const double x = x0 + bar_w * static_cast<double>(k), top = std::min(to_y(v), zero);
      const std::string name = k < chart.series.size() ? chart.series[k] : "";
      out += fmt::format("<rect class=\"bar\" data-series=\"{}\" data-value=\"{}\" x=\"{:.1f}\" y=\"{:.1f}\" "
                         "width=\"{:.1f}\" height=\"{:.1f}\" fill=\"{}\"><title>{}: {}</title></rect>",
                         escape(name), v, x, top, bar_w * 0.9, std::abs(to_y(v) - zero), colour(k), escape(name),
                         tick_label(v));
      const double e = k < g.errors.size() && std::isfinite(g.errors[k]) ? g.errors[k] : 0;
      if (e > 0) {
        const double cx = x + bar_w * 0.45;
        out += fmt::format("<line class=\"error-bar\" data-error=\"{}\" x1=\"{:.1f}\" x2=\"{:.1f}\" y1=\"{:.1f}\" "
                           "y2=\"{:.1f}\" stroke=\"#222\" stroke-width=\"1.2\"/>", e, cx, cx, to_y(v + e), to_y(v - e));
      }
    }
    out += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{}</text></g>", x0 + group_w * 0.4,
                       kTop + kPlotH + 16, escape(g.label));
  }
  if (chart.series.size() > 1) out += legend(chart.series);
  return out + "</svg>";
}

}  // namespace tessera::report
