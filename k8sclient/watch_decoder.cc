#include "k8sclient/watch_decoder.h"

#include <array>
#include <utility>

namespace stepline::k8s {
namespace {

std::string_view TrimSpace(std::string_view text) {
  auto space = [](char c) { return c == ' ' || c == '\r' || c == '\t' || c == '\n'; };
  while (!text.empty() && space(text.front())) text.remove_prefix(1);
  while (!text.empty() && space(text.back())) text.remove_suffix(1);
  return text;
}

}  // namespace

bool ParseWatchEventType(std::string_view text, WatchEvent::Type* out) {
  static constexpr std::array<std::pair<std::string_view, WatchEvent::Type>, 5> kTypes = {{
      {"ADDED", WatchEvent::Type::kAdded},
      {"MODIFIED", WatchEvent::Type::kModified},
      {"DELETED", WatchEvent::Type::kDeleted},
      {"BOOKMARK", WatchEvent::Type::kBookmark},
      {"ERROR", WatchEvent::Type::kError},
  }};
  for (const auto& [name, type] : kTypes) {
    if (name == text) {
      *out = type;
      return true;
    }
  }
  return false;
}

Status WatchDecoder::DecodeLine(std::string_view line, const Sink& sink) {
  line = TrimSpace(line);
  if (line.empty()) return Status::Ok();
  Object parsed = Object::parse(line, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    return Status(StatusCode::kInternal,
                  "watch stream: malformed event: " + std::string(line.substr(0, 200)));
  }
  auto type = parsed.find("type");
  auto object = parsed.find("object");
  WatchEvent event;
  if (type == parsed.end() || !type->is_string() ||
      !ParseWatchEventType(type->get_ref<const std::string&>(), &event.type)) {
    return Status(StatusCode::kInternal,
                  "watch stream: event without a known type: " + std::string(line.substr(0, 200)));
  }
  if (object == parsed.end() || !object->is_object()) {
    return Status(StatusCode::kInternal, "watch stream: event without an object");
  }
  event.object = std::move(*object);
  if (!sink(std::move(event))) stopped_ = true;
  return Status::Ok();
}

Status WatchDecoder::Feed(std::string_view chunk, const Sink& sink) {
  while (!chunk.empty() && !stopped_) {
    size_t newline = chunk.find('\n');
    if (newline == std::string_view::npos) {
      if (pending_.size() + chunk.size() > max_event_bytes_) {
        return Status(StatusCode::kInternal, "watch stream: an event exceeds " +
                                                 std::to_string(max_event_bytes_) + " bytes");
      }
      pending_.append(chunk);
      return Status::Ok();
    }
    Status status;
    if (pending_.empty()) {
      status = DecodeLine(chunk.substr(0, newline), sink);
    } else {  // decoded where it was gathered; the buffer is kept for the next event
      pending_.append(chunk.substr(0, newline));
      status = DecodeLine(pending_, sink);
      Reset();
    }
    if (!status.ok()) return status;
    chunk.remove_prefix(newline + 1);
  }
  return Status::Ok();
}

void WatchDecoder::Reset() {
  if (pending_.capacity() > kKeptBufferBytes) {
    std::string().swap(pending_);  // after an unusually large event: give the memory back
  } else {
    pending_.clear();
  }
}

Status WatchDecoder::Finish(const Sink& sink) {
  if (stopped_ || TrimSpace(pending_).empty()) return Status::Ok();
  std::string line = std::move(pending_);
  pending_.clear();
  Object probe = Object::parse(line, nullptr, /*allow_exceptions=*/false);
  if (probe.is_discarded()) {
    return Status(StatusCode::kTransport, "watch stream ended in the middle of an event");
  }
  return DecodeLine(line, sink);
}

}  // namespace stepline::k8s
