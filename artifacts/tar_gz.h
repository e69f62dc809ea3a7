// Packs a file or a directory into a gzip-compressed tar archive (POSIX ustar), streamed: the
// files are read in chunks, nothing is held whole in memory. A directory's contents are at the
// archive's root (as SageMaker's model.tar.gz of /opt/ml/model); a file is its only member.
// Regular files and directories only (symbolic links and others are refused, naming them).
// Stateless; safe from any thread.
#pragma once

#include <string>

#include "k8sclient/status.h"

namespace stepline::artifacts {

// Writes the archive of `source` to the file `archive` (truncated). InvalidArgument names what
// could not be read or written, or a path too long for ustar (name 100, prefix 155 bytes).
[[nodiscard]] k8s::Status WriteTarGz(const std::string& source, const std::string& archive);

}  // namespace stepline::artifacts
