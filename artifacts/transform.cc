#include "artifacts/transform.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "artifacts/s3_http.h"

namespace stepline::artifacts {
namespace {

namespace fs = std::filesystem;
using k8s::Result;
using k8s::Status;

Status Failed(const std::string& what) { return Status::InvalidArgument("transform: " + what); }

uint32_t Le32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return u[0] | (u[1] << 8) | (u[2] << 16) | (static_cast<uint32_t>(u[3]) << 24);
}

uint64_t Le64(const char* p) { return Le32(p) | (static_cast<uint64_t>(Le32(p + 4)) << 32); }

// Reads one file's records, each with its framing (a line with its newline, a RecordIO or
// TFRecord record with its header and padding: what the model server would read from a file).
class RecordReader {
 public:
  RecordReader(const fs::path& file, SplitType split, uint64_t limit)
      : in_(file, std::ios::binary), name_(file.string()), split_(split), limit_(limit) {}

  bool is_open() const { return in_.is_open(); }
  uint64_t offset() const { return offset_; }

  // The next record into *out; false at the end of the file.
  Result<bool> Next(std::string* out) {
    out->clear();
    switch (split_) {
      case SplitType::kNone:
        return Whole(out);
      case SplitType::kLine:
        return Line(out);
      case SplitType::kRecordIO:
        return RecordIO(out);
      case SplitType::kTFRecord:
        return TFRecord(out);
    }
    return false;
  }

 private:
  Status TooLarge(uint64_t size) const {
    return Failed(name_ + ": a record at byte " + std::to_string(offset_) + " is " +
                  std::to_string(size) + " bytes, more than MaxPayloadInMB allows (" +
                  std::to_string(limit_) + " bytes)");
  }

  Status Read(std::string* out, uint64_t size, const char* what) {
    const size_t at = out->size();
    out->resize(at + size);
    in_.read(out->data() + at, static_cast<std::streamsize>(size));
    if (static_cast<uint64_t>(in_.gcount()) != size) {
      return Failed(name_ + ": truncated " + what + " at byte " + std::to_string(offset_));
    }
    return Status::Ok();
  }

  Result<bool> Whole(std::string* out) {
    if (done_) return false;
    done_ = true;
    std::error_code ec;
    const uint64_t size = fs::file_size(name_, ec);
    if (ec) return Failed("cannot read " + name_ + ": " + ec.message());
    if (limit_ > 0 && size > limit_) return TooLarge(size);
    if (Status s = Read(out, size, "file"); !s.ok()) return s;
    offset_ = size;
    return true;
  }

  // A line and its '\n' (the last line may have none); empty lines are no records.
  Result<bool> Line(std::string* out) {
    while (std::getline(in_, *out)) {
      const bool newline = !in_.eof();
      const uint64_t size = out->size() + (newline ? 1 : 0);
      const uint64_t start = offset_;
      offset_ += size;
      if (out->empty() || *out == "\r") continue;
      if (newline) out->push_back('\n');
      if (limit_ > 0 && size > limit_) {
        offset_ = start;
        return TooLarge(size);
      }
      return true;
    }
    return false;
  }

  // MXNet RecordIO: magic 0xced7230a, then (flag << 29 | length), the data padded to 4 bytes;
  // a record split in parts (flags 1, 2, 3) is read whole.
  Result<bool> RecordIO(std::string* out) {
    const uint64_t start = offset_;
    while (true) {
      char header[8];
      in_.read(header, sizeof(header));
      if (in_.gcount() == 0 && out->empty()) return false;
      if (in_.gcount() != sizeof(header) || Le32(header) != 0xced7230aU) {
        return Failed(name_ + ": not a RecordIO record at byte " + std::to_string(offset_) +
                      " (SplitType RecordIO)");
      }
      const uint32_t word = Le32(header + 4);
      const uint32_t flag = word >> 29;
      const uint64_t length = word & ((1u << 29) - 1);
      const uint64_t padded = (length + 3) / 4 * 4;
      if (limit_ > 0 && out->size() + 8 + padded > limit_) {
        offset_ = start;
        return TooLarge(out->size() + 8 + padded);
      }
      out->append(header, sizeof(header));
      if (Status s = Read(out, padded, "RecordIO record"); !s.ok()) return s;
      offset_ += 8 + padded;
      if (flag == 0 || flag == 3) return true;
    }
  }

  // TFRecord: length (8 bytes), its CRC (4), the data, its CRC (4).
  Result<bool> TFRecord(std::string* out) {
    char header[12];
    in_.read(header, sizeof(header));
    if (in_.gcount() == 0) return false;
    if (in_.gcount() != sizeof(header)) {
      return Failed(name_ + ": truncated TFRecord header at byte " + std::to_string(offset_) +
                    " (SplitType TFRecord)");
    }
    const uint64_t length = Le64(header);
    if (limit_ > 0 && length + 16 > limit_) return TooLarge(length + 16);
    if (limit_ == 0 && length > (1ull << 32)) {
      return Failed(name_ + ": not a TFRecord file (a record of " + std::to_string(length) +
                    " bytes at byte " + std::to_string(offset_) + ")");
    }
    out->append(header, sizeof(header));
    if (Status s = Read(out, length + 4, "TFRecord record"); !s.ok()) return s;
    offset_ += length + 16;
    return true;
  }

  std::ifstream in_;
  std::string name_;
  SplitType split_;
  uint64_t limit_;
  uint64_t offset_ = 0;
  bool done_ = false;
};

std::string Trimmed(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

Status WaitForPing(const TransformOptions& o) {
  const std::string url = Trimmed(o.server) + "/ping";
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(o.ping_timeout_seconds);
  HttpSettings settings;
  settings.connect_timeout_ms = 2000;
  settings.timeout_ms = 10'000;
  std::string last = "no answer";
  while (true) {
    HttpCall call{.method = "GET", .url = url};
    auto answer = Perform(call, settings);
    if (answer.ok() && answer->http_code == 200) return Status::Ok();
    last = answer.ok()
               ? "HTTP " + std::to_string(answer->http_code) + ": " + AnswerExcerpt(answer->body)
               : answer.status().message();
    if (std::chrono::steady_clock::now() >= deadline) {
      return Failed("the model server did not become ready: GET " + url + " gave no 200 within " +
                    std::to_string(o.ping_timeout_seconds) + " s (last: " + last + ")");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
}

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

// POSTs body (records first..last of file) and appends the answer to out; retried as
// SageMaker's InvocationsMaxRetries.
Status Invoke(const TransformOptions& o, const std::string& body, const std::string& what,
              std::ofstream& out, TransformSummary* summary) {
  HttpCall call{.method = "POST", .url = Trimmed(o.server) + "/invocations"};
  call.headers = {"Expect:",
                  o.content_type.empty() ? "Content-Type:" : "Content-Type: " + o.content_type};
  if (!o.accept.empty()) call.headers.push_back("Accept: " + o.accept);
  call.body = body;
  HttpSettings settings;
  settings.timeout_ms = static_cast<long>(o.invocation_timeout_seconds) * 1000;
  std::string last;
  for (int attempt = 0; attempt <= o.max_retries; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(o.retry_delay_ms));
    std::unique_ptr<std::FILE, FileCloser> sink(std::tmpfile());
    if (!sink) return Failed("cannot create a temporary file for the answer");
    call.sink_file = sink.get();
    auto answer = Perform(call, settings);
    ++summary->requests;
    if (!answer.ok()) {
      last = answer.status().message();
      continue;
    }
    if (answer->http_code < 200 || answer->http_code > 299) {
      last = "HTTP " + std::to_string(answer->http_code) + ": " + AnswerExcerpt(answer->body);
      continue;
    }
    std::rewind(sink.get());
    char buffer[1 << 16];
    size_t n = 0;
    char final_byte = '\n';
    while ((n = std::fread(buffer, 1, sizeof(buffer), sink.get())) > 0) {
      out.write(buffer, static_cast<std::streamsize>(n));
      summary->bytes_out += n;
      final_byte = buffer[n - 1];
    }
    if (o.assemble == AssembleWith::kLine && answer->bytes_written > 0 && final_byte != '\n') {
      out.put('\n');
      ++summary->bytes_out;
    }
    summary->bytes_in += body.size();
    if (!out) return Failed("cannot write the answer to " + what);
    return Status::Ok();
  }
  return Failed("POST " + call.url + " failed for " + what + " (" +
                std::to_string(o.max_retries + 1) + " attempt(s)): " + last);
}

// Writes REL.out.partial, renamed REL.out once complete: a file that failed leaves no output
// (those done before it stay, as SageMaker's).
Status TransformFileTo(const TransformOptions& o, const fs::path& file, const fs::path& rel,
                       const fs::path& target, const fs::path& partial, TransformSummary* summary) {
  std::error_code ec;
  fs::create_directories(target.parent_path(), ec);
  std::ofstream out(partial, std::ios::binary | std::ios::trunc);
  if (ec || !out) return Failed("cannot write " + target.string());
  RecordReader reader(file, o.split, o.max_payload_bytes);
  if (!reader.is_open()) return Failed("cannot read " + file.string());
  const bool single = o.split == SplitType::kNone || o.batch == BatchStrategy::kSingleRecord;
  std::string batch, record;
  uint64_t first = 1, count = 0;  // records of the batch: first..first+count-1 (1-based)
  auto flush = [&]() -> Status {
    if (count == 0) return Status::Ok();
    std::string what = rel.string();
    if (o.split != SplitType::kNone) {
      what += count == 1 ? " (record " + std::to_string(first) + ")"
                         : " (records " + std::to_string(first) + "-" +
                               std::to_string(first + count - 1) + ")";
    }
    Status s = Invoke(o, batch, what, out, summary);
    summary->records += count;
    first += count;
    count = 0;
    batch.clear();
    return s;
  };
  while (true) {
    auto more = reader.Next(&record);
    if (!more.ok()) return more.status();
    if (!*more) break;
    const bool fits =
        o.max_payload_bytes == 0 || batch.size() + record.size() <= o.max_payload_bytes;
    if (count > 0 && (single || !fits)) {
      if (Status s = flush(); !s.ok()) return s;
    }
    batch += record;
    ++count;
  }
  if (Status s = flush(); !s.ok()) return s;
  out.close();
  fs::rename(partial, target, ec);
  if (!out || ec) return Failed("cannot write " + target.string());
  ++summary->files;
  std::fprintf(stderr, "stepline-artifacts: transform %s -> %s\n", rel.c_str(), target.c_str());
  return Status::Ok();
}

Status TransformFile(const TransformOptions& o, const fs::path& file, const fs::path& rel,
                     TransformSummary* summary) {
  const fs::path target = fs::path(o.output_dir) / (rel.string() + ".out");
  const fs::path partial = target.string() + ".partial";
  Status s = TransformFileTo(o, file, rel, target, partial, summary);
  std::error_code ec;
  if (!s.ok()) fs::remove(partial, ec);
  return s;
}

struct Named {
  const char* name;
  int value;
};

template <typename E, size_t N>
bool ParseNamed(const Named (&table)[N], const std::string& name, E* out) {
  for (const Named& n : table) {
    if (name == n.name) {
      *out = static_cast<E>(n.value);
      return true;
    }
  }
  return false;
}

constexpr Named kSplitTypes[] = {{"None", static_cast<int>(SplitType::kNone)},
                                 {"Line", static_cast<int>(SplitType::kLine)},
                                 {"RecordIO", static_cast<int>(SplitType::kRecordIO)},
                                 {"TFRecord", static_cast<int>(SplitType::kTFRecord)}};
constexpr Named kBatchStrategies[] = {
    {"MultiRecord", static_cast<int>(BatchStrategy::kMultiRecord)},
    {"SingleRecord", static_cast<int>(BatchStrategy::kSingleRecord)}};
constexpr Named kAssembleWith[] = {{"None", static_cast<int>(AssembleWith::kNone)},
                                   {"Line", static_cast<int>(AssembleWith::kLine)}};

}  // namespace

bool ParseSplitType(const std::string& name, SplitType* out) {
  return ParseNamed(kSplitTypes, name, out);
}
bool ParseBatchStrategy(const std::string& name, BatchStrategy* out) {
  return ParseNamed(kBatchStrategies, name, out);
}
bool ParseAssembleWith(const std::string& name, AssembleWith* out) {
  return ParseNamed(kAssembleWith, name, out);
}

k8s::Result<TransformSummary> RunTransform(const TransformOptions& o) {
  if (o.max_payload_bytes == 0 && o.split != SplitType::kNone) {
    return Failed("MaxPayloadInMB 0 (no limit) needs SplitType None");
  }
  std::vector<fs::path> files;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(o.input_dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (it->is_regular_file()) files.push_back(it->path());
  }
  if (ec) return Failed("cannot list the input " + o.input_dir + ": " + ec.message());
  std::sort(files.begin(), files.end());
  if (files.empty()) return Failed("no input files under " + o.input_dir);
  if (Status s = WaitForPing(o); !s.ok()) return s;
  TransformSummary summary;
  for (const fs::path& file : files) {
    Status s = TransformFile(o, file, fs::relative(file, o.input_dir), &summary);
    if (!s.ok()) return s;
  }
  return summary;
}

}  // namespace stepline::artifacts
