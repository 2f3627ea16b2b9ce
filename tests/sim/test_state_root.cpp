// The state root's files (issue 12): their modes, and what happens when one is garbled. No kernel
// features are needed: the records, the tags, the network files and the layer tars are plain files.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/core/clock.hpp"
#include "sim/core/files.hpp"
#include "sim/state/container.hpp"
#include "sim/engine/image_archive.hpp"
#include "sim/engine/images.hpp"
#include "sim/engine/layer_archive.hpp"
#include "sim/state/store.hpp"
#include "sim/runtime/lost_container.hpp"
#include "sim/net/networks.hpp"

using namespace isolab;
using nlohmann::json;

namespace {

struct TempDir {
    std::string path;
    TempDir() {
        char tmpl[] = "/tmp/isolab-state-XXXXXX";
        REQUIRE(::mkdtemp(tmpl) != nullptr);
        path = tmpl;
    }
    ~TempDir() { (void)remove_tree(path); }
};

mode_t mode_of(const std::string& path) {
    struct stat st;
    REQUIRE_MESSAGE(::lstat(path.c_str(), &st) == 0, path);
    return st.st_mode & 07777;
}

std::string text_of(const std::string& path) {
    auto t = read_file(path);
    REQUIRE_MESSAGE(t.ok(), path);
    return *t;
}

ContainerRecord record(const std::string& name) {
    ContainerRecord r;
    r.id = random_hex(32);
    r.name = name;
    r.created = now_rfc3339();
    r.state = ContainerState::Running;
    r.spec.image = "busybox";
    r.spec.env = {"SECRET=x"};
    return r;
}

// A tar the way `tar -C DIR .` and Go's archive/tar users write one: a "./" root entry, "./"
// prefixes, GNU format. Its bytes are not what write_layer_tar would make of the same tree.
void write_foreign_tar(const std::string& path) {
    struct archive* a = archive_write_new();
    archive_write_set_format_gnutar(a);
    REQUIRE(archive_write_open_filename(a, path.c_str()) == ARCHIVE_OK);
    struct Spec {
        const char* name;
        mode_t type;
        std::string content;
    };
    for (const Spec& s : {Spec{"./", AE_IFDIR, ""}, Spec{"./etc/", AE_IFDIR, ""}, Spec{"./etc/motd", AE_IFREG, "hello\n"}}) {
        struct archive_entry* e = archive_entry_new();
        archive_entry_copy_pathname(e, s.name);
        archive_entry_set_filetype(e, s.type);
        archive_entry_set_perm(e, s.type == AE_IFDIR ? 0755 : 0644);
        archive_entry_set_mtime(e, 1700000000, 0);
        archive_entry_set_size(e, static_cast<la_int64_t>(s.content.size()));
        REQUIRE(archive_write_header(a, e) == ARCHIVE_OK);
        if (!s.content.empty()) archive_write_data(a, s.content.data(), s.content.size());
        archive_entry_free(e);
    }
    archive_write_close(a);
    archive_write_free(a);
}

}  // namespace

TEST_CASE("state root: records are written 0600; a root made with the old modes is tightened on open") {
    TempDir t;
    ::umask(022);
    REQUIRE(write_file_atomic(t.path + "/record", "{}\n").ok());
    CHECK(mode_of(t.path + "/record") == 0600);
    REQUIRE(write_file_atomic(t.path + "/shared", "x\n", 0644).ok());
    CHECK(mode_of(t.path + "/shared") == 0644);

    // A fresh root.
    Store fresh(t.path + "/fresh");
    REQUIRE(fresh.ensure_layout().ok());
    CHECK(mode_of(fresh.root()) == 0711);
    for (const char* d : {"containers", "images", "names", "networks"}) CHECK(mode_of(fresh.root() + "/" + d) == 0700);
    fresh.append_event("test", json::object());
    CHECK(mode_of(fresh.root() + "/events.jsonl") == 0600);
    ContainerRecord r = record("web");
    REQUIRE(make_dirs(fresh.container_dir(r.id), 0711).ok());
    REQUIRE(fresh.save(r).ok());
    CHECK(mode_of(fresh.record_path(r.id)) == 0600);

    // The layout an older IsoLab made: 0711/0755 directories, 0644 records.
    std::string old = t.path + "/old";
    for (const std::string& d : {old, old + "/containers", old + "/names", old + "/containers/" + r.id})
        REQUIRE(make_dirs(d, 0711).ok());
    for (const std::string& d : {old + "/images/configs", old + "/images/layers/abc/etc", old + "/networks/leases", old + "/vms"})
        REQUIRE(make_dirs(d, 0755).ok());
    for (const std::string& d : {old, old + "/images", old + "/networks", old + "/networks/leases", old + "/vms"})
        ::chmod(d.c_str(), 0755);
    const std::vector<std::string> records = {old + "/events.jsonl", old + "/backend.auto", old + "/containers/" + r.id + "/container.json",
                                              old + "/images/repositories.json", old + "/images/configs/c.json",
                                              old + "/networks/bridge.json", old + "/networks/leases/bridge.json"};
    for (const auto& f : records) REQUIRE(write_file_atomic(f, "{}\n", 0644).ok());
    REQUIRE(write_file_atomic(old + "/images/layers/abc/etc/passwd", "root:x:0:0\n", 0644).ok());
    REQUIRE(write_file_atomic(old + "/containers/" + r.id + "/hosts", "127.0.0.1 localhost\n", 0644).ok());

    Store store(old);
    REQUIRE(store.ensure_layout().ok());
    CHECK(mode_of(old) == 0711);  // others still reach ROOT/guest through it
    for (const char* d : {"containers", "images", "names", "networks", "vms"}) CHECK(mode_of(old + "/" + d) == 0700);
    CHECK(mode_of(old + "/networks/leases") == 0700);
    for (const auto& f : records) CHECK_MESSAGE(mode_of(f) == 0600, f);
    // Image content keeps the modes the image gives it; a container's /etc/hosts stays readable
    // inside it (the directories above it are what keeps others out).
    CHECK(mode_of(old + "/images/layers/abc/etc/passwd") == 0644);
    CHECK(mode_of(old + "/containers/" + r.id + "/hosts") == 0644);
    // Idempotent.
    REQUIRE(store.ensure_layout().ok());
    CHECK(mode_of(old + "/containers") == 0700);
}

TEST_CASE("state root: a garbled container.json is moved aside and the container stays visible as Dead") {
    TempDir t;
    Store store(t.path + "/root");
    REQUIRE(store.ensure_layout().ok());
    ContainerRecord r = record("web");
    REQUIRE(make_dirs(store.container_dir(r.id), 0700).ok());
    REQUIRE(FileLock::acquire(store.container_dir(r.id) + "/lock").ok());
    REQUIRE(store.save(r).ok());
    std::string owner;
    REQUIRE(store.reserve_name("web", r.id, &owner).value());
    ContainerRecord other = record("db");
    REQUIRE(make_dirs(store.container_dir(other.id), 0700).ok());
    REQUIRE(store.save(other).ok());

    const std::string garbled = "{\"id\": \"" + r.id.substr(0, 20);  // cut short, as by a full disk
    REQUIRE(write_file(store.record_path(r.id), garbled).ok());

    auto dead = store.load(r.id);
    REQUIRE(dead.ok());
    CHECK(dead->state == ContainerState::Dead);
    CHECK(dead->id == r.id);
    CHECK(dead->name == "web");
    CHECK(dead->spec.env.empty());  // nothing is made up
    CHECK(dead->error.find(store.lost_record_path(r.id)) != std::string::npos);
    CHECK_FALSE(path_exists(store.record_path(r.id)));
    CHECK(text_of(store.lost_record_path(r.id)) == garbled);  // kept, byte for byte
    CHECK(store.record_lost(r.id));
    CHECK(store.has_record(r.id));

    auto warnings = store.take_warnings();
    REQUIRE(warnings.size() == 1);
    CHECK(warnings[0].find(store.lost_record_path(r.id)) != std::string::npos);
    CHECK(warnings[0].find('\n') == std::string::npos);
    CHECK(text_of(store.root() + "/events.jsonl").find("\"record_corrupt\"") != std::string::npos);

    // Seen everywhere, warned about once.
    auto all = store.list();
    REQUIRE(all.size() == 2);
    CHECK(store.list_ids().size() == 2);
    CHECK(store.resolve("web")->state == ContainerState::Dead);
    CHECK(store.resolve(r.id.substr(0, 10))->id == r.id);
    CHECK(store.resolve(other.id)->state == ContainerState::Running);
    CHECK(store.take_warnings().empty());
    // Its name stays taken, and nothing writes a made-up record in its place.
    CHECK(store.name_in_use("web", &owner));
    CHECK_FALSE(store.reserve_name("web", other.id, &owner).value());
    auto saved = store.save(*dead);
    CHECK_FALSE(saved.ok());
    CHECK(saved.error().exit_code == 1);
    CHECK_FALSE(path_exists(store.record_path(r.id)));
    // Without processes to look for, stopping it finds none and succeeds.
    CHECK(stop_lost_container(store, r.id, "isolab/unit-test-no-such-group/" + r.id).ok());
}

TEST_CASE("state root: records of the wrong shape or of another container are corrupt too") {
    TempDir t;
    Store store(t.path + "/root");
    REQUIRE(store.ensure_layout().ok());
    ContainerRecord r = record("");
    REQUIRE(make_dirs(store.container_dir(r.id), 0700).ok());
    const std::vector<std::string> bad = {"", "[1, 2]", "{\"id\": \"" + r.id + "\", \"pid\": \"twelve\"}",
                                          to_json(record("elsewhere")).dump()};
    for (const auto& text : bad) {
        CAPTURE(text);
        ::unlink(store.lost_record_path(r.id).c_str());
        REQUIRE(write_file(store.record_path(r.id), text).ok());
        auto loaded = store.load(r.id);
        REQUIRE(loaded.ok());
        CHECK(loaded->state == ContainerState::Dead);
        CHECK(text_of(store.lost_record_path(r.id)) == text);
        CHECK(store.take_warnings().size() == 1);
    }
    // A good record is left where it is.
    ::unlink(store.lost_record_path(r.id).c_str());
    REQUIRE(store.save(r).ok());
    CHECK(store.load(r.id)->state == ContainerState::Running);
    CHECK_FALSE(path_exists(store.lost_record_path(r.id)));
    CHECK(store.take_warnings().empty());
}

TEST_CASE("state root: a garbled repositories.json is moved aside, and no tag is written from the failed read") {
    TempDir t;
    ImageStore images(t.path + "/images");
    REQUIRE(make_dirs(images.dir(), 0700).ok());
    const std::string config = R"({"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":[]}})";
    auto id = images.store_config(config, {"a:1", "b:1"});
    REQUIRE(id.ok());
    CHECK(images.resolve("b:1")->repo_tags.size() == 2);

    const std::string repos = images.dir() + "/repositories.json";
    const std::string garbled = "{\"a:1\": \"sha256:";
    REQUIRE(write_file(repos, garbled).ok());
    auto tagged = images.tag("a:1", "c:1");
    REQUIRE_FALSE(tagged.ok());
    CHECK(tagged.error().exit_code == 1);
    CHECK(tagged.error().message.find("`" + repos + "`") != std::string::npos);
    CHECK_FALSE(path_exists(repos));                    // not rewritten with c:1 alone
    CHECK(text_of(repos + ".bad") == garbled);          // the user's to recover from
    auto warnings = images.take_warnings();
    REQUIRE(warnings.size() == 1);
    CHECK(warnings[0].find("`" + repos + ".bad`") != std::string::npos);

    // The image is still there, untagged; a tag by id names it again.
    auto all = images.list();
    REQUIRE(all.size() == 1);
    CHECK(all[0].repo_tags.empty());
    REQUIRE(images.tag(id->substr(7, 12), "a:1").ok());
    CHECK(images.resolve("a:1")->id == *id);

    // A file that is JSON but not tags is refused the same way.
    REQUIRE(write_file(repos, R"({"a:1": 42})").ok());
    CHECK_FALSE(images.store_config(config, {"d:1"}).ok());
    CHECK(text_of(repos + ".bad") == R"({"a:1": 42})");
    CHECK(images.take_warnings().size() == 1);
}

TEST_CASE("state root: a garbled network file is named as corrupt, not as a missing network") {
    TempDir t;
    net::NetworkStore store(t.path, false);
    REQUIRE(store.get("bridge").ok());
    const std::string file = t.path + "/networks/bridge.json";
    for (const std::string& text : {std::string("{\"name\":"), std::string(""), std::string("[]"),
                                    std::string(R"({"name": 5})"), std::string(R"({"name": "host"})")}) {
        CAPTURE(text);
        REQUIRE(write_file(file, text).ok());
        auto n = store.get("bridge");
        REQUIRE_FALSE(n.ok());
        CHECK(n.error().exit_code == 1);
        CHECK(n.error().message.rfind("network file `" + file + "` is corrupt: ", 0) == 0);
        CHECK(n.error().message.find("isolab system reset") != std::string::npos);
        CHECK(n.error().message.find('\n') == std::string::npos);
    }
    CHECK(store.get("nope").error().message == "network nope not found");
}

TEST_CASE("state root: a layer loaded from another tool's tar keeps that tar's digest, and save writes it back") {
    TempDir t;
    const std::string foreign = t.path + "/foreign.tar";
    write_foreign_tar(foreign);
    auto want = file_diff_id(foreign);
    REQUIRE(want.ok());

    // extract_layer_tar: the "./" root entry is the layer root; the plain copy is the stream.
    auto x = extract_layer_tar(foreign, t.path + "/x", t.path + "/x.tar");
    REQUIRE_MESSAGE(x.ok(), x.error().message);
    CHECK(x->diff_id == *want);
    CHECK(text_of(t.path + "/x.tar") == text_of(foreign));
    CHECK(text_of(t.path + "/x/etc/motd") == "hello\n");
    auto own = write_layer_tar(t.path + "/x", "");
    REQUIRE(own.ok());
    REQUIRE(own->diff_id != *want);  // the premise: IsoLab would archive it differently

    ImageStore images(t.path + "/images");
    REQUIRE(make_dirs(images.dir(), 0700).ok());
    auto added = images.add_layer(t.path + "/x", true, t.path + "/x.tar");
    REQUIRE_MESSAGE(added.ok(), added.error().message);
    CHECK(*added == *want);
    CHECK(path_exists(images.layer_path(*want) + "/etc/motd"));
    CHECK(original_layer_tar(images.layer_path(*want)) == images.layer_path(*want) + ".tar");
    CHECK(text_of(images.layer_path(*want) + ".tar") == text_of(foreign));

    // A tar that IsoLab's own archiving reproduces is not kept twice.
    REQUIRE(make_dirs(t.path + "/mine/etc").ok());
    REQUIRE(write_file(t.path + "/mine/etc/issue", "IsoLab\n").ok());
    auto mine_tar = write_layer_tar(t.path + "/mine", t.path + "/mine.tar");
    REQUIRE(mine_tar.ok());
    REQUIRE(extract_layer_tar(t.path + "/mine.tar", t.path + "/mine-x", t.path + "/mine-x.tar").ok());
    auto mine = images.add_layer(t.path + "/mine-x", true, t.path + "/mine-x.tar");
    REQUIRE(mine.ok());
    CHECK(*mine == mine_tar->diff_id);
    CHECK(original_layer_tar(images.layer_path(*mine)).empty());

    // The config names the archive's digest; save writes the kept bytes under it.
    json config = {{"architecture", "amd64"}, {"os", "linux"}, {"config", json::object()},
                   {"rootfs", {{"type", "layers"}, {"diff_ids", {*want}}}}};
    auto image_id = images.store_config(config.dump(), {"foreign:1"});
    REQUIRE_MESSAGE(image_id.ok(), image_id.error().message);
    auto img = images.resolve("foreign:1");
    REQUIRE(img.ok());
    auto bytes = images.config_bytes(*img);
    REQUIRE(bytes.ok());
    ArchiveImage out{*bytes, img->layer_dirs, {"foreign:1"}, {}, {}};
    REQUIRE(save_image_archive({out}, t.path + "/saved.tar").ok());
    auto back = load_image_archive(t.path + "/saved.tar", t.path + "/staging");
    REQUIRE_MESSAGE(back.ok(), back.error().message);
    REQUIRE(back->size() == 1);
    CHECK((*back)[0].diff_ids == std::vector<std::string>{*want});
    REQUIRE((*back)[0].layer_tars.size() == 1);
    CHECK(text_of((*back)[0].layer_tars[0]) == text_of(foreign));

    // Removing the image removes the kept tar with its layer.
    std::vector<std::string> report;
    REQUIRE(images.remove("foreign:1", &report).ok());
    CHECK_FALSE(path_exists(images.layer_path(*want)));
    CHECK_FALSE(path_exists(images.layer_path(*want) + ".tar"));
}
