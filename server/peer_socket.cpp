#include "server/peer_socket.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <charconv>
#include <filesystem>

namespace tessera::server {

namespace {

// The port and numeric address of a socket address (IPv4 or IPv6); port -1 for other families.
std::pair<int, std::string> port_and_address(const sockaddr_storage& a) {
  char text[INET6_ADDRSTRLEN] = {};
  if (a.ss_family == AF_INET) {
    const auto& in = reinterpret_cast<const sockaddr_in&>(a);
    inet_ntop(AF_INET, &in.sin_addr, text, sizeof text);
    return {ntohs(in.sin_port), text};
  }
  if (a.ss_family == AF_INET6) {
    const auto& in = reinterpret_cast<const sockaddr_in6&>(a);
    inet_ntop(AF_INET6, &in.sin6_addr, text, sizeof text);
    return {ntohs(in.sin6_port), text};
  }
  return {-1, ""};
}

}  // namespace

int connection_socket(const std::string& remote_addr, int remote_port, int local_port) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd", ec)) {
    const std::string name = entry.path().filename().string();
    int fd = -1;
    if (std::from_chars(name.data(), name.data() + name.size(), fd).ec != std::errc()) continue;
    sockaddr_storage local{}, peer{};
    socklen_t n = sizeof local, m = sizeof peer;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &n) != 0) continue;
    if (port_and_address(local).first != local_port) continue;
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &m) != 0) continue;
    const auto [port, address] = port_and_address(peer);
    if (port == remote_port && address == remote_addr) return fd;
  }
  return -1;
}

bool peer_closed(int fd) {
  if (fd < 0) return false;
  char byte = 0;
  const ssize_t got = recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (got > 0) return false;  // more requests already sent on the connection
  if (got == 0) return true;  // end of file: the client closed its end
  return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
}

}  // namespace tessera::server
