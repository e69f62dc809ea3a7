#include "k8sclient/api_error.h"

#include <gtest/gtest.h>

namespace stepline::k8s {
namespace {

TEST(ApiErrorTest, DecodesRealShapedStatusBodies) {
  struct Case {
    std::string name;
    int http_code;
    std::string body;
    StatusCode want_code;
    std::string want_reason;
    std::string want_message;
  };
  std::vector<Case> cases = {
      {"not found", 404,
       R"j({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pipelines.stepline.dev \"x\" not found","reason":"NotFound","details":{"name":"x","group":"stepline.dev","kind":"pipelines"},"code":404})j",
       StatusCode::kNotFound, "NotFound", "pipelines.stepline.dev \"x\" not found"},
      {"already exists is not a conflict", 409,
       R"j({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"jobs.batch \"a\" already exists","reason":"AlreadyExists","details":{"name":"a","group":"batch","kind":"jobs"},"code":409})j",
       StatusCode::kAlreadyExists, "AlreadyExists", "jobs.batch \"a\" already exists"},
      {"stale update is a conflict", 409,
       R"j({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Operation cannot be fulfilled on pipelines.stepline.dev \"x\": the object has been modified; please apply your changes to the latest version and try again","reason":"Conflict","details":{"name":"x","group":"stepline.dev","kind":"pipelines"},"code":409})j",
       StatusCode::kConflict, "Conflict",
       "Operation cannot be fulfilled on pipelines.stepline.dev \"x\": the object has been "
       "modified; please apply your changes to the latest version and try again"},
      {"apply conflict", 409,
       R"j({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Apply failed with 1 conflict: conflict with \"other\": .spec.x","reason":"Conflict","details":{"causes":[{"reason":"FieldManagerConflict","message":"conflict with \"other\"","field":".spec.x"}]},"code":409})j",
       StatusCode::kConflict, "Conflict",
       "Apply failed with 1 conflict: conflict with \"other\": .spec.x"},
      {"expired list", 410,
       R"j({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 10 (2000)","reason":"Expired","code":410})j",
       StatusCode::kGone, "Expired", "too old resource version: 10 (2000)"},
      {"gone", 410,
       R"j({"kind":"Status","status":"Failure","message":"gone","reason":"Gone","code":410})j",
       StatusCode::kGone, "Gone", "gone"},
      {"forbidden", 403,
       R"j({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pipelines.stepline.dev is forbidden: User \"nobody\" cannot list resource \"pipelines\" in API group \"stepline.dev\" in the namespace \"ml\"","reason":"Forbidden","details":{"group":"stepline.dev","kind":"pipelines"},"code":403})j",
       StatusCode::kForbidden, "Forbidden",
       "pipelines.stepline.dev is forbidden: User \"nobody\" cannot list resource \"pipelines\" "
       "in API group \"stepline.dev\" in the namespace \"ml\""},
      {"unauthorized", 401,
       R"j({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401})j",
       StatusCode::kUnauthorized, "Unauthorized", "Unauthorized"},
      {"invalid with causes", 422,
       R"j({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Pipeline.stepline.dev \"x\" is invalid: spec.steps: Required value","reason":"Invalid","details":{"name":"x","group":"stepline.dev","kind":"Pipeline","causes":[{"reason":"FieldValueRequired","message":"Required value","field":"spec.steps"}]},"code":422})j",
       StatusCode::kInvalid, "Invalid",
       "Pipeline.stepline.dev \"x\" is invalid: spec.steps: Required value"},
      {"invalid without message uses causes", 422,
       R"j({"kind":"Status","status":"Failure","reason":"Invalid","details":{"causes":[{"message":"Required value","field":"spec.a"},{"message":"bad"}]},"code":422})j",
       StatusCode::kInvalid, "Invalid", "spec.a: Required value; bad"},
      {"too many requests", 429,
       R"j({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"storage is (re)initializing","reason":"TooManyRequests","details":{"retryAfterSeconds":1},"code":429})j",
       StatusCode::kTooManyRequests, "TooManyRequests", "storage is (re)initializing"},
      {"service unavailable", 503,
       R"j({"kind":"Status","status":"Failure","message":"etcd down","reason":"ServiceUnavailable","code":503})j",
       StatusCode::kUnavailable, "ServiceUnavailable", "etcd down"},
      {"server timeout", 504,
       R"j({"kind":"Status","status":"Failure","message":"timeout","reason":"Timeout","code":504})j",
       StatusCode::kTimeout, "Timeout", "timeout"},
      {"internal", 500,
       R"j({"kind":"Status","status":"Failure","message":"boom","reason":"InternalError","code":500})j",
       StatusCode::kInternal, "InternalError", "boom"},
      {"bad request", 400,
       R"j({"kind":"Status","status":"Failure","message":"the body of the request was in an unknown format","reason":"BadRequest","code":400})j",
       StatusCode::kBadRequest, "BadRequest", "the body of the request was in an unknown format"},
      {"unsupported media type", 415,
       R"j({"kind":"Status","status":"Failure","message":"the body of the request was in an unknown format","reason":"UnsupportedMediaType","code":415})j",
       StatusCode::kBadRequest, "UnsupportedMediaType",
       "the body of the request was in an unknown format"},
      {"not a Status: falls back on the HTTP code", 502, "<html>bad gateway</html>",
       StatusCode::kInternal, "", "the server answered HTTP 502: <html>bad gateway</html>"},
      {"plain text from a filter", 429, "Too many requests, please try again later.\n",
       StatusCode::kTooManyRequests, "",
       "the server answered HTTP 429: Too many requests, please try again later."},
      {"empty 404", 404, "", StatusCode::kNotFound, "", "the server answered HTTP 404"},
      {"json that is not a Status", 409, R"j({"kind":"Pipeline"})j", StatusCode::kConflict, "",
       "the server answered HTTP 409: {\"kind\":\"Pipeline\"}"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Status got = DecodeApiError(c.http_code, c.body);
    EXPECT_EQ(got.code(), c.want_code) << got.ToString();
    EXPECT_EQ(got.reason(), c.want_reason);
    EXPECT_EQ(got.message(), c.want_message);
    EXPECT_EQ(got.http_code(), c.http_code);
  }
}

TEST(ApiErrorTest, WatchErrorEventStatusCarriesItsOwnCode) {
  Object status = Object::parse(
      R"j({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 5 (120)","reason":"Expired","code":410})j");
  Status got = StatusFromApiStatus(status, 200);
  EXPECT_TRUE(got.IsGone());
  EXPECT_EQ(got.http_code(), 410);
  EXPECT_EQ(got.ToString(), "Gone (410): too old resource version: 5 (120)");
}

// A starting API server answers "404 page not found" for custom resources until their CRDs are
// loaded (seen on the test server right after a restart): an outage, not a deleted object.
TEST(ApiErrorTest, A404ThatNamesNoObjectIsNotServedForObjectCalls) {
  const std::string named =
      R"j({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods \"p\" not found","reason":"NotFound","details":{"name":"p","kind":"pods"},"code":404})j";
  EXPECT_TRUE(DecodeObjectCallError(404, named).IsNotFound());
  const std::vector<std::string> unrouted = {
      "404 page not found\n", "",
      R"j({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"the server could not find the requested resource","reason":"NotFound","details":{},"code":404})j"};
  for (const std::string& body : unrouted) {
    SCOPED_TRACE(body);
    Status got = DecodeObjectCallError(404, body);
    EXPECT_EQ(got.code(), StatusCode::kUnavailable) << got.ToString();
    EXPECT_EQ(got.reason(), "NotServed");
    EXPECT_EQ(got.http_code(), 404);
    EXPECT_NE(got.message().find("does not serve this resource"), std::string::npos);
    EXPECT_TRUE(DecodeApiError(404, body).IsNotFound());  // a subresource's 404 keeps its class
  }
  EXPECT_EQ(DecodeObjectCallError(409, named).code(), DecodeApiError(409, named).code());
}

TEST(ApiErrorTest, RetryAfterFromDetails) {
  EXPECT_EQ(RetryAfterFromBody(R"j({"kind":"Status","details":{"retryAfterSeconds":3}})j"), 3);
  EXPECT_EQ(RetryAfterFromBody(R"j({"kind":"Status","details":{}})j"), std::nullopt);
  EXPECT_EQ(RetryAfterFromBody("not json"), std::nullopt);
}

}  // namespace
}  // namespace stepline::k8s
