#include "k8sclient/api_client.h"

#include <utility>

#include "k8sclient/api_error.h"
#include "k8sclient/log.h"
#include "k8sclient/object_fields.h"
#include "k8sclient/watch_decoder.h"

namespace stepline::k8s {

struct ApiServerClient::Call {
  std::string verb;  // for metrics: get, list, watch, create, update, patch, delete
  const Resource* resource = nullptr;
  std::string method;
  std::string path;
  std::string query;  // without '?'
  std::string body;
  std::string content_type;
  bool idempotent = true;  // safe to send again when the first answer may have been lost
  bool retry = true;       // false for streams: the caller resumes them itself
  std::chrono::milliseconds timeout{0};
  std::function<bool(std::string_view)> on_body;
  const std::atomic<bool>* cancel = nullptr;
};

namespace {

bool IsSuccess(int code) { return code >= 200 && code < 300; }

// JSON text of obj; invalid UTF-8 in strings is replaced instead of throwing.
std::string Serialize(const Object& obj) {
  return obj.dump(-1, ' ', false, Object::error_handler_t::replace);
}

void AddParam(std::string* query, std::string_view name, std::string_view value) {
  if (value.empty()) return;
  if (!query->empty()) query->push_back('&');
  query->append(name);
  query->push_back('=');
  query->append(QueryEscape(value));
}

std::string ProductName(const std::string& user_agent) {
  std::string name = user_agent.substr(0, user_agent.find('/'));
  return name.empty() ? "stepline" : name;
}

// The API requires apiVersion and kind on every body; fill them from the resource if absent.
Object WithTypeMeta(const Resource& res, Object obj) {
  if (!obj.is_object()) return obj;
  if (!obj.contains("apiVersion")) obj["apiVersion"] = res.ApiVersion();
  if (!obj.contains("kind")) obj["kind"] = res.kind;
  return obj;
}

Result<Object> ObjectFrom(const Result<HttpResponse>& response) {
  if (!response.ok()) return response.status();
  if (!IsSuccess(response->status)) return DecodeObjectCallError(response->status, response->body);
  Object obj = Object::parse(response->body, nullptr, /*allow_exceptions=*/false);
  if (obj.is_discarded() || !obj.is_object()) {
    return Status(StatusCode::kInternal,
                  "the server sent malformed JSON: " + response->body.substr(0, 200),
                  response->status);
  }
  return obj;
}

AttemptOutcome OutcomeOf(const Result<HttpResponse>& response) {
  if (!response.ok()) return {response.status(), std::nullopt};
  if (IsSuccess(response->status) || response->status < 400) return {Status::Ok(), std::nullopt};
  AttemptOutcome outcome{DecodeObjectCallError(response->status, response->body), std::nullopt};
  outcome.retry_after_seconds = ParseRetryAfter(response->Header("retry-after"));
  if (!outcome.retry_after_seconds)
    outcome.retry_after_seconds = RetryAfterFromBody(response->body);
  return outcome;
}

const char* PatchContentType(PatchType type) {
  switch (type) {
    case PatchType::kMerge:
      return "application/merge-patch+json";
    case PatchType::kJson:
      return "application/json-patch+json";
    case PatchType::kApply:
      return "application/apply-patch+yaml";
  }
  return "application/merge-patch+json";
}

std::string ListQuery(const ListOptions& opts) {
  std::string query;
  AddParam(&query, "labelSelector", opts.label_selector);
  AddParam(&query, "fieldSelector", opts.field_selector);
  if (opts.limit > 0) AddParam(&query, "limit", std::to_string(opts.limit));
  AddParam(&query, "continue", opts.continue_token);
  AddParam(&query, "resourceVersion", opts.resource_version);
  return query;
}

std::string WatchQuery(const WatchOptions& opts) {
  std::string query = "watch=true";
  AddParam(&query, "resourceVersion", opts.resource_version);
  if (opts.allow_bookmarks) AddParam(&query, "allowWatchBookmarks", "true");
  if (opts.timeout_seconds > 0)
    AddParam(&query, "timeoutSeconds", std::to_string(opts.timeout_seconds));
  AddParam(&query, "labelSelector", opts.label_selector);
  AddParam(&query, "fieldSelector", opts.field_selector);
  return query;
}

Object DeleteBody(const DeleteOptions& opts) {
  Object body = {{"apiVersion", "v1"}, {"kind", "DeleteOptions"}};
  if (opts.propagation_policy) body["propagationPolicy"] = *opts.propagation_policy;
  if (opts.grace_period_seconds) body["gracePeriodSeconds"] = *opts.grace_period_seconds;
  if (opts.precondition_uid) body["preconditions"]["uid"] = *opts.precondition_uid;
  if (opts.precondition_resource_version) {
    body["preconditions"]["resourceVersion"] = *opts.precondition_resource_version;
  }
  return body;
}

Result<ObjectList> ListFrom(const Resource& res, Result<Object> body) {
  if (!body.ok()) return body.status();
  ObjectList list;
  Object& obj = *body;
  if (auto meta = obj.find("metadata"); meta != obj.end() && meta->is_object()) {
    list.resource_version = StringField(*meta, "resourceVersion");
    list.continue_token = StringField(*meta, "continue");
  }
  auto items = obj.find("items");
  if (items == obj.end() || !items->is_array()) return list;  // "items": null when empty
  list.items.reserve(items->size());
  for (auto& item : *items) list.items.push_back(WithTypeMeta(res, std::move(item)));
  return list;
}

}  // namespace

std::string QueryEscape(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

ApiServerClient::ApiServerClient(RestConfig config, HttpTransport& transport, const Clock& clock,
                                 ApiClientOptions options)
    : ApiServerClient(std::move(config), &transport, nullptr, clock, std::move(options)) {}

ApiServerClient::ApiServerClient(RestConfig config, HttpTransport* transport,
                                 std::unique_ptr<HttpTransport> owned_transport, const Clock& clock,
                                 ApiClientOptions options)
    : config_(std::move(config)),
      owned_transport_(std::move(owned_transport)),
      transport_(transport != nullptr ? *transport : *owned_transport_),
      clock_(clock),
      options_(std::move(options)),
      owned_sleeper_(options_.sleeper ? nullptr : std::make_unique<ClockSleeper>(clock)),
      sleeper_(options_.sleeper ? *options_.sleeper : *owned_sleeper_),
      limiter_(config_.qps, config_.burst, clock, sleeper_),
      tokens_(config_.bearer_token, config_.token_file, clock) {}

std::unique_ptr<ApiServerClient> ApiServerClient::New(
    const RestConfig& config, const Clock& clock, ApiClientOptions options,
    std::optional<CurlTransportOptions> transport) {
  CurlTransportOptions t = transport ? *transport : CurlTransportOptions::FromRestConfig(config);
  if (transport) {  // TLS material always comes from the config
    CurlTransportOptions tls = CurlTransportOptions::FromRestConfig(config);
    t.ca_pem = tls.ca_pem;
    t.client_cert_pem = tls.client_cert_pem;
    t.client_key_pem = tls.client_key_pem;
    t.insecure_skip_tls_verify = tls.insecure_skip_tls_verify;
  }
  return std::unique_ptr<ApiServerClient>(new ApiServerClient(
      config, nullptr, std::make_unique<CurlTransport>(std::move(t)), clock, std::move(options)));
}

ApiServerClient::~ApiServerClient() = default;

Result<HttpResponse> ApiServerClient::SendOnce(const Call& call) {
  if (Status s = limiter_.Wait(call.cancel); !s.ok()) return s;
  HttpRequest req;
  req.method = call.method;
  req.url = config_.server + call.path + (call.query.empty() ? "" : "?" + call.query);
  req.headers.emplace_back("Accept", "application/json");
  if (!call.content_type.empty()) req.headers.emplace_back("Content-Type", call.content_type);
  if (std::string token = tokens_.Token(); !token.empty()) {
    req.headers.emplace_back("Authorization", "Bearer " + token);
  }
  req.body = call.body;
  req.timeout = call.timeout;
  req.on_body = call.on_body;
  req.cancel = call.cancel;
  const MonoTime start = clock_.MonotonicNow();
  Result<HttpResponse> response = transport_.Do(req);
  const auto elapsed = clock_.MonotonicNow() - start;
  const int code = response.ok() ? response->status : 0;
  if (options_.metrics != nullptr) {
    options_.metrics->OnRequest(call.verb, call.resource->GroupResource(), code, elapsed);
  }
  Logger()->debug("request verb={} path={} code={} ms={}", call.verb, call.path, code,
                  std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count());
  return response;
}

Result<HttpResponse> ApiServerClient::Execute(const Call& call) {
  std::optional<Result<HttpResponse>> last;
  bool token_refreshed = false;
  RetryPolicy policy = options_.retry;
  if (!call.retry) policy.max_attempts = 1;
  Status status = RunWithRetries(policy, sleeper_, call.cancel, call.idempotent, [&](int) {
    last = SendOnce(call);
    if (last->ok() && (*last)->status == 401 && !token_refreshed) {
      token_refreshed = true;  // the token may have rotated: re-read it and try once more
      if (tokens_.Refresh()) last = SendOnce(call);
    }
    return OutcomeOf(*last);
  });
  if (status.code() == StatusCode::kCancelled || !last) return status;
  return std::move(*last);
}

Result<Object> ApiServerClient::Get(const Resource& res, const std::string& ns,
                                    const std::string& name) {
  Call call{.verb = "get", .resource = &res, .method = "GET", .path = res.ObjectPath(ns, name)};
  call.timeout = config_.timeout;
  Result<Object> obj = ObjectFrom(Execute(call));
  if (!obj.ok()) return obj;
  return WithTypeMeta(res, std::move(*obj));
}

Result<ObjectList> ApiServerClient::List(const Resource& res, const std::string& ns,
                                         const ListOptions& opts) {
  Call call{.verb = "list", .resource = &res, .method = "GET", .path = res.CollectionPath(ns)};
  call.query = ListQuery(opts);
  call.timeout = std::max(config_.timeout, std::chrono::milliseconds(60'000));
  return ListFrom(res, ObjectFrom(Execute(call)));
}

std::string ApiServerClient::WriteQuery(const WriteOptions& opts, bool apply) const {
  std::string query;
  std::string manager = opts.field_manager;
  if (manager.empty()) manager = options_.field_manager;
  if (manager.empty()) manager = ProductName(config_.user_agent);
  AddParam(&query, "fieldManager", manager);
  if (apply && opts.force) AddParam(&query, "force", "true");
  if (opts.dry_run) AddParam(&query, "dryRun", "All");
  return query;
}

Result<Object> ApiServerClient::Create(const Resource& res, const std::string& ns,
                                       const Object& obj, const WriteOptions& opts) {
  const std::string& target_ns = ns.empty() ? NamespaceOf(obj) : ns;
  Call call{.verb = "create", .resource = &res, .method = "POST"};
  call.path = res.CollectionPath(target_ns);
  call.query = WriteQuery(opts, false);
  call.body = Serialize(WithTypeMeta(res, obj));
  call.content_type = "application/json";
  call.idempotent = false;
  call.timeout = config_.timeout;
  return ObjectFrom(Execute(call));
}

Result<Object> ApiServerClient::Put(const Resource& res, const std::string& ns, const Object& obj,
                                    const WriteOptions& opts, const std::string& subresource) {
  const std::string& target_ns = ns.empty() ? NamespaceOf(obj) : ns;
  if (NameOf(obj).empty()) return Status::InvalidArgument("update: the object has no name");
  Call call{.verb = "update", .resource = &res, .method = "PUT"};
  call.path = res.ObjectPath(target_ns, NameOf(obj)) + subresource;
  call.query = WriteQuery(opts, false);
  call.body = Serialize(WithTypeMeta(res, obj));
  call.content_type = "application/json";
  call.timeout = config_.timeout;
  return ObjectFrom(Execute(call));
}

Result<Object> ApiServerClient::Update(const Resource& res, const std::string& ns,
                                       const Object& obj, const WriteOptions& opts) {
  return Put(res, ns, obj, opts, "");
}

Result<Object> ApiServerClient::UpdateStatus(const Resource& res, const std::string& ns,
                                             const Object& obj, const WriteOptions& opts) {
  return Put(res, ns, obj, opts, "/status");
}

Result<Object> ApiServerClient::Patch(const Resource& res, const std::string& ns,
                                      const std::string& name, PatchType type,
                                      const std::string& body, const WriteOptions& opts,
                                      const std::string& subresource) {
  Call call{.verb = "patch", .resource = &res, .method = "PATCH"};
  call.path = res.ObjectPath(ns, name) + (subresource.empty() ? "" : "/" + subresource);
  call.query = WriteQuery(opts, type == PatchType::kApply);
  call.body = body;
  call.content_type = PatchContentType(type);
  call.idempotent = type != PatchType::kJson;  // a replayed JSON patch may apply twice
  call.timeout = config_.timeout;
  return ObjectFrom(Execute(call));
}

Status ApiServerClient::Delete(const Resource& res, const std::string& ns, const std::string& name,
                               const DeleteOptions& opts) {
  Call call{.verb = "delete", .resource = &res, .method = "DELETE"};
  call.path = res.ObjectPath(ns, name);
  call.body = Serialize(DeleteBody(opts));
  call.content_type = "application/json";
  call.timeout = config_.timeout;
  Result<HttpResponse> response = Execute(call);
  if (!response.ok()) return response.status();
  if (!IsSuccess(response->status)) return DecodeObjectCallError(response->status, response->body);
  return Status::Ok();
}

Status ApiServerClient::Watch(const Resource& res, const std::string& ns, const WatchOptions& opts,
                              const std::function<bool(WatchEvent&&)>& on_event,
                              const std::atomic<bool>* stop) {
  WatchDecoder decoder;
  Status stream_error;
  bool stopped_by_caller = false;
  WatchDecoder::Sink sink = [&](WatchEvent&& event) {
    if (event.type == WatchEvent::Type::kError) {
      stream_error = StatusFromApiStatus(event.object, 0);
      return false;
    }
    if (on_event(std::move(event))) return true;
    stopped_by_caller = true;
    return false;
  };
  Call call{.verb = "watch", .resource = &res, .method = "GET", .path = res.CollectionPath(ns)};
  call.query = WatchQuery(opts);
  call.retry = false;
  call.cancel = stop;
  if (opts.timeout_seconds > 0) call.timeout = std::chrono::seconds(opts.timeout_seconds + 30);
  call.on_body = [&](std::string_view chunk) {
    if (Status s = decoder.Feed(chunk, sink); !s.ok()) stream_error = s;
    return stream_error.ok() && !decoder.stopped();
  };
  Result<HttpResponse> response = Execute(call);
  if (!response.ok()) return response.status();
  if (!stream_error.ok() || stopped_by_caller) return stream_error;
  if (!IsSuccess(response->status)) return DecodeObjectCallError(response->status, response->body);
  if (Status s = decoder.Finish(sink); !s.ok()) return s;
  return stream_error;
}

Status ApiServerClient::GetStream(const Resource& res, const std::string& ns,
                                  const std::string& name, const std::string& subresource,
                                  const std::string& query,
                                  const std::function<bool(std::string_view)>& on_chunk,
                                  const std::atomic<bool>* stop) {
  Call call{.verb = "get", .resource = &res, .method = "GET"};
  call.path = res.ObjectPath(ns, name) + "/" + subresource;
  call.query = query;
  call.retry = false;
  call.cancel = stop;
  call.on_body = on_chunk;
  Result<HttpResponse> response = Execute(call);
  if (!response.ok()) return response.status();
  if (!IsSuccess(response->status)) return DecodeApiError(response->status, response->body);
  return Status::Ok();
}

}  // namespace stepline::k8s
