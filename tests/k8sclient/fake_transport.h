// A scripted HttpTransport for unit tests: records every request and answers from a queue.
#pragma once

#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "k8sclient/http_transport.h"

namespace stepline::k8s::testing {

// Thread-safe (mu_).
class FakeTransport final : public HttpTransport {
 public:
  struct Answer {
    Result<HttpResponse> response = HttpResponse{};
    std::vector<std::string> chunks;  // streamed through on_body for 2xx streams
  };

  void Push(int status, std::string body, std::map<std::string, std::string> headers = {}) {
    HttpResponse r;
    r.status = status;
    r.body = std::move(body);
    r.headers = std::move(headers);
    Push(Answer{r, {}});
  }
  void PushStream(std::vector<std::string> chunks) {
    HttpResponse r;
    r.status = 200;
    Push(Answer{r, std::move(chunks)});
  }
  void Push(Answer a) {
    std::lock_guard lock(mu_);
    answers_.push_back(std::move(a));
  }

  Result<HttpResponse> Do(const HttpRequest& request) override {
    Answer answer;
    {
      std::lock_guard lock(mu_);
      requests_.push_back(request);
      if (answers_.empty()) return Status::Transport("fake transport: no answer scripted");
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

  std::vector<HttpRequest> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  mutable std::mutex mu_;
  std::deque<Answer> answers_;
  std::vector<HttpRequest> requests_;
};

inline std::string HeaderOf(const HttpRequest& r, const std::string& name) {
  for (const auto& [n, v] : r.headers) {
    if (n == name) return v;
  }
  return "";
}

}  // namespace stepline::k8s::testing
