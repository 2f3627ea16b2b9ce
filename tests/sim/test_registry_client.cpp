// The registry client's pieces that need no network (sim/engine/registry.hpp): --platform words,
// the choice from an image index, and IsoLab's config folder (daemon.json, config.json). The
// transfers themselves are tested against real registries in tests/integration/test_registry.cpp.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "sim/engine/image_archive.hpp"
#include "sim/engine/registry.hpp"

using namespace isolab;

namespace {

std::string digest_of(char c) { return "sha256:" + std::string(64, c); }

FetchedManifest index_of(const nlohmann::json& manifests) {
    FetchedManifest m;
    m.media_type = kOciIndexType;
    m.bytes = nlohmann::json{{"schemaVersion", 2}, {"manifests", manifests}}.dump();
    return m;
}

nlohmann::json entry(char c, const char* os, const char* arch, const char* variant = nullptr) {
    nlohmann::json p = {{"os", os}, {"architecture", arch}};
    if (variant) p["variant"] = variant;
    return {{"mediaType", kOciManifestType}, {"digest", digest_of(c)}, {"size", 100}, {"platform", p}};
}

// XDG_CONFIG_HOME pointed at a fresh folder for one test case.
struct ConfigDir {
    std::string path;
    ConfigDir() {
        char tmpl[] = "/tmp/isl-regcfg.XXXXXX";
        path = ::mkdtemp(tmpl);
        std::filesystem::create_directories(path + "/isolab");
        ::setenv("XDG_CONFIG_HOME", path.c_str(), 1);
    }
    ~ConfigDir() {
        ::unsetenv("XDG_CONFIG_HOME");
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    void write(const std::string& name, const std::string& text) const {
        std::ofstream(path + "/isolab/" + name) << text;
    }
};

}  // namespace

TEST_CASE("registry client: --platform words") {
    auto full = parse_platform("linux/arm/7");
    REQUIRE(full.ok());
    CHECK(full->os == "linux");
    CHECK(full->architecture == "arm");
    CHECK(full->variant == "v7");
    auto arch_only = parse_platform("amd64");
    REQUIRE(arch_only.ok());
    CHECK(arch_only->os == "linux");
    CHECK(arch_only->architecture == "amd64");
    auto alias = parse_platform("linux/x86_64");
    REQUIRE(alias.ok());
    CHECK(alias->architecture == "amd64");
    auto os_only = parse_platform("linux");
    REQUIRE(os_only.ok());
    CHECK(os_only->architecture.empty());  // this machine's
    auto armhf = parse_platform("linux/armhf");
    REQUIRE(armhf.ok());
    CHECK(armhf->architecture == "arm");
    CHECK(armhf->variant == "v7");
    auto arm64v8 = parse_platform("linux/aarch64/v8");
    REQUIRE(arm64v8.ok());
    CHECK(arm64v8->architecture == "arm64");
    CHECK(arm64v8->variant.empty());
    for (const char* bad : {"", "foo", "linux/", "a/b/c/d", "/amd64", "linux/foo", "plan10/amd64"}) {
        CAPTURE(bad);
        auto r = parse_platform(bad);
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().message.find("unknown operating system or architecture") != std::string::npos);
    }
}

TEST_CASE("registry client: the platform chosen from an index") {
    auto idx = index_of({entry('a', "linux", "arm", "v7"), entry('b', "linux", "arm64", "v8"), entry('c', "windows", "amd64"),
                         entry('d', "linux", "amd64"), entry('e', "linux", "arm", "v6")});
    Platform host;  // this machine's architecture
    auto mine = RegistryClient::choose_platform(idx, host);
    if (host_oci_architecture() == "amd64") {
        REQUIRE(mine.ok());
        CHECK(*mine == digest_of('d'));  // not the windows one
    }
    Platform v6{"linux", "arm", "v6"};
    auto arm6 = RegistryClient::choose_platform(idx, v6);
    REQUIRE(arm6.ok());
    CHECK(*arm6 == digest_of('e'));
    Platform any_arm{"linux", "arm", ""};
    auto first_arm = RegistryClient::choose_platform(idx, any_arm);
    REQUIRE(first_arm.ok());
    CHECK(*first_arm == digest_of('a'));
    Platform s390{"linux", "s390x", ""};
    auto none = RegistryClient::choose_platform(idx, s390);
    REQUIRE_FALSE(none.ok());
    CHECK(none.error().message == "no matching manifest for linux/s390x in the manifest list entries");
    // An entry whose digest is not a sha256 digest is never chosen.
    auto hostile = index_of({{{"digest", "sha256:../../etc"}, {"size", 1}, {"platform", {{"os", "linux"}, {"architecture", "riscv64"}}}}});
    Platform riscv{"linux", "riscv64", ""};
    CHECK_FALSE(RegistryClient::choose_platform(hostile, riscv).ok());
}

TEST_CASE("registry client: daemon.json and config.json in IsoLab's config folder") {
    ConfigDir dir;
    CHECK(registry_settings_path() == dir.path + "/isolab/daemon.json");
    auto none = load_registry_settings();
    REQUIRE(none.ok());
    CHECK(none->insecure_registries.empty());
    dir.write("daemon.json", R"({"insecure-registries": ["reg.lan:5000"], "registry-mirrors": ["https://mirror.lan"]})");
    auto s = load_registry_settings();
    REQUIRE(s.ok());
    CHECK(s->insecure_registries == std::vector<std::string>{"reg.lan:5000"});
    CHECK(s->registry_mirrors == std::vector<std::string>{"https://mirror.lan"});
    dir.write("daemon.json", R"({"insecure-registries": "reg.lan:5000"})");
    auto bad = load_registry_settings();
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().message.find("`insecure-registries` must be a list of strings") != std::string::npos);

    // Docker's credential file: base64("user:password") per registry; Docker Hub's URL key.
    dir.write("config.json", R"({"auths": {"reg.lan:5000": {"auth": "YWxpY2U6czNjcjN0OndpdGg6Y29sb25z"},
                                           "https://index.docker.io/v1/": {"auth": "Ym9iOmh1Yg=="}}})");
    auto lan = load_registry_credentials("reg.lan:5000");
    REQUIRE(lan.ok());
    CHECK(lan->username == "alice");
    CHECK(lan->password == "s3cr3t:with:colons");
    auto hub = load_registry_credentials("docker.io");
    REQUIRE(hub.ok());
    CHECK(hub->username == "bob");
    CHECK(hub->password == "hub");
    auto other = load_registry_credentials("elsewhere.lan");
    REQUIRE(other.ok());
    CHECK(other->username.empty());
}
