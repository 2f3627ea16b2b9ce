// Docker's json-file log as IsoLab keeps it (sim/runtime/json_log.hpp): rotation at max-size, at
// most max-file files, a tail read backwards across the rotated files, no torn line for a reader
// running while the writer rotates, and a follower that sees every line across rotations.
// Issue 12: a container printing without end used to fill the disk, and `logs --tail 1` loaded it
// all into memory.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/cli/args.hpp"
#include "sim/core/files.hpp"
#include "sim/state/container.hpp"
#include "sim/runtime/json_log.hpp"

using namespace isolab;
using nlohmann::json;

namespace {

struct LogDir {
    std::string dir, log;
    LogDir() {
        char tmpl[] = "/tmp/isolab-jsonlog-XXXXXX";
        dir = ::mkdtemp(tmpl);
        log = dir + "/container.log";
    }
    ~LogDir() { (void)remove_tree(dir); }
};

// "line-000042\n" as the container printed it: fixed width, so every entry has the same size.
std::string text_of(int i) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "line-%06d\n", i);
    return buf;
}

const std::string kTime = "2026-01-02T03:04:05.000000006Z";

size_t entry_size() {
    return json({{"log", text_of(0)}, {"stream", "stdout"}, {"time", kTime}}).dump().size() + 1;
}

int64_t file_size(const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0 ? st.st_size : -1;
}

// The "log" field of each line, in order; a line that is not one of the writer's JSON objects
// fails the test.
struct Collected {
    std::vector<std::string> texts;
    JsonLogReader::LineFn fn() {
        return [this](std::string_view line) {
            auto j = json::parse(line, nullptr, false);
            REQUIRE_MESSAGE(!j.is_discarded(), "torn or garbled line: " << std::string(line));
            REQUIRE(j.is_object());
            texts.push_back(j.value("log", ""));
        };
    }
};

std::vector<std::string> expected(int from, int to) {  // text_of(from) … text_of(to - 1)
    std::vector<std::string> out;
    for (int i = from; i < to; ++i) out.push_back(text_of(i));
    return out;
}

}  // namespace

TEST_CASE("json log: rotates when the current file reaches max-size, Docker's check-then-write order") {
    LogDir d;
    const size_t e = entry_size();
    const int64_t max_size = static_cast<int64_t>(e * 10);  // exactly ten entries
    auto w = JsonLogWriter::open(d.log, max_size, 3);
    REQUIRE(w.ok());
    for (int i = 0; i < 10; ++i) REQUIRE(w->write("stdout", text_of(i), kTime).ok());
    CHECK(file_size(d.log) == max_size);
    CHECK_FALSE(path_exists(d.log + ".1"));  // full, but nothing was written past it yet
    REQUIRE(w->write("stdout", text_of(10), kTime).ok());
    CHECK(file_size(d.log + ".1") == max_size);
    CHECK(file_size(d.log) == static_cast<int64_t>(e));
    CHECK_FALSE(path_exists(d.log + ".new"));
    // An entry larger than the rest of the room still goes whole into the current file.
    auto w2 = JsonLogWriter::open(d.dir + "/big.log", static_cast<int64_t>(e) + 1, 2);
    REQUIRE(w2.ok());
    REQUIRE(w2->write("stdout", text_of(0), kTime).ok());
    REQUIRE(w2->write("stdout", std::string(500, 'x'), kTime).ok());
    const int64_t both = file_size(d.dir + "/big.log");
    CHECK(both > 500 + static_cast<int64_t>(e));
    CHECK_FALSE(path_exists(d.dir + "/big.log.1"));
    REQUIRE(w2->write("stdout", text_of(1), kTime).ok());
    CHECK(file_size(d.dir + "/big.log.1") == both);
    CHECK(file_size(d.dir + "/big.log") == static_cast<int64_t>(e));
}

TEST_CASE("json log: at most max-file files, the oldest dropped, each within max-size plus one entry") {
    LogDir d;
    const size_t e = entry_size();
    for (int max_file : {1, 2, 3, 5}) {
        CAPTURE(max_file);
        LogDir dd;
        const int64_t max_size = static_cast<int64_t>(e * 4 + 7);
        auto w = JsonLogWriter::open(dd.log, max_size, max_file);
        REQUIRE(w.ok());
        for (int i = 0; i < 500; ++i) REQUIRE(w->write(i % 2 ? "stderr" : "stdout", text_of(i), kTime).ok());
        int64_t total = 0;
        for (int i = 0; i < max_file; ++i) {
            int64_t size = file_size(rotated_log_path(dd.log, i));
            CHECK(size > 0);
            CHECK(size <= max_size + static_cast<int64_t>(e));
            total += size;
        }
        CHECK_FALSE(path_exists(rotated_log_path(dd.log, max_file)));
        CHECK(total <= static_cast<int64_t>(max_file) * (max_size + static_cast<int64_t>(e)));
        // What is left is the newest lines, in order, ending with the last one written.
        auto r = JsonLogReader::open(dd.log);
        REQUIRE(r.ok());
        Collected got;
        REQUIRE(r->read_snapshot(got.fn()).ok());
        REQUIRE_FALSE(got.texts.empty());
        CHECK(got.texts.back() == text_of(499));
        CHECK(got.texts == expected(500 - static_cast<int>(got.texts.size()), 500));
    }
}

TEST_CASE("json log: tail reads the exact last N lines in order across three files") {
    LogDir d;
    const size_t e = entry_size();
    auto w = JsonLogWriter::open(d.log, static_cast<int64_t>(e * 10), 3);  // ten entries a file
    REQUIRE(w.ok());
    for (int i = 0; i < 125; ++i) REQUIRE(w->write("stdout", text_of(i), kTime).ok());
    // Files now: .2 = 100..109, .1 = 110..119, current = 120..124.
    REQUIRE(file_size(d.log + ".2") == static_cast<int64_t>(e * 10));
    for (size_t n : {0u, 1u, 4u, 5u, 6u, 15u, 16u, 24u, 25u}) {
        CAPTURE(n);
        auto r = JsonLogReader::open(d.log);
        REQUIRE(r.ok());
        REQUIRE(r->seek_tail(n).ok());
        Collected got;
        REQUIRE(r->read_snapshot(got.fn()).ok());
        CHECK(got.texts == expected(125 - static_cast<int>(n), 125));
    }
    for (size_t n : {26u, 1000u}) {  // more than is kept: everything that is kept
        auto r = JsonLogReader::open(d.log);
        REQUIRE(r.ok());
        REQUIRE(r->seek_tail(n).ok());
        Collected got;
        REQUIRE(r->read_snapshot(got.fn()).ok());
        CHECK(got.texts == expected(100, 125));
    }
    // A partly written last line is not a line yet: tail skips it, poll hands it out once complete.
    {
        UniqueFd fd(::open(d.log.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC));
        std::string half = "{\"log\":\"half";
        REQUIRE(::write(fd.get(), half.data(), half.size()) == static_cast<ssize_t>(half.size()));
        auto r = JsonLogReader::open(d.log);
        REQUIRE(r.ok());
        REQUIRE(r->seek_tail(2).ok());
        Collected got;
        REQUIRE(r->read_snapshot(got.fn()).ok());
        CHECK(got.texts == expected(123, 125));
        std::string rest = " done\\n\",\"stream\":\"stdout\",\"time\":\"" + kTime + "\"}\n";
        REQUIRE(::write(fd.get(), rest.data(), rest.size()) == static_cast<ssize_t>(rest.size()));
        REQUIRE(r->poll(got.fn()).ok());
        REQUIRE(got.texts.size() == 3);
        CHECK(got.texts.back() == "half done\n");
    }
}

TEST_CASE("json log: tail 1 of a log of several MiB is its last line, and a poll after it adds nothing") {
    LogDir d;
    auto w = JsonLogWriter::open(d.log, 2 * 1000 * 1000, 3);
    REQUIRE(w.ok());
    const int total = 4 * 1024 * 1024 / static_cast<int>(entry_size());
    for (int i = 0; i < total; ++i) REQUIRE(w->write("stdout", text_of(i), kTime).ok());
    auto r = JsonLogReader::open(d.log);
    REQUIRE(r.ok());
    REQUIRE(r->seek_tail(1).ok());
    Collected got;
    REQUIRE(r->read_snapshot(got.fn()).ok());
    CHECK(got.texts == expected(total - 1, total));
    REQUIRE(r->poll(got.fn()).ok());
    CHECK(got.texts.size() == 1);
}

TEST_CASE("json log: a reader racing the writer's rotations never sees a torn, lost or repeated line") {
    // Small files rotate every few entries while readers take snapshots of the whole log: each
    // snapshot must be a run of consecutive entries (no torn line, no hole, no line twice).
    LogDir d;
    const size_t e = entry_size();
    auto w = JsonLogWriter::open(d.log, static_cast<int64_t>(e * 3 + 5), 4);
    REQUIRE(w.ok());
    std::atomic<bool> done{false};
    std::thread writer([&] {
        for (int i = 0; i < 6000; ++i) (void)w->write("stdout", text_of(i), kTime);
        done = true;
    });
    int snapshots = 0, max_lines = 0;
    bool all_consecutive = true, all_parsed = true;
    while (!done || snapshots < 10) {
        auto r = JsonLogReader::open(d.log);
        if (!r.ok()) continue;  // "rotated faster than it can be opened" is allowed, not a tear
        std::vector<int> seen;
        (void)r->read_snapshot([&](std::string_view line) {
            auto j = json::parse(line, nullptr, false);
            if (j.is_discarded()) {
                all_parsed = false;
                return;
            }
            seen.push_back(std::atoi(j.value("log", "").c_str() + 5));
        });
        for (size_t i = 1; i < seen.size(); ++i)
            if (seen[i] != seen[i - 1] + 1) all_consecutive = false;
        max_lines = std::max(max_lines, static_cast<int>(seen.size()));
        ++snapshots;
    }
    writer.join();
    CHECK(all_parsed);
    CHECK(all_consecutive);
    CHECK(max_lines <= 4 * 4);  // four files of at most four entries
    // Every file on disk ends with a complete line.
    for (int i = 0; i < 4; ++i) {
        auto text = read_file(rotated_log_path(d.log, i));
        REQUIRE(text.ok());
        CHECK((text->empty() || text->back() == '\n'));
    }
}

TEST_CASE("json log: the follower sees every line once, in order, across rotations") {
    const size_t e = entry_size();
    SUBCASE("up to max-file - 1 rotations between two polls") {
        LogDir d;
        auto w = JsonLogWriter::open(d.log, static_cast<int64_t>(e * 5), 3);  // five entries a file
        REQUIRE(w.ok());
        auto r = JsonLogReader::open(d.log);
        REQUIRE(r.ok());
        Collected got;
        int written = 0;
        // Batches of 0 to 12 entries: none, part of a file, exactly two rotations' worth.
        for (int batch : {3, 0, 2, 5, 7, 1, 10, 12, 4, 9, 11, 6, 8, 12, 12, 1}) {
            for (int i = 0; i < batch; ++i) REQUIRE(w->write("stdout", text_of(written++), kTime).ok());
            REQUIRE(r->poll(got.fn()).ok());
            CHECK(got.texts == expected(0, written));
        }
    }
    SUBCASE("a follower started with a tail continues right after it") {
        LogDir d;
        auto w = JsonLogWriter::open(d.log, static_cast<int64_t>(e * 5), 3);
        REQUIRE(w.ok());
        for (int i = 0; i < 8; ++i) REQUIRE(w->write("stdout", text_of(i), kTime).ok());
        auto r = JsonLogReader::open(d.log);
        REQUIRE(r.ok());
        REQUIRE(r->seek_tail(2).ok());
        Collected got;
        REQUIRE(r->read_snapshot(got.fn()).ok());
        for (int i = 8; i < 14; ++i) REQUIRE(w->write("stdout", text_of(i), kTime).ok());
        REQUIRE(r->poll(got.fn()).ok());
        CHECK(got.texts == expected(6, 14));
    }
    SUBCASE("a log created after the follower started") {
        LogDir d;
        auto r = JsonLogReader::open(d.log);
        REQUIRE(r.ok());
        Collected got;
        REQUIRE(r->poll(got.fn()).ok());
        CHECK(got.texts.empty());
        auto w = JsonLogWriter::open(d.log, static_cast<int64_t>(e * 2), 2);
        REQUIRE(w.ok());
        for (int i = 0; i < 3; ++i) REQUIRE(w->write("stdout", text_of(i), kTime).ok());
        REQUIRE(r->poll(got.fn()).ok());
        CHECK(got.texts == expected(0, 3));
    }
    SUBCASE("a writer in another thread, rotating all the time") {
        // max-file is large enough that nothing is deleted: then, however the two threads
        // interleave, the follower must see every line exactly once.
        LogDir d;
        auto w = JsonLogWriter::open(d.log, static_cast<int64_t>(e * 40 + 3), 200);
        REQUIRE(w.ok());
        auto r = JsonLogReader::open(d.log);
        REQUIRE(r.ok());
        const int total = 5000;
        std::atomic<bool> done{false};
        std::thread writer([&] {
            for (int i = 0; i < total; ++i) (void)w->write("stdout", text_of(i), kTime);
            done = true;
        });
        Collected got;
        while (!done) REQUIRE(r->poll(got.fn()).ok());
        writer.join();
        REQUIRE(r->poll(got.fn()).ok());
        CHECK(got.texts.size() == static_cast<size_t>(total));
        CHECK(got.texts == expected(0, total));
    }
}

TEST_CASE("json log: --log-opt values parse as Docker's json-file driver parses them") {
    CHECK(parse_log_max_size("10m").value() == 10'000'000);  // go-units FromHumanSize: decimal
    CHECK(parse_log_max_size("1g").value() == 1'000'000'000);
    CHECK(parse_log_max_size("100k").value() == 100'000);
    CHECK(parse_log_max_size("100K").value() == 100'000);
    CHECK(parse_log_max_size("1.5m").value() == 1'500'000);
    CHECK(parse_log_max_size("10MB").value() == 10'000'000);
    CHECK(parse_log_max_size("10MiB").value() == 10'000'000);  // yes: FromHumanSize ignores the "i"
    CHECK(parse_log_max_size("2048").value() == 2048);
    CHECK(parse_log_max_size("12b").value() == 12);
    CHECK(parse_log_max_size("abc").error().message == "invalid size: 'abc'");
    CHECK(parse_log_max_size("-1").error().message == "invalid size: '-1'");
    CHECK(parse_log_max_size("").error().message == "invalid size: ''");
    CHECK(parse_log_max_size("10x").error().message == "invalid suffix: 'x'");
    CHECK(parse_log_max_size("10mbb").error().message == "invalid suffix: 'mbb'");
    CHECK(parse_log_max_size("0").error().message == "max-size must be a positive number");
    CHECK(parse_log_max_file("3").value() == 3);
    CHECK(parse_log_max_file("1").value() == 1);
    CHECK(parse_log_max_file("0").error().message == "max-file cannot be less than 1");
    CHECK(parse_log_max_file("-2").error().message == "max-file cannot be less than 1");
    CHECK(parse_log_max_file("x").error().message == "strconv.Atoi: parsing \"x\": invalid syntax");
    CHECK(parse_log_max_file("").error().message == "strconv.Atoi: parsing \"\": invalid syntax");
}

TEST_CASE("json log: --since and --until values, as Docker's client reads them") {
    const int64_t now = 1'700'000'000'000'000'000;
    CHECK(parse_log_time("42m", now).value() == now - 42LL * 60 * 1'000'000'000);
    CHECK(parse_log_time("1h30m", now).value() == now - 5400LL * 1'000'000'000);
    CHECK(parse_log_time("1.5s", now).value() == now - 1'500'000'000);
    CHECK(parse_log_time("2013-01-02T13:23:37Z", now).value() == 1'357'133'017LL * 1'000'000'000);
    CHECK(parse_log_time("2013-01-02T13:23:37.25Z", now).value() == 1'357'133'017'250'000'000LL);
    CHECK(parse_log_time("2013-01-02T22:23:37+09:00", now).value() == 1'357'133'017LL * 1'000'000'000);
    CHECK(parse_log_time("1700000000", now).value() == 1'700'000'000LL * 1'000'000'000);
    CHECK(parse_log_time("1700000000.5", now).value() == 1'700'000'000'500'000'000LL);
    CHECK(parse_log_time("0", now).value() == 0);
    // Without a zone: the local time, which must land within a day of the UTC reading.
    int64_t local = parse_log_time("2013-01-02", now).value();
    CHECK(std::llabs(local - 1'357'084'800LL * 1'000'000'000) <= 86400LL * 1'000'000'000);
    CHECK(parse_log_time("foo", now).error().message == "failed to parse value as time or duration: \"foo\"");
    CHECK_FALSE(parse_log_time("2013-13-02", now).ok());
    CHECK(parse_log_time("10", now).value() == 10LL * 1'000'000'000);  // plain seconds: a Unix time
}

TEST_CASE("json log: the container record keeps the log options; records from before them get 10m x 3") {
    ContainerRecord r;
    r.id = std::string(64, 'a');
    r.spec.log.max_size = 1'000'000;
    r.spec.log.max_size_text = "1m";
    r.spec.log.max_file = 2;
    ContainerRecord back = record_from_json(to_json(r));
    CHECK(back.spec.log.max_size == 1'000'000);
    CHECK(back.spec.log.max_size_text == "1m");
    CHECK(back.spec.log.max_file == 2);
    CHECK(inspect_json(back)["HostConfig"]["LogConfig"] ==
          json({{"Type", "json-file"}, {"Config", {{"max-size", "1m"}, {"max-file", "2"}}}}));

    json old = to_json(r);
    old["spec"].erase("log_config");
    ContainerRecord legacy = record_from_json(old);
    CHECK(legacy.spec.log.max_size == 10'000'000);
    CHECK(legacy.spec.log.max_size_text == "10m");
    CHECK(legacy.spec.log.max_file == 3);
    CHECK(inspect_json(legacy)["HostConfig"]["LogConfig"]["Config"] == json({{"max-size", "10m"}, {"max-file", "3"}}));
}

TEST_CASE("json log: run and create take --log-driver json-file and --log-opt max-size/max-file, and refuse the rest") {
    using isolab::cli::parse_args;
    auto c = parse_args({"create", "--log-driver", "json-file", "--log-opt", "max-size=100k", "--log-opt=max-file=5",
                         "busybox"});
    REQUIRE(c.ok());
    CHECK(c->spec.log.max_size == 100'000);
    CHECK(c->spec.log.max_size_text == "100k");
    CHECK(c->spec.log.max_file == 5);
    auto d = parse_args({"run", "busybox"});
    REQUIRE(d.ok());
    CHECK(d->spec.log.max_size == 10'000'000);
    CHECK(d->spec.log.max_file == 3);
    for (std::vector<std::string> bad : {std::vector<std::string>{"--log-opt", "foo=bar"},
                                         {"--log-opt", "tag=x"},
                                         {"--log-driver", "syslog"},
                                         {"--log-driver", "local"},
                                         {"--log-opt", "max-size=1x"},
                                         {"--log-opt", "max-file=zero"}}) {
        for (const char* verb : {"run", "create"}) {
            std::vector<std::string> argv{verb};
            argv.insert(argv.end(), bad.begin(), bad.end());
            argv.push_back("busybox");
            auto r = parse_args(argv);
            CAPTURE(bad.back());
            REQUIRE_FALSE(r.ok());
            CHECK(r.error().exit_code == 125);
            const std::string key = bad.back().substr(0, bad.back().find('='));
            CHECK(r.error().message.find(bad[0] == "--log-driver" ? "\"" + key + "\"" : key) != std::string::npos);
        }
    }
}
