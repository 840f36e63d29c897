#include "report/html_page.h"

#include <fmt/format.h>

#include "report/svg_chart.h"

namespace tessera::report {

namespace {

constexpr std::string_view kStyle = R"(
body { font-family: sans-serif; margin: 2em auto; max-width: 1000px; color: #222; padding: 0 1em; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 1.6em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #f3f3f3; }
.better { color: #17803d; font-weight: bold; } .worse { color: #b3261e; font-weight: bold; }
.anomaly td { background: #fff4e5; }
svg.chart { display: block; margin: 0.3em 0; border: 1px solid #eee; width: 490px; max-width: 100%; height: auto; }
.charts { display: flex; flex-wrap: wrap; gap: 0.5em; }
.note { color: #666; font-size: 0.85em; }
code { background: #f5f5f5; padding: 0 0.2em; }
)";

}  // namespace

HtmlPage::HtmlPage(const std::string& title) : title_(title) { heading(1, title); }

void HtmlPage::heading(int level, const std::string& text) { body_ += fmt::format("<h{0}>{1}</h{0}>\n", level, escape(text)); }

void HtmlPage::paragraph(const std::string& html) { body_ += "<p>" + html + "</p>\n"; }

void HtmlPage::raw(const std::string& html) { body_ += html + "\n"; }

void HtmlPage::table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows,
                     const std::string& css_class) {
  body_ += css_class.empty() ? "<table>" : "<table class=\"" + escape(css_class) + "\">";
  if (!header.empty()) {
    body_ += "<thead><tr>";
    for (const std::string& h : header) body_ += "<th>" + h + "</th>";
    body_ += "</tr></thead>";
  }
  body_ += "<tbody>\n";
  for (const auto& row : rows) {
    body_ += "<tr>";
    for (const std::string& cell : row) body_ += "<td>" + cell + "</td>";
    body_ += "</tr>\n";
  }
  body_ += "</tbody></table>\n";
}

std::string HtmlPage::str() const {
  return fmt::format("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                     "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                     "<title>{}</title><style>{}</style></head>\n<body>\n{}</body></html>\n",
                     escape(title_), kStyle, body_);
}

std::string mark_html(const std::string& mark) {
  if (mark.empty()) return "";
  return fmt::format(" <span class=\"{0}\">{1} {0}</span>", mark, mark == "better" ? "▲" : "▼");
}

}  // namespace tessera::report
