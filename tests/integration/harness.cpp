#include "harness.hpp"

#include "sim/host/probe.hpp"
#include "tests/skip.hpp"

#include <png.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <set>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace isolab::test {

CmdResult run_process(const std::vector<std::string>& argv, const std::vector<std::string>& env, int timeout_ms,
                      const std::string& input, int as_uid) {
    CmdResult r;
    int out[2], err[2], in[2];
    if (::pipe2(out, O_CLOEXEC) || ::pipe2(err, O_CLOEXEC) || ::pipe2(in, O_CLOEXEC)) return r;
    pid_t pid = ::fork();
    if (pid == 0) {
        ::setpgid(0, 0);
        ::dup2(in[0], 0);
        ::dup2(out[1], 1);
        ::dup2(err[1], 2);
        for (const auto& e : env) ::putenv(const_cast<char*>(e.c_str()));
        if (as_uid >= 0) {
            ::setgroups(0, nullptr);
            if (::setresgid(as_uid, as_uid, as_uid) || ::setresuid(as_uid, as_uid, as_uid)) ::_exit(120);
        }
        std::vector<char*> av;
        for (const auto& a : argv) av.push_back(const_cast<char*>(a.c_str()));
        av.push_back(nullptr);
        ::execvp(av[0], av.data());
        ::_exit(127);
    }
    ::close(out[1]);
    ::close(err[1]);
    ::close(in[0]);
    if (!input.empty()) {
        ssize_t n = ::write(in[1], input.data(), input.size());
        (void)n;
    }
    ::close(in[1]);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    bool open_out = true, open_err = true;
    while (open_out || open_err) {
        struct pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
        int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count());
        if (left <= 0) {
            ::kill(-pid, SIGKILL);
            r.err += "\n[harness: timed out]";
            break;
        }
        if (::poll(fds, 2, left) <= 0) continue;
        char buf[8192];
        for (int i = 0; i < 2; ++i) {
            if (!(fds[i].revents & (POLLIN | POLLHUP))) continue;
            ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
            if (n <= 0) {
                (i == 0 ? open_out : open_err) = false;
                ::close(fds[i].fd);  // the read end is done: closed here (it used to leak two per call)
                fds[i].fd = -1;
            } else {
                (i == 0 ? r.out : r.err).append(buf, static_cast<size_t>(n));
            }
        }
        if (!open_out) out[0] = -1;
        if (!open_err) err[0] = -1;
    }
    if (out[0] >= 0) ::close(out[0]);
    if (err[0] >= 0) ::close(err[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return r;
}

TempRoot::TempRoot() {
    char tmpl[] = "/tmp/isl.XXXXXX";
    path_ = ::mkdtemp(tmpl);
    ::chmod(path_.c_str(), 0755);
}

TempRoot::~TempRoot() {
    // Everything the root made in the kernel goes too: containers, and the networks' bridges and
    // firewall rules (which outlive containers, as docker0 does).
    isolab({"system", "reset", "-f"});
    auto ids = isolab({"ps", "-aq"});
    std::istringstream in(ids.out);
    for (std::string id; in >> id;) isolab({"rm", "-f", id});
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

CmdResult TempRoot::isolab(const std::vector<std::string>& args, int timeout_ms, const std::string& input) const {
    std::vector<std::string> argv = {bin};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_process(argv, {"ISOLAB_ROOT=" + path_, "ISOLAB_LANG=en"}, timeout_ms, input, uid);
}

void TempRoot::use_private_binaries() {
    std::filesystem::path src(ISOLAB_BIN);
    std::string dir = path_ + "/bin";
    std::filesystem::create_directories(dir);
    std::error_code ec;
    for (const char* name : {"isolab", "isolab-monitor"})
        std::filesystem::copy_file(src.parent_path() / name, dir + "/" + name,
                                   std::filesystem::copy_options::overwrite_existing, ec);
    ::chmod(dir.c_str(), 0755);
    bin = dir + "/isolab";
}

std::string TempRoot::id_of(const std::string& name) const {
    return first_line(isolab({"inspect", "-f", "{{.Id}}", name}).out);
}

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

bool mounts_mention(const std::string& needle) {
    return read_text("/proc/self/mountinfo").find(needle) != std::string::npos;
}

bool poll_until(std::chrono::milliseconds timeout, const std::function<bool()>& predicate) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        if (predicate()) return true;
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

namespace {

// Bit SIG of the hexadecimal mask on the line FIELD ("SigCgt:") of /proc/PID/status.
bool status_mask_has(int pid, const std::string& field, int sig) {
    std::istringstream in(read_text("/proc/" + std::to_string(pid) + "/status"));
    for (std::string line; std::getline(in, line);)
        if (line.rfind(field, 0) == 0) return (std::stoull(line.substr(field.size()), nullptr, 16) >> (sig - 1)) & 1;
    return false;
}

}  // namespace

bool process_catches(int pid, int sig) { return status_mask_has(pid, "SigCgt:", sig); }
bool process_ignores(int pid, int sig) { return status_mask_has(pid, "SigIgn:", sig); }

bool local_port_open(int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    struct sockaddr_in a = {};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool open = ::connect(fd, reinterpret_cast<struct sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    return open;
}

bool process_alive(int pid) {
    if (pid <= 0) return false;
    std::string st = read_text("/proc/" + std::to_string(pid) + "/stat");
    if (st.empty()) return false;
    size_t close = st.rfind(')');
    return close == std::string::npos || st[close + 2] != 'Z';
}

std::string read_text(const std::string& path) {
    std::ifstream f(path);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

void write_text(const std::string& path, const std::string& text) {
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream(path) << text;
}

Picture read_png(const std::string& path) {
    Picture p;
    FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) return p;
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
    png_infop info = png_create_info_struct(png);
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, nullptr);
        std::fclose(f);
        return p;
    }
    png_init_io(png, f);
    png_read_info(png, info);
    p.width = static_cast<int>(png_get_image_width(png, info));
    p.height = static_cast<int>(png_get_image_height(png, info));
    png_set_strip_16(png);
    png_set_expand(png);
    png_read_update_info(png, info);
    size_t rowbytes = png_get_rowbytes(png, info);
    int channels = png_get_channels(png, info);
    std::vector<unsigned char> row(rowbytes);
    std::set<unsigned int> colors;
    size_t differ = 0, total = 0;
    unsigned int background = 0;
    for (int y = 0; y < p.height; ++y) {
        png_read_row(png, row.data(), nullptr);
        for (int x = 0; x < p.width; x += 3) {
            const unsigned char* px = row.data() + x * channels;
            unsigned int rgb = (px[0] << 16) | (px[1] << 8) | px[2];
            if (y == 0 && x == 0) background = rgb;
            colors.insert(rgb);
            differ += rgb != background;
            ++total;
        }
    }
    png_destroy_read_struct(&png, &info, nullptr);
    std::fclose(f);
    p.colors = colors.size();
    p.not_background = total ? static_cast<double>(differ) / static_cast<double>(total) : 0;
    p.ok = true;
    return p;
}


bool real_runtime_or_skip() {
    if (::geteuid() != 0) {
        ISOLAB_SKIP("the real-runtime integration tests need root (CI runs them as root)");
        return false;
    }
    if (isolab::host::in_chroot()) {
        ISOLAB_SKIP("this test runs inside a chroot, where pivot_root is refused: the container runtime needs a real root");
        return false;
    }
    return true;
}

}  // namespace isolab::test
