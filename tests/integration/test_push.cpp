// `isolab push` against a real registry on 127.0.0.1 (Debian's docker-registry, started by each
// case): an image isolab built goes up and skopeo reads the same layers and config, a fresh root
// pulls it back and runs it, a second push finds every layer, a second repository mounts them,
// -a, -q, --platform, htpasswd credentials from config.json, a missing image, and the issue's
// done-when: a real nginx image made from Debian's nginx package, pushed, removed, then
// `run -d -p` pulls it and it answers. Nothing leaves 127.0.0.1.
#include <doctest/doctest.h>

#include "tests/skip.hpp"

#include <unistd.h>

#include <filesystem>
#include <regex>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "harness.hpp"
#include "registry_fixture.hpp"

using namespace isolab::test;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

bool push_or_skip() {
    std::string missing = registry_tools_missing();
    if (!missing.empty()) {
        ISOLAB_SKIP(missing);
        return false;
    }
    return real_runtime_or_skip();
}

json skopeo_json(const LocalRegistry& reg, const std::string& name, const std::string& what) {
    std::vector<std::string> argv{"/usr/bin/skopeo", "inspect", "--tls-verify=false"};
    if (!what.empty()) argv.push_back(what);
    argv.push_back("docker://" + reg.host() + "/" + name);
    auto r = run_process(argv, {}, 30000);
    return json::parse(r.out, nullptr, false);
}

// The image's diff_ids as IsoLab's inspect shows them, lowest first.
std::vector<std::string> diff_ids(const TempRoot& r, const std::string& image) {
    auto j = json::parse(r.isolab({"inspect", "-f", "{{json .RootFS.Layers}}", image}).out, nullptr, false);
    std::vector<std::string> out;
    if (j.is_array())
        for (const auto& d : j) out.push_back(d.get<std::string>());
    return out;
}

// A three-layer image: busybox, a RUN that writes 512 KiB of noise, a COPY.
void build_three_layers(const TempRoot& r, const std::string& tag) {
    const std::string ctx = r.path() + "/ctx";
    write_text(ctx + "/hello.txt", "hello from a pushed image\n");
    write_text(ctx + "/Dockerfile",
               "FROM busybox\n"
               "RUN dd if=/dev/urandom of=/noise bs=1k count=512 2>/dev/null && echo made > /made\n"
               "COPY hello.txt /hello.txt\n"
               "CMD [\"cat\", \"/hello.txt\"]\n");
    auto b = r.isolab({"build", "-q", "-t", tag, ctx}, 120000);
    REQUIRE_MESSAGE(b.code == 0, b.err);
}

std::string manifest_digest(const std::string& push_out) {
    std::smatch m;
    if (!std::regex_search(push_out, m, std::regex(": digest: (sha256:[0-9a-f]{64}) size: [0-9]+\n"))) return "";
    return m[1];
}

std::string b64(const std::string& s) { return run_process({"/usr/bin/openssl", "base64", "-A"}, {}, 10000, s).out; }

}  // namespace

TEST_CASE("push: an image isolab built goes to a local registry; skopeo sees its layers and config; a fresh root pulls and runs it; a second push finds every layer") {
    if (!push_or_skip()) return;
    TempRoot r, fresh;
    ConfigHome home(r.path() + "/config");
    LocalRegistry reg(r.path() + "/registry");
    REQUIRE(reg.up());
    const std::string name = reg.host() + "/app";
    build_three_layers(r, "app:v1");
    REQUIRE(r.isolab({"tag", "app:v1", name + ":v1"}).code == 0);
    const auto ids = diff_ids(r, name + ":v1");
    REQUIRE(ids.size() == 3);

    auto push = r.isolab({"push", name + ":v1"});
    REQUIRE_MESSAGE(push.code == 0, push.err);
    CHECK(push.err.empty());
    // Piped: Docker's status lines, the top layer first, no progress bars.
    std::string expected = "The push refers to repository \\[" + reg.host() + "/app\\]\n";
    for (int i = 2; i >= 0; --i) expected += ids[i].substr(7, 12) + ": Preparing\n";
    for (int i = 2; i >= 0; --i) expected += ids[i].substr(7, 12) + ": Pushed\n";
    expected += "v1: digest: sha256:[0-9a-f]{64} size: [0-9]+\n";
    CHECK_MESSAGE(std::regex_match(push.out, std::regex(expected)), push.out);
    CHECK(push.out.find("Pushing") == std::string::npos);
    const std::string digest = manifest_digest(push.out);
    REQUIRE(!digest.empty());

    // skopeo, not IsoLab, reads what the registry holds: a Docker schema 2 manifest with gzip
    // layers, the same diff_ids and the config IsoLab has (same id).
    auto raw = skopeo_json(reg, "app:v1", "--raw");
    REQUIRE(raw.is_object());
    CHECK(raw["mediaType"] == "application/vnd.docker.distribution.manifest.v2+json");
    CHECK(raw["config"]["mediaType"] == "application/vnd.docker.container.image.v1+json");
    REQUIRE(raw["layers"].size() == 3);
    for (const auto& l : raw["layers"]) CHECK(l["mediaType"] == "application/vnd.docker.image.rootfs.diff.tar.gzip");
    auto cfg = skopeo_json(reg, "app:v1", "--config");
    REQUIRE(cfg.is_object());
    CHECK(cfg["rootfs"]["diff_ids"] == json(ids));
    CHECK(cfg["config"]["Cmd"] == json({"cat", "/hello.txt"}));
    const std::string image_id = first_line(r.isolab({"inspect", "-f", "{{.Id}}", name + ":v1"}).out);
    CHECK(raw["config"]["digest"] == image_id);
    auto info = skopeo_json(reg, "app:v1", "");
    CHECK(info["Digest"] == digest);
    // The push's digest is the image's RepoDigest, as after a pull.
    CHECK(r.isolab({"inspect", "-f", "{{json .RepoDigests}}", name + ":v1"}).out.find(name + "@" + digest) !=
          std::string::npos);

    // A fresh root pulls it back: same image id, and it runs.
    auto pulled = fresh.isolab({"pull", name + ":v1"});
    REQUIRE_MESSAGE(pulled.code == 0, pulled.err);
    CHECK(pulled.out.find("Digest: " + digest + "\n") != std::string::npos);
    CHECK(first_line(fresh.isolab({"inspect", "-f", "{{.Id}}", name + ":v1"}).out) == image_id);
    auto run = fresh.isolab({"run", "--rm", name + ":v1"});
    CHECK(run.code == 0);
    CHECK(run.out == "hello from a pushed image\n");

    // Pushed again: every layer is already there, the manifest is the same bytes (same digest).
    auto again = r.isolab({"push", name + ":v1"});
    REQUIRE_MESSAGE(again.code == 0, again.err);
    for (const auto& id : ids) CHECK(again.out.find(id.substr(7, 12) + ": Layer already exists\n") != std::string::npos);
    CHECK(again.out.find("Pushed") == std::string::npos);
    CHECK(manifest_digest(again.out) == digest);
    // The fresh root pushes the pulled image back under another tag: the layers are the blobs it
    // was pulled as (nothing compressed or sent), and the manifest is byte for byte the same.
    auto back = fresh.isolab({"tag", name + ":v1", name + ":back"});
    REQUIRE(back.code == 0);
    auto pushed_back = fresh.isolab({"push", name + ":back"});
    REQUIRE_MESSAGE(pushed_back.code == 0, pushed_back.err);
    CHECK(pushed_back.out.find("Pushed") == std::string::npos);
    CHECK(manifest_digest(pushed_back.out) == digest);

    // -q: only the full name; a name alone is :latest (Docker's default tag line when not quiet).
    auto quiet = r.isolab({"push", "-q", name + ":v1"});
    CHECK(quiet.code == 0);
    CHECK(quiet.out == name + ":v1\n");
    REQUIRE(r.isolab({"tag", "app:v1", name}).code == 0);
    auto latest = r.isolab({"push", name});
    CHECK(latest.code == 0);
    CHECK(latest.out.rfind("Using default tag: latest\nThe push refers to repository [" + name + "]\n", 0) == 0);
    CHECK(latest.out.find("latest: digest: " + digest) != std::string::npos);
}

TEST_CASE("push: a second repository of the same registry mounts the layers; -a pushes every tag; a tag with -a is refused") {
    if (!push_or_skip()) return;
    TempRoot r;
    ConfigHome home(r.path() + "/config");
    LocalRegistry reg(r.path() + "/registry");
    REQUIRE(reg.up());
    build_three_layers(r, "app:v1");
    const auto ids = diff_ids(r, "app:v1");
    REQUIRE(ids.size() == 3);
    REQUIRE(r.isolab({"tag", "app:v1", reg.host() + "/first:v1"}).code == 0);
    REQUIRE(r.isolab({"push", reg.host() + "/first:v1"}).code == 0);

    REQUIRE(r.isolab({"tag", "app:v1", reg.host() + "/second:v1"}).code == 0);
    auto second = r.isolab({"push", reg.host() + "/second:v1"});
    REQUIRE_MESSAGE(second.code == 0, second.err);
    for (const auto& id : ids) CHECK(second.out.find(id.substr(7, 12) + ": Mounted from first\n") != std::string::npos);
    CHECK(second.out.find("Pushed") == std::string::npos);
    // The registry's own log names the mount requests; skopeo reads the image in the new repository.
    CHECK(reg.log().find("mount=") != std::string::npos);
    auto cfg = skopeo_json(reg, "second:v1", "--config");
    CHECK(cfg["rootfs"]["diff_ids"] == json(ids));

    // -a: every local tag of the repository, in name order, each with its digest line.
    REQUIRE(r.isolab({"tag", "busybox", reg.host() + "/second:bb"}).code == 0);
    auto all = r.isolab({"push", "-a", reg.host() + "/second"});
    REQUIRE_MESSAGE(all.code == 0, all.err);
    CHECK(all.out.find("Using default tag") == std::string::npos);
    size_t bb = all.out.find("bb: digest: sha256:");
    size_t v1 = all.out.find("v1: digest: sha256:");
    CHECK(bb != std::string::npos);
    CHECK(v1 != std::string::npos);
    CHECK(bb < v1);
    auto tags = skopeo_json(reg, "second:bb", "");
    CHECK(tags["RepoTags"] == json({"bb", "v1"}));
    auto with_tag = r.isolab({"push", "--all-tags", reg.host() + "/second:v1"});
    CHECK(with_tag.code == 1);
    CHECK(with_tag.err == "tag can't be used with --all-tags/-a\n");
}

TEST_CASE("push: htpasswd credentials from config.json push; none and a missing image fail with Docker's words and send nothing") {
    if (!push_or_skip()) return;
    if (::access("/usr/bin/htpasswd", X_OK) != 0) {
        ISOLAB_SKIP("htpasswd (apache2-utils) is missing");
        return;
    }
    TempRoot r;
    ConfigHome home(r.path() + "/config");
    auto pw = run_process({"/usr/bin/htpasswd", "-Bbn", "alice", "s3cret"});
    REQUIRE(pw.code == 0);
    write_text(r.path() + "/htpasswd", pw.out);
    LocalRegistry reg(r.path() + "/registry", {"", "", r.path() + "/htpasswd"});
    REQUIRE(reg.up());
    const std::string name = reg.host() + "/private";
    REQUIRE(r.isolab({"tag", "busybox", name + ":v1"}).code == 0);
    const std::string repo_dir = reg.dir() + "/data/docker/registry/v2/repositories";

    auto anonymous = r.isolab({"push", name + ":v1"});
    CHECK(anonymous.code == 1);
    CHECK(anonymous.out == "The push refers to repository [" + name + "]\n");
    CHECK(anonymous.err.find("no basic auth credentials") != std::string::npos);
    CHECK(!fs::exists(repo_dir + "/private"));

    write_text(home.isolab_dir() + "/config.json", "{\"auths\":{\"" + reg.host() + "\":{\"auth\":\"" + b64("alice:wrong") + "\"}}}\n");
    auto wrong = r.isolab({"push", name + ":v1"});
    CHECK(wrong.code == 1);
    CHECK(wrong.err == "unauthorized: authentication required\n");

    write_text(home.isolab_dir() + "/config.json", "{\"auths\":{\"" + reg.host() + "\":{\"auth\":\"" + b64("alice:s3cret") + "\"}}}\n");
    auto good = r.isolab({"push", name + ":v1"});
    CHECK_MESSAGE(good.code == 0, good.err);
    auto check = run_process({"/usr/bin/skopeo", "inspect", "--tls-verify=false", "--creds", "alice:s3cret",
                              "docker://" + name + ":v1"});
    CHECK_MESSAGE(check.code == 0, check.err);

    // An image this store does not have: Docker's words after the first line, exit 1, and the
    // registry is not asked for anything (its repositories are only the one pushed above).
    auto missing = r.isolab({"push", reg.host() + "/nothere:v1"});
    CHECK(missing.code == 1);
    CHECK(missing.out == "The push refers to repository [" + reg.host() + "/nothere]\n");
    CHECK(missing.err == "An image does not exist locally with the tag: " + reg.host() + "/nothere\n");
    auto no_tag = r.isolab({"push", name + ":v2"});
    CHECK(no_tag.code == 1);
    CHECK(no_tag.err == "tag does not exist: " + name + ":v2\n");
    std::set<std::string> repos;
    for (const auto& e : fs::directory_iterator(repo_dir)) repos.insert(e.path().filename().string());
    CHECK(repos == std::set<std::string>{"private"});
}

TEST_CASE("push: --platform must be the image's; --disable-content-trust=false is refused with what to do") {
    if (!push_or_skip()) return;
    TempRoot r;
    ConfigHome home(r.path() + "/config");
    LocalRegistry reg(r.path() + "/registry");
    REQUIRE(reg.up());
    const std::string name = reg.host() + "/plat:v1";
    REQUIRE(r.isolab({"tag", "busybox", name}).code == 0);
    const std::string arch = first_line(r.isolab({"inspect", "-f", "{{.Architecture}}", name}).out);
    const std::string other = arch == "arm64" ? "amd64" : "arm64";

    auto wrong = r.isolab({"push", "--platform", "linux/" + other, name});
    CHECK(wrong.code == 1);
    CHECK(wrong.err == "Error response from daemon: image with reference " + name +
                           " was found but does not match the specified platform: wanted linux/" + other +
                           ", actual: linux/" + arch + "\n");
    auto right = r.isolab({"push", "--platform", "linux/" + arch, name});
    CHECK_MESSAGE(right.code == 0, right.err);
    CHECK(right.out.find(" Info -> Using --platform pushes only the specified platform manifest") != std::string::npos);
    CHECK(right.out.find("v1: digest: sha256:") != std::string::npos);

    auto trust = r.isolab({"push", "--disable-content-trust=false", name});
    CHECK(trust.code == 1);
    CHECK(trust.err.find("--disable-content-trust=false") != std::string::npos);
    CHECK(trust.out.empty());
    CHECK(r.isolab({"push", "--disable-content-trust", name}).code == 0);
}

// The issue's done-when: `isolab run -d -p 18090:80 <registry>/nginx` answers. The image is a real
// nginx (Debian's nginx-light binary, its shared libraries from ldd, a config in /etc/nginx, a
// www-data user the workers switch to by name, an entrypoint script that execs "$@"), with the
// official image's CMD, EXPOSE and STOPSIGNAL, in three layers, built FROM scratch by isolab.
TEST_CASE("push: a real nginx image built from Debian's package, pushed, removed, then run -d -p pulls it and it answers") {
    if (!push_or_skip()) return;
    if (::access("/usr/sbin/nginx", X_OK) != 0 || ::access("/usr/bin/ldd", X_OK) != 0) {
        ISOLAB_SKIP("/usr/sbin/nginx is missing (tools/setup.sh --test installs nginx-light)");
        return;
    }
    TempRoot r;
    ConfigHome home(r.path() + "/config");
    LocalRegistry reg(r.path() + "/registry");
    REQUIRE(reg.up());

    // Layer 1: the shared libraries and a busybox for the entrypoint's /bin/sh.
    const std::string ctx = r.path() + "/nginx";
    auto ldd = run_process({"/usr/bin/ldd", "/usr/sbin/nginx"});
    REQUIRE(ldd.code == 0);
    std::istringstream lines(ldd.out);
    int libs = 0;
    for (std::string l; std::getline(lines, l);) {
        std::smatch m;
        if (!std::regex_search(l, m, std::regex(R"((/\S+) \(0x)"))) continue;
        const std::string lib = m[1];
        fs::create_directories(ctx + "/libs" + fs::path(lib).parent_path().string());
        fs::copy_file(fs::canonical(lib), ctx + "/libs" + lib);
        ++libs;
    }
    REQUIRE(libs >= 3);  // libc, the loader, and nginx's own (pcre, ssl, zlib, ...)
    fs::create_directories(ctx + "/libs/bin");
    fs::copy_file("/bin/busybox", ctx + "/libs/bin/busybox");
    fs::create_symlink("busybox", ctx + "/libs/bin/sh");
    // Layer 2: nginx, its config and a page.
    fs::create_directories(ctx + "/app/usr/sbin");
    fs::copy_file("/usr/sbin/nginx", ctx + "/app/usr/sbin/nginx");
    fs::create_directories(ctx + "/app/etc/nginx");
    fs::copy_file("/etc/nginx/mime.types", ctx + "/app/etc/nginx/mime.types");
    write_text(ctx + "/app/etc/nginx/nginx.conf",
               "user www-data;\nworker_processes 1;\npid /run/nginx.pid;\nerror_log /dev/stderr notice;\n"
               "events { worker_connections 64; }\n"
               "http {\n  include /etc/nginx/mime.types;\n  access_log /dev/stdout;\n"
               "  server {\n    listen 80;\n    root /usr/share/nginx/html;\n  }\n}\n");
    write_text(ctx + "/app/usr/share/nginx/html/index.html", "<h1>nginx from a registry, run by IsoLab</h1>\n");
    for (const char* d : {"/app/var/log/nginx", "/app/var/lib/nginx", "/app/run", "/app/tmp"})
        fs::create_directories(ctx + d);
    // Layer 3: the users (nginx switches its workers to www-data by name) and the entrypoint.
    write_text(ctx + "/users/etc/passwd", "root:x:0:0:root:/root:/bin/sh\nwww-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\n");
    write_text(ctx + "/users/etc/group", "root:x:0:\nwww-data:x:33:\n");
    write_text(ctx + "/users/docker-entrypoint.sh", "#!/bin/sh\nset -e\necho \"entrypoint: starting $1\" >&2\nexec \"$@\"\n");
    fs::permissions(ctx + "/users/docker-entrypoint.sh", fs::perms(0755));
    write_text(ctx + "/Dockerfile",
               "FROM scratch\nCOPY libs/ /\nCOPY app/ /\nCOPY users/ /\n"
               "ENTRYPOINT [\"/docker-entrypoint.sh\"]\nEXPOSE 80\nSTOPSIGNAL SIGQUIT\n"
               "CMD [\"nginx\", \"-g\", \"daemon off;\"]\n");
    const std::string name = reg.host() + "/nginx";
    auto built = r.isolab({"build", "-q", "-t", name, ctx}, 120000);
    REQUIRE_MESSAGE(built.code == 0, built.err);
    CHECK(diff_ids(r, name).size() == 3);
    auto pushed = r.isolab({"push", name});
    REQUIRE_MESSAGE(pushed.code == 0, pushed.err);
    REQUIRE(r.isolab({"rmi", name}).code == 0);
    CHECK(r.isolab({"images", "-q", name}).out.empty());

    int port = 18090;
    if (local_port_open(port)) {
        port = free_local_port();
        MESSAGE("port 18090 is busy on this machine: the case uses " << port);
    }
    auto run = r.isolab({"run", "-d", "--name", "web", "-p", std::to_string(port) + ":80", name}, 120000);
    REQUIRE_MESSAGE(run.code == 0, run.err);
    CHECK(run.err.find("Unable to find image '" + name + ":latest' locally\n") != std::string::npos);
    CHECK(run.err.find("Status: Downloaded newer image for " + name + ":latest\n") != std::string::npos);
    CHECK(poll_until(std::chrono::seconds(15), [&] { return local_port_open(port); }));
    CmdResult page;
    poll_until(std::chrono::seconds(10), [&] {
        page = run_process({"/bin/busybox", "wget", "-q", "-O", "-", "http://127.0.0.1:" + std::to_string(port) + "/"}, {},
                           5000);
        return page.code == 0;
    });
    CHECK(page.code == 0);  // busybox wget exits 0 only on a 2xx answer
    CHECK(page.out == "<h1>nginx from a registry, run by IsoLab</h1>\n");
    // The worker runs as www-data (found by name in the image's /etc/passwd), the master as root.
    auto ps = r.isolab({"exec", "web", "/bin/busybox", "ps", "-o", "user,args"});
    CHECK_MESSAGE(std::regex_search(ps.out, std::regex("www-data +nginx: worker process")), ps.out, ps.err);
    CHECK_MESSAGE(std::regex_search(ps.out, std::regex("root +nginx: master process")), ps.out);

    // The official image's settings, as inspect shows them.
    // No User, as the official image: the master runs as root and switches its workers itself.
    auto config = json::parse(r.isolab({"inspect", "-f", "{{json .Config}}", name}).out, nullptr, false);
    REQUIRE(config.is_object());
    CHECK(config.value("User", std::string()) == "");
    CHECK(config["Entrypoint"] == json({"/docker-entrypoint.sh"}));
    CHECK(config["Cmd"] == json({"nginx", "-g", "daemon off;"}));
    CHECK(first_line(r.isolab({"inspect", "-f", "{{json .Config.ExposedPorts}}", name}).out) == "{\"80/tcp\":{}}");
    CHECK(first_line(r.isolab({"inspect", "-f", "{{.Config.StopSignal}}", name}).out) == "SIGQUIT");
    // stop sends SIGQUIT: nginx says so in its log and shuts down gracefully (exit 0).
    CHECK(r.isolab({"stop", "web"}).code == 0);
    auto logs = r.isolab({"logs", "web"});
    CHECK(logs.err.find("entrypoint: starting nginx") != std::string::npos);
    CHECK(logs.err.find("signal 3 (SIGQUIT) received") != std::string::npos);
    CHECK(first_line(r.isolab({"inspect", "-f", "{{.State.ExitCode}}", "web"}).out) == "0");
}
