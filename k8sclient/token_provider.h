// TokenProvider: the bearer token to send, kept fresh when it comes from a file (projected
// service account tokens rotate). The file is re-read when the last read is older than the
// refresh period (one minute by default) and at once when Refresh() is called after a 401.
//
// Thread-safe: Token() and Refresh() may be called from any thread (its state is GUARDED_BY mu_).
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "k8sclient/clock.h"
#include "k8sclient/thread_annotations.h"

namespace stepline::k8s {

class TokenProvider {
 public:
  // static_token is used alone when token_file is empty, and as the fallback until the file
  // has been read once. clock must outlive the provider.
  TokenProvider(std::string static_token, std::string token_file, const Clock& clock,
                std::chrono::seconds refresh_period = std::chrono::seconds(60));

  // The token to send now ("" = none).
  std::string Token() EXCLUDES(mu_);
  // Re-reads the file now. True when the token changed (so a request that got 401 is worth
  // retrying once).
  bool Refresh() EXCLUDES(mu_);
  bool file_backed() const { return !token_file_.empty(); }

 private:
  // Reads the file into token_ when possible.
  void ReadLocked() REQUIRES(mu_);

  // Constant after construction.
  const std::string token_file_;
  const Clock& clock_;
  const std::chrono::seconds refresh_period_;

  Mutex mu_;
  std::string token_ GUARDED_BY(mu_);
  std::optional<MonoTime> read_at_ GUARDED_BY(mu_);  // when the file was last read
};

}  // namespace stepline::k8s
