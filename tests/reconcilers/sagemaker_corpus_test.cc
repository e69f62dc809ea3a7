// The compatibility corpus of issue #18: real SageMaker pipeline definitions and ACK manifests
// written by others, read from ../shared/external/ (never copied into the project; see its
// README). Each Pipeline goes through what the Pipeline reconciler does (ParsePipeline,
// ValidatePipeline, CompileSageMakerDefinition); each ACK PipelineExecution through
// CompileSnapshot against the corpus Pipeline it names. The test prints one line per file
// (compiled or refused, steps, warnings, the message) and checks each file's verdict against
// kExpected, so a change in what the corpus does shows up here. It skips, saying so, when the
// folder is absent (a user's clone does not have it). STEPLINE_EXTERNAL_DIR overrides the place.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "reconcilers/sagemaker_definition.h"
#include "reconcilers/snapshot.h"
#include "reconcilers/validation.h"
#include "tests/reconcilers/yaml_test_util.h"

#ifndef STEPLINE_SOURCE_DIR
#error "STEPLINE_SOURCE_DIR must name the source tree"
#endif

namespace stepline::reconcilers {
namespace {

namespace fs = std::filesystem;

fs::path CorpusDir() {
  const char* dir = std::getenv("STEPLINE_EXTERNAL_DIR");
  if (dir != nullptr && *dir != '\0') return dir;
  return fs::path(STEPLINE_SOURCE_DIR).parent_path() / "shared" / "external";
}

struct Verdict {
  std::string file;
  bool compiled = false;
  size_t steps = 0;
  std::vector<std::string> warnings;
  std::string message;  // why it was refused
  std::string against;  // an execution: the corpus file of the Pipeline it runs
};

// ACK's e2e manifests hold $VARS that its tests fill in, and samples hold <YOUR_X> placeholders
// that their READMEs tell the user to fill in (a bucket's name); any example value does (lower
// case with '-', so that a bucket name is valid), except that an execution's
// $PIPELINE_RESOURCE_NAME is its Pipeline's $PIPELINE_NAME (as ACK's tests fill it). Without
// the filling, a placeholder bucket is refused naming the field (SageMakerDefinitionTest).
std::string FillVariables(const std::string& text) {
  static const std::regex kResourceName(R"(\$PIPELINE_RESOURCE_NAME\b)");
  static const std::regex kVariable(R"(\$([A-Z][A-Z0-9_]*)|<(YOUR_[A-Z0-9_]*)>)");
  const std::string named = std::regex_replace(text, kResourceName, "$$PIPELINE_NAME");
  std::string out;
  auto last = named.cbegin();
  for (std::sregex_iterator it(named.begin(), named.end(), kVariable), end; it != end; ++it) {
    out.append(last, (*it)[0].first);
    std::string value = "example-" + ((*it)[1].matched ? (*it)[1].str() : (*it)[2].str());
    for (char& c : value) c = c == '_' ? '-' : static_cast<char>(std::tolower(c));
    out += value;
    last = (*it)[0].second;
  }
  out.append(last, named.cend());
  return out;
}

std::string ReadText(const fs::path& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// A corpus object as a Stepline object: the ACK apiVersion changed, as an ACK user would, and a
// name that Kubernetes accepts.
Json AsStepline(Json object, const std::string& fallback_name) {
  object["apiVersion"] = kApiVersion;
  Json& meta = object["metadata"];
  if (!meta.is_object()) meta = Json::object();
  std::string name = meta.value("name", "");
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::replace(name.begin(), name.end(), '_', '-');
  meta["name"] = name.empty() ? fallback_name : name;
  meta["namespace"] = "corpus";
  return object;
}

Json WrapDefinition(const std::string& definition, const std::string& name) {
  return {{"apiVersion", kApiVersion},
          {"kind", kPipelineKind},
          {"metadata", {{"name", name}, {"namespace", "corpus"}}},
          {"spec", {{"pipelineDefinition", definition}}}};
}

Verdict JudgePipeline(const std::string& file, const Json& object) {
  Verdict v{file};
  auto pipeline = ParsePipeline(object);
  if (!pipeline.ok()) {
    v.message = pipeline.status().message();
    return v;
  }
  k8s::Status valid = ValidatePipeline(*pipeline, PodPolicy{});
  v.compiled = valid.ok();
  v.message = valid.ok() ? "" : valid.message();
  auto compiled = CompileSageMakerDefinition(pipeline->spec.pipeline_definition);
  if (compiled.ok()) {
    v.steps = compiled->steps.size();
    v.warnings = compiled->warnings;
  }
  return v;
}

Verdict JudgeExecution(const std::string& file, const Json& object,
                       const std::map<std::string, std::pair<std::string, Json>>& pipelines) {
  Verdict v{file};
  auto execution = ParsePipelineExecution(object);
  if (!execution.ok()) {
    v.message = execution.status().message();
    return v;
  }
  auto it = pipelines.find(execution->spec.pipeline_name);
  if (it == pipelines.end()) {
    v.message = "no corpus Pipeline named " + execution->spec.pipeline_name;
    return v;
  }
  v.against = it->second.first;
  auto pipeline = ParsePipeline(it->second.second);
  if (!pipeline.ok()) {
    v.message = "its Pipeline: " + pipeline.status().message();
    return v;
  }
  auto snapshot = CompileSnapshot(*pipeline, execution->spec);
  v.compiled = snapshot.ok();
  v.message = snapshot.ok() ? "" : snapshot.status().message();
  if (snapshot.ok()) v.steps = snapshot->steps.size();
  return v;
}

std::vector<fs::path> FilesIn(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir)) files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<Verdict> JudgeCorpus(const fs::path& dir) {
  std::vector<Verdict> out;
  for (const fs::path& file : FilesIn(dir / "defs")) {
    std::string name = "def-" + file.stem().string();
    out.push_back(JudgePipeline("defs/" + file.filename().string(),
                                WrapDefinition(FillVariables(ReadText(file)), name.substr(0, 60))));
  }
  std::map<std::string, std::pair<std::string, Json>> pipelines;  // name -> (file, object)
  std::vector<std::pair<std::string, Json>> executions;
  for (const fs::path& file : FilesIn(dir / "ack")) {
    std::string label = "ack/" + file.filename().string();
    for (const Json& doc : LoadYamlDocuments(file)) {
      Json object = AsStepline(YamlToJson(YAML::Load(FillVariables(doc.dump()))), "ack");
      if (object.value("kind", "") == kPipelineKind) {
        pipelines[object["spec"].value("pipelineName", "")] = {label, object};
        pipelines[object["metadata"]["name"].get<std::string>()] = {label, object};
        out.push_back(JudgePipeline(label, object));
      } else {
        executions.emplace_back(label, object);
      }
    }
  }
  for (const auto& [label, object] : executions) {
    out.push_back(JudgeExecution(label, object, pipelines));
  }
  return out;
}

void PrintTable(const std::vector<Verdict>& verdicts) {
  size_t compiled = 0;
  for (const Verdict& v : verdicts) {
    compiled += v.compiled ? 1 : 0;
    std::cout << (v.compiled ? "compiled " : "REFUSED  ") << v.file << "  steps=" << v.steps
              << " warnings=" << v.warnings.size()
              << (v.against.empty() ? "" : " (runs " + v.against + ")") << "\n";
    if (!v.compiled) std::cout << "    refused: " << v.message << "\n";
    for (const std::string& w : v.warnings) std::cout << "    warning: " << w << "\n";
  }
  std::cout << "corpus: " << compiled << " of " << verdicts.size() << " compiled\n";
}

// What each file does today: "" = compiled, else a fragment of the refusal.
const std::map<std::string, std::string> kExpected = {
    {"defs/ack-samples-my-pipeline.json", ""},
    {"defs/airflow-dummy-conditions.json", ""},
    {"defs/dynamic-framework-falcon-calhousing.json", ""},
    {"defs/examples-abalone-batch-transform.json", ""},
    {"defs/examples-cfn-sdxl-finetune.json", ""},
    {"defs/examples-lambda-step.json", ""},
    {"defs/examples-selective-execution.json", ""},
    {"defs/sdk-feature-processor-training.json", ""},
    {"defs/sdk-v2-callback-step.json", ""},   // its Training step fails when it runs
    {"defs/sdk-v2-condition-step.json", ""},  // its Training step fails when it runs
    {"defs/sdk-v2-emr-step.json", "\"EMR\" is not supported"},
    {"defs/sdk-v2-lambda-step.json", ""},
    {"defs/sdk-v3-evaluation-deterministic.json",
     "(EvaluateCustomModel).Arguments.ServerlessJobConfig: SageMaker's serverless jobs"},
    {"ack/ack-e2e-pipeline.yaml", ""},
    {"ack/ack-e2e-pipeline_processing.yaml", ""},
    {"ack/ack-samples-pipeline.yaml", ""},
    {"ack/ack-unit-pipeline-create.yaml", ""},
    {"ack/ack-e2e-pipeline_execution.yaml", ""},
    {"ack/ack-samples-pipeline-execution.yaml", ""},
    {"ack/ack-unit-pipeline_execution-create.yaml", "\"AccuracyMseThreshold\": is not declared"},
};

TEST(SageMakerCorpusTest, EveryFileCompilesOrIsRefusedAsRecorded) {
  const fs::path dir = CorpusDir();
  if (!fs::is_directory(dir / "defs")) {
    GTEST_SKIP() << "the corpus folder " << dir
                 << " is absent (it is not part of the project; see issue #18)";
  }
  std::vector<Verdict> verdicts = JudgeCorpus(dir);
  PrintTable(verdicts);
  ASSERT_EQ(verdicts.size(), kExpected.size()) << "a file was added or removed: update kExpected";
  for (const Verdict& v : verdicts) {
    SCOPED_TRACE(v.file);
    auto want = kExpected.find(v.file);
    ASSERT_NE(want, kExpected.end());
    if (want->second.empty()) {
      EXPECT_TRUE(v.compiled) << v.message;
    } else {
      EXPECT_FALSE(v.compiled);
      EXPECT_NE(v.message.find(want->second), std::string::npos) << v.message;
    }
  }
}

}  // namespace
}  // namespace stepline::reconcilers
