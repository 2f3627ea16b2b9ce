// The model backend's data file (assets/vm-model.json) and its loader.
#include <doctest/doctest.h>

#include <stdlib.h>
#include <unistd.h>

#include <fstream>

#include "sim/core/files.hpp"
#include "sim/vm/vm_model.hpp"

#ifndef ISOLAB_SOURCE_DIR
#define ISOLAB_SOURCE_DIR "."
#endif

using namespace isolab;
using namespace isolab::vm;

namespace {

// The message of a failed Result, "" for a good one (doctest may format a message even when the
// assertion holds, so it must not touch error() of a good Result).
template <class T>
std::string error_text(const Result<T>& r) {
    return r.ok() ? std::string() : r.error().message;
}

const std::string kModelPath = std::string(ISOLAB_SOURCE_DIR) + "/assets/vm-model.json";

// A private directory for files this test writes; removed at the end of the test case.
struct TempDir {
    std::string path;
    TempDir() {
        char tmpl[] = "/tmp/isolab-test-vm-model.XXXXXX";
        REQUIRE(::mkdtemp(tmpl) != nullptr);
        path = tmpl;
    }
    ~TempDir() { (void)remove_tree(path); }
    std::string write(const std::string& name, const std::string& content) const {
        std::string p = path + "/" + name;
        std::ofstream(p, std::ios::binary) << content;
        return p;
    }
};

// A document with one profile "p" whose label and source are valid, and FIELDS spliced in.
std::string profile_with(const std::string& fields) {
    return R"({"profiles": {"p": {"label": {"en": "modeled: x", "ko": "모델값: x"}, "source": "s", )" + fields + "}}}";
}

const std::string kGoodStages =
    R"("stages": [{"name": "firmware", "ms": 1}, {"name": "kernel", "ms": 2}, {"name": "init", "ms": 3},
                  {"name": "network", "ms": 4}, {"name": "app", "ms": 5}])";

}  // namespace

TEST_CASE("vm model: the shipped file loads and every profile is complete and labeled") {
    auto m = load_vm_model(kModelPath);
    REQUIRE_MESSAGE(m.ok(), error_text(m));
    CHECK(m->path == kModelPath);
    REQUIRE(m->profiles.size() >= 3);
    for (const char* name : {"microvm-kvm", "desktop-virtualbox", "qemu-tcg"}) CHECK(m->find(name) != nullptr);
    CHECK(m->find("no-such-profile") == nullptr);
    for (const auto& p : m->profiles) {
        CAPTURE(p.name);
        REQUIRE(p.stages.size() == kBootStageCount);
        for (size_t i = 0; i < kBootStageCount; ++i) {
            CHECK(p.stages[i].name == kBootStageNames[i]);
            CHECK(p.stages[i].ms > 0);
            CHECK_FALSE(p.stages[i].note.empty());
        }
        CHECK(p.label(i18n::Lang::En).find("modeled") != std::string::npos);
        CHECK(p.label(i18n::Lang::Ko).find("모델") != std::string::npos);
        CHECK(p.source.size() > 40);  // a real description, not a placeholder
        CHECK_FALSE(p.kernel_release.empty());
        CHECK(p.memory_mib > 0);
        CHECK(p.guest_ram_mib > 0);

        auto b = p.boot_stages();
        REQUIRE(b.size() == kBootStageCount);
        CHECK(b.front().start_ms == 0);
        for (size_t i = 0; i < b.size(); ++i) {
            CHECK(b[i].done);
            CHECK(b[i].observed);
            CHECK(b[i].duration_ms() == doctest::Approx(p.stages[i].ms));
            if (i > 0) CHECK(b[i].start_ms == b[i - 1].end_ms);
        }
        CHECK(b.back().end_ms == doctest::Approx(p.answered_ms()));
    }
}

TEST_CASE("vm model: the numbers keep their sources' promises") {
    auto m = load_vm_model(kModelPath);
    REQUIRE(m.ok());
    const auto* micro = m->find("microvm-kvm");
    const auto* tcg = m->find("qemu-tcg");
    const auto* desktop = m->find("desktop-virtualbox");
    REQUIRE((micro && tcg && desktop));
    // Firecracker's specification: <= 125 ms from InstanceStart to the guest's /sbin/init, i.e.
    // through the end of the kernel stage; VMM overhead <= 5 MiB, so the total stays small.
    CHECK(micro->stages[0].ms + micro->stages[1].ms <= 125);
    CHECK(micro->memory_mib < tcg->memory_mib);
    // The qemu-tcg profile replays a measurement; it stays near the recorded boot in tests/data.
    CHECK(tcg->answered_ms() == doctest::Approx(2687.7).epsilon(0.25));
    CHECK(tcg->memory_mib <= tcg->guest_ram_mib);
    // The lesson's ordering: microVM < emulated minimal guest < desktop guest.
    CHECK(micro->answered_ms() < tcg->answered_ms());
    CHECK(tcg->answered_ms() < desktop->answered_ms());
    CHECK(desktop->label_en.find("not measured") != std::string::npos);
}

TEST_CASE("vm model: the default path is the assets directory's vm-model.json") {
    const char* old = std::getenv("ISOLAB_ASSETS");
    std::string saved = old ? old : "";
    ::setenv("ISOLAB_ASSETS", (std::string(ISOLAB_SOURCE_DIR) + "/assets").c_str(), 1);
    CHECK(default_vm_model_path() == kModelPath);
    auto m = load_vm_model();
    CHECK(m.ok());
    if (old)
        ::setenv("ISOLAB_ASSETS", saved.c_str(), 1);
    else
        ::unsetenv("ISOLAB_ASSETS");
}

TEST_CASE("vm model: unreadable and malformed files give errors naming the file") {
    TempDir dir;
    SUBCASE("missing file") {
        std::string p = dir.path + "/absent.json";
        auto m = load_vm_model(p);
        REQUIRE_FALSE(m.ok());
        CHECK(m.error().message == "read `" + p + "`: No such file or directory");
    }
    SUBCASE("not JSON") {
        std::string p = dir.write("bad.json", "{\"profiles\": {\"p\": ");
        auto m = load_vm_model(p);
        REQUIRE_FALSE(m.ok());
        CHECK(m.error().message.rfind("parse `" + p + "`: ", 0) == 0);
        CHECK(m.error().exit_code == 125);
    }
    SUBCASE("a profile with a missing stage") {
        std::string p = dir.write("short.json", profile_with(R"("memory_mib": 1, "stages": [{"name": "firmware", "ms": 1}])"));
        auto m = load_vm_model(p);
        REQUIRE_FALSE(m.ok());
        CHECK(m.error().message == "`" + p +
                                       "`: profiles.p.stages: has 1 stages, expected 5 (firmware, kernel, init, "
                                       "network, app): \"kernel\" is missing");
    }
}

TEST_CASE("vm model: every rule names the key that breaks it") {
    struct Case {
        std::string text;
        std::string message;  // after "`f.json`: " unless it starts with "`"
    };
    const std::string good = kGoodStages + R"(, "memory_mib": 10)";
    const Case cases[] = {
        {"[]", "`f.json` must hold one JSON object with a key \"profiles\""},
        {"{}", "profiles: missing (an object of profiles is required)"},
        {R"({"profiles": []})", "profiles: must be an object {\"<name>\": {...}}"},
        {R"({"profiles": {}})", "profiles: must hold at least one profile"},
        {R"({"profiles": {"p": 1}})", "profiles.p: must be an object"},
        {R"({"profiles": {"p": {"source": "s"}}})",
         "profiles.p.label: missing (an object {\"en\": ..., \"ko\": ...} is required)"},
        {R"({"profiles": {"p": {"label": "modeled"}}})", "profiles.p.label: must be an object {\"en\": ..., \"ko\": ...}"},
        {R"({"profiles": {"p": {"label": {"ko": "모델"}}}})", "profiles.p.label.en: missing (a string is required)"},
        {R"({"profiles": {"p": {"label": {"en": "measured", "ko": "모델"}}}})",
         "profiles.p.label.en: must contain the word \"modeled\""},
        {R"({"profiles": {"p": {"label": {"en": "modeled", "ko": "측정값"}}}})",
         "profiles.p.label.ko: must contain the word \"모델\""},
        {R"({"profiles": {"p": {"label": {"en": "modeled", "ko": ""}}}})", "profiles.p.label.ko: must not be empty"},
        {R"({"profiles": {"p": {"label": {"en": "modeled", "ko": "모델"}, "source": ""}}})",
         "profiles.p.source: must not be empty"},
        {profile_with(R"("memory_mib": 10)"), "profiles.p.stages: missing (a list of the boot stages is required)"},
        {profile_with(R"("stages": {}, "memory_mib": 10)"), "profiles.p.stages: must be a list"},
        {profile_with(R"("stages": [1])"), "profiles.p.stages[0]: must be an object {\"name\": ..., \"ms\": ...}"},
        {profile_with(R"("stages": [{"name": "kernel", "ms": 1}])"),
         "profiles.p.stages[0].name: expected \"firmware\", found \"kernel\" (stages are firmware, kernel, init, "
         "network, app, in this order)"},
        {profile_with(R"("stages": [{"ms": 1}])"), "profiles.p.stages[0].name: missing (a string is required)"},
        {profile_with(R"("stages": [{"name": "firmware"}])"), "profiles.p.stages[0].ms: missing (a number is required)"},
        {profile_with(R"("stages": [{"name": "firmware", "ms": "1"}])"), "profiles.p.stages[0].ms: must be a number"},
        {profile_with(R"("stages": [{"name": "firmware", "ms": -1}])"), "profiles.p.stages[0].ms: must be a number >= 0"},
        {profile_with(R"("stages": [{"name": "firmware", "ms": 1, "note": 2}])"), "profiles.p.stages[0].note: must be a string"},
        {profile_with(kGoodStages.substr(0, kGoodStages.size() - 1) + R"(, {"name": "app", "ms": 1}])"),
         "profiles.p.stages: has 6 stages, expected 5 (firmware, kernel, init, network, app)"},
        {profile_with(kGoodStages), "profiles.p.memory_mib: missing (a number is required)"},
        {profile_with(kGoodStages + R"(, "memory_mib": 0)"), "profiles.p.memory_mib: must be a number > 0"},
        {profile_with(good + R"(, "guest_ram_mib": "256")"), "profiles.p.guest_ram_mib: must be a number"},
        {profile_with(good + R"(, "kernel_release": 6)"), "profiles.p.kernel_release: must be a string"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.text);
        auto m = parse_vm_model(c.text, "f.json");
        REQUIRE_FALSE(m.ok());
        std::string want = c.message[0] == '`' ? c.message : "`f.json`: " + c.message;
        CHECK(m.error().message == want);
    }

    auto ok = parse_vm_model(profile_with(good), "f.json");
    REQUIRE_MESSAGE(ok.ok(), error_text(ok));
    CHECK(ok->profiles.at(0).answered_ms() == 15);
    CHECK(ok->profiles.at(0).kernel_release.empty());
    CHECK(ok->profiles.at(0).guest_ram_mib == 0);
}

TEST_CASE("vm model: profiles keep the file's order") {
    const std::string body = R"({"label": {"en": "modeled", "ko": "모델"}, "source": "s", )" + kGoodStages +
                             R"(, "memory_mib": 1})";
    auto m = parse_vm_model(R"({"profiles": {"zeta": )" + body + R"(, "alpha": )" + body + "}}", "f.json");
    REQUIRE_MESSAGE(m.ok(), error_text(m));
    REQUIRE(m->profiles.size() == 2);
    CHECK(m->profiles[0].name == "zeta");
    CHECK(m->profiles[1].name == "alpha");
}
