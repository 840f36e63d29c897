#include "core/sha256.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <numeric>
#include <vector>

#include "core/error.h"

namespace tessera {

namespace {

// A file descriptor, closed when it goes out of scope.
struct Descriptor {
  int fd;
  ~Descriptor() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

struct Sha256::State {
  EVP_MD_CTX* ctx = nullptr;
};

Sha256::Sha256() : state_(std::make_unique<State>()) {
  state_->ctx = EVP_MD_CTX_new();
  TESSERA_CHECK(state_->ctx && EVP_DigestInit_ex(state_->ctx, EVP_sha256(), nullptr) == 1,
                "cannot initialise SHA-256");
}

Sha256::~Sha256() { EVP_MD_CTX_free(state_->ctx); }

void Sha256::update(const void* data, size_t size) {
  TESSERA_CHECK(EVP_DigestUpdate(state_->ctx, data, size) == 1, "SHA-256 update failed");
}

std::string Sha256::hex_digest() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  TESSERA_CHECK(EVP_DigestFinal_ex(state_->ctx, digest, &length) == 1, "SHA-256 final failed");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(2 * length, '0');
  for (unsigned int i = 0; i < length; ++i) {
    out[2 * i] = kHex[digest[i] >> 4];
    out[2 * i + 1] = kHex[digest[i] & 15];
  }
  return out;
}

std::string sha256_hex(std::string_view bytes) {
  Sha256 h;
  h.update(bytes);
  return h.hex_digest();
}

std::string sha256_file(const std::string& path) {
  std::error_code ec;
  const uintmax_t size = std::filesystem::file_size(path, ec);
  TESSERA_CHECK(!ec, "cannot open '{}' for reading: {}", path, ec.message());
  return sha256_file_range(path, 0, size);
}

std::string sha256_file_range(const std::string& path, uint64_t offset, uint64_t length) {
  constexpr size_t kBlock = size_t{4} << 20;  // stays in cache between the read and the hashing
  const Descriptor file{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  TESSERA_CHECK(file.fd >= 0, "cannot open '{}' for reading: {}", path, std::strerror(errno));
  ::posix_fadvise(file.fd, static_cast<off_t>(offset), static_cast<off_t>(length), POSIX_FADV_SEQUENTIAL);
  Sha256 h;
  std::vector<char> buffer(static_cast<size_t>(std::min<uint64_t>(length, kBlock)));
  for (uint64_t done = 0; done < length;) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(length - done, buffer.size()));
    const ssize_t n = ::pread(file.fd, buffer.data(), want, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    TESSERA_CHECK(n > 0, "cannot read bytes {}..{} of '{}': {}", offset + done, offset + length, path,
                  n == 0 ? "the file ends first" : std::strerror(errno));
    h.update(buffer.data(), static_cast<size_t>(n));
    done += static_cast<uint64_t>(n);
  }
  return h.hex_digest();
}

std::vector<std::string> sha256_file_ranges(const std::string& path, const std::vector<ByteRange>& ranges) {
  std::vector<size_t> order(ranges.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return ranges[a].length > ranges[b].length; });
  std::vector<std::string> digests(ranges.size()), errors(ranges.size());
#pragma omp parallel for schedule(dynamic, 1)
  for (size_t k = 0; k < order.size(); ++k) {
    const ByteRange& r = ranges[order[k]];
    try {
      digests[order[k]] = sha256_file_range(path, r.offset, r.length);
    } catch (const std::exception& e) {
      errors[order[k]] = e.what();
    }
  }
  for (const std::string& e : errors) {
    if (!e.empty()) throw Error(e);
  }
  return digests;
}

}  // namespace tessera
