// The volume commands' engine side (sim/engine/volume_actions.hpp) on a plain state root: which
// container uses a volume (records written through Store::save), Docker's daemon words for create
// and rm, what prune selects, and the events each action writes. No kernel features are needed.
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/core/clock.hpp"
#include "sim/core/files.hpp"
#include "sim/engine/build.hpp"
#include "sim/engine/volume_actions.hpp"
#include "sim/state/mounts.hpp"
#include "sim/state/store.hpp"
#include "sim/state/volumes.hpp"

using namespace isolab;
using nlohmann::json;

namespace {

struct Root {
    std::string path;
    Root() {
        char tmpl[] = "/tmp/isolab-volumes-XXXXXX";
        REQUIRE(::mkdtemp(tmpl) != nullptr);
        path = tmpl;
        REQUIRE(Store(path).ensure_layout().ok());
    }
    ~Root() { (void)remove_tree(path); }
    Store store() const { return Store(path); }
    VolumeStore volumes() const { return VolumeStore(path); }
};

MountSpec volume_mount(const std::string& name, const std::string& target) {
    MountSpec m;
    m.type = MountType::Volume;
    m.source = name;
    m.target = target;
    return m;
}

// A container record that mounts MOUNTS, saved as the engine would (any state holds its volumes).
std::string save_container(const Store& store, const std::string& name, std::vector<MountSpec> mounts,
                           ContainerState state = ContainerState::Exited) {
    ContainerRecord r;
    r.id = random_hex(32);
    r.name = name;
    r.created = now_rfc3339();
    r.state = state;
    r.spec.image = "busybox";
    r.spec.mounts = std::move(mounts);
    REQUIRE(make_dirs(store.container_dir(r.id), 0700).ok());
    REQUIRE(store.save(r).ok());
    return r.id;
}

// The events of TYPE in ROOT/events.jsonl, oldest first.
std::vector<json> events_of(const std::string& root, const std::string& type) {
    std::vector<json> out;
    auto text = read_file(root + "/events.jsonl");
    if (!text) return out;
    size_t pos = 0;
    while (pos < text->size()) {
        size_t nl = text->find('\n', pos);
        json j = json::parse(text->substr(pos, nl - pos));
        if (j.value("type", "") == type) out.push_back(j);
        pos = nl == std::string::npos ? text->size() : nl + 1;
    }
    return out;
}

}  // namespace

TEST_CASE("volume actions: create names an anonymous volume with 64 hex digits, keeps an existing one, logs create once") {
    Root root;
    auto named = create_volume(root.store(), root.volumes(), "data", {{"team", "a"}});
    REQUIRE(named.ok());
    CHECK(named->name == "data");
    CHECK_FALSE(named->anonymous);
    CHECK(named->labels == std::map<std::string, std::string>{{"team", "a"}});
    CHECK(path_exists(root.path + "/volumes/data/_data"));

    // Docker's create of an existing name succeeds and changes nothing, labels included.
    auto again = create_volume(root.store(), root.volumes(), "data", {{"team", "b"}});
    REQUIRE(again.ok());
    CHECK(again->labels.at("team") == "a");

    auto anon = create_volume(root.store(), root.volumes(), "", {});
    REQUIRE(anon.ok());
    CHECK(anon->name.size() == 64);
    CHECK(anon->name.find_first_not_of("0123456789abcdef") == std::string::npos);
    CHECK(anon->anonymous);
    CHECK(volume_labels(*anon) == std::map<std::string, std::string>{{kAnonymousVolumeLabel, ""}});

    auto events = events_of(root.path, "volume_create");
    REQUIRE(events.size() == 2);  // data and the anonymous one; the second create of data made nothing
    CHECK(events[0]["name"] == "data");
    CHECK(events[0]["driver"] == "local");
    CHECK(events[1]["name"] == anon->name);
}

TEST_CASE("volume actions: create refuses bad names with the daemon's words and exit 1, and makes nothing") {
    Root root;
    auto slash = create_volume(root.store(), root.volumes(), "a/b", {});
    REQUIRE_FALSE(slash.ok());
    CHECK(slash.error().exit_code == 1);
    CHECK(slash.error().message ==
          "create a/b: \"a/b\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" "
          "are allowed. If you intended to pass a host directory, use absolute path");
    auto short_name = create_volume(root.store(), root.volumes(), "a", {});
    REQUIRE_FALSE(short_name.ok());
    CHECK(short_name.error().message ==
          "create a: volume name is too short, names should be at least two alphanumeric characters");
    auto dots = create_volume(root.store(), root.volumes(), "..", {});
    REQUIRE_FALSE(dots.ok());
    CHECK(root.volumes().list().empty());
    CHECK(events_of(root.path, "volume_create").empty());
}

TEST_CASE("volume actions: volume_user_map lists every container that mounts a volume, in any state, once each") {
    Root root;
    const Store store = root.store();
    std::string running = save_container(store, "web", {volume_mount("data", "/data")}, ContainerState::Running);
    std::string created = save_container(store, "job", {volume_mount("data", "/in"), volume_mount("data", "/again")},
                                         ContainerState::Created);
    MountSpec bind;
    bind.type = MountType::Bind;
    bind.source = "/srv/site";
    bind.target = "/www";
    save_container(store, "site", {bind});
    save_container(store, "plain", {});
    auto users = volume_user_map(store);
    REQUIRE(users.size() == 1);  // a bind's source is no volume
    REQUIRE(users.count("data"));
    auto ids = users["data"];
    std::sort(ids.begin(), ids.end());
    std::vector<std::string> want = {running, created};
    std::sort(want.begin(), want.end());
    CHECK(ids == want);  // the container that mounts data twice counts once
}

TEST_CASE("volume actions: rm is refused while any container uses the volume, with moby's words and the full ids") {
    Root root;
    const Store store = root.store();
    REQUIRE(create_volume(store, root.volumes(), "data", {}).ok());
    std::string id = save_container(store, "stopped", {volume_mount("data", "/data")}, ContainerState::Exited);
    auto refused = remove_volume(store, root.volumes(), "data", false);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().exit_code == 1);
    CHECK(refused.error().message == "remove data: volume is in use - [" + id + "]");
    // -f does not override a user (moby's Remove checks references whatever force says).
    auto forced = remove_volume(store, root.volumes(), "data", true);
    REQUIRE_FALSE(forced.ok());
    CHECK(forced.error().message.find("volume is in use") != std::string::npos);
    CHECK(path_exists(root.path + "/volumes/data/_data"));
    CHECK(events_of(root.path, "volume_destroy").empty());

    // Two users: both ids, in the store's order.
    std::string second = save_container(store, "other", {volume_mount("data", "/x")});
    auto two = remove_volume(store, root.volumes(), "data", false);
    REQUIRE_FALSE(two.ok());
    CHECK(two.error().message.find(id) != std::string::npos);
    CHECK(two.error().message.find(second) != std::string::npos);
    CHECK(two.error().message.find(", ") != std::string::npos);

    // Once the records are gone, it goes, with a destroy event.
    REQUIRE(store.remove_container_dir(id).ok());
    REQUIRE(store.remove_container_dir(second).ok());
    REQUIRE(remove_volume(store, root.volumes(), "data", false).ok());
    CHECK_FALSE(path_exists(root.path + "/volumes/data"));
    auto destroyed = events_of(root.path, "volume_destroy");
    REQUIRE(destroyed.size() == 1);
    CHECK(destroyed[0]["name"] == "data");
}

TEST_CASE("volume actions: rm of an unknown name is the daemon's error, and success with -f") {
    Root root;
    auto missing = remove_volume(root.store(), root.volumes(), "nope", false);
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().exit_code == 1);
    CHECK(missing.error().message == "get nope: no such volume");
    CHECK(remove_volume(root.store(), root.volumes(), "nope", true).ok());
    CHECK(events_of(root.path, "volume_destroy").empty());
}

TEST_CASE("volume actions: prune selects unused anonymous volumes, and named ones only with all") {
    auto vol = [](const std::string& name, bool anonymous, std::map<std::string, std::string> labels = {}) {
        Volume v;
        v.name = name;
        v.anonymous = anonymous;
        v.labels = std::move(labels);
        return v;
    };
    const std::vector<Volume> all = {vol("named", false), vol("used-anon", true), vol("anon", true),
                                     vol("kept", false, {{"keep", "1"}}), vol("used-named", false)};
    const std::map<std::string, std::vector<std::string>> users = {{"used-anon", {"c1"}}, {"used-named", {"c2"}}};
    auto names = [](const std::vector<Volume>& vs) {
        std::vector<std::string> out;
        for (const auto& v : vs) out.push_back(v.name);
        return out;
    };
    CHECK(names(prunable_volumes(all, users, false, nullptr)) == std::vector<std::string>{"anon"});
    CHECK(names(prunable_volumes(all, users, true, nullptr)) == std::vector<std::string>{"anon", "kept", "named"});
    auto not_kept = [](const Volume& v) { return !v.labels.count("keep"); };
    CHECK(names(prunable_volumes(all, users, true, not_kept)) == std::vector<std::string>{"anon", "named"});
    CHECK(prunable_volumes(all, {{"anon", {"c3"}}, {"used-anon", {"c1"}}}, false, nullptr).empty());
}

TEST_CASE("volume actions: prune removes what it selects, counts the bytes, and logs destroy and prune") {
    Root root;
    const Store store = root.store();
    auto anon = create_volume(store, root.volumes(), "", {});
    REQUIRE(anon.ok());
    auto used = create_volume(store, root.volumes(), "", {});
    REQUIRE(used.ok());
    REQUIRE(create_volume(store, root.volumes(), "named", {}).ok());
    save_container(store, "user", {volume_mount(used->name, "/data")});
    REQUIRE(write_file_atomic(anon->mountpoint + "/payload", std::string(10000, 'x'), 0644).ok());
    const int64_t size = root.volumes().size_bytes(anon->name);
    CHECK(size >= 10000);

    auto report = prune_volumes(store, root.volumes(), false, nullptr);
    REQUIRE(report.ok());
    CHECK(report->deleted == std::vector<std::string>{anon->name});
    CHECK(report->reclaimed == static_cast<uint64_t>(size));
    CHECK_FALSE(path_exists(root.path + "/volumes/" + anon->name));
    CHECK(path_exists(root.path + "/volumes/" + used->name));  // in use
    CHECK(path_exists(root.path + "/volumes/named"));          // named: only with all
    auto prune_events = events_of(root.path, "volume_prune");
    REQUIRE(prune_events.size() == 1);
    CHECK(prune_events[0]["reclaimed"] == static_cast<uint64_t>(size));
    CHECK(events_of(root.path, "volume_destroy").size() == 1);

    auto all = prune_volumes(store, root.volumes(), true, nullptr);
    REQUIRE(all.ok());
    CHECK(all->deleted == std::vector<std::string>{"named"});
    CHECK(path_exists(root.path + "/volumes/" + used->name));
}

TEST_CASE("volumes: inspect's Labels and Options are {} after volume create, null for an engine-made volume, as Docker's") {
    Root root;
    auto declared = create_volume(root.store(), root.volumes(), "declared", {});
    REQUIRE(declared.ok());
    json d = volume_inspect_json(*declared);
    CHECK(d["Labels"] == json::object());
    CHECK(d["Options"] == json::object());
    CHECK(d["Driver"] == "local");
    CHECK(d["Scope"] == "local");
    CHECK(d["Name"] == "declared");
    CHECK(d["Mountpoint"] == root.path + "/volumes/declared/_data");
    // CreatedAt: RFC 3339 to the second, as the local driver keeps it.
    const std::string created = d["CreatedAt"];
    CHECK(created.size() == 20);
    CHECK(created.back() == 'Z');
    CHECK(rfc3339_to_unix_ns(created) != 0);

    auto by_run = root.volumes().create("byrun", {}, false);  // what `run -v byrun:/x` makes
    REQUIRE(by_run.ok());
    json r = volume_inspect_json(*by_run);
    CHECK(r["Labels"].is_null());
    CHECK(r["Options"].is_null());

    auto anon = root.volumes().create(random_hex(32), {}, true);
    REQUIRE(anon.ok());
    CHECK(volume_inspect_json(*anon)["Labels"] == json{{kAnonymousVolumeLabel, ""}});
}

TEST_CASE("image config: commit/import --change VOLUME adds Config.Volumes in Docker's shape, keeping what was there") {
    json config = {{"Cmd", {"sh"}}, {"Volumes", {{"/old", json::object()}}}};
    REQUIRE(apply_changes(config, {"VOLUME /data /logs", "VOLUME [\"/json\"]", "ENV D=/x", "VOLUME $D"}).ok());
    CHECK(config["Volumes"] == json{{"/old", json::object()}, {"/data", json::object()}, {"/logs", json::object()},
                                    {"/json", json::object()}, {"/x", json::object()}});
    CHECK(config["Cmd"] == json{"sh"});
    // Docker's list of change commands has ONBUILD: the trigger is stored, as written.
    REQUIRE(apply_changes(config, {"ONBUILD RUN x"}).ok());
    CHECK(config["OnBuild"] == json{"RUN x"});
    auto run = apply_changes(config, {"RUN true"});
    REQUIRE_FALSE(run.ok());
    CHECK(run.error().message.find("VOLUME") != std::string::npos);  // the list of what is valid names it
}
