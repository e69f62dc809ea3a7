// Step caching, the pure half (step_cache.h): durations, the key, the index in its ConfigMap.
#include "reconcilers/step_cache.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <limits>

#include "reconcilers/job_builder.h"

namespace stepline::reconcilers {
namespace {

using k8s::WallTime;

constexpr const char* kDurationHelp =
    "must be an ISO-8601 duration such as P30D or PT12H (SageMaker's 30d and T12H too)";
constexpr int64_t kMaxDurationSeconds = int64_t{100} * 365 * 86400;  // a century

struct DurationUnit {
  char letter;
  bool time_part;  // after 'T'
  int64_t seconds;
};
constexpr DurationUnit kDurationUnits[] = {
    {'Y', false, int64_t{365} * 86400},
    {'M', false, int64_t{30} * 86400},
    {'W', false, int64_t{7} * 86400},
    {'D', false, 86400},
    {'H', true, 3600},
    {'M', true, 60},
    {'S', true, 1},
};

k8s::Status DurationError(std::string_view text, const std::string& what) {
  return k8s::Status::Invalid("\"" + std::string(text) + "\" " + what);
}

// The next unit after `from` (in the order of kDurationUnits) with this letter and part.
std::optional<size_t> UnitIndex(char letter, bool time_part, size_t from) {
  for (size_t i = from; i < std::size(kDurationUnits); ++i) {
    if (kDurationUnits[i].letter == letter && kDurationUnits[i].time_part == time_part) return i;
  }
  return std::nullopt;
}

Json DependencyJson(const StepValues& v) {
  Json outputs = Json::object(), artifacts = Json::object();
  for (const auto& [k, val] : v.outputs) outputs[k] = val;
  for (const auto& [k, val] : v.artifacts) artifacts[k] = val;
  return {{"phase", v.phase}, {"outputs", outputs}, {"artifacts", artifacts}};
}

Json EnvJson(const std::vector<EnvVar>& env) {
  Json out = Json::array();
  for (const EnvVar& e : env) {
    Json from = nullptr;
    if (e.value_from && e.value_from->secret_key_ref) {
      const KeySelector& k = *e.value_from->secret_key_ref;
      from = {{"secretKeyRef", {k.name, k.key}}};
    } else if (e.value_from && e.value_from->config_map_key_ref) {
      const KeySelector& k = *e.value_from->config_map_key_ref;
      from = {{"configMapKeyRef", {k.name, k.key}}};
    }
    out.push_back({e.name, e.value.value_or(""), from});
  }
  return out;
}

Json ArtifactsJson(const std::vector<Artifact>& list,
                   const std::map<std::string, std::string>* uris) {
  Json out = Json::array();
  for (const Artifact& a : list) {
    std::string uri = a.s3;
    if (uris != nullptr) {
      auto it = uris->find(a.name);
      uri = it == uris->end() ? "" : it->second;
    }
    // How an output is stored changes what its URI holds: one .tar.gz or the files.
    Json entry = {a.name, a.path, uri, a.archive == "tgz" ? "tgz" : ""};
    if (a.raw) entry.push_back(*a.raw);  // a raw input's rendered text (keys without it unchanged)
    out.push_back(std::move(entry));
  }
  return out;
}

// A Notebook step's notebook: path, kernel and the rendered parameters.
Json NotebookJson(const Step& s) {
  if (!s.notebook) return nullptr;
  return {{"path", s.notebook->path},
          {"kernel", s.notebook->kernel},
          {"parameters", s.notebook->parameters}};
}

// What the key hashes: the canonical JSON (object members sorted) of the key's inputs.
Json KeyDocument(const StepCacheKeyInput& in) {
  const Step& s = *in.step;
  Json resources = Json::object();
  if (s.resources)
    resources = {{"requests", s.resources->requests}, {"limits", s.resources->limits}};
  Json parameters = Json::object();
  for (const auto& [name, value] : in.parameters) parameters[name] = value;
  Json dependencies = Json::object();
  for (const auto& [name, values] : in.dependencies) dependencies[name] = DependencyJson(values);
  Json doc = {{"version", 2},  // 2: an artifact's archive
              {"pipeline", in.pipeline},
              {"step", s.name},
              {"image", s.image},
              {"command", s.command},
              {"args", s.args},
              {"workingDir", s.working_dir},
              {"env", EnvJson(s.env)},
              {"resources", resources},
              {"nodeSelector", s.node_selector},
              {"parameters", parameters},
              {"dependencies", dependencies},
              {"inputs", ArtifactsJson(s.input_artifacts, &in.input_uris)},
              {"outputs", ArtifactsJson(s.output_artifacts, nullptr)},
              {"notebook", NotebookJson(s)}};
  if (s.transform) {  // a Transform step's batch transform (keys of other steps unchanged)
    Step only;
    only.transform = s.transform;
    doc["transform"] = ToJson(only)["transform"];
  }
  return doc;
}

std::string Sha256Hex(const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0xf];
  }
  return out;
}

bool IsKey(const std::string& s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return std::isdigit(static_cast<unsigned char>(c)) || (c >= 'a' && c <= 'f');
         });
}

std::optional<StepCacheEntry> ParseEntry(const std::string& key, const Json& text) {
  if (!IsKey(key) || !text.is_string()) return std::nullopt;
  Json j = Json::parse(text.get<std::string>(), nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  FieldReader r(j, key);
  StepCacheEntry e;
  e.key = key;
  std::optional<WallTime> finished;
  r.String("pipeline", &e.pipeline);
  r.String("execution", &e.execution);
  r.String("step", &e.step);
  r.Int("attempt", &e.attempt);
  r.Time("finished", &finished);
  r.Time("expires", &e.expires);
  r.StringMapField("outputs", &e.outputs);
  r.StringMapField("artifacts", &e.artifacts);
  if (!r.ok() || !finished || e.execution.empty()) return std::nullopt;
  e.finished = *finished;
  return e;
}

std::string EntryText(const StepCacheEntry& e) {
  FieldWriter w;
  w.String("pipeline", e.pipeline);
  w.String("execution", e.execution);
  w.String("step", e.step);
  w.Int("attempt", e.attempt);
  w.Time("finished", e.finished);
  w.Time("expires", e.expires);
  w.StringMapField("outputs", e.outputs);
  w.StringMapField("artifacts", e.artifacts);
  return w.Take().dump();
}

bool Expired(const StepCacheEntry& e, WallTime now) { return e.expires && *e.expires <= now; }

// What an entry takes in the ConfigMap's data, as JSON: "key": "escaped text",
size_t EntryBytes(const StepCacheEntry& e) {
  return e.key.size() + Json(EntryText(e)).dump().size() + 4;
}

// Drops the oldest entries until the index is within its bounds.
void Bound(StepCacheIndex* index) {
  std::vector<std::pair<const StepCacheEntry*, size_t>> by_age;
  size_t bytes = 0;
  for (const auto& [key, e] : index->entries) {
    by_age.emplace_back(&e, EntryBytes(e));
    bytes += by_age.back().second;
  }
  std::sort(by_age.begin(), by_age.end(),
            [](const auto& a, const auto& b) { return a.first->finished < b.first->finished; });
  std::vector<std::string> drop;
  size_t count = by_age.size();
  for (const auto& [e, size] : by_age) {
    if (count <= kMaxStepCacheEntries && bytes <= kMaxStepCacheBytes) break;
    drop.push_back(e->key);
    bytes -= size;
    --count;
  }
  for (const auto& key : drop) index->entries.erase(key);
}

}  // namespace

k8s::Result<std::chrono::seconds> ParseIsoDuration(std::string_view text) {
  const size_t begin = !text.empty() && (text[0] == 'P' || text[0] == 'p') ? 1 : 0;
  if (text.size() < begin + 2) return DurationError(text, kDurationHelp);
  int64_t total = 0;
  bool time_part = false, any = false;
  size_t next_unit = 0;
  for (size_t i = begin; i < text.size();) {
    char c = static_cast<char>(std::toupper(static_cast<unsigned char>(text[i])));
    if (c == 'T' && !time_part) {
      time_part = true;
      ++i;
      continue;
    }
    size_t start = i;
    int64_t n = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])) && n < 1e12) {
      n = n * 10 + (text[i++] - '0');
    }
    if (i == start || i == text.size()) return DurationError(text, kDurationHelp);
    char letter = static_cast<char>(std::toupper(static_cast<unsigned char>(text[i++])));
    std::optional<size_t> unit = UnitIndex(letter, time_part, next_unit);
    if (!unit) return DurationError(text, kDurationHelp);
    next_unit = *unit + 1;
    if (n > kMaxDurationSeconds / kDurationUnits[*unit].seconds) {
      return DurationError(text, "is longer than a century");
    }
    total += n * kDurationUnits[*unit].seconds;
    any = true;
  }
  if (!any || text.back() == 'T' || text.back() == 't') return DurationError(text, kDurationHelp);
  if (total > kMaxDurationSeconds) return DurationError(text, "is longer than a century");
  if (total == 0) return DurationError(text, "must be longer than 0 seconds");
  return std::chrono::seconds(total);
}

bool StepCached(const Step& s) {
  StepType type = s.type.value_or(StepType::kContainer);
  return (type == StepType::kContainer || type == StepType::kNotebook) && s.for_each.empty() &&
         s.cache && s.cache->enabled.value_or(false);
}

std::string StepCacheKey(const StepCacheKeyInput& in) { return Sha256Hex(KeyDocument(in).dump()); }

StepCacheIndex ParseStepCacheIndex(const k8s::Object& config_map) {
  StepCacheIndex index;
  index.resource_version = config_map.value("/metadata/resourceVersion"_json_pointer, "");
  auto data = config_map.find("data");
  if (data == config_map.end() || !data->is_object()) return index;
  for (auto it = data->begin(); it != data->end(); ++it) {
    if (auto entry = ParseEntry(it.key(), it.value())) index.entries[it.key()] = std::move(*entry);
  }
  return index;
}

const StepCacheEntry* FindUsableEntry(const StepCacheIndex& index, const std::string& key,
                                      WallTime now, std::optional<std::chrono::seconds> max_age) {
  auto it = index.entries.find(key);
  if (it == index.entries.end() || Expired(it->second, now)) return nullptr;
  if (max_age && it->second.finished + *max_age < now) return nullptr;
  return &it->second;
}

bool AddStepCacheEntry(StepCacheIndex* index, const StepCacheEntry& entry, WallTime now) {
  size_t before = index->entries.size();
  for (auto it = index->entries.begin(); it != index->entries.end();) {
    it = Expired(it->second, now) ? index->entries.erase(it) : std::next(it);
  }
  bool pruned = index->entries.size() != before;
  if (FindUsableEntry(*index, entry.key, now, std::nullopt) != nullptr) return pruned;
  if (Expired(entry, now) || EntryBytes(entry) > kMaxStepCacheEntryBytes) {
    return pruned;
  }
  index->entries[entry.key] = entry;
  Bound(index);
  return true;
}

k8s::Object StepCacheData(const StepCacheIndex& index) {
  k8s::Object data = k8s::Object::object();
  for (const auto& [key, e] : index.entries) data[key] = EntryText(e);
  return data;
}

k8s::Object NewStepCacheConfigMap(const std::string& ns, const StepCacheIndex& index) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata",
           {{"name", kStepCacheConfigMap},
            {"namespace", ns},
            {"labels", {{kStepCacheLabel, "true"}, {kLabelManagedBy, kManagedByValue}}}}},
          {"data", StepCacheData(index)}};
}

}  // namespace stepline::reconcilers
