// Images as templates, through the real binary: a Dockerfile build with RUN in a real container,
// two containers from one image with their own changes, commit, the build cache, layer sharing,
// and OCI archives that skopeo and podman accept.
#include <doctest/doctest.h>

#include "tests/skip.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include "harness.hpp"
#include "tiny_registry.hpp"

using namespace isolab::test;
namespace fs = std::filesystem;

namespace {

void write(const std::string& path, const std::string& text) {
    fs::create_directories(fs::path(path).parent_path());
    std::ofstream(path) << text;
}

// Real containers are needed for RUN: root and the namespace backend.
bool real_containers(const TempRoot& r) {
    if (::geteuid() != 0) {
        ISOLAB_SKIP("builds with RUN need real containers (root)");
        return false;
    }
    auto v = r.isolab({"version"});
    if (v.out.find("Backend: simulated") != std::string::npos) {
        ISOLAB_SKIP("no real containers here (simulated backend): " << v.out);
        return false;
    }
    return true;
}

int count_entries(const std::string& dir) {
    int n = 0;
    std::error_code ec;
    for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); ++it) ++n;
    return n;
}

std::string trim_copy(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

bool tool_exists(const std::string& name) {
    return run_process({"/bin/sh", "-c", "command -v " + name}).code == 0;
}

const char* kDockerfile =
    "# a small app\n"
    "FROM busybox\n"
    "ARG VERSION=1\n"
    "ENV APP=/app \\\n"
    "    MODE=test\n"
    "WORKDIR $APP\n"
    "COPY hello.txt .\n"
    "RUN echo \"built-$VERSION\" > built.txt && rm /bin/vi\n"
    "EXPOSE 8080\n"
    "LABEL org.example.purpose=lesson\n"
    "CMD [\"cat\", \"built.txt\", \"hello.txt\"]\n";

}  // namespace

TEST_CASE("build: steps like Docker's, RUN in a real container, the image runs; diff, commit, cache, sharing") {
    TempRoot r;
    if (!real_containers(r)) return;
    std::string ctx = r.path() + "/ctx";
    write(ctx + "/Dockerfile", kDockerfile);
    write(ctx + "/hello.txt", "hello from the build context\n");

    auto b = r.isolab({"build", "-t", "app:v1", "--build-arg", "VERSION=2", ctx});
    INFO(b.out << b.err);
    REQUIRE(b.code == 0);
    CHECK(b.out.find("Step 1/9 : FROM busybox\n") == 0);
    CHECK(b.out.find("Step 6/9 : RUN echo \"built-$VERSION\" > built.txt && rm /bin/vi\n ---> Running in ") != std::string::npos);
    CHECK(b.out.find("Removing intermediate container ") != std::string::npos);
    CHECK(b.out.find("(new layer sha256:") != std::string::npos);
    CHECK(b.out.find("Successfully tagged app:v1\n") != std::string::npos);
    CHECK(r.isolab({"ps", "-aq"}).out.empty());  // the RUN container is gone

    // The image runs its CMD in WORKDIR, with the file RUN made and the one COPY brought.
    auto run = r.isolab({"run", "--rm", "app:v1"});
    CHECK(run.code == 0);
    CHECK(run.out == "built-2\nhello from the build context\n");
    CHECK(r.isolab({"run", "--rm", "app:v1", "sh", "-c", "echo $APP $MODE; pwd; ls /bin/vi"}).out == "/app test\n/app\n");
    auto hist = r.isolab({"history", "--no-trunc", "app:v1"});
    CHECK(hist.out.find("RUN /bin/sh -c echo \"built-$VERSION\" > built.txt && rm /bin/vi") != std::string::npos);
    CHECK(hist.out.find("COPY hello.txt /app/") != std::string::npos);

    // Two containers from one image: each sees only its own changes.
    REQUIRE(r.isolab({"run", "-d", "--name", "one", "app:v1", "sleep", "60"}).code == 0);
    REQUIRE(r.isolab({"run", "-d", "--name", "two", "app:v1", "sleep", "60"}).code == 0);
    CHECK(r.isolab({"exec", "one", "sh", "-c", "echo changed >> /app/hello.txt; rm /app/built.txt; touch /app/new"}).code == 0);
    auto d1 = r.isolab({"diff", "one"});
    CHECK(d1.out == "C /app\nD /app/built.txt\nC /app/hello.txt\nA /app/new\n");
    CHECK(r.isolab({"diff", "two"}).out.empty());
    CHECK(r.isolab({"exec", "two", "cat", "/app/hello.txt"}).out == "hello from the build context\n");

    // Commit the changed one; the new image has the change, the old one does not.
    auto c = r.isolab({"commit", "-c", "ENV MODE=committed", "-c", "CMD cat hello.txt; echo $MODE", "one", "app:v2"});
    REQUIRE(c.code == 0);
    CHECK(r.isolab({"run", "--rm", "app:v2"}).out == "hello from the build context\nchanged\ncommitted\n");
    CHECK(r.isolab({"run", "--rm", "app:v1", "cat", "/app/hello.txt"}).out == "hello from the build context\n");
    CHECK(r.isolab({"commit", "-c", "RUN true", "one", "x"}).err.find("RUN is not a valid change command") != std::string::npos);
    CHECK(r.isolab({"rm", "-f", "one", "two"}).code == 0);

    // An unchanged rebuild comes from the cache and gives the same image id.
    std::string id1 = first_line(r.isolab({"images", "-q", "app:v1"}).out);
    auto again = r.isolab({"build", "-t", "app:v1", "--build-arg", "VERSION=2", ctx});
    CHECK(again.code == 0);
    CHECK(again.out.find("Running in") == std::string::npos);
    CHECK(again.out.find(" ---> Using cache") != std::string::npos);
    CHECK(again.out.find("Successfully built " + id1) != std::string::npos);
    // A changed build argument reruns RUN (it is part of the step's key).
    auto v3 = r.isolab({"build", "-q", "-t", "app:v3", "--build-arg", "VERSION=3", ctx});
    CHECK(v3.code == 0);
    CHECK(v3.out.rfind("sha256:", 0) == 0);
    CHECK(r.isolab({"run", "--rm", "app:v3", "cat", "built.txt"}).out == "built-3\n");

    // Layers are shared: removing app:v1 keeps what app:v2 is built on.
    int layers_before = count_entries(r.path() + "/images/layers");
    auto rmi = r.isolab({"rmi", "app:v1"});
    CHECK(rmi.code == 0);
    CHECK(count_entries(r.path() + "/images/layers") == layers_before);  // every layer still used
    CHECK(r.isolab({"run", "--rm", "app:v2", "cat", "/app/built.txt"}).code == 1);  // deleted in v2's layer
    CHECK(r.isolab({"run", "--rm", "app:v2", "cat", "/app/new"}).code == 0);
}

TEST_CASE("build: a malformed Dockerfile or a failing RUN leaves no image, container or layer behind") {
    TempRoot r;
    if (!real_containers(r)) return;
    std::string ctx = r.path() + "/ctx";
    write(ctx + "/Dockerfile", "FROM busybox\n# comment\nRUN echo one \\\n    two\nRUNN echo typo\n");
    REQUIRE(r.isolab({"images"}).code == 0);  // busybox is made
    int configs = count_entries(r.path() + "/images/configs");
    int layers = count_entries(r.path() + "/images/layers");

    auto bad = r.isolab({"build", "-t", "bad", ctx});
    CHECK(bad.code == 1);
    CHECK(bad.err.rfind("Dockerfile:5: unknown instruction: RUNN (Docker accepts ADD, ARG,", 0) == 0);
    CHECK(bad.out.empty());

    write(ctx + "/Dockerfile", "FROM busybox\nRUN echo layer > /f\nRUN echo output; exit 3\nCMD [\"true\"]\n");
    auto fails = r.isolab({"build", "-t", "bad", ctx});
    CHECK(fails.code == 1);
    CHECK(fails.out.find("output\n") != std::string::npos);  // RUN's output is shown
    CHECK(fails.err == "The command '/bin/sh -c echo output; exit 3' returned a non-zero code: 3\n");
    CHECK(r.isolab({"ps", "-aq"}).out.empty());
    CHECK(count_entries(r.path() + "/images/configs") == configs);
    CHECK(count_entries(r.path() + "/images/layers") == layers);  // the first RUN's layer went too
    CHECK(r.isolab({"images", "-q", "bad"}).out.empty());

    write(ctx + "/Dockerfile", "FROM busybox\nADD git@example.com:me/app.git /\n");  // refused before any network
    auto url = r.isolab({"build", ctx});
    CHECK(url.code == 1);
    CHECK(url.err.find("Dockerfile:2: ADD git@example.com:me/app.git: only http:// and https:// URLs are downloaded") == 0);
    write(ctx + "/Dockerfile", "FROM busybox\nCOPY ../../etc/passwd /x\n");
    CHECK(r.isolab({"build", ctx}).err.find("forbidden path outside the build context") != std::string::npos);
    write(ctx + "/Dockerfile", "FROM busybox\nCOPY missing.txt /x\n");
    CHECK(r.isolab({"build", ctx}).err.find("file not found in build context") != std::string::npos);
    CHECK(r.isolab({"build", r.path() + "/nope"}).err == "unable to prepare context: path \"" + r.path() + "/nope\" not found\n");
    CHECK(r.isolab({"build", "-t", "Bad:Name", ctx}).code == 125);
    CHECK(count_entries(r.path() + "/images/layers") == layers);
}

TEST_CASE("build: ADD unpacks a local tar; COPY --chown, globs and .dockerignore; ENTRYPOINT with CMD") {
    TempRoot r;
    if (!real_containers(r)) return;
    std::string ctx = r.path() + "/ctx";
    write(ctx + "/data/a.txt", "a\n");
    write(ctx + "/data/b.txt", "b\n");
    write(ctx + "/data/secret.key", "do not ship\n");
    write(ctx + "/.dockerignore", "# keys stay home\n**/*.key\n");
    REQUIRE(run_process({"/bin/tar", "-C", ctx + "/data", "-czf", ctx + "/pack.tar.gz", "a.txt"}).code == 0);
    write(ctx + "/Dockerfile",
          "FROM busybox\n"
          "ADD pack.tar.gz /unpacked/\n"
          "COPY --chown=nobody:nogroup data/*.txt /txt/\n"
          "COPY data /all/\n"
          "ENTRYPOINT [\"ls\"]\n"
          "CMD [\"-n\", \"/txt\"]\n");
    auto b = r.isolab({"build", "-t", "files", ctx});
    INFO(b.out << b.err);
    REQUIRE(b.code == 0);
    CHECK(r.isolab({"run", "--rm", "files", "/unpacked"}).out == "a.txt\n");
    auto owners = r.isolab({"run", "--rm", "files"}).out;  // ENTRYPOINT ls + CMD -n /txt
    CHECK(owners.find("65534") != std::string::npos);
    CHECK(owners.find("a.txt") != std::string::npos);
    CHECK(r.isolab({"run", "--rm", "files", "/all"}).out == "a.txt\nb.txt\n");  // the key was ignored
}

TEST_CASE("save/load: an OCI archive round trip keeps every digest; skopeo and podman read it") {
    TempRoot r;
    if (!real_containers(r)) return;
    std::string ctx = r.path() + "/ctx";
    write(ctx + "/Dockerfile", "FROM busybox\nRUN echo saved > /saved.txt && rm /bin/vi\nCMD [\"cat\", \"/saved.txt\"]\n");
    REQUIRE(r.isolab({"build", "-q", "-t", "keep:v1", ctx}).code == 0);
    std::string id = r.isolab({"images", "-q", "--no-trunc", "keep:v1"}).out;
    REQUIRE(!id.empty());
    std::string tar = r.path() + "/keep.tar";
    auto save = r.isolab({"save", "-o", tar, "keep:v1"});
    INFO(save.err);
    REQUIRE(save.code == 0);
    CHECK(fs::file_size(tar) > 1000000);  // busybox is in it

    REQUIRE(r.isolab({"rmi", "keep:v1"}).code == 0);
    CHECK(r.isolab({"images", "-q", "keep:v1"}).out.empty());
    auto load = r.isolab({"load", "-i", tar});
    INFO(load.err);
    CHECK(load.code == 0);
    CHECK(load.out == "Loaded image: keep:v1\n");
    CHECK(r.isolab({"images", "-q", "--no-trunc", "keep:v1"}).out == id);  // same config bytes, same id
    CHECK(r.isolab({"run", "--rm", "keep:v1"}).out == "saved\n");
    CHECK(r.isolab({"run", "--rm", "keep:v1", "ls", "/bin/vi"}).code != 0);  // the whiteout survived

    // A damaged archive is refused, naming what is wrong, and adds nothing.
    CHECK(r.isolab({"load", "-i", r.path() + "/nope.tar"}).code == 1);

    if (!tool_exists("skopeo")) {
        ISOLAB_SKIP("part of this case: skopeo is not installed (apt-get install skopeo)");
    } else {
        auto sk = run_process({"skopeo", "inspect", "oci-archive:" + tar});
        INFO(sk.err);
        CHECK(sk.code == 0);
        CHECK(sk.out.find("\"Layers\"") != std::string::npos);
    }
    if (!tool_exists("podman")) {
        ISOLAB_SKIP("part of this case: podman is not installed (apt-get install podman)");
    } else {
        std::string store = r.path() + "/podman";
        std::vector<std::string> pm = {"podman", "--root", store + "/root", "--runroot", store + "/run",
                                       "--storage-driver", "vfs", "--cgroup-manager", "cgroupfs",
                                       "--events-backend", "file"};
        auto with = [&](std::vector<std::string> tail) {
            auto v = pm;
            v.insert(v.end(), tail.begin(), tail.end());
            return v;
        };
        auto pl = run_process(with({"load", "-i", tar}), {}, 120000);
        INFO(pl.out << pl.err);
        CHECK(pl.code == 0);
        auto pi = run_process(with({"image", "inspect", "--format", "{{.Id}}", "keep:v1"}));
        CHECK(pi.code == 0);
        CHECK("sha256:" + trim_copy(pi.out) + "\n" == id);
        run_process({"/bin/sh", "-c", "umount -R " + store + "/root/vfs 2>/dev/null; true"});
        fs::remove_all(store);
    }
}

TEST_CASE("build: the teaching images of assets/images build and behave as their README says") {
    TempRoot r;
    if (!real_containers(r)) return;
    std::string assets = std::string(ISOLAB_SOURCE_DIR) + "/assets/images";
    for (const char* name : {"web", "hello", "layers"}) {
        auto b = r.isolab({"build", "-q", "-t", std::string("isolab/") + name, assets + "/" + name});
        INFO(name << ": " << b.err);
        CHECK(b.code == 0);
    }
    auto hello = r.isolab({"run", "--rm", "isolab/hello"});
    CHECK(hello.out.find("Hello, world! / 안녕하세요, world!") == 0);
    CHECK(hello.out.find("user nobody") != std::string::npos);
    CHECK(r.isolab({"run", "--rm", "isolab/hello", "스터디"}).out.find("안녕하세요, 스터디!") != std::string::npos);
    auto layers = r.isolab({"run", "--rm", "isolab/layers"});
    CHECK(layers.out.find("deleted.txt") == std::string::npos);
    CHECK(layers.out.find("changed in layer 3") != std::string::npos);
    auto hist = r.isolab({"history", "isolab/layers"});
    CHECK(hist.out.find("COPY notes/ /notes/") != std::string::npos);
    auto web = r.isolab({"run", "--rm", "isolab/web", "cat", "/var/www/index.html"});
    CHECK(web.out.find("Hello from IsoLab") != std::string::npos);
}

TEST_CASE("--runtime runc: the engine hands Debian's runc a bundle; same container, same lifecycle") {
    TempRoot r;
    if (!real_containers(r)) return;
    if (!tool_exists("runc")) {
        ISOLAB_SKIP("runc is not installed (apt-get install runc)");
        return;
    }
    const std::string probe = "id; ls /; grep -E '^(Cap|NoNewPrivs|Seccomp:)' /proc/self/status; cat /proc/1/cmdline; echo; mount | grep -c ' / '";
    auto own = r.isolab({"run", "--rm", "busybox", "sh", "-c", probe});
    auto runc = r.isolab({"run", "--rm", "--runtime", "runc", "busybox", "sh", "-c", probe});
    INFO(runc.err);
    REQUIRE(runc.code == 0);
    CHECK(runc.out == own.out);  // same user, root, capabilities, no_new_privs, seccomp, PID 1
    CHECK(r.isolab({"run", "--rm", "--runtime", "runc", "busybox", "sh", "-c", "exit 7"}).code == 7);
    CHECK(r.isolab({"run", "--runtime", "nope", "busybox", "true"}).err.find("unknown or invalid runtime name: nope") != std::string::npos);
    auto missing = r.isolab({"run", "--rm", "--runtime", "runc", "busybox", "nosuchcmd"});
    CHECK(missing.code == 127);

    REQUIRE(r.isolab({"run", "-d", "--name", "viarunc", "--runtime", "runc", "busybox", "sleep", "60"}).code == 0);
    CHECK(r.isolab({"inspect", "-f", "{{.HostConfig.Runtime}}", "viarunc"}).out == "runc\n");
    CHECK(r.isolab({"exec", "viarunc", "cat", "/proc/1/cmdline"}).out == std::string("sleep\0" "60\0", 9));
    CHECK(r.isolab({"pause", "viarunc"}).code == 0);
    CHECK(r.isolab({"ps", "--format", "{{.Status}}"}).out.find("Paused") != std::string::npos);
    CHECK(r.isolab({"unpause", "viarunc"}).code == 0);
    std::string id = r.id_of("viarunc");
    CHECK(fs::exists(r.path() + "/runc/" + id));
    auto stop = r.isolab({"stop", "-t", "1", "viarunc"});
    CHECK(stop.code == 0);
    CHECK(r.isolab({"inspect", "-f", "{{.State.ExitCode}}", "viarunc"}).out == "137\n");
    CHECK(!fs::exists(r.path() + "/runc/" + id));  // runc's state went with the container's exit
    CHECK(r.isolab({"rm", "viarunc"}).code == 0);
    CHECK(!mounts_mention(id));
}

TEST_CASE("build: a multi-stage Dockerfile from a book: toolchain stage, binary copied into a small final stage") {
    TempRoot r;
    if (!real_containers(r)) return;
    std::string ctx = r.path() + "/ctx";
    write(ctx + "/main.sh", "#!/bin/sh\necho \"hello from the app\"\n");
    write(ctx + "/Dockerfile",
          "ARG BASE=busybox\n"
          "FROM ${BASE} AS build\n"
          "COPY main.sh /src/main.sh\n"
          "RUN mkdir -p /out && cp /src/main.sh /out/app && chmod 755 /out/app && echo toolchain > /out/junk\n"
          "FROM busybox AS docs\n"
          "RUN echo this stage is never needed\n"
          "FROM busybox\n"
          "COPY --from=build /out/app /usr/local/bin/app\n"
          "COPY --from=0 /src/main.sh /main.sh\n"
          "CMD [\"app\"]\n");
    auto b = r.isolab({"build", "-t", "book:1", ctx});
    INFO(b.out << b.err);
    REQUIRE(b.code == 0);
    // BuildKit's rule: only the stages the target needs run, and the output says which were skipped.
    CHECK(b.out.find("Skipping stage docs (Dockerfile:5)") != std::string::npos);
    CHECK(b.out.find("never needed") == std::string::npos);
    CHECK(b.out.find("Step 1/8 : ARG BASE=busybox\n") != std::string::npos);
    CHECK(b.out.find("Step 8/8 : CMD [\"app\"]\n") != std::string::npos);
    CHECK(r.isolab({"run", "--rm", "book:1"}).out == "hello from the app\n");
    // The final image has the binary and not the toolchain stage's other files.
    CHECK(r.isolab({"run", "--rm", "book:1", "ls", "/out"}).code != 0);
    // Only the final stage is tagged; the intermediate stage is no image of its own.
    auto images = r.isolab({"images", "-q"});
    int n = 0;
    for (char c : images.out) n += c == '\n';
    CHECK(n == 2);  // busybox and book:1

    // The build cache works across stages: an unchanged rebuild gives the same id.
    auto id1 = trim_copy(r.isolab({"images", "-q", "--no-trunc", "book:1"}).out);
    auto again = r.isolab({"build", "-t", "book:2", ctx});
    REQUIRE(again.code == 0);
    CHECK(trim_copy(r.isolab({"images", "-q", "--no-trunc", "book:2"}).out) == id1);
    CHECK(again.out.find("Running in") == std::string::npos);
    // A change in the first stage's input flows into the final stage.
    write(ctx + "/main.sh", "#!/bin/sh\necho \"hello again\"\n");
    REQUIRE(r.isolab({"build", "-t", "book:3", ctx}).code == 0);
    CHECK(r.isolab({"run", "--rm", "book:3"}).out == "hello again\n");

    // --target: the build stops at that stage; `FROM stage` starts from an earlier stage.
    auto t = r.isolab({"build", "--target", "build", "-t", "tool:1", ctx});
    INFO(t.out << t.err);
    REQUIRE(t.code == 0);
    CHECK(t.out.find("Step 4/4 : RUN") != std::string::npos);
    CHECK(r.isolab({"run", "--rm", "tool:1", "cat", "/out/junk"}).out == "toolchain\n");
    write(ctx + "/Dockerfile", "FROM busybox AS base\nRUN echo base > /base\nFROM base\nRUN cat /base\n");
    auto from_stage = r.isolab({"build", "-t", "chain:1", ctx});
    CHECK(from_stage.code == 0);
    CHECK(from_stage.out.find("(stage base)") != std::string::npos);
    CHECK(r.isolab({"run", "--rm", "chain:1", "cat", "/base"}).out == "base\n");

    // Docker's errors, each naming the line; nothing is left behind.
    const int layers = count_entries(r.path() + "/images/layers");
    auto err_of = [&](const std::string& text, const std::vector<std::string>& extra = {}) {
        write(ctx + "/Dockerfile", text);
        std::vector<std::string> args = {"build"};
        args.insert(args.end(), extra.begin(), extra.end());
        args.push_back(ctx);
        auto res = r.isolab(args);
        CHECK(res.code == 1);
        return res.err;
    };
    CHECK(err_of("FROM busybox AS a\nFROM busybox AS A\n") ==
          "Dockerfile:2: Duplicate stage name 'a', stage names should be unique\n");
    CHECK(err_of("FROM busybox\n", {"--target", "nope"}) == "target stage \"nope\" could not be found\n");
    CHECK(err_of("FROM busybox AS a\nCOPY --from=a /x /x\n") == "Dockerfile:2: circular dependency detected on stage: a\n");
    CHECK(err_of("FROM busybox\nCOPY --from=nosuch-image /x /x\n").find(
              "Dockerfile:2: pull access denied for nosuch-image, repository does not exist or may require 'docker login'") == 0);
    CHECK(err_of("FROM nosuch-image\n").find("IsoLab cannot pull images yet") != std::string::npos);
    CHECK(err_of("FROM busybox\nRUN echo x > /f\nFROM busybox\nCOPY --from=0 /missing /x\n") ==
          "Dockerfile:4: COPY --from: /missing: not found in stage 0\n");
    CHECK(count_entries(r.path() + "/images/layers") == layers);
    CHECK(r.isolab({"ps", "-aq"}).out.empty());
}

TEST_CASE("build: SHELL, STOPSIGNAL, HEALTHCHECK, MAINTAINER and ONBUILD in the image config, and used") {
    TempRoot r;
    if (!real_containers(r)) return;
    std::string ctx = r.path() + "/ctx";
    write(ctx + "/Dockerfile",
          "FROM busybox\n"
          "MAINTAINER Jane Doe <jane@example.com>\n"
          "SHELL [\"/bin/sh\", \"-xc\"]\n"
          "RUN echo shell-form\n"
          "STOPSIGNAL SIGUSR1\n"
          "HEALTHCHECK --interval=30s --timeout=3s --start-period=1m --start-interval=2s --retries=4 CMD test -e /ok\n"
          "ONBUILD RUN echo triggered > /trigger\n"
          "CMD [\"sh\", \"-c\", \"trap 'echo got-usr1; exit 0' USR1; while :; do sleep 0.1; done\"]\n");
    auto b = r.isolab({"build", "-t", "cfg:1", ctx});
    INFO(b.out << b.err);
    REQUIRE(b.code == 0);
    // SHELL changed how RUN's shell form ran: `sh -x` traced the command.
    CHECK(b.out.find("+ echo shell-form\n") != std::string::npos);
    CHECK(b.out.find(" 1 warning found:\n - MaintainerDeprecated: Maintainer instruction is deprecated in favor of using label "
                     "(line 2)\n") != std::string::npos);
    auto fmt = [&](const std::string& f) { return trim_copy(r.isolab({"inspect", "-f", f, "cfg:1"}).out); };
    CHECK(fmt("{{json .Config.Healthcheck}}") ==
          "{\"Interval\":30000000000,\"Retries\":4,\"StartInterval\":2000000000,\"StartPeriod\":60000000000,"
          "\"Test\":[\"CMD-SHELL\",\"test -e /ok\"],\"Timeout\":3000000000}");
    CHECK(fmt("{{json .Config.OnBuild}}") == "[\"RUN echo triggered > /trigger\"]");
    CHECK(fmt("{{.Config.StopSignal}}") == "SIGUSR1");
    CHECK(fmt("{{index .Config.Labels \"maintainer\"}}") == "Jane Doe <jane@example.com>");
    CHECK(fmt("{{json .Config.Shell}}") == "[\"/bin/sh\",\"-xc\"]");

    // `stop` sends the image's STOPSIGNAL when run gave no --stop-signal.
    REQUIRE(r.isolab({"run", "-d", "--name", "sig", "cfg:1"}).code == 0);
    REQUIRE(r.isolab({"stop", "sig"}).code == 0);
    CHECK(r.isolab({"logs", "sig"}).out == "got-usr1\n");
    CHECK(trim_copy(r.isolab({"inspect", "-f", "{{.State.ExitCode}}", "sig"}).out) == "0");

    // ONBUILD: the trigger runs when the image is a FROM, and is not inherited further.
    auto child = r.isolab({"build", "-t", "child:1", "-"}, 120000, "FROM cfg:1\nRUN cat /trigger\n");
    INFO(child.out << child.err);
    REQUIRE(child.code == 0);
    CHECK(child.out.find("# Executing 1 build trigger(s)") != std::string::npos);
    CHECK(child.out.find("triggered\n") != std::string::npos);
    auto child_inspect = r.isolab({"inspect", "child:1"});
    REQUIRE(child_inspect.code == 0);
    CHECK(child_inspect.out.find("\"OnBuild\"") == std::string::npos);
}

TEST_CASE("build: `build -` and `build -f - PATH` read the Dockerfile from stdin; --progress; every bad line at once") {
    TempRoot r;
    if (!real_containers(r)) return;
    std::string ctx = r.path() + "/ctx";
    write(ctx + "/hello.txt", "hi\n");
    auto no_ctx = r.isolab({"build", "-t", "stdin:1", "-"}, 60000, "FROM busybox\nCMD [\"echo\", \"from stdin\"]\n");
    INFO(no_ctx.out << no_ctx.err);
    REQUIRE(no_ctx.code == 0);
    CHECK(r.isolab({"run", "--rm", "stdin:1"}).out == "from stdin\n");
    auto copy_without = r.isolab({"build", "-"}, 60000, "FROM busybox\nCOPY hello.txt /\n");
    CHECK(copy_without.code == 1);
    CHECK(copy_without.err.find("Dockerfile:2: COPY needs a build context") == 0);
    auto with_ctx = r.isolab({"build", "-t", "stdin:2", "-f", "-", ctx}, 60000, "FROM busybox\nCOPY hello.txt /\n");
    REQUIRE(with_ctx.code == 0);
    CHECK(r.isolab({"run", "--rm", "stdin:2", "cat", "/hello.txt"}).out == "hi\n");
    auto both = r.isolab({"build", "-f", "-", "-"}, 60000, "FROM busybox\n");
    CHECK(both.code == 125);
    CHECK(both.err == "invalid argument: can't use stdin for both build context and dockerfile\n");

    for (const std::string mode : {"tty", "rawjson", "fancy"}) {
        auto p = r.isolab({"build", "--progress", mode, "-"}, 60000, "FROM busybox\n");
        CHECK(p.code == 125);
        CHECK(p.err.find("invalid argument \"" + mode + "\" for \"--progress\" flag") == 0);
    }
    auto quiet = r.isolab({"build", "--progress", "quiet", "-"}, 60000, "FROM busybox\nLABEL a=b\n");
    CHECK(quiet.code == 0);
    CHECK(quiet.out.rfind("sha256:", 0) == 0);
    CHECK(quiet.out.find("Step") == std::string::npos);

    // --progress plain: BuildKit's vertices, numbered, with RUN's output as `#N SECONDS line`.
    write(ctx + "/Dockerfile", "FROM busybox AS tool\nRUN echo made > /m\nFROM busybox\nENV A=1\nCOPY --from=tool /m /m\n"
                               "RUN echo plain-output\n");
    auto plain = r.isolab({"build", "--progress", "plain", "-t", "plain:1", ctx});
    INFO(plain.out << plain.err);
    REQUIRE(plain.code == 0);
    CHECK(plain.out.rfind("\n#1 [internal] load build definition from Dockerfile\n#1 transferring dockerfile: ", 0) == 0);
    CHECK(plain.out.find("\n#2 [internal] load .dockerignore\n") != std::string::npos);
    CHECK(plain.out.find("\n#3 [tool 1/2] FROM busybox\n#3 DONE ") != std::string::npos);
    CHECK(plain.out.find("\n#4 [tool 2/2] RUN echo made > /m\n") != std::string::npos);
    CHECK(plain.out.find("\n#6 [stage-1 2/3] COPY --from=tool /m /m\n") != std::string::npos);  // ENV is no vertex
    CHECK(std::regex_search(plain.out, std::regex("\n#7 [0-9]+\\.[0-9]{3} plain-output\n")));
    CHECK(plain.out.find("\n#8 exporting to image\n") != std::string::npos);
    CHECK(plain.out.find("#8 naming to docker.io/library/plain:1 done\n") != std::string::npos);
    CHECK(plain.out.find("Step 1/") == std::string::npos);
    auto cached = r.isolab({"build", "--progress", "plain", "-t", "plain:1", ctx});
    CHECK(cached.out.find("\n#4 [tool 2/2] RUN echo made > /m\n#4 CACHED\n") != std::string::npos);

    auto many = r.isolab({"build", "-"}, 60000, "FROM busybox\nRUNN x\nHEALTHCHECK --retries=-2 CMD x\nCOPY --link a b\n");
    CHECK(many.code == 1);
    CHECK(many.err.find("Dockerfile:2: unknown instruction: RUNN") == 0);
    CHECK(many.err.find("\nDockerfile:3: --retries cannot be negative (-2)\n") != std::string::npos);
    CHECK(many.err.find("\nDockerfile:4: COPY --link is not supported by IsoLab\n") != std::string::npos);
}

TEST_CASE("build: ADD of a URL downloads the file (0600, the Last-Modified time, never unpacked); COPY of a URL and bad URLs are refused") {
    TempRoot r;
    if (!real_containers(r)) return;
    TinyRegistry web;  // an HTTP server on 127.0.0.1: nothing leaves this machine
    web.set("/files/greeting.txt", {200, "hello from the web\n", "text/plain"});
    web.set_headers("/files/greeting.txt", "Last-Modified: Tue, 15 Nov 1994 08:12:31 GMT\r\n");
    web.set("/files/arch.tar", {200, std::string(1024, 'x'), "application/x-tar"});
    web.set("/files/gone.txt", {404, "not here", "text/plain"});
    web.set("/", {200, "a directory listing", "text/plain"});
    web.set_headers("/", "Content-Disposition: attachment; filename=\"../../escape\"\r\n");
    const std::string base = "http://" + web.host();
    // `build -`: no context at all, the files come from the web.
    const std::string dockerfile = "FROM busybox\n"
                                   "ADD " + base + "/files/greeting.txt /data/\n"
                                   "ADD " + base + "/files/arch.tar /data/\n"
                                   "ADD " + base + "/files/greeting.txt /renamed.txt\n";
    auto b = r.isolab({"build", "-q", "-t", "fromweb", "-"}, 60000, dockerfile);
    REQUIRE_MESSAGE(b.code == 0, b.err);
    auto seen = r.isolab({"run", "--rm", "fromweb", "sh", "-c",
                          "stat -c '%n %a %Y %s' /data/greeting.txt /data/arch.tar /renamed.txt; cat /renamed.txt"});
    REQUIRE(seen.code == 0);
    CHECK(seen.out.find("/data/greeting.txt 600 784887151 19\n") != std::string::npos);  // Last-Modified
    CHECK(seen.out.find("/data/arch.tar 600 0 1024\n") != std::string::npos);            // a file, not unpacked
    CHECK(seen.out.find("/renamed.txt 600 784887151 19\n") != std::string::npos);
    CHECK(seen.out.find("hello from the web") != std::string::npos);
    // The same bytes again: every step from the cache, the same image.
    auto again = r.isolab({"build", "-q", "-t", "fromweb2", "-"}, 60000, dockerfile);
    REQUIRE(again.code == 0);
    CHECK(again.out == b.out);

    const std::string images_before = r.isolab({"images", "-a", "-q"}).out;
    auto gone = r.isolab({"build", "-t", "bad", "-"}, 60000, "FROM busybox\nADD " + base + "/files/gone.txt /x\n");
    CHECK(gone.code == 1);
    CHECK(gone.err.find("Dockerfile:2: ADD " + base + "/files/gone.txt: failed to GET " + base +
                        "/files/gone.txt with status 404 Not Found: not here") != std::string::npos);
    auto copy = r.isolab({"build", "-t", "bad", "-"}, 60000, "FROM busybox\nCOPY " + base + "/files/greeting.txt /x\n");
    CHECK(copy.code == 1);
    CHECK(copy.err.find("source can't be a URL for COPY") != std::string::npos);
    // A name from the server that is a path is refused; nothing is written outside the layer.
    auto climb = r.isolab({"build", "-t", "bad", "-"}, 60000, "FROM busybox\nADD " + base + "/ /x/\n");
    CHECK(climb.code == 1);
    CHECK(climb.err.find("cannot determine filename from url: " + base + "/") != std::string::npos);
    CHECK(r.isolab({"images", "-a", "-q"}).out == images_before);  // no image from the failed builds
    CHECK(!std::filesystem::exists(r.path() + "/escape"));
}
