#include "k8sclient/object_fields.h"

#include <cstdint>
#include <ctime>
#include <string_view>

namespace stepline::k8s {

const Object& Child(const Object& obj, const char* key) {
  static const Object kNull;
  if (!obj.is_object()) return kNull;
  // A lookup by string_view: the object's map compares transparently (std::less<>), so no
  // std::string is made for the key.
  const auto& fields = obj.get_ref<const Object::object_t&>();
  auto it = fields.find(std::string_view(key));
  return it == fields.end() ? kNull : it->second;
}

const std::string& StringField(const Object& obj, const char* key) {
  static const std::string kEmpty;
  const Object& v = Child(obj, key);
  return v.is_string() ? v.get_ref<const std::string&>() : kEmpty;
}

const Object& ObjectField(const Object& obj, const char* key) {
  static const Object kEmpty = Object::object();
  const Object& v = Child(obj, key);
  return v.is_object() ? v : kEmpty;
}

const Object& ArrayField(const Object& obj, const char* key) {
  static const Object kEmpty = Object::array();
  const Object& v = Child(obj, key);
  return v.is_array() ? v : kEmpty;
}

std::optional<int64_t> IntField(const Object& obj, const char* key) {
  const Object& v = Child(obj, key);
  if (!v.is_number_integer()) return std::nullopt;
  return v.get<int64_t>();
}

bool BoolField(const Object& obj, const char* key, bool fallback) {
  const Object& v = Child(obj, key);
  return v.is_boolean() ? v.get<bool>() : fallback;
}

namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil); linear
// in day, as timegm is for days past the month's end.
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

// The form the API server writes, "2006-01-02T15:04:05Z", read without sscanf; anything else
// goes to ParseRfc3339, whose result this equals for this form.
bool ParseTime(const std::string& s, WallTime* out) {
  static constexpr char kShape[] = "dddd-dd-ddTdd:dd:ddZ";
  bool simple = s.size() == sizeof(kShape) - 1;
  for (size_t i = 0; simple && i < s.size(); ++i) {
    simple = kShape[i] == 'd' ? (s[i] >= '0' && s[i] <= '9') : s[i] == kShape[i];
  }
  auto num = [&s](size_t at, size_t len) {
    int64_t v = 0;
    for (size_t i = at; i < at + len; ++i) v = v * 10 + (s[i] - '0');
    return v;
  };
  int64_t month = simple ? num(5, 2) : 0;
  if (!simple || month < 1 || month > 12) return ParseRfc3339(s, out);
  int64_t secs = DaysFromCivil(num(0, 4), month, num(8, 2)) * 86400 + num(11, 2) * 3600 +
                 num(14, 2) * 60 + num(17, 2);
  *out = std::chrono::system_clock::from_time_t(static_cast<std::time_t>(secs));
  return true;
}

}  // namespace

std::optional<WallTime> TimeField(const Object& obj, const char* key) {
  const Object& v = Child(obj, key);
  WallTime t;
  if (v.is_string() && ParseTime(v.get_ref<const std::string&>(), &t)) return t;
  return std::nullopt;
}

const Object* ConditionOf(const Object& obj, const char* type) {
  const Object& conds = Child(Child(obj, "status"), "conditions");
  if (!conds.is_array()) return nullptr;
  for (const auto& c : conds) {
    const Object& t = Child(c, "type");
    if (t.is_string() && t.get_ref<const std::string&>() == type) return &c;
  }
  return nullptr;
}

const Object* TrueCondition(const Object& obj, const char* type) {
  const Object& conds = Child(Child(obj, "status"), "conditions");
  if (!conds.is_array()) return nullptr;
  for (const auto& c : conds) {
    if (StringField(c, "type") == type && StringField(c, "status") == "True") return &c;
  }
  return nullptr;
}

std::optional<WallTime> CreationTime(const Object& obj) {
  return TimeField(Child(obj, "metadata"), "creationTimestamp");
}

std::vector<std::string> OwnerUids(const Object& obj) {
  std::vector<std::string> uids;
  auto meta = obj.find("metadata");
  if (meta == obj.end() || !meta->is_object()) return uids;
  auto refs = meta->find("ownerReferences");
  if (refs == meta->end() || !refs->is_array()) return uids;
  for (const auto& ref : *refs) {
    auto uid = ref.is_object() ? ref.find("uid") : ref.end();
    if (uid != ref.end() && uid->is_string()) uids.push_back(uid->get<std::string>());
  }
  return uids;
}

bool IsBeingDeleted(const Object& obj) {
  return !Child(Child(obj, "metadata"), "deletionTimestamp").is_null();
}

const std::string& Annotation(const Object& obj, const char* key) {
  static const std::string kEmpty;
  const Object& v = Child(Child(Child(obj, "metadata"), "annotations"), key);
  return v.is_string() ? v.get_ref<const std::string&>() : kEmpty;
}

std::optional<WallTime> AnnotationTime(const Object& obj, const char* key) {
  const std::string& v = Annotation(obj, key);
  WallTime t;
  if (!v.empty() && ParseTime(v, &t)) return t;
  return std::nullopt;
}

}  // namespace stepline::k8s
