// Path-aware reading and writing of JSON objects, the building blocks of the API types' JSON
// conversion (api_types.h).
//
// FieldReader reads the fields of one JSON object by name, checks their JSON types and names
// the offending field by its full path on error ("spec.steps[2].retryPolicy.maxAttempts: must
// be an integer"). It remembers which fields it was asked about, so the rest can be kept
// verbatim (Unknown()) and written back: a round trip loses nothing. The first error wins; every
// later call is a no-op, so a parse function reads all its fields and checks status() once.
//
// FieldWriter builds an object from the kept unknown fields plus the known ones; it omits unset
// values (empty strings, lists and maps, nullopt), so output is in the canonical form.
//
// Neither throws. Not thread-safe; each is used by one parse or serialize call.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "k8sclient/clock.h"
#include "k8sclient/status.h"

namespace stepline::reconcilers {

using Json = nlohmann::json;
using StringMap = std::map<std::string, std::string>;

// One enumerator and its API spelling ("Container").
template <typename E>
struct EnumName {
  E value;
  const char* name;
};

// The API spelling of value; "" if the table lacks it. Names: a range of EnumName<E>.
template <typename Names, typename E>
const char* EnumToString(const Names& names, E value) {
  for (const auto& n : names) {
    if (n.value == value) return n.name;
  }
  return "";
}

// "Container, Approval, Fail": for error messages.
template <typename Names>
std::string EnumChoices(const Names& names) {
  std::string out;
  for (const auto& n : names) {
    if (!out.empty()) out += ", ";
    out += n.name;
  }
  return out;
}

// "spec.steps" + "name" -> "spec.steps.name"; "" + "spec" -> "spec".
std::string JoinPath(const std::string& path, std::string_view key);
// "spec.steps" + 2 -> "spec.steps[2]".
std::string IndexPath(const std::string& path, size_t index);
// The Status of a parse error: InvalidArgument "<path>: <what>".
k8s::Status FieldError(const std::string& path, std::string_view what);

class FieldReader {
 public:
  // object must outlive the reader. A non-object sets the error "<path>: must be an object".
  FieldReader(const Json& object, std::string path);

  bool ok() const { return status_.ok(); }
  const k8s::Status& status() const { return status_; }
  const std::string& path() const { return path_; }
  // The fields of the object that no call asked about, as an object (possibly empty).
  Json Unknown() const;

  // An absent or null field leaves *out untouched and is not an error.
  void String(std::string_view key, std::string* out);
  void String(std::string_view key, std::optional<std::string>* out);
  void Int(std::string_view key, int64_t* out);
  void Int(std::string_view key, std::optional<int64_t>* out);
  void Number(std::string_view key, std::optional<double>* out);
  void Bool(std::string_view key, std::optional<bool>* out);
  void Time(std::string_view key, std::optional<k8s::WallTime>* out);
  void StringList(std::string_view key, std::vector<std::string>* out);
  // Values must be strings; with numbers_as_strings, numbers are accepted and kept in their
  // JSON spelling (resources: {cpu: 1}).
  void StringMapField(std::string_view key, StringMap* out, bool numbers_as_strings = false);
  // Any JSON value, kept as is (null when absent).
  void Raw(std::string_view key, Json* out);
  // Any JSON list, kept as is (null when absent).
  void RawList(std::string_view key, Json* out);
  // Sets the error "<path>.<key>: is required" when the field is absent or null.
  void Require(std::string_view key);

  // names: a range of EnumName<E>, e.g. kStepTypeNames.
  template <typename Names, typename E>
  void Enum(std::string_view key, const Names& names, std::optional<E>* out);

  // parse: Result<T>(const Json& value, const std::string& path).
  template <typename T, typename ParseFn>
  void Object(std::string_view key, ParseFn parse, std::optional<T>* out);
  template <typename T, typename ParseFn>
  void List(std::string_view key, ParseFn parse, std::vector<T>* out);

 private:
  // The field's value, or nullptr when absent or null; marks the key as known.
  const Json* Find(std::string_view key);
  void Fail(std::string_view key, std::string_view what);

  const Json& object_;
  std::string path_;
  std::set<std::string, std::less<>> known_;
  k8s::Status status_;
};

class FieldWriter {
 public:
  // Starts from the unknown fields kept by a FieldReader (or an empty object).
  explicit FieldWriter(const Json& unknown = Json::object());

  void String(std::string_view key, const std::string& value);  // omitted when empty
  void String(std::string_view key, const std::optional<std::string>& value);
  void Int(std::string_view key, int64_t value);  // always written
  void Int(std::string_view key, const std::optional<int64_t>& value);
  void Number(std::string_view key, const std::optional<double>& value);
  void Bool(std::string_view key, const std::optional<bool>& value);
  void Time(std::string_view key, const std::optional<k8s::WallTime>& value);
  void StringList(std::string_view key, const std::vector<std::string>& value);
  void StringMapField(std::string_view key, const StringMap& value);
  void Raw(std::string_view key, const Json& value);     // omitted when null
  void Object(std::string_view key, const Json& value);  // omitted when null or empty

  template <typename Names, typename E>
  void Enum(std::string_view key, const Names& names, const std::optional<E>& v) {
    if (v) String(key, std::string(EnumToString(names, *v)));
  }
  // to_json: Json(const T&).
  template <typename T, typename ToJsonFn>
  void List(std::string_view key, const std::vector<T>& items, ToJsonFn to_json) {
    if (items.empty()) return Erase(key);
    Json list = Json::array();
    for (const auto& item : items) list.push_back(to_json(item));
    out_[std::string(key)] = std::move(list);
  }

  Json Take() { return std::move(out_); }

 private:
  void Erase(std::string_view key);

  Json out_;
};

// ---- templates ----

template <typename Names, typename E>
void FieldReader::Enum(std::string_view key, const Names& names, std::optional<E>* out) {
  std::optional<std::string> text;
  String(key, &text);
  if (!ok() || !text) return;
  for (const auto& n : names) {
    if (*text == n.name) {
      *out = n.value;
      return;
    }
  }
  Fail(key, "must be one of " + EnumChoices(names) + " (got \"" + *text + "\")");
}

template <typename T, typename ParseFn>
void FieldReader::Object(std::string_view key, ParseFn parse, std::optional<T>* out) {
  const Json* value = Find(key);
  if (!ok() || value == nullptr) return;
  k8s::Result<T> parsed = parse(*value, JoinPath(path_, key));
  if (!parsed.ok()) {
    status_ = parsed.status();
    return;
  }
  *out = std::move(parsed).value();
}

template <typename T, typename ParseFn>
void FieldReader::List(std::string_view key, ParseFn parse, std::vector<T>* out) {
  const Json* value = Find(key);
  if (!ok() || value == nullptr) return;
  if (!value->is_array()) return Fail(key, "must be a list");
  std::string list_path = JoinPath(path_, key);
  std::vector<T> items;
  items.reserve(value->size());
  for (size_t i = 0; i < value->size(); ++i) {
    k8s::Result<T> parsed = parse((*value)[i], IndexPath(list_path, i));
    if (!parsed.ok()) {
      status_ = parsed.status();
      return;
    }
    items.push_back(std::move(parsed).value());
  }
  *out = std::move(items);
}

}  // namespace stepline::reconcilers
