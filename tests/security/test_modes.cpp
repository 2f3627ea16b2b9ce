// The state root's modes (issue 12, item 4: "local users get root"). A container's writable layer
// lives under ROOT/containers/ID/upper: a setuid-root file made inside a container
// (`chmod 4755 /mine`) must not be reachable from the host by another local user, who could
// otherwise run it as root; events.jsonl (which names every container id, i.e. the path) and
// container.json (which holds `-e` secrets) must not be readable by them either. Each case attacks
// as uid 65534 from the host.
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "security.hpp"

using namespace isolab::test;

namespace {

constexpr int kNobody = 65534;

// Runs FN in a child as uid/gid 65534 with no supplementary groups; returns the errno FN left
// when it returned non-zero, 0 when it succeeded. FN must not return while it holds anything.
int errno_as_nobody(const std::function<int()>& fn) {
    pid_t pid = ::fork();
    if (pid == 0) {
        if (::setgroups(0, nullptr) != 0 || ::setresgid(kNobody, kNobody, kNobody) != 0 ||
            ::setresuid(kNobody, kNobody, kNobody) != 0)
            ::_exit(254);
        errno = 0;
        int r = fn();
        ::_exit(r == 0 ? 0 : (errno > 0 && errno < 250 ? errno : 253));
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 252;
}

int open_as_nobody(const std::string& path) {
    return errno_as_nobody([&] {
        int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
        return fd < 0 ? -1 : 0;
    });
}

// Every path under ROOT, as root sees it.
std::vector<std::string> walk(const std::string& root) {
    std::vector<std::string> out;
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(root, std::filesystem::directory_options::none, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec))
        out.push_back(it->path().string());
    return out;
}

// The paths under ROOT that uid 65534 can open for reading (files) or listing (directories).
std::vector<std::string> readable_by_nobody(const std::string& root) {
    std::vector<std::string> all = walk(root);
    all.push_back(root);
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    pid_t pid = ::fork();
    if (pid == 0) {
        ::close(fds[0]);
        if (::setgroups(0, nullptr) != 0 || ::setresgid(kNobody, kNobody, kNobody) != 0 ||
            ::setresuid(kNobody, kNobody, kNobody) != 0)
            ::_exit(254);
        for (const auto& p : all) {
            int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
            if (fd < 0) continue;
            ::close(fd);
            std::string line = p + "\n";
            if (::write(fds[1], line.data(), line.size()) < 0) ::_exit(253);
        }
        ::_exit(0);
    }
    ::close(fds[1]);
    std::string text;
    char buf[4096];
    for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) text.append(buf, static_cast<size_t>(n));
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    std::vector<std::string> out;
    size_t start = 0;
    for (size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1) out.push_back(text.substr(start, nl - start));
    return out;
}

mode_t mode_of(const std::string& path) {
    struct stat st;
    REQUIRE_MESSAGE(::lstat(path.c_str(), &st) == 0, path);
    return st.st_mode & 07777;
}

}  // namespace

TEST_CASE("modes: a setuid-root file in a writable layer, the events and the records are out of other users' reach") {
    if (!can_attack()) return;
    TempRoot r;
    auto made = r.isolab({"run", "--name", "suid", "busybox", "sh", "-c", "cp /bin/busybox /mine && chmod 4755 /mine"});
    REQUIRE_MESSAGE(made.code == 0, made.err);
    auto secret = r.isolab({"run", "-d", "--name", "sec", "-e", "SECRET=hunter2", "busybox", "sleep", "300"});
    REQUIRE_MESSAGE(secret.code == 0, secret.err);
    const std::string suid_id = r.id_of("suid"), sec_id = r.id_of("sec");
    REQUIRE(suid_id.size() == 64);
    REQUIRE(sec_id.size() == 64);

    // What the attacker is after is there: a setuid-root busybox on the host, the secret on disk,
    // and the path to both in the event log.
    const std::string mine = r.path() + "/containers/" + suid_id + "/upper/mine";
    struct stat st;
    REQUIRE(::stat(mine.c_str(), &st) == 0);
    REQUIRE(st.st_uid == 0);
    REQUIRE((st.st_mode & S_ISUID) != 0);
    const std::string record = r.path() + "/containers/" + sec_id + "/container.json";
    REQUIRE(read_text(record).find("hunter2") != std::string::npos);
    const std::string events = r.path() + "/events.jsonl";
    REQUIRE(read_text(events).find(suid_id) != std::string::npos);

    // The attack, as another local user.
    CHECK(errno_as_nobody([&] {
              struct stat s;
              return ::stat(mine.c_str(), &s);
          }) == EACCES);
    CHECK(errno_as_nobody([&] {
              const char* argv[] = {"true", nullptr};
              ::execv(mine.c_str(), const_cast<char* const*>(argv));
              return -1;  // only reached when exec failed
          }) == EACCES);
    CHECK(open_as_nobody(events) == EACCES);
    CHECK(open_as_nobody(record) == EACCES);
    CHECK(errno_as_nobody([&] {
              DIR* d = ::opendir((r.path() + "/containers").c_str());
              return d ? 0 : -1;
          }) == EACCES);
    // And the modes themselves, so that a directory made looser later exposes nothing either.
    CHECK(mode_of(record) == 0600);
    CHECK(mode_of(events) == 0600);
    CHECK((mode_of(r.path() + "/containers") & 077) == 0);
    CHECK(r.isolab({"rm", "-f", "sec", "suid"}).code == 0);
}

TEST_CASE("modes: nothing under the state root is readable by others, except the shared VM guest") {
    if (!can_attack()) return;
    TempRoot r;
    // What is meant to be shared: ROOT/guest, the VM guest kernel that /var/lib/isolab/guest
    // shares with non-root users (sim/vm/vm_manager.cpp guest_dir). Made here as prepare.sh makes
    // it (0755 directory, 0644 files).
    const std::vector<std::string> shared = {r.path() + "/guest", r.path() + "/guest/vmlinuz"};
    std::filesystem::create_directories(r.path() + "/guest");
    ::chmod((r.path() + "/guest").c_str(), 0755);
    {
        int fd = ::open((r.path() + "/guest/vmlinuz").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        REQUIRE(fd >= 0);
        ::close(fd);
    }
    // Every kind of file the root holds: containers (running, stopped), a user network with its
    // leases, a committed and a tagged image, the events, the build cache.
    REQUIRE(r.isolab({"network", "create", "modes-net"}).code == 0);
    auto run = r.isolab({"run", "-d", "--name", "web", "--network", "modes-net", "-e", "TOKEN=x", "busybox", "sleep", "300"});
    REQUIRE_MESSAGE(run.code == 0, run.err);
    REQUIRE(r.isolab({"run", "--name", "done", "busybox", "sh", "-c", "echo hi > /f"}).code == 0);
    REQUIRE(r.isolab({"commit", "done", "modes:1"}).code == 0);
    REQUIRE(r.isolab({"tag", "busybox", "modes:2"}).code == 0);
    std::string ctx = r.path() + "-ctx";
    std::filesystem::create_directories(ctx);
    {
        int fd = ::open((ctx + "/Dockerfile").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        REQUIRE(fd >= 0);
        std::string df = "FROM busybox\nRUN echo built > /b\n";
        REQUIRE(::write(fd, df.data(), df.size()) == static_cast<ssize_t>(df.size()));
        ::close(fd);
    }
    auto built = r.isolab({"build", "-t", "modes:3", ctx}, 120000);
    std::error_code ec;
    std::filesystem::remove_all(ctx, ec);
    REQUIRE_MESSAGE(built.code == 0, built.err);

    auto readable = readable_by_nobody(r.path());
    std::set<std::string> allowed(shared.begin(), shared.end());
    for (const auto& p : readable) CHECK_MESSAGE(allowed.count(p) == 1, "readable by uid 65534: " << p);
    // The shared guest is still reachable through the root (0711): the check above can fail.
    CHECK(open_as_nobody(r.path() + "/guest/vmlinuz") == 0);
    CHECK(mode_of(r.path()) == 0711);

    // The records themselves are 0600 wherever they are.
    for (const auto& p : walk(r.path())) {
        std::string rel = p.substr(r.path().size());
        bool record = rel == "/events.jsonl" || rel.rfind("/networks/", 0) == 0 || rel.rfind("/images/configs/", 0) == 0 ||
                      rel == "/images/repositories.json" || rel.rfind("/images/build-cache/", 0) == 0 ||
                      (rel.size() > 15 && rel.compare(rel.size() - 15, 15, "/container.json") == 0) ||
                      (rel.size() > 5 && rel.compare(rel.size() - 5, 5, "/lock") == 0);
        struct stat st;
        if (!record || ::lstat(p.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
        CHECK_MESSAGE((st.st_mode & 077) == 0, rel << " has mode " << std::oct << (st.st_mode & 07777));
    }
    CHECK(r.isolab({"rm", "-f", "web", "done"}).code == 0);
}

TEST_CASE("modes: a rootless state root in the user's hands keeps working with the private modes") {
    if (!can_attack()) return;
    auto probe = run_process({"unshare", "--user", "--map-root-user", "true"}, {}, 10000, "", kNobody);
    if (probe.code != 0) {
        ISOLAB_SKIP("uid 65534 cannot create a user namespace here (" << probe.err
                << "): the rootless path cannot run on this machine");
        return;
    }
    TempRoot r;
    r.use_private_binaries();
    r.uid = kNobody;
    REQUIRE(::chown(r.path().c_str(), kNobody, kNobody) == 0);
    auto res = r.isolab({"run", "--name", "rl", "-e", "SECRET=x", "busybox", "sh", "-c", "echo ok > /f; cat /f"});
    INFO(res.err);
    CHECK(res.code == 0);
    CHECK(res.out == "ok\n");
    CHECK(r.isolab({"logs", "rl"}).out == "ok\n");
    struct stat st;
    REQUIRE(::stat((r.path() + "/containers").c_str(), &st) == 0);
    CHECK(st.st_uid == static_cast<uid_t>(kNobody));
    CHECK((st.st_mode & 07777) == 0700);
    CHECK(r.isolab({"rm", "rl"}).code == 0);
    CHECK(r.isolab({"ps", "-aq"}).out.empty());
}
