// Decoding a watch response body: newline-delimited JSON events ({"type":..,"object":..}) that
// arrive in arbitrary chunks (an event may be split across reads, several may share one).
//
// Not thread-safe: one decoder per stream, fed from one thread.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "k8sclient/client.h"
#include "k8sclient/status.h"

namespace stepline::k8s {

// Maps "ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"; false for anything else.
bool ParseWatchEventType(std::string_view text, WatchEvent::Type* out);

class WatchDecoder {
 public:
  // Called once per complete event; return false to stop decoding (Feed then returns OK and
  // the decoder is done).
  using Sink = std::function<bool(WatchEvent&&)>;

  explicit WatchDecoder(size_t max_event_bytes = 64 << 20) : max_event_bytes_(max_event_bytes) {}

  // Appends a chunk and emits every event it completes. An error (malformed JSON, unknown
  // type, an event larger than the limit) stops the decoder.
  Status Feed(std::string_view chunk, const Sink& sink);
  // End of stream: decodes a final event not followed by a newline. Error if it is partial.
  Status Finish(const Sink& sink);
  // True once the sink returned false.
  bool stopped() const { return stopped_; }

 private:
  Status DecodeLine(std::string_view line, const Sink& sink);
  // Empties pending_, keeping its memory for the next event unless it grew past
  // kKeptBufferBytes: one buffer per stream, not one allocation per event.
  void Reset();

  static constexpr size_t kKeptBufferBytes = 1 << 20;

  const size_t max_event_bytes_;
  std::string pending_;  // bytes of the event not yet terminated by '\n'
  bool stopped_ = false;
};

}  // namespace stepline::k8s
