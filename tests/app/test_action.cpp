// The parsed Command as the one action a click, a lesson step or a typed line becomes
// (app/cli/args.hpp): to_argv/to_command_line print it back, and parsing that gives the same
// Command, field by field; the GUI's own lines print back exactly as the command log shows them.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include "app/cli/args.hpp"
#include "sim/state/lifecycle.hpp"
#include "sim/lesson/lesson.hpp"
#include "sim/view/lifecycle_model.hpp"
#include "sim/view/resources_model.hpp"
#include "sim/view/snapshot.hpp"
#include "sim/view/stacks.hpp"
#include "sim/vm/vm_lifecycle.hpp"

using isolab::cli::Command;
using isolab::cli::parse_action;
using isolab::cli::parse_line;
using isolab::cli::to_argv;
using isolab::cli::to_command_line;

namespace {

std::string words_text(const std::vector<std::string>& words) {
    std::string out;
    for (const auto& w : words) out += (out.empty() ? "[" : " [") + w + "]";
    return out;
}

// parse(to_argv(a)) == a and parse_line(to_command_line(a)) == a, for the Command LINE parses to.
// Returns the Command.
Command check_round_trip(const std::string& line) {
    INFO("line: " << line);
    auto parsed = parse_line(line);
    REQUIRE_MESSAGE(parsed.ok(), (parsed.ok() ? "" : parsed.error().message));
    const Command& a = *parsed;
    const std::vector<std::string> argv = to_argv(a);
    INFO("to_argv: " << words_text(argv));
    auto again = parse_action(argv);
    REQUIRE_MESSAGE(again.ok(), (again.ok() ? "" : again.error().message));
    CHECK(*again == a);
    const std::string printed = to_command_line(a);
    INFO("to_command_line: " << printed);
    auto reread = parse_line(printed);
    REQUIRE_MESSAGE(reread.ok(), (reread.ok() ? "" : reread.error().message));
    CHECK(*reread == a);
    // Canonical: printing the reparsed Command gives the same words.
    CHECK(to_argv(*again) == argv);
    return a;
}

// The flags `isolab VERB --help` lists, as "--name" (what every printed flag contains, long or
// short, is checked against these names through the long form below).
struct UsageFlag {
    std::string long_name;  // "--detach"
    std::string short_name; // "-d" or ""
};

std::vector<UsageFlag> usage_flags(const std::string& verb) {
    std::vector<UsageFlag> flags;
    const std::string text = isolab::cli::usage(verb);
    size_t options = text.find("\nOptions:\n");
    REQUIRE(options != std::string::npos);
    size_t pos = options + 10;
    while (pos < text.size()) {
        size_t nl = text.find('\n', pos);
        if (nl == std::string::npos) nl = text.size();
        std::string line = text.substr(pos, nl - pos);
        pos = nl + 1;
        UsageFlag f;
        if (line.rfind("  -", 0) == 0 && line[4] == ',') {
            f.short_name = line.substr(2, 2);
            line = line.substr(6);
        } else {
            line = line.substr(6);
        }
        f.long_name = line.substr(0, line.find(' '));
        flags.push_back(f);
    }
    return flags;
}

}  // namespace

TEST_CASE("action: every verb's Command prints back to words that parse into the same Command") {
    // A file for --env-file: its assignments arrive as -e words.
    char env_path[] = "/tmp/isolab-action-env-XXXXXX";
    int fd = ::mkstemp(env_path);
    REQUIRE(fd >= 0);
    const std::string env_text = "# comment\nFROM_FILE=1\nSPACED=a b\n";
    REQUIRE(::write(fd, env_text.data(), env_text.size()) == static_cast<ssize_t>(env_text.size()));
    ::close(fd);
    const std::string env_file = env_path;

    const std::vector<std::string> lines = {
        // run and create: every container flag, typed as learners type them.
        "run -d -P isolab/web",
        "run -dit --rm --name /web -p 8080:80 -p 127.0.0.1::81/udp -p '[::1]:9000:90' -p 7000-7001:70-71 busybox sh -c "
        "'echo \"hi\"; echo it'\\''s'",
        "run --init --privileged -q --sig-proxy=false --detach-keys ctrl-x -a stdout -a STDERR --cap-add NET_ADMIN "
        "--cap-drop ALL --cpus 0.5 --entrypoint '' -e A=1 -e 'B=two words' -h box -l team=a -l 'k=v=w' "
        "--log-driver json-file --log-opt max-size=1m --log-opt max-file=5 -m 1.5g --memory-swap -1 --network none "
        "--pids-limit 64 --pull never --restart on-failure:3 --runtime runc --stop-signal SIGUSR1 --stop-timeout 5 "
        "--security-opt no-new-privileges=false --security-opt seccomp=unconfined "
        "-u 1000:1000 -w /tmp busybox -- -weird",
        "create --pid host --ipc container:db --uts host --network container:db busybox",
        "run --rm --pid container:db --ipc none --uts host busybox",
        "run --entrypoint /bin/sh -m 6291457 --memory-swap 2g --restart always --net mynet --network= busybox",
        "run --restart unless-stopped --stop-timeout -1 --pids-limit -1 --runtime isolab --pull=never busybox",
        "run --restart on-failure --cpus 1 --log-opt max-size=10000000 busybox",
        "run -- -image-like",
        "run --help -d --name x busybox ls",
        "run -i=false -t=true --rm=false busybox",
        "create --name web2 -it --env-file " + env_file + " -e C=3 busybox sh",
        "create --init --privileged -q -a stdin --cap-add NET_ADMIN --cap-drop ALL --cpus 0.5 --entrypoint /bin/sh "
        "-h box -l team=a --log-opt max-file=2 -m 64m --memory-swap 128m --network bridge --pids-limit 64 "
        "--pull never --restart no -P --restart on-failure:1 --runtime runc --stop-signal 15 --stop-timeout 5 "
        "--security-opt systempaths=unconfined --security-opt 'seccomp={\"defaultAction\": \"SCMP_ACT_ALLOW\"}' "
        "-u nobody -w /srv busybox",
        "create --rm busybox",
        "run -d --health-cmd 'wget -qO- localhost || exit 1' --health-interval 1m30s --health-timeout 2.5s "
        "--health-retries 5 --health-start-period 10s --health-start-interval 500ms busybox",
        "run --no-healthcheck busybox",
        "create --no-healthcheck busybox",
        "run --health-timeout=3s --health-retries 0 busybox",
        "create --no-healthcheck=false --health-cmd='exit 0' --health-interval 250ms --health-retries 2 "
        "--health-start-period 1h0m0s --health-start-interval 1.5s --health-timeout 1m busybox",
        "container create -p 80 --cpus 1/4 busybox",
        "container run -d --name web -P isolab/web",
        // The other container verbs.
        "start -ai --detach-keys ctrl-p web db",
        "attach --no-stdin --sig-proxy=false --detach-keys ctrl-x,y web",
        "stop -t 2 web",
        "stop -s SIGINT --time 0 web",
        "container stop --timeout=-1 web",
        "restart -t 5 -s SIGTERM web",
        "kill web",
        "kill -s HUP web db",
        "container kill --signal=KILL web",
        "pause web",
        "unpause web a",
        "rm -f density-1 density-2",
        "rm -fv web",
        "container rm -- -odd",
        "ps -a",
        "ps -aqs --no-trunc -l -n 3 -f status=exited -f name=web --format '{{.Names}}'",
        "container ls -a",
        "container list --last=-1",
        "exec -it -u root -w /tmp -e A=1 --env-file " + env_file +
            " --privileged -d web sh -c 'echo \"$HOME\"'",
        "exec web -- ls -l",
        "logs -f -t --details -n 5 --since 1m --until 2026-01-01T00:00:00Z web",
        "logs --tail all web",
        "inspect -s -f '{{.Id}}' --type container web",
        "inspect --type= web",
        "container inspect web",
        "image inspect busybox",
        "image inspect --type container x",
        "wait a b",
        "top web -o pid,comm",
        "diff web",
        "port web 80/tcp",
        "commit -a 'Ann <a@b>' -c 'ENV A=1' -c 'CMD [\"sh\"]' -m msg --pause=false web repo:tag",
        // Images.
        "history -H=false -q --no-trunc --format '{{.ID}}' busybox",
        "images -a --digests -q --no-trunc -f dangling=true --format x busybox",
        "image ls",
        "rmi -f --no-prune a b",
        "image rm a",
        "build -t a:1 -t b --build-arg X=1 -f Dockerfile.dev --no-cache -q .",
        "build --target tool --progress plain -f - .",
        "tag a b",
        "save -o out.tar a b",
        "load -q -i in.tar",
        "push localhost:5000/app:v1",
        "push -a -q --platform linux/amd64 --disable-content-trust localhost:5000/app",
        "image push --disable-content-trust=false 127.0.0.1:5000/team/app",
        "export -o out.tar web",
        "container export web",
        "import -c 'ENV A=1' -c 'CMD [\"sh\"]' -m msg - repo:tag",
        "image import rootfs.tar",
        "completion bash",
        "completion",
        // Registries.
        "login -u alice --password-stdin 127.0.0.1:5000",
        "login",
        "logout 127.0.0.1:5000",
        "logout",
        "search -f stars=3 --filter is-official=true --format '{{.Name}}' --limit 10 --no-trunc busybox",
        // The rest, and global flags.
        "version --format '{{.Client}}'",
        "version",
        "-v",
        "--version",
        "-D -v version -f x",
        "gui --present --lesson containers --screenshot /tmp/x.png --frames 3 --view race --select vm:vm1 "
        "--size 800x600 --fullscreen --lessons --study-group --lang ko",
        "gui --screenshot /tmp/x.png --audit --view all",
        "--root /tmp/r --lang en -D ps -a",
        "--root /tmp/r",
        "gui",
        "help",
        "help run",
        "--help",
        "-h",
        "container",
        "image --help",
        "ps --help",
        "container ls --help -a",
        "doctor --json --fix",
        "vm start -d vm1",
        "network create net1",
        "volume create -d local --label a=b v1",
        "volume ls -f dangling=true --format json -q",
        "volume inspect -f '{{.Name}}' v1",
        "volume rm -f v1",
        "volume prune -a --filter label=x -f",
        "lesson play 03 --auto",
        "race --json",
        "runtime state x",
        "system reset -f",
        "--root /tmp/r bundle web /tmp/b",
        "run -v data:/data -v /srv/site:/www:ro -v /anon --mount type=tmpfs,target=/t,tmpfs-size=1m "
        "--tmpfs /run:size=2m --read-only busybox",
        "create -v data:/data --mount type=bind,src=/srv,dst=/srv,ro --tmpfs /tmp --read-only --volumes-from db:ro busybox",
        "run --volumes-from db busybox",
    };
    std::vector<Command> commands;
    for (const std::string& line : lines) commands.push_back(check_round_trip(line));

    // `isolab` alone: no words, and back.
    auto bare = parse_action({});
    REQUIRE(bare.ok());
    CHECK(bare->bare);
    CHECK(to_argv(*bare).empty());
    CHECK(*parse_action(to_argv(*bare)) == *bare);
    CHECK_FALSE(parse_action({"gui"})->bare);
    // The blank line of a terminal.
    CHECK(to_command_line(*parse_line("   ")) == "");

    // What parse_action keeps is printed, not what was typed: the file's lines, sizes, mappings.
    CHECK(to_command_line(*parse_line("create --name web2 -it --env-file " + env_file + " -e C=3 busybox sh")) ==
          "isolab create -e FROM_FILE=1 -e 'SPACED=a b' -e C=3 -i --name web2 -t busybox sh");
    std::remove(env_path);
    CHECK(to_command_line(*parse_line("run -m 1.5g -p 7000-7001:70-71 --cpus 1/4 --name=/web busybox")) ==
          "isolab run --cpus 0.25 -m 1536m --name web -p 7000:70 -p 7001:71 busybox");
    CHECK(to_command_line(*parse_line("docker container ls -aq")) == "isolab container ls -a -q");
    CHECK(to_command_line(*parse_line("kill -s KILL web")) == "isolab kill web");
    CHECK(to_command_line(*parse_line("exec web -- ls -l")) == "isolab exec web -- ls -l");
    CHECK(to_command_line(*parse_line("-v")) == "isolab -v");
    CHECK(to_command_line(*parse_line("commit --pause=false -m 'it'\\''s' w")) ==
          "isolab commit -m 'it'\\''s' --pause=false w");

    // Coverage: every flag `VERB --help` lists is printed by at least one of the lines above (so
    // a new flag without a printer, or without a case here, fails). --help is printed for every
    // verb by the same code; --env-file is printed as -e; --log-driver has one value, json-file,
    // which is the default; rm's --link and exec's --detach-keys are always refused.
    const std::set<std::string> printed_otherwise = {"--help", "--env-file", "--log-driver"};
    const char* verbs[] = {"run",  "create",  "start", "attach", "stop",    "restart", "kill",  "pause",  "unpause",
                           "rm",   "ps",      "exec",  "logs",    "inspect", "wait",  "top",    "diff",
                           "port", "commit",  "history", "images", "rmi",    "build", "tag",    "save",
                           "load", "version", "gui",   "help",    "doctor", "export", "import", "completion",
                           "volume create", "volume ls", "volume inspect", "volume rm", "volume prune",
                           "login", "logout", "search"};
    for (const char* verb : verbs) {
        std::set<std::string> seen;
        bool any = false;
        for (const Command& c : commands) {
            if (c.verb != verb) continue;
            any = true;
            for (const std::string& w : to_argv(c)) seen.insert(w.substr(0, w.find('=')));
        }
        INFO("verb: " << std::string(verb));
        CHECK(any);
        for (const UsageFlag& f : usage_flags(verb)) {
            if (printed_otherwise.count(f.long_name)) continue;
            if (std::string(verb) == "exec" && f.long_name == "--detach-keys") continue;
            if (std::string(verb) == "rm" && f.long_name == "--link") continue;
            if (std::string(verb) == "volume create" && f.long_name == "--opt") continue;  // always refused
            if (std::string(verb) == "login" && f.long_name == "--password") continue;     // always refused
            INFO("flag: " << f.long_name);
            CHECK((seen.count(f.long_name) || (!f.short_name.empty() && seen.count(f.short_name))));
        }
    }
}

TEST_CASE("action: the GUI's button lines print back exactly as the command log shows them") {
    namespace view = isolab::view;
    view::WorldSnapshot empty, with_web;
    isolab::Image web;
    web.repo_tags = {"isolab/web:latest"};
    with_web.images.push_back(web);

    std::vector<std::string> lines = {
        view::density_run_command(1),
        view::density_remove_command({"density-1", "density-2", "density-3"}),
        "stop -t 2 web",  // the stacks view's stop button
        "rm -f web",
        "pause web",
        "unpause web",
        "vm create " + view::next_vm_name(empty),
        "vm start -d vm1",
        "vm stop vm1",
        "vm rm -f vm1",
    };
    for (const view::WorldSnapshot* w : {&empty, &with_web}) {
        std::string run = view::run_web_command(*w);
        lines.push_back(run);
        // As the lifecycle view composes its run and create arrows.
        std::string rest = run.rfind("run -d ", 0) == 0 ? run.substr(7) : run.substr(4);
        auto d = view::container_diagram(isolab::ContainerState::Running, false, "web", "0123456789ab",
                                         "run -d --name web-2 " + rest, "create --name web-2 " + rest);
        for (const auto& e : d.edges)
            if (!e.command.empty()) lines.push_back(e.command);
    }
    auto vd = view::vm_diagram(isolab::vm::VmState::Running, false, "vm1", "vm2");
    for (const auto& e : vd.edges)
        if (!e.command.empty()) lines.push_back(e.command);
    CHECK(lines.size() > 25);

    for (const std::string& line : lines) {
        INFO("line: " << line);
        auto c = parse_line(line);
        REQUIRE_MESSAGE(c.ok(), (c.ok() ? "" : c.error().message));
        CHECK(to_command_line(*c) == "isolab " + line);
        check_round_trip(line);
    }
}

TEST_CASE("action: every command line of every lesson round-trips") {
    auto catalog = isolab::lesson::load_catalog(ISOLAB_SOURCE_DIR "/lessons");
    int lines = 0;
    for (const auto* lesson : catalog.lessons())
        for (const auto& step : lesson->steps)
            for (const std::string& line : step.action.run) {
                auto c = parse_line(line);
                // A lesson may show a refusal on purpose (expect_exit); those have no Command.
                if (!c.ok()) continue;
                check_round_trip(line);
                ++lines;
            }
    // Ten lessons with several actions each; none would mean the catalog did not load.
    CHECK(lines > 20);
}
