// Log flood (issue 12, item 9): a container that prints without end must not fill the host's disk
// through its log, and reading the end of that log must not cost the host the log's size in
// memory. The container prints 200 MB as fast as it can; the log on the host stays within its cap
// (10m x 3 by default, or what --log-opt asks) and `logs --tail` answers with the right lines from
// a small, bounded amount of memory. Log options IsoLab cannot honour are refused, not ignored.
#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "security.hpp"

using namespace isolab::test;

namespace {

// A line of 99 characters: 200,000,000 bytes are exactly 2,000,000 such lines.
const std::string kLine = std::string("0123456789abcdef") + std::string(83, 'x');

struct LogFiles {
    std::vector<std::string> names;
    std::vector<long long> sizes;
    long long total = 0;
};

// The container's log files on the host: container.log and its rotated container.log.N.
LogFiles log_files(const std::string& dir) {
    LogFiles out;
    DIR* d = ::opendir(dir.c_str());
    if (!d) return out;
    while (dirent* e = ::readdir(d)) {
        std::string name = e->d_name;
        if (name.rfind("container.log", 0) != 0) continue;
        struct stat st;
        if (::stat((dir + "/" + name).c_str(), &st) != 0) continue;
        out.names.push_back(name);
        out.sizes.push_back(st.st_size);
        out.total += st.st_size;
    }
    ::closedir(d);
    return out;
}

struct Measured {
    int code = -1;
    long max_rss_kb = -1;
    std::string out;
};

// Runs `isolab ARGS` with its output in a file and returns the child's peak resident memory from
// wait4's rusage (the whole of `logs` runs in that one process).
Measured measure(const TempRoot& root, const std::vector<std::string>& args) {
    Measured m;
    const std::string out_path = root.path() + "/measured.out";
    pid_t pid = ::fork();
    if (pid == 0) {
        int fd = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0 || ::dup2(fd, 1) < 0) ::_exit(126);
        const std::string env = "ISOLAB_ROOT=" + root.path();
        ::putenv(const_cast<char*>(env.c_str()));
        std::vector<char*> argv{const_cast<char*>(root.bin.c_str())};
        for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    int status = 0;
    struct rusage ru = {};
    if (pid < 0 || ::wait4(pid, &status, 0, &ru) != pid) return m;
    m.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    m.max_rss_kb = ru.ru_maxrss;
    m.out = read_text(out_path);
    return m;
}

}  // namespace

TEST_CASE("security: a container printing 200 MB leaves at most 10m x 3 of log, and logs --tail reads it in bounded memory") {
    if (!can_attack()) return;
    TempRoot root;
    auto run = root.isolab({"run", "-d", "--name", "flood", "busybox", "sh", "-c",
                            "yes " + kLine + " | head -c 200000000; echo THE-END"});
    REQUIRE_MESSAGE(run.code == 0, run.err);
    auto waited = root.isolab({"wait", "flood"}, 600000);
    REQUIRE_MESSAGE(waited.code == 0, waited.err);
    CHECK(first_line(waited.out) == "0");
    const std::string id = root.id_of("flood");
    const std::string dir = root.path() + "/containers/" + id;

    // The cap: three files (container.log, .1, .2), each at most 10,000,000 bytes plus one entry.
    LogFiles files = log_files(dir);
    CAPTURE(files.names.size());
    CHECK(files.names.size() <= 3);
    CHECK(files.names.size() >= 2);  // 200 MB did rotate
    for (long long s : files.sizes) CHECK(s <= 10'000'000 + 1024);
    CHECK(files.total <= 30LL * 1024 * 1024);

    // The last lines, from a process whose peak memory is far below the log's 30 MB (before the
    // fix, `logs` held every line of the file in memory).
    Measured tail = measure(root, {"logs", "--tail", "2", "flood"});
    CHECK(tail.code == 0);
    CHECK(tail.out == kLine + "\nTHE-END\n");
    CAPTURE(tail.max_rss_kb);
    CHECK(tail.max_rss_kb > 0);
    CHECK(tail.max_rss_kb < 20 * 1024);  // the old reader took 43 MB for one 10 MB file

    // All of what is kept, in order: whole lines of the flood, then the marker, nothing torn.
    Measured all = measure(root, {"logs", "flood"});
    CHECK(all.code == 0);
    CHECK(all.max_rss_kb < 20 * 1024);
    REQUIRE(all.out.size() > 8);
    CHECK(all.out.substr(all.out.size() - 8) == "THE-END\n");
    size_t lines = 0, bad = 0;
    for (size_t at = 0; at + 8 < all.out.size();) {
        size_t nl = all.out.find('\n', at);
        if (nl == std::string::npos) break;
        if (all.out.compare(at, nl - at, kLine) != 0) ++bad;
        ++lines;
        at = nl + 1;
    }
    CHECK(bad == 0);
    // At least the two full rotated files' worth: entries are the line plus under 80 bytes of JSON.
    CHECK(lines * (kLine.size() + 80) >= 20'000'000);

    // rm takes the rotated files with the container.
    auto rm = root.isolab({"rm", "flood"});
    CHECK(rm.code == 0);
    CHECK(log_files(dir).names.empty());
    struct stat st;
    CHECK(::stat(dir.c_str(), &st) != 0);
}

TEST_CASE("security: --log-opt max-size=1m --log-opt max-file=2 is honoured and shown by inspect") {
    if (!can_attack()) return;
    TempRoot root;
    auto run = root.isolab({"run", "--name", "small", "--log-opt", "max-size=1m", "--log-opt", "max-file=2", "-d",
                            "busybox", "sh", "-c", "yes " + kLine + " | head -c 20000000; echo THE-END"});
    REQUIRE_MESSAGE(run.code == 0, run.err);
    auto waited = root.isolab({"wait", "small"}, 300000);
    REQUIRE_MESSAGE(waited.code == 0, waited.err);
    const std::string dir = root.path() + "/containers/" + root.id_of("small");
    LogFiles files = log_files(dir);
    CHECK(files.names.size() == 2);
    for (long long s : files.sizes) CHECK(s <= 1'000'000 + 1024);
    struct stat st;
    CHECK(::stat((dir + "/container.log.2").c_str(), &st) != 0);
    auto tail = root.isolab({"logs", "--tail", "1", "small"});
    CHECK(tail.out == "THE-END\n");
    auto inspect = root.isolab({"inspect", "-f", "{{json .HostConfig.LogConfig}}", "small"});
    CHECK(first_line(inspect.out) == R"({"Config":{"max-file":"2","max-size":"1m"},"Type":"json-file"})");
    // The default, for a container created without log options.
    auto plain = root.isolab({"create", "--name", "plain", "busybox", "true"});
    REQUIRE(plain.code == 0);
    inspect = root.isolab({"inspect", "-f", "{{json .HostConfig.LogConfig}}", "plain"});
    CHECK(first_line(inspect.out) == R"({"Config":{"max-file":"3","max-size":"10m"},"Type":"json-file"})");
}

TEST_CASE("security: log options IsoLab cannot honour are refused with exit 125 and leave no container") {
    if (!can_attack()) return;
    TempRoot root;
    struct Case {
        std::vector<std::string> flags;
        std::string names;     // the refusal names the key or driver, or what is wrong
        std::string supports;  // and says what IsoLab takes instead
    };
    const Case cases[] = {
        {{"--log-opt", "foo=bar"}, "'foo'", "max-size and max-file"},
        {{"--log-driver", "syslog"}, "\"syslog\"", "json-file"},
        {{"--log-driver", "none"}, "\"none\"", "json-file"},
        {{"--log-opt", "compress=true"}, "'compress'", "max-size and max-file"},
        {{"--log-opt", "max-size=0"}, "max-size must be a positive number", ""},
        {{"--log-opt", "max-size=10q"}, "invalid suffix: 'q'", ""},
        {{"--log-opt", "max-file=0"}, "max-file cannot be less than 1", ""},
    };
    for (const auto& c : cases) {
        for (const char* verb : {"run", "create"}) {
            std::vector<std::string> args{verb};
            args.insert(args.end(), c.flags.begin(), c.flags.end());
            args.insert(args.end(), {"busybox", "echo", "hi"});
            auto r = root.isolab(args);
            CAPTURE(verb);
            CAPTURE(c.flags.back());
            CHECK(r.code == 125);
            CHECK(first_line(r.err).find(c.names) != std::string::npos);
            CHECK(first_line(r.err).find(c.supports) != std::string::npos);
            CHECK(r.out.find("hi") == std::string::npos);
        }
    }
    auto ps = root.isolab({"ps", "-a", "-q"});
    CHECK(ps.code == 0);
    CHECK(ps.out.empty());
}
