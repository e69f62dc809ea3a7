#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "localagent/conditions.h"
#include "localagent/container_env.h"
#include "localagent/file_util.h"
#include "localagent/pod_status.h"
#include "localagent/pod_volumes.h"

namespace stepline::localagent {
namespace {

using k8s::Object;
using std::chrono::seconds;

const k8s::WallTime kT0{seconds(1'700'000'000)};

class FakeSources : public EnvSources {
 public:
  std::map<std::string, std::map<std::string, std::string>> config_maps, secrets;
  std::optional<std::map<std::string, std::string>> ConfigMapData(
      const std::string& ns, const std::string& name) const override {
    auto it = config_maps.find(ns + "/" + name);
    if (it == config_maps.end()) return std::nullopt;
    return it->second;
  }
  std::optional<std::map<std::string, std::string>> SecretData(
      const std::string& ns, const std::string& name) const override {
    auto it = secrets.find(ns + "/" + name);
    if (it == secrets.end()) return std::nullopt;
    return it->second;
  }
};

TEST(ExpandVarsTest, Table) {
  const std::map<std::string, std::string> vars = {{"A", "1"}, {"B", "two"}};
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"$(A)-$(B)", "1-two"}, {"$(C)", "$(C)"}, {"$$(A)", "$(A)"}, {"a$b", "a$b"},
      {"$(A", "$(A"},         {"$", "$"},       {"x$(A)y", "x1y"},
  };
  for (const auto& [in, want] : cases) {
    SCOPED_TRACE(in);
    EXPECT_EQ(ExpandVars(in, vars), want);
  }
}

TEST(BuildContainerLaunchTest, EnvValueFromAndCommandExpansion) {
  FakeSources sources;
  sources.config_maps["ns/cm"] = {{"mode", "fast"}};
  sources.secrets["ns/s"] = {{"token", "t0k"}};
  Object pod = {{"metadata", {{"name", "p"}, {"namespace", "ns"}, {"labels", {{"app", "x"}}}}}};
  Object container = {
      {"command", {"sh", "-c"}},
      {"args", {"echo $(MODE) $(POD) $(GREETING) $$(MODE)"}},
      {"envFrom", Object::array({{{"prefix", "CM_"}, {"configMapRef", {{"name", "cm"}}}}})},
      {"env",
       Object::array({
           {{"name", "MODE"},
            {"valueFrom", {{"configMapKeyRef", {{"name", "cm"}, {"key", "mode"}}}}}},
           {{"name", "TOKEN"},
            {"valueFrom", {{"secretKeyRef", {{"name", "s"}, {"key", "token"}}}}}},
           {{"name", "POD"}, {"valueFrom", {{"fieldRef", {{"fieldPath", "metadata.name"}}}}}},
           {{"name", "APP"},
            {"valueFrom", {{"fieldRef", {{"fieldPath", "metadata.labels['app']"}}}}}},
           {{"name", "GREETING"}, {"value", "hi-$(POD)"}},
       })}};
  auto launch = BuildContainerLaunch(pod, container, {{"PATH", "/bin"}}, sources);
  ASSERT_TRUE(launch.ok()) << launch.status().ToString();
  EXPECT_EQ(launch->env,
            (std::vector<std::string>{"PATH=/bin", "CM_mode=fast", "MODE=fast", "TOKEN=t0k",
                                      "POD=p", "APP=x", "GREETING=hi-p"}));
  EXPECT_EQ(launch->argv, (std::vector<std::string>{"sh", "-c", "echo fast p hi-p $(MODE)"}));
}

TEST(BuildContainerLaunchTest, MissingReferencesFailLikeTheKubelet) {
  FakeSources sources;
  sources.config_maps["ns/cm"] = {};
  Object pod = {{"metadata", {{"name", "p"}, {"namespace", "ns"}}}};
  auto env = [](const Object& ref) {
    return Object{{"env", Object::array({{{"name", "X"}, {"valueFrom", ref}}})}};
  };
  auto r1 = BuildContainerLaunch(pod, env({{"configMapKeyRef", {{"name", "nope"}, {"key", "k"}}}}),
                                 {}, sources);
  EXPECT_EQ(r1.status().message(), "configmap \"nope\" not found");
  auto r2 = BuildContainerLaunch(pod, env({{"configMapKeyRef", {{"name", "cm"}, {"key", "k"}}}}),
                                 {}, sources);
  EXPECT_EQ(r2.status().message(), "couldn't find key k in ConfigMap ns/cm");
  auto r3 = BuildContainerLaunch(
      pod, env({{"secretKeyRef", {{"name", "s"}, {"key", "k"}, {"optional", true}}}}), {}, sources);
  EXPECT_TRUE(r3.ok());
}

Object TwoContainerPod() {
  return {{"metadata", {{"name", "p"}}},
          {"spec",
           {{"containers",
             Object::array({{{"name", "a"},
                             {"image", "img"},
                             {"resources", {{"limits", {{"cpu", "1"}, {"memory", "1Gi"}}}}}},
                            {{"name", "b"}, {"image", "img"}}})}}},
          {"status",
           {{"phase", "Pending"},
            {"conditions", Object::array({{{"type", "PodScheduled"}, {"status", "True"}},
                                          {{"type", "DisruptionTarget"}, {"status", "True"}}})}}}};
}

ContainerRun MakeRun(const std::string& name, ContainerRun::State state, int exit_code = 0,
                     const std::string& reason = "") {
  ContainerRun r;
  r.name = name;
  r.state = state;
  r.started_at = kT0;
  r.finished_at = kT0 + seconds(2);
  r.exit_code = exit_code;
  r.reason = reason;
  return r;
}

TEST(BuildPodStatusTest, PhasesAndConditions) {
  using S = ContainerRun::State;
  struct Case {
    std::string name;
    std::vector<ContainerRun> runs;
    std::string phase;
    std::string ready;  // status/reason
  };
  const std::vector<Case> cases = {
      {"nothing started", {}, "Pending", "False/ContainersNotReady"},
      {"one running", {MakeRun("a", S::kRunning)}, "Running", "False/ContainersNotReady"},
      {"both running", {MakeRun("a", S::kRunning), MakeRun("b", S::kRunning)}, "Running", "True/"},
      {"one done, one running",
       {MakeRun("a", S::kTerminated, 0, "Completed"), MakeRun("b", S::kRunning)},
       "Running",
       "False/ContainersNotReady"},
      {"all done",
       {MakeRun("a", S::kTerminated, 0, "Completed"), MakeRun("b", S::kTerminated, 0, "Completed")},
       "Succeeded",
       "False/PodCompleted"},
      {"one failed",
       {MakeRun("a", S::kTerminated, 137, "OOMKilled"),
        MakeRun("b", S::kTerminated, 0, "Completed")},
       "Failed",
       "False/PodFailed"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Object status = BuildPodStatus(TwoContainerPod(), c.runs, kT0, "127.0.0.1");
    EXPECT_EQ(status["phase"], c.phase);
    const Object* ready = FindCondition(status, "Ready");
    ASSERT_NE(ready, nullptr);
    EXPECT_EQ(ready->value("status", "") + "/" + ready->value("reason", ""), c.ready);
    EXPECT_TRUE(ConditionIsTrue(status, "PodScheduled"));
    EXPECT_TRUE(ConditionIsTrue(status, "DisruptionTarget"));
    EXPECT_EQ(status["containerStatuses"].size(), 2u);
    EXPECT_EQ(status["qosClass"], "Burstable");
  }
}

TEST(BuildPodStatusTest, TerminatedContainerState) {
  auto run = MakeRun("a", ContainerRun::State::kTerminated, 3, "Error");
  run.message = "bad input";
  Object status = BuildPodStatus(TwoContainerPod(), {run}, kT0, "127.0.0.1");
  const Object& t = status["containerStatuses"][0]["state"]["terminated"];
  EXPECT_EQ(t["exitCode"], 3);
  EXPECT_EQ(t["reason"], "Error");
  EXPECT_EQ(t["message"], "bad input");
  EXPECT_EQ(t["startedAt"], k8s::FormatRfc3339(kT0));
  EXPECT_EQ(t["finishedAt"], k8s::FormatRfc3339(kT0 + seconds(2)));
  EXPECT_EQ(status["containerStatuses"][1]["state"]["waiting"]["reason"], "ContainerCreating");
}

Object InitPod() {
  return {{"metadata", {{"name", "p"}, {"namespace", "ns"}}},
          {"spec",
           {{"initContainers",
             Object::array({{{"name", "fetch"}, {"image", "img"}},
                            {{"name", "up"}, {"image", "img"}, {"restartPolicy", "Always"}}})},
            {"containers", Object::array({{{"name", "main"}, {"image", "img"}}})}}},
          {"status", {{"phase", "Pending"}}}};
}

TEST(BuildPodStatusTest, InitContainersAndSidecars) {
  using S = ContainerRun::State;
  const ContainerRun fetch_ok = MakeRun("fetch", S::kTerminated, 0, "Completed");
  const ContainerRun up = MakeRun("up", S::kRunning);
  struct Case {
    std::string name;
    std::vector<ContainerRun> runs;
    std::string phase;
    std::string initialized;  // status/message
  };
  const std::vector<Case> cases = {
      {"nothing started", {}, "Pending", "False/containers with incomplete status: [fetch up]"},
      {"fetch runs",
       {MakeRun("fetch", S::kRunning)},
       "Pending",
       "False/containers with incomplete status: [fetch up]"},
      {"fetch failed",
       {MakeRun("fetch", S::kTerminated, 3, "Error")},
       "Failed",
       "False/containers with incomplete status: [fetch up]"},
      {"sidecar started, main not yet", {fetch_ok, up}, "Pending", "True/"},
      {"main runs beside the sidecar",
       {fetch_ok, up, MakeRun("main", S::kRunning)},
       "Running",
       "True/"},
      {"main ended, sidecar being stopped",
       {fetch_ok, up, MakeRun("main", S::kTerminated, 0, "Completed")},
       "Running",
       "True/"},
      {"the sidecar's exit code does not count",
       {fetch_ok, MakeRun("up", S::kTerminated, 143, "Error"),
        MakeRun("main", S::kTerminated, 0, "Completed")},
       "Succeeded",
       "True/"},
      {"main failed",
       {fetch_ok, MakeRun("up", S::kTerminated, 0, "Completed"),
        MakeRun("main", S::kTerminated, 1, "Error")},
       "Failed",
       "True/"},
      {"a sidecar that could not start fails the pod",
       {fetch_ok, MakeRun("up", S::kTerminated, 128, "StartError")},
       "Failed",
       "False/containers with incomplete status: [up]"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Object status = BuildPodStatus(InitPod(), c.runs, kT0, "127.0.0.1");
    EXPECT_EQ(status["phase"], c.phase);
    const Object* init = FindCondition(status, "Initialized");
    ASSERT_NE(init, nullptr);
    EXPECT_EQ(init->value("status", "") + "/" + init->value("message", ""), c.initialized);
    ASSERT_EQ(status["initContainerStatuses"].size(), 2u);
    EXPECT_EQ(status["initContainerStatuses"][1]["name"], "up");
    EXPECT_EQ(status["containerStatuses"].size(), 1u);
  }
}

class PodVolumesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/stepline-volumes-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  Object PodWith(Object volumes) {
    return {{"metadata", {{"name", "p"}, {"namespace", "ns"}}}, {"spec", {{"volumes", volumes}}}};
  }
  static int ModeOf(const std::string& path) {
    return static_cast<int>(std::filesystem::status(path).permissions());
  }
  std::string dir_;
  FakeSources sources_;
};

TEST_F(PodVolumesTest, EmptyDirSecretAndConfigMapBecomeDirectories) {
  sources_.secrets["ns/creds"] = {{"AWS_ACCESS_KEY_ID", "id"}, {"AWS_SECRET_ACCESS_KEY", "k"}};
  sources_.config_maps["ns/cfg"] = {{"a", "1"}, {"b", "2"}};
  Object pod = PodWith(Object::array(
      {{{"name", "work"}, {"emptyDir", Object::object()}},
       {{"name", "creds"}, {"secret", {{"secretName", "creds"}, {"defaultMode", 0400}}}},
       {{"name", "cfg"},
        {"configMap",
         {{"name", "cfg"},
          {"items", Object::array({{{"key", "b"}, {"path", "sub/b.txt"}, {"mode", 0600}}})}}}},
       {{"name", "none"}, {"configMap", {{"name", "absent"}, {"optional", true}}}},
       {{"name", "host"}, {"hostPath", {{"path", "/var/data"}}}}}));
  auto volumes = PreparePodVolumes(pod, dir_, sources_);
  ASSERT_TRUE(volumes.ok()) << volumes.status().message();
  EXPECT_EQ(volumes->at("work"), dir_ + "/work");
  EXPECT_TRUE(std::filesystem::is_directory(dir_ + "/work"));
  EXPECT_EQ(ReadWholeFile(dir_ + "/creds/AWS_SECRET_ACCESS_KEY"), "k");
  EXPECT_EQ(ModeOf(dir_ + "/creds/AWS_ACCESS_KEY_ID"), 0400);
  EXPECT_EQ(ReadWholeFile(dir_ + "/cfg/sub/b.txt"), "2");
  EXPECT_EQ(ModeOf(dir_ + "/cfg/sub/b.txt"), 0600);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/cfg/a"));  // items: only those listed
  EXPECT_TRUE(std::filesystem::is_empty(dir_ + "/none"));
  EXPECT_EQ(volumes->at("host"), "/var/data");
}

TEST_F(PodVolumesTest, ErrorsReadLikeTheKubelets) {
  struct Case {
    std::string name;
    Object volume;
    k8s::StatusCode code;
    std::string message;
  };
  sources_.secrets["ns/s"] = {{"k", "v"}};
  const std::vector<Case> cases = {
      {"missing secret",
       {{"name", "c"}, {"secret", {{"secretName", "gone"}}}},
       k8s::StatusCode::kUnavailable,
       "MountVolume.SetUp failed for volume \"c\" : secret \"gone\" not found"},
      {"missing key",
       {{"name", "c"},
        {"secret",
         {{"secretName", "s"}, {"items", Object::array({{{"key", "x"}, {"path", "x"}}})}}}},
       k8s::StatusCode::kInvalidArgument,
       "MountVolume.SetUp failed for volume \"c\" : configured to use key x of secret \"s\" but "
       "it does not have that key"},
      {"unsupported type",
       {{"name", "n"}, {"nfs", {{"server", "x"}}}},
       k8s::StatusCode::kInvalidArgument,
       "volume \"n\": the local agent provides emptyDir, secret, configMap and hostPath volumes, "
       "not nfs"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto volumes = PreparePodVolumes(PodWith(Object::array({c.volume})), dir_, sources_);
    ASSERT_FALSE(volumes.ok());
    EXPECT_EQ(volumes.status().code(), c.code);
    EXPECT_EQ(volumes.status().message(), c.message);
  }
}

TEST_F(PodVolumesTest, ContainerMountsResolveSubPathsInOrder) {
  const PodVolumes volumes = {{"work", dir_ + "/work"}};
  Object container = {
      {"name", "main"},
      {"volumeMounts",
       Object::array(
           {{{"name", "work"}, {"mountPath", "/in/data"}, {"subPath", "in/0"}, {"readOnly", true}},
            {{"name", "work"}, {"mountPath", "/in"}}})}};
  auto mounts = ContainerMounts(container, volumes);
  ASSERT_TRUE(mounts.ok()) << mounts.status().message();
  ASSERT_EQ(mounts->size(), 2u);
  EXPECT_EQ((*mounts)[0].target, "/in");  // the outer mount first
  EXPECT_EQ((*mounts)[1].source, dir_ + "/work/in/0");
  EXPECT_TRUE((*mounts)[1].read_only);
  EXPECT_TRUE(std::filesystem::is_directory(dir_ + "/work/in/0"));  // created, as the kubelet

  container["volumeMounts"] =
      Object::array({{{"name", "work"}, {"mountPath", "/x"}, {"subPath", "../etc"}}});
  EXPECT_EQ(ContainerMounts(container, volumes).status().message(),
            "volumeMount \"work\" at \"/x\" of container \"main\": subPath \"../etc\" must be "
            "relative and must not contain '..'");
  container["volumeMounts"] = Object::array({{{"name", "other"}, {"mountPath", "/x"}}});
  EXPECT_EQ(
      ContainerMounts(container, volumes).status().message(),
      "volumeMount \"other\" at \"/x\" of container \"main\": the pod has no volume \"other\"");
}

TEST(TerminationMessageTest, Table) {
  std::string many_lines;
  for (int i = 0; i < 100; ++i) many_lines += "line " + std::to_string(i) + "\n";
  struct Case {
    std::string name, file, policy;
    int exit_code;
    std::string log, want;
  };
  const std::vector<Case> cases = {
      {"file wins", "{\"a\":\"1\"}", "FallbackToLogsOnError", 1, "log", "{\"a\":\"1\"}"},
      {"file on success too", "ok", "File", 0, "", "ok"},
      {"no fallback with File", "", "File", 1, "boom\n", ""},
      {"no fallback on success", "", "FallbackToLogsOnError", 0, "fine\n", ""},
      {"fallback to the log", "", "FallbackToLogsOnError", 2, "a\nboom\n", "a\nboom\n"},
      {"file capped at 4096", std::string(5000, 'x'), "File", 0, "", std::string(4096, 'x')},
      {"log: last 80 lines", "", "FallbackToLogsOnError", 1, many_lines,
       many_lines.substr(many_lines.find("line 20\n"))},
      {"log: last 2048 bytes", "", "FallbackToLogsOnError", 1, std::string(3000, 'y'),
       std::string(2048, 'y')},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(TerminationMessage(c.file, c.policy, c.exit_code, c.log), c.want);
  }
  EXPECT_EQ(TerminationMessageLimit(1), 4096u);
  EXPECT_EQ(TerminationMessageLimit(4), 3072u);
}

}  // namespace
}  // namespace stepline::localagent
