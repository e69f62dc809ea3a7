// stepline-artifacts against a real S3 API server: testenv/s3-up.sh starts s3rver (which
// verifies SigV4 signatures) on a loopback port for this test binary, with a random key.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

extern char** environ;

namespace {

namespace fs = std::filesystem;
constexpr const char* kBucket = "stepline-test";

std::map<std::string, std::string>* g_s3 = nullptr;  // the export lines of s3-up.sh

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

struct RunResult {
  int exit_code = -1;
  std::string stderr_text;
  long max_rss_kib = 0;
};

// Runs stepline-artifacts with args and extra environment; measures the child's peak RSS.
RunResult RunArtifacts(const std::vector<std::string>& args,
                       const std::map<std::string, std::string>& env) {
  std::string err_path =
      fs::temp_directory_path() / ("stepline-artifacts-err-" + std::to_string(getpid()));
  std::vector<std::string> argv_s = {STEPLINE_ARTIFACTS_BIN};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_s;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string kv = *e;
    if (kv.rfind("AWS_", 0) != 0) env_s.push_back(kv);  // only what the test gives
  }
  for (const auto& [k, v] : env) env_s.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0600);
  pid_t pid = 0;
  RunResult result;
  if (posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data()) != 0) {
    posix_spawn_file_actions_destroy(&actions);
    return result;
  }
  posix_spawn_file_actions_destroy(&actions);
  int status = 0;
  struct rusage usage {};
  wait4(pid, &status, 0, &usage);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.max_rss_kib = usage.ru_maxrss;
  result.stderr_text = Slurp(err_path);
  fs::remove(err_path);
  return result;
}

class S3ServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    g_s3 = new std::map<std::string, std::string>();
    std::string cmd = std::string(STEPLINE_SOURCE_DIR) + "/testenv/s3-up.sh --bucket " + kBucket;
    FILE* p = popen(cmd.c_str(), "r");
    ASSERT_NE(p, nullptr);
    char line[4096];
    while (fgets(line, sizeof line, p) != nullptr) {
      std::string l(line);
      if (l.rfind("export ", 0) != 0) continue;
      auto eq = l.find('=');
      std::string value = l.substr(eq + 1);
      while (!value.empty() && value.back() == '\n') value.pop_back();
      (*g_s3)[l.substr(7, eq - 7)] = value;
    }
    ASSERT_EQ(pclose(p), 0) << "testenv/s3-up.sh failed (is the server installed? "
                               "scripts/setup.sh puts it in build/tools/s3)";
  }
  static void TearDownTestSuite() {
    if (g_s3 != nullptr && g_s3->count("STEPLINE_S3_DIR")) {
      std::string cmd =
          std::string(STEPLINE_SOURCE_DIR) + "/testenv/s3-down.sh " + (*g_s3)["STEPLINE_S3_DIR"];
      EXPECT_EQ(std::system(cmd.c_str()), 0);
    }
    delete g_s3;
    g_s3 = nullptr;
  }
  void SetUp() override {
    ASSERT_TRUE(g_s3 != nullptr && g_s3->count("STEPLINE_S3_ENDPOINT"));
    char tmpl[] = "/tmp/stepline-artifacts-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static std::map<std::string, std::string> Keys() {
    return {{"AWS_ACCESS_KEY_ID", (*g_s3)["STEPLINE_S3_ACCESS_KEY_ID"]},
            {"AWS_SECRET_ACCESS_KEY", (*g_s3)["STEPLINE_S3_SECRET_ACCESS_KEY"]}};
  }
  RunResult Run(std::vector<std::string> args,
                const std::map<std::string, std::string>& env = Keys()) {
    args.push_back("--endpoint");
    args.push_back((*g_s3)["STEPLINE_S3_ENDPOINT"]);
    return RunArtifacts(args, env);
  }
  std::string Write(const std::string& rel, const std::string& text) {
    fs::path p = fs::path(dir_) / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }
  // A file of size bytes of pseudo-random data, written in 1 MiB blocks.
  std::string WriteRandom(const std::string& rel, uint64_t size) {
    std::string path = (fs::path(dir_) / rel).string();
    std::ofstream out(path, std::ios::binary);
    std::mt19937_64 rng(size);
    std::string block(1 << 20, '\0');
    for (uint64_t done = 0; done < size; done += block.size()) {
      for (size_t i = 0; i < block.size(); i += 8) {
        uint64_t v = rng();
        std::memcpy(&block[i], &v, 8);
      }
      out.write(block.data(),
                static_cast<std::streamsize>(std::min<uint64_t>(block.size(), size - done)));
    }
    return path;
  }
  std::string Uri(const std::string& key) const {
    return std::string("s3://") + kBucket + "/" + key;
  }

  std::string dir_;
};

TEST_F(S3ServerTest, FileRoundTrip) {
  std::string src = Write("in/report.json", "{\"accuracy\": \"0.91\"}\n");
  auto up = Run({"upload", src, Uri("rt/report.json")});
  ASSERT_EQ(up.exit_code, 0) << up.stderr_text;
  std::string dst = dir_ + "/out/deeper/report.json";
  auto down = Run({"download", Uri("rt/report.json"), dst});
  ASSERT_EQ(down.exit_code, 0) << down.stderr_text;
  EXPECT_EQ(Slurp(dst), "{\"accuracy\": \"0.91\"}\n");
  EXPECT_FALSE(fs::exists(dst + ".part"));
}

TEST_F(S3ServerTest, AnObjectIntoADirectoryPathKeepsItsName) {
  std::string src = Write("code/preprocessing.py", "print('pre')\n");
  ASSERT_EQ(Run({"upload", src, Uri("code/preprocessing.py")}).exit_code, 0);
  auto down = Run({"download", Uri("code/preprocessing.py"), dir_ + "/opt/ml/input/code/"});
  ASSERT_EQ(down.exit_code, 0) << down.stderr_text;
  EXPECT_EQ(Slurp(dir_ + "/opt/ml/input/code/preprocessing.py"), "print('pre')\n");
  // A prefix into a directory path: the objects below it, as without the '/'.
  ASSERT_EQ(Run({"download", Uri("code"), dir_ + "/prefix/"}).exit_code, 0);
  EXPECT_EQ(Slurp(dir_ + "/prefix/preprocessing.py"), "print('pre')\n");
}

TEST_F(S3ServerTest, ADirectoryUploadedAsOneTarGz) {
  Write("model/weights.bin", "w");
  Write("model/config/params.json", "{}");
  auto up = Run({"upload", dir_ + "/model/", Uri("tgz/model.tar.gz"), "--tar-gz"});
  ASSERT_EQ(up.exit_code, 0) << up.stderr_text;
  EXPECT_NE(up.stderr_text.find("1 object(s)"), std::string::npos) << up.stderr_text;
  EXPECT_FALSE(fs::exists(dir_ + "/model.stepline.tar.gz"));  // the archive is removed
  ASSERT_EQ(Run({"download", Uri("tgz/model.tar.gz"), dir_ + "/got.tar.gz"}).exit_code, 0);
  fs::create_directories(dir_ + "/x");
  // GNU tar reads it: the directory's contents at the archive's root.
  ASSERT_EQ(std::system(("tar -xzf " + dir_ + "/got.tar.gz -C " + dir_ + "/x").c_str()), 0);
  EXPECT_EQ(Slurp(dir_ + "/x/weights.bin"), "w");
  EXPECT_EQ(Slurp(dir_ + "/x/config/params.json"), "{}");
  // download --tar-gz unpacks the archive into the directory (a Transform step's model).
  auto unpacked = Run({"download", Uri("tgz/model.tar.gz"), dir_ + "/y/", "--tar-gz"});
  ASSERT_EQ(unpacked.exit_code, 0) << unpacked.stderr_text;
  EXPECT_NE(unpacked.stderr_text.find("unpacked 2 file(s)"), std::string::npos)
      << unpacked.stderr_text;
  EXPECT_EQ(Slurp(dir_ + "/y/weights.bin"), "w");
  EXPECT_EQ(Slurp(dir_ + "/y/config/params.json"), "{}");
  EXPECT_FALSE(fs::exists(dir_ + "/y.stepline.tar.gz"));  // the archive is removed
  // A key that is neither an object nor a prefix fails as a plain download does.
  EXPECT_EQ(Run({"download", Uri("tgz/x"), dir_ + "/z", "--tar-gz"}).exit_code, 1);
}

TEST_F(S3ServerTest, DirectoryRoundTripUnderAPrefix) {
  Write("model/weights.bin", "w");
  Write("model/config/params.json", "{}");
  Write("model/key with spaces+plus.txt", "s");
  auto up = Run({"upload", dir_ + "/model", Uri("dir/run-1/model")});
  ASSERT_EQ(up.exit_code, 0) << up.stderr_text;
  EXPECT_NE(up.stderr_text.find("3 object(s)"), std::string::npos) << up.stderr_text;
  auto down = Run({"download", Uri("dir/run-1/model"), dir_ + "/staged"});
  ASSERT_EQ(down.exit_code, 0) << down.stderr_text;
  EXPECT_EQ(Slurp(dir_ + "/staged/weights.bin"), "w");
  EXPECT_EQ(Slurp(dir_ + "/staged/config/params.json"), "{}");
  EXPECT_EQ(Slurp(dir_ + "/staged/key with spaces+plus.txt"), "s");
}

// 200 MiB each way, the upload in 8 MiB parts (25 parts), the download one stream: the
// process's peak RSS stays far below the file's size.
TEST_F(S3ServerTest, LargeFilesStreamInBothDirections) {
  constexpr uint64_t kSize = uint64_t{200} << 20;
  std::string src = WriteRandom("big.bin", kSize);
  auto up = Run({"upload", src, Uri("large/big.bin"), "--part-size", std::to_string(8 << 20)});
  ASSERT_EQ(up.exit_code, 0) << up.stderr_text;
  EXPECT_LT(up.max_rss_kib, 64 * 1024) << "upload peak RSS " << up.max_rss_kib << " KiB";
  std::string dst = dir_ + "/big.copy";
  auto down = Run({"download", Uri("large/big.bin"), dst});
  ASSERT_EQ(down.exit_code, 0) << down.stderr_text;
  EXPECT_LT(down.max_rss_kib, 64 * 1024) << "download peak RSS " << down.max_rss_kib << " KiB";
  ASSERT_EQ(fs::file_size(dst), kSize);
  std::ifstream a(src, std::ios::binary), b(dst, std::ios::binary);
  std::string ba(1 << 20, '\0'), bb(1 << 20, '\0');
  for (uint64_t off = 0; off < kSize; off += ba.size()) {
    a.read(ba.data(), static_cast<std::streamsize>(ba.size()));
    b.read(bb.data(), static_cast<std::streamsize>(bb.size()));
    ASSERT_EQ(ba, bb) << "differs in the MiB at offset " << off;
  }
  std::printf("streamed %llu bytes up (multipart, peak RSS %ld KiB) and down (peak RSS %ld KiB)\n",
              static_cast<unsigned long long>(kSize), up.max_rss_kib, down.max_rss_kib);
}

TEST_F(S3ServerTest, WrongSecretIsRefusedWithTheStoragesMessage) {
  std::string src = Write("a.txt", "a");
  auto env = Keys();
  env["AWS_SECRET_ACCESS_KEY"] = "not-the-secret";
  auto up = Run({"upload", src, Uri("denied/a.txt"), "--error-file", dir_ + "/error"}, env);
  EXPECT_EQ(up.exit_code, 1);
  EXPECT_NE(up.stderr_text.find("PUT " + Uri("denied/a.txt") + ": SignatureDoesNotMatch"),
            std::string::npos)
      << up.stderr_text;
  EXPECT_NE(Slurp(dir_ + "/error").find("SignatureDoesNotMatch"), std::string::npos);
}

TEST_F(S3ServerTest, UnknownKeyIdIsRefused) {
  auto env = Keys();
  env["AWS_ACCESS_KEY_ID"] = "AKIDUNKNOWN";
  auto down = Run({"download", Uri("rt/report.json"), dir_ + "/x"}, env);
  EXPECT_EQ(down.exit_code, 1);
  EXPECT_NE(down.stderr_text.find("InvalidAccessKeyId"), std::string::npos) << down.stderr_text;
}

TEST_F(S3ServerTest, CredentialsFromASecretDirectory) {
  Write("secret/AWS_ACCESS_KEY_ID", (*g_s3)["STEPLINE_S3_ACCESS_KEY_ID"] + "\n");
  Write("secret/AWS_SECRET_ACCESS_KEY", (*g_s3)["STEPLINE_S3_SECRET_ACCESS_KEY"] + "\n");
  std::string src = Write("b.txt", "b");
  auto up =
      Run({"upload", src, Uri("secret-dir/b.txt"), "--credentials-dir", dir_ + "/secret"}, {});
  EXPECT_EQ(up.exit_code, 0) << up.stderr_text;
  auto none = Run({"upload", src, Uri("secret-dir/b.txt")}, {});
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_NE(none.stderr_text.find("no credentials"), std::string::npos) << none.stderr_text;
}

TEST_F(S3ServerTest, MissingBucketAndMissingKeySayWhich) {
  auto bucket = Run({"download", "s3://no-such-bucket/x", dir_ + "/x"});
  EXPECT_EQ(bucket.exit_code, 1);
  EXPECT_NE(bucket.stderr_text.find(
                "GET s3://no-such-bucket/x: NoSuchBucket: The specified bucket does not exist"),
            std::string::npos)
      << bucket.stderr_text;
  std::string src = Write("c.txt", "c");
  auto put = Run({"upload", src, "s3://no-such-bucket/c.txt"});
  EXPECT_EQ(put.exit_code, 1);
  EXPECT_NE(put.stderr_text.find("NoSuchBucket"), std::string::npos) << put.stderr_text;
  auto key = Run({"download", Uri("never/written"), dir_ + "/y"});
  EXPECT_EQ(key.exit_code, 1);
  EXPECT_NE(key.stderr_text.find("NoSuchKey: no object " + Uri("never/written") +
                                 " and no objects under " + Uri("never/written/")),
            std::string::npos)
      << key.stderr_text;
  auto nothing = Run({"upload", dir_ + "/absent", Uri("z")});
  EXPECT_EQ(nothing.exit_code, 1);
  EXPECT_NE(nothing.stderr_text.find("does not exist"), std::string::npos);
}

// Virtual-hosted addressing: the bucket in the Host header (BUCKET.s3.local.test, resolved to
// the loopback server). Unsigned: s3rver computes the SigV4 canonical URI of virtual-hosted
// requests as /BUCKET/KEY (the SigV2 rule), so it refuses correctly signed ones.
TEST_F(S3ServerTest, VirtualHostedAddressing) {
  std::string endpoint = (*g_s3)["STEPLINE_S3_VHOST_ENDPOINT"];
  std::string port = endpoint.substr(endpoint.rfind(':') + 1);
  std::string resolve = std::string(kBucket) + ".s3.local.test:" + port + ":127.0.0.1";
  std::string src = Write("vh.txt", "virtual");
  auto up = RunArtifacts({"upload", src, Uri("vhost/vh.txt"), "--endpoint", endpoint,
                          "--virtual-hosted", "--anonymous", "--resolve", resolve},
                         {});
  ASSERT_EQ(up.exit_code, 0) << up.stderr_text;
  // Read back path-style, signed: the object is where virtual-hosted addressing put it.
  auto down = Run({"download", Uri("vhost/vh.txt"), dir_ + "/vh.copy"});
  ASSERT_EQ(down.exit_code, 0) << down.stderr_text;
  EXPECT_EQ(Slurp(dir_ + "/vh.copy"), "virtual");
}

TEST_F(S3ServerTest, UsageErrorsExitTwo) {
  EXPECT_EQ(Run({"download", "s3://x/y"}).exit_code, 2);
  auto bad = Run({"download", "http://bucket/key", dir_ + "/x"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.stderr_text.find("is not an s3:// URI"), std::string::npos);
}

}  // namespace
