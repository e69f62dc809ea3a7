// A Lambda step's function call (artifacts/invoke.h) against a function played by a small HTTP
// server of this test.
#include "artifacts/invoke.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/artifacts/http_test_server.h"

namespace stepline::artifacts {
namespace {

using k8s::Object;

InvokeOptions Options(const HttpTestServer& server, std::vector<std::string> outputs) {
  InvokeOptions o;
  o.function = "deploy";
  o.url = server.url() + "/fn";
  o.outputs = std::move(outputs);
  o.timeout_seconds = 5;
  return o;
}

TEST(BuildEventTest, StringsAndJsonValuesInOrder) {
  auto event = BuildEvent({{"model_name", "m-1", false},
                           {"count", "3", true},
                           {"config", R"({"a": [1, true]})", true},
                           {"quoted", "say \"hi\"\n", false}});
  ASSERT_TRUE(event.ok()) << event.status().message();
  EXPECT_EQ(event->dump(),
            R"({"config":{"a":[1,true]},"count":3,"model_name":"m-1","quoted":"say \"hi\"\n"})");
}

TEST(BuildEventTest, BadJsonAndRepeatedNamesAreRefused) {
  auto bad = BuildEvent({{"n", "{oops", true}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "event member \"n\": {oops is not JSON");
  auto twice = BuildEvent({{"n", "a", false}, {"n", "b", false}});
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.status().message(), "event member \"n\" is given twice");
}

TEST(InvokeFunctionTest, PostsTheEventAndReadsTheOutputs) {
  HttpTestServer server([](const Request& r) -> Response {
    Object event = Object::parse(r.body);
    return {200, Object{{"statusCode", 200},
                        {"body", "created " + event["endpoint_name"].get<std::string>()},
                        {"other_key", Object{{"x", 1}}},
                        {"unused", "y"}}
                     .dump()};
  });
  InvokeOptions o = Options(server, {"statusCode", "body", "other_key"});
  o.event = {{"endpoint_name", "ep-1"}, {"n", 2}};
  auto outputs = InvokeFunction(o);
  ASSERT_TRUE(outputs.ok()) << outputs.status().message();
  EXPECT_EQ(*outputs,
            (Object{{"statusCode", "200"}, {"body", "created ep-1"}, {"other_key", R"({"x":1})"}}));
  auto calls = server.requests();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].method, "POST");
  EXPECT_EQ(calls[0].path, "/fn");
  EXPECT_EQ(calls[0].content_type, "application/json");
  EXPECT_EQ(calls[0].accept, "application/json");
  EXPECT_EQ(Object::parse(calls[0].body), (Object{{"endpoint_name", "ep-1"}, {"n", 2}}));
}

TEST(InvokeFunctionTest, AFailedCallSaysTheStatusAndTheAnswer) {
  HttpTestServer server([](const Request&) { return Response{502, "Internal Server Error\n"}; });
  auto outputs = InvokeFunction(Options(server, {}));
  ASSERT_FALSE(outputs.ok());
  EXPECT_EQ(outputs.status().message(), "function \"deploy\" (POST " + server.url() +
                                            "/fn) failed: HTTP 502: Internal Server Error");
  EXPECT_EQ(server.requests().size(), 1u);  // not retried: the step's retry policy does that
}

TEST(InvokeFunctionTest, AnAnswerWithoutAnOutputNamesWhatItHas) {
  HttpTestServer server([](const Request&) { return Response{200, R"({"a": 1, "b": 2})"}; });
  auto outputs = InvokeFunction(Options(server, {"a", "c"}));
  ASSERT_FALSE(outputs.ok());
  EXPECT_NE(
      outputs.status().message().find("answered without the output \"c\" (its members: a, b)"),
      std::string::npos)
      << outputs.status().message();
}

TEST(InvokeFunctionTest, AnAnswerThatIsNoJsonObjectIsAnError) {
  for (const char* body : {"[1, 2]", "not json", ""}) {
    HttpTestServer server([body](const Request&) { return Response{200, body}; });
    auto outputs = InvokeFunction(Options(server, {}));
    ASSERT_FALSE(outputs.ok()) << body;
    EXPECT_NE(outputs.status().message().find("not a JSON object"), std::string::npos)
        << outputs.status().message();
  }
}

TEST(InvokeFunctionTest, NoServerIsNoAnswer) {
  std::string url;
  {
    HttpTestServer gone([](const Request&) { return Response{}; });
    url = gone.url();
  }
  InvokeOptions o;
  o.function = "deploy";
  o.url = url;
  o.timeout_seconds = 5;
  auto outputs = InvokeFunction(o);
  ASSERT_FALSE(outputs.ok());
  EXPECT_NE(
      outputs.status().message().find("function \"deploy\" (POST " + url + ") gave no answer"),
      std::string::npos)
      << outputs.status().message();
}

}  // namespace
}  // namespace stepline::artifacts
