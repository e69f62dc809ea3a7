#include "reconcilers/cron.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <sstream>
#include <vector>

namespace stepline::reconcilers {
namespace {

struct FieldSpec {
  const char* name;
  int min;
  int max;
  const char* const* names;  // names[i] is value min + i; may be null
};

constexpr const char* kMonthNames[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",  "JUL",
                                       "AUG", "SEP", "OCT", "NOV", "DEC", nullptr};
constexpr const char* kDayNames[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", nullptr};

constexpr std::array<FieldSpec, 5> kFields = {{{"minute", 0, 59, nullptr},
                                               {"hour", 0, 23, nullptr},
                                               {"day of month", 1, 31, nullptr},
                                               {"month", 1, 12, kMonthNames},
                                               {"day of week", 0, 7, kDayNames}}};

std::string Upper(std::string s) {
  for (char& ch : s) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return s;
}

// A number or a name of the field; nullopt when neither.
std::optional<int> ReadValue(const std::string& text, const FieldSpec& f) {
  if (!text.empty() && text.size() <= 4 &&
      std::all_of(text.begin(), text.end(), [](char c) { return std::isdigit(c) != 0; })) {
    return std::stoi(text);
  }
  if (f.names == nullptr) return std::nullopt;
  const std::string up = Upper(text);
  for (int i = 0; f.names[i] != nullptr; ++i) {
    if (up == f.names[i]) return f.min + i;
  }
  return std::nullopt;
}

using Bits = std::bitset<64>;

k8s::Status RangeError(const FieldSpec& f, int index, const std::string& problem) {
  return k8s::Status::Invalid("field " + std::to_string(index + 1) + " (" + f.name +
                              "): " + problem);
}

// One element of a list: "*", "N", "A-B", each optionally "/S".
k8s::Status ParseElement(const std::string& elem, const FieldSpec& f, int index, Bits* bits) {
  std::string range = elem;
  int step = 1;
  if (auto slash = elem.find('/'); slash != std::string::npos) {
    range = elem.substr(0, slash);
    std::optional<int> s = ReadValue(elem.substr(slash + 1), FieldSpec{f.name, 0, 0, nullptr});
    if (!s || *s <= 0) return RangeError(f, index, "bad step in \"" + elem + "\"");
    step = *s;
  }
  int lo = f.min, hi = f.max;
  if (range != "*" && range != "?") {
    auto dash = range.find('-');
    std::optional<int> a = ReadValue(range.substr(0, dash), f);
    std::optional<int> b = dash == std::string::npos ? a : ReadValue(range.substr(dash + 1), f);
    if (!a || !b) return RangeError(f, index, "\"" + elem + "\" is not a number or range");
    lo = *a;
    const bool has_step = elem.find('/') != std::string::npos;
    hi = dash == std::string::npos && has_step ? f.max : *b;  // "A/S": A to the end
    for (int v : {*a, *b}) {
      if (v < f.min || v > f.max) {
        return RangeError(f, index,
                          std::to_string(v) + " is out of range " + std::to_string(f.min) + "-" +
                              std::to_string(f.max));
      }
    }
    if (lo > hi) return RangeError(f, index, "range \"" + range + "\" ends before it starts");
  }
  for (int v = lo; v <= hi; v += step) bits->set(static_cast<size_t>(v));
  return k8s::Status::Ok();
}

k8s::Result<Bits> ParseField(const std::string& text, int index) {
  const FieldSpec& f = kFields[static_cast<size_t>(index)];
  Bits bits;
  std::stringstream list(text);
  std::string elem;
  while (std::getline(list, elem, ',')) {
    if (elem.empty()) return RangeError(f, index, "empty list element in \"" + text + "\"");
    k8s::Status s = ParseElement(elem, f, index, &bits);
    if (!s.ok()) return s;
  }
  if (text.empty() || text.back() == ',') {
    return RangeError(f, index, "empty list element in \"" + text + "\"");
  }
  return bits;
}

std::string ExpandMacro(const std::string& text) {
  static const std::pair<const char*, const char*> kMacros[] = {
      {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
      {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
      {"@hourly", "0 * * * *"}};
  for (const auto& [name, expansion] : kMacros) {
    if (text == name) return expansion;
  }
  return text;
}

template <size_t N>
std::bitset<N> Narrow(const Bits& bits) {
  std::bitset<N> out;
  for (size_t i = 0; i < N; ++i) out[i] = bits[i];
  return out;
}

// Days since 1970-01-01 -> civil date (H. Hinnant's algorithm, proleptic Gregorian).
struct Civil {
  int year;
  unsigned month, day;
};
Civil CivilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {static_cast<int>(yoe + era * 400 + (m <= 2)), m, d};
}

bool DayMatches(const CronSchedule& c, int64_t days) {
  const Civil date = CivilFromDays(days);
  if (!c.months[date.month]) return false;
  const bool dom = c.days[date.day];
  const bool dow = c.weekdays[static_cast<size_t>(((days % 7) + 11) % 7)];  // 1970-01-01: Thu
  if (c.days_star || c.weekdays_star) return dom && dow;
  return dom || dow;
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// The instant local time `local` (seconds, as if UTC) names: the first occurrence when it occurs
// twice, the instant clocks change when it falls in a gap.
int64_t LocalToInstant(const TimeZone& zone, int64_t local) {
  const int32_t early = zone.OffsetAt(local - 86400);
  const int32_t late = zone.OffsetAt(local + 86400);
  const int64_t t_early = local - early, t_late = local - late;
  const bool early_ok = zone.OffsetAt(t_early) == early;
  const bool late_ok = zone.OffsetAt(t_late) == late;
  if (early_ok && late_ok) return std::min(t_early, t_late);
  if (early_ok) return t_early;
  if (late_ok) return t_late;
  return zone.TransitionAfter(std::min(t_early, t_late));
}

constexpr int64_t kSearchDays = 3660;  // ten years

}  // namespace

k8s::Result<CronSchedule> ParseCron(const std::string& raw) {
  const std::string text = ExpandMacro(raw);
  if (!text.empty() && text[0] == '@') {
    return k8s::Status::Invalid("\"" + raw + "\" is not a known macro (@yearly, @annually, " +
                                "@monthly, @weekly, @daily, @midnight, @hourly)");
  }
  std::istringstream in(text);
  std::vector<std::string> fields;
  for (std::string f; in >> f;) fields.push_back(f);
  if (fields.size() != 5) {
    return k8s::Status::Invalid("\"" + raw + "\" has " + std::to_string(fields.size()) +
                                " fields; want 5: minute hour day-of-month month day-of-week");
  }
  std::array<Bits, 5> bits;
  for (int i = 0; i < 5; ++i) {
    k8s::Result<Bits> b = ParseField(fields[static_cast<size_t>(i)], i);
    if (!b.ok()) return b.status();
    bits[static_cast<size_t>(i)] = *b;
  }
  CronSchedule c;
  c.minutes = Narrow<60>(bits[0]);
  c.hours = Narrow<24>(bits[1]);
  c.days = Narrow<32>(bits[2]);
  c.months = Narrow<13>(bits[3]);
  if (bits[4][7]) bits[4].set(0);
  c.weekdays = Narrow<7>(bits[4]);
  c.days_star = fields[2][0] == '*' || fields[2][0] == '?';
  c.weekdays_star = fields[4][0] == '*' || fields[4][0] == '?';
  return c;
}

std::optional<k8s::WallTime> NextCronTime(const CronSchedule& cron, const TimeZone& zone,
                                          k8s::WallTime after) {
  const int64_t a = FloorDiv(
      std::chrono::duration_cast<std::chrono::milliseconds>(after.time_since_epoch()).count(),
      1000);
  const int64_t first_day = FloorDiv(a + zone.OffsetAt(a), 86400) - 1;
  for (int64_t day = first_day; day < first_day + kSearchDays; ++day) {
    if (!DayMatches(cron, day)) continue;
    std::optional<int64_t> best;
    for (size_t h = 0; h < 24; ++h) {
      if (!cron.hours[h]) continue;
      for (size_t m = 0; m < 60; ++m) {
        if (!cron.minutes[m]) continue;
        const int64_t t =
            LocalToInstant(zone, day * 86400 + static_cast<int64_t>(h * 3600 + m * 60));
        if (t > a && (!best || t < *best)) best = t;
      }
    }
    if (best) return k8s::WallTime(std::chrono::seconds(*best));
  }
  return std::nullopt;
}

std::string LocalDate(const TimeZone& zone, k8s::WallTime t) {
  const int64_t s = std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
  const Civil c = CivilFromDays(FloorDiv(s + zone.OffsetAt(s), 86400));
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", c.year, c.month, c.day);
  return buf;
}

MissedTimes LatestCronTime(const CronSchedule& cron, const TimeZone& zone, k8s::WallTime after,
                           k8s::WallTime until) {
  using std::chrono::hours;
  MissedTimes out;
  std::optional<k8s::WallTime> first = NextCronTime(cron, zone, after);
  if (!first || *first > until) return out;
  // Start close to `until` so that a long outage of an every-minute schedule costs little.
  for (hours window : {hours(2), hours(48), hours(24 * 62), hours(24 * 800), hours::max()}) {
    k8s::WallTime from = window == hours::max() || until - after <= window ? after : until - window;
    std::optional<k8s::WallTime> t = NextCronTime(cron, zone, from);
    if (!t || *t > until) continue;
    while (true) {
      std::optional<k8s::WallTime> next = NextCronTime(cron, zone, *t);
      if (!next || *next > until) break;
      t = next;
    }
    out.latest = t;
    out.earlier_too = *first < *t;
    return out;
  }
  return out;
}

}  // namespace stepline::reconcilers
