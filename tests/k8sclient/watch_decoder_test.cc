#include "k8sclient/watch_decoder.h"

#include <gtest/gtest.h>

namespace stepline::k8s {
namespace {

const std::string kStream =
    R"j({"type":"ADDED","object":{"apiVersion":"stepline.dev/v1alpha1","kind":"Pipeline","metadata":{"name":"a","namespace":"ml","resourceVersion":"11"}}})j"
    "\n"
    R"j({"type":"MODIFIED","object":{"apiVersion":"stepline.dev/v1alpha1","kind":"Pipeline","metadata":{"name":"a","namespace":"ml","resourceVersion":"12"},"spec":{"text":"é ü \n escaped"}}})j"
    "\n"
    R"j({"type":"BOOKMARK","object":{"kind":"Pipeline","apiVersion":"stepline.dev/v1alpha1","metadata":{"resourceVersion":"15","annotations":{"k8s.io/initial-events-end":"true"}}}})j"
    "\n"
    R"j({"type":"DELETED","object":{"apiVersion":"stepline.dev/v1alpha1","kind":"Pipeline","metadata":{"name":"a","namespace":"ml","resourceVersion":"16"}}})j"
    "\n"
    R"j({"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 1 (16)","reason":"Expired","code":410}})j"
    "\n";

struct Seen {
  WatchEvent::Type type;
  std::string rv;
};

std::vector<Seen> DecodeInPieces(const std::string& stream, std::vector<size_t> cuts) {
  WatchDecoder decoder;
  std::vector<Seen> seen;
  auto sink = [&](WatchEvent&& e) {
    seen.push_back({e.type, ResourceVersionOf(e.object)});
    return true;
  };
  size_t start = 0;
  cuts.push_back(stream.size());
  for (size_t cut : cuts) {
    EXPECT_TRUE(decoder.Feed(std::string_view(stream).substr(start, cut - start), sink).ok());
    start = cut;
  }
  EXPECT_TRUE(decoder.Finish(sink).ok());
  return seen;
}

void ExpectAllEvents(const std::vector<Seen>& seen) {
  ASSERT_EQ(seen.size(), 5u);
  EXPECT_EQ(seen[0].type, WatchEvent::Type::kAdded);
  EXPECT_EQ(seen[1].type, WatchEvent::Type::kModified);
  EXPECT_EQ(seen[1].rv, "12");
  EXPECT_EQ(seen[2].type, WatchEvent::Type::kBookmark);
  EXPECT_EQ(seen[2].rv, "15");
  EXPECT_EQ(seen[3].type, WatchEvent::Type::kDeleted);
  EXPECT_EQ(seen[4].type, WatchEvent::Type::kError);
}

TEST(WatchDecoderTest, EventsSplitAtEveryByteBoundary) {
  for (size_t cut = 0; cut <= kStream.size(); ++cut) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    ExpectAllEvents(DecodeInPieces(kStream, {cut}));
  }
}

TEST(WatchDecoderTest, ByteByByteAndAllAtOnce) {
  std::vector<size_t> every;
  for (size_t i = 1; i < kStream.size(); ++i) every.push_back(i);
  struct Case {
    std::string name;
    std::vector<size_t> cuts;
  };
  std::vector<Case> cases = {{"one byte per read", every}, {"one read", {}}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    ExpectAllEvents(DecodeInPieces(kStream, c.cuts));
  }
}

TEST(WatchDecoderTest, FinalEventWithoutNewlineAndBlankLines) {
  std::string stream = "\n\r\n" + kStream.substr(0, kStream.size() - 1);  // no final '\n'
  ExpectAllEvents(DecodeInPieces(stream, {7, 100}));
}

TEST(WatchDecoderTest, Errors) {
  struct Case {
    std::string name, stream;
    bool feed_fails;  // else Finish fails
  };
  std::vector<Case> cases = {
      {"malformed json", "{\"type\":\"ADDED\",\"object\":{]}\n", true},
      {"unknown type",
       R"j({"type":"SOMETHING","object":{}})j"
       "\n",
       true},
      {"missing object",
       R"j({"type":"ADDED"})j"
       "\n",
       true},
      {"stream cut mid-event", R"({"type":"ADDED","object":{"metadata")", false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    WatchDecoder decoder;
    auto sink = [](WatchEvent&&) { return true; };
    Status fed = decoder.Feed(c.stream, sink);
    EXPECT_EQ(fed.ok(), !c.feed_fails) << fed.ToString();
    if (!c.feed_fails) {
      EXPECT_FALSE(decoder.Finish(sink).ok());
    }
  }
}

TEST(WatchDecoderTest, SinkStopsDecoding) {
  WatchDecoder decoder;
  int seen = 0;
  auto sink = [&](WatchEvent&&) { return ++seen < 2; };
  EXPECT_TRUE(decoder.Feed(kStream, sink).ok());
  EXPECT_EQ(seen, 2);
  EXPECT_TRUE(decoder.stopped());
}

TEST(WatchDecoderTest, OversizedEventIsAnError) {
  WatchDecoder decoder(/*max_event_bytes=*/16);
  auto sink = [](WatchEvent&&) { return true; };
  EXPECT_FALSE(decoder.Feed(std::string(17, 'x'), sink).ok());
}

}  // namespace
}  // namespace stepline::k8s
