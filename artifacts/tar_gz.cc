#include "artifacts/tar_gz.h"

#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string_view>
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

// ---- unpacking ----

k8s::Status Corrupt(const std::string& archive, const std::string& what) {
  return k8s::Status::InvalidArgument("untar " + archive + ": " + what);
}

// A ustar numeric field: octal digits (spaces and NULs around them), or GNU's base-256 form for
// sizes of 8 GiB and more (the first byte's high bit set).
bool ParseNumber(const char* field, size_t width, uint64_t* out) {
  const auto* u = reinterpret_cast<const unsigned char*>(field);
  uint64_t value = 0;
  if ((u[0] & 0x80) != 0) {
    for (size_t i = 1; i < width; ++i) {
      if (value >> 56) return false;
      value = (value << 8) | u[i];
    }
    *out = value;
    return true;
  }
  size_t i = 0;
  while (i < width && (field[i] == ' ' || field[i] == '\0')) ++i;
  for (; i < width && field[i] >= '0' && field[i] <= '7'; ++i) {
    if (value >> 60) return false;
    value = value * 8 + static_cast<uint64_t>(field[i] - '0');
  }
  for (; i < width; ++i) {
    if (field[i] != ' ' && field[i] != '\0') return false;
  }
  *out = value;
  return true;
}

std::string FieldText(const char* field, size_t width) {
  return std::string(field, strnlen(field, width));
}

// name without "./" and trailing '/'; "" when it escapes (absolute, or a ".." part).
std::string SafeName(std::string name) {
  while (name.starts_with("./")) name.erase(0, 2);
  while (!name.empty() && name.back() == '/') name.pop_back();
  if (name.empty() || name == ".") return ".";
  if (name.front() == '/') return "";
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find('/', start);
    if (end == std::string::npos) end = name.size();
    if (name.compare(start, end - start, "..") == 0 && end - start == 2) return "";
    start = end + 1;
  }
  return name;
}

// The records "LEN key=value\n" of a pax extended header: path and size.
// *size: the size the records give, 0 when none (a size of 0 needs no pax record: the header has
// it).
void ParsePax(const std::string& data, std::string* path, uint64_t* size) {
  size_t at = 0;
  while (at < data.size()) {
    size_t space = data.find(' ', at);
    if (space == std::string::npos) return;
    size_t length = std::strtoull(data.c_str() + at, nullptr, 10);
    if (length == 0 || at + length > data.size()) return;
    std::string record = data.substr(space + 1, at + length - space - 2);  // no '\n'
    size_t eq = record.find('=');
    if (eq != std::string::npos) {
      std::string key = record.substr(0, eq), value = record.substr(eq + 1);
      if (key == "path") *path = value;
      if (key == "size") *size = std::strtoull(value.c_str(), nullptr, 10);
    }
    at += length;
  }
}

class TarReader {
 public:
  TarReader(gzFile gz, std::string archive, fs::path dest)
      : gz_(gz), archive_(std::move(archive)), dest_(std::move(dest)) {}

  k8s::Result<UnpackSummary> Run() {
    Block h;
    std::string long_name;
    uint64_t pax_size = 0;  // 0: none
    while (true) {
      int n = gzread(gz_, h.data(), static_cast<unsigned>(h.size()));
      if (n == 0) return summary_;  // no end-of-archive blocks: GNU tar accepts that too
      if (n != static_cast<int>(h.size())) return Corrupt(archive_, "truncated header");
      if (std::all_of(h.begin(), h.end(), [](char c) { return c == '\0'; })) return summary_;
      uint64_t size = 0;
      if (!ParseNumber(h.data() + 124, 12, &size)) return Corrupt(archive_, "bad size field");
      if (pax_size > 0) size = pax_size;
      const char type = h[156];
      std::string name = FieldText(h.data(), 100);
      if (std::memcmp(h.data() + 257, "ustar", 5) == 0 && h[345] != '\0') {
        name = FieldText(h.data() + 345, 155) + "/" + name;
      }
      if (type == 'L' || type == 'x' || type == 'g') {  // metadata for the next member
        auto data = ReadData(size);
        if (!data.ok()) return data.status();
        if (type == 'L') long_name = data->substr(0, strnlen(data->c_str(), data->size()));
        if (type == 'x') ParsePax(*data, &long_name, &pax_size);
        continue;
      }
      if (!long_name.empty()) name = long_name;
      long_name.clear();
      pax_size = 0;
      if (auto s = Member(type, name, size, FieldText(h.data() + 157, 100), h); !s.ok()) return s;
    }
  }

 private:
  k8s::Status Member(char type, const std::string& raw_name, uint64_t size, const std::string& link,
                     const Block& h) {
    const std::string name = SafeName(raw_name);
    if (name.empty()) return Corrupt(archive_, "member " + raw_name + " leaves the directory");
    const fs::path target = dest_ / name;
    std::error_code ec;
    uint64_t mode = 0644;
    ParseNumber(h.data() + 100, 8, &mode);
    if (type == '5') {
      fs::create_directories(target, ec);
      if (ec) return Corrupt(archive_, "cannot create " + target.string() + ": " + ec.message());
      return Skip(size);
    }
    if (type == '2') {
      fs::path resolved = (fs::path(name).parent_path() / link).lexically_normal();
      if (link.empty() || link.front() == '/' || resolved.empty() || *resolved.begin() == "..") {
        return Corrupt(archive_, "symbolic link " + raw_name + " -> " + link +
                                     " points outside the directory");
      }
      fs::create_directories(target.parent_path(), ec);
      fs::remove(target, ec);
      fs::create_symlink(link, target, ec);
      if (ec) return Corrupt(archive_, "cannot create " + target.string() + ": " + ec.message());
      ++summary_.files;
      return Skip(size);
    }
    if (type != '0' && type != '\0' && type != '7') {
      return Corrupt(archive_, "member " + raw_name + " is of tar type '" + std::string(1, type) +
                                   "' (only files, directories and symbolic links are unpacked)");
    }
    fs::create_directories(target.parent_path(), ec);
    if (ec) return Corrupt(archive_, "cannot create " + target.parent_path().string());
    std::ofstream out(target, std::ios::binary | std::ios::trunc);
    if (!out) return Corrupt(archive_, "cannot write " + target.string());
    std::vector<char> buffer(1 << 20);
    uint64_t left = size;
    while (left > 0) {
      unsigned want = static_cast<unsigned>(std::min<uint64_t>(buffer.size(), left));
      int n = gzread(gz_, buffer.data(), want);
      if (n <= 0) return Corrupt(archive_, "truncated member " + raw_name);
      out.write(buffer.data(), n);
      left -= static_cast<uint64_t>(n);
    }
    out.close();
    if (!out) return Corrupt(archive_, "cannot write " + target.string());
    ::chmod(target.c_str(), static_cast<mode_t>(mode & 0777));
    ++summary_.files;
    summary_.bytes += size;
    return SkipPadding(size);
  }

  k8s::Result<std::string> ReadData(uint64_t size) {
    if (size > (64u << 20))
      return Corrupt(archive_, "a header record of " + std::to_string(size) + " bytes");
    std::string data(size, '\0');
    if (size > 0 &&
        gzread(gz_, data.data(), static_cast<unsigned>(size)) != static_cast<int>(size)) {
      return Corrupt(archive_, "truncated header record");
    }
    if (auto s = SkipPadding(size); !s.ok()) return s;
    return data;
  }

  k8s::Status Skip(uint64_t size) {
    std::vector<char> buffer(64 << 10);
    uint64_t left = size + (512 - size % 512) % 512;
    while (left > 0) {
      int n = gzread(gz_, buffer.data(),
                     static_cast<unsigned>(std::min<uint64_t>(buffer.size(), left)));
      if (n <= 0) return Corrupt(archive_, "truncated archive");
      left -= static_cast<uint64_t>(n);
    }
    return k8s::Status::Ok();
  }

  k8s::Status SkipPadding(uint64_t size) {
    Block pad;
    const unsigned left = static_cast<unsigned>((512 - size % 512) % 512);
    if (left > 0 && gzread(gz_, pad.data(), left) != static_cast<int>(left)) {
      return Corrupt(archive_, "truncated archive");
    }
    return k8s::Status::Ok();
  }

  gzFile gz_;
  std::string archive_;
  fs::path dest_;
  UnpackSummary summary_;
};

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

k8s::Result<UnpackSummary> ReadTarGz(const std::string& archive, const std::string& dest) {
  Gz gz(gzopen(archive.c_str(), "rb"));
  if (!gz) return k8s::Status::InvalidArgument("untar: cannot read " + archive);
  std::error_code ec;
  fs::create_directories(dest, ec);
  if (ec) return k8s::Status::InvalidArgument("untar: cannot create " + dest + ": " + ec.message());
  TarReader reader(gz.get(), archive, dest);
  auto out = reader.Run();
  if (gzdirect(gz.get()) == 1) return Corrupt(archive, "not a gzip-compressed archive");
  int err = Z_OK;
  const char* message = gzerror(gz.get(), &err);
  if (out.ok() && err != Z_OK && err != Z_STREAM_END) {
    return Corrupt(archive, std::string("not a gzip archive (") + message + ")");
  }
  return out;
}

}  // namespace stepline::artifacts
