// Packs a file or a directory into a gzip-compressed tar archive (POSIX ustar), streamed: the
// files are read in chunks, nothing is held whole in memory. A directory's contents are at the
// archive's root (as SageMaker's model.tar.gz of /opt/ml/model); a file is its only member.
// Regular files and directories only (symbolic links and others are refused, naming them).
// Unpacks such archives too, and those of GNU tar and Python's tarfile (ustar, GNU long names,
// pax path and size records), streamed the same way.
// Stateless; safe from any thread.
#pragma once

#include <cstdint>
#include <string>

#include "k8sclient/status.h"

namespace stepline::artifacts {

// Writes the archive of `source` to the file `archive` (truncated). InvalidArgument names what
// could not be read or written, or a path too long for ustar (name 100, prefix 155 bytes).
[[nodiscard]] k8s::Status WriteTarGz(const std::string& source, const std::string& archive);

// What ReadTarGz unpacked.
struct UnpackSummary {
  int files = 0;
  uint64_t bytes = 0;
};

// Unpacks the gzip-compressed tar archive `archive` into the directory `dest` (created):
// regular files (with their permission bits), directories, and symbolic links whose target
// stays inside `dest`. InvalidArgument names the member for anything else: an absolute path or
// one with "..", a link that leaves `dest`, a hard link or device, a truncated or corrupt archive.
[[nodiscard]] k8s::Result<UnpackSummary> ReadTarGz(const std::string& archive,
                                                   const std::string& dest);

}  // namespace stepline::artifacts
