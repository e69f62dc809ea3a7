// The batch transform client (artifacts/transform.h) against a small HTTP server of this test
// that plays the model server (/ping, /invocations), and the .tar.gz unpacking that stages a
// model into /opt/ml/model (artifacts/tar_gz.h).
#include "artifacts/transform.h"

#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "artifacts/tar_gz.h"
#include "tests/artifacts/http_test_server.h"

namespace stepline::artifacts {
namespace {

namespace fs = std::filesystem;

// A model that answers one line per input line: the first field times two.
Response Doubler(const Request& r) {
  if (r.path == "/ping") return {200, ""};
  std::istringstream lines(r.body);
  std::string line, out;
  while (std::getline(lines, line)) {
    if (!line.empty()) out += std::to_string(2 * std::stoi(line.substr(0, line.find(',')))) + "\n";
  }
  return {200, out};
}

class TransformTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("stepline-transform-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "in");
  }
  void TearDown() override { fs::remove_all(dir_); }

  void Write(const std::string& rel, const std::string& text) {
    fs::create_directories((dir_ / "in" / rel).parent_path());
    std::ofstream(dir_ / "in" / rel, std::ios::binary) << text;
  }
  std::string Read(const std::string& rel) {
    std::ifstream in(dir_ / "out" / rel, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  TransformOptions Options(const HttpTestServer& server) {
    TransformOptions o;
    o.input_dir = (dir_ / "in").string();
    o.output_dir = (dir_ / "out").string();
    o.server = server.url();
    o.ping_timeout_seconds = 5;
    o.retry_delay_ms = 10;
    return o;
  }

  fs::path dir_;
};

TEST_F(TransformTest, LinesInBatchesUpToThePayloadLimit) {
  HttpTestServer server(Doubler);
  Write("a.csv", "1,x\n2,y\n3,z\n4,w\n5,v\n");
  Write("sub/b.csv", "10,q\n\n20,r");  // an empty line, and no newline at the end
  TransformOptions o = Options(server);
  o.split = SplitType::kLine;
  o.content_type = "text/csv";
  o.accept = "text/csv";
  o.max_payload_bytes = 8;  // two 4-byte lines per request
  auto done = RunTransform(o);
  ASSERT_TRUE(done.ok()) << done.status().message();
  EXPECT_EQ(Read("a.csv.out"), "2\n4\n6\n8\n10\n");
  EXPECT_EQ(Read("sub/b.csv.out"), "20\n40\n");
  EXPECT_EQ(done->files, 2);
  EXPECT_EQ(done->records, 7u);
  auto calls = server.requests();
  ASSERT_EQ(calls.size(), 5u);  // a: 2+2+1, b: "10,q\n" then "20,r" (9 bytes > 8)
  EXPECT_EQ(calls[0].body, "1,x\n2,y\n");
  EXPECT_EQ(calls[2].body, "5,v\n");
  EXPECT_EQ(calls[3].body, "10,q\n");
  EXPECT_EQ(calls[4].body, "20,r");
  EXPECT_EQ(calls[0].method, "POST");
  EXPECT_EQ(calls[0].content_type, "text/csv");
  EXPECT_EQ(calls[0].accept, "text/csv");
}

TEST_F(TransformTest, SingleRecordAssembledWithLines) {
  HttpTestServer server([](const Request& r) -> Response {
    if (r.path == "/ping") return {200, ""};
    return {200, "[" + r.body.substr(0, r.body.find('\n')) + "]"};  // no newline of its own
  });
  Write("data", "a\nb\nc\n");
  TransformOptions o = Options(server);
  o.split = SplitType::kLine;
  o.batch = BatchStrategy::kSingleRecord;
  o.assemble = AssembleWith::kLine;
  auto done = RunTransform(o);
  ASSERT_TRUE(done.ok()) << done.status().message();
  EXPECT_EQ(server.requests().size(), 3u);
  EXPECT_EQ(Read("data.out"), "[a]\n[b]\n[c]\n");
  EXPECT_TRUE(server.requests()[0].content_type.empty());  // no ContentType: none sent
}

TEST_F(TransformTest, NoSplitSendsEachFileWholeAndAssemblesAsIs) {
  HttpTestServer server([](const Request& r) -> Response {
    if (r.path == "/ping") return {200, ""};
    return {200, "<" + r.body + ">"};
  });
  Write("one.json", "{\"x\": 1}\n{\"x\": 2}\n");
  Write("two.json", "{}");
  auto done = RunTransform(Options(server));
  ASSERT_TRUE(done.ok()) << done.status().message();
  EXPECT_EQ(server.requests().size(), 2u);
  EXPECT_EQ(Read("one.json.out"), "<{\"x\": 1}\n{\"x\": 2}\n>");
  EXPECT_EQ(Read("two.json.out"), "<{}>");
}

TEST_F(TransformTest, ARecordLargerThanThePayloadLimitFails) {
  HttpTestServer server(Doubler);
  Write("big.csv", "1\n123456789\n");
  TransformOptions o = Options(server);
  o.split = SplitType::kLine;
  o.max_payload_bytes = 4;
  auto done = RunTransform(o);
  ASSERT_FALSE(done.ok());
  EXPECT_NE(done.status().message().find("big.csv: a record at byte 2 is 10 bytes, more than "
                                         "MaxPayloadInMB allows (4 bytes)"),
            std::string::npos)
      << done.status().message();
  o.split = SplitType::kNone;  // the whole file is one record
  done = RunTransform(o);
  ASSERT_FALSE(done.ok());
  EXPECT_NE(done.status().message().find("is 12 bytes"), std::string::npos);
}

TEST_F(TransformTest, AFailedInvocationIsRetriedThenFailsNamingTheAnswer) {
  HttpTestServer server([](const Request& r) -> Response {
    if (r.path == "/ping") return {200, ""};
    return {500, "model exploded\non line 2"};
  });
  Write("x.csv", "1\n2\n");
  TransformOptions o = Options(server);
  o.split = SplitType::kLine;
  o.max_retries = 2;
  auto done = RunTransform(o);
  ASSERT_FALSE(done.ok());
  EXPECT_EQ(done.status().message(),
            "transform: POST " + server.url() +
                "/invocations failed for x.csv (records 1-2) (3 attempt(s)): HTTP 500: model "
                "exploded on line 2");
  EXPECT_EQ(server.requests().size(), 3u);
  EXPECT_FALSE(fs::exists(dir_ / "out" / "x.csv.out"));  // no partial output
  EXPECT_FALSE(fs::exists(dir_ / "out" / "x.csv.out.partial"));
}

TEST_F(TransformTest, ARetrySucceedsAfterOneFailure) {
  std::atomic<int> calls{0};
  HttpTestServer server([&](const Request& r) -> Response {
    if (r.path == "/ping") return {200, ""};
    return ++calls == 1 ? Response{503, "busy"} : Response{200, "ok"};
  });
  Write("x", "payload");
  auto done = RunTransform(Options(server));
  ASSERT_TRUE(done.ok()) << done.status().message();
  EXPECT_EQ(Read("x.out"), "ok");  // the failed attempt's answer is not in the output
}

TEST_F(TransformTest, WaitsForPingAndGivesUpNamingTheLastAnswer) {
  std::atomic<int> pings{0};
  HttpTestServer slow([&](const Request& r) -> Response {
    if (r.path == "/ping") return ++pings < 3 ? Response{503, "loading"} : Response{200, ""};
    return {200, "y"};
  });
  Write("x", "1");
  auto done = RunTransform(Options(slow));
  ASSERT_TRUE(done.ok()) << done.status().message();
  EXPECT_GE(pings.load(), 3);

  HttpTestServer never([](const Request&) { return Response{503, "still loading"}; });
  TransformOptions o = Options(never);
  o.ping_timeout_seconds = 1;
  done = RunTransform(o);
  ASSERT_FALSE(done.ok());
  EXPECT_NE(
      done.status().message().find("the model server did not become ready: GET " + never.url() +
                                   "/ping gave no 200 within 1 s (last: "
                                   "HTTP 503: still loading)"),
      std::string::npos)
      << done.status().message();
  EXPECT_TRUE(never.requests().empty());
}

TEST_F(TransformTest, NoInputFilesIsAnError) {
  HttpTestServer server(Doubler);
  auto done = RunTransform(Options(server));
  ASSERT_FALSE(done.ok());
  EXPECT_NE(done.status().message().find("no input files under"), std::string::npos);
}

std::string RecordIO(const std::string& data, uint32_t flag = 0) {
  std::string out(8, '\0');
  uint32_t magic = 0xced7230aU, word = (flag << 29) | static_cast<uint32_t>(data.size());
  std::memcpy(out.data(), &magic, 4);  // little-endian hosts, as the format
  std::memcpy(out.data() + 4, &word, 4);
  out += data;
  out.append((4 - data.size() % 4) % 4, '\0');
  return out;
}

std::string TFRecord(const std::string& data) {
  std::string out(12, '\0');
  uint64_t length = data.size();
  std::memcpy(out.data(), &length, 8);
  out += data + std::string(4, '\0');
  return out;
}

TEST_F(TransformTest, RecordIOAndTFRecordSplitOnTheirFraming) {
  HttpTestServer server([](const Request& r) -> Response {
    if (r.path == "/ping") return {200, ""};
    return {200, std::to_string(r.body.size()) + ","};
  });
  const std::string whole = RecordIO("abcde");
  const std::string parts = RecordIO("ab", 1) + RecordIO("cd", 2) + RecordIO("e", 3);
  Write("r.rec", whole + parts + RecordIO("xyzw"));
  Write("t.tfrecord", TFRecord("hello") + TFRecord(""));
  TransformOptions o = Options(server);
  o.batch = BatchStrategy::kSingleRecord;
  o.split = SplitType::kRecordIO;
  o.input_dir = (dir_ / "in").string();
  fs::rename(dir_ / "in" / "t.tfrecord", dir_ / "t.tfrecord");
  auto done = RunTransform(o);
  ASSERT_TRUE(done.ok()) << done.status().message();
  auto calls = server.requests();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[0].body, whole);
  EXPECT_EQ(calls[1].body, parts);  // a record in three parts is one record
  EXPECT_EQ(Read("r.rec.out"), "16,36,12,");

  fs::rename(dir_ / "in" / "r.rec", dir_ / "r.rec");
  fs::rename(dir_ / "t.tfrecord", dir_ / "in" / "t.tfrecord");
  o.split = SplitType::kTFRecord;
  o.batch = BatchStrategy::kMultiRecord;
  done = RunTransform(o);
  ASSERT_TRUE(done.ok()) << done.status().message();
  EXPECT_EQ(Read("t.tfrecord.out"), "37,");  // both records in one request: 21 + 16 bytes

  Write("bad.rec", "not recordio");
  fs::rename(dir_ / "in" / "t.tfrecord", dir_ / "t2");
  o.split = SplitType::kRecordIO;
  done = RunTransform(o);
  ASSERT_FALSE(done.ok());
  EXPECT_NE(done.status().message().find("bad.rec: not a RecordIO record at byte 0"),
            std::string::npos)
      << done.status().message();
}

TEST_F(TransformTest, ParsesTheSageMakerNames) {
  SplitType split;
  BatchStrategy batch;
  AssembleWith assemble;
  EXPECT_TRUE(ParseSplitType("TFRecord", &split));
  EXPECT_EQ(split, SplitType::kTFRecord);
  EXPECT_FALSE(ParseSplitType("line", &split));
  EXPECT_TRUE(ParseBatchStrategy("SingleRecord", &batch));
  EXPECT_EQ(batch, BatchStrategy::kSingleRecord);
  EXPECT_TRUE(ParseAssembleWith("Line", &assemble));
  EXPECT_EQ(assemble, AssembleWith::kLine);
  EXPECT_FALSE(ParseAssembleWith("Newline", &assemble));
}

// ---- unpacking ----

void WriteMember(gzFile gz, const std::string& name, const std::string& data, char type = '0',
                 const std::string& link = "") {
  char h[512] = {};
  std::memcpy(h, name.data(), name.size());
  std::snprintf(h + 100, 8, "%07o", 0755);
  std::snprintf(h + 108, 8, "%07o", 0);
  std::snprintf(h + 116, 8, "%07o", 0);
  std::snprintf(h + 124, 12, "%011o", static_cast<unsigned>(data.size()));
  std::snprintf(h + 136, 12, "%011o", 0);
  std::memset(h + 148, ' ', 8);
  h[156] = type;
  std::memcpy(h + 157, link.data(), link.size());
  std::memcpy(h + 257, "ustar", 6);
  std::memcpy(h + 263, "00", 2);
  unsigned sum = 0;
  for (unsigned char c : h) sum += c;
  std::snprintf(h + 148, 7, "%06o", sum);
  gzwrite(gz, h, 512);
  if (!data.empty()) gzwrite(gz, data.data(), static_cast<unsigned>(data.size()));
  std::string pad((512 - data.size() % 512) % 512, '\0');
  if (!pad.empty()) gzwrite(gz, pad.data(), static_cast<unsigned>(pad.size()));
}

TEST_F(TransformTest, UnpacksWhatWriteTarGzPacks) {
  fs::create_directories(dir_ / "model" / "code");
  std::ofstream(dir_ / "model" / "xgboost-model") << "booster";
  std::ofstream(dir_ / "model" / "code" / "inference.py") << "print(1)\n";
  const std::string archive = (dir_ / "model.tar.gz").string();
  ASSERT_TRUE(WriteTarGz((dir_ / "model").string(), archive).ok());
  auto done = ReadTarGz(archive, (dir_ / "opt-ml-model").string());
  ASSERT_TRUE(done.ok()) << done.status().message();
  EXPECT_EQ(done->files, 2);
  std::ifstream in(dir_ / "opt-ml-model" / "code" / "inference.py");
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "print(1)\n");
}

TEST_F(TransformTest, UnpackingLongNamesLinksAndRefusals) {
  const std::string archive = (dir_ / "a.tar.gz").string();
  const std::string long_name = "./" + std::string(120, 'n') + "/file";
  {
    gzFile gz = gzopen(archive.c_str(), "wb");
    WriteMember(gz, "././@LongLink", long_name + '\0', 'L');
    WriteMember(gz, "ignored", "long");
    WriteMember(gz, "pax", "28 path=paxdir/named-by-pax\n", 'x');
    WriteMember(gz, "short", "pax");
    WriteMember(gz, "link", "", '2', "paxdir/named-by-pax");
    gzclose(gz);
  }
  auto done = ReadTarGz(archive, (dir_ / "x").string());
  ASSERT_TRUE(done.ok()) << done.status().message();
  std::ifstream a(dir_ / "x" / long_name);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(a), {}), "long");
  std::ifstream b(dir_ / "x" / "link");
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(b), {}), "pax");

  for (auto [name, type, link, problem] :
       std::vector<std::tuple<std::string, char, std::string, std::string>>{
           {"../evil", '0', "", "member ../evil leaves the directory"},
           {"/etc/evil", '0', "", "member /etc/evil leaves the directory"},
           {"l", '2', "../../etc/passwd", "symbolic link l -> ../../etc/passwd points outside"},
           {"h", '1', "x", "member h is of tar type '1'"}}) {
    gzFile gz = gzopen(archive.c_str(), "wb");
    WriteMember(gz, name, "", type, link);
    gzclose(gz);
    done = ReadTarGz(archive, (dir_ / "y").string());
    ASSERT_FALSE(done.ok()) << name;
    EXPECT_NE(done.status().message().find(problem), std::string::npos) << done.status().message();
  }
  EXPECT_FALSE(fs::exists(dir_ / "evil"));
  std::ofstream(archive, std::ios::trunc) << "garbage, not gzip";
  done = ReadTarGz(archive, (dir_ / "z").string());
  ASSERT_FALSE(done.ok());
  EXPECT_NE(done.status().message().find("not a gzip-compressed archive"), std::string::npos)
      << done.status().message();
}

}  // namespace
}  // namespace stepline::artifacts
