// Host devices (issue 12, item 6). Container root keeps CAP_MKNOD, as in Docker, and an image
// layer may carry device nodes: only the cgroup's device rules (sim/runtime/device_filter.hpp)
// keep a container off the host's disk, memory and kernel log. Each case makes a node of a real
// host device, tries to use it from inside, and checks that the kernel said "Operation not
// permitted" and that nothing reached the host; the last case checks that the nodes Docker allows
// (null, zero, urandom, full, tty, ptys, tun) still work.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "security.hpp"

using namespace isolab::test;

namespace {

// A block device of the host that this (root) test process can open through a node it makes
// itself: the disk holding / first, else /dev/loop0 or /dev/zram0. "MAJOR MINOR", or "" when none
// can (a sandbox may forbid even root its disks; the disk part of a case then says so and skips).
// The check is what makes "the container could not open it" mean something.
std::string openable_host_disk() {
    std::vector<std::pair<unsigned, unsigned>> candidates;
    struct stat st;
    if (::stat("/", &st) == 0 && major(st.st_dev) != 0) candidates.push_back({major(st.st_dev), minor(st.st_dev)});
    candidates.push_back({7, 0});
    candidates.push_back({253, 0});
    char tmpl[] = "/tmp/isolab-devices-XXXXXX";
    if (!::mkdtemp(tmpl)) return "";
    std::string node = std::string(tmpl) + "/disk";
    std::string found;
    for (auto [ma, mi] : candidates) {
        ::unlink(node.c_str());
        if (::mknod(node.c_str(), S_IFBLK | 0600, makedev(ma, mi)) != 0) continue;
        int fd = ::open(node.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            ::close(fd);
            found = std::to_string(ma) + " " + std::to_string(mi);
            break;
        }
    }
    ::unlink(node.c_str());
    ::rmdir(tmpl);
    return found;
}

std::string random_marker() {
    std::random_device rd;
    return "isolab-devices-attack-" + std::to_string(rd()) + std::to_string(rd());
}

// Every record the kernel log holds now (read from /dev/kmsg without blocking).
std::string kernel_log() {
    std::string all;
    int fd = ::open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return all;
    char buf[8192];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n > 0) {
            all.append(buf, static_cast<size_t>(n));
            continue;
        }
        if (n < 0 && errno == EPIPE) continue;  // a record was overwritten while we read
        break;
    }
    ::close(fd);
    return all;
}

size_t count(const std::string& hay, const std::string& needle) {
    size_t n = 0;
    for (size_t at = hay.find(needle); at != std::string::npos; at = hay.find(needle, at + 1)) ++n;
    return n;
}

}  // namespace

TEST_CASE("devices: container root may mknod a host device (CAP_MKNOD, as in Docker) but not use it") {
    if (!can_attack()) return;
    TempRoot r;
    const std::string marker = random_marker();
    const std::string disk = openable_host_disk();
    if (disk.empty()) MESSAGE("no host block device opens even for root here: the disk part is skipped");
    auto res = r.isolab({"run", "--rm", "busybox", "sh", "-c",
                         "mknod /tmp/mem c 1 1 && echo MKNOD-MEM; head -c 1 /tmp/mem | wc -c;"
                         "mknod /tmp/kmsg c 1 11 && echo MKNOD-KMSG; echo " + marker + " > /tmp/kmsg;" +
                         (disk.empty() ? "" : "mknod /tmp/disk b " + disk + " && echo MKNOD-DISK; head -c 512 /tmp/disk | wc -c;") +
                         "true"},
                        30000);
    INFO("out: " << res.out << "\nerr: " << res.err);
    CHECK(res.code == 0);
    // mknod itself is allowed, as Docker allows it ("c *:* m", "b *:* m").
    CHECK(res.out.find("MKNOD-MEM") != std::string::npos);
    CHECK(res.out.find("MKNOD-KMSG") != std::string::npos);
    // Opening is not: memory, the kernel log, the host's disk.
    CHECK(res.err.find("/tmp/mem: Operation not permitted") != std::string::npos);
    CHECK(res.err.find("/tmp/kmsg: Operation not permitted") != std::string::npos);
    if (!disk.empty()) {
        CHECK(res.out.find("MKNOD-DISK") != std::string::npos);
        CHECK(res.err.find("/tmp/disk: Operation not permitted") != std::string::npos);
    }
    CHECK(count(res.out, "0\n") == (disk.empty() ? 1u : 2u));  // no head read a byte
    // The write into the kernel log never arrived.
    CHECK(kernel_log().find(marker) == std::string::npos);
}

TEST_CASE("devices: a world-writable device node shipped in an image does not open, as root or -u 1000") {
    if (!can_attack()) return;
    TempRoot r;
    const std::string marker = random_marker();
    const std::string disk = openable_host_disk();
    if (disk.empty()) {
        ISOLAB_SKIP("no host block device opens even for root here, so none can be shipped to attack");
        return;
    }
    std::string ctx = r.path() + "/context";
    std::filesystem::create_directories(ctx);
    std::ofstream(ctx + "/Dockerfile") << "FROM busybox\n"
                                          "RUN mknod /disk b " + disk + " && chmod 666 /disk && "
                                          "mknod /kmsg c 1 11 && chmod 666 /kmsg\n";
    auto built = r.isolab({"build", "-t", "devnodes", ctx}, 120000);
    REQUIRE_MESSAGE(built.code == 0, std::string(built.out + built.err));

    // The nodes are really in the image, open to everyone by their mode.
    auto ls = r.isolab({"run", "--rm", "devnodes", "ls", "-l", "/disk", "/kmsg"});
    CHECK(ls.out.find("brw-rw-rw-") != std::string::npos);
    CHECK(ls.out.find("crw-rw-rw-") != std::string::npos);

    for (std::vector<std::string> user : {std::vector<std::string>{}, std::vector<std::string>{"-u", "1000"}}) {
        std::vector<std::string> args = {"run", "--rm"};
        args.insert(args.end(), user.begin(), user.end());
        args.insert(args.end(), {"devnodes", "sh", "-c",
                                 "head -c 512 /disk | wc -c; echo " + marker + " > /kmsg; id -u"});
        auto res = r.isolab(args, 30000);
        INFO((user.empty() ? "root" : "-u 1000") << "\nout: " << res.out << "\nerr: " << res.err);
        CHECK(res.out == "0\n" + std::string(user.empty() ? "0" : "1000") + "\n");
        CHECK(res.err.find("/disk: Operation not permitted") != std::string::npos);
        CHECK(res.err.find("/kmsg: Operation not permitted") != std::string::npos);
    }

    // exec joins the device rules too.
    REQUIRE(r.isolab({"run", "-d", "--name", "dn", "devnodes", "sleep", "300"}).code == 0);
    auto ex = r.isolab({"exec", "-u", "1000", "dn", "sh", "-c", "head -c 512 /disk | wc -c"});
    CHECK(ex.out == "0\n");
    CHECK(ex.err.find("/disk: Operation not permitted") != std::string::npos);
    auto ex_root = r.isolab({"exec", "dn", "sh", "-c", "echo " + marker + " > /kmsg"});
    CHECK(ex_root.err.find("/kmsg: Operation not permitted") != std::string::npos);
    CHECK(kernel_log().find(marker) == std::string::npos);
}

TEST_CASE("devices: the nodes Docker allows still work (null, zero, urandom, full, tty, ptys, tun)") {
    if (!can_attack()) return;
    TempRoot r;
    auto res = r.isolab({"run", "--rm", "busybox", "sh", "-c",
                         "echo x > /dev/null && echo null-ok; head -c 4 /dev/zero | wc -c; head -c 4 /dev/urandom | wc -c;"
                         "echo x > /dev/full; mknod /tmp/tun c 10 200 && cat /tmp/tun; true"},
                        30000);
    INFO("out: " << res.out << "\nerr: " << res.err);
    CHECK(res.out == "null-ok\n4\n4\n");
    CHECK(res.err.find("No space left on device") != std::string::npos);  // /dev/full opened, then refused the write
    // /dev/net/tun is on Docker's list (runc 1.2.4+): it opens, and the driver refuses a read
    // before TUNSETIFF (EBADFD), or reports that it is not built (ENODEV); never EPERM.
    CHECK(res.err.find("Operation not permitted") == std::string::npos);
    CHECK((res.err.find("File descriptor in bad state") != std::string::npos ||
           res.err.find("No such device") != std::string::npos));

    // -t: the container's own pty, /dev/tty and /dev/ptmx (136:*, 5:0, 5:2).
    auto tty = run_process({"script", "-qec", r.bin + " run -t --rm busybox sh -c 'tty; echo via-tty > /dev/tty'", "/dev/null"},
                           {"ISOLAB_ROOT=" + r.path()}, 30000);
    CHECK(tty.code == 0);
    CHECK(tty.out.find("/dev/pts/0") != std::string::npos);
    CHECK(tty.out.find("via-tty") != std::string::npos);
    REQUIRE(r.isolab({"run", "-d", "--name", "pt", "busybox", "sleep", "300"}).code == 0);
    auto ex = run_process({"script", "-qec", r.bin + " exec -t pt sh -c 'tty; echo via-tty > /dev/tty'", "/dev/null"},
                          {"ISOLAB_ROOT=" + r.path()}, 30000);
    CHECK(ex.code == 0);
    CHECK(ex.out.find("/dev/pts/") != std::string::npos);
    CHECK(ex.out.find("via-tty") != std::string::npos);
    CHECK(ex.out.find("Operation not permitted") == std::string::npos);
}
