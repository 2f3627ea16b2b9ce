// The Images tab's picture of data that outlives a container (sim/view/volumes_model) and the
// Isolation tab's mount lines (sim/view/isolation): what is drawn for records written to a real
// state root (Store::save) and volumes made by VolumeStore, read back as the window reads them.
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "sim/core/clock.hpp"
#include "sim/core/files.hpp"
#include "sim/core/i18n.hpp"
#include "sim/state/store.hpp"
#include "sim/state/volumes.hpp"
#include "sim/view/isolation.hpp"
#include "sim/view/volumes_model.hpp"

using namespace isolab;
using namespace isolab::view;

namespace {

struct TempRoot {
    std::string path;
    TempRoot() {
        char tmpl[] = "/tmp/isolab-volview-XXXXXX";
        REQUIRE(::mkdtemp(tmpl) != nullptr);
        path = tmpl;
        REQUIRE(Store(path).ensure_layout().ok());
    }
    ~TempRoot() { (void)remove_tree(path); }
};

MountSpec volume(const std::string& name, const std::string& target, bool ro = false, bool anonymous = false) {
    MountSpec m;
    m.type = MountType::Volume;
    m.source = name;
    m.target = target;
    m.readonly = ro;
    m.anonymous = anonymous;
    return m;
}

MountSpec bind(const std::string& host, const std::string& target, bool ro = false) {
    MountSpec m;
    m.type = MountType::Bind;
    m.source = host;
    m.target = target;
    m.readonly = ro;
    return m;
}

MountSpec tmpfs(const std::string& target, int64_t size = 0) {
    MountSpec m;
    m.type = MountType::Tmpfs;
    m.target = target;
    m.tmpfs_size = size;
    return m;
}

// A container record saved the way the engine saves one; returns its id.
std::string save(const TempRoot& root, const std::string& name, std::vector<MountSpec> mounts,
                 Backend backend = Backend::Namespaces, ContainerState state = ContainerState::Running) {
    Store store(root.path);
    ContainerRecord r;
    r.id = random_hex(32);
    r.name = name;
    r.created = now_rfc3339();
    r.state = state;
    r.backend = backend;
    r.image_id = "sha256:42d5da5c3899e0824354d4aec5096a83cd2b1771390bf96b6783d8ad8c9ee0a1";
    r.layers = {root.path + "/images/layers/one"};
    r.spec.image = "busybox";
    r.spec.mounts = std::move(mounts);
    REQUIRE(make_dirs(store.container_dir(r.id), 0711).ok());
    REQUIRE(store.save(r).ok());
    return r.id;
}

// What the window would draw: the records and volumes read back from disk, newest first as
// the snapshot lists containers (here: by name, for a stable order the tests state).
DataPicture picture(const TempRoot& root, const std::string& selected = "",
                    const std::map<std::string, int64_t>& sizes = {}, size_t max_columns = 6,
                    const std::vector<std::string>& order = {}) {
    auto records = Store(root.path).list();
    if (!order.empty()) {
        std::vector<ContainerRecord> sorted;
        for (const auto& n : order)
            for (const auto& r : records)
                if (r.name == n) sorted.push_back(r);
        REQUIRE(sorted.size() == records.size());
        records = sorted;
    }
    return build_data_picture(records, VolumeStore(root.path).list(), sizes, selected, max_columns);
}

const DataBox* box_named(const DataPicture& p, const std::string& source) {
    for (const auto& b : p.boxes)
        if (b.source == source) return &b;
    return nullptr;
}

const ContainerColumn* column(const DataPicture& p, const std::string& name) {
    for (const auto& c : p.columns)
        if (c.name == name) return &c;
    return nullptr;
}

}  // namespace

TEST_CASE("view: volumes: a volume no container uses is still drawn, labelled dangling") {
    TempRoot root;
    VolumeStore vs(root.path);
    REQUIRE(vs.create("data", {}, false).ok());
    REQUIRE(vs.create("old-logs", {}, false).ok());
    save(root, "web", {volume("data", "/data")});

    DataPicture p = picture(root);
    REQUIRE(p.boxes.size() == 2);
    const DataBox* data = box_named(p, "data");
    const DataBox* old = box_named(p, "old-logs");
    REQUIRE(data);
    REQUIRE(old);
    CHECK_FALSE(data->dangling);
    CHECK(old->dangling);
    CHECK(old->users.empty());
    CHECK(old->kind == DataKind::Volume);
    CHECK(old->label == "old-logs");
    CHECK(old->path == vs.data_dir("old-logs"));
    CHECK_FALSE(old->created.empty());
    // Used volumes come first (they have lines), the dangling one last.
    CHECK(p.boxes.back().source == "old-logs");
    CHECK(p.volume_count == 2);
    CHECK(p.dangling_count == 1);

    // `rm` of the last user: the volume stays in the picture, now dangling; the column goes.
    REQUIRE(Store(root.path).remove_container_dir(Store(root.path).list().front().id).ok());
    DataPicture after = picture(root);
    CHECK(after.columns.empty());
    REQUIRE(after.boxes.size() == 2);
    CHECK(box_named(after, "data")->dangling);
    CHECK(after.dangling_count == 2);
}

TEST_CASE("view: volumes: a volume two containers use is one box that lists both, each with its target and mode") {
    TempRoot root;
    REQUIRE(VolumeStore(root.path).create("data", {}, false).ok());
    std::string web = save(root, "web", {volume("data", "/data")});
    std::string db = save(root, "db", {volume("data", "/var/lib/data", true)});

    DataPicture p = picture(root, "", {{"data", 123456}}, 6, {"web", "db"});
    REQUIRE(p.boxes.size() == 1);
    const DataBox& b = p.boxes[0];
    CHECK(b.label == "data");
    CHECK(b.size == 123456);
    CHECK_FALSE(b.dangling);
    REQUIRE(b.users.size() == 2);
    CHECK(b.users[0].container == "web");
    CHECK(b.users[0].container_id == web);
    CHECK(b.users[0].target == "/data");
    CHECK_FALSE(b.users[0].readonly);
    CHECK(b.users[1].container == "db");
    CHECK(b.users[1].container_id == db);
    CHECK(b.users[1].target == "/var/lib/data");
    CHECK(b.users[1].readonly);
    // Both columns draw a line to that one box.
    REQUIRE(p.columns.size() == 2);
    for (const auto& c : p.columns) {
        REQUIRE(c.edges.size() == 1);
        CHECK(c.edges[0].box == 0);
    }
    CHECK(column(p, "db")->edges[0].readonly);
    CHECK(column(p, "db")->edges[0].target == "/var/lib/data");
}

TEST_CASE("view: volumes: a bind mount is drawn as a host folder with its host path, shared by path") {
    TempRoot root;
    save(root, "site", {bind("/srv/site", "/www", true)});
    save(root, "editor", {bind("/srv/site", "/edit"), bind("/home/user/notes", "/notes")});

    DataPicture p = picture(root, "", {}, 6, {"site", "editor"});
    REQUIRE(p.boxes.size() == 2);
    const DataBox* site = box_named(p, "/srv/site");
    REQUIRE(site);
    CHECK(site->kind == DataKind::Bind);
    CHECK(site->label == "/srv/site");
    CHECK(site->path == "/srv/site");
    CHECK(site->size == -1);  // a host folder is never walked
    CHECK_FALSE(site->dangling);
    CHECK_FALSE(site->anonymous);
    REQUIRE(site->users.size() == 2);
    CHECK(site->users[0].container == "site");
    CHECK(site->users[0].readonly);
    CHECK(site->users[1].container == "editor");
    CHECK(site->users[1].target == "/edit");
    CHECK(box_named(p, "/home/user/notes")->kind == DataKind::Bind);
    CHECK(p.bind_count == 2);
    CHECK(p.volume_count == 0);
}

TEST_CASE("view: volumes: an anonymous volume is labelled by its short id, used or dangling") {
    TempRoot root;
    VolumeStore vs(root.path);
    const std::string used = random_hex(32), left = random_hex(32);
    REQUIRE(vs.create(used, {}, true).ok());
    REQUIRE(vs.create(left, {}, true).ok());
    save(root, "web", {volume(used, "/cache", false, true)});

    DataPicture p = picture(root);
    REQUIRE(p.boxes.size() == 2);
    const DataBox* u = box_named(p, used);
    const DataBox* l = box_named(p, left);
    REQUIRE(u);
    REQUIRE(l);
    CHECK(u->anonymous);
    CHECK(u->label == used.substr(0, 12));
    CHECK(u->label.size() == 12);
    CHECK_FALSE(u->dangling);
    // Anonymous by the store's record alone (a plain `rm` left it behind).
    CHECK(l->anonymous);
    CHECK(l->dangling);
    CHECK(l->label == left.substr(0, 12));
    CHECK(short_volume_name(used) == used.substr(0, 12));
}

TEST_CASE("view: volumes: a tmpfs is memory inside its container's column, not a box outside it") {
    TempRoot root;
    save(root, "web", {tmpfs("/tmp", 64 << 20), tmpfs("/run")});
    DataPicture p = picture(root);
    CHECK(p.boxes.empty());
    REQUIRE(p.columns.size() == 1);
    const ContainerColumn& c = p.columns[0];
    CHECK(c.edges.empty());
    REQUIRE(c.tmpfs.size() == 2);
    CHECK(c.tmpfs[0].target == "/tmp");
    CHECK(c.tmpfs[0].size == 64 << 20);
    CHECK(c.tmpfs[1].target == "/run");
    CHECK(c.tmpfs[1].size == 0);
    CHECK(p.tmpfs_count == 2);
    CHECK_FALSE(p.empty());
}

TEST_CASE("view: volumes: which containers get a column") {
    TempRoot root;
    REQUIRE(VolumeStore(root.path).create("data", {}, false).ok());
    std::string plain = save(root, "plain", {});
    save(root, "web", {volume("data", "/data")});

    // A container that mounts nothing has no column, unless it is selected: its writable layer
    // is all it has.
    DataPicture p = picture(root);
    REQUIRE(p.columns.size() == 1);
    CHECK(p.columns[0].name == "web");
    CHECK_FALSE(p.columns[0].selected);
    DataPicture sel = picture(root, "plain");
    REQUIRE(sel.columns.size() == 2);
    const ContainerColumn* c = column(sel, "plain");
    REQUIRE(c);
    CHECK(c->selected);
    CHECK(c->edges.empty());
    CHECK(c->image_layers == 1);
    CHECK(c->image_title == "42d5da5c3899");  // no image list here: its short id
    // Selected by id prefix, as the window's selection allows.
    CHECK(column(picture(root, plain.substr(0, 8)), "plain") != nullptr);

    // Nothing at all: the picture is empty (the view shows its hint instead).
    TempRoot empty;
    save(empty, "plain", {});
    CHECK(picture(empty).empty());
}

TEST_CASE("view: volumes: past the column limit the selected container stays, and hidden users keep a volume from being dangling") {
    TempRoot root;
    REQUIRE(VolumeStore(root.path).create("va", {}, false).ok());
    REQUIRE(VolumeStore(root.path).create("vb", {}, false).ok());
    REQUIRE(VolumeStore(root.path).create("vc", {}, false).ok());
    save(root, "one", {volume("va", "/a")});
    save(root, "two", {volume("vb", "/b")});
    save(root, "three", {volume("vc", "/c")});

    DataPicture p = picture(root, "three", {}, 2, {"one", "two", "three"});
    REQUIRE(p.columns.size() == 2);
    CHECK(p.columns[0].name == "one");
    CHECK(p.columns[1].name == "three");  // selected: kept, in its place
    CHECK(p.hidden_columns == 1);
    // "two" has no column, but its volume is used: listed with its user, not dangling.
    const DataBox* b = box_named(p, "vb");
    REQUIRE(b);
    CHECK_FALSE(b->dangling);
    REQUIRE(b->users.size() == 1);
    CHECK(b->users[0].container == "two");
    CHECK(p.dangling_count == 0);
    // Edges point at the right boxes.
    CHECK(p.boxes[p.columns[1].edges[0].box].source == "vc");
    CHECK(p.boxes[p.columns[0].edges[0].box].source == "va");
}

TEST_CASE("view: volumes: a volume the store does not have is drawn as missing; simulated containers are marked") {
    TempRoot root;
    save(root, "sim", {volume("ghost", "/g")}, Backend::Simulated);
    DataPicture p = picture(root);
    REQUIRE(p.boxes.size() == 1);
    CHECK(p.boxes[0].missing);
    CHECK_FALSE(p.boxes[0].dangling);
    CHECK(p.boxes[0].path.empty());
    REQUIRE(p.boxes[0].users.size() == 1);
    CHECK(p.boxes[0].users[0].simulated);
    REQUIRE(p.columns.size() == 1);
    CHECK(p.columns[0].simulated);

    // Once made, it is an ordinary volume.
    REQUIRE(VolumeStore(root.path).create("ghost", {}, false).ok());
    CHECK_FALSE(picture(root).boxes[0].missing);
}

TEST_CASE("view: isolation: the mount row lists the container's volumes, binds and tmpfs against its mountinfo") {
    i18n::set_language(i18n::Lang::En);
    const std::string anon = random_hex(32);
    std::vector<MountSpec> mounts = {volume("data", "/data"), bind("/srv/site", "/www"), volume(anon, "/cache", false, true),
                                     tmpfs("/tmp")};
    mounts[1].readonly = false;  // asked rw; the kernel below says ro
    // The container's mountinfo: the overlay root, /data and /www (ro); /cache and /tmp missing.
    std::string mi =
        "500 400 0:77 / / rw,relatime - overlay overlay rw,lowerdir=/a\n"
        "501 500 8:1 /var/lib/isolab/volumes/data/_data /data rw,relatime - ext4 /dev/sda1 rw\n"
        "502 500 8:1 /srv/site /www ro,relatime - ext4 /dev/sda1 rw\n";
    MountSummary seen = summarize_mounts(mi);
    REQUIRE(seen.points.size() == 3);
    CHECK(seen.points[2].readonly);
    CHECK_FALSE(seen.points[1].readonly);

    auto lines = mount_lines(mounts, &seen);
    REQUIRE(lines.size() == 4);
    CHECK(lines[0].seen == MountLine::Seen::Mounted);
    CHECK(lines[0].text == "/data ← volume data · rw");
    CHECK(lines[1].seen == MountLine::Seen::Mounted);
    CHECK(lines[1].readonly);  // the kernel's word
    CHECK(lines[1].text == "/www ← host /srv/site · ro");
    CHECK(lines[2].source == anon.substr(0, 12));
    CHECK(lines[2].seen == MountLine::Seen::NotMounted);
    CHECK(lines[2].text.find("/cache ← anonymous volume " + anon.substr(0, 12) + " · rw") == 0);
    CHECK(lines[2].text.find("not in its mountinfo") != std::string::npos);
    CHECK(lines[3].type == MountType::Tmpfs);
    CHECK(lines[3].text.find("/tmp ← tmpfs (memory) · rw") == 0);

    // Without a mountinfo nothing is claimed about the kernel: what was asked, no "not mounted".
    auto unread = mount_lines(mounts, nullptr);
    CHECK(unread[1].seen == MountLine::Seen::Unknown);
    CHECK(unread[1].text == "/www ← host /srv/site · rw");
    CHECK(unread[2].text.find("mountinfo") == std::string::npos);

    // In Korean.
    i18n::set_language(i18n::Lang::Ko);
    CHECK(mount_lines({volume("data", "/data")}, nullptr)[0].text == "/data ← 볼륨 data · rw");
    i18n::set_language(i18n::Lang::En);
}

TEST_CASE("view: isolation: the mnt row carries the mount lines and its lesson names them") {
    i18n::set_language(i18n::Lang::En);
    IsolationFacts f;
    f.host.mounts = summarize_mounts("27 1 8:1 / / rw - ext4 /dev/sda1 rw\n");
    f.container.mounts = summarize_mounts("500 400 0:77 / / rw - overlay overlay rw\n"
                                          "501 500 8:1 /x /data rw - ext4 /dev/sda1 rw\n");
    std::vector<MountSpec> mounts = {volume("data", "/data")};
    auto rows = build_isolation_rows(f, nullptr, &mounts);
    auto mnt = std::find_if(rows.begin(), rows.end(), [](const IsolationRow& r) { return r.kind == "mnt"; });
    REQUIRE(mnt != rows.end());
    REQUIRE(mnt->mounts.size() == 1);
    CHECK(mnt->mounts[0].seen == MountLine::Seen::Mounted);
    CHECK(mnt->lesson == i18n::tr("gui.isolation.mnt.lesson_mounts"));
    for (const auto& r : rows)
        if (r.kind != "mnt") CHECK(r.mounts.empty());

    // No mounts: the row's lesson as before.
    std::vector<MountSpec> none;
    auto plain = build_isolation_rows(f, nullptr, &none);
    auto m2 = std::find_if(plain.begin(), plain.end(), [](const IsolationRow& r) { return r.kind == "mnt"; });
    CHECK(m2->mounts.empty());
    CHECK(m2->lesson == i18n::tr("gui.isolation.mnt.lesson"));
}
