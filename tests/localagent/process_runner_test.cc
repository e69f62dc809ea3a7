#include "localagent/process_runner.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <memory>

#include "localagent/file_util.h"
#include "localagent/sandbox_plan.h"

namespace stepline::localagent {
namespace {

using namespace std::chrono_literals;

class ProcessRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/stepline-runner-test-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    std::string why;
    if (::geteuid() == 0) {
      mount_ns_ = ProcessRunner::ProbeMountNamespace(dir_, &why);
      cgroups_ = MemoryCgroupRoot::Create("/sys/fs/cgroup/memory", &why);
    }
    runner_ = std::make_unique<ProcessRunner>(cgroups_.get(), mount_ns_);
  }
  void TearDown() override {
    runner_.reset();
    cgroups_.reset();
    std::system(("rm -rf " + dir_).c_str());
  }

  ProcessSpec Spec(std::vector<std::string> argv) {
    ProcessSpec spec;
    spec.argv = std::move(argv);
    spec.env = {"PATH=/usr/bin:/bin", "GREETING=hello"};
    spec.working_dir = dir_;
    spec.log_path = dir_ + "/log";
    spec.termination_message_host_file = dir_ + "/termination-log";
    WriteWholeFile(spec.termination_message_host_file, "");
    spec.termination_message_path = "/dev/termination-log";
    spec.sandbox_dir = dir_ + "/sandbox-" + std::to_string(++count_);
    spec.name = "test-" + std::to_string(::getpid()) + "-" + std::to_string(count_);
    return spec;
  }

  ProcessExit Run(const ProcessSpec& spec) {
    auto done = std::make_shared<std::promise<ProcessExit>>();
    auto pid = runner_->Start(spec, [done](const ProcessExit& e) { done->set_value(e); });
    EXPECT_TRUE(pid.ok()) << pid.status().ToString();
    if (!pid.ok()) return {};
    auto future = done->get_future();
    EXPECT_EQ(future.wait_for(30s), std::future_status::ready);
    return future.get();
  }

  std::string dir_;
  int count_ = 0;
  bool mount_ns_ = false;
  std::unique_ptr<MemoryCgroupRoot> cgroups_;
  std::unique_ptr<ProcessRunner> runner_;
};

TEST_F(ProcessRunnerTest, ReportsTheExitCodeAndKeepsOutputInTheLog) {
  auto exit = Run(Spec({"sh", "-c", "echo out $GREETING; echo err >&2; exit 3"}));
  EXPECT_EQ(exit.exit_code, 3);
  EXPECT_EQ(exit.signal, 0);
  EXPECT_FALSE(exit.oom_killed);
  EXPECT_EQ(ReadWholeFile(dir_ + "/log").value_or(""), "out hello\nerr\n");
}

TEST_F(ProcessRunnerTest, ACommandThatIsNotFoundNeverStarts) {
  auto pid = runner_->Start(Spec({"no-such-command-xyz"}), [](const ProcessExit&) {});
  ASSERT_FALSE(pid.ok());
  EXPECT_EQ(pid.status().message(),
            "exec: \"no-such-command-xyz\": executable file not found in $PATH");
}

TEST_F(ProcessRunnerTest, SigtermEndsTheSessionWithExitCode143) {
  auto done = std::make_shared<std::promise<ProcessExit>>();
  auto pid = runner_->Start(Spec({"sh", "-c", "sleep 60 & sleep 60"}),
                            [done](const ProcessExit& e) { done->set_value(e); });
  ASSERT_TRUE(pid.ok());
  std::this_thread::sleep_for(200ms);
  EXPECT_TRUE(runner_->Running(*pid));
  runner_->Signal(*pid, SIGTERM);
  auto future = done->get_future();
  ASSERT_EQ(future.wait_for(10s), std::future_status::ready);
  ProcessExit exit = future.get();
  EXPECT_EQ(exit.exit_code, 143);
  EXPECT_EQ(exit.signal, SIGTERM);
  EXPECT_FALSE(runner_->Running(*pid));
}

TEST_F(ProcessRunnerTest, TheTerminationLogIsThePodsOwnFile) {
  if (!mount_ns_) GTEST_SKIP() << "needs root and mount namespaces";
  auto exit = Run(Spec({"sh", "-c", "printf done > /dev/termination-log && ls /dev/null"}));
  EXPECT_EQ(exit.exit_code, 0);
  EXPECT_EQ(ReadWholeFile(dir_ + "/termination-log").value_or(""), "done");
  EXPECT_NE(::access("/dev/termination-log", F_OK), 0) << "the host's /dev must stay untouched";
}

TEST_F(ProcessRunnerTest, OverTheMemoryLimitIsAnOomKill) {
  if (!cgroups_) GTEST_SKIP() << "needs root and the cgroup v1 memory controller";
  ProcessSpec spec = Spec({"python3", "-c", "b = bytearray(200 * 1024 * 1024)"});
  spec.memory_limit_bytes = 64 * 1024 * 1024;
  auto exit = Run(spec);
  EXPECT_TRUE(exit.oom_killed);
  EXPECT_EQ(exit.exit_code, 137);
  EXPECT_EQ(exit.signal, SIGKILL);
}

TEST_F(ProcessRunnerTest, AVolumeInsideAnotherGetsItsMountPointThere) {
  if (!mount_ns_) GTEST_SKIP() << "needs root and mount namespaces";
  // As SageMaker's ProcessingInputs at /opt/ml/processing/input and .../input/code: the inner
  // mount point does not exist in the outer volume until the runtime makes it.
  const std::string outer = dir_ + "/volumes/input", inner = dir_ + "/volumes/code";
  ASSERT_TRUE(MakeDirs(outer));
  ASSERT_TRUE(MakeDirs(inner));
  WriteWholeFile(outer + "/data.csv", "1,2\n");
  WriteWholeFile(inner + "/prep.py", "print(1)\n");
  const std::string at = dir_ + "/opt/in";
  ProcessSpec spec = Spec({"sh", "-c", "cat " + at + "/data.csv " + at + "/code/prep.py"});
  spec.mounts = {{inner, at + "/code/", false}, {outer, at, false}};  // the inner one first
  auto exit = Run(spec);
  EXPECT_EQ(exit.exit_code, 0) << ReadWholeFile(dir_ + "/log").value_or("");
  EXPECT_EQ(ReadWholeFile(dir_ + "/log").value_or(""), "1,2\nprint(1)\n");
  EXPECT_TRUE(std::filesystem::is_directory(outer + "/code"));  // made in the outer volume
}

TEST(SandboxPlanTest, BindsTheTerminationLogInsideTheNewDev) {
  auto plan = BuildSandboxPlan("/stage", "/pods/u1/termination-log", "/dev/termination-log");
  ASSERT_FALSE(plan.empty());
  EXPECT_EQ(plan.front().kind, SandboxStep::Kind::kMountTmpfs);
  bool bound = false;
  for (const auto& step : plan) {
    if (step.kind == SandboxStep::Kind::kBind && step.source == "/pods/u1/termination-log") {
      EXPECT_EQ(step.target, "/stage/termination-log");
      bound = true;
    }
  }
  EXPECT_TRUE(bound);
  EXPECT_EQ(plan.back().kind, SandboxStep::Kind::kMove);
  EXPECT_EQ(plan.back().target, "/dev");
}

TEST(SandboxPlanTest, BindsVolumesAfterTheNewDevReadOnlyWhenAsked) {
  auto plan = BuildSandboxPlan(
      "/stage", "", "",
      {{"/pods/u1/volumes/w", "/in", false}, {"/pods/u1/volumes/c", "/creds", true}});
  ASSERT_GE(plan.size(), 3u);
  const auto n = plan.size();
  EXPECT_EQ(plan[n - 4].kind, SandboxStep::Kind::kMove);
  EXPECT_EQ(plan[n - 3].kind, SandboxStep::Kind::kBind);
  EXPECT_EQ(plan[n - 3].source + " " + plan[n - 3].target, "/pods/u1/volumes/w /in");
  EXPECT_EQ(plan[n - 2].source + " " + plan[n - 2].target, "/pods/u1/volumes/c /creds");
  EXPECT_EQ(plan[n - 1].kind, SandboxStep::Kind::kReadOnly);
  EXPECT_EQ(plan[n - 1].target, "/creds");
}

TEST(SandboxPlanTest, ParentsFirstAndANestedMountPointIsMadeInItsVolume) {
  auto plan = BuildSandboxPlan("/stage", "", "",
                               {{"/usr/lib", "/opt/ml/in/code", false},
                                {"/etc/passwd", "/opt/ml/in/config/x.json", true},
                                {"/usr", "/opt/ml/in", false},
                                {"/var", "/opt/ml/inother", false}});
  std::vector<std::string> tail;
  bool moved = false;
  for (const auto& step : plan) {
    moved = moved || step.kind == SandboxStep::Kind::kMove;
    if (moved && step.kind != SandboxStep::Kind::kMove) {
      tail.push_back(std::string(SandboxStepName(step.kind)) + " " + step.source + " " +
                     step.target);
    }
  }
  EXPECT_EQ(tail, (std::vector<std::string>{
                      "bind mount /usr /opt/ml/in",
                      "bind mount /var /opt/ml/inother",  // not inside /opt/ml/in
                      "mkdir -p  /opt/ml/in/code",
                      "bind mount /usr/lib /opt/ml/in/code",
                      "mkdir -p  /opt/ml/in/config",  // /etc/passwd is a file
                      "create mount point  /opt/ml/in/config/x.json",
                      "bind mount /etc/passwd /opt/ml/in/config/x.json",
                      "read-only remount  /opt/ml/in/config/x.json",
                  }));
}

TEST(MemoryCgroupOfTest, FindsTheMemoryLine) {
  EXPECT_EQ(MemoryCgroupOf("5:devices:/\n4:memory:/a/b\n0::/\n"), "/a/b");
  EXPECT_EQ(MemoryCgroupOf("4:cpu,memory:/x\n"), "/x");
  EXPECT_EQ(MemoryCgroupOf("0::/\n"), "");
}

}  // namespace
}  // namespace stepline::localagent
