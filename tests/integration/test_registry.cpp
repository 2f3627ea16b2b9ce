// `isolab pull` against a real registry on 127.0.0.1 (Debian's docker-registry), filled with
// `skopeo copy` from archives `isolab save` wrote: progress in Docker's words, the image usable by
// images/history/run, run's implicit pull and --pull, a two-platform index, a corrupted blob,
// kill -9 mid-pull, TLS with the test's own CA, and htpasswd Basic auth. Nothing leaves 127.0.0.1.
#include <doctest/doctest.h>

#include "tests/skip.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "harness.hpp"
#include "registry_fixture.hpp"
#include "tiny_registry.hpp"
#include "sim/engine/layer_archive.hpp"

using namespace isolab::test;
namespace fs = std::filesystem;

namespace {

bool registry_or_skip() {
    std::string missing = registry_tools_missing();
    if (!missing.empty()) {
        ISOLAB_SKIP(missing);
        return false;
    }
    return real_runtime_or_skip();
}

std::set<std::string> dir_names(const std::string& dir) {
    std::set<std::string> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) out.insert(e.path().filename().string());
    return out;
}

// The manifest a registry serves for NAME, through skopeo (not through IsoLab's own client).
nlohmann::json raw_manifest(const LocalRegistry& reg, const std::string& name) {
    auto r = run_process({"/usr/bin/skopeo", "inspect", "--raw", "--tls-verify=false", "docker://" + reg.host() + "/" + name});
    return nlohmann::json::parse(r.out, nullptr, false);
}

std::string sha256_of(const std::string& bytes) {
    isolab::Sha256Stream h;
    h.update(bytes);
    return "sha256:" + h.hex();
}

// Writes a manifest (or index) straight into the registry's file system storage under REPO:TAG,
// the way the registry itself stores a PUT: the blob, a revision link, the tag's links.
std::string store_manifest(const LocalRegistry& reg, const std::string& repo, const std::string& tag,
                           const std::string& bytes) {
    std::string digest = sha256_of(bytes);
    std::string hex = digest.substr(7);
    write_text(reg.blob_file(digest), bytes);
    std::string r = reg.dir() + "/data/docker/registry/v2/repositories/" + repo + "/_manifests";
    write_text(r + "/revisions/sha256/" + hex + "/link", digest);
    write_text(r + "/tags/" + tag + "/current/link", digest);
    write_text(r + "/tags/" + tag + "/index/sha256/" + hex + "/link", digest);
    return digest;
}

// An image whose /platform says WORD, committed from busybox.
void make_marked_image(const TempRoot& r, const std::string& word, const std::string& tag) {
    REQUIRE(r.isolab({"run", "--name", "mark-" + word, "busybox", "sh", "-c", "echo " + word + " > /platform"}).code == 0);
    REQUIRE(r.isolab({"commit", "mark-" + word, tag}).code == 0);
    REQUIRE(r.isolab({"rm", "mark-" + word}).code == 0);
}

}  // namespace

TEST_CASE("registry: pull from a local registry, then images, history and run use the image") {
    if (!registry_or_skip()) return;
    TempRoot src, r;
    ConfigHome home(r.path() + "/config");
    LocalRegistry reg(r.path() + "/registry");
    REQUIRE(reg.up());
    auto pushed = push_with_skopeo(src, "busybox", reg, "busybox:latest");
    REQUIRE_MESSAGE(pushed.code == 0, pushed.err);
    const std::string name = reg.host() + "/busybox";

    auto pull = r.isolab({"pull", name});
    REQUIRE_MESSAGE(pull.code == 0, pull.err);
    // Piped: Docker's status lines, no progress bars, then Digest, Status and the full name.
    const std::regex kPulled("Using default tag: latest\n"
                             "latest: Pulling from busybox\n"
                             "([0-9a-f]{12}): Pulling fs layer\n"
                             "\\1: Verifying Checksum\n"
                             "\\1: Download complete\n"
                             "\\1: Pull complete\n"
                             "Digest: sha256:[0-9a-f]{64}\n"
                             "Status: Downloaded newer image for " + reg.host() + "/busybox:latest\n" +
                             reg.host() + "/busybox:latest\n");
    CHECK_MESSAGE(std::regex_match(pull.out, kPulled), pull.out);
    CHECK(pull.out.find("Downloading") == std::string::npos);
    CHECK(pull.err.empty());

    // The same image id as the source's busybox: the config's bytes came through unchanged.
    auto src_id = first_line(src.isolab({"images", "-q", "busybox"}).out);
    auto images = r.isolab({"images", name});
    CHECK(images.out.find(reg.host() + "/busybox   latest   " + src_id) != std::string::npos);
    CHECK(r.isolab({"history", name}).out.find("isolab: CMD [\"sh\"]") != std::string::npos);
    auto run = r.isolab({"run", "--rm", name, "echo", "pulled"});
    CHECK(run.code == 0);
    CHECK(run.out == "pulled\n");

    // The manifest digest is the image's RepoDigest: images --digests, inspect, name@digest.
    std::smatch dm;
    REQUIRE(std::regex_search(pull.out, dm, std::regex("Digest: (sha256:[0-9a-f]{64})")));
    const std::string digest = dm[1];
    CHECK(r.isolab({"images", "--digests", name}).out.find("latest   " + digest + "   " + src_id) != std::string::npos);
    CHECK(r.isolab({"inspect", "-f", "{{json .RepoDigests}}", name}).out == "[\"" + name + "@" + digest + "\"]\n");
    CHECK(r.isolab({"run", "--rm", name + "@" + digest, "echo", "by digest"}).out == "by digest\n");
    auto by_digest = r.isolab({"pull", name + "@" + digest});
    CHECK(by_digest.code == 0);
    CHECK(by_digest.out.find("Status: Image is up to date for " + name + "@" + digest + "\n") != std::string::npos);

    auto again = r.isolab({"pull", name + ":latest"});
    CHECK(again.code == 0);
    CHECK(again.out.find("Status: Image is up to date for " + reg.host() + "/busybox:latest\n") != std::string::npos);
    auto quiet = r.isolab({"pull", "-q", name});
    CHECK(quiet.code == 0);
    CHECK(quiet.out == reg.host() + "/busybox:latest\n");
    // Verified downloads are removed once the image is in the store.
    CHECK(dir_names(r.path() + "/images/pull").empty());

    // Docker's words for a missing tag and a refused name; exit 1.
    auto missing = r.isolab({"pull", name + ":nope"});
    CHECK(missing.code == 1);
    CHECK(missing.err == "Error response from daemon: manifest for " + reg.host() +
                             "/busybox:nope not found: manifest unknown: manifest unknown\n");
    auto upper = r.isolab({"pull", "Nginx"});
    CHECK(upper.code == 1);
    CHECK(upper.err == "invalid reference format: repository name (library/Nginx) must be lowercase\n");
    // Nothing listens on this port: the registry is named, nothing is stored.
    auto refused = r.isolab({"pull", "127.0.0.1:" + std::to_string(free_local_port()) + "/busybox"});
    CHECK(refused.code == 1);
    CHECK(refused.err.find("connect: connection refused") != std::string::npos);
    auto offline = r.isolab({"pull", "registry.invalid/busybox"});
    CHECK(offline.code == 1);
    CHECK(offline.err.find("cannot reach registry registry.invalid") != std::string::npos);
    CHECK(offline.err.find("IsoLab works offline with `busybox`, `isolab build` and `isolab load`") != std::string::npos);
}

TEST_CASE("registry: run and create pull a missing image first; --pull always and never") {
    if (!registry_or_skip()) return;
    TempRoot src, r;
    ConfigHome home(r.path() + "/config");
    LocalRegistry reg(r.path() + "/registry");
    REQUIRE(reg.up());
    REQUIRE(push_with_skopeo(src, "busybox", reg, "tools/box:v1").code == 0);
    const std::string name = reg.host() + "/tools/box:v1";

    auto never = r.isolab({"run", "--rm", "--pull", "never", name, "true"});
    CHECK(never.code == 125);
    CHECK(never.err.find("No such image: " + name) != std::string::npos);

    auto run = r.isolab({"run", "--rm", name, "echo", "ran"});
    REQUIRE_MESSAGE(run.code == 0, run.err);
    CHECK(run.out == "ran\n");
    // Docker's client: the line, then the pull's progress, all on stderr.
    CHECK(run.err.rfind("Unable to find image '" + name + "' locally\nv1: Pulling from tools/box\n", 0) == 0);
    CHECK(run.err.find("Status: Downloaded newer image for " + name + "\n") != std::string::npos);

    auto always = r.isolab({"create", "--pull", "always", name, "true"});
    CHECK(always.code == 0);
    CHECK(always.err.find("Unable to find image") == std::string::npos);
    CHECK(always.err.find("Status: Image is up to date for " + name + "\n") != std::string::npos);

    auto gone = r.isolab({"run", "--rm", reg.host() + "/tools/none", "true"});
    CHECK(gone.code == 125);
    CHECK(gone.err.find("manifest unknown") != std::string::npos);
}

TEST_CASE("registry: pull --platform picks one image from a two-platform index") {
    if (!registry_or_skip()) return;
    TempRoot src, r;
    ConfigHome home(r.path() + "/config");
    LocalRegistry reg(r.path() + "/registry");
    REQUIRE(reg.up());
    make_marked_image(src, "amd64", "multi:amd");
    make_marked_image(src, "arm64", "multi:arm");
    REQUIRE(push_with_skopeo(src, "multi:amd", reg, "multi:amd").code == 0);
    REQUIRE(push_with_skopeo(src, "multi:arm", reg, "multi:arm").code == 0);
    nlohmann::json index = {{"schemaVersion", 2}, {"mediaType", "application/vnd.oci.image.index.v1+json"}};
    index["manifests"] = nlohmann::json::array();
    for (auto [tag, arch] : {std::pair{"arm", "arm64"}, std::pair{"amd", "amd64"}}) {
        auto m = run_process({"/usr/bin/skopeo", "inspect", "--raw", "--tls-verify=false",
                              "docker://" + reg.host() + "/multi:" + tag});
        REQUIRE(m.code == 0);
        index["manifests"].push_back({{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                                      {"digest", sha256_of(m.out)},
                                      {"size", m.out.size()},
                                      {"platform", {{"os", "linux"}, {"architecture", arch}}}});
    }
    const std::string index_digest = store_manifest(reg, "multi", "latest", index.dump());
    const std::string name = reg.host() + "/multi";

    auto host = r.isolab({"pull", name});
    REQUIRE_MESSAGE(host.code == 0, host.err);
    CHECK(host.out.find("Digest: " + index_digest + "\n") != std::string::npos);  // the index's digest, as Docker
    CHECK(r.isolab({"run", "--rm", name, "cat", "/platform"}).out == "amd64\n");

    auto arm = r.isolab({"pull", "--platform", "linux/arm64", name});
    REQUIRE_MESSAGE(arm.code == 0, arm.err);
    CHECK(arm.out.find("Status: Downloaded newer image for " + name + ":latest\n") != std::string::npos);
    CHECK(r.isolab({"run", "--rm", name, "cat", "/platform"}).out == "arm64\n");

    auto none = r.isolab({"pull", "--platform", "linux/s390x", name});
    CHECK(none.code == 1);
    CHECK(none.err.find("no matching manifest for linux/s390x in the manifest list entries") != std::string::npos);
}

TEST_CASE("registry: gzip and zstd layers are unpacked by libarchive and keep their diff_ids") {
    if (!registry_or_skip()) return;
    TempRoot src, r;
    ConfigHome home(r.path() + "/config");
    make_marked_image(src, "packed", "packed:v1");
    for (auto [tag, format] : {std::pair{"gz", "gzip"}, std::pair{"zs", "zstd"}}) {
        INFO(std::string(format));
        // A registry per format: skopeo would otherwise reuse the blobs it compressed for the
        // first one (its blob-info cache is per registry).
        LocalRegistry reg(r.path() + "/registry-" + tag);
        REQUIRE(reg.up());
        auto pushed = push_with_skopeo(src, "packed:v1", reg, std::string("packed:") + tag, "", "",
                                       {"--dest-compress", std::string("--dest-compress-format=") + format});
        REQUIRE_MESSAGE(pushed.code == 0, pushed.err);
        auto manifest = raw_manifest(reg, std::string("packed:") + tag);
        REQUIRE(manifest.is_object());
        INFO(manifest.dump());
        for (const auto& l : manifest["layers"])
            CHECK(l["mediaType"].get<std::string>().find(std::string("+") + format) != std::string::npos);
        const std::string name = reg.host() + "/packed:" + tag;
        auto pull = r.isolab({"pull", name});
        REQUIRE_MESSAGE(pull.code == 0, pull.err);
        CHECK(r.isolab({"run", "--rm", name, "cat", "/platform"}).out == "packed\n");
        // The same config (same diff_ids) as the source: the image id is unchanged.
        CHECK(first_line(r.isolab({"images", "-q", name}).out) == first_line(src.isolab({"images", "-q", "packed:v1"}).out));
    }
}

TEST_CASE("registry: pull -a pulls every tag of the repository; a tag with -a is refused") {
    if (!registry_or_skip()) return;
    TempRoot src, r;
    ConfigHome home(r.path() + "/config");
    LocalRegistry reg(r.path() + "/registry");
    REQUIRE(reg.up());
    make_marked_image(src, "second", "second:v1");
    REQUIRE(push_with_skopeo(src, "busybox", reg, "allt:one").code == 0);
    REQUIRE(push_with_skopeo(src, "second:v1", reg, "allt:two").code == 0);
    const std::string repo = reg.host() + "/allt";

    auto tagged = r.isolab({"pull", "-a", repo + ":one"});
    CHECK(tagged.code == 1);
    CHECK(tagged.err == "tag can't be used with --all-tags/-a\n");

    auto all = r.isolab({"pull", "--all-tags", repo});
    REQUIRE_MESSAGE(all.code == 0, all.err);
    CHECK(all.out.find("one: Pulling from allt\n") != std::string::npos);
    CHECK(all.out.find("two: Pulling from allt\n") != std::string::npos);
    CHECK(all.out.find("Status: Downloaded newer image for " + repo + "\n" + repo + "\n") != std::string::npos);
    CHECK(r.isolab({"run", "--rm", repo + ":two", "cat", "/platform"}).out == "second\n");
    CHECK_FALSE(r.isolab({"images", "-q", repo + ":one"}).out.empty());
    auto again = r.isolab({"pull", "-a", repo});
    CHECK(again.out.find("Status: Image is up to date for " + repo + "\n") != std::string::npos);
}

TEST_CASE("registry: a docker.io name comes through a registry-mirrors entry of daemon.json") {
    if (!registry_or_skip()) return;
    TempRoot src, r;
    ConfigHome home(r.path() + "/config");
    LocalRegistry mirror(r.path() + "/mirror");
    REQUIRE(mirror.up());
    // A mirror serves Docker Hub's paths: docker.io/mirrored/thing is mirrored/thing there.
    REQUIRE(push_with_skopeo(src, "busybox", mirror, "mirrored/thing:latest").code == 0);
    write_text(home.isolab_dir() + "/daemon.json", "{\"registry-mirrors\": [\"http://" + mirror.host() + "\"]}\n");
    auto pull = r.isolab({"pull", "mirrored/thing"});
    REQUIRE_MESSAGE(pull.code == 0, pull.err);
    CHECK(pull.out.find("latest: Pulling from mirrored/thing\n") != std::string::npos);
    CHECK(pull.out.find("Status: Downloaded newer image for mirrored/thing:latest\ndocker.io/mirrored/thing:latest\n") !=
          std::string::npos);
    // Known by its familiar name and by its full one.
    CHECK_FALSE(r.isolab({"images", "-q", "mirrored/thing"}).out.empty());
    CHECK(r.isolab({"run", "--rm", "docker.io/mirrored/thing:latest", "echo", "mirrored"}).out == "mirrored\n");
    CHECK(mirror.log().find("GET /v2/mirrored/thing/manifests/latest") != std::string::npos);
}

TEST_CASE("registry: a multi-layer image from isolab build; busybox's layer already exists, the fourth waits") {
    if (!registry_or_skip()) return;
    TempRoot src, r;
    ConfigHome home(r.path() + "/config");
    LocalRegistry reg(r.path() + "/registry");
    REQUIRE(reg.up());
    const std::string ctx = src.path() + "/ctx";
    write_text(ctx + "/Dockerfile",
               "FROM busybox\nRUN echo one > /one\nRUN echo two > /two\nCOPY note.txt /note.txt\n"
               "RUN echo three > /three\nCMD [\"cat\", \"/one\", \"/two\", \"/note.txt\", \"/three\"]\n");
    write_text(ctx + "/note.txt", "note\n");
    auto built = src.isolab({"build", "-q", "-t", "layered:v1", ctx}, 300000);
    REQUIRE_MESSAGE(built.code == 0, built.err);
    REQUIRE(push_with_skopeo(src, "layered:v1", reg, "layered:v1").code == 0);
    const std::string name = reg.host() + "/layered:v1";
    r.isolab({"images"});  // the local base busybox is made on first use

    auto pull = r.isolab({"pull", name});
    REQUIRE_MESSAGE(pull.code == 0, pull.err);
    auto count = [&](const std::string& what) {
        size_t n = 0;
        for (size_t at = pull.out.find(what); at != std::string::npos; at = pull.out.find(what, at + 1)) ++n;
        return n;
    };
    CHECK(count(": Already exists\n") == 1);      // busybox's layer, shared with the local base
    CHECK(count(": Pulling fs layer\n") == 4);
    CHECK(count(": Waiting\n") == 1);              // three downloads at a time, as Docker
    CHECK(count(": Pull complete\n") == 4);
    CHECK(r.isolab({"run", "--rm", name}).out == "one\ntwo\nnote\nthree\n");
    CHECK(r.isolab({"history", "-q", name}).out == src.isolab({"history", "-q", "layered:v1"}).out);
}

TEST_CASE("registry: a corrupted layer blob is refused and leaves nothing in the store") {
    if (!registry_or_skip()) return;
    TempRoot src, r;
    ConfigHome home(r.path() + "/config");
    LocalRegistry reg(r.path() + "/registry");
    REQUIRE(reg.up());
    // A layer the pulling store lacks (busybox's own would be "Already exists").
    make_marked_image(src, "corrupt", "bad:latest");
    REQUIRE(push_with_skopeo(src, "bad:latest", reg, "bad:latest").code == 0);
    auto manifest = raw_manifest(reg, "bad:latest");
    REQUIRE(manifest.is_object());
    REQUIRE(manifest["layers"].size() == 2);
    std::string layer = manifest["layers"][1]["digest"];
    std::string file = reg.blob_file(layer);
    REQUIRE(fs::exists(file));
    {
        std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(static_cast<std::streamoff>(fs::file_size(file) / 2));
        f.put('\x5a');  // same size, other bytes
    }
    r.isolab({"images"});  // busybox made: the store's starting point
    auto layers_before = dir_names(r.path() + "/images/layers");
    auto configs_before = dir_names(r.path() + "/images/configs");
    auto pull = r.isolab({"pull", reg.host() + "/bad"});
    CHECK(pull.code == 1);
    CHECK(pull.err.find("filesystem layer verification failed for digest " + layer) != std::string::npos);
    CHECK(dir_names(r.path() + "/images/layers") == layers_before);
    CHECK(dir_names(r.path() + "/images/configs") == configs_before);
    CHECK(r.isolab({"images", "-q", reg.host() + "/bad"}).out.empty());
    for (const auto& n : dir_names(r.path() + "/images/pull")) CHECK(n != layer.substr(7));
}

TEST_CASE("registry: a pull killed with SIGKILL mid-download leaves no image, and the next pull completes") {
    if (!registry_or_skip()) return;
    TempRoot src, r;
    ConfigHome home(r.path() + "/config");
    LocalRegistry reg(r.path() + "/registry");
    REQUIRE(reg.up());
    // Two layers, one of them 24 MB of random bytes, so that a pull takes long enough to kill.
    REQUIRE(src.isolab({"run", "--name", "big", "busybox", "sh", "-c",
                        "dd if=/dev/urandom of=/blob bs=1M count=24 2>/dev/null"}).code == 0);
    REQUIRE(src.isolab({"commit", "big", "big:v1"}).code == 0);
    REQUIRE(push_with_skopeo(src, "big:v1", reg, "big:v1").code == 0);
    const std::string name = reg.host() + "/big:v1";
    std::mt19937 rng(std::random_device{}());
    int killed_before_done = 0;
    for (int trial = 0; trial < 6; ++trial) {
        std::fflush(nullptr);  // no copy of buffered output in the child
        pid_t pid = ::fork();
        if (pid == 0) {
            ::setenv("ISOLAB_ROOT", r.path().c_str(), 1);
            int devnull = ::open("/dev/null", O_WRONLY);
            ::dup2(devnull, 1);
            ::dup2(devnull, 2);
            ::execl(ISOLAB_BIN, "isolab", "pull", name.c_str(), static_cast<char*>(nullptr));
            ::_exit(127);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(20, 400)(rng)));
        ::kill(pid, SIGKILL);
        int status = 0;
        ::waitpid(pid, &status, 0);
        bool finished = WIFEXITED(status);
        auto listed = r.isolab({"images", "-q", name});
        INFO("trial " << trial << ", finished: " << finished);
        if (!finished) {
            ++killed_before_done;
            // Either nothing, or (killed after the tag was written) the whole image.
            if (!listed.out.empty()) CHECK(r.isolab({"run", "--rm", name, "ls", "-l", "/blob"}).out.find("25165824") != std::string::npos);
        }
        if (!listed.out.empty()) CHECK(r.isolab({"rmi", name}).code == 0);
    }
    CHECK(killed_before_done > 0);
    auto pull = r.isolab({"pull", name});
    REQUIRE_MESSAGE(pull.code == 0, pull.err);
    auto run = r.isolab({"run", "--rm", name, "ls", "-l", "/blob"});
    CHECK(run.out.find("25165824") != std::string::npos);
    CHECK(dir_names(r.path() + "/images/pull").empty());
}

TEST_CASE("registry: TLS with the test's CA in certs.d; an unknown or wrong CA is refused, never downgraded to HTTP") {
    if (!registry_or_skip()) return;
    TempRoot src, r;
    ConfigHome home(r.path() + "/config");
    const std::string pki = r.path() + "/pki";
    fs::create_directories(pki);
    auto ssl = [&](std::vector<std::string> args) {
        args.insert(args.begin(), "/usr/bin/openssl");
        auto res = run_process(args);
        REQUIRE_MESSAGE(res.code == 0, res.err);
    };
    for (const char* ca : {"ca", "other"})
        ssl({"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", std::string("/CN=isolab test ") + ca,
             "-keyout", pki + "/" + ca + ".key", "-out", pki + "/" + ca + ".crt"});
    ssl({"req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", pki + "/server.key", "-out",
         pki + "/server.csr"});
    write_text(pki + "/ext.cnf", "subjectAltName=IP:127.0.0.1\n");
    ssl({"x509", "-req", "-in", pki + "/server.csr", "-CA", pki + "/ca.crt", "-CAkey", pki + "/ca.key", "-CAcreateserial",
         "-days", "2", "-extfile", pki + "/ext.cnf", "-out", pki + "/server.crt"});
    LocalRegistry reg(r.path() + "/registry", {pki + "/server.crt", pki + "/server.key", ""});
    REQUIRE(reg.up());
    fs::create_directories(pki + "/skopeo");
    fs::copy_file(pki + "/ca.crt", pki + "/skopeo/ca.crt");
    auto pushed = push_with_skopeo(src, "busybox", reg, "secure:latest", pki + "/skopeo");
    REQUIRE_MESSAGE(pushed.code == 0, pushed.err);
    const std::string name = reg.host() + "/secure";

    auto unknown = r.isolab({"pull", name});
    CHECK(unknown.code == 1);
    CHECK(unknown.err.find("tls: failed to verify certificate") != std::string::npos);
    CHECK(unknown.err.find("certs.d/" + reg.host() + "/ca.crt") != std::string::npos);

    const std::string certs = home.isolab_dir() + "/certs.d/" + reg.host();
    fs::create_directories(certs);
    fs::copy_file(pki + "/other.crt", certs + "/ca.crt");
    auto wrong = r.isolab({"pull", name});
    CHECK(wrong.code == 1);
    CHECK(wrong.err.find("tls: failed to verify certificate") != std::string::npos);
    CHECK(r.isolab({"images", "-q", name}).out.empty());

    fs::copy_file(pki + "/ca.crt", certs + "/ca.crt", fs::copy_options::overwrite_existing);
    auto good = r.isolab({"pull", name});
    CHECK_MESSAGE(good.code == 0, good.err);
    CHECK(r.isolab({"run", "--rm", name, "echo", "tls"}).out == "tls\n");
}

TEST_CASE("registry: htpasswd Basic auth; no or wrong credentials get Docker's words") {
    if (!registry_or_skip()) return;
    if (::access("/usr/bin/htpasswd", X_OK) != 0) {
        ISOLAB_SKIP("htpasswd (apache2-utils) is missing");
        return;
    }
    TempRoot src, r;
    ConfigHome home(r.path() + "/config");
    auto line = run_process({"/usr/bin/htpasswd", "-Bbn", "alice", "s3cret"});
    REQUIRE(line.code == 0);
    write_text(r.path() + "/htpasswd", line.out);
    LocalRegistry reg(r.path() + "/registry", {"", "", r.path() + "/htpasswd"});
    REQUIRE(reg.up());
    REQUIRE(push_with_skopeo(src, "busybox", reg, "private:latest", "", "alice:s3cret").code == 0);
    const std::string name = reg.host() + "/private";
    auto write_auth = [&](const std::string& user_pass) {
        std::string b64 = run_process({"/usr/bin/openssl", "base64", "-A"}, {}, 10000, user_pass).out;
        write_text(home.isolab_dir() + "/config.json",
                   "{\"auths\": {\"" + reg.host() + "\": {\"auth\": \"" + b64 + "\"}}}\n");
    };

    auto anonymous = r.isolab({"pull", name});
    CHECK(anonymous.code == 1);
    CHECK(anonymous.err.find("no basic auth credentials") != std::string::npos);
    write_auth("alice:wrong");
    auto wrong = r.isolab({"pull", name});
    CHECK(wrong.code == 1);
    CHECK(wrong.err == "Error response from daemon: unauthorized: authentication required\n");
    CHECK(r.isolab({"images", "-q", name}).out.empty());
    write_auth("alice:s3cret");
    auto good = r.isolab({"pull", name});
    CHECK_MESSAGE(good.code == 0, good.err);
    CHECK(r.isolab({"run", "--rm", name, "echo", "authed"}).out == "authed\n");
}

TEST_CASE("registry: Docker Hub's Bearer token flow (401 challenge, token from the realm, retry with it)") {
    if (!registry_or_skip()) return;
    TempRoot r;
    ConfigHome home(r.path() + "/config");
    TinyRegistry reg;
    reg.require_token("tok-" + std::to_string(::getpid()));
    // One layer made by GNU tar, a config naming it, a manifest naming both.
    const std::string dir = r.path() + "/layer";
    write_text(dir + "/hello.txt", "hello through a token\n");
    REQUIRE(run_process({"/bin/tar", "-C", dir, "-cf", r.path() + "/layer.tar", "hello.txt"}).code == 0);
    const std::string layer = read_text(r.path() + "/layer.tar");
    const std::string layer_digest = reg.blob("hostile", layer);
    nlohmann::json config = {{"architecture", "amd64"}, {"os", "linux"}, {"config", {{"Cmd", {"sh"}}}},
                             {"rootfs", {{"type", "layers"}, {"diff_ids", {layer_digest}}}}};
    const std::string config_digest = reg.blob("hostile", config.dump());
    nlohmann::json manifest = {
        {"schemaVersion", 2}, {"mediaType", "application/vnd.docker.distribution.manifest.v2+json"},
        {"config", {{"mediaType", "application/vnd.docker.container.image.v1+json"}, {"digest", config_digest},
                    {"size", config.dump().size()}}},
        {"layers", {{{"mediaType", "application/vnd.docker.image.rootfs.diff.tar"}, {"digest", layer_digest},
                     {"size", layer.size()}}}}};
    reg.set("/v2/hostile/manifests/v1",
            TinyRegistry::Reply{200, manifest.dump(), "application/vnd.docker.distribution.manifest.v2+json"});

    auto pull = r.isolab({"pull", reg.host() + "/hostile:v1"});
    REQUIRE_MESSAGE(pull.code == 0, pull.err);
    CHECK(r.isolab({"images", "-q", reg.host() + "/hostile:v1"}).out == config_digest.substr(7, 12) + "\n");
    // HTTP requests only (the first connection is the HTTPS attempt, a TLS hello, on 127.0.0.1).
    std::vector<std::string> requests;
    for (const auto& line : reg.requests())
        if (line.rfind("GET ", 0) == 0) requests.push_back(line);
    REQUIRE(requests.size() >= 3);
    CHECK(requests[0] == "GET /v2/ HTTP/1.1");  // 401 with the challenge
    CHECK(requests[1] == "GET /token?service=tiny&scope=repository%3Ahostile%3Apull HTTP/1.1");
    bool manifest_fetched = false;
    for (const auto& line : requests) manifest_fetched = manifest_fetched || line == "GET /v2/hostile/manifests/v1 HTTP/1.1";
    CHECK(manifest_fetched);
}

TEST_CASE("registry: a download a killed pull left is resumed with a Range request; bad bytes in it are refused") {
    if (!registry_or_skip()) return;
    TempRoot r;
    ConfigHome home(r.path() + "/config");
    TinyRegistry reg;
    // A 2 MB layer (incompressible bytes in one file), a config naming it, a manifest naming both.
    const std::string dir = r.path() + "/layer";
    fs::create_directories(dir);
    REQUIRE(run_process({"/bin/sh", "-c", "head -c 2097152 /dev/urandom > " + dir + "/data"}).code == 0);
    REQUIRE(run_process({"/bin/tar", "-C", dir, "-cf", r.path() + "/layer.tar", "data"}).code == 0);
    const std::string layer = read_text(r.path() + "/layer.tar");
    const std::string layer_digest = reg.blob("resume", layer);
    nlohmann::json config = {{"architecture", "amd64"}, {"os", "linux"}, {"config", {{"Cmd", {"sh"}}}},
                             {"rootfs", {{"type", "layers"}, {"diff_ids", {layer_digest}}}}};
    const std::string config_digest = reg.blob("resume", config.dump());
    nlohmann::json manifest = {
        {"schemaVersion", 2}, {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
        {"config", {{"mediaType", "application/vnd.oci.image.config.v1+json"}, {"digest", config_digest},
                    {"size", config.dump().size()}}},
        {"layers", {{{"mediaType", "application/vnd.oci.image.layer.v1.tar"}, {"digest", layer_digest},
                     {"size", layer.size()}}}}};
    reg.set("/v2/resume/manifests/latest",
            TinyRegistry::Reply{200, manifest.dump(), "application/vnd.oci.image.manifest.v1+json"});
    // A pid that is gone: a child that has exited and been reaped.
    pid_t dead = ::fork();
    if (dead == 0) ::_exit(0);
    ::waitpid(dead, nullptr, 0);
    r.isolab({"images"});
    const std::string part = r.path() + "/images/pull/" + layer_digest.substr(7) + ".part." + std::to_string(dead);
    const size_t half = layer.size() / 2;
    const std::string name = reg.host() + "/resume";

    // Bytes that are not the blob's: the resumed download fails its digest and is thrown away.
    write_text(part, std::string(half, 'x'));
    auto poisoned = r.isolab({"pull", name});
    CHECK(poisoned.code == 1);
    CHECK(poisoned.err.find("filesystem layer verification failed for digest " + layer_digest) != std::string::npos);
    CHECK_FALSE(fs::exists(part));
    CHECK(r.isolab({"images", "-q", name}).out.empty());

    // The blob's own first half: only the rest is asked for, and the image is whole.
    write_text(part, layer.substr(0, half));
    auto resumed = r.isolab({"pull", name});
    REQUIRE_MESSAGE(resumed.code == 0, resumed.err);
    bool ranged = false;
    for (const auto& head : reg.heads())
        ranged = ranged || (head.find("GET /v2/resume/blobs/" + layer_digest) == 0 &&
                            head.find("\r\nRange: bytes=" + std::to_string(half) + "-") != std::string::npos);
    CHECK(ranged);
    CHECK(r.isolab({"images", "-q", name}).out == config_digest.substr(7, 12) + "\n");
    CHECK(dir_names(r.path() + "/images/pull").empty());
}

namespace {

// An environment variable set for the test process (and every isolab it starts), then restored.
class ScopedEnv {
public:
    ScopedEnv(const char* name, const std::string& value) : name_(name) {
        if (const char* old = std::getenv(name)) had_ = true, old_ = old;
        ::setenv(name, value.c_str(), 1);
    }
    ~ScopedEnv() {
        if (had_) ::setenv(name_, old_.c_str(), 1);
        else ::unsetenv(name_);
    }

private:
    const char* name_;
    std::string old_;
    bool had_ = false;
};

mode_t file_mode(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return 0;
    return st.st_mode & 07777;
}

const char* const kPlainWarning = "\nWARNING! Your credentials are stored unencrypted in '";

}  // namespace

TEST_CASE("login: htpasswd Basic auth: Login Succeeded, config.json 0600 in Docker's shape; a wrong password changes nothing; logout") {
    if (!registry_or_skip()) return;
    TempRoot src, r;
    ConfigHome home(r.path() + "/config");
    auto line = run_process({"/usr/bin/htpasswd", "-Bbn", "alice", "s3cret"});
    REQUIRE(line.code == 0);
    write_text(r.path() + "/htpasswd", line.out);
    LocalRegistry reg(r.path() + "/registry", {"", "", r.path() + "/htpasswd"});
    REQUIRE(reg.up());
    REQUIRE(push_with_skopeo(src, "busybox", reg, "private:latest", "", "alice:s3cret").code == 0);
    const std::string name = reg.host() + "/private";
    const std::string config = home.isolab_dir() + "/config.json";
    fs::remove(config);

    // What Docker refuses or cannot do without a terminal, before any request.
    auto on_command_line = r.isolab({"login", "-u", "alice", "-p", "s3cret", reg.host()});
    CHECK(on_command_line.code == 125);
    CHECK(on_command_line.err.find("--password-stdin") != std::string::npos);
    auto no_tty = r.isolab({"login", reg.host()});
    CHECK(no_tty.code == 1);
    CHECK(no_tty.err == "Error: Cannot perform an interactive login from a non TTY device\n");
    auto no_user = r.isolab({"login", "--password-stdin", reg.host()}, 60000, "s3cret\n");
    CHECK(no_user.code == 1);
    CHECK(no_user.err == "the --password-stdin option requires --username to be set\n");
    CHECK_FALSE(fs::exists(config));

    // A wrong password: moby's loginV2 words (HTTPS is tried first, then plain HTTP on 127.0.0.1).
    auto wrong = r.isolab({"login", "-u", "alice", "--password-stdin", reg.host()}, 60000, "nope\n");
    CHECK(wrong.code == 1);
    CHECK(wrong.err == "Error response from daemon: login attempt to http://" + reg.host() +
                           "/v2/ failed with status: 401 Unauthorized\n");
    CHECK_FALSE(fs::exists(config));

    // Docker's output, the file in Docker's shape (and the trailing newline of stdin stripped).
    auto good = r.isolab({"login", "--username", "alice", "--password-stdin", reg.host()}, 60000, "s3cret\n");
    REQUIRE_MESSAGE(good.code == 0, good.err);
    CHECK(good.out == "Login Succeeded\n");
    CHECK(good.err.rfind(kPlainWarning + config + "'.\n", 0) == 0);
    CHECK(file_mode(config) == 0600);
    auto j = nlohmann::json::parse(read_text(config));
    CHECK(j["auths"][reg.host()]["auth"] == "YWxpY2U6czNjcmV0");  // base64("alice:s3cret")
    const std::string stored = read_text(config);

    // The same again: nothing to store, no warning. Without -u the stored credentials are tried.
    auto again = r.isolab({"login", "-u", "alice", "--password-stdin", reg.host()}, 60000, "s3cret");
    CHECK(again.code == 0);
    CHECK(again.err.empty());
    auto reuse = r.isolab({"login", reg.host()});
    CHECK(reuse.code == 0);
    CHECK(reuse.out == "Login Succeeded\n");
    CHECK(reuse.err.rfind("Authenticating with existing credentials... [Username: alice]\n", 0) == 0);
    auto wrong_again = r.isolab({"login", "-u", "alice", "--password-stdin", reg.host()}, 60000, "nope");
    CHECK(wrong_again.code == 1);
    CHECK(read_text(config) == stored);

    // pull uses what login stored; logout removes it, and the registry refuses again.
    auto pulled = r.isolab({"pull", "-q", name});
    CHECK_MESSAGE(pulled.code == 0, pulled.err);
    auto out = r.isolab({"logout", reg.host()});
    CHECK(out.code == 0);
    CHECK(out.out == "Removing login credentials for " + reg.host() + "\n");
    CHECK_FALSE(nlohmann::json::parse(read_text(config))["auths"].contains(reg.host()));
    CHECK(r.isolab({"rmi", name}).code == 0);
    auto refused = r.isolab({"pull", name});
    CHECK(refused.code == 1);
    CHECK(refused.err.find("no basic auth credentials") != std::string::npos);
    // Docker's logout says the same when there was nothing to remove.
    auto twice = r.isolab({"logout", "http://" + reg.host() + "/v2/"});
    CHECK(twice.code == 0);
    CHECK(twice.out == "Removing login credentials for " + reg.host() + "\n");
}

TEST_CASE("login: docker-registry's token auth with a JWT issuer on 127.0.0.1: pull after login, wrong password, anonymous denied, logout") {
    if (!registry_or_skip()) return;
    TempRoot src, r;
    ConfigHome home(r.path() + "/config");
    TokenIssuer issuer(r.path() + "/issuer", {{"alice", "s3cret"}});
    REQUIRE(issuer.ok());
    LocalRegistry reg(r.path() + "/registry", issuer.registry_options());
    REQUIRE(reg.up());
    // skopeo goes through the same issuer (a token for repository:private:pull,push).
    auto pushed = push_with_skopeo(src, "busybox", reg, "private:latest", "", "alice:s3cret");
    REQUIRE_MESSAGE(pushed.code == 0, pushed.err << reg.log());
    const std::string name = reg.host() + "/private";
    const std::string config = home.isolab_dir() + "/config.json";
    fs::remove(config);

    // Anonymous: the issuer grants nothing, the registry denies the manifest.
    auto anonymous = r.isolab({"pull", name});
    CHECK(anonymous.code == 1);
    CHECK(anonymous.err.find("unauthorized") != std::string::npos);
    CHECK(r.isolab({"images", "-q", name}).out.empty());

    // A wrong password: the token server's refusal in Docker's words; nothing stored.
    auto wrong = r.isolab({"login", "-u", "alice", "--password-stdin", reg.host()}, 60000, "wrong\n");
    CHECK(wrong.code == 1);
    CHECK(wrong.err == "Error response from daemon: Get \"http://" + reg.host() +
                           "/v2/\": unauthorized: incorrect username or password\n");
    CHECK_FALSE(fs::exists(config));

    auto good = r.isolab({"login", "-u", "alice", "--password-stdin", reg.host()}, 60000, "s3cret\n");
    REQUIRE_MESSAGE(good.code == 0, good.err << reg.log());
    CHECK(good.out == "Login Succeeded\n");
    CHECK(file_mode(config) == 0600);
    CHECK(nlohmann::json::parse(read_text(config))["auths"][reg.host()]["auth"] == "YWxpY2U6czNjcmV0");
    // Docker's login asks the issuer for an offline token with no scope.
    bool login_request = false;
    for (const auto& req : issuer.requests())
        login_request = login_request || req == "GET /token?account=alice&client_id=docker&offline_token=true&service=" +
                                                    std::string(TokenIssuer::kService) + " HTTP/1.1";
    CHECK(login_request);

    auto pulled = r.isolab({"pull", name});
    REQUIRE_MESSAGE(pulled.code == 0, pulled.err);
    CHECK(r.isolab({"run", "--rm", name, "echo", "token"}).out == "token\n");

    auto out = r.isolab({"logout", reg.host()});
    CHECK(out.out == "Removing login credentials for " + reg.host() + "\n");
    CHECK(r.isolab({"rmi", name}).code == 0);
    auto denied = r.isolab({"pull", name});
    CHECK(denied.code == 1);
    CHECK(denied.err.find("unauthorized") != std::string::npos);
}

TEST_CASE("search: Docker Hub's index answered on 127.0.0.1: the table, --limit, --filter, --no-trunc, --format; a registry's index; offline") {
    if (!registry_or_skip()) return;
    TempRoot r;
    ConfigHome home(r.path() + "/config");
    TinyRegistry index;
    const std::string long_text = "The smallest shell box, with a description that runs well past forty-five characters";
    index.set_search(nlohmann::json::array({
        {{"name", "busybox"}, {"description", "Busybox base image."}, {"star_count", 3338}, {"is_official", true}, {"is_automated", false}},
        {{"name", "someone/busybox-tools"}, {"description", long_text}, {"star_count", 12}, {"is_official", false}, {"is_automated", true}},
        {{"name", "other/busybox"}, {"description", "one\nline"}, {"star_count", 0}, {"is_official", false}, {"is_automated", false}},
    }));
    ScopedEnv test_index("ISOLAB_TEST_INDEX_URL", "http://" + index.host() + "/v1/");

    auto all = r.isolab({"search", "busybox"});
    REQUIRE_MESSAGE(all.code == 0, all.err);
    CHECK(all.out ==
          "NAME                    DESCRIPTION                                     STARS     OFFICIAL\n"
          "busybox                 Busybox base image.                             3338      [OK]\n"
          "someone/busybox-tools   The smallest shell box, with a description t…   12\n"
          "other/busybox           one line                                        0\n");
    CHECK(index.requests().back() == "GET /v1/search?q=busybox&n=25 HTTP/1.1");
    CHECK(index.heads().back().find("\r\nX-Docker-Token: true") != std::string::npos);
    CHECK(index.heads().back().find("Authorization:") == std::string::npos);

    auto limited = r.isolab({"search", "--limit", "2", "library/busybox"});
    CHECK(limited.code == 0);
    CHECK(index.requests().back() == "GET /v1/search?q=busybox&n=2 HTTP/1.1");  // library/ dropped, as Docker
    CHECK(std::count(limited.out.begin(), limited.out.end(), '\n') == 3);
    const size_t before = index.requests().size();
    auto too_many = r.isolab({"search", "--limit", "101", "busybox"});
    CHECK(too_many.code == 1);
    CHECK(too_many.err == "Error response from daemon: limit 101 is outside the range of [1, 100]\n");

    auto bad = r.isolab({"search", "-f", "color=red", "busybox"});
    CHECK(bad.code == 1);
    CHECK(bad.err == "Error response from daemon: invalid filter 'color'\n");
    auto automated = r.isolab({"search", "-f", "is-automated=true", "busybox"});
    CHECK(automated.code == 0);
    CHECK(automated.err == "WARNING: the \"is-automated\" filter is deprecated, and searching for \"is-automated=true\" will not yield any results in future.\n");
    CHECK(automated.out == "NAME      DESCRIPTION   STARS     OFFICIAL\n");
    CHECK(index.requests().size() == before);  // none of the refused or automated searches asked

    auto official = r.isolab({"search", "--filter", "is-official=true", "busybox"});
    CHECK(official.out.find("busybox   ") != std::string::npos);
    CHECK(official.out.find("someone/") == std::string::npos);
    CHECK(std::count(official.out.begin(), official.out.end(), '\n') == 2);
    auto stars = r.isolab({"search", "-f", "stars=10", "--format", "{{.Name}} {{.StarCount}}", "busybox"});
    CHECK(stars.out == "busybox 3338\nsomeone/busybox-tools 12\n");

    auto full = r.isolab({"search", "--no-trunc", "--format", "{{.Description}}", "tools"});
    CHECK(full.out == long_text + "\n");

    // Credentials login stored for Docker Hub go along (Docker's Basic auth on the v1 index).
    write_text(home.isolab_dir() + "/config.json", R"({"auths": {"https://index.docker.io/v1/": {"auth": "YWxpY2U6czNjcmV0"}}})");
    CHECK(r.isolab({"search", "busybox"}).code == 0);
    CHECK(index.heads().back().find("\r\nAuthorization: Basic YWxpY2U6czNjcmV0") != std::string::npos);
    fs::remove(home.isolab_dir() + "/config.json");

    // A registry prefix searches that registry's own v1 index.
    auto other = r.isolab({"search", index.host() + "/busy"});
    CHECK(other.code == 0);
    CHECK(index.requests().back() == "GET /v1/search?q=busy&n=25 HTTP/1.1");
    // Debian's docker-registry (distribution) has no v1 search API: Docker's words.
    LocalRegistry reg(r.path() + "/registry");
    REQUIRE(reg.up());
    auto none = r.isolab({"search", reg.host() + "/busybox"});
    CHECK(none.code == 1);
    CHECK(none.err == "Error response from daemon: Unexpected status code 404\n");
    // No such host: the offline hint, in the learner's language.
    auto offline = r.isolab({"search", "registry.invalid/busybox"});
    CHECK(offline.code == 1);
    CHECK(offline.err.find("cannot reach registry registry.invalid") != std::string::npos);
    CHECK(offline.err.find("IsoLab works offline with `busybox`, `isolab build` and `isolab load`") != std::string::npos);
    CHECK(std::count(offline.err.begin(), offline.err.end(), '\n') == 1);
    auto korean = r.isolab({"--lang", "ko", "search", "registry.invalid/busybox"});
    CHECK(korean.err.find("IsoLab은 인터넷 없이도") != std::string::npos);
}
