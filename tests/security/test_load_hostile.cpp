// `isolab load` reads an archive someone else made: a docker-archive (manifest.json) or an OCI
// layout (index.json), whose layers are tars. Each case crafts the archive here (libarchive, the
// same library a real attacker's tools use), loads it as root, and asserts that the host file it
// aims at is untouched, that the load fails naming what is wrong, and that no image of it is left
// in the store. The outer archive's names only index a table (image_archive.cpp); the layers go
// through extract_layer_tar, the extraction pull and import use (test_registry_hostile.cpp,
// test_import_escape.cpp attack those doors).
#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "security.hpp"
#include "sim/engine/layer_archive.hpp"

using namespace isolab::test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

struct HostDir {
    std::string path;
    HostDir() {
        char tmpl[] = "/tmp/isl-load-host.XXXXXX";
        path = ::mkdtemp(tmpl);
    }
    ~HostDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

// One entry of a crafted tar.
struct TarEntry {
    enum Type { File, Dir, Symlink, Hardlink, CharDevice } type = File;
    std::string name;
    std::string data;  // a file's bytes
    std::string link;  // a symlink's or hard link's target, verbatim
};

std::string tar_bytes(const std::vector<TarEntry>& entries) {
    std::vector<char> buf(1 << 20);
    size_t used = 0;
    struct archive* a = archive_write_new();
    REQUIRE(archive_write_set_format_pax_restricted(a) == ARCHIVE_OK);
    REQUIRE(archive_write_open_memory(a, buf.data(), buf.size(), &used) == ARCHIVE_OK);
    struct archive_entry* e = archive_entry_new();
    for (const auto& t : entries) {
        archive_entry_clear(e);
        archive_entry_set_pathname(e, t.name.c_str());
        archive_entry_set_mtime(e, 0, 0);
        switch (t.type) {
            case TarEntry::File:
                archive_entry_set_filetype(e, AE_IFREG);
                archive_entry_set_perm(e, 0644);
                archive_entry_set_size(e, static_cast<la_int64_t>(t.data.size()));
                break;
            case TarEntry::Dir:
                archive_entry_set_filetype(e, AE_IFDIR);
                archive_entry_set_perm(e, 0755);
                break;
            case TarEntry::Symlink:
                archive_entry_set_filetype(e, AE_IFLNK);
                archive_entry_set_perm(e, 0777);
                archive_entry_set_symlink(e, t.link.c_str());
                break;
            case TarEntry::CharDevice:  // LINK holds "MAJOR:MINOR"
                archive_entry_set_filetype(e, AE_IFCHR);
                archive_entry_set_perm(e, 0666);
                archive_entry_set_rdevmajor(e, static_cast<dev_t>(std::stoul(t.link.substr(0, t.link.find(':')))));
                archive_entry_set_rdevminor(e, static_cast<dev_t>(std::stoul(t.link.substr(t.link.find(':') + 1))));
                break;
            case TarEntry::Hardlink:
                archive_entry_set_filetype(e, AE_IFREG);
                archive_entry_set_perm(e, 0644);
                archive_entry_set_hardlink(e, t.link.c_str());
                archive_entry_set_size(e, 0);
                break;
        }
        REQUIRE(archive_write_header(a, e) == ARCHIVE_OK);
        if (t.type == TarEntry::File && !t.data.empty())
            REQUIRE(archive_write_data(a, t.data.data(), t.data.size()) == static_cast<la_ssize_t>(t.data.size()));
    }
    archive_entry_free(e);
    REQUIRE(archive_write_close(a) == ARCHIVE_OK);
    archive_write_free(a);
    return std::string(buf.data(), used);
}

std::string sha256(const std::string& bytes) {
    isolab::Sha256Stream h;
    h.update(bytes);
    return h.hex();
}

std::string config_for(const std::vector<std::string>& layer_tars) {
    json diff_ids = json::array();
    for (const auto& l : layer_tars) diff_ids.push_back("sha256:" + sha256(l));
    return json{{"architecture", "amd64"},
                {"os", "linux"},
                {"config", {{"Cmd", {"sh"}}}},
                {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}}}
        .dump();
}

// A docker-archive (what `docker save` writes): ENTRIES of the outer tar are written as given, so
// a test can name a layer path the archive does not hold.
void write_archive(const std::string& path, const std::vector<TarEntry>& outer) {
    std::ofstream(path, std::ios::binary) << tar_bytes(outer);
}

// The usual docker-archive for one image `evil:latest` with these layers.
std::vector<TarEntry> docker_archive(const std::vector<std::string>& layer_tars) {
    std::vector<TarEntry> out;
    const std::string config = config_for(layer_tars);
    const std::string config_name = sha256(config) + ".json";
    json layers = json::array();
    for (size_t i = 0; i < layer_tars.size(); ++i) {
        std::string name = "layer" + std::to_string(i) + "/layer.tar";
        out.push_back({TarEntry::Dir, "layer" + std::to_string(i), "", ""});
        out.push_back({TarEntry::File, name, layer_tars[i], ""});
        layers.push_back(name);
    }
    out.push_back({TarEntry::File, config_name, config, ""});
    json manifest = json::array({{{"Config", config_name}, {"RepoTags", {"evil:latest"}}, {"Layers", layers}}});
    out.push_back({TarEntry::File, "manifest.json", manifest.dump(), ""});
    return out;
}

// Loads ARCHIVE and checks the common outcome of every attack: refused, no image `evil`.
void expect_refused(TempRoot& r, const std::string& archive, const std::string& why_part) {
    auto load = r.isolab({"load", "-i", archive});
    CHECK(load.code != 0);
    CHECK_MESSAGE(load.err.find(why_part) != std::string::npos, load.err);
    CHECK(r.isolab({"images", "-q", "evil"}).out.empty());
}

}  // namespace

TEST_CASE("security load: layer entries with ../, absolute names, writes through a symlink or hard links out of the layer never reach the host") {
    if (!can_attack()) return;
    TempRoot r;
    HostDir host;
    const std::string victim = host.path + "/victim";
    std::ofstream(victim) << "original\n";
    const std::string climb = "../../../../../../../.." + host.path;
    // The crafted archive is a real docker-archive: an honest layer in it loads.
    {
        const std::string honest = r.path() + "/honest.tar";
        write_archive(honest, docker_archive({tar_bytes({{TarEntry::File, "hello", "hi\n", ""}})}));
        auto load = r.isolab({"load", "-i", honest});
        REQUIRE_MESSAGE(load.code == 0, load.err);
        REQUIRE(r.isolab({"rmi", "evil"}).code == 0);
    }
    struct Attack {
        const char* what;
        std::vector<TarEntry> layer;
    };
    const std::vector<Attack> attacks = {
        {"../ climbs out", {{TarEntry::File, climb + "/pwned", "pwned\n", ""}}},
        {"an absolute name", {{TarEntry::File, host.path + "/pwned", "pwned\n", ""}}},
        {"a symlink, then a write through it",
         {{TarEntry::Symlink, "out", "", host.path}, {TarEntry::File, "out/pwned", "pwned\n", ""}}},
        {"a symlink over the victim's name, then a write through it",
         {{TarEntry::Symlink, "v", "", victim}, {TarEntry::File, "v", "overwritten\n", ""}}},
        {"a hard link to a host file", {{TarEntry::Hardlink, "hl", "", victim}}},
        {"a hard link climbing out", {{TarEntry::Hardlink, "hl", "", climb + "/victim"}}},
        {"a whiteout through a symlink", {{TarEntry::Symlink, "out", "", host.path}, {TarEntry::File, "out/.wh.victim", "", ""}}},
        {"a whiteout climbing out", {{TarEntry::File, climb + "/.wh.victim", "", ""}}},
        {"an opaque whiteout through a symlink",
         {{TarEntry::Symlink, "out", "", host.path}, {TarEntry::File, "out/.wh..wh..opq", "", ""}}},
    };
    for (const auto& a : attacks) {
        CAPTURE(a.what);
        const std::string archive = r.path() + "/evil.tar";
        write_archive(archive, docker_archive({tar_bytes(a.layer)}));
        auto load = r.isolab({"load", "-i", archive});
        // Refused, or (for entries the extraction may drop harmlessly) loaded: never the host.
        CHECK(!fs::exists(host.path + "/pwned"));
        CHECK(read_text(victim) == "original\n");
        struct stat st;
        REQUIRE(::stat(victim.c_str(), &st) == 0);
        CHECK(st.st_nlink == 1);  // nothing in the store became a second name of the host's file
        MESSAGE(std::string(a.what) << ": " << (load.code == 0 ? std::string("loaded, host untouched") : "refused: " + load.err));
        if (load.code == 0) {
            // What was loaded holds the victim's name, if at all, as a file of its own.
            CHECK(r.isolab({"rmi", "evil"}).code == 0);
        } else {
            CHECK(r.isolab({"images", "-q", "evil"}).out.empty());
        }
    }
}

TEST_CASE("security load: a manifest naming a layer or config outside the archive, and a blob that lies, are refused") {
    if (!can_attack()) return;
    TempRoot r;
    HostDir host;
    const std::string layer = tar_bytes({{TarEntry::File, "hello", "hi\n", ""}});
    const std::string archive = r.path() + "/evil.tar";

    // docker-archive: the layer path climbs out of the archive to a real host file. The names only
    // index the archive's own table, so `../../etc/passwd` is "etc/passwd" in it: missing.
    std::ofstream(host.path + "/layer.tar", std::ios::binary) << layer;
    for (const std::string& outside : {std::string("../../../../../..") + host.path + "/layer.tar", host.path + "/layer.tar"}) {
        CAPTURE(outside);
        auto entries = docker_archive({layer});
        for (auto& e : entries)
            if (e.name == "manifest.json") {
                json m = json::parse(e.data);
                m[0]["Layers"][0] = outside;
                e.data = m.dump();
            }
        write_archive(archive, entries);
        expect_refused(r, archive, "is missing from the archive");
    }
    // ... and the config path.
    {
        auto entries = docker_archive({layer});
        for (auto& e : entries)
            if (e.name == "manifest.json") {
                json m = json::parse(e.data);
                m[0]["Config"] = "../../../../etc/passwd";
                e.data = m.dump();
            }
        write_archive(archive, entries);
        auto load = r.isolab({"load", "-i", archive});
        CHECK(load.code != 0);
        CHECK(r.isolab({"images", "-q", "evil"}).out.empty());
    }
    // A layer whose bytes are not what the config's diff_id says.
    {
        auto entries = docker_archive({layer});
        for (auto& e : entries)
            if (e.name == "layer0/layer.tar") e.data = tar_bytes({{TarEntry::File, "hello", "tampered\n", ""}});
        write_archive(archive, entries);
        expect_refused(r, archive, "the archive is damaged");
    }

    // OCI layout: a descriptor whose size lies, a blob that is not its digest, a digest that is a path.
    const std::string config = config_for({layer});
    auto oci = [&](int64_t layer_size, const std::string& layer_digest, const std::string& layer_bytes) {
        json manifest = {{"schemaVersion", 2},
                         {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                         {"config", {{"mediaType", "application/vnd.oci.image.config.v1+json"},
                                     {"digest", "sha256:" + sha256(config)},
                                     {"size", config.size()}}},
                         {"layers", json::array({{{"mediaType", "application/vnd.oci.image.layer.v1.tar"},
                                                  {"digest", layer_digest},
                                                  {"size", layer_size}}})}};
        const std::string m = manifest.dump();
        json index = {{"schemaVersion", 2},
                      {"manifests", json::array({{{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                                                  {"digest", "sha256:" + sha256(m)},
                                                  {"size", m.size()},
                                                  {"annotations", {{"io.containerd.image.name", "docker.io/library/evil:latest"},
                                                                   {"org.opencontainers.image.ref.name", "latest"}}}}})}};
        std::vector<TarEntry> out = {
            {TarEntry::File, "oci-layout", R"({"imageLayoutVersion":"1.0.0"})", ""},
            {TarEntry::Dir, "blobs", "", ""},
            {TarEntry::Dir, "blobs/sha256", "", ""},
            {TarEntry::File, "blobs/sha256/" + sha256(config), config, ""},
            {TarEntry::File, "blobs/sha256/" + sha256(m), m, ""},
            {TarEntry::File, "index.json", index.dump(), ""},
        };
        if (layer_digest.rfind("sha256:", 0) == 0 && layer_digest.size() == 71)
            out.push_back({TarEntry::File, "blobs/sha256/" + layer_digest.substr(7), layer_bytes, ""});
        write_archive(archive, out);
    };
    const std::string good = "sha256:" + sha256(layer);
    oci(static_cast<int64_t>(layer.size()) + 1, good, layer);
    expect_refused(r, archive, "not the size its descriptor says");
    oci(static_cast<int64_t>(layer.size()), good, tar_bytes({{TarEntry::File, "hello", "tampered\n", ""}}));
    expect_refused(r, archive, "is damaged");
    oci(static_cast<int64_t>(layer.size()), "sha256:../../../../../.." + host.path + "/layer.tar", layer);
    auto path_digest = r.isolab({"load", "-i", archive});
    CHECK(path_digest.code != 0);
    CHECK(r.isolab({"images", "-q", "evil"}).out.empty());
    // The honest archive of the same layer loads: the refusals above are about the lies.
    oci(static_cast<int64_t>(layer.size()), good, layer);
    auto ok = r.isolab({"load", "-i", archive});
    REQUIRE_MESSAGE(ok.code == 0, ok.err);
    CHECK(r.isolab({"images", "-q", "evil"}).out.size() > 0);
}

TEST_CASE("security load: rootless, a device node in a layer is never made as the user; the rest of the image loads") {
    if (!can_attack()) return;
    auto probe = run_process({"unshare", "--user", "--map-root-user", "true"}, {}, 10000, "", 65534);
    if (probe.code != 0) {
        ISOLAB_SKIP("uid 65534 cannot create a user namespace here: the rootless store cannot be tested");
        return;
    }
    TempRoot r;
    r.uid = 65534;
    REQUIRE(::chown(r.path().c_str(), 65534, 65534) == 0);
    const std::string archive = r.path() + "/evil.tar";
    // /dev/mem (1:1) as a world-writable node: what an attacker would like a container to open.
    write_archive(archive, docker_archive({tar_bytes({{TarEntry::Dir, "dev", "", ""},
                                                      {TarEntry::CharDevice, "dev/mem", "", "1:1"},
                                                      {TarEntry::File, "hello", "hi\n", ""}})}));
    REQUIRE(::chown(archive.c_str(), 65534, 65534) == 0);
    auto load = r.isolab({"load", "-i", archive});
    MESSAGE("rootless load of a layer with dev/mem: " << (load.code == 0 ? std::string("loaded") : "refused: " + load.err));
    // Whatever the outcome, no device node other than overlay whiteouts (0:0) exists in the store.
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(r.path(), fs::directory_options::none, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        struct stat st;
        if (::lstat(it->path().c_str(), &st) != 0) continue;
        if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
            CHECK_MESSAGE((major(st.st_rdev) == 0 && minor(st.st_rdev) == 0), it->path().string());
    }
    if (load.code != 0) CHECK(r.isolab({"images", "-q", "evil"}).out.empty());
}
