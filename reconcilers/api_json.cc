#include "reconcilers/api_json.h"

#include <limits>
#include <utility>

namespace stepline::reconcilers {

std::string JoinPath(const std::string& path, std::string_view key) {
  if (path.empty()) return std::string(key);
  std::string out = path;
  out += '.';
  out += key;
  return out;
}

std::string IndexPath(const std::string& path, size_t index) {
  return path + "[" + std::to_string(index) + "]";
}

k8s::Status FieldError(const std::string& path, std::string_view what) {
  return k8s::Status::InvalidArgument((path.empty() ? std::string("object") : path) + ": " +
                                      std::string(what));
}

FieldReader::FieldReader(const Json& object, std::string path)
    : object_(object), path_(std::move(path)) {
  if (!object_.is_object()) status_ = FieldError(path_, "must be an object");
}

Json FieldReader::Unknown() const {
  Json out = Json::object();
  if (!object_.is_object()) return out;
  for (const auto& [key, value] : object_.items()) {
    if (!known_.contains(key)) out[key] = value;
  }
  return out;
}

const Json* FieldReader::Find(std::string_view key) {
  known_.emplace(key);
  if (!ok()) return nullptr;
  auto it = object_.find(key);
  if (it == object_.end() || it->is_null()) return nullptr;
  return &*it;
}

void FieldReader::Fail(std::string_view key, std::string_view what) {
  if (ok()) status_ = FieldError(JoinPath(path_, key), what);
}

void FieldReader::String(std::string_view key, std::string* out) {
  const Json* v = Find(key);
  if (v == nullptr) return;
  if (!v->is_string()) return Fail(key, "must be a string");
  *out = v->get<std::string>();
}

void FieldReader::String(std::string_view key, std::optional<std::string>* out) {
  const Json* v = Find(key);
  if (v == nullptr) return;
  if (!v->is_string()) return Fail(key, "must be a string");
  *out = v->get<std::string>();
}

void FieldReader::Int(std::string_view key, int64_t* out) {
  std::optional<int64_t> value;
  Int(key, &value);
  if (value) *out = *value;
}

void FieldReader::Int(std::string_view key, std::optional<int64_t>* out) {
  const Json* v = Find(key);
  if (v == nullptr) return;
  if (v->is_number_unsigned() &&
      v->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return Fail(key, "must be an integer of at most 64 bits");
  }
  if (!v->is_number_integer()) return Fail(key, "must be an integer");
  *out = v->get<int64_t>();
}

void FieldReader::Number(std::string_view key, std::optional<double>* out) {
  const Json* v = Find(key);
  if (v == nullptr) return;
  if (!v->is_number()) return Fail(key, "must be a number");
  *out = v->get<double>();
}

void FieldReader::Bool(std::string_view key, std::optional<bool>* out) {
  const Json* v = Find(key);
  if (v == nullptr) return;
  if (!v->is_boolean()) return Fail(key, "must be a boolean");
  *out = v->get<bool>();
}

void FieldReader::Time(std::string_view key, std::optional<k8s::WallTime>* out) {
  const Json* v = Find(key);
  if (v == nullptr) return;
  k8s::WallTime t;
  if (!v->is_string() || !k8s::ParseRfc3339(v->get<std::string>(), &t)) {
    return Fail(key, "must be an RFC 3339 time (2006-01-02T15:04:05Z)");
  }
  *out = t;
}

void FieldReader::StringList(std::string_view key, std::vector<std::string>* out) {
  const Json* v = Find(key);
  if (v == nullptr) return;
  if (!v->is_array()) return Fail(key, "must be a list of strings");
  std::vector<std::string> items;
  items.reserve(v->size());
  for (size_t i = 0; i < v->size(); ++i) {
    if (!(*v)[i].is_string()) {
      status_ = FieldError(IndexPath(JoinPath(path_, key), i), "must be a string");
      return;
    }
    items.push_back((*v)[i].get<std::string>());
  }
  *out = std::move(items);
}

void FieldReader::StringMapField(std::string_view key, StringMap* out, bool numbers_as_strings) {
  const Json* v = Find(key);
  if (v == nullptr) return;
  if (!v->is_object()) return Fail(key, "must be an object of strings");
  StringMap map;
  for (const auto& [name, value] : v->items()) {
    if (value.is_string()) {
      map[name] = value.get<std::string>();
    } else if (numbers_as_strings && value.is_number()) {
      map[name] = value.dump();
    } else {
      status_ =
          FieldError(JoinPath(path_, key) + "[" + name + "]",
                     numbers_as_strings ? "must be a string or a number" : "must be a string");
      return;
    }
  }
  *out = std::move(map);
}

void FieldReader::Raw(std::string_view key, Json* out) {
  const Json* v = Find(key);
  if (v != nullptr) *out = *v;
}

void FieldReader::RawList(std::string_view key, Json* out) {
  const Json* v = Find(key);
  if (v == nullptr) return;
  if (!v->is_array()) return Fail(key, "must be a list");
  *out = *v;
}

void FieldReader::Require(std::string_view key) {
  known_.emplace(key);
  if (!ok()) return;
  auto it = object_.find(key);
  if (it == object_.end() || it->is_null()) Fail(key, "is required");
}

FieldWriter::FieldWriter(const Json& unknown)
    : out_(unknown.is_object() ? unknown : Json::object()) {}

void FieldWriter::Erase(std::string_view key) { out_.erase(std::string(key)); }

void FieldWriter::String(std::string_view key, const std::string& value) {
  if (value.empty()) return Erase(key);
  out_[std::string(key)] = value;
}

void FieldWriter::String(std::string_view key, const std::optional<std::string>& value) {
  if (!value) return Erase(key);
  out_[std::string(key)] = *value;
}

void FieldWriter::Int(std::string_view key, int64_t value) { out_[std::string(key)] = value; }

void FieldWriter::Int(std::string_view key, const std::optional<int64_t>& value) {
  if (!value) return Erase(key);
  out_[std::string(key)] = *value;
}

void FieldWriter::Number(std::string_view key, const std::optional<double>& value) {
  if (!value) return Erase(key);
  out_[std::string(key)] = *value;
}

void FieldWriter::Bool(std::string_view key, const std::optional<bool>& value) {
  if (!value) return Erase(key);
  out_[std::string(key)] = *value;
}

void FieldWriter::Time(std::string_view key, const std::optional<k8s::WallTime>& value) {
  if (!value) return Erase(key);
  out_[std::string(key)] = k8s::FormatRfc3339(*value);
}

void FieldWriter::StringList(std::string_view key, const std::vector<std::string>& value) {
  if (value.empty()) return Erase(key);
  out_[std::string(key)] = value;
}

void FieldWriter::StringMapField(std::string_view key, const StringMap& value) {
  if (value.empty()) return Erase(key);
  out_[std::string(key)] = value;
}

void FieldWriter::Raw(std::string_view key, const Json& value) {
  if (value.is_null()) return Erase(key);
  out_[std::string(key)] = value;
}

void FieldWriter::Object(std::string_view key, const Json& value) {
  if (value.is_null() || (value.is_object() && value.empty())) return Erase(key);
  out_[std::string(key)] = value;
}

}  // namespace stepline::reconcilers
