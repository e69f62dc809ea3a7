#include "artifacts/tar_gz.h"

#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <vector>

namespace stepline::artifacts {
namespace {

namespace fs = std::filesystem;
using Block = std::array<char, 512>;

struct GzCloser {
  void operator()(gzFile f) const { gzclose(f); }
};
using Gz = std::unique_ptr<gzFile_s, GzCloser>;

// value as width-1 octal digits (zero-padded), then NUL, as ustar's numeric fields are.
void Octal(char* field, size_t width, uint64_t value) {
  char digits[32];
  std::snprintf(digits, sizeof(digits), "%0*llo", static_cast<int>(width - 1),
                static_cast<unsigned long long>(value));
  std::memcpy(field, digits, width - 1);
  field[width - 1] = '\0';
}

// A ustar header for `name` (a relative path; a directory's ends in '/').
k8s::Status Header(const std::string& name, uint64_t size, int mode, int64_t mtime, bool dir,
                   Block* out) {
  Block& h = *out;
  h.fill(0);
  std::string prefix, base = name;
  if (name.size() > 100) {
    size_t cut = name.rfind('/', name.size() - 2);
    while (cut != std::string::npos && cut > 155) cut = name.rfind('/', cut - 1);
    if (cut == std::string::npos || name.size() - cut - 1 > 100) {
      return k8s::Status::InvalidArgument("tar: path too long for ustar: " + name);
    }
    prefix = name.substr(0, cut);
    base = name.substr(cut + 1);
  }
  std::memcpy(h.data(), base.data(), base.size());
  Octal(h.data() + 100, 8, static_cast<uint64_t>(mode & 07777));
  Octal(h.data() + 108, 8, 0);
  Octal(h.data() + 116, 8, 0);
  Octal(h.data() + 124, 12, size);
  Octal(h.data() + 136, 12, static_cast<uint64_t>(std::max<int64_t>(mtime, 0)));
  std::memset(h.data() + 148, ' ', 8);
  h[156] = dir ? '5' : '0';
  std::memcpy(h.data() + 257, "ustar", 6);
  std::memcpy(h.data() + 263, "00", 2);
  std::memcpy(h.data() + 345, prefix.data(), prefix.size());
  unsigned sum = 0;
  for (char c : h) sum += static_cast<unsigned char>(c);
  Octal(h.data() + 148, 7, sum);  // six digits, NUL, then the space already there

  return k8s::Status::Ok();
}

bool Write(gzFile gz, const char* data, size_t size) {
  return size == 0 || gzwrite(gz, data, static_cast<unsigned>(size)) == static_cast<int>(size);
}

k8s::Status AddEntry(gzFile gz, const fs::path& file, const std::string& name) {
  struct stat st {};
  if (::lstat(file.c_str(), &st) != 0) {
    return k8s::Status::InvalidArgument("tar: cannot read " + file.string());
  }
  const bool dir = S_ISDIR(st.st_mode);
  if (!dir && !S_ISREG(st.st_mode)) {
    return k8s::Status::InvalidArgument("tar: " + file.string() +
                                        " is neither a regular file nor a directory");
  }
  Block header;
  const uint64_t size = dir ? 0 : static_cast<uint64_t>(st.st_size);
  if (auto s = Header(dir ? name + "/" : name, size, static_cast<int>(st.st_mode), st.st_mtime, dir,
                      &header);
      !s.ok()) {
    return s;
  }
  if (!Write(gz, header.data(), header.size())) {
    return k8s::Status::InvalidArgument("tar: cannot write the archive");
  }
  if (dir) return k8s::Status::Ok();
  std::unique_ptr<FILE, int (*)(FILE*)> in(std::fopen(file.c_str(), "rb"), &std::fclose);
  if (!in) return k8s::Status::InvalidArgument("tar: cannot read " + file.string());
  std::vector<char> buffer(1 << 20);
  uint64_t left = size;
  while (left > 0) {
    size_t n = std::fread(buffer.data(), 1, std::min<uint64_t>(buffer.size(), left), in.get());
    if (n == 0 || !Write(gz, buffer.data(), n)) {
      return k8s::Status::InvalidArgument("tar: cannot copy " + file.string());
    }
    left -= n;
  }
  static const Block kZeros{};
  return Write(gz, kZeros.data(), (512 - size % 512) % 512)
             ? k8s::Status::Ok()
             : k8s::Status::InvalidArgument("tar: cannot write the archive");
}

}  // namespace

k8s::Status WriteTarGz(const std::string& source, const std::string& archive) {
  Gz gz(gzopen(archive.c_str(), "wb"));
  if (!gz) return k8s::Status::InvalidArgument("tar: cannot create " + archive);
  std::error_code ec;
  fs::path root(source);
  if (!fs::is_directory(root, ec)) {
    if (auto s = AddEntry(gz.get(), root, root.filename().string()); !s.ok()) return s;
  } else {
    std::vector<fs::path> entries;
    for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::end(it);
         it.increment(ec)) {
      entries.push_back(it->path());
    }
    if (ec) return k8s::Status::InvalidArgument("tar: cannot list " + source + ": " + ec.message());
    std::sort(entries.begin(), entries.end());
    for (const fs::path& p : entries) {
      if (auto s = AddEntry(gz.get(), p, fs::relative(p, root).string()); !s.ok()) return s;
    }
  }
  static const Block kZeros{};
  for (int i = 0; i < 2; ++i) {
    if (!Write(gz.get(), kZeros.data(), kZeros.size())) {
      return k8s::Status::InvalidArgument("tar: cannot write " + archive);
    }
  }
  if (gzclose(gz.release()) != Z_OK) {
    return k8s::Status::InvalidArgument("tar: cannot write " + archive);
  }
  return k8s::Status::Ok();
}

}  // namespace stepline::artifacts
