// Helpers shared by the k8sclient unit tests.
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <vector>

#include "k8sclient/clock.h"
#include "k8sclient/rate_limiter.h"

namespace stepline::k8s::testing {

// A temporary directory removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "k8sclient-test-XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }
  std::string Write(const std::string& name, const std::string& contents) const {
    std::string file = path_ + "/" + name;
    std::filesystem::create_directories(std::filesystem::path(file).parent_path());
    std::ofstream(file, std::ios::binary) << contents;
    return file;
  }

 private:
  std::string path_;
};

// A Sleeper that does not sleep: it records each wait and advances the fake clock by it.
// Thread-safe.
class RecordingSleeper final : public Sleeper {
 public:
  explicit RecordingSleeper(FakeClock& clock) : clock_(clock) {}
  bool SleepFor(std::chrono::nanoseconds d, const std::atomic<bool>* cancel) override {
    if (cancel != nullptr && cancel->load()) return false;
    {
      std::lock_guard lock(mu_);
      waits_.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(d));
    }
    clock_.Advance(d);
    return true;
  }
  std::vector<std::chrono::milliseconds> waits() const {
    std::lock_guard lock(mu_);
    return waits_;
  }

 private:
  FakeClock& clock_;
  mutable std::mutex mu_;
  std::vector<std::chrono::milliseconds> waits_;
};

}  // namespace stepline::k8s::testing
