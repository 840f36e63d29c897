#pragma once
// A self-contained HTML page (inline CSS, no scripts, no fetches) assembled from sections:
// headings, paragraphs, tables and inline SVG charts (svg_chart.h). Callers pass text through
// escape() unless it is markup they built.
#include <string>
#include <vector>

namespace tessera::report {

class HtmlPage {
 public:
  explicit HtmlPage(const std::string& title);
  void heading(int level, const std::string& text);  // text is escaped
  void paragraph(const std::string& html);
  void raw(const std::string& html);  // e.g. a chart's <svg>
  // A table: header cells (none: no header row) and rows of cells, all markup (escape text first).
  void table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows,
             const std::string& css_class = "");
  std::string str() const;

 private:
  std::string title_, body_;
};

// Markup for a difference's mark in the reports: "better", "worse" (significant) or "" (not).
std::string mark_html(const std::string& mark);

}  // namespace tessera::report
