// Small helpers for reading and writing whole files. Stateless; safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace stepline::localagent {

// The whole file, or nullopt when it cannot be read.
std::optional<std::string> ReadWholeFile(const std::string& path);
// At most max_bytes from the start of the file ("" when missing or empty).
std::string ReadFileHead(const std::string& path, int64_t max_bytes);
// At most max_bytes from the end of the file ("" when missing or empty).
std::string ReadFileTail(const std::string& path, int64_t max_bytes);
// Writes text (truncating); false on any error. For cgroup control files too.
bool WriteWholeFile(const std::string& path, const std::string& text);
// mkdir -p; false on error.
bool MakeDirs(const std::string& path);

}  // namespace stepline::localagent
