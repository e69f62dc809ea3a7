#include "cli/render_html.h"

#include "cli/render_text.h"
#include "k8sclient/api_client.h"
#include "k8sclient/loopback_server.h"

namespace stepline::cli {

namespace {

using k8s::HtmlEscape;

constexpr const char* kStyle = R"(<style>
body{font-family:"DejaVu Sans",Arial,sans-serif;margin:1.2em 2em;color:#1d2733}
h1{font-size:1.4em;margin:.2em 0} h2{font-size:1.1em;margin:1.2em 0 .4em}
table{border-collapse:collapse} td,th{padding:.25em .8em;text-align:left;border-bottom:1px solid #dde3ea;vertical-align:top}
th{background:#f2f5f8} a{color:#1f5fbf;text-decoration:none} .muted{color:#607d8b}
.phase{font-weight:bold} .Succeeded{color:#2e8540} .Failed{color:#c62828} .Running,.Executing{color:#1f5fbf}
.Waiting,.WaitingForQuota,.WaitingForAdmission,.Retrying,.Pending,.Stopping{color:#a06000} .Skipped,.Stopped{color:#757575}
pre{background:#f5f7fa;border:1px solid #dde3ea;padding:.6em;max-height:24em;overflow:auto;white-space:pre-wrap}
.graph svg{max-width:100%;height:auto}
</style>)";

std::string Head(const std::string& title, int refresh_seconds) {
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">";
  if (refresh_seconds > 0) {
    out += "<meta http-equiv=\"refresh\" content=\"" + std::to_string(refresh_seconds) + "\">";
  }
  return out + "<title>" + HtmlEscape(title) + "</title>" + kStyle + "</head><body>\n";
}

std::string Phase(const std::string& phase) {
  return "<span class=\"phase " + HtmlEscape(phase) + "\">" + PhaseSymbol(phase) + " " +
         HtmlEscape(phase) + "</span>";
}

std::string Since(const std::string& from, const std::string& to, k8s::WallTime now) {
  const int64_t s = SecondsBetween(from, to, now);
  return s < 0 ? "" : FormatDuration(s);
}

std::string StepRows(const RunView& run, const std::string& selected, k8s::WallTime now) {
  std::string out =
      "<table id=\"steps\"><tr><th>step</th><th>phase</th><th>attempts</th><th>duration</th>"
      "<th>details</th></tr>\n";
  for (const auto& s : run.steps) {
    std::string outputs;
    for (const auto& [k, v] : s.outputs)
      outputs += "<br><span class=\"muted\">" + HtmlEscape(k) + "=" + HtmlEscape(v) + "</span>";
    const std::string name =
        s.name == selected ? "<b>" + HtmlEscape(s.name) + "</b>" : HtmlEscape(s.name);
    out += "<tr><td>" + std::string(static_cast<size_t>(s.depth) * 2, ' ') + "<a href=\"" +
           HtmlEscape(RunLink(run.ns, run.name, s.name)) + "\">" + name + "</a></td><td>" +
           Phase(s.phase) + "</td><td>" + (s.attempts > 0 ? std::to_string(s.attempts) : "") +
           "</td><td>" + Since(s.start_time, s.completion_time, now) + "</td><td>" +
           HtmlEscape(StepDetails(s, run)) + outputs + "</td></tr>\n";
  }
  return out + "</table>\n";
}

std::string StepDetail(const RunPageInput& in) {
  const StepView* s = in.run->Find(in.selected);
  if (s == nullptr) return "";
  std::string out = "<h2 id=\"step\">step " + HtmlEscape(s->name) + "</h2>\n<table>";
  auto row = [&out](const std::string& k, const std::string& v) {
    if (!v.empty()) out += "<tr><th>" + k + "</th><td>" + v + "</td></tr>";
  };
  row("phase", Phase(s->phase));
  row("type", HtmlEscape(s->type));
  row("after", HtmlEscape([&] {
        std::string d;
        for (const auto& x : s->depends_on) d += (d.empty() ? "" : ", ") + x;
        return d;
      }()));
  row("attempts", s->attempts > 0 ? std::to_string(s->attempts) : "");
  row("job", HtmlEscape(s->job_name));
  row("reason", HtmlEscape(s->reason));
  row("message", s->message.empty() ? "" : "<pre>" + HtmlEscape(s->message) + "</pre>");
  if (s->fan_out) row("children", HtmlEscape(ChildrenSummary(*s)));
  for (const auto& [k, v] : s->outputs) row("output " + HtmlEscape(k), HtmlEscape(v));
  out += "</table>\n<h2>log" +
         (in.logs_pod.empty()
              ? ""
              : " <span class=\"muted\">(pod " + HtmlEscape(in.logs_pod) + ")</span>") +
         "</h2>\n<pre id=\"log\">" + HtmlEscape(in.logs) + "</pre>\n";
  return out;
}

}  // namespace

std::string RunLink(const std::string& ns, const std::string& run, const std::string& step) {
  std::string link = "/run?ns=" + k8s::QueryEscape(ns) + "&name=" + k8s::QueryEscape(run);
  return step.empty() ? link : link + "&step=" + k8s::QueryEscape(step);
}

std::string ListPage(const std::vector<RunView>& runs, const std::string& ns, k8s::WallTime now,
                     int refresh_seconds) {
  std::string out = Head("stepline: executions in " + ns, refresh_seconds);
  out += "<h1>Executions in namespace " + HtmlEscape(ns) + "</h1>\n";
  if (runs.empty()) return out + "<p>No executions.</p></body></html>\n";
  out +=
      "<table id=\"runs\"><tr><th>name</th><th>pipeline</th><th>status</th><th>progress</th>"
      "<th>duration</th><th>age</th></tr>\n";
  for (const auto& r : runs) {
    out += "<tr><td><a href=\"" + HtmlEscape(RunLink(r.ns, r.name)) + "\">" + HtmlEscape(r.name) +
           "</a></td><td>" + HtmlEscape(r.pipeline) + "</td><td>" + Phase(r.status) + "</td><td>" +
           HtmlEscape(r.progress) + "</td><td>" + Since(r.start_time, r.completion_time, now) +
           "</td><td>" + Since(r.creation_time, "", now) + "</td></tr>\n";
  }
  return out + "</table>\n</body></html>\n";
}

std::string RunPage(const RunPageInput& in, k8s::WallTime now) {
  const RunView& run = *in.run;
  std::string out = Head("stepline: " + run.name, run.Finished() ? 0 : in.refresh_seconds);
  out += "<p><a href=\"/?ns=" + HtmlEscape(k8s::QueryEscape(run.ns)) + "\">&larr; executions in " +
         HtmlEscape(run.ns) + "</a></p>\n";
  out += "<h1>" + HtmlEscape(run.name) + " " + Phase(run.status) + "</h1>\n";
  out += "<p>pipeline <b>" + HtmlEscape(run.pipeline) + "</b> &middot; progress " +
         HtmlEscape(run.progress) + " &middot; duration " +
         Since(run.start_time, run.completion_time, now) +
         (run.Finished() ? ""
                         : " &middot; <span class=\"muted\">live: reloads every " +
                               std::to_string(in.refresh_seconds) + "s</span>") +
         "</p>\n";
  if (!run.failure_reason.empty()) {
    out += "<p class=\"Failed\">" + HtmlEscape(run.failure_reason) + "</p>\n";
  }
  out += "<div class=\"graph\">" + InlineSvg(in.svg) + "</div>\n";
  out += StepRows(run, in.selected, now);
  out += StepDetail(in);
  return out + "</body></html>\n";
}

std::string ErrorPage(const std::string& title, const std::string& message) {
  return Head("stepline: " + title, 0) + "<p><a href=\"/\">&larr; executions</a></p><h1>" +
         HtmlEscape(title) + "</h1>\n<p class=\"Failed\">" + HtmlEscape(message) +
         "</p>\n</body></html>\n";
}

std::string InlineSvg(const std::string& svg) {
  const size_t start = svg.find("<svg");
  return start == std::string::npos ? "" : svg.substr(start);
}

}  // namespace stepline::cli
