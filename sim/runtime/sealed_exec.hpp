// Starting IsoLab's own programs that enter a container (the monitor, whose clone becomes PID 1,
// and the exec helper) so that nothing inside the container can ever write them.
//
// The attack (CVE-2019-5736, runc): until its execve, a process that entered the container is
// IsoLab's binary, and a container process can reach that binary through /proc/PID/exe — or
// execute it, with `exec CTR /proc/self/exe` or an image whose entrypoint is /proc/self/exe, which
// runs the host's binary inside the container, dumpable. A root process in the container then
// keeps an O_PATH descriptor of it, and reopens it for writing once it stops running: the host's
// `isolab` is replaced, and the next `isolab` an administrator types runs the attacker's code.
//
// The defence, as runc's (a read-only bind of the binary; runc-dmz and the sealed memfd copy of
// cloned_binary.c are the other forms): the program is executed from a read-only bind mount of
// itself, made in a private mount namespace. Its /proc/PID/exe then refers to a file on a
// read-only mount: reopening it for writing fails with EROFS in every mount namespace, for as long
// as anything refers to it. A bind mount costs no memory; a memfd copy would cost the binary's
// size per running container.
#pragma once

#include <string>
#include <vector>

#include "sim/core/process.hpp"

namespace isolab {

class ReadOnlyExec {
public:
    // ARGV[0] is the program's path; it is made absolute and canonical here, before any fork.
    explicit ReadOnlyExec(std::vector<std::string> argv);
    ReadOnlyExec(const ReadOnlyExec&) = delete;
    ReadOnlyExec& operator=(const ReadOnlyExec&) = delete;

    // Only in a child; does not return. unshare(CLONE_NEWNS), every mount made a slave (nothing
    // made here propagates back to the host), the program bind-mounted read-only onto itself, then
    // execv. Without the right to make a mount namespace (rootless: no CAP_SYS_ADMIN) it execs
    // directly: the container's root is then the calling user, who gains nothing by writing a
    // binary that user could write anyway, and cannot write one owned by root. Allocates nothing
    // (safe after fork in a threaded parent). On failure writes one line to fd 2 and _exit(125).
    [[noreturn]] void exec() const;

private:
    std::string path_;
    Argv argv_;
};

}  // namespace isolab
