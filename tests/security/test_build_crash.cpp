// Fault tests of `isolab build`: the builder killed with SIGKILL in the middle of a RUN, the RUN
// container's monitor killed under a running build, and the builder interrupted with SIGINT. After
// each, nothing of the build may be left: no intermediate container in `ps -a`, no staging folder
// under ROOT/images/layers, no layer that no image names, no process. And the build never hangs.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <set>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "security.hpp"

using namespace isolab::test;
namespace fs = std::filesystem;

namespace {

// `isolab build` running in the background, its output in files.
struct BackgroundBuild {
    pid_t pid = -1;
    std::string out_path, err_path;
    BackgroundBuild(const TempRoot& r, const std::string& ctx) {
        out_path = r.path() + "/../" + fs::path(r.path()).filename().string() + ".build.out";
        err_path = out_path + ".err";
        pid = ::fork();
        if (pid == 0) {
            // doctest's handlers came with the fork: a signal before exec must act as on isolab.
            for (int sig : {SIGINT, SIGTERM, SIGHUP}) ::signal(sig, SIG_DFL);
            ::setpgid(0, 0);
            int o = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
            int e = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
            ::dup2(o, 1);
            ::dup2(e, 2);
            std::string root = "ISOLAB_ROOT=" + r.path();
            ::putenv(const_cast<char*>(root.c_str()));
            ::putenv(const_cast<char*>("ISOLAB_LANG=en"));
            ::execl(r.bin.c_str(), r.bin.c_str(), "build", "-t", "crash", ctx.c_str(), static_cast<char*>(nullptr));
            ::_exit(127);
        }
    }
    // The exit status once it ended within TIMEOUT_MS; -1 (and the build is killed) past it.
    int wait(int timeout_ms) {
        auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
        for (;;) {
            int status = 0;
            if (::waitpid(pid, &status, WNOHANG) == pid) {
                pid = -1;
                return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            }
            if (std::chrono::steady_clock::now() > deadline) {
                ::kill(-pid, SIGKILL);
                ::waitpid(pid, nullptr, 0);
                pid = -1;
                return -1;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    }
    ~BackgroundBuild() {
        if (pid > 0) {
            ::kill(-pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
        }
        std::error_code ec;
        fs::remove(out_path, ec);
        fs::remove(err_path, ec);
    }
    std::string out() const { return read_text(out_path); }
    std::string err() const { return read_text(err_path); }
};

std::set<std::string> container_ids(const TempRoot& r) {
    std::set<std::string> ids;
    std::error_code ec;
    for (auto it = fs::directory_iterator(r.path() + "/containers", ec); !ec && it != fs::directory_iterator(); ++it)
        ids.insert(it->path().filename().string());
    return ids;
}

// The record of the RUN container a build started (one not in BEFORE), once its monitor has
// reported (up to 30 s).
nlohmann::json running_build_container(const TempRoot& r, const std::set<std::string>& before) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
        std::error_code ec;
        for (auto it = fs::directory_iterator(r.path() + "/containers", ec); !ec && it != fs::directory_iterator(); ++it) {
            if (before.count(it->path().filename().string())) continue;
            auto j = nlohmann::json::parse(read_text(it->path().string() + "/container.json"), nullptr, false);
            if (j.is_discarded() || !j.is_object()) continue;
            if (j.value("monitor_pid", 0) > 0 && j.value("pid", 0) > 0) return j;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return nullptr;
}

// Entries of ROOT/images/layers whose name starts with a dot: staging folders of any kind.
std::vector<std::string> staging_leftovers(const TempRoot& r) {
    std::vector<std::string> out;
    std::error_code ec;
    for (auto it = fs::directory_iterator(r.path() + "/images/layers", ec); !ec && it != fs::directory_iterator(); ++it)
        if (it->path().filename().string()[0] == '.') out.push_back(it->path().filename().string());
    return out;
}

int count_layers(const TempRoot& r) {
    int n = 0;
    std::error_code ec;
    for (auto it = fs::directory_iterator(r.path() + "/images/layers", ec); !ec && it != fs::directory_iterator(); ++it)
        n += it->path().filename().string()[0] != '.';
    return n;
}

// A Dockerfile whose first RUN makes a layer and whose second runs long enough to be killed in.
std::string make_context(const TempRoot& r) {
    std::string ctx = r.path() + "/ctx";
    write_text(ctx + "/f.txt", "copied\n");
    write_text(ctx + "/Dockerfile", "FROM busybox\nCOPY f.txt /f.txt\nRUN echo made > /made\nRUN sleep 30\n");
    return ctx;
}

bool real_runtime(const TempRoot& r) {
    if (r.isolab({"version"}).out.find("Backend: simulated") != std::string::npos) {
        ISOLAB_SKIP("no real containers here (simulated backend)");
        return false;
    }
    return true;
}

}  // namespace

TEST_CASE("security build crash: kill -9 of `isolab build` during RUN; the next command collects the container, the staging and the layers") {
    if (!can_attack()) return;
    TempRoot r;
    if (!real_runtime(r)) return;
    REQUIRE(r.isolab({"images"}).code == 0);  // busybox made
    const int layers_before = count_layers(r);
    std::string ctx = make_context(r);
    auto before = container_ids(r);
    BackgroundBuild b(r, ctx);
    auto rec = running_build_container(r, before);
    INFO(b.out() << b.err());
    REQUIRE(rec.is_object());
    const int init_pid = rec.value("pid", 0), monitor_pid = rec.value("monitor_pid", 0);
    CHECK(rec["spec"]["labels"].contains("org.isolab.build.owner"));
    CHECK(!staging_leftovers(r).empty());  // the work folder of the running build
    CHECK(count_layers(r) > layers_before);  // COPY's and the first RUN's layers
    ::kill(b.pid, SIGKILL);
    CHECK(b.wait(5000) == 128 + SIGKILL);
    // What the kill left (the running container, the work folder, two layers no image names) is
    // collected by the next command of any kind, before it answers: here `ps -a`.
    CHECK(staging_leftovers(r).size() == 1);
    CHECK(r.isolab({"ps", "-aq"}).out.empty());
    CHECK_FALSE(process_alive(init_pid));

    // And the next build starts from a clean store.
    std::string other = r.path() + "/other";
    write_text(other + "/Dockerfile", "FROM busybox\nCMD [\"true\"]\n");
    auto next = r.isolab({"build", "-t", "other", other}, 30000);
    INFO(next.out << next.err);
    CHECK(next.code == 0);
    CHECK(r.isolab({"ps", "-aq"}).out.empty());
    CHECK(staging_leftovers(r).empty());
    CHECK(count_layers(r) == layers_before);
    CHECK_FALSE(process_alive(init_pid));
    CHECK_FALSE(process_alive(monitor_pid));
}

TEST_CASE("security build crash: the RUN container's monitor killed; the build fails within seconds with one line, and leaves nothing") {
    if (!can_attack()) return;
    TempRoot r;
    if (!real_runtime(r)) return;
    REQUIRE(r.isolab({"images"}).code == 0);
    const int layers_before = count_layers(r);
    auto before = container_ids(r);
    BackgroundBuild b(r, make_context(r));
    auto rec = running_build_container(r, before);
    INFO(b.out() << b.err());
    REQUIRE(rec.is_object());
    const int init_pid = rec.value("pid", 0), monitor_pid = rec.value("monitor_pid", 0);
    REQUIRE(::kill(monitor_pid, SIGKILL) == 0);
    int code = b.wait(10000);  // without the fix it waited forever; -1 = killed at the deadline
    CHECK(code == 1);
    std::string err = b.err();
    CHECK(err.find("did not finish: the monitor of its container (pid " + std::to_string(monitor_pid) + ") died unexpectedly") !=
          std::string::npos);
    CHECK(std::count(err.begin(), err.end(), '\n') == 1);
    CHECK(r.isolab({"ps", "-aq"}).out.empty());
    CHECK(staging_leftovers(r).empty());
    CHECK(count_layers(r) == layers_before);
    CHECK_FALSE(process_alive(init_pid));
}

TEST_CASE("security build crash: SIGINT and SIGTERM end a build in RUN cleanly, with 128 + the signal") {
    if (!can_attack()) return;
    TempRoot r;
    if (!real_runtime(r)) return;
    REQUIRE(r.isolab({"images"}).code == 0);
    const int layers_before = count_layers(r);
    for (int sig : {SIGINT, SIGTERM}) {
        CAPTURE(sig);
        auto before = container_ids(r);
        BackgroundBuild b(r, make_context(r));
        auto rec = running_build_container(r, before);
        INFO(b.out() << b.err());
        REQUIRE(rec.is_object());
        const int init_pid = rec.value("pid", 0);
        REQUIRE(::kill(b.pid, sig) == 0);
        CHECK(b.wait(15000) == 128 + sig);
        CHECK(b.err().find("the build was interrupted by SIG") == 0);
        CHECK(r.isolab({"ps", "-aq"}).out.empty());
        CHECK(staging_leftovers(r).empty());
        CHECK(count_layers(r) == layers_before);
        CHECK_FALSE(process_alive(init_pid));
    }
}
