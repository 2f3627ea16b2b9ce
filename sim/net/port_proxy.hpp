// The userland port proxy behind `-p`, like Docker's docker-proxy: one listening socket on
// HOST_IP:HOST_PORT, every accepted TCP connection forwarded to TARGET_IP:TARGET_PORT (the
// container's address on its bridge) in both directions, half-close passed on, until both sides
// are done. UDP datagrams are relayed per client address through a connected socket, which is
// dropped after 90 s without traffic (docker-proxy's UDP timeout).
//
// Addresses are IPv4 dotted quads only: no name is resolved (this code links statically).
#pragma once

#include <memory>
#include <string>

#include "sim/core/result.hpp"

namespace isolab::net {

struct ProxySpec {
    std::string proto = "tcp";  // "tcp" | "udp"
    std::string host_ip;        // "" = 0.0.0.0
    int host_port = 0;          // 0 = any free port (see bound_port)
    std::string target_ip;
    int target_port = 0;
};

class PortProxy {
public:
    // Binds and listens NOW, so a busy port is an error here, before anything else happens
    // ("Bind for 0.0.0.0:18080 failed: port is already allocated"); then serves from its own
    // thread (one epoll loop per proxy, no thread per connection). SO_REUSEADDR is set, so a port
    // whose old connections linger in TIME_WAIT can be published again at once.
    static Result<std::unique_ptr<PortProxy>> start(const ProxySpec& spec);
    ~PortProxy();  // stops the thread, closes every socket (the listener first)
    PortProxy(const PortProxy&) = delete;
    PortProxy& operator=(const PortProxy&) = delete;

    int bound_port() const;  // the real port (for host_port 0)
    const ProxySpec& spec() const;

    struct Impl;

private:
    explicit PortProxy(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

// Checks that HOST_IP:PORT/PROTO can be bound right now (binds and closes). Same wording as
// PortProxy::start.
Status check_port_free(const std::string& proto, const std::string& host_ip, int port);
// A free port in Docker's ephemeral range 32768..60999 for `-P` (bind-tested).
Result<int> pick_free_port(const std::string& proto, const std::string& host_ip);

}  // namespace isolab::net
