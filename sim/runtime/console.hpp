// A terminal that belongs to the container: the pty pair is made from the container's own
// /dev/ptmx (its devpts instance), so `tty` inside prints /dev/pts/0 as in Docker, and the master
// end travels to the monitor (or to `exec`'s CLI) over a unix socket (runc's console socket).
#pragma once

#include "sim/core/result.hpp"

namespace isolab {

// In the container, after /dev/pts is mounted and pivot_root is done: opens a pty pair, sends the
// master over `socket_fd` and returns the slave (to become stdin/stdout/stderr).
Result<int> console_create_and_send(int socket_fd);
// On the host side: receives the master sent by console_create_and_send. EOF → error.
Result<int> console_receive(int socket_fd);

}  // namespace isolab
