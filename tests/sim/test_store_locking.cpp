// The state root's locks and name reservations (sim/state/store.hpp), across threads and across
// processes: `ROOT/lock` and `ROOT/containers/ID/lock` exclude every other holder until released
// or until the holder's process ends (also by SIGKILL); `ROOT/names/NAME` goes to exactly one of
// many concurrent creates, and a reservation whose container has no record is taken over.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "sim/core/files.hpp"
#include "sim/state/store.hpp"

using namespace isolab;

namespace {

struct TempRoot {
    std::string path;
    TempRoot() {
        char tmpl[] = "/tmp/isolab-store-XXXXXX";
        REQUIRE(::mkdtemp(tmpl) != nullptr);
        path = tmpl;
        REQUIRE(Store(path).ensure_layout().ok());
    }
    ~TempRoot() { (void)remove_tree(path); }
};

// A container directory with a record file, so that a name pointing at it counts as held.
std::string make_container(const Store& s, int n) {
    std::string id = std::string(63, '0') + static_cast<char>('a' + n);
    REQUIRE(make_dirs(s.container_dir(id), 0700).ok());
    REQUIRE(write_file_atomic(s.record_path(id), "{}").ok());
    return id;
}

// True when another open file description can take PATH's lock at once (no holder left).
bool lock_is_free(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    REQUIRE(fd >= 0);
    bool free = ::flock(fd, LOCK_EX | LOCK_NB) == 0;
    ::close(fd);
    return free;
}

// Whether FD becomes readable within MS milliseconds.
bool readable_within(int fd, int ms) {
    struct pollfd p = {fd, POLLIN, 0};
    return ::poll(&p, 1, ms) == 1;
}

}  // namespace

TEST_CASE("store: the global lock excludes another process until it is released") {
    TempRoot root;
    Store store(root.path);
    std::optional<FileLock> held;
    {
        auto l = store.lock_global();
        REQUIRE(l.ok());
        held = std::move(*l);
    }
    int p[2];
    REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        // The child shares the parent's open lock file (fork copies descriptors, and flock locks
        // belong to the open file): close that copy, or the child would wait for itself.
        held.reset();
        auto l = Store(root.path).lock_global();  // blocks while the parent holds it
        char c = l.ok() ? 'y' : 'n';
        (void)!::write(p[1], &c, 1);
        ::_exit(0);
    }
    ::close(p[1]);
    CHECK_FALSE(readable_within(p[0], 300));  // still waiting
    held.reset();
    REQUIRE(readable_within(p[0], 10000));
    char c = 0;
    CHECK(::read(p[0], &c, 1) == 1);
    CHECK(c == 'y');
    ::close(p[0]);
    int status = 0;
    ::waitpid(child, &status, 0);
    CHECK(lock_is_free(root.path + "/lock"));
}

TEST_CASE("store: a container's lock excludes another thread of the same process") {
    TempRoot root;
    Store store(root.path);
    std::string id = make_container(store, 0);
    auto first = store.lock_container(id);
    REQUIRE(first.ok());
    std::atomic<bool> got{false};
    std::thread other([&] {
        auto l = store.lock_container(id);  // its own open file description: it waits
        got = l.ok();
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    CHECK_FALSE(got.load());
    { FileLock release = std::move(*first); }
    other.join();
    CHECK(got.load());
}

TEST_CASE("store: a lock is released when its holder exits or is killed") {
    TempRoot root;
    Store store(root.path);
    std::string id = make_container(store, 1);
    const std::string path = store.container_dir(id) + "/lock";
    for (bool killed : {false, true}) {
        INFO("holder: " << (killed ? "SIGKILL" : "exit without unlocking"));
        int p[2];
        REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
        pid_t child = ::fork();
        REQUIRE(child >= 0);
        if (child == 0) {
            auto l = Store(root.path).lock_container(id);
            char c = l.ok() ? 'y' : 'n';
            (void)!::write(p[1], &c, 1);
            if (killed) ::pause();
            ::_exit(0);  // no destructor runs: only the kernel releases the lock
        }
        ::close(p[1]);
        REQUIRE(readable_within(p[0], 10000));
        char c = 0;
        CHECK(::read(p[0], &c, 1) == 1);
        CHECK(c == 'y');
        ::close(p[0]);
        if (killed) {
            CHECK_FALSE(lock_is_free(path));  // held while the child lives
            ::kill(child, SIGKILL);
        }
        int status = 0;
        ::waitpid(child, &status, 0);
        CHECK(lock_is_free(path));
    }
}

TEST_CASE("store: one name, many concurrent creates: exactly one reserves it") {
    TempRoot root;
    Store store(root.path);
    constexpr int kProcs = 8;
    std::vector<std::string> ids;
    for (int i = 0; i < kProcs; ++i) ids.push_back(make_container(store, i));

    SUBCASE("processes") {
        int go[2], results[2];
        REQUIRE(::pipe2(go, O_CLOEXEC) == 0);
        REQUIRE(::pipe2(results, O_CLOEXEC) == 0);
        std::vector<pid_t> children;
        for (int i = 0; i < kProcs; ++i) {
            pid_t c = ::fork();
            REQUIRE(c >= 0);
            if (c == 0) {
                ::close(go[1]);
                char b;
                (void)!::read(go[0], &b, 1);  // all start together: EOF when the parent closes it
                std::string owner;
                auto r = Store(root.path).reserve_name("web", ids[static_cast<size_t>(i)], &owner);
                // "i:1" reserved, "i:0:OWNER" refused, "i:E" error
                std::string line = std::to_string(i) + ":" + (!r.ok() ? "E" : *r ? "1" : "0:" + owner) + "\n";
                (void)!::write(results[1], line.data(), line.size());
                ::_exit(0);
            }
            children.push_back(c);
        }
        ::close(go[0]);
        ::close(results[1]);
        ::close(go[1]);
        std::string all;
        char buf[4096];
        for (ssize_t n; (n = ::read(results[0], buf, sizeof buf)) > 0;) all.append(buf, static_cast<size_t>(n));
        ::close(results[0]);
        for (pid_t c : children) ::waitpid(c, nullptr, 0);
        std::string owner;
        REQUIRE(store.name_in_use("web", &owner));
        int winners = 0, refused = 0;
        size_t start = 0;
        for (size_t nl; (nl = all.find('\n', start)) != std::string::npos; start = nl + 1) {
            std::string line = all.substr(start, nl - start);
            int i = std::stoi(line);
            std::string verdict = line.substr(line.find(':') + 1);
            INFO("child " << i << ": " << verdict);
            if (verdict == "1") {
                ++winners;
                CHECK(ids[static_cast<size_t>(i)] == owner);
            } else {
                ++refused;
                CHECK(verdict == "0:" + owner);  // the loser is told who holds it
            }
        }
        CHECK(winners == 1);
        CHECK(refused == kProcs - 1);
    }
    SUBCASE("threads") {
        std::atomic<bool> start{false};
        std::atomic<int> winners{0}, errors{0};
        std::vector<std::string> owners(kProcs);
        std::vector<std::thread> threads;
        for (int i = 0; i < kProcs; ++i)
            threads.emplace_back([&, i] {
                while (!start) std::this_thread::yield();
                auto r = store.reserve_name("web", ids[static_cast<size_t>(i)], &owners[static_cast<size_t>(i)]);
                if (!r.ok()) ++errors;
                else if (*r) ++winners, owners[static_cast<size_t>(i)] = ids[static_cast<size_t>(i)];
            });
        start = true;
        for (auto& t : threads) t.join();
        CHECK(errors == 0);
        CHECK(winners == 1);
        std::string owner;
        REQUIRE(store.name_in_use("web", &owner));
        CHECK(std::set<std::string>(owners.begin(), owners.end()) == std::set<std::string>{owner});
    }
}

TEST_CASE("store: a name is released only by its owner, and a stale one is taken over") {
    TempRoot root;
    Store store(root.path);
    std::string a = make_container(store, 0), b = make_container(store, 1);
    std::string owner;
    auto r = store.reserve_name("db", a, &owner);
    REQUIRE(r.ok());
    CHECK(*r);
    r = store.reserve_name("db", b, &owner);
    REQUIRE(r.ok());
    CHECK_FALSE(*r);
    CHECK(owner == a);

    store.release_name("db", b);  // not b's: nothing happens
    CHECK(store.name_in_use("db", &owner));
    CHECK(owner == a);
    store.release_name("db", a);
    CHECK_FALSE(store.name_in_use("db", nullptr));
    r = store.reserve_name("db", b, &owner);
    REQUIRE(r.ok());
    CHECK(*r);

    // b's create was killed before its record was saved: the name points at no record.
    REQUIRE(remove_tree(store.container_dir(b)).ok());
    CHECK_FALSE(store.name_in_use("db", nullptr));
    r = store.reserve_name("db", a, &owner);
    REQUIRE(r.ok());
    CHECK(*r);
    CHECK(store.name_in_use("db", &owner));
    CHECK(owner == a);

    // release_names_of frees every name of one container and no other's.
    REQUIRE(store.reserve_name("cache", a, &owner).ok());
    std::string c = make_container(store, 2);
    REQUIRE(store.reserve_name("queue", c, &owner).ok());
    store.release_names_of(a);
    CHECK_FALSE(store.name_in_use("db", nullptr));
    CHECK_FALSE(store.name_in_use("cache", nullptr));
    CHECK(store.name_in_use("queue", &owner));
    CHECK(owner == c);
}
