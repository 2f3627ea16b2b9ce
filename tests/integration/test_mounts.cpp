// Issue 15: data that outlives a container. Volumes, bind mounts, tmpfs and read-only roots on the
// real engine: the data-persistence walkthrough of a Docker book, step by step, and what each
// view of a container (inspect, bundle's config.json, mountinfo) says about its mounts.
#include <doctest/doctest.h>

#include "tests/skip.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "harness.hpp"

using namespace isolab::test;
using namespace std::chrono_literals;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

json inspect(const TempRoot& r, const std::string& name) {
    auto j = json::parse(r.isolab({"inspect", name}).out, nullptr, false);
    return j.is_array() && !j.empty() ? j[0] : json::object();
}

// The directory a test may use on the host, removed when the test ends.
struct HostDir {
    std::string path;
    explicit HostDir(const std::string& name) : path("/tmp/isolab-test-" + name + "-" + std::to_string(::getpid())) {
        fs::remove_all(path);
        fs::create_directories(path);
    }
    ~HostDir() { fs::remove_all(path); }
};

}  // namespace

TEST_CASE("volumes: the walkthrough — a volume outlives rm, a read-only bind serves a host folder, --read-only with --tmpfs /tmp") {
    if (!real_runtime_or_skip()) return;
    TempRoot r;
    // 1. volume create; ls lists it.
    REQUIRE(r.isolab({"volume", "create", "data"}).out == "data\n");
    CHECK(r.isolab({"volume", "ls", "-q"}).out == "data\n");
    // 2. -v NAME:/path mounts it; the container writes into it.
    auto w = r.isolab({"run", "--name", "writer", "--network", "none", "-v", "data:/data", "busybox", "sh", "-c", "echo hi > /data/x"});
    REQUIRE(w.code == 0);
    const std::string data = r.path() + "/volumes/data/_data";
    CHECK(read_text(data + "/x") == "hi\n");
    // 3. rm deletes the container and its writable layer; the volume stays.
    REQUIRE(r.isolab({"rm", "writer"}).code == 0);
    CHECK(fs::exists(data + "/x"));
    // 4. A new container reads it.
    auto rd = r.isolab({"run", "--rm", "--network", "none", "-v", "data:/data", "busybox", "cat", "/data/x"});
    CHECK(rd.code == 0);
    CHECK(rd.out == "hi\n");

    // 5. A host folder served read-only through httpd; a write is refused with the kernel's EROFS.
    HostDir site("site");
    write_text(site.path + "/index.html", "<h1>from the host</h1>\n");
    REQUIRE(r.isolab({"run", "-d", "--name", "web", "--network", "none", "-v", site.path + ":/www:ro", "busybox", "httpd",
                      "-f", "-p", "8080", "-h", "/www"})
                .code == 0);
    std::string page;
    poll_until(10s, [&] {
        page = r.isolab({"exec", "web", "wget", "-qO-", "http://127.0.0.1:8080/"}).out;
        return !page.empty();
    });
    CHECK(page == "<h1>from the host</h1>\n");
    auto write = r.isolab({"exec", "web", "sh", "-c", "echo x > /www/index.html"});
    CHECK(write.code != 0);
    CHECK(write.err.find("Read-only file system") != std::string::npos);
    CHECK(read_text(site.path + "/index.html") == "<h1>from the host</h1>\n");
    // The host sees a change to the folder at once: it is the same directory, not a copy.
    write_text(site.path + "/index.html", "<h1>edited</h1>\n");
    CHECK(r.isolab({"exec", "web", "wget", "-qO-", "http://127.0.0.1:8080/"}).out == "<h1>edited</h1>\n");

    // 6. cp a log out and a config in.
    REQUIRE(r.isolab({"exec", "web", "sh", "-c", "mkdir -p /var/log && echo 'GET / 200' > /var/log/access.log"}).code == 0);
    HostDir here("cp");
    REQUIRE(r.isolab({"cp", "web:/var/log/access.log", here.path + "/"}).code == 0);
    CHECK(read_text(here.path + "/access.log") == "GET / 200\n");
    write_text(here.path + "/httpd.conf", "H:/www\n");
    REQUIRE(r.isolab({"cp", here.path + "/httpd.conf", "web:/etc/httpd.conf"}).code == 0);
    CHECK(r.isolab({"exec", "web", "cat", "/etc/httpd.conf"}).out == "H:/www\n");

    // 7. --read-only with --tmpfs /tmp: /tmp is writable, the rest is EROFS.
    auto ro = r.isolab({"run", "--rm", "--network", "none", "--read-only", "--tmpfs", "/tmp", "busybox", "sh", "-c",
                        "echo ok > /tmp/a && cat /tmp/a; echo no > /etc/z"});
    CHECK(ro.out == "ok\n");
    CHECK(ro.code == 1);
    CHECK(ro.err.find("can't create /etc/z: Read-only file system") != std::string::npos);
    // Without --tmpfs, /tmp is read-only too.
    auto ro_tmp = r.isolab({"run", "--rm", "--network", "none", "--read-only", "busybox", "touch", "/tmp/a"});
    CHECK(ro_tmp.code == 1);
    CHECK(ro_tmp.err.find("Read-only file system") != std::string::npos);
    CHECK(inspect(r, "web")["HostConfig"]["ReadonlyRootfs"] == false);
}

TEST_CASE("volumes: an empty volume is seeded from the image; -v /path and VOLUME make anonymous volumes that rm -v and --rm remove") {
    if (!real_runtime_or_skip()) return;
    TempRoot r;
    // Seeded: busybox's /etc appears in the new volume, owner and mode kept; a second start of a
    // volume that holds something copies nothing over it.
    REQUIRE(r.isolab({"run", "--rm", "--network", "none", "-v", "etcvol:/etc", "busybox", "true"}).code == 0);
    const std::string etc = r.path() + "/volumes/etcvol/_data";
    CHECK(fs::exists(etc + "/passwd"));
    CHECK(read_text(etc + "/passwd").find("root:x:0:0") != std::string::npos);
    REQUIRE(r.isolab({"run", "--rm", "--network", "none", "-v", "etcvol:/etc", "busybox", "sh", "-c", "rm /etc/group"}).code == 0);
    REQUIRE(r.isolab({"run", "--rm", "--network", "none", "-v", "etcvol:/etc", "busybox", "true"}).code == 0);
    CHECK_FALSE(fs::exists(etc + "/group"));  // not seeded again: the volume was not empty
    // nocopy: not seeded.
    REQUIRE(r.isolab({"run", "--rm", "--network", "none", "-v", "bare:/etc:nocopy", "busybox", "true"}).code == 0);
    CHECK(fs::is_empty(r.path() + "/volumes/bare/_data"));

    // -v /path: an anonymous volume, named by 64 hex digits; rm keeps it, rm -v removes it.
    auto count = [&] {
        size_t n = 0;
        for (const auto& e : fs::directory_iterator(r.path() + "/volumes"))
            if (e.path().filename().string().size() == 64) ++n;
        return n;
    };
    REQUIRE(r.isolab({"create", "--name", "a1", "-v", "/scratch", "busybox"}).code == 0);
    auto m = inspect(r, "a1")["Mounts"];
    REQUIRE(m.size() == 1);
    CHECK(m[0]["Type"] == "volume");
    CHECK(m[0]["Name"].get<std::string>().size() == 64);
    CHECK(m[0]["Destination"] == "/scratch");
    CHECK(inspect(r, "a1")["Config"]["Volumes"] == json{{"/scratch", json::object()}});
    CHECK(count() == 1);
    REQUIRE(r.isolab({"rm", "a1"}).code == 0);
    CHECK(count() == 1);  // plain rm keeps it, as Docker
    REQUIRE(r.isolab({"create", "--name", "a2", "-v", "/scratch", "busybox"}).code == 0);
    CHECK(count() == 2);
    REQUIRE(r.isolab({"rm", "-v", "a2"}).code == 0);
    CHECK(count() == 1);
    // --rm takes its anonymous volumes along; a named one stays.
    REQUIRE(r.isolab({"run", "--rm", "--network", "none", "-v", "/scratch", "-v", "kept:/kept", "busybox", "true"}).code == 0);
    CHECK(count() == 1);
    CHECK(fs::exists(r.path() + "/volumes/kept/_data"));
    // The same with -d: the monitor removes the container and its anonymous volume.
    REQUIRE(r.isolab({"run", "-d", "--rm", "--name", "bg", "--network", "none", "-v", "/scratch", "busybox", "true"}).code == 0);
    CHECK(poll_until(10s, [&] { return r.isolab({"inspect", "bg"}).code != 0 && count() == 1; }));

    // The image's VOLUME: an anonymous volume at run, seeded with the image's files there.
    const std::string ctx = r.path() + "/ctx";
    fs::create_directories(ctx);
    write_text(ctx + "/Dockerfile", "FROM busybox\nRUN mkdir /state && echo from-image > /state/seed\nVOLUME /state\n");
    auto b = r.isolab({"build", "-q", "-t", "withvol", ctx});
    REQUIRE(b.code == 0);
    auto v = r.isolab({"run", "--name", "iv", "--network", "none", "withvol", "cat", "/state/seed"});
    CHECK(v.out == "from-image\n");
    auto vm = inspect(r, "iv")["Mounts"];
    REQUIRE(vm.size() == 1);
    CHECK(vm[0]["Destination"] == "/state");
    CHECK(read_text(vm[0]["Source"].get<std::string>() + "/seed") == "from-image\n");
    // A mount of the user's on that target replaces the image's volume.
    REQUIRE(r.isolab({"create", "--name", "iv2", "-v", "mine:/state", "withvol"}).code == 0);
    CHECK(inspect(r, "iv2")["Mounts"].size() == 1);
    CHECK(inspect(r, "iv2")["Mounts"][0]["Name"] == "mine");
}

TEST_CASE("volumes: --mount and --tmpfs, inspect's Mounts/Binds/Tmpfs, bundle's config.json, and rm -f leaves no mount behind") {
    if (!real_runtime_or_skip()) return;
    TempRoot r;
    HostDir src("mountsrc");
    write_text(src.path + "/f", "bound\n");
    REQUIRE(r.isolab({"run", "-d", "--name", "mnt", "--network", "none", "--mount",
                      "type=bind,source=" + src.path + ",target=/b,readonly", "--mount", "type=volume,src=mv,dst=/v",
                      "--mount", "type=tmpfs,target=/t,tmpfs-size=1m,tmpfs-mode=1770", "--tmpfs", "/run:size=2m,exec",
                      "-v", src.path + ":/b2", "busybox", "sleep", "300"})
                .code == 0);
    // What the container sees.
    CHECK(r.isolab({"exec", "mnt", "cat", "/b/f"}).out == "bound\n");
    CHECK(r.isolab({"exec", "mnt", "touch", "/b/g"}).code != 0);
    CHECK(r.isolab({"exec", "mnt", "touch", "/b2/g"}).code == 0);  // -v without :ro is writable
    CHECK(fs::exists(src.path + "/g"));
    auto mounts = r.isolab({"exec", "mnt", "cat", "/proc/mounts"}).out;
    CHECK(mounts.find("tmpfs /t tmpfs rw,nosuid,nodev,noexec,relatime,size=1024k,mode=1770") != std::string::npos);
    CHECK(mounts.find("tmpfs /run tmpfs rw,nosuid,nodev,relatime,size=2048k") != std::string::npos);  // exec cleared noexec

    // inspect, in Docker's places.
    auto j = inspect(r, "mnt");
    CHECK(j["HostConfig"]["Binds"] == json::array({src.path + ":/b2"}));
    CHECK(j["HostConfig"]["Tmpfs"] == json{{"/run", "size=2m,exec"}});
    REQUIRE(j["HostConfig"]["Mounts"].size() == 3);
    CHECK(j["HostConfig"]["Mounts"][0]["Type"] == "bind");
    CHECK(j["HostConfig"]["Mounts"][0]["ReadOnly"] == true);
    REQUIRE(j["Mounts"].size() == 4);  // --tmpfs is not listed there, as in Docker
    CHECK(j["Mounts"][0]["Destination"] == "/b");
    CHECK(j["Mounts"][0]["RW"] == false);
    CHECK(j["Mounts"][0]["Propagation"] == "rprivate");
    CHECK(j["Mounts"][2]["Type"] == "tmpfs");
    CHECK(j["Mounts"][3]["Name"] == "mv");
    CHECK(j["Mounts"][3]["Source"] == r.path() + "/volumes/mv/_data");

    // The OCI bundle carries the same mounts.
    const std::string bundle = r.path() + "/bundle";
    REQUIRE(r.isolab({"bundle", "mnt", bundle}).code == 0);
    auto cfg = json::parse(read_text(bundle + "/config.json"));
    std::map<std::string, json> by_dest;
    for (const auto& e : cfg["mounts"]) by_dest[e["destination"]] = e;
    CHECK(by_dest["/b"]["source"] == src.path);
    CHECK(by_dest["/b"]["options"] == json::array({"rbind", "rprivate", "ro"}));
    CHECK(by_dest["/v"]["source"] == r.path() + "/volumes/mv/_data");
    CHECK(by_dest["/t"]["type"] == "tmpfs");
    CHECK(cfg["root"]["readonly"] == false);

    // rm -f: no mount of this root is left anywhere on the host.
    REQUIRE(r.isolab({"rm", "-f", "mnt"}).code == 0);
    CHECK_FALSE(mounts_mention(r.path()));
    CHECK_FALSE(mounts_mention(src.path));
    // And after a reset, nothing of the root's volumes is left either.
    REQUIRE(r.isolab({"run", "-d", "--name", "m2", "--network", "none", "-v", "mv:/v", "busybox", "sleep", "300"}).code == 0);
    REQUIRE(r.isolab({"system", "reset", "-f"}).code == 0);
    CHECK_FALSE(mounts_mention(r.path()));
    CHECK_FALSE(fs::exists(r.path() + "/volumes/mv"));
}

TEST_CASE("volumes: a missing bind source — --mount refuses it and leaves nothing, -v makes it") {
    if (!real_runtime_or_skip()) return;
    TempRoot r;
    const std::string missing = "/tmp/isolab-test-missing-" + std::to_string(::getpid());
    fs::remove_all(missing);
    auto refused = r.isolab({"run", "--name", "nomnt", "--mount", "type=bind,source=" + missing + ",target=/x", "busybox", "true"});
    CHECK(refused.code == 125);
    CHECK(refused.err.find("invalid mount config for type \"bind\": bind source path does not exist: " + missing) !=
          std::string::npos);
    CHECK(r.isolab({"inspect", "nomnt"}).code != 0);  // no half-created container
    CHECK_FALSE(fs::exists(missing));
    auto made = r.isolab({"run", "--rm", "--network", "none", "-v", missing + ":/x", "busybox", "sh", "-c", "echo in > /x/f"});
    CHECK(made.code == 0);
    CHECK(read_text(missing + "/f") == "in\n");
    fs::remove_all(missing);
    // A relative --mount source is refused with Docker's words; ./ is made absolute, as the CLI does.
    auto rel = r.isolab({"run", "--rm", "--mount", "type=bind,source=site,target=/x", "busybox", "true"});
    CHECK(rel.code == 125);
    CHECK(rel.err.find("invalid mount path: 'site' mount path must be absolute") != std::string::npos);
}

TEST_CASE("volumes: rootless — a named volume and a bind of the user's own folder work; a folder the user cannot read is refused") {
    if (!real_runtime_or_skip()) return;
    auto probe = run_process({"unshare", "--user", "--map-root-user", "true"}, {}, 10000, "", 65534);
    if (probe.code != 0) {
        ISOLAB_SKIP("uid 65534 cannot create a user namespace here (" << probe.err << "): the rootless path cannot run");
        return;
    }
    TempRoot r;
    r.use_private_binaries();
    r.uid = 65534;
    ::chown(r.path().c_str(), 65534, 65534);
    const std::string mine = r.path() + "/mine";
    fs::create_directories(mine);
    ::chown(mine.c_str(), 65534, 65534);
    write_text(mine + "/f", "mine\n");
    ::chown((mine + "/f").c_str(), 65534, 65534);
    auto w = r.isolab({"run", "--rm", "-v", "rl:/data", "-v", mine + ":/mine", "busybox", "sh", "-c",
                       "cat /mine/f && echo kept > /data/x"});
    INFO(w.err);
    CHECK(w.code == 0);
    CHECK(w.out == "mine\n");
    CHECK(r.isolab({"run", "--rm", "-v", "rl:/data", "busybox", "cat", "/data/x"}).out == "kept\n");
    HostDir secret("rootonly");
    ::chmod(secret.path.c_str(), 0700);
    auto refused = r.isolab({"run", "--rm", "-v", secret.path + ":/s", "busybox", "true"});
    CHECK(refused.code == 125);
    CHECK(refused.err.find("is not readable by you") != std::string::npos);
}

TEST_CASE("volumes: diff and commit leave a volume's files out, with an overlay and with a copied root") {
    if (!real_runtime_or_skip()) return;
    TempRoot r;
    for (const std::string mode : {"overlay", "copy"}) {
        CAPTURE(mode);
        const std::string name = "dc-" + mode;
        std::vector<std::string> env;
        if (mode == "copy") env.push_back("ISOLAB_ROOTFS=copy");
        auto run = run_process({r.bin, "--root", r.path(), "run", "--name", name, "--network", "none", "-v", "v-" + mode + ":/data",
                                "busybox", "sh", "-c", "echo v > /data/x; echo l > /layer"},
                               env);
        REQUIRE(run.code == 0);
        // The mount point is the container's; what was written into the volume is not.
        CHECK(r.isolab({"diff", name}).out == "A /data\nA /layer\n");
        REQUIRE(r.isolab({"commit", name, "img-" + mode}).code == 0);
        auto ls = r.isolab({"run", "--rm", "--network", "none", "img-" + mode, "sh", "-c", "cat /layer; ls /data"});
        CHECK(ls.out == "l\n");
    }
}

TEST_CASE("volumes: --volumes-from shares another container's volumes, :ro makes them read-only, an unknown container is refused") {
    if (!real_runtime_or_skip()) return;
    TempRoot r;
    REQUIRE(r.isolab({"create", "--name", "store", "-v", "/dbdata", "-v", "named:/named", "--tmpfs", "/scratch", "busybox"}).code == 0);
    CHECK(r.isolab({"run", "--rm", "--network", "none", "--volumes-from", "store", "busybox", "sh", "-c",
                    "echo a > /dbdata/a && echo b > /named/b"})
              .code == 0);
    auto ro = r.isolab({"run", "--name", "reader", "--network", "none", "--volumes-from", "store:ro", "busybox", "sh", "-c",
                        "cat /dbdata/a /named/b; touch /named/c"});
    CHECK(ro.out == "a\nb\n");
    CHECK(ro.code == 1);
    CHECK(ro.err.find("Read-only file system") != std::string::npos);
    auto j = json::parse(r.isolab({"inspect", "reader"}).out)[0];
    CHECK(j["HostConfig"]["VolumesFrom"] == json::array({"store:ro"}));
    CHECK(j["Mounts"].size() == 2);  // the tmpfs is store's own memory, not shared
    // The anonymous volume is store's: rm -v of the reader keeps it while store uses it.
    const auto anon = inspect(r, "store")["Mounts"][0]["Name"].get<std::string>();
    REQUIRE(r.isolab({"rm", "-v", "reader"}).code == 0);
    CHECK(fs::exists(r.path() + "/volumes/" + anon));
    REQUIRE(r.isolab({"rm", "-v", "store"}).code == 0);
    CHECK_FALSE(fs::exists(r.path() + "/volumes/" + anon));
    CHECK(fs::exists(r.path() + "/volumes/named"));  // named volumes are never removed by rm -v
    auto bad = r.isolab({"run", "--rm", "--volumes-from", "nosuch", "busybox", "true"});
    CHECK(bad.code == 125);
    CHECK(bad.err.find("No such container: nosuch") != std::string::npos);
}
