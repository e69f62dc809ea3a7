// Cron schedules (5 fields, as Kubernetes CronJob and Vixie cron read them) and their times in
// a time zone. Pure; values; safe from any thread.
//
//   minute hour day-of-month month day-of-week
//   field:  *  |  N  |  A-B  |  */S  |  A-B/S  |  A/S (A to the field's end)  | lists "1,5,10-12"
//   month names JAN..DEC, day names SUN..SAT (any case); day-of-week 7 is Sunday; "?" is "*"
//   macros: @yearly (@annually), @monthly, @weekly, @daily (@midnight), @hourly
// When both day-of-month and day-of-week are restricted (neither starts with '*'), a day
// matches when either does (Vixie cron); otherwise both must.
//
// Daylight saving time: a local time that does not exist (clocks go forward over it) runs at
// the instant clocks change; a local time that occurs twice (clocks go back) runs once, at its
// first occurrence.
#pragma once

#include <bitset>
#include <chrono>
#include <optional>
#include <string>

#include "k8sclient/clock.h"
#include "k8sclient/status.h"
#include "reconcilers/time_zone.h"

namespace stepline::reconcilers {

struct CronSchedule {
  std::bitset<60> minutes;
  std::bitset<24> hours;
  std::bitset<32> days;        // 1..31
  std::bitset<13> months;      // 1..12
  std::bitset<7> weekdays;     // 0 = Sunday
  bool days_star = false;      // day-of-month starts with '*'
  bool weekdays_star = false;  // day-of-week starts with '*'
};

// Invalid with a message naming the field and the problem ("field 2 (hour): 25 is out of range
// 0-23"); the caller prefixes the object's field path.
k8s::Result<CronSchedule> ParseCron(const std::string& raw);

// The first scheduled instant strictly after `after` (whole seconds), or nullopt when none
// comes within ten years (e.g. "0 0 30 2 *").
std::optional<k8s::WallTime> NextCronTime(const CronSchedule& cron, const TimeZone& zone,
                                          k8s::WallTime after);

// The scheduled instants in (after, until]: the latest one and whether there were more.
struct MissedTimes {
  std::optional<k8s::WallTime> latest;
  bool earlier_too = false;  // at least one more before `latest`
};
MissedTimes LatestCronTime(const CronSchedule& cron, const TimeZone& zone, k8s::WallTime after,
                           k8s::WallTime until);

// The date of t in the zone, "YYYY-MM-DD".
std::string LocalDate(const TimeZone& zone, k8s::WallTime t);

}  // namespace stepline::reconcilers
