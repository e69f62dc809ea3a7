// A scripted k8s::HttpTransport for unit tests: records every request and answers from a queue.
#pragma once

#include <deque>
#include <string>
#include <vector>

#include "k8sclient/http_transport.h"
#include "k8sclient/thread_annotations.h"

namespace stepline::fakes {

// Thread-safe (the answers and requests are GUARDED_BY mu_).
class FakeTransport final : public k8s::HttpTransport {
 public:
  struct Answer {
    k8s::Result<k8s::HttpResponse> response = k8s::HttpResponse{};
    std::vector<std::string> chunks;  // streamed through on_body for 2xx streams
  };

  void Push(int status, std::string body, std::map<std::string, std::string> headers = {}) {
    k8s::HttpResponse r;
    r.status = status;
    r.body = std::move(body);
    r.headers = std::move(headers);
    Push(Answer{r, {}});
  }
  void PushStream(std::vector<std::string> chunks) {
    k8s::HttpResponse r;
    r.status = 200;
    Push(Answer{r, std::move(chunks)});
  }
  void Push(Answer a) {
    k8s::MutexLock lock(mu_);
    answers_.push_back(std::move(a));
  }

  k8s::Result<k8s::HttpResponse> Do(const k8s::HttpRequest& request) override {
    Answer answer;
    {
      k8s::MutexLock lock(mu_);
      requests_.push_back(request);
      if (answers_.empty()) return k8s::Status::Transport("fake transport: no answer scripted");
      answer = std::move(answers_.front());
      answers_.pop_front();
    }
    if (request.on_body && answer.response.ok() && answer.response->status == 200) {
      for (const auto& chunk : answer.chunks) {
        if (!request.on_body(chunk)) break;
      }
    }
    return answer.response;
  }

  std::vector<k8s::HttpRequest> requests() const {
    k8s::MutexLock lock(mu_);
    return requests_;
  }

 private:
  mutable k8s::Mutex mu_;
  std::deque<Answer> answers_ GUARDED_BY(mu_);
  std::vector<k8s::HttpRequest> requests_ GUARDED_BY(mu_);
};

inline std::string HeaderOf(const k8s::HttpRequest& r, const std::string& name) {
  for (const auto& [n, v] : r.headers) {
    if (n == name) return v;
  }
  return "";
}

}  // namespace stepline::fakes
