//===- AtomicFile.cpp -----------------------------------------------------===//
#include "training/AtomicFile.h"
#include "runtime/Error.h"

#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace mm::train {

namespace {
std::string parentOf(const std::string &path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
}
[[noreturn]] void fail(const std::string &path, const char *what) {
  throw makeError(path, ": ", what, ": ", std::strerror(errno));
}
} // namespace

void syncDirectory(const std::string &dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0)
    fail(dir, "cannot open the directory to sync it");
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0)
    fail(dir, "fsync of the directory failed");
}

void writeFileAtomically(const std::string &path, const std::string &bytes) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0)
    fail(tmp, "cannot create");
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      ::close(fd);
      ::unlink(tmp.c_str());
      fail(tmp, "write failed");
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    ::close(fd);
    ::unlink(tmp.c_str());
    fail(tmp, "fsync failed");
  }
  ::close(fd);
  renameDurably(tmp, path);
}

void renameDurably(const std::string &from, const std::string &to) {
  if (std::rename(from.c_str(), to.c_str()) != 0)
    fail(to, "cannot rename into place");
  syncDirectory(parentOf(to));
}

uint32_t tensorChecksum(const void *data, size_t bytes) {
  uLong crc = crc32(0L, Z_NULL, 0);
  const Bytef *p = static_cast<const Bytef *>(data);
  while (bytes > 0) { // zlib takes uInt lengths
    uInt chunk = static_cast<uInt>(std::min<size_t>(bytes, 1u << 30));
    crc = crc32(crc, p, chunk);
    p += chunk;
    bytes -= chunk;
  }
  return static_cast<uint32_t>(crc);
}

std::string readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw makeError(path, ": cannot open");
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

} // namespace mm::train
