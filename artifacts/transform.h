// Batch transform against a model server that follows SageMaker's inference container contract
// (`GET /ping` answers 200 once the model is loaded, `POST /invocations` answers a request
// body): what SageMaker's transform job does between the input objects it downloaded and the
// output objects it uploads. `stepline-artifacts transform` runs it as the main container of a
// Transform step's pod, beside the model server (a native sidecar); the staging init containers
// and upload sidecar move the files (docs/api.md, "SageMaker pipeline definitions", Transform).
//
// For every file under the input directory (recursively, in sorted order), the file `REL` of it
// is split into records (SplitType), the records grouped into requests (BatchStrategy,
// MaxPayloadInMB), each request POSTed with the ContentType and Accept headers, and the answers
// written in order to `REL.out` under the output directory (AssembleWith Line: each answer ends
// with a newline). A non-2xx answer, after the retries, fails the run naming the file, the
// records and the server's answer.
//
// Synchronous, one request at a time (SageMaker's MaxConcurrentTransforms 1).
#pragma once

#include <cstdint>
#include <string>

#include "k8sclient/status.h"

namespace stepline::artifacts {

enum class SplitType { kNone, kLine, kRecordIO, kTFRecord };
enum class BatchStrategy { kMultiRecord, kSingleRecord };
enum class AssembleWith { kNone, kLine };

struct TransformOptions {
  std::string input_dir;
  std::string output_dir;
  std::string server = "http://127.0.0.1:8080";  // the model server's base URL
  std::string content_type;                      // "": no Content-Type header
  std::string accept;                            // "": no Accept header
  SplitType split = SplitType::kNone;
  BatchStrategy batch = BatchStrategy::kMultiRecord;
  // Most bytes in one request; 0: no limit (SplitType None only, as SageMaker's 0).
  uint64_t max_payload_bytes = 6ull << 20;
  AssembleWith assemble = AssembleWith::kNone;
  int ping_timeout_seconds = 600;  // until /ping answers 200
  int invocation_timeout_seconds =
      600;              // per request (ModelClientConfig.InvocationsTimeoutInSeconds)
  int max_retries = 3;  // per request (ModelClientConfig.InvocationsMaxRetries)
  int retry_delay_ms = 1000;
};

struct TransformSummary {
  int files = 0;
  int requests = 0;
  uint64_t records = 0;
  uint64_t bytes_in = 0;   // sent
  uint64_t bytes_out = 0;  // written
};

// Names of the SageMaker values, for flags and messages: "None", "Line", "RecordIO", "TFRecord";
// "MultiRecord", "SingleRecord"; "None", "Line". False when name is none of them.
bool ParseSplitType(const std::string& name, SplitType* out);
bool ParseBatchStrategy(const std::string& name, BatchStrategy* out);
bool ParseAssembleWith(const std::string& name, AssembleWith* out);

// Waits for /ping, then transforms every input file. Errors (InvalidArgument) say what failed:
// the server never answered /ping (with its last answer), a record larger than the payload
// limit, a RecordIO/TFRecord file that is not one, an invocation that failed (with the HTTP
// status and the start of the answer), a file that cannot be read or written.
k8s::Result<TransformSummary> RunTransform(const TransformOptions& options);

}  // namespace stepline::artifacts
