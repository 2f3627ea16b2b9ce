// A hostile registry (tests/integration/tiny_registry.hpp: every byte chosen by the test) against
// `isolab pull`: a blob that is not the digest it is served under, sizes that lie either way, and
// layer tars that climb out with `../` or write through a symlink. Each case asserts that the pull
// is refused, that the host path the attack aims at is untouched, and that nothing entered the
// image store (no tag, no config, no layer directory).
#include <archive.h>
#include <archive_entry.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "security.hpp"
#include "tiny_registry.hpp"

using namespace isolab::test;
namespace fs = std::filesystem;

namespace {

struct TarEntry {
    std::string name;
    enum Kind { File, Dir, Symlink } kind = File;
    std::string content;  // file bytes, or the symlink's target
};

std::string make_tar(const std::vector<TarEntry>& entries) {
    char tmpl[] = "/tmp/isl-hostile-tar.XXXXXX";
    int fd = ::mkstemp(tmpl);
    REQUIRE(fd >= 0);
    struct archive* a = archive_write_new();
    REQUIRE(archive_write_set_format_pax_restricted(a) == ARCHIVE_OK);
    REQUIRE(archive_write_open_fd(a, fd) == ARCHIVE_OK);
    for (const auto& t : entries) {
        struct archive_entry* e = archive_entry_new();
        archive_entry_set_pathname(e, t.name.c_str());
        archive_entry_set_mtime(e, 1700000000, 0);
        if (t.kind == TarEntry::Dir) {
            archive_entry_set_filetype(e, AE_IFDIR);
            archive_entry_set_perm(e, 0755);
        } else if (t.kind == TarEntry::Symlink) {
            archive_entry_set_filetype(e, AE_IFLNK);
            archive_entry_set_perm(e, 0777);
            archive_entry_set_symlink(e, t.content.c_str());
        } else {
            archive_entry_set_filetype(e, AE_IFREG);
            archive_entry_set_perm(e, 0644);
            archive_entry_set_size(e, static_cast<la_int64_t>(t.content.size()));
        }
        REQUIRE(archive_write_header(a, e) == ARCHIVE_OK);
        if (t.kind == TarEntry::File && !t.content.empty())
            REQUIRE(archive_write_data(a, t.content.data(), t.content.size()) == static_cast<la_ssize_t>(t.content.size()));
        archive_entry_free(e);
    }
    archive_write_close(a);
    archive_write_free(a);
    ::close(fd);
    std::ifstream in(tmpl, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    ::unlink(tmpl);
    return ss.str();
}

struct Lies {
    std::string served_bytes;   // what the blob URL answers ("" = the honest layer)
    int64_t size_delta = 0;     // added to the layer descriptor's size
};

// Publishes REPO:latest on REG: one layer LAYER (an uncompressed tar), a config naming its
// diff_id, a manifest naming both; LIES changes what is served or announced.
void publish(TinyRegistry& reg, const std::string& repo, const std::string& layer, const Lies& lies = {}) {
    const std::string diff_id = TinyRegistry::sha256(layer);
    nlohmann::json config = {{"architecture", "amd64"},
                             {"os", "linux"},
                             {"config", {{"Cmd", {"sh"}}}},
                             {"rootfs", {{"type", "layers"}, {"diff_ids", {diff_id}}}}};
    const std::string config_bytes = config.dump();
    const std::string config_digest = reg.blob(repo, config_bytes);
    reg.blob(repo, lies.served_bytes.empty() ? layer : lies.served_bytes, diff_id);
    nlohmann::json manifest = {
        {"schemaVersion", 2},
        {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
        {"config", {{"mediaType", "application/vnd.oci.image.config.v1+json"}, {"digest", config_digest},
                    {"size", config_bytes.size()}}},
        {"layers",
         {{{"mediaType", "application/vnd.oci.image.layer.v1.tar"}, {"digest", diff_id},
           {"size", static_cast<int64_t>(layer.size()) + lies.size_delta}}}}};
    reg.set("/v2/" + repo + "/manifests/latest",
            TinyRegistry::Reply{200, manifest.dump(), "application/vnd.oci.image.manifest.v1+json"});
}

std::set<std::string> names_in(const std::string& dir) {
    std::set<std::string> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) out.insert(e.path().filename().string());
    return out;
}

// The store's visible state: tags, configs and layer directories.
struct StoreState {
    std::string tags;
    std::set<std::string> configs, layers;
    bool operator==(const StoreState& o) const { return tags == o.tags && configs == o.configs && layers == o.layers; }
};
StoreState store_state(const TempRoot& r) {
    return {read_text(r.path() + "/images/repositories.json"), names_in(r.path() + "/images/configs"),
            names_in(r.path() + "/images/layers")};
}

}  // namespace

TEST_CASE("registry hostile: a blob that is not its digest, and sizes that lie, are refused before the store") {
    if (!can_attack()) return;
    TempRoot r;
    r.isolab({"images"});  // busybox made: the store's starting point
    TinyRegistry reg;
    const std::string honest = make_tar({{"hello", TarEntry::File, "hello\n"}});
    const std::string other = make_tar({{"hello", TarEntry::File, "HELLO, swapped\n"}});
    publish(reg, "swapped", honest, {other, static_cast<int64_t>(other.size()) - static_cast<int64_t>(honest.size())});
    publish(reg, "shorter", honest, {"", -100});  // announces 100 bytes fewer than it sends
    publish(reg, "longer", honest, {"", +4096});  // announces more than it sends
    const StoreState before = store_state(r);

    auto swapped = r.isolab({"pull", reg.host() + "/swapped"});
    CHECK(swapped.code == 1);
    CHECK(swapped.err.find("filesystem layer verification failed for digest " + TinyRegistry::sha256(honest)) !=
          std::string::npos);
    auto shorter = r.isolab({"pull", reg.host() + "/shorter"});
    CHECK(shorter.code == 1);
    CHECK(shorter.err.find("sent more bytes than it announced") != std::string::npos);
    auto longer = r.isolab({"pull", reg.host() + "/longer"});
    CHECK(longer.code == 1);
    CHECK(longer.err.find("the registry sent " + std::to_string(honest.size()) + " bytes, the manifest says " +
                          std::to_string(honest.size() + 4096)) != std::string::npos);

    CHECK(store_state(r) == before);
    for (const auto& n : names_in(r.path() + "/images/pull")) CHECK(n.find(TinyRegistry::sha256(honest).substr(7)) == std::string::npos);
}

TEST_CASE("registry hostile: layer tars with `../` or a write through a symlink write nothing outside the store") {
    if (!can_attack()) return;
    TempRoot r;
    r.isolab({"images"});
    char tmpl[] = "/tmp/isl-pull-host.XXXXXX";
    const std::string host_dir = ::mkdtemp(tmpl);
    TinyRegistry reg;
    // `..` climbing from the layer root to HOST_DIR (the store is several levels deep; enough `..`
    // reach `/` from anywhere, and `/` + HOST_DIR is the target).
    std::string climb;
    for (int i = 0; i < 24; ++i) climb += "../";
    publish(reg, "climb", make_tar({{"etc", TarEntry::Dir, ""}, {climb + host_dir.substr(1) + "/climbed", TarEntry::File, "pwned\n"}}));
    publish(reg, "through", make_tar({{"link", TarEntry::Symlink, host_dir}, {"link/through", TarEntry::File, "pwned\n"}}));
    publish(reg, "absolute", make_tar({{host_dir + "/absolute", TarEntry::File, "pwned\n"}}));
    const StoreState before = store_state(r);

    for (const char* repo : {"climb", "through", "absolute"}) {
        INFO(repo);
        auto pull = r.isolab({"pull", reg.host() + "/" + repo});
        CHECK(pull.code == 1);
        CHECK(pull.err.find("failed to register layer") != std::string::npos);
        CHECK(r.isolab({"images", "-q", reg.host() + "/" + repo}).out.empty());
    }
    CHECK(names_in(host_dir).empty());  // nothing written through the store's walls
    CHECK(store_state(r) == before);
    std::error_code ec;
    fs::remove_all(host_dir, ec);
}

TEST_CASE("registry hostile: a manifest whose digests are paths or not sha256 is refused before any file is named") {
    if (!can_attack()) return;
    TempRoot r;
    r.isolab({"images"});
    TinyRegistry reg;
    const StoreState before = store_state(r);
    const std::string good = "sha256:" + std::string(64, 'a');
    int n = 0;
    for (const char* bad : {"sha256:../../../../../../tmp/isl-pull-digest", "x", "sha512:abc", "sha256:ABCDEF"}) {
        for (bool in_config : {false, true}) {
            INFO(bad << (in_config ? " (config)" : " (layer)"));
            nlohmann::json manifest = {
                {"schemaVersion", 2},
                {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                {"config", {{"mediaType", "application/vnd.oci.image.config.v1+json"}, {"digest", in_config ? bad : good}, {"size", 10}}},
                {"layers", {{{"mediaType", "application/vnd.oci.image.layer.v1.tar"}, {"digest", in_config ? good : bad}, {"size", 10}}}}};
            const std::string repo = "paths" + std::to_string(n++);
            reg.set("/v2/" + repo + "/manifests/latest",
                    TinyRegistry::Reply{200, manifest.dump(), "application/vnd.oci.image.manifest.v1+json"});
            auto pull = r.isolab({"pull", reg.host() + "/" + repo});
            CHECK(pull.code == 1);
            CHECK(pull.err.find("which is not a sha256 digest: refused") != std::string::npos);
        }
    }
    CHECK_FALSE(fs::exists("/tmp/isl-pull-digest"));
    CHECK(store_state(r) == before);
    CHECK(names_in(r.path() + "/images/pull").empty());
}
