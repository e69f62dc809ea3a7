// Time zones for schedules: the offset from UTC of an IANA zone ("Europe/Paris") at an instant,
// read from the system's tz database (TZif files under /usr/share/zoneinfo, RFC 8536).
//
// The 64-bit data of a version 2+ file is used (version 1: the 32-bit data). After the file's
// last transition the last offset is kept: Debian's files list transitions up to 2037, so later
// changes of daylight saving time are not followed (the footer's POSIX rule is not read).
// Leap-second corrections ("right/" zones) are ignored.
//
// TimeZone is an immutable value; safe to share between threads.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "k8sclient/status.h"

namespace stepline::reconcilers {

inline constexpr const char* kZoneInfoDir = "/usr/share/zoneinfo";

class TimeZone {
 public:
  // UTC.
  TimeZone() = default;
  // transitions ascending (unix seconds); offsets[i] applies from transitions[i] on;
  // initial_offset before the first. Sizes must match.
  TimeZone(std::string name, int32_t initial_offset, std::vector<int64_t> transitions,
           std::vector<int32_t> offsets);

  const std::string& name() const { return name_; }
  // Seconds east of UTC at unix time t.
  int32_t OffsetAt(int64_t t) const;
  // The first transition strictly after t, or INT64_MAX.
  int64_t TransitionAfter(int64_t t) const;

 private:
  std::string name_ = "UTC";
  int32_t initial_offset_ = 0;
  std::vector<int64_t> transitions_;
  std::vector<int32_t> offsets_;
};

// The zone of that IANA name; "" and "UTC" are UTC. Invalid (with a message naming the zone)
// for names that are not plain zone paths, zones that do not exist, and unreadable files.
k8s::Result<TimeZone> LoadTimeZone(const std::string& name, const std::string& dir = kZoneInfoDir);

// Parses the bytes of a TZif file. Invalid when they are not one.
k8s::Result<TimeZone> ParseTzif(const std::string& name, const std::string& bytes);

}  // namespace stepline::reconcilers
