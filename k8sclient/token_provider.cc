#include "k8sclient/token_provider.h"

#include <spdlog/spdlog.h>

#include "k8sclient/config.h"
#include "k8sclient/log.h"

namespace stepline::k8s {

TokenProvider::TokenProvider(std::string static_token, std::string token_file, const Clock& clock,
                             std::chrono::seconds refresh_period)
    : token_file_(std::move(token_file)),
      clock_(clock),
      refresh_period_(refresh_period),
      token_(std::move(static_token)) {}

void TokenProvider::ReadLocked() {
  read_at_ = clock_.MonotonicNow();
  Result<std::string> contents = ReadWholeFile(token_file_);
  if (!contents.ok()) {
    Logger()->warn("token file unreadable, keeping the previous token: {}",
                   contents.status().message());
    return;
  }
  std::string token = std::move(*contents);
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' ')) {
    token.pop_back();
  }
  if (token.empty()) {
    Logger()->warn("token file {} is empty, keeping the previous token", token_file_);
    return;
  }
  token_ = std::move(token);
}

std::string TokenProvider::Token() {
  MutexLock lock(mu_);
  if (file_backed() && (!read_at_ || clock_.MonotonicNow() - *read_at_ >= refresh_period_)) {
    ReadLocked();
  }
  return token_;
}

bool TokenProvider::Refresh() {
  MutexLock lock(mu_);
  if (!file_backed()) return false;
  std::string before = token_;
  ReadLocked();
  return token_ != before;
}

}  // namespace stepline::k8s
