// --init: a minimal init as the container's PID 1, what Docker's docker-init (tini) does. The
// static isolab-monitor binary is mounted read-only at /sbin/docker-init (oci_spec.hpp kInitPath)
// and becomes this program when it is called by that name.
//
// Why a container wants one: the kernel gives PID 1 of a PID namespace no default signal actions
// (a SIGTERM it has no handler for does nothing, so `stop` waits for its timeout and kills), and
// every orphan in the namespace is re-parented to PID 1, which must reap it or it stays a zombie.
//
//   /sbin/docker-init -- CMD [ARG...]
//
// Runs CMD as its only child (through PATH, as tini does), forwards every signal it receives to
// that child, reaps every process that dies in the namespace, and exits with the child's status
// (128 + the signal when a signal ended it) once the child is gone. When standard input is a
// terminal, the child gets its own process group in the terminal's foreground, so Ctrl-C reaches
// it. A command that cannot be run is reported on stderr, exit 127 (not found) or 126.
#pragma once

namespace isolab {

int mini_init_main(int argc, char** argv);

}  // namespace isolab
