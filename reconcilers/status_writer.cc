#include "reconcilers/status_writer.h"

#include <utility>

namespace stepline::reconcilers {

bool IsRefusedStatus(const k8s::Status& s) {
  if (s.IsInvalid() || s.http_code() == 413) return true;
  return s.message().find("request is too large") != std::string::npos ||
         s.message().find("Request entity too large") != std::string::npos;
}

StatusWriter::StatusWriter(const k8s::Resource& resource, k8s::ObjectWriter& writer,
                           ReadYourWritesCache& cache, const k8s::Clock& clock,
                           StatusWriterOptions options)
    : resource_(resource),
      writer_(writer),
      cache_(cache),
      clock_(clock),
      options_(std::move(options)) {}

StatusWriter::Settled StatusWriter::Settle(const k8s::Object& current, const k8s::Object& before,
                                           const k8s::Object& wanted, Change change,
                                           const Reducer& reduce) {
  if (wanted == before) return {};
  if (change == Change::kTransient) {
    if (auto hold = HoldBack(k8s::KeyOf(current))) return {k8s::Status::Ok(), false, hold};
  }
  k8s::Result<k8s::Object> written = Write(current, wanted);
  for (int attempt = 1; !written.ok() && IsRefusedStatus(written.status()) && reduce; ++attempt) {
    std::optional<k8s::Object> smaller = reduce(written.status(), attempt);
    if (!smaller) break;
    written = Write(current, *smaller);
  }
  if (!written.ok()) return {written.status()};
  RememberWrite(current, std::move(written).value());
  return {k8s::Status::Ok(), true, std::nullopt};
}

std::optional<std::chrono::milliseconds> StatusWriter::HoldBack(const std::string& key) const {
  if (options_.coalesce.count() <= 0) return std::nullopt;
  k8s::MutexLock lock(mu_);
  auto last = last_write_.find(key);
  if (last == last_write_.end()) return std::nullopt;  // not written by this writer yet
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(last->second + options_.coalesce -
                                                                 clock_.MonotonicNow());
  if (left.count() <= 0) return std::nullopt;  // the last write is old enough: write it
  return left;
}

k8s::Result<k8s::Object> StatusWriter::Write(const k8s::Object& current,
                                             const k8s::Object& status) {
  k8s::Object updated = current;
  updated["status"] = status;
  k8s::WriteOptions opts;
  opts.field_manager = options_.field_manager;
  return writer_.UpdateStatus(resource_, k8s::NamespaceOf(current), updated, opts);
}

void StatusWriter::RememberWrite(const k8s::Object& current, k8s::Object written) {
  if (options_.as_cached) options_.as_cached(written);
  cache_.Replaced(current, std::make_shared<const k8s::Object>(std::move(written)));
  if (options_.coalesce.count() <= 0) return;
  const k8s::MonoTime now = clock_.MonotonicNow();
  k8s::MutexLock lock(mu_);
  last_write_[k8s::KeyOf(current)] = now;
  // An object that finished is never settled again to forget its last write.
  constexpr auto kSweepEvery = std::chrono::seconds(30);
  if (now - last_sweep_ < kSweepEvery) return;
  last_sweep_ = now;
  std::erase_if(last_write_,
                [&](const auto& entry) { return now - entry.second > options_.coalesce; });
}

void StatusWriter::Forget(const std::string& key) {
  k8s::MutexLock lock(mu_);
  last_write_.erase(key);
}

}  // namespace stepline::reconcilers
