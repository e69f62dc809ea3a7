// stepline-artifacts: stages a step's artifacts between S3-compatible storage and the pod.
//
//   stepline-artifacts download s3://BUCKET/KEY PATH [options]
//   stepline-artifacts upload PATH s3://BUCKET/KEY [options]
//   stepline-artifacts write PATH [--error-file PATH]
//   stepline-artifacts join PATH --items N [--error-file PATH] PART...
//   stepline-artifacts transform --input DIR --output DIR [transform options]
//   stepline-artifacts invoke --function NAME [invoke options]
//
// An invoke POSTs an event to a function's URL and writes the outputs it answered (invoke.h).
// A transform sends the files under DIR to a model server's /invocations (transform.h).
// A write puts the text of the environment variable STEPLINE_ARTIFACT_DATA into the file PATH
// (a raw artifact: no storage involved), creating its directory. A join writes the JSON list a
// fan-in stored in ConfigMaps was split into (each PART a ConfigMap's values.json) into PATH
// (fan_in_join.h).
// A download writes the object to the file PATH, or, when KEY names a prefix, every object under
// it into the directory PATH. An upload sends the file PATH, or every file under the directory
// PATH below KEY. Exit 0 on success; 1 when the storage or the file system failed (the message,
// with the storage's error code, on stderr and in --error-file); 2 on a usage error.
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "artifacts/aws_credentials.h"
#include "artifacts/fan_in_join.h"
#include "artifacts/invoke.h"
#include "artifacts/s3_client.h"
#include "artifacts/tar_gz.h"
#include "artifacts/transform.h"

namespace {

using stepline::artifacts::AwsCredentials;
using stepline::k8s::Result;
using stepline::k8s::Status;
namespace a = stepline::artifacts;

constexpr const char* kUsage = R"(usage:
  stepline-artifacts download s3://BUCKET/KEY PATH [options]
  stepline-artifacts upload PATH s3://BUCKET/KEY [options]
  stepline-artifacts write PATH [--error-file PATH]   (the text of $STEPLINE_ARTIFACT_DATA)
  stepline-artifacts join PATH --items N [--error-file PATH] PART...
      (one JSON list of N items from the lists in the files PART..., in order)
  stepline-artifacts transform --input DIR --output DIR [--server URL] [--content-type T]
      [--accept T] [--split-type None|Line|RecordIO|TFRecord]
      [--batch-strategy MultiRecord|SingleRecord] [--max-payload-mb N] [--assemble-with None|Line]
      [--ping-timeout S] [--invocation-timeout S] [--max-retries N] [--error-file PATH]
      (SageMaker batch transform against a model server: GET URL/ping, POST URL/invocations;
      default URL http://127.0.0.1:8080, payload 6 MB, MultiRecord, 3 retries, 600 s timeouts)
  stepline-artifacts invoke --function NAME [--url URL] [--arg K=V]... [--json-arg K=JSON]...
      [--output NAME]... [--timeout S] [--outputs-file PATH] [--error-file PATH]
      [--url-source TEXT] [--ca-file PATH]
      (a SageMaker Lambda step: POSTs the event {K: V, ...} to URL [STEPLINE_FUNCTION_URL],
      writes {NAME: value} read from its JSON answer to --outputs-file; timeout 600 s;
      --url-source says where the URL is set, for the message when it is not)
options (environment in brackets):
  --endpoint URL         S3 endpoint, http(s)://host[:port] [AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL];
                         default https://s3.REGION.amazonaws.com
  --region NAME          signing region [AWS_REGION, AWS_DEFAULT_REGION]; default us-east-1
  --path-style           BUCKET in the path (default with --endpoint) [STEPLINE_S3_PATH_STYLE=true]
  --virtual-hosted       BUCKET in the host name (default for AWS)
  --credentials-dir DIR  files AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY[, AWS_SESSION_TOKEN]
                         (a mounted Secret); else the same names in the environment; else a web
                         identity (AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE, through STS)
  --anonymous            send unsigned requests (public buckets)
  --part-size BYTES      multipart part size, at least 5242880; default 67108864
  --ca-file PATH         CA bundle for https endpoints
  --resolve H:P:ADDR     connect to ADDR for host H and port P (as curl --resolve)
  --error-file PATH      also write a failure's message there (e.g. /dev/termination-log)
  --wait-for-term        first wait for SIGTERM or SIGINT, then act (a native sidecar that
                         uploads once the kubelet stops it, after the step's container ended)
  --tar-gz               upload: PATH (a directory's contents, or a file) as one gzip-compressed
                         tar archive, the object KEY (as SageMaker's model.tar.gz); download: the
                         object KEY is such an archive, unpacked into the directory PATH (a
                         prefix KEY/ is downloaded as it is)
)";

struct Args {
  std::string command, from, to;
  a::S3ClientOptions client;
  std::string credentials_dir, error_file;
  bool anonymous = false;
  bool wait_for_term = false;
  bool tar_gz = false;
  int addressing = -1;  // -1 = default, else a::Addressing
};

std::string EnvOr(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : fallback;
}

Result<Args> ParseArgs(int argc, char** argv) {
  Args args;
  std::vector<std::string> positional;
  args.client.endpoint.url = EnvOr("AWS_ENDPOINT_URL_S3", EnvOr("AWS_ENDPOINT_URL", ""));
  args.client.endpoint.region = EnvOr("AWS_REGION", EnvOr("AWS_DEFAULT_REGION", "us-east-1"));
  if (EnvOr("STEPLINE_S3_PATH_STYLE", "") == "true") {
    args.addressing = static_cast<int>(a::Addressing::kPathStyle);
  }
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> Result<std::string> {
      if (i + 1 >= argc) return Status::InvalidArgument(arg + " needs a value");
      return std::string(argv[++i]);
    };
    Result<std::string> v = std::string();
    if (arg == "--endpoint" && (v = value()).ok())
      args.client.endpoint.url = *v;
    else if (arg == "--region" && (v = value()).ok())
      args.client.endpoint.region = *v;
    else if (arg == "--credentials-dir" && (v = value()).ok())
      args.credentials_dir = *v;
    else if (arg == "--ca-file" && (v = value()).ok())
      args.client.ca_file = *v;
    else if (arg == "--resolve" && (v = value()).ok())
      args.client.resolve.push_back(*v);
    else if (arg == "--error-file" && (v = value()).ok())
      args.error_file = *v;
    else if (arg == "--part-size" && (v = value()).ok()) {
      char* end = nullptr;
      unsigned long long n = std::strtoull(v->c_str(), &end, 10);
      if (end == v->c_str() || *end != '\0' || n < (5ULL << 20)) {
        return Status::InvalidArgument("--part-size must be a number of bytes >= 5242880");
      }
      args.client.part_size = n;
    } else if (arg == "--path-style")
      args.addressing = static_cast<int>(a::Addressing::kPathStyle);
    else if (arg == "--virtual-hosted") {
      args.addressing = static_cast<int>(a::Addressing::kVirtualHosted);
    } else if (arg == "--anonymous")
      args.anonymous = true;
    else if (arg == "--wait-for-term")
      args.wait_for_term = true;
    else if (arg == "--tar-gz")
      args.tar_gz = true;
    else if (!arg.empty() && arg[0] == '-')
      return Status::InvalidArgument("unknown option " + arg);
    else
      positional.push_back(arg);
    if (!v.ok()) return v.status();
  }
  if (positional.size() != 3 || (positional[0] != "download" && positional[0] != "upload")) {
    return Status::InvalidArgument("expected download SRC DEST or upload SRC DEST");
  }
  args.command = positional[0];
  args.from = positional[1];
  args.to = positional[2];
  if (args.addressing < 0) {
    args.addressing =
        static_cast<int>(args.client.endpoint.url.empty() ? a::Addressing::kVirtualHosted
                                                          : a::Addressing::kPathStyle);
  }
  args.client.endpoint.addressing = static_cast<a::Addressing>(args.addressing);
  return args;
}

Result<AwsCredentials> FindCredentials(const Args& args) {
  if (args.anonymous) return AwsCredentials{};
  if (!args.credentials_dir.empty()) return a::CredentialsFromDirectory(args.credentials_dir);
  auto env = a::CredentialsFromEnv(a::ProcessEnv);
  if (!env.ok()) return env.status();
  if (env->has_value()) return **env;
  auto identity = a::WebIdentityFromEnv(a::ProcessEnv);
  if (!identity.ok()) return identity.status();
  if (identity->has_value()) return a::AssumeRoleWithWebIdentity(**identity, args.client.ca_file);
  return Status::InvalidArgument(
      "no credentials: give --credentials-dir, set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
      "or AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE (or --anonymous for a public bucket)");
}

int Fail(const Args* args, const std::string& message, int code) {
  std::fprintf(stderr, "stepline-artifacts: %s\n", message.c_str());
  if (args != nullptr && !args->error_file.empty()) {
    std::ofstream(args->error_file) << message;
  }
  return code;
}

// Blocks until SIGTERM or SIGINT arrives (they were blocked in main, before any thread).
void WaitForTerm() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  int sig = 0;
  sigwait(&set, &sig);
  std::fprintf(stderr, "stepline-artifacts: signal %d: starting\n", sig);
}

// The archive is written beside PATH (in the pod: the staging volume), sent, and removed.
Result<a::TransferSummary> UploadTarGz(a::S3Client& client, std::string path,
                                       const a::S3Location& location) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  const std::string archive = path + ".stepline.tar.gz";
  Status packed = a::WriteTarGz(path, archive);
  auto done = packed.ok() ? client.Upload(archive, location) : Result<a::TransferSummary>(packed);
  std::remove(archive.c_str());
  if (!packed.ok())
    return Status::InvalidArgument("PUT " + location.Uri() + ": " + packed.message());
  return done;
}

// The archive is downloaded beside PATH and unpacked into it; a prefix (no such object, objects
// under KEY/) lands in PATH as it is, as without --tar-gz.
Result<a::TransferSummary> DownloadTarGz(a::S3Client& client, const a::S3Location& location,
                                         std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  const std::string archive = path + ".stepline.tar.gz";
  auto done = client.Download(location, archive);
  if (!done.ok()) return done;
  std::error_code ec;
  if (std::filesystem::is_directory(archive, ec)) {
    std::filesystem::remove_all(path, ec);
    std::filesystem::rename(archive, path, ec);
    if (ec) return Status::InvalidArgument("cannot move " + archive + " to " + path);
    return done;
  }
  auto unpacked = a::ReadTarGz(archive, path);
  std::remove(archive.c_str());
  if (!unpacked.ok()) {
    return Status::InvalidArgument("GET " + location.Uri() + ": " + unpacked.status().message());
  }
  std::fprintf(stderr, "stepline-artifacts: unpacked %d file(s), %llu bytes into %s\n",
               unpacked->files, static_cast<unsigned long long>(unpacked->bytes), path.c_str());
  return done;
}

int Run(const Args& args) {
  if (args.wait_for_term) WaitForTerm();
  if (auto s = a::ValidateEndpoint(args.client.endpoint); !s.ok()) {
    return Fail(&args, s.message(), 2);
  }
  const std::string& uri = args.command == "download" ? args.from : args.to;
  auto location = a::ParseS3Uri(uri);
  if (!location.ok()) return Fail(&args, location.status().message(), 2);
  auto creds = FindCredentials(args);
  if (!creds.ok()) return Fail(&args, creds.status().message(), 1);
  a::S3ClientOptions options = args.client;
  options.credentials = *creds;
  a::S3Client client(options);
  auto done = args.command == "download" ? (args.tar_gz ? DownloadTarGz(client, *location, args.to)
                                                        : client.Download(*location, args.to))
              : args.tar_gz              ? UploadTarGz(client, args.from, *location)
                                         : client.Upload(args.from, *location);
  if (!done.ok()) return Fail(&args, done.status().message(), 1);
  std::fprintf(stderr, "stepline-artifacts: %s %s -> %s: %d object(s), %llu bytes\n",
               args.command.c_str(), args.from.c_str(), args.to.c_str(), done->objects,
               static_cast<unsigned long long>(done->bytes));
  return 0;
}

// `write PATH [--error-file F]`: the raw artifact's text into PATH.
int RunWrite(int argc, char** argv) {
  Args args;
  std::vector<std::string> positional;
  for (int i = 2; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--error-file" && i + 1 < argc) {
      args.error_file = argv[++i];
    } else if (!arg.empty() && arg[0] == '-') {
      return Fail(&args, "write: unknown option " + arg + "\n" + kUsage, 2);
    } else {
      positional.push_back(arg);
    }
  }
  const char* data = std::getenv("STEPLINE_ARTIFACT_DATA");
  if (positional.size() != 1 || data == nullptr) {
    return Fail(&args, std::string("write: expected PATH and STEPLINE_ARTIFACT_DATA\n") + kUsage,
                2);
  }
  const std::filesystem::path path = positional[0];
  std::error_code ec;
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
  out.close();
  if (ec || !out) return Fail(&args, "write " + path.string() + ": cannot write the file", 1);
  std::fprintf(stderr, "stepline-artifacts: wrote %zu bytes to %s\n", std::strlen(data),
               path.c_str());
  return 0;
}

// A flag's whole value as a decimal integer of at least min.
bool NumberAtLeast(const std::string& text, long long min, long long* out) {
  char* end = nullptr;
  *out = std::strtoll(text.c_str(), &end, 10);
  return !text.empty() && *end == '\0' && *out >= min;
}

// `join PATH --items N [--error-file F] PART...`: a stored fan-in's parts into one list at PATH.
int RunJoin(int argc, char** argv) {
  Args args;
  std::vector<std::string> positional;
  long long items = -1;
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--error-file" && i + 1 < argc) {
      args.error_file = argv[++i];
    } else if (arg == "--items" && i + 1 < argc) {
      const std::string value = argv[++i];
      if (!NumberAtLeast(value, 0, &items)) {
        return Fail(&args, "join: --items " + value + " is no count\n" + kUsage, 2);
      }
    } else if (!arg.empty() && arg[0] == '-') {
      return Fail(&args, "join: unknown option " + arg + "\n" + kUsage, 2);
    } else {
      positional.push_back(arg);
    }
  }
  if (positional.empty() || items < 0) {
    return Fail(&args, std::string("join: expected PATH, --items N and the parts\n") + kUsage, 2);
  }
  const std::vector<std::string> parts(positional.begin() + 1, positional.end());
  Result<a::JoinedFanIn> joined = a::JoinFanIn(parts, items, positional[0]);
  if (!joined.ok()) return Fail(&args, joined.status().message(), 1);
  std::fprintf(stderr, "stepline-artifacts: joined %zu part(s), %lld items, %llu bytes into %s\n",
               parts.size(), static_cast<long long>(joined->items),
               static_cast<unsigned long long>(joined->bytes), positional[0].c_str());
  return 0;
}

// Calls handle(FLAG, VALUE) for each "--flag value" pair after the subcommand; returns the first
// problem (handle's, or a flag without its value), "" when none.
std::string ForEachFlag(
    int argc, char** argv,
    const std::function<std::string(const std::string& flag, const std::string& value)>& handle) {
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) {
      return arg.rfind("--", 0) == 0 ? arg + " needs a value" : "unexpected " + arg;
    }
    std::string problem = handle(arg, argv[++i]);
    if (!problem.empty()) return problem;
  }
  return "";
}

// `transform --input DIR --output DIR [options]`: transform.h.
int RunTransform(int argc, char** argv) {
  Args args;
  a::TransformOptions o;
  std::string problem = ForEachFlag(argc, argv, [&](const std::string& arg, const std::string& v) {
    std::string problem;
    long long n = 0;
    if (arg == "--input")
      o.input_dir = v;
    else if (arg == "--output")
      o.output_dir = v;
    else if (arg == "--server")
      o.server = v;
    else if (arg == "--content-type")
      o.content_type = v;
    else if (arg == "--accept")
      o.accept = v;
    else if (arg == "--error-file")
      args.error_file = v;
    else if (arg == "--split-type") {
      if (!a::ParseSplitType(v, &o.split))
        problem = "--split-type: None, Line, RecordIO or TFRecord";
    } else if (arg == "--batch-strategy") {
      if (!a::ParseBatchStrategy(v, &o.batch))
        problem = "--batch-strategy: MultiRecord or SingleRecord";
    } else if (arg == "--assemble-with") {
      if (!a::ParseAssembleWith(v, &o.assemble)) problem = "--assemble-with: None or Line";
    } else if (arg == "--max-payload-mb") {
      if (NumberAtLeast(v, 0, &n) && n <= 100)
        o.max_payload_bytes = static_cast<uint64_t>(n) << 20;
      else
        problem = "--max-payload-mb: a number of MB from 0 to 100";
    } else if (arg == "--ping-timeout") {
      if (NumberAtLeast(v, 1, &n))
        o.ping_timeout_seconds = static_cast<int>(std::min(n, 86400LL));
      else
        problem = "--ping-timeout: a positive number of seconds";
    } else if (arg == "--invocation-timeout") {
      if (NumberAtLeast(v, 1, &n))
        o.invocation_timeout_seconds = static_cast<int>(std::min(n, 86400LL));
      else
        problem = "--invocation-timeout: a positive number of seconds";
    } else if (arg == "--max-retries") {
      if (NumberAtLeast(v, 0, &n) && n <= 3)
        o.max_retries = static_cast<int>(n);
      else
        problem = "--max-retries: 0 to 3";
    } else {
      problem = "unknown option " + arg;
    }
    return problem;
  });
  if (problem.empty() && (o.input_dir.empty() || o.output_dir.empty())) {
    problem = "--input and --output are required";
  }
  if (!problem.empty()) return Fail(&args, "transform: " + problem + "\n" + kUsage, 2);
  auto done = a::RunTransform(o);
  if (!done.ok()) return Fail(&args, done.status().message(), 1);
  std::fprintf(stderr,
               "stepline-artifacts: transform: %d file(s), %llu record(s), %d request(s), %llu "
               "bytes sent, %llu bytes written\n",
               done->files, static_cast<unsigned long long>(done->records), done->requests,
               static_cast<unsigned long long>(done->bytes_in),
               static_cast<unsigned long long>(done->bytes_out));
  return 0;
}

// The step's outputs travel in its termination message, which the kubelet cuts at 4096 bytes.
constexpr size_t kMaxTerminationMessage = 4096;

// `invoke --function NAME [options]`: invoke.h.
int RunInvoke(int argc, char** argv) {
  Args args;
  a::InvokeOptions o;
  std::vector<a::EventField> fields;
  std::string outputs_file, url_source;
  if (const char* url = std::getenv("STEPLINE_FUNCTION_URL")) o.url = url;
  std::string problem = ForEachFlag(argc, argv, [&](const std::string& arg, const std::string& v) {
    std::string problem;
    if (arg == "--function") {
      o.function = v;
    } else if (arg == "--url") {
      o.url = v;
    } else if (arg == "--arg" || arg == "--json-arg") {
      size_t eq = v.find('=');
      if (eq == std::string::npos || eq == 0) problem = arg + ": NAME=VALUE";
      fields.push_back(
          {v.substr(0, eq), eq == std::string::npos ? "" : v.substr(eq + 1), arg == "--json-arg"});
    } else if (arg == "--output") {
      o.outputs.push_back(v);
    } else if (arg == "--timeout") {
      long long n = 0;
      if (NumberAtLeast(v, 1, &n))
        o.timeout_seconds = static_cast<int>(std::min(n, 86400LL));
      else
        problem = "--timeout: a positive number of seconds";
    } else if (arg == "--outputs-file") {
      outputs_file = v;
    } else if (arg == "--error-file") {
      args.error_file = v;
    } else if (arg == "--url-source") {
      url_source = v;
    } else if (arg == "--ca-file") {
      o.ca_file = v;
    } else {
      problem = "unknown option " + arg;
    }
    return problem;
  });
  if (problem.empty() && o.function.empty()) problem = "--function is required";
  if (!problem.empty()) return Fail(&args, "invoke: " + problem + "\n" + kUsage, 2);
  if (o.url.empty()) {
    return Fail(&args,
                "function \"" + o.function + "\" has no URL" +
                    (url_source.empty() ? " (give --url or STEPLINE_FUNCTION_URL)"
                                        : ": set it in " + url_source),
                1);
  }
  auto event = a::BuildEvent(fields);
  if (!event.ok()) return Fail(&args, "invoke: " + event.status().message(), 2);
  o.event = std::move(event).value();
  auto outputs = a::InvokeFunction(o);
  if (!outputs.ok()) return Fail(&args, outputs.status().message(), 1);
  const std::string text = outputs->dump();
  if (!outputs_file.empty() && text.size() > kMaxTerminationMessage) {
    return Fail(&args,
                "function \"" + o.function + "\" answered outputs of " +
                    std::to_string(text.size()) + " bytes; a step's outputs must fit in " +
                    std::to_string(kMaxTerminationMessage) + " (its termination message)",
                1);
  }
  if (!outputs_file.empty()) {
    std::ofstream out(outputs_file, std::ios::trunc);
    out << text;
    if (!out) return Fail(&args, "invoke: cannot write " + outputs_file, 1);
  }
  std::fprintf(stderr, "stepline-artifacts: invoke: function \"%s\" answered %zu output(s)\n",
               o.function.c_str(), o.outputs.size());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::string(argv[1]) == "write") return RunWrite(argc, argv);
  if (argc >= 2 && std::string(argv[1]) == "join") return RunJoin(argc, argv);
  if (argc >= 2 && std::string(argv[1]) == "transform") return RunTransform(argc, argv);
  if (argc >= 2 && std::string(argv[1]) == "invoke") return RunInvoke(argc, argv);
  sigset_t term;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  sigaddset(&term, SIGINT);
  // Blocked for --wait-for-term (sigwait), and harmless otherwise: a plain run ends by itself.
  if (std::find(argv, argv + argc, std::string("--wait-for-term")) != argv + argc) {
    pthread_sigmask(SIG_BLOCK, &term, nullptr);
  }
  auto args = ParseArgs(argc, argv);
  if (!args.ok()) {
    std::fprintf(stderr, "stepline-artifacts: %s\n%s", args.status().message().c_str(), kUsage);
    return 2;
  }
  return Run(*args);
}
