#include "k8sclient/clock.h"

#include <cstdio>
#include <ctime>

namespace stepline::k8s {

std::string FormatRfc3339(WallTime t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

bool ParseRfc3339(const std::string& text, WallTime* out) {
  int year = 0, mon = 0, day = 0, hour = 0, min = 0, sec = 0, consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &year, &mon, &day, &hour, &min, &sec,
                  &consumed) != 6) {
    return false;
  }
  size_t pos = static_cast<size_t>(consumed);
  long nanos = 0;
  if (pos < text.size() && text[pos] == '.') {
    long scale = 100'000'000;
    for (++pos; pos < text.size() && text[pos] >= '0' && text[pos] <= '9'; ++pos) {
      nanos += (text[pos] - '0') * scale;
      scale /= 10;
    }
  }
  long offset_secs = 0;
  if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int oh = 0, om = 0;
    if (std::sscanf(text.c_str() + pos + 1, "%2d:%2d", &oh, &om) != 2) return false;
    offset_secs = (long{oh} * 3600 + long{om} * 60) * (text[pos] == '+' ? 1 : -1);
    pos += 6;
  } else if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else {
    return false;
  }
  if (pos != text.size()) return false;
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = min;
  tm.tm_sec = sec;
  std::time_t secs = timegm(&tm);
  if (secs == static_cast<std::time_t>(-1)) return false;
  *out = std::chrono::system_clock::from_time_t(secs - offset_secs) +
         std::chrono::duration_cast<WallTime::duration>(std::chrono::nanoseconds(nanos));
  return true;
}

}  // namespace stepline::k8s
