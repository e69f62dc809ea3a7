#include "reconcilers/time_zone.h"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>
#include <utility>

namespace stepline::reconcilers {
namespace {

struct Counts {
  uint32_t isut = 0, isstd = 0, leap = 0, time = 0, type = 0, chars = 0;
};

uint32_t ReadU32(const std::string& b, size_t at) {
  return (static_cast<uint32_t>(static_cast<unsigned char>(b[at])) << 24) |
         (static_cast<uint32_t>(static_cast<unsigned char>(b[at + 1])) << 16) |
         (static_cast<uint32_t>(static_cast<unsigned char>(b[at + 2])) << 8) |
         static_cast<uint32_t>(static_cast<unsigned char>(b[at + 3]));
}

int64_t ReadI64(const std::string& b, size_t at) {
  uint64_t hi = ReadU32(b, at), lo = ReadU32(b, at + 4);
  return static_cast<int64_t>((hi << 32) | lo);
}

// The header at `at`; false when the bytes are not a TZif header.
bool ReadHeader(const std::string& b, size_t at, char* version, Counts* c) {
  if (b.size() < at + 44 || b.compare(at, 4, "TZif") != 0) return false;
  *version = b[at + 4];
  c->isut = ReadU32(b, at + 20);
  c->isstd = ReadU32(b, at + 24);
  c->leap = ReadU32(b, at + 28);
  c->time = ReadU32(b, at + 32);
  c->type = ReadU32(b, at + 36);
  c->chars = ReadU32(b, at + 40);
  return c->type > 0 && c->time < 100000 && c->type < 256;
}

size_t DataSize(const Counts& c, size_t time_size) {
  return c.time * time_size + c.time + size_t{c.type} * 6 + c.chars + c.leap * (time_size + 4) +
         c.isstd + c.isut;
}

// Reads the data block at `at` (after its header).
k8s::Result<TimeZone> ReadData(const std::string& name, const std::string& b, size_t at,
                               const Counts& c, size_t time_size) {
  if (b.size() < at + DataSize(c, time_size)) {
    return k8s::Status::Invalid("time zone " + name + ": truncated zone file");
  }
  std::vector<int64_t> times(c.time);
  for (size_t i = 0; i < c.time; ++i) {
    times[i] =
        time_size == 8 ? ReadI64(b, at + i * 8) : static_cast<int32_t>(ReadU32(b, at + i * 4));
  }
  const size_t index_at = at + c.time * time_size;
  const size_t types_at = index_at + c.time;
  std::vector<int32_t> type_offsets(c.type);
  for (size_t i = 0; i < c.type; ++i) {
    type_offsets[i] = static_cast<int32_t>(ReadU32(b, types_at + i * 6));
  }
  std::vector<int32_t> offsets(c.time);
  for (uint32_t i = 0; i < c.time; ++i) {
    auto type = static_cast<unsigned char>(b[index_at + i]);
    if (type >= c.type) return k8s::Status::Invalid("time zone " + name + ": bad zone file");
    offsets[i] = type_offsets[type];
  }
  if (!std::is_sorted(times.begin(), times.end())) {
    return k8s::Status::Invalid("time zone " + name + ": bad zone file");
  }
  return TimeZone(name, type_offsets[0], std::move(times), std::move(offsets));
}

bool PlainZoneName(const std::string& name) {
  if (name.empty() || name.size() > 255 || name.front() == '/' || name.back() == '/') return false;
  if (name.find("..") != std::string::npos || name.find("//") != std::string::npos) return false;
  return std::all_of(name.begin(), name.end(), [](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) || ch == '/' || ch == '_' || ch == '-' ||
           ch == '+';
  });
}

}  // namespace

TimeZone::TimeZone(std::string name, int32_t initial_offset, std::vector<int64_t> transitions,
                   std::vector<int32_t> offsets)
    : name_(std::move(name)),
      initial_offset_(initial_offset),
      transitions_(std::move(transitions)),
      offsets_(std::move(offsets)) {}

int32_t TimeZone::OffsetAt(int64_t t) const {
  auto it = std::upper_bound(transitions_.begin(), transitions_.end(), t);
  if (it == transitions_.begin()) return initial_offset_;
  return offsets_[static_cast<size_t>(std::distance(transitions_.begin(), it)) - 1];
}

int64_t TimeZone::TransitionAfter(int64_t t) const {
  auto it = std::upper_bound(transitions_.begin(), transitions_.end(), t);
  return it == transitions_.end() ? std::numeric_limits<int64_t>::max() : *it;
}

k8s::Result<TimeZone> ParseTzif(const std::string& name, const std::string& bytes) {
  char version = 0;
  Counts v1;
  if (!ReadHeader(bytes, 0, &version, &v1)) {
    return k8s::Status::Invalid("time zone " + name + ": not a zone file");
  }
  if (version == 0) return ReadData(name, bytes, 44, v1, 4);
  const size_t second = 44 + DataSize(v1, 4);
  Counts v2;
  char version2 = 0;
  if (!ReadHeader(bytes, second, &version2, &v2)) {
    return k8s::Status::Invalid("time zone " + name + ": bad zone file");
  }
  return ReadData(name, bytes, second + 44, v2, 8);
}

k8s::Result<TimeZone> LoadTimeZone(const std::string& name, const std::string& dir) {
  if (name.empty() || name == "UTC") return TimeZone();
  if (!PlainZoneName(name)) {
    return k8s::Status::Invalid("\"" + name + "\" is not an IANA time zone name (such as " +
                                "Europe/Paris or America/New_York)");
  }
  std::ifstream in(dir + "/" + name, std::ios::binary);
  if (!in) return k8s::Status::Invalid("unknown time zone \"" + name + "\"");
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (!in.good() && !in.eof()) {
    return k8s::Status::Invalid("unknown time zone \"" + name + "\"");
  }
  return ParseTzif(name, bytes.str());
}

}  // namespace stepline::reconcilers
