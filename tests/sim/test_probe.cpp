// Host probing, translations and `isolab doctor`.
//
// The probe tests assert this machine's truth, but learn that truth independently (from
// /proc/filesystems and /proc/self/mountinfo read here), so they also pass on other hosts.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "app/cli/doctor.hpp"
#include "sim/core/i18n.hpp"
#include "sim/host/probe.hpp"

using namespace isolab;
using host::ChildOutcome;

namespace {

std::string read_text(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

bool has(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

// True when PID is neither our child nor a zombie of ours any more.
bool reaped(pid_t pid) {
    int status = 0;
    return ::waitpid(pid, &status, WNOHANG) == -1 && errno == ECHILD;
}

// Sets or unsets environment variables for one scope and restores them afterwards.
class ScopedEnv {
public:
    ScopedEnv(std::initializer_list<std::pair<const char*, const char*>> vars) {
        for (auto [name, value] : vars) {
            const char* old = std::getenv(name);
            saved_.emplace_back(name, old ? std::optional<std::string>(old) : std::nullopt);
            if (value) ::setenv(name, value, 1);
            else ::unsetenv(name);
        }
    }
    ~ScopedEnv() {
        for (auto& [name, value] : saved_) {
            if (value) ::setenv(name.c_str(), value->c_str(), 1);
            else ::unsetenv(name.c_str());
        }
    }

private:
    std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

const char* const kLocaleVars[] = {"ISOLAB_LANG", "LC_ALL", "LC_MESSAGES", "LANG"};

// One probe for all the tests that read a report: the KVM child alone may take its full timeout.
const host::HostReport& shared_report() {
    static const host::HostReport report = [] {
        host::ProbeOptions o;
        o.kvm_timeout_ms = 800;
        return host::probe_host(o);
    }();
    return report;
}

struct TempDir {
    std::filesystem::path path;
    TempDir() {
        char tmpl[] = "/tmp/isolab-test-i18n-XXXXXX";
        path = ::mkdtemp(tmpl);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    void write(const std::string& name, const std::string& text) const { std::ofstream(path / name) << text; }
};

void load_real_strings() {
    auto st = i18n::load_strings(i18n::assets_dir() + "/strings");
    REQUIRE_MESSAGE(st.ok(), st.error().message);
}

}  // namespace

// ---- probe_with_timeout ---------------------------------------------------------------------

TEST_CASE("a hanging probe child is killed at its timeout and reaped") {
    const int timeout_ms = 300;
    auto start = std::chrono::steady_clock::now();
    ChildOutcome out = host::probe_with_timeout(
        [] {
            ::sleep(10);
            return 0;
        },
        timeout_ms);
    double elapsed = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();

    CHECK(out.kind == ChildOutcome::Kind::TimedOut);
    CHECK(elapsed >= timeout_ms - 5);
    CHECK(elapsed < timeout_ms + 500);
    CHECK(out.reaped);
    REQUIRE(out.pid > 0);
    CHECK(reaped(out.pid));                                // no zombie is left
    CHECK((::kill(out.pid, 0) == -1 && errno == ESRCH));  // and the process is gone
}

TEST_CASE("a child that blocks signals and closes its pipe is still killed at the timeout") {
    // Blocks every catchable signal and closes its end of the pipe: only SIGKILL and waitpid work.
    ChildOutcome out = host::probe_with_timeout(
        [] {
            sigset_t all;
            sigfillset(&all);
            ::sigprocmask(SIG_BLOCK, &all, nullptr);
            ::close(host::child_output_fd());
            for (;;) ::pause();
            return 0;
        },
        200);
    CHECK(out.kind == ChildOutcome::Kind::TimedOut);
    CHECK(out.elapsed_ms < 700);
    CHECK(reaped(out.pid));
}

TEST_CASE("a quick probe child reports its exit code and output") {
    ChildOutcome out = host::probe_with_timeout(
        [] {
            host::child_report("hello ");
            host::child_report("parent");
            return 42;
        },
        2000);
    CHECK(out.kind == ChildOutcome::Kind::Exited);
    CHECK(out.code == 42);
    CHECK(out.output == "hello parent");
    CHECK(out.elapsed_ms < 1000);
    CHECK(reaped(out.pid));

    ChildOutcome killed = host::probe_with_timeout(
        [] {
            ::raise(SIGSEGV);
            return 0;
        },
        2000);
    CHECK(killed.kind == ChildOutcome::Kind::Signaled);
    CHECK(killed.code == SIGSEGV);

    ChildOutcome thrown = host::probe_with_timeout([]() -> int { throw 1; }, 2000);
    CHECK(thrown.kind == ChildOutcome::Kind::Exited);
    CHECK(thrown.code == 126);
}

TEST_CASE("run_with_timeout captures output, reports exec failures and kills slow programs") {
    ChildOutcome ok = host::run_with_timeout({"/bin/sh", "-c", "echo out; echo err >&2; exit 3"}, 2000);
    CHECK(ok.kind == ChildOutcome::Kind::Exited);
    CHECK(ok.code == 3);
    CHECK(ok.output == "out\nerr\n");

    ChildOutcome missing = host::run_with_timeout({"/nonexistent/program"}, 2000);
    CHECK(missing.kind == ChildOutcome::Kind::Exited);
    CHECK(missing.code == 127);

    ChildOutcome slow = host::run_with_timeout({"/bin/sleep", "10"}, 200);
    CHECK(slow.kind == ChildOutcome::Kind::TimedOut);
    CHECK(slow.elapsed_ms < 700);
    CHECK(reaped(slow.pid));
}

TEST_CASE("find_on_path finds sh and not nonsense") {
    CHECK(!host::find_on_path("sh").empty());
    CHECK(host::find_on_path("isolab-no-such-program-xyz").empty());
    CHECK(host::find_on_path("/bin/sh") == "/bin/sh");
}

// ---- cgroup mountinfo parsing (no kernel needed) -------------------------------------------

TEST_CASE("parse_cgroup_mountinfo tells v1, v2 and hybrid apart") {
    const char* hybrid =
        "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
        "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct\n"
        "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
        "37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer\n"
        "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
        "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd\n"
        "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate\n";
    auto h = host::parse_cgroup_mountinfo(hybrid);
    CHECK(h.layout == host::CgroupLayout::Hybrid);
    CHECK(h.v1_controllers == std::vector<std::string>{"memory", "pids", "cpu", "cpuacct", "freezer"});
    CHECK(h.v2_mountpoint == "/sys/fs/cgroup/unified");
    CHECK(h.v1_hierarchies.size() == 5);  // the name=systemd one has no controllers

    auto v2 = host::parse_cgroup_mountinfo(
        "30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n");
    CHECK(v2.layout == host::CgroupLayout::V2);
    CHECK(v2.v1_controllers.empty());

    auto v1 = host::parse_cgroup_mountinfo("35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n");
    CHECK(v1.layout == host::CgroupLayout::V1);

    auto none = host::parse_cgroup_mountinfo("1 0 8:1 / / rw - ext4 /dev/sda1 rw\n");
    CHECK(none.layout == host::CgroupLayout::None);

    auto escaped = host::parse_cgroup_mountinfo("30 23 0:26 / /sys/fs/my\\040cgroup rw - cgroup2 cgroup2 rw\n");
    CHECK(escaped.v2_mountpoint == "/sys/fs/my cgroup");
}

// ---- probe_host on this machine ------------------------------------------------------------

TEST_CASE("probe_host reports this machine's truth") {
    const auto& r = shared_report();
    REQUIRE(r.error.empty());
    CHECK(r.root == (::geteuid() == 0));
    CHECK(!r.kernel.empty());
    CHECK(!r.distro.empty());

    // overlayfs: the test reads /proc/filesystems itself.
    bool overlay_listed = read_text("/proc/filesystems").find("\toverlay\n") != std::string::npos;
    if (overlay_listed) CHECK(r.overlay);

    // cgroups: which v1 hierarchies are mounted, read independently from mountinfo.
    std::string mountinfo = read_text("/proc/self/mountinfo");
    std::istringstream in(mountinfo);
    bool v1_memory = false, v1_pids = false, v1_freezer = false, v2 = false, v1_any = false;
    for (std::string line; std::getline(in, line);) {
        auto dash = line.find(" - ");
        if (dash == std::string::npos) continue;
        std::istringstream right(line.substr(dash + 3));
        std::string fstype, source, opts;
        right >> fstype >> source >> opts;
        opts = "," + opts + ",";
        if (fstype == "cgroup2") v2 = true;
        if (fstype != "cgroup") continue;
        v1_memory |= opts.find(",memory,") != std::string::npos;
        v1_pids |= opts.find(",pids,") != std::string::npos;
        v1_freezer |= opts.find(",freezer,") != std::string::npos;
        v1_any |= v1_memory || v1_pids || v1_freezer;
    }
    if (v1_any) {
        CHECK((r.cgroup_layout == host::CgroupLayout::V1 || r.cgroup_layout == host::CgroupLayout::Hybrid));
        CHECK((r.cgroup_layout == host::CgroupLayout::Hybrid) == v2);
        if (v1_memory) CHECK(has(r.cgroup_controllers, "memory"));
        if (v1_pids) CHECK(has(r.cgroup_controllers, "pids"));
        if (v1_freezer) CHECK(has(r.cgroup_controllers, "freezer"));
    } else if (v2) {
        CHECK(r.cgroup_layout == host::CgroupLayout::V2);
    }

    // As root with the six namespace types, the real runtime is the one to use.
    if (r.root && r.namespaces) CHECK(r.container_backend == "namespaces");
    CHECK((r.vm_backend == "qemu-kvm" || r.vm_backend == "qemu-tcg" || r.vm_backend == "model"));
    CHECK((r.vm_backend == "model") == r.qemu_path.empty());
    if (r.kvm_timed_out) CHECK(!r.kvm);

    // Every capability doctor prints is there, once, in order.
    std::vector<std::string> ids;
    for (const auto& c : r.capabilities) ids.push_back(c.id);
    CHECK(ids == std::vector<std::string>{"privileges", "user_namespaces", "namespaces", "cgroups", "overlayfs",
                                          "seccomp", "qemu", "kvm", "display", "korean_font", "busybox_static",
                                          "runc", "bwrap", "iproute2", "firewall"});
    for (const auto& c : r.capabilities) {
        CHECK_MESSAGE(!c.detail.empty(), c.id);
        if (!c.available) CHECK_MESSAGE(!c.fallback_key.empty(), c.id);
    }
    const host::Capability* cg = r.find("cgroups");
    REQUIRE(cg != nullptr);
    if (v1_memory) CHECK(cg->detail.find("memory") != std::string::npos);
    CHECK(r.find("no-such-capability") == nullptr);
}

TEST_CASE("the KVM probe never holds the caller longer than its timeout") {
    host::ProbeOptions o;
    o.kvm_timeout_ms = 300;
    auto start = std::chrono::steady_clock::now();
    auto r = host::probe_host(o);
    double elapsed = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    // Everything else is fast here; qemu --version is the slowest of the rest (~100 ms).
    CHECK(elapsed < o.kvm_timeout_ms + 2500);
    const host::Capability* kvm = r.find("kvm");
    REQUIRE(kvm != nullptr);
    if (r.kvm_timed_out) {
        CHECK(!kvm->available);
        CHECK(kvm->fallback_key == "doctor.fallback.kvm");
        if (!r.qemu_path.empty()) CHECK(r.vm_backend == "qemu-tcg");
    }
}

TEST_CASE("a hanging KVM child makes probe_host report a timeout and choose TCG") {
    load_real_strings();
    i18n::set_language(i18n::Lang::En);
    host::ProbeOptions o;
    o.kvm_timeout_ms = 300;
    o.kvm_child_override = [] {
        ::sleep(10);  // what nested KVM does on some hosts
        return 0;
    };
    auto start = std::chrono::steady_clock::now();
    auto r = host::probe_host(o);
    double elapsed = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    CHECK(elapsed < o.kvm_timeout_ms + 2500);
    CHECK(r.kvm_timed_out);
    CHECK(!r.kvm);
    const host::Capability* kvm = r.find("kvm");
    REQUIRE(kvm != nullptr);
    CHECK(!kvm->available);
    CHECK(kvm->detail == "KVM probe timed out after 300 ms (nested KVM hangs here); using TCG");
    CHECK(kvm->fallback_key == "doctor.fallback.kvm");
    CHECK(r.vm_backend == (r.qemu_path.empty() ? "model" : "qemu-tcg"));

    o.kvm_child_override = [] {
        host::child_report("ok 12");
        return 0;
    };
    auto fine = host::probe_host(o);
    CHECK(fine.kvm);
    CHECK(fine.vm_backend == (fine.qemu_path.empty() ? "model" : "qemu-kvm"));
}

TEST_CASE("probe_host without child probes forks nothing and still answers") {
    host::ProbeOptions o;
    o.child_probes = false;
    auto r = host::probe_host(o);
    CHECK(r.capabilities.size() == shared_report().capabilities.size());
    CHECK(r.cgroup_layout == shared_report().cgroup_layout);
}

TEST_CASE("to_json carries the typed facts") {
    const auto& r = shared_report();
    nlohmann::json j = host::to_json(r);
    CHECK(j["root"] == r.root);
    CHECK(j["cgroup"]["layout"] == host::cgroup_layout_name(r.cgroup_layout));
    CHECK(j["cgroup"]["controllers"].size() == r.cgroup_controllers.size());
    CHECK(j["capabilities"].size() == r.capabilities.size());
    CHECK(j["vm_backend"] == r.vm_backend);
    for (const auto& c : j["capabilities"]) {
        std::string s = c["status"];
        CHECK((s == "ok" || s == "degraded" || s == "missing"));
    }
}

// ---- i18n ---------------------------------------------------------------------------------

TEST_CASE("detect_language: --lang, then ISOLAB_LANG, then the POSIX locale") {
    ScopedEnv clean({{kLocaleVars[0], nullptr}, {kLocaleVars[1], nullptr}, {kLocaleVars[2], nullptr},
                     {kLocaleVars[3], nullptr}});
    CHECK(i18n::detect_language(nullptr) == i18n::Lang::En);
    CHECK(i18n::detect_language("ko") == i18n::Lang::Ko);
    CHECK(i18n::detect_language("en") == i18n::Lang::En);
    {
        ScopedEnv e({{"LANG", "ko_KR.UTF-8"}});
        CHECK(i18n::detect_language(nullptr) == i18n::Lang::Ko);
        CHECK(i18n::detect_language("en") == i18n::Lang::En);  // the flag wins
        ScopedEnv all({{"LC_ALL", "C"}});
        CHECK(i18n::detect_language(nullptr) == i18n::Lang::En);  // LC_ALL overrides LANG
    }
    {
        ScopedEnv e({{"LANG", "en_US.UTF-8"}, {"LC_MESSAGES", "ko_KR.UTF-8"}});
        CHECK(i18n::detect_language(nullptr) == i18n::Lang::Ko);  // LC_MESSAGES overrides LANG
    }
    {
        ScopedEnv e({{"LANG", "ko_KR.UTF-8"}, {"ISOLAB_LANG", "en"}});
        CHECK(i18n::detect_language(nullptr) == i18n::Lang::En);  // ISOLAB_LANG overrides the locale
        CHECK(i18n::detect_language("ko") == i18n::Lang::Ko);
    }
    {
        ScopedEnv e({{"ISOLAB_LANG", "ko"}});
        CHECK(i18n::detect_language(nullptr) == i18n::Lang::Ko);
        CHECK(i18n::detect_language("klingon") == i18n::Lang::Ko);  // an unknown flag is ignored
    }
}

TEST_CASE("tr falls back to English, then to the key; trf fills placeholders") {
    TempDir dir;
    dir.write("en.json", R"({"t.a": "Apple", "t.b": "{0} of {1}", "t.c": "only English"})");
    dir.write("ko.json", R"({"t.a": "사과", "t.b": "{1}의 {0}", "t.extra": "한국어만"})");
    REQUIRE(i18n::load_strings(dir.path.string()).ok());

    i18n::set_language(i18n::Lang::Ko);
    CHECK(i18n::tr("t.a") == "사과");
    CHECK(i18n::tr("t.c") == "only English");
    CHECK(i18n::tr("t.nothing") == "t.nothing");
    CHECK(i18n::trf("t.b", {"하나", "둘"}) == "둘의 하나");
    i18n::set_language(i18n::Lang::En);
    CHECK(i18n::tr("t.a") == "Apple");
    CHECK(i18n::tr("t.extra") == "t.extra");  // Korean never stands in for English
    CHECK(i18n::trf("t.b", {"one", "two"}) == "one of two");
    CHECK(i18n::trf("t.b", {"one"}) == "one of {1}");  // a missing argument stays visible

    const std::string& before = i18n::tr("t.a");
    auto problems = i18n::missing_translations();
    CHECK(problems.size() == 2);
    CHECK(has(problems, "ko.json lacks `t.c`"));
    CHECK(has(problems, "en.json lacks `t.extra`"));

    load_real_strings();
    CHECK(before == "Apple");  // references from tr() survive a reload
}

TEST_CASE("load_strings names the file that is wrong and keeps the old tables") {
    load_real_strings();
    TempDir dir;
    auto missing = i18n::load_strings(dir.path.string());
    REQUIRE(!missing.ok());
    CHECK(missing.error().message.find("en.json") != std::string::npos);

    dir.write("en.json", R"({"a": "A"})");
    dir.write("ko.json", R"({"a": 3})");
    auto bad = i18n::load_strings(dir.path.string());
    REQUIRE(!bad.ok());
    CHECK(bad.error().message.find("ko.json") != std::string::npos);

    dir.write("ko.json", "{not json");
    CHECK(!i18n::load_strings(dir.path.string()).ok());

    i18n::set_language(i18n::Lang::En);
    CHECK(i18n::tr("doctor.cap.kvm") == "KVM (hardware acceleration)");  // the real tables remain
}

TEST_CASE("every string exists in Korean and English") {
    load_real_strings();
    auto problems = i18n::missing_translations();
    std::string all;
    for (const auto& p : problems) all += p + "\n";
    CHECK_MESSAGE(problems.empty(), all);
}

TEST_CASE("Korean particles follow the word's last sound; no learner reads 이(가)") {
    using i18n::particle;
    CHECK(particle("컨테이너", "이(가)") == "가");
    CHECK(particle("볼륨", "이(가)") == "이");
    CHECK(particle("web", "이(가)") == "이");       // 웹
    CHECK(particle("busybox", "이(가)") == "가");   // 비지박스
    CHECK(particle("nginx", "을(를)") == "를");     // 엔진엑스
    CHECK(particle("app", "은(는)") == "은");       // 앱
    CHECK(particle("api", "은(는)") == "는");
    CHECK(particle("`ps`", "을(를)") == "를");     // closing marks are skipped
    CHECK(particle("3", "을(를)") == "을");         // 삼
    CHECK(particle("2", "을(를)") == "를");         // 이
    CHECK(particle("L", "와(과)") == "과");         // 엘
    CHECK(particle("db", "와(과)") == "과");
    CHECK(particle("redis", "와(과)") == "와");
    // (으)로: 로 after a vowel or ㄹ.
    CHECK(particle("137", "(으)로") == "로");       // 칠
    CHECK(particle("0", "(으)로") == "으로");       // 영
    CHECK(particle("서울", "(으)로") == "로");
    CHECK(particle("집", "(으)로") == "으로");
    CHECK(particle("stopped", "(으)로") == "으로");
    CHECK(particle("busybox", "(이)") == "");
    CHECK(particle("web", "(이)") == "이");
    CHECK(particle("x", "그리고") == "그리고");     // not a marker: unchanged

    load_real_strings();
    i18n::set_language(i18n::Lang::Ko);
    CHECK(i18n::trf("gui.isolation.col_container", {"web"}) == "컨테이너 web이 보는 것");
    CHECK(i18n::trf("gui.isolation.col_container", {"busybox"}) == "컨테이너 busybox가 보는 것");
    CHECK(i18n::trf("gui.lesson.exit_code", {"137"}) == "명령이 종료 코드 137로 끝났어요.");
    i18n::set_language(i18n::Lang::En);
    // A count of one has its own sentence where the table has one.
    CHECK(i18n::trn("gui.resources.containers_total", 1, {"1", "1 MiB", "0%", "1"}).find("1 process") != std::string::npos);
    CHECK(i18n::trn("gui.resources.containers_total", 1, {"1", "1 MiB", "0%", "1"}).find("processes") == std::string::npos);
    CHECK(i18n::trn("gui.resources.containers_total", 2, {"1", "1 MiB", "0%", "2"}).find("2 processes") != std::string::npos);
    // Every marker in the Korean table stands right after a placeholder (and its closing
    // marks), where fill() replaces it: filled with any word, no text keeps one.
    std::ifstream in(i18n::assets_dir() + "/strings/ko.json");
    auto table = nlohmann::json::parse(in);
    for (auto it = table.begin(); it != table.end(); ++it) {
        std::vector<std::string> args(10, "web");
        std::string text = i18n::trf_in(i18n::Lang::Ko, it.key(), args);
        const std::string where = it.key() + ": " + text;
        for (const char* m : {"이(가)", "은(는)", "을(를)", "과(와)", "와(과)", "아(야)", "(이)", "(으)로"})
            CHECK_MESSAGE(text.find(m) == std::string::npos, where);
    }
    i18n::set_language(i18n::Lang::En);
}

TEST_CASE("every capability doctor prints has a label and a fallback text in both languages") {
    load_real_strings();
    const auto& r = shared_report();
    std::vector<std::string> keys = {"doctor.backend." + r.container_backend, "doctor.backend." + r.vm_backend};
    for (const char* b : {"namespaces", "rootless", "simulated", "qemu-kvm", "qemu-tcg", "model"})
        keys.push_back(std::string("doctor.backend.") + b);
    for (const auto& c : r.capabilities) {
        keys.push_back("doctor.cap." + c.id);
        if (!c.fallback_key.empty()) keys.push_back(c.fallback_key);
    }
    for (auto lang : {i18n::Lang::En, i18n::Lang::Ko}) {
        i18n::set_language(lang);
        for (const auto& k : keys) CHECK_MESSAGE(i18n::tr(k) != k, k);
    }
    i18n::set_language(i18n::Lang::En);
}

// ---- doctor -------------------------------------------------------------------------------

TEST_CASE("doctor prints a mark, a detail and, for missing pieces, the fallback and the fix") {
    load_real_strings();
    host::HostReport r = shared_report();
    // A report with one of each kind, so both branches are seen whatever this machine has.
    r.capabilities = {
        {"qemu", false, false, "qemu-system-x86_64 not found on PATH", "doctor.fallback.qemu",
         "apt-get install qemu-system-x86"},
        {"kvm", true, false, "works", "", ""},
        {"cgroups", true, true, "cgroup v1: memory", "doctor.fallback.cgroups", ""},
    };
    for (auto lang : {i18n::Lang::En, i18n::Lang::Ko}) {
        i18n::set_language(lang);
        std::string text = cli::format_doctor_report(r);
        CHECK(text.find(i18n::tr("doctor.title")) != std::string::npos);
        CHECK(text.find("✘ " + i18n::tr("doctor.cap.qemu")) != std::string::npos);
        CHECK(text.find("✔ " + i18n::tr("doctor.cap.kvm")) != std::string::npos);
        CHECK(text.find("! " + i18n::tr("doctor.cap.cgroups")) != std::string::npos);
        CHECK(text.find("    → " + i18n::tr("doctor.fallback.qemu")) != std::string::npos);
        CHECK(text.find(i18n::trf("doctor.fix", {"apt-get install qemu-system-x86"})) != std::string::npos);
        CHECK(text.find(i18n::tr("doctor.fallback.cgroups")) != std::string::npos);
    }
    i18n::set_language(i18n::Lang::Ko);
    CHECK(cli::format_doctor_report(r).find("해결 방법: apt-get install qemu-system-x86") != std::string::npos);
    i18n::set_language(i18n::Lang::En);
}

TEST_CASE("isolab doctor --json prints one object and exits 0") {
    std::ostringstream out;
    CHECK(cli::run_doctor(true, out) == 0);
    auto j = nlohmann::json::parse(out.str());
    CHECK(j.is_object());
    CHECK(j.contains("capabilities"));
    CHECK(j.contains("container_backend"));
}
