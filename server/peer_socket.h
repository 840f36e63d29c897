#pragma once
// Whether the client of a request still waits. cpp-httplib (0.11, Debian) does not hand a
// handler its socket, so it is found among the process's descriptors by the connection's
// addresses (both ports and the peer's address), once per request; a peer that closed its end
// reads as end-of-file without consuming anything (MSG_PEEK).
#include <string>

namespace tessera::server {

// The descriptor of the TCP connection local_port <-> remote_addr:remote_port; -1 if none.
int connection_socket(const std::string& remote_addr, int remote_port, int local_port);
// The peer closed the connection (or it failed). fd < 0: false (unknown).
bool peer_closed(int fd);

}  // namespace tessera::server
