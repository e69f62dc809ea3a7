#include "reconcilers/cron.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace stepline::reconcilers {
namespace {

k8s::WallTime At(const char* text) {
  k8s::WallTime t;
  EXPECT_TRUE(k8s::ParseRfc3339(text, &t)) << text;
  return t;
}

std::string Next(const std::string& cron, const std::string& zone, const char* after) {
  k8s::Result<CronSchedule> c = ParseCron(cron);
  EXPECT_TRUE(c.ok()) << c.status().message();
  k8s::Result<TimeZone> tz = LoadTimeZone(zone);
  EXPECT_TRUE(tz.ok()) << tz.status().message();
  if (!c.ok() || !tz.ok()) return "error";
  auto t = NextCronTime(*c, *tz, At(after));
  return t ? k8s::FormatRfc3339(*t) : "never";
}

TEST(CronTest, ParseErrorsNameTheFieldAndProblem) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"61 * * * *", "field 1 (minute): 61 is out of range 0-59"},
      {"* 24 * * *", "field 2 (hour): 24 is out of range 0-23"},
      {"* * 0 * *", "field 3 (day of month): 0 is out of range 1-31"},
      {"* * * 13 *", "field 4 (month): 13 is out of range 1-12"},
      {"* * * * 8", "field 5 (day of week): 8 is out of range 0-7"},
      {"* * * *", "has 4 fields; want 5"},
      {"* * * * * *", "has 6 fields; want 5"},
      {"*/0 * * * *", "field 1 (minute): bad step in \"*/0\""},
      {"5-2 * * * *", "range \"5-2\" ends before it starts"},
      {"MON * * * *", "field 1 (minute): \"MON\" is not a number or range"},
      {"1,,2 * * * *", "empty list element"},
      {"1, * * * *", "empty list element"},
      {"@every 5m", "is not a known macro"},
      {"* * * JANUARY *", "\"JANUARY\" is not a number or range"},
      {"", "has 0 fields"},
  };
  for (const auto& [text, want] : cases) {
    SCOPED_TRACE(text);
    k8s::Result<CronSchedule> c = ParseCron(text);
    ASSERT_FALSE(c.ok());
    EXPECT_NE(c.status().message().find(want), std::string::npos) << c.status().message();
  }
}

TEST(CronTest, NextTimeInUtc) {
  struct Case {
    const char* cron;
    const char* after;
    const char* want;
  };
  const std::vector<Case> cases = {
      {"* * * * *", "2026-12-06T23:04:08Z", "2026-12-06T23:05:00Z"},
      {"* * * * *", "2026-12-06T23:05:00Z", "2026-12-06T23:06:00Z"},  // strictly after
      {"*/15 * * * *", "2026-12-06T23:46:00Z", "2026-12-07T00:00:00Z"},
      {"10-20/5 * * * *", "2026-12-06T10:16:00Z", "2026-12-06T10:20:00Z"},
      {"10-20/5 * * * *", "2026-12-06T10:20:00Z", "2026-12-06T11:10:00Z"},
      {"5/20 * * * *", "2026-12-06T10:26:00Z", "2026-12-06T10:45:00Z"},
      {"0,30 9 * * *", "2026-12-06T09:10:00Z", "2026-12-06T09:30:00Z"},
      {"0 9 * * MON-FRI", "2026-12-04T10:00:00Z", "2026-12-07T09:00:00Z"},  // Fri -> Mon
      {"0 9 * * mon-fri", "2026-12-04T10:00:00Z", "2026-12-07T09:00:00Z"},
      {"0 0 * * 7", "2026-12-01T00:00:00Z", "2026-12-06T00:00:00Z"},  // 7 is Sunday
      {"0 0 * * SUN", "2026-12-01T00:00:00Z", "2026-12-06T00:00:00Z"},
      {"0 0 1 JAN,jul *", "2026-02-01T00:00:00Z", "2026-07-01T00:00:00Z"},
      {"0 0 29 2 *", "2026-03-01T00:00:00Z", "2028-02-29T00:00:00Z"},
      {"0 0 30 2 *", "2026-03-01T00:00:00Z", "never"},
      // Both days restricted: either matches (the 13th, or a Friday).
      {"0 0 13 * FRI", "2026-12-01T00:00:00Z", "2026-12-04T00:00:00Z"},
      {"0 0 13 * FRI", "2026-12-11T00:00:00Z", "2026-12-13T00:00:00Z"},
      // One of them '*': both must match (every 2nd day that is a Monday).
      {"0 0 */2 * MON", "2026-12-01T00:00:00Z", "2026-12-07T00:00:00Z"},
      {"@hourly", "2026-12-06T10:00:00Z", "2026-12-06T11:00:00Z"},
      {"@daily", "2026-12-06T10:00:00Z", "2026-12-07T00:00:00Z"},
      {"@weekly", "2026-12-01T10:00:00Z", "2026-12-06T00:00:00Z"},
      {"@monthly", "2026-12-06T10:00:00Z", "2027-01-01T00:00:00Z"},
      {"@yearly", "2026-12-06T10:00:00Z", "2027-01-01T00:00:00Z"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.cron) + " after " + c.after);
    EXPECT_EQ(Next(c.cron, "UTC", c.after), c.want);
  }
}

TEST(CronTest, TimeZonesAndDaylightSavingTime) {
  struct Case {
    const char* name;
    const char* cron;
    const char* zone;
    const char* after;
    const char* want;
  };
  const std::vector<Case> cases = {
      {"summer offset", "0 9 * * *", "America/New_York", "2026-07-01T00:00:00Z",
       "2026-07-01T13:00:00Z"},
      {"winter offset", "0 9 * * *", "America/New_York", "2026-01-10T00:00:00Z",
       "2026-01-10T14:00:00Z"},
      {"east of UTC, day before in UTC", "30 0 * * *", "Asia/Tokyo", "2026-12-06T00:00:00Z",
       "2026-12-06T15:30:00Z"},
      // Paris, 2026-03-29: 02:00 CET becomes 03:00 CEST (01:00Z); 02:30 does not exist.
      {"gap: runs when clocks change", "30 2 * * *", "Europe/Paris", "2026-03-28T12:00:00Z",
       "2026-03-29T01:00:00Z"},
      {"gap: the day after is normal", "30 2 * * *", "Europe/Paris", "2026-03-29T01:00:00Z",
       "2026-03-30T00:30:00Z"},
      {"gap: every 15 min, one run at the change", "*/15 * * * *", "Europe/Paris",
       "2026-03-29T00:50:00Z", "2026-03-29T01:00:00Z"},
      {"gap: then on in summer time", "*/15 * * * *", "Europe/Paris", "2026-03-29T01:00:00Z",
       "2026-03-29T01:15:00Z"},
      // Paris, 2026-10-25: 03:00 CEST becomes 02:00 CET (01:00Z); 02:30 happens twice.
      {"overlap: first occurrence", "30 2 * * *", "Europe/Paris", "2026-10-24T12:00:00Z",
       "2026-10-25T00:30:00Z"},
      {"overlap: not the second", "30 2 * * *", "Europe/Paris", "2026-10-25T00:30:00Z",
       "2026-10-26T01:30:00Z"},
      {"overlap: every 15 min skips the repeated hour", "*/15 * * * *", "Europe/Paris",
       "2026-10-25T00:45:00Z", "2026-10-25T02:00:00Z"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(Next(c.cron, c.zone, c.after), c.want);
  }
}

TEST(CronTest, LatestMissedTime) {
  auto cron = ParseCron("* * * * *");
  auto hourly = ParseCron("0 * * * *");
  ASSERT_TRUE(cron.ok() && hourly.ok());
  const TimeZone utc;
  // A three-day outage of an every-minute schedule: only the latest time, and "more".
  MissedTimes m =
      LatestCronTime(*cron, utc, At("2026-12-01T00:00:00Z"), At("2026-12-04T10:30:30Z"));
  ASSERT_TRUE(m.latest.has_value());
  EXPECT_EQ(k8s::FormatRfc3339(*m.latest), "2026-12-04T10:30:00Z");
  EXPECT_TRUE(m.earlier_too);
  m = LatestCronTime(*hourly, utc, At("2026-12-04T10:00:00Z"), At("2026-12-04T10:59:59Z"));
  EXPECT_FALSE(m.latest.has_value());
  m = LatestCronTime(*hourly, utc, At("2026-12-04T10:00:00Z"), At("2026-12-04T11:00:00Z"));
  ASSERT_TRUE(m.latest.has_value());
  EXPECT_EQ(k8s::FormatRfc3339(*m.latest), "2026-12-04T11:00:00Z");
  EXPECT_FALSE(m.earlier_too);
  m = LatestCronTime(*hourly, utc, At("2025-01-04T10:00:00Z"), At("2026-12-04T11:20:00Z"));
  ASSERT_TRUE(m.latest.has_value());
  EXPECT_EQ(k8s::FormatRfc3339(*m.latest), "2026-12-04T11:00:00Z");
  EXPECT_TRUE(m.earlier_too);
}

TEST(TimeZoneTest, LoadErrors) {
  EXPECT_EQ(LoadTimeZone("").value().name(), "UTC");
  EXPECT_EQ(LoadTimeZone("UTC").value().OffsetAt(0), 0);
  auto unknown = LoadTimeZone("Mars/Olympus_Mons");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().message(), "unknown time zone \"Mars/Olympus_Mons\"");
  for (const char* bad : {"../../etc/passwd", "/etc/localtime", "Europe/Paris ", "Europe/"}) {
    SCOPED_TRACE(bad);
    auto z = LoadTimeZone(bad);
    ASSERT_FALSE(z.ok());
    EXPECT_NE(z.status().message().find("is not an IANA time zone name"), std::string::npos);
  }
  EXPECT_FALSE(LoadTimeZone("Europe").ok());  // a directory
  EXPECT_FALSE(ParseTzif("X", "TZif2 but too short").ok());
  EXPECT_FALSE(ParseTzif("X", "").ok());
}

TEST(TimeZoneTest, Offsets) {
  auto paris = LoadTimeZone("Europe/Paris");
  ASSERT_TRUE(paris.ok()) << paris.status().message();
  EXPECT_EQ(paris->OffsetAt(1'798'761'600), 3600);  // 2027-01-01: CET
  EXPECT_EQ(paris->OffsetAt(1'783'000'000), 7200);  // 2026-07-02: CEST
}

}  // namespace
}  // namespace stepline::reconcilers
