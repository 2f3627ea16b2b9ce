// Runs the real `isolab` binary, each test case in its own temporary ISOLAB_ROOT.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace isolab::test {

struct CmdResult {
    int code = -1;
    std::string out, err;
};

// Runs ARGV (argv[0] is the program) with extra environment entries, a time limit (the process
// group is killed past it) and optional stdin. Never throws.
CmdResult run_process(const std::vector<std::string>& argv, const std::vector<std::string>& env = {},
                      int timeout_ms = 60000, const std::string& input = "", int as_uid = -1);

class TempRoot {
public:
    TempRoot();
    ~TempRoot();  // removes every container (rm -f) and the directory
    const std::string& path() const { return path_; }
    CmdResult isolab(const std::vector<std::string>& args, int timeout_ms = 60000, const std::string& input = "") const;
    std::string id_of(const std::string& name) const;  // full id via inspect
    int uid = -1;  // run as this uid (rootless tests)
    // Copies isolab and isolab-monitor into the root (0755), for a uid that cannot reach the build
    // tree (a clone under /root is 0700).
    void use_private_binaries();
    std::string bin = ISOLAB_BIN;

private:
    std::string path_;
};

// True when the real runtime can run here: root, and not inside a chroot (pivot_root is refused
// there). Otherwise says why through ISOLAB_SKIP (a failure under CI=true) and returns false.
bool real_runtime_or_skip();

// Asks PREDICATE every 20 ms until it holds or TIMEOUT has passed; returns its last answer, so that
// the assertion after it fails with the state at the deadline. For "wait until X has happened"
// only: a check that something does NOT happen (a paused counter stays still) still needs its
// fixed interval.
bool poll_until(std::chrono::milliseconds timeout, const std::function<bool()>& predicate);
// Whether process PID has a handler for signal SIG installed / ignores it (/proc/PID/status
// SigCgt, SigIgn): a shell's `trap` has taken effect.
bool process_catches(int pid, int sig);
bool process_ignores(int pid, int sig);
// Whether a TCP connection to 127.0.0.1:PORT is accepted (something listens there).
bool local_port_open(int port);

std::string first_line(const std::string& s);
bool mounts_mention(const std::string& needle);  // /proc/self/mountinfo contains the string
bool process_alive(int pid);
std::string read_text(const std::string& path);
// Writes TEXT to PATH, making its parent directories.
void write_text(const std::string& path, const std::string& text);

// What a screenshot test can say about a PNG without a reference picture.
struct Picture {
    int width = 0, height = 0;
    size_t colors = 0;            // distinct RGB values (sampled)
    double not_background = 0;    // share of pixels unlike the top-left corner
    bool ok = false;
};
Picture read_png(const std::string& path);

}  // namespace isolab::test
