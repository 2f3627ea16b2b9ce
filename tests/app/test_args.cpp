// Tests for the command-line parser (app/cli/args.hpp).
//
// Every error case asserts the whole message and the exit code: these texts are what learners
// compare with Docker's, so a reworded message is a failing test, not a detail.
#include <doctest/doctest.h>

#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "app/cli/args.hpp"

using isolab::PortMapping;
using isolab::RestartPolicyKind;
using isolab::cli::Command;
using isolab::cli::parse_args;

namespace {

using Argv = std::vector<std::string>;

std::string joined(const Argv& argv) {
    std::string out;
    for (const auto& a : argv) out += (out.empty() ? "" : " ") + ("[" + a + "]");
    return out;
}

Command parsed(const Argv& argv) {
    auto r = parse_args(argv);
    INFO("argv: " << joined(argv));
    REQUIRE_MESSAGE(r.ok(), (r.ok() ? std::string() : r.error().message));
    return r.value();
}

const std::string kRunUse = "isolab run [OPTIONS] IMAGE [COMMAND] [ARG...]";

// cobra/pflag flag error, Docker v28+ layout.
std::string flag_err(const std::string& reason, const std::string& path, const std::string& use) {
    return reason + "\n\nUsage:  isolab " + path + " " + use + "\n\nRun 'isolab " + path +
           " --help' for more information";
}
std::string run_flag_err(const std::string& reason) {
    return flag_err(reason, "run", "[OPTIONS] IMAGE [COMMAND] [ARG...]");
}
// Docker's reportError after flag parsing.
std::string run_err(const std::string& reason, const std::string& path = "run") {
    return "isolab: " + reason + "\n\nRun 'isolab " + path + " --help' for more information";
}
std::string daemon_err(const std::string& reason, const std::string& path = "run") {
    return run_err("Error response from daemon: " + reason, path);
}

struct ErrCase {
    Argv argv;
    std::string message;
    int exit_code = 125;
};

void check_errors(const std::vector<ErrCase>& cases) {
    for (const ErrCase& c : cases) {
        CAPTURE(joined(c.argv));
        auto r = parse_args(c.argv);
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().message == c.message);
        // Docker 28's client exits 1 for a wrong number of arguments (cli/required.go), 125 for
        // the other usage errors.
        const bool arg_count = c.message.find("' requires ") != std::string::npos ||
                               c.message.find("' accepts no arguments") != std::string::npos;
        CHECK(r.error().exit_code == (arg_count && c.exit_code == 125 ? 1 : c.exit_code));
    }
}

struct OkCase {
    Argv argv;
    std::function<void(const Command&)> check;
};

void check_oks(const std::vector<OkCase>& cases) {
    for (const OkCase& c : cases) {
        CAPTURE(joined(c.argv));
        auto r = parse_args(c.argv);
        REQUIRE_MESSAGE(r.ok(), (r.ok() ? std::string() : r.error().message));
        c.check(r.value());
    }
}

long host_cpus() {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n;
}

// A temporary file that removes itself.
struct TempFile {
    std::string path;
    explicit TempFile(const std::string& content) {
        char tmpl[] = "/tmp/isolab_test_args_XXXXXX";
        int fd = mkstemp(tmpl);
        REQUIRE(fd >= 0);
        REQUIRE(write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()));
        close(fd);
        path = tmpl;
    }
    ~TempFile() { std::remove(path.c_str()); }
};

bool same_port(const PortMapping& m, const std::string& ip, int host, int container, const std::string& proto) {
    return m.host_ip == ip && m.host_port == host && m.container_port == container && m.proto == proto;
}

}  // namespace

// =============================================================================================
// run / create: image, command, the "--" rule

TEST_CASE("run: IMAGE then the command, verbatim") {
    Command c = parsed({"run", "-d", "--name", "web", "busybox", "httpd", "-f"});
    CHECK(c.verb == "run");
    CHECK(c.command_path == "run");
    CHECK(c.detach);
    CHECK(c.spec.name == "web");
    CHECK(c.spec.image == "busybox");
    CHECK(c.spec.cmd == Argv{"httpd", "-f"});
    CHECK(c.args.empty());

    Command ls = parsed({"run", "busybox", "ls", "-la"});
    CHECK(ls.spec.cmd == Argv{"ls", "-la"});

    // Flags after the image belong to the command, not to run.
    Command after = parsed({"run", "busybox", "--rm", "-d", "-e", "X=1"});
    CHECK(after.spec.cmd == Argv{"--rm", "-d", "-e", "X=1"});
    CHECK_FALSE(after.spec.auto_remove);
    CHECK_FALSE(after.detach);
    CHECK(after.spec.env.empty());

    // --help after the image is the command's too.
    Command h = parsed({"run", "busybox", "--help"});
    CHECK_FALSE(h.help);
    CHECK(h.spec.cmd == Argv{"--help"});

    // No command: the image's Cmd is used.
    CHECK(parsed({"run", "busybox"}).spec.cmd.empty());
}

TEST_CASE("run: -- ends the flags") {
    Command a = parsed({"run", "-d", "--", "busybox", "-x"});
    CHECK(a.detach);
    CHECK(a.spec.image == "busybox");
    CHECK(a.spec.cmd == Argv{"-x"});

    // Even a word that looks like a flag becomes the image after --.
    Command b = parsed({"run", "--", "--rm"});
    CHECK(b.spec.image == "--rm");
    CHECK_FALSE(b.spec.auto_remove);

    // After the image, -- is an ordinary word of the command (pflag, non-interspersed).
    Command c = parsed({"run", "busybox", "--", "echo", "hi"});
    CHECK(c.spec.cmd == Argv{"--", "echo", "hi"});
}

TEST_CASE("run: every flag in short, long and = forms") {
    setenv("ISOLAB_TEST_FROM_ENV", "copied", 1);
    setenv("ISOLAB_TEST_EMPTY", "", 1);
    unsetenv("ISOLAB_TEST_UNSET");
    const std::string img = "busybox";
    std::vector<OkCase> cases = {
        // -d / -i / -t / --rm, alone and combined
        {{"run", "-d", img}, [](const Command& c) { CHECK(c.detach); }},
        {{"run", "--detach", img}, [](const Command& c) { CHECK(c.detach); }},
        {{"run", "--detach=true", img}, [](const Command& c) { CHECK(c.detach); }},
        {{"run", "--detach=false", img}, [](const Command& c) { CHECK_FALSE(c.detach); }},
        {{"run", "-d=false", img}, [](const Command& c) { CHECK_FALSE(c.detach); }},
        {{"run", "-d", "--detach=0", img}, [](const Command& c) { CHECK_FALSE(c.detach); }},
        {{"run", "-i", img}, [](const Command& c) { CHECK(c.spec.interactive); }},
        {{"run", "--interactive", img}, [](const Command& c) { CHECK(c.spec.interactive); }},
        {{"run", "--interactive=T", img}, [](const Command& c) { CHECK(c.spec.interactive); }},
        {{"run", "-t", img}, [](const Command& c) { CHECK(c.spec.tty); }},
        {{"run", "--tty", img}, [](const Command& c) { CHECK(c.spec.tty); }},
        {{"run", "-it", img, "sh"},
         [](const Command& c) {
             CHECK(c.spec.interactive);
             CHECK(c.spec.tty);
             CHECK_FALSE(c.detach);
             CHECK(c.spec.cmd == Argv{"sh"});
         }},
        {{"run", "-ti", img},
         [](const Command& c) {
             CHECK(c.spec.interactive);
             CHECK(c.spec.tty);
         }},
        {{"run", "-dit", img},
         [](const Command& c) {
             CHECK(c.detach);
             CHECK(c.spec.interactive);
             CHECK(c.spec.tty);
         }},
        {{"run", "--rm", img}, [](const Command& c) { CHECK(c.spec.auto_remove); }},
        {{"run", "--rm=false", img}, [](const Command& c) { CHECK_FALSE(c.spec.auto_remove); }},
        // --name, with Docker's optional leading slash
        {{"run", "--name", "web", img}, [](const Command& c) { CHECK(c.spec.name == "web"); }},
        {{"run", "--name=web", img}, [](const Command& c) { CHECK(c.spec.name == "web"); }},
        {{"run", "--name", "/web", img}, [](const Command& c) { CHECK(c.spec.name == "web"); }},
        {{"run", "--name", "my_app.v-2", img}, [](const Command& c) { CHECK(c.spec.name == "my_app.v-2"); }},
        {{"run", "--name", "a", "--name", "b2", img}, [](const Command& c) { CHECK(c.spec.name == "b2"); }},
        // -e / --env, repeatable, copying bare names from the environment
        {{"run", "-e", "A=1", img}, [](const Command& c) { CHECK(c.spec.env == Argv{"A=1"}); }},
        {{"run", "--env", "A=1", img}, [](const Command& c) { CHECK(c.spec.env == Argv{"A=1"}); }},
        {{"run", "--env=A=1", img}, [](const Command& c) { CHECK(c.spec.env == Argv{"A=1"}); }},
        {{"run", "-eA=1", img}, [](const Command& c) { CHECK(c.spec.env == Argv{"A=1"}); }},
        {{"run", "-e=A=1", img}, [](const Command& c) { CHECK(c.spec.env == Argv{"A=1"}); }},
        {{"run", "-e", "A=", img}, [](const Command& c) { CHECK(c.spec.env == Argv{"A="}); }},
        {{"run", "-e", "A=x=y", img}, [](const Command& c) { CHECK(c.spec.env == Argv{"A=x=y"}); }},
        {{"run", "-e", "A=1", "--env", "B=2", "-e", "C=3", img},
         [](const Command& c) { CHECK(c.spec.env == Argv{"A=1", "B=2", "C=3"}); }},
        {{"run", "-e", "ISOLAB_TEST_FROM_ENV", img},
         [](const Command& c) { CHECK(c.spec.env == Argv{"ISOLAB_TEST_FROM_ENV=copied"}); }},
        {{"run", "-e", "ISOLAB_TEST_EMPTY", img},
         [](const Command& c) { CHECK(c.spec.env == Argv{"ISOLAB_TEST_EMPTY="}); }},
        {{"run", "-e", "ISOLAB_TEST_UNSET", "-e", "B=2", img},
         [](const Command& c) { CHECK(c.spec.env == Argv{"B=2"}); }},
        // -p / --publish, -P / --publish-all
        {{"run", "-p", "8080:80", img},
         [](const Command& c) {
             REQUIRE(c.spec.ports.size() == 1);
             CHECK(same_port(c.spec.ports[0], "", 8080, 80, "tcp"));
         }},
        {{"run", "--publish", "8080:80", img}, [](const Command& c) { CHECK(c.spec.ports.size() == 1); }},
        {{"run", "--publish=127.0.0.1:8080:80/udp", img},
         [](const Command& c) {
             REQUIRE(c.spec.ports.size() == 1);
             CHECK(same_port(c.spec.ports[0], "127.0.0.1", 8080, 80, "udp"));
         }},
        {{"run", "-p8080:80", img},
         [](const Command& c) {
             REQUIRE(c.spec.ports.size() == 1);
             CHECK(c.spec.ports[0].host_port == 8080);
         }},
        {{"run", "-p=8080:80", img}, [](const Command& c) { CHECK(c.spec.ports.size() == 1); }},
        {{"run", "-dp", "8080:80", img},
         [](const Command& c) {
             CHECK(c.detach);
             CHECK(c.spec.ports.size() == 1);
         }},
        {{"run", "-dp8080:80", img},
         [](const Command& c) {
             CHECK(c.detach);
             REQUIRE(c.spec.ports.size() == 1);
             CHECK(c.spec.ports[0].container_port == 80);
         }},
        {{"run", "-p", "80", "-p", "53:53/udp", img},
         [](const Command& c) {
             REQUIRE(c.spec.ports.size() == 2);
             CHECK(same_port(c.spec.ports[0], "", 0, 80, "tcp"));
             CHECK(same_port(c.spec.ports[1], "", 53, 53, "udp"));
         }},
        {{"run", "-P", img}, [](const Command& c) { CHECK(c.spec.publish_all); }},
        {{"run", "--publish-all", img}, [](const Command& c) { CHECK(c.spec.publish_all); }},
        // -m / --memory
        {{"run", "-m", "64m", img}, [](const Command& c) { CHECK(c.spec.memory_bytes == 64 << 20); }},
        {{"run", "--memory", "64m", img}, [](const Command& c) { CHECK(c.spec.memory_bytes == 64 << 20); }},
        {{"run", "--memory=64M", img}, [](const Command& c) { CHECK(c.spec.memory_bytes == 64 << 20); }},
        {{"run", "-m64mb", img}, [](const Command& c) { CHECK(c.spec.memory_bytes == 64 << 20); }},
        {{"run", "-m", "1g", img}, [](const Command& c) { CHECK(c.spec.memory_bytes == 1LL << 30); }},
        {{"run", "-m", "6m", img}, [](const Command& c) { CHECK(c.spec.memory_bytes == 6 << 20); }},
        {{"run", "-m", "6291456", img}, [](const Command& c) { CHECK(c.spec.memory_bytes == 6291456); }},
        {{"run", "-m", "0", img}, [](const Command& c) { CHECK(c.spec.memory_bytes == 0); }},
        {{"run", "-m", "1.5g", img}, [](const Command& c) { CHECK(c.spec.memory_bytes == 1610612736); }},
        // --memory-swap
        {{"run", "-m", "64m", "--memory-swap", "128m", img},
         [](const Command& c) { CHECK(c.memory_swap == 128 << 20); }},
        {{"run", "-m", "64m", "--memory-swap=-1", img}, [](const Command& c) { CHECK(c.memory_swap == -1); }},
        {{"run", "-m", "64m", "--memory-swap", "-1", img}, [](const Command& c) { CHECK(c.memory_swap == -1); }},
        // --pids-limit
        {{"run", "--pids-limit", "10", img}, [](const Command& c) { CHECK(c.spec.pids_limit == 10); }},
        {{"run", "--pids-limit=-1", img}, [](const Command& c) { CHECK(c.spec.pids_limit == -1); }},
        // --cpus (0 is Docker's "no limit")
        {{"run", "--cpus", "1", img}, [](const Command& c) { CHECK(c.spec.nano_cpus == 1'000'000'000); }},
        {{"run", "--cpus=0.5", img}, [](const Command& c) { CHECK(c.spec.nano_cpus == 500'000'000); }},
        {{"run", "--cpus", "0.01", img}, [](const Command& c) { CHECK(c.spec.nano_cpus == 10'000'000); }},
        {{"run", "--cpus", "0", img}, [](const Command& c) { CHECK(c.spec.nano_cpus == 0); }},
        // -h / --hostname (run's -h is NOT help)
        {{"run", "-h", "box", img},
         [](const Command& c) {
             CHECK(c.spec.hostname == "box");
             CHECK_FALSE(c.help);
         }},
        {{"run", "--hostname", "box", img}, [](const Command& c) { CHECK(c.spec.hostname == "box"); }},
        {{"run", "--hostname=box", img}, [](const Command& c) { CHECK(c.spec.hostname == "box"); }},
        {{"run", "-hbox", img}, [](const Command& c) { CHECK(c.spec.hostname == "box"); }},
        // --network / --net
        {{"run", img}, [](const Command& c) { CHECK(c.spec.network == "default"); }},
        {{"run", "--network", "none", img}, [](const Command& c) { CHECK(c.spec.network == "none"); }},
        {{"run", "--network=host", img}, [](const Command& c) { CHECK(c.spec.network == "host"); }},
        {{"run", "--net", "bridge", img}, [](const Command& c) { CHECK(c.spec.network == "bridge"); }},
        {{"run", "--net=mynet", img}, [](const Command& c) { CHECK(c.spec.network == "mynet"); }},
        // -w / --workdir
        {{"run", "-w", "/app", img}, [](const Command& c) { CHECK(c.spec.workdir == "/app"); }},
        {{"run", "--workdir", "/app", img}, [](const Command& c) { CHECK(c.spec.workdir == "/app"); }},
        {{"run", "--workdir=/tmp", img}, [](const Command& c) { CHECK(c.spec.workdir == "/tmp"); }},
        // --entrypoint: one word; "" clears
        {{"run", img}, [](const Command& c) { CHECK_FALSE(c.spec.entrypoint.has_value()); }},
        {{"run", "--entrypoint", "/bin/sh", img},
         [](const Command& c) {
             REQUIRE(c.spec.entrypoint.has_value());
             CHECK(*c.spec.entrypoint == Argv{"/bin/sh"});
         }},
        {{"run", "--entrypoint", "/bin/sh -c", img},
         [](const Command& c) { CHECK(*c.spec.entrypoint == Argv{"/bin/sh -c"}); }},
        {{"run", "--entrypoint", "", img},
         [](const Command& c) {
             REQUIRE(c.spec.entrypoint.has_value());
             CHECK(c.spec.entrypoint->empty());
         }},
        {{"run", "--entrypoint=", img},
         [](const Command& c) {
             REQUIRE(c.spec.entrypoint.has_value());
             CHECK(c.spec.entrypoint->empty());
         }},
        // -u / --user
        {{"run", "-u", "1000", img}, [](const Command& c) { CHECK(c.spec.user == "1000"); }},
        {{"run", "--user", "nobody", img}, [](const Command& c) { CHECK(c.spec.user == "nobody"); }},
        {{"run", "-u=1000:1000", img}, [](const Command& c) { CHECK(c.spec.user == "1000:1000"); }},
        // --restart
        {{"run", "--restart", "no", img}, [](const Command& c) { CHECK(c.spec.restart.kind == RestartPolicyKind::No); }},
        {{"run", "--restart", "always", img},
         [](const Command& c) { CHECK(c.spec.restart.kind == RestartPolicyKind::Always); }},
        {{"run", "--restart=unless-stopped", img},
         [](const Command& c) { CHECK(c.spec.restart.kind == RestartPolicyKind::UnlessStopped); }},
        {{"run", "--restart", "on-failure", img},
         [](const Command& c) {
             CHECK(c.spec.restart.kind == RestartPolicyKind::OnFailure);
             CHECK(c.spec.restart.max_retries == 0);
         }},
        {{"run", "--restart", "on-failure:3", img},
         [](const Command& c) {
             CHECK(c.spec.restart.kind == RestartPolicyKind::OnFailure);
             CHECK(c.spec.restart.max_retries == 3);
         }},
        {{"run", "--rm", "--restart", "no", img}, [](const Command& c) { CHECK(c.spec.auto_remove); }},
        // -l / --label
        {{"run", "-l", "a=b", img}, [](const Command& c) { CHECK(c.spec.labels.at("a") == "b"); }},
        {{"run", "--label", "a=b", "--label=c=d=e", img},
         [](const Command& c) {
             CHECK(c.spec.labels.size() == 2);
             CHECK(c.spec.labels.at("c") == "d=e");
         }},
        {{"run", "-l", "flag", img}, [](const Command& c) { CHECK(c.spec.labels.at("flag").empty()); }},
        // --stop-timeout / --stop-signal
        {{"run", "--stop-timeout", "5", img}, [](const Command& c) { CHECK(c.spec.stop_timeout == 5); }},
        {{"run", "--stop-timeout=0", img}, [](const Command& c) { CHECK(c.spec.stop_timeout == 0); }},
        {{"run", img}, [](const Command& c) { CHECK(c.spec.stop_timeout == -1); }},
        {{"run", "--stop-signal", "SIGINT", img}, [](const Command& c) { CHECK(c.spec.stop_signal == "SIGINT"); }},
        {{"run", "--stop-signal=usr1", img}, [](const Command& c) { CHECK(c.spec.stop_signal == "usr1"); }},
        // -a / --attach
        {{"run", "-a", "stdout", img}, [](const Command& c) { CHECK(c.attach_streams == Argv{"stdout"}); }},
        {{"run", "--attach", "STDERR", "-a", "stdin", img},
         [](const Command& c) { CHECK(c.attach_streams == Argv{"stderr", "stdin"}); }},
        {{"run", "--attach=Stdout", img}, [](const Command& c) { CHECK(c.attach_streams == Argv{"stdout"}); }},
        // --init, --privileged, --cap-add, --cap-drop
        {{"run", "--init", img}, [](const Command& c) { CHECK(c.spec.init); }},
        {{"run", "--privileged", img}, [](const Command& c) { CHECK(c.spec.privileged); }},
        {{"run", "--cap-add", "NET_ADMIN", "--cap-add=sys_time", "--cap-drop", "all", img},
         [](const Command& c) {
             CHECK(c.spec.cap_add == Argv{"NET_ADMIN", "sys_time"});  // as typed, as `inspect` shows
             CHECK(c.spec.cap_drop == Argv{"all"});
         }},
        // --security-opt
        {{"run", "--security-opt", "no-new-privileges=false", "--security-opt", "seccomp=unconfined",
          "--security-opt", "systempaths=unconfined", img},
         [](const Command& c) {
             CHECK(c.spec.no_new_privileges == false);
             CHECK(c.spec.seccomp == "unconfined");
             CHECK(c.spec.unmask_system_paths);
         }},
        {{"run", "--security-opt", "no-new-privileges", img},
         [](const Command& c) { CHECK(c.spec.no_new_privileges == true); }},
        {{"run", "--security-opt", "no-new-privileges:1", img},
         [](const Command& c) { CHECK(c.spec.no_new_privileges == true); }},
        {{"run", "--security-opt", "seccomp={\"defaultAction\":\"SCMP_ACT_ALLOW\"}", img},
         [](const Command& c) { CHECK(c.spec.seccomp == "{\"defaultAction\":\"SCMP_ACT_ALLOW\"}"); }},
        // namespace modes
        {{"run", "--pid", "host", "--ipc", "shareable", "--uts", "host", img},
         [](const Command& c) {
             CHECK(c.spec.pid_mode == "host");
             CHECK(c.spec.ipc_mode == "shareable");
             CHECK(c.spec.uts_mode == "host");
         }},
        {{"run", "--pid", "container:db", "--ipc", "container:db", "--network", "container:db", img},
         [](const Command& c) {
             CHECK(c.spec.pid_mode == "container:db");
             CHECK(c.spec.ipc_mode == "container:db");
             CHECK(c.spec.network == "container:db");
         }},
        // --pull, -q, --sig-proxy, --detach-keys
        {{"run", img}, [](const Command& c) { CHECK(c.pull == "missing"); }},
        {{"run", "--pull", "never", img}, [](const Command& c) { CHECK(c.pull == "never"); }},
        {{"run", "-q", img}, [](const Command& c) { CHECK(c.quiet); }},
        {{"run", "--sig-proxy=false", img}, [](const Command& c) { CHECK_FALSE(c.sig_proxy); }},
        {{"run", "--detach-keys", "ctrl-x", img}, [](const Command& c) { CHECK(c.detach_keys == "ctrl-x"); }},
        // the brief's example, all at once
        {{"run", "-dit", "--rm", "--name", "web", "-e", "A=1", "-p", "8080:80", "-m", "64m", "--pids-limit", "20",
          "--cpus", "1", "--hostname", "h1", "--network", "none", "-w", "/", "busybox", "httpd", "-f", "-p", "80"},
         [](const Command& c) {
             CHECK(c.detach);
             CHECK(c.spec.auto_remove);
             CHECK(c.spec.name == "web");
             CHECK(c.spec.env == Argv{"A=1"});
             CHECK(c.spec.ports.size() == 1);
             CHECK(c.spec.memory_bytes == 64 << 20);
             CHECK(c.spec.pids_limit == 20);
             CHECK(c.spec.nano_cpus == 1'000'000'000);
             CHECK(c.spec.hostname == "h1");
             CHECK(c.spec.network == "none");
             CHECK(c.spec.workdir == "/");
             CHECK(c.spec.cmd == Argv{"httpd", "-f", "-p", "80"});
         }},
    };
    check_oks(cases);
}

TEST_CASE("run: --env-file lines come first, then -e, in order") {
    setenv("ISOLAB_TEST_FILE_ENV", "from-env", 1);
    unsetenv("ISOLAB_TEST_FILE_UNSET");
    TempFile f(
        "\xEF\xBB\xBF# a comment\n"
        "A=1\r\n"
        "\n"
        "   B=two words\n"
        "ISOLAB_TEST_FILE_ENV\n"
        "ISOLAB_TEST_FILE_UNSET\n"
        "C=");
    Command c = parsed({"run", "-e", "Z=9", "--env-file", f.path, "busybox"});
    CHECK(c.spec.env == Argv{"A=1", "B=two words", "ISOLAB_TEST_FILE_ENV=from-env", "C=", "Z=9"});

    Command e = parsed({"exec", "--env-file=" + f.path, "web", "env"});
    CHECK(e.exec_env == Argv{"A=1", "B=two words", "ISOLAB_TEST_FILE_ENV=from-env", "C="});

    TempFile bad("A B=1\n");
    auto r = parse_args({"run", "--env-file", bad.path, "busybox"});
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message == run_err("poorly formatted environment: variable 'A B' contains whitespaces"));
    CHECK(r.error().exit_code == 125);
}

TEST_CASE("create: the same flags as run, without run's own") {
    Command c = parsed({"create", "-it", "--name", "db", "-e", "A=1", "busybox", "sh"});
    CHECK(c.verb == "create");
    CHECK(c.spec.interactive);
    CHECK(c.spec.tty);
    CHECK(c.spec.name == "db");
    CHECK(c.spec.cmd == Argv{"sh"});
    check_errors({
        {{"create", "-d", "busybox"},
         flag_err("unknown shorthand flag: 'd' in -d", "create", "[OPTIONS] IMAGE [COMMAND] [ARG...]")},
        {{"create"},
         "isolab: 'isolab create' requires at least 1 argument\n\nUsage:  isolab create [OPTIONS] IMAGE [COMMAND] "
         "[ARG...]\n\nSee 'isolab create --help' for more information"},
        {{"create", "--name", "../x", "busybox"},
         daemon_err("Invalid container name (../x), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", "create")},
    });
}

// =============================================================================================
// run: every malformed case, exact message, exit 125

TEST_CASE("run: flag syntax errors") {
    check_errors({
        {{"run", "--foo", "busybox"}, run_flag_err("unknown flag: --foo")},
        {{"run", "--foo=bar", "busybox"}, run_flag_err("unknown flag: --foo")},
        {{"run", "-z", "busybox"}, run_flag_err("unknown shorthand flag: 'z' in -z")},
        {{"run", "-dz", "busybox"}, run_flag_err("unknown shorthand flag: 'z' in -z")},
        {{"run", "-dzi", "busybox"}, run_flag_err("unknown shorthand flag: 'z' in -zi")},
        {{"run", "---x", "busybox"}, run_flag_err("bad flag syntax: ---x")},
        {{"run", "--name"}, run_flag_err("flag needs an argument: --name")},
        {{"run", "-e"}, run_flag_err("flag needs an argument: 'e' in -e")},
        {{"run", "-de"}, run_flag_err("flag needs an argument: 'e' in -e")},
        {{"run", "-h"}, run_flag_err("flag needs an argument: 'h' in -h")},
        {{"run", "-p"}, run_flag_err("flag needs an argument: 'p' in -p")},
        {{"run", "--memory"}, run_flag_err("flag needs an argument: --memory")},
        {{"run", "--rm=maybe", "busybox"},
         run_flag_err("invalid argument \"maybe\" for \"--rm\" flag: strconv.ParseBool: parsing \"maybe\": invalid syntax")},
        {{"run", "-d=yes", "busybox"},
         run_flag_err(
             "invalid argument \"yes\" for \"-d, --detach\" flag: strconv.ParseBool: parsing \"yes\": invalid syntax")},
        {{"run", "-m", "12q", "busybox"},
         run_flag_err("invalid argument \"12q\" for \"-m, --memory\" flag: invalid suffix: 'q'")},
        {{"run", "--memory=-1", "busybox"},
         run_flag_err("invalid argument \"-1\" for \"-m, --memory\" flag: invalid size: '-1'")},
        {{"run", "--memory-swap", "lots", "busybox"},
         run_flag_err("invalid argument \"lots\" for \"--memory-swap\" flag: invalid size: 'lots'")},
        {{"run", "--cpus", "abc", "busybox"},
         run_flag_err("invalid argument \"abc\" for \"--cpus\" flag: failed to parse abc as a rational number")},
        {{"run", "--cpus", "0.0000000001", "busybox"},
         run_flag_err("invalid argument \"0.0000000001\" for \"--cpus\" flag: value is too precise")},
        {{"run", "--pids-limit", "abc", "busybox"},
         run_flag_err("invalid argument \"abc\" for \"--pids-limit\" flag: strconv.ParseInt: parsing \"abc\": invalid "
                      "syntax")},
        {{"run", "--pids-limit", "99999999999999999999", "busybox"},
         run_flag_err("invalid argument \"99999999999999999999\" for \"--pids-limit\" flag: strconv.ParseInt: parsing "
                      "\"99999999999999999999\": value out of range")},
        {{"run", "--stop-timeout", "soon", "busybox"},
         run_flag_err("invalid argument \"soon\" for \"--stop-timeout\" flag: strconv.ParseInt: parsing \"soon\": "
                      "invalid syntax")},
        {{"run", "-a", "stdfoo", "busybox"},
         run_flag_err(
             "invalid argument \"stdfoo\" for \"-a, --attach\" flag: valid streams are STDIN, STDOUT and STDERR")},
        {{"run", "-e", "=x", "busybox"},
         run_flag_err("invalid argument \"=x\" for \"-e, --env\" flag: invalid environment variable: =x")},
        {{"run", "-l", "=x", "busybox"},
         run_flag_err("invalid argument \"=x\" for \"-l, --label\" flag: invalid label '=x': empty name")},
        {{"run", "-d", "--help=nope", "busybox"},
         run_flag_err(
             "invalid argument \"nope\" for \"-h, --help\" flag: strconv.ParseBool: parsing \"nope\": invalid syntax")},
    });
}

TEST_CASE("run: missing image") {
    const std::string msg =
        "isolab: 'isolab run' requires at least 1 argument\n\nUsage:  " + kRunUse +
        "\n\nSee 'isolab run --help' for more information";
    check_errors({
        {{"run"}, msg},
        {{"run", "-d", "--name", "web"}, msg},
        {{"run", "--"}, msg},
        {{"run", ""}, run_err("invalid reference format")},
    });
}

TEST_CASE("run: memory and CPU limits are checked as Docker's daemon checks them") {
    const std::string n = std::to_string(host_cpus());
    const std::string cpu_range =
        daemon_err("range of CPUs is from 0.01 to " + n + ".00, as there are only " + n + " CPUs available");
    check_errors({
        {{"run", "-m", "1k", "busybox"}, daemon_err("Minimum memory limit allowed is 6MB")},
        {{"run", "-m", "6291455", "busybox"}, daemon_err("Minimum memory limit allowed is 6MB")},
        {{"run", "--memory=5m", "busybox"}, daemon_err("Minimum memory limit allowed is 6MB")},
        {{"run", "-m", "64m", "--memory-swap", "32m", "busybox"},
         daemon_err("Minimum memoryswap limit should be larger than memory limit, see usage")},
        {{"run", "--memory-swap", "64m", "busybox"},
         daemon_err("You should always set the Memory limit when using Memoryswap limit, see usage")},
        {{"run", "--cpus", "99999", "busybox"}, cpu_range},
        {{"run", "--cpus", std::to_string(host_cpus() + 1), "busybox"}, cpu_range},
        {{"run", "--cpus", "0.001", "busybox"}, cpu_range},
        {{"run", "--cpus", "-1", "busybox"}, cpu_range},
        {{"run", "--cpus=-0.5", "busybox"}, cpu_range},
    });
    // Exactly the host's CPU count is allowed.
    CHECK(parsed({"run", "--cpus", n, "busybox"}).spec.nano_cpus == host_cpus() * 1'000'000'000LL);
}

TEST_CASE("run: bad -p forms") {
    check_errors({
        {{"run", "-p", "abc:80", "busybox"}, run_err("invalid hostPort: abc")},
        {{"run", "-p", "80:abc", "busybox"}, run_err("invalid containerPort: abc")},
        {{"run", "-p", "abc", "busybox"}, run_err("invalid containerPort: abc")},
        {{"run", "-p", "70000", "busybox"}, run_err("invalid containerPort: 70000")},
        {{"run", "-p", "8080:65536", "busybox"}, run_err("invalid containerPort: 65536")},
        {{"run", "-p", "65536:80", "busybox"}, run_err("invalid hostPort: 65536")},
        {{"run", "-p", "0", "busybox"}, run_err("invalid containerPort: 0")},
        {{"run", "-p", "8080:0", "busybox"}, run_err("invalid containerPort: 0")},
        {{"run", "-p", "-80", "busybox"}, run_err("invalid containerPort: -80")},
        {{"run", "-p", "8080:80/xyz", "busybox"}, run_err("invalid proto: xyz")},
        {{"run", "-p", "1.2.3:8080:80", "busybox"}, run_err("invalid IP address: 1.2.3")},
        {{"run", "-p", "8080:", "busybox"}, run_err("no port specified: 8080:<empty>")},
        {{"run", "-p", "8080:80-81", "busybox"},
         run_err("invalid ranges specified for container and host Ports: 80-81 and 8080")},
        {{"run", "-p", "90-80", "busybox"}, run_err("invalid containerPort: 90-80")},
        {{"run", "-p", "8000-8010:80", "busybox"},
         run_err("host port ranges for one container port are not supported yet: 8000-8010")},
        {{"run", "-p", "target=80,oops", "busybox"},
         run_err("invalid publish opts format (should be name=value but got 'oops')")},
        // a good -p does not hide a bad one
        {{"run", "-p", "80", "-p", "x:80", "busybox"}, run_err("invalid hostPort: x")},
    });
}

TEST_CASE("run: bad --restart, --rm conflicts, names, workdir, signals, volumes, pull") {
    check_errors({
        {{"run", "--restart", "sometimes", "busybox"},
         daemon_err("invalid restart policy: unknown policy 'sometimes'; use one of 'no', 'always', 'on-failure', or "
                    "'unless-stopped'")},
        {{"run", "--restart", "always:3", "busybox"},
         daemon_err("invalid restart policy: maximum retry count can only be used with 'on-failure'")},
        {{"run", "--restart", "no:-1", "busybox"},
         daemon_err("invalid restart policy: maximum retry count can only be used with 'on-failure' and cannot be "
                    "negative")},
        {{"run", "--restart", "on-failure:-1", "busybox"},
         daemon_err("invalid restart policy: maximum retry count cannot be negative")},
        {{"run", "--restart", "on-failure:x", "busybox"},
         run_err("invalid restart policy format: maximum retry count must be an integer")},
        {{"run", "--restart", ":3", "busybox"},
         run_err("invalid restart policy format: no policy provided before colon")},
        {{"run", "--rm", "--restart", "always", "busybox"}, run_err("conflicting options: cannot specify both --restart and --rm")},
        // capabilities and security options, with the daemon's words
        {{"run", "--cap-add", "BOGUS", "busybox"}, daemon_err("invalid CapAdd: unknown capability: \"CAP_BOGUS\"")},
        {{"run", "--cap-drop", "cap_nope", "busybox"}, daemon_err("invalid CapDrop: unknown capability: \"CAP_NOPE\"")},
        {{"run", "--security-opt", "bogus", "busybox"}, daemon_err("invalid --security-opt 1: \"bogus\"")},
        {{"run", "--security-opt", "foo=bar", "busybox"}, daemon_err("invalid --security-opt 2: \"foo=bar\"")},
        {{"run", "--security-opt", "no-new-privileges=maybe", "busybox"},
         daemon_err("invalid --security-opt 2: \"no-new-privileges=maybe\"")},
        {{"run", "--security-opt", "seccomp=/nonexistent/profile.json", "busybox"},
         run_err("opening seccomp profile (/nonexistent/profile.json) failed: read `/nonexistent/profile.json`: No such file or directory")},
        {{"run", "-d", "-a", "stdout", "busybox"}, "Conflicting options: -a and -d"},
        {{"run", "--name", "../../etc", "busybox"},
         daemon_err("Invalid container name (../../etc), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")},
        {{"run", "--name", "a", "busybox"},
         daemon_err("Invalid container name (a), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")},
        {{"run", "--name", "-web", "busybox"},
         daemon_err("Invalid container name (-web), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")},
        {{"run", "--name=we b", "busybox"},
         daemon_err("Invalid container name (we b), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")},
        {{"run", "--name", "//web", "busybox"},
         daemon_err("Invalid container name (//web), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")},
        {{"run", "-w", "app", "busybox"},
         daemon_err("the working directory 'app' is invalid, it needs to be an absolute path")},
        {{"run", "--stop-signal", "FOO", "busybox"}, daemon_err("invalid signal: FOO")},
        {{"run", "-v", "foo:bar", "busybox"},
         daemon_err("invalid volume specification: 'foo:bar': invalid mount config for type \"volume\": invalid mount "
                    "path: 'bar' mount path must be absolute")},
        {{"run", "-v", "/a:/b:c:d", "busybox"}, daemon_err("invalid volume specification: '/a:/b:c:d'")},
        {{"run", "-v", "/a:/b:bogus", "busybox"}, daemon_err("invalid mode: bogus")},
        {{"run", "-v", "/a:/b:ro,rw", "busybox"}, daemon_err("invalid mode: ro,rw")},
        {{"run", "-v", "/data:rw", "busybox"}, daemon_err("invalid volume specification: '/data:rw'")},
        {{"run", "-v", "/a:/", "busybox"},
         daemon_err("invalid volume specification: '/a:/': invalid mount config for type \"bind\": invalid "
                    "specification: destination can't be '/'")},
        {{"run", "-v", "x/y:/z", "busybox"},
         daemon_err("\"x/y\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" "
                    "are allowed. If you intended to pass a host directory, use absolute path")},
        {{"run", "-v", "/a:/d", "-v", "data:/d", "busybox"}, daemon_err("Duplicate mount point: /d")},
        {{"run", "--tmpfs", "/d", "-v", "data:/d/", "busybox"}, daemon_err("Duplicate mount point: /d")},
        {{"run", "--volumes-from", "db:rslave", "busybox"}, daemon_err("invalid mode: rslave")},
        {{"run", "--volumes-from", "", "busybox"}, daemon_err("volumes-from specification cannot be an empty string")},
        {{"run", "--tmpfs", "run", "busybox"}, daemon_err("invalid mount path: 'run' mount path must be absolute")},
        {{"run", "--pull", "sometimes", "busybox"},
         run_err("invalid pull option: 'sometimes': must be one of \"always\", \"missing\" or \"never\"")},
        {{"run", "--env-file", "/nonexistent/isolab.env", "busybox"},
         run_err("open /nonexistent/isolab.env: no such file or directory")},
    });
}

// =============================================================================================
// --help

TEST_CASE("--help on any verb, and -h where -h is not a flag") {
    std::vector<OkCase> cases = {
        {{"run", "--help"},
         [](const Command& c) {
             CHECK(c.verb == "run");
             CHECK(c.help);
         }},
        // with --help, missing positionals and bad values are not reported (as cobra)
        {{"run", "--help", "--name", "../x"}, [](const Command& c) { CHECK(c.help); }},
        {{"ps", "--help"}, [](const Command& c) { CHECK(c.help); }},
        {{"ps", "-h"}, [](const Command& c) { CHECK(c.help); }},
        {{"ps", "-ah"},
         [](const Command& c) {
             CHECK(c.help);
             CHECK(c.all);
         }},
        {{"stop", "-h"}, [](const Command& c) { CHECK(c.help); }},
        {{"logs", "--help=true"}, [](const Command& c) { CHECK(c.help); }},
        {{"exec", "--help"}, [](const Command& c) { CHECK(c.help); }},
        {{"container", "ls", "--help"},
         [](const Command& c) {
             CHECK(c.verb == "ps");
             CHECK(c.command_path == "container ls");
             CHECK(c.help);
         }},
        {{"container"},
         [](const Command& c) {
             CHECK(c.verb == "container");
             CHECK(c.help);
         }},
        {{"image", "--help"},
         [](const Command& c) {
             CHECK(c.verb == "image");
             CHECK(c.help);
         }},
        {{"ps"}, [](const Command& c) { CHECK_FALSE(c.help); }},
    };
    check_oks(cases);
    // An unknown flag still wins over --help, as in pflag.
    check_errors({{{"ps", "--help", "--bogus"}, flag_err("unknown flag: --bogus", "ps", "[OPTIONS]")}});
}

// =============================================================================================
// The other verbs

TEST_CASE("ps, images, history") {
    check_oks({
        {{"ps"},
         [](const Command& c) {
             CHECK(c.verb == "ps");
             CHECK_FALSE(c.all);
             CHECK(c.last == -1);
         }},
        {{"ps", "-a", "-q", "--no-trunc", "-s", "-l"},
         [](const Command& c) {
             CHECK(c.all);
             CHECK(c.quiet);
             CHECK(c.no_trunc);
             CHECK(c.size);
             CHECK(c.latest);
         }},
        {{"ps", "-aq"},
         [](const Command& c) {
             CHECK(c.all);
             CHECK(c.quiet);
         }},
        {{"ps", "--all", "--quiet", "--size", "--latest"},
         [](const Command& c) {
             CHECK(c.all);
             CHECK(c.quiet);
             CHECK(c.size);
             CHECK(c.latest);
         }},
        {{"ps", "-n", "3"}, [](const Command& c) { CHECK(c.last == 3); }},
        {{"ps", "--last=2"}, [](const Command& c) { CHECK(c.last == 2); }},
        {{"ps", "-f", "status=exited", "--filter", "name=web", "--filter=id=ab"},
         [](const Command& c) { CHECK(c.filters == Argv{"status=exited", "name=web", "id=ab"}); }},
        {{"ps", "--format", "{{.ID}}"}, [](const Command& c) { CHECK(c.format == "{{.ID}}"); }},
        {{"images", "-a", "-q", "--no-trunc", "--digests"},
         [](const Command& c) {
             CHECK(c.verb == "images");
             CHECK(c.all);
             CHECK(c.quiet);
             CHECK(c.no_trunc);
             CHECK(c.digests);
         }},
        {{"images", "busybox"}, [](const Command& c) { CHECK(c.args == Argv{"busybox"}); }},
        {{"images", "-f", "dangling=true"}, [](const Command& c) { CHECK(c.filters == Argv{"dangling=true"}); }},
        {{"history", "-q", "--no-trunc", "busybox"},
         [](const Command& c) {
             CHECK(c.quiet);
             CHECK(c.no_trunc);
             CHECK(c.human);
             CHECK(c.args == Argv{"busybox"});
         }},
        {{"history", "-H=false", "busybox"}, [](const Command& c) { CHECK_FALSE(c.human); }},
        {{"history", "--human=false", "--format", "{{.ID}}", "busybox"},
         [](const Command& c) {
             CHECK_FALSE(c.human);
             CHECK(c.format == "{{.ID}}");
         }},
    });
    check_errors({
        {{"ps", "web"},
         "isolab: 'isolab ps' accepts no arguments\n\nUsage:  isolab ps [OPTIONS]\n\nRun 'isolab ps --help' for more "
         "information"},
        {{"ps", "-f"}, flag_err("flag needs an argument: 'f' in -f", "ps", "[OPTIONS]")},
        {{"ps", "-n", "x"},
         flag_err("invalid argument \"x\" for \"-n, --last\" flag: strconv.ParseInt: parsing \"x\": invalid syntax", "ps",
                  "[OPTIONS]")},
        {{"ps", "-x"}, flag_err("unknown shorthand flag: 'x' in -x", "ps", "[OPTIONS]")},
        {{"images", "a", "b"},
         "isolab: 'isolab images' requires at most 1 argument\n\nUsage:  isolab images [OPTIONS] "
         "[REPOSITORY[:TAG]]\n\nRun 'isolab images --help' for more information"},
        {{"history"},
         "isolab: 'isolab history' requires 1 argument\n\nUsage:  isolab history [OPTIONS] IMAGE\n\nRun 'isolab "
         "history --help' for more information"},
    });
}

TEST_CASE("logs") {
    check_oks({
        {{"logs", "web"},
         [](const Command& c) {
             CHECK(c.args == Argv{"web"});
             CHECK(c.tail == "all");
             CHECK_FALSE(c.follow);
         }},
        {{"logs", "-f", "-t", "--tail", "10", "web"},
         [](const Command& c) {
             CHECK(c.follow);
             CHECK(c.timestamps);
             CHECK(c.tail == "10");
         }},
        {{"logs", "-ft", "-n", "5", "web"},
         [](const Command& c) {
             CHECK(c.follow);
             CHECK(c.timestamps);
             CHECK(c.tail == "5");
         }},
        {{"logs", "web", "--follow", "--timestamps", "--since", "10m", "--until=1m", "--details"},
         [](const Command& c) {
             CHECK(c.follow);
             CHECK(c.timestamps);
             CHECK(c.since == "10m");
             CHECK(c.until == "1m");
             CHECK(c.details);
             CHECK(c.args == Argv{"web"});
         }},
        {{"logs", "-n5", "web"}, [](const Command& c) { CHECK(c.tail == "5"); }},
    });
    check_errors({
        {{"logs"},
         "isolab: 'isolab logs' requires 1 argument\n\nUsage:  isolab logs [OPTIONS] CONTAINER\n\nRun 'isolab logs "
         "--help' for more information"},
        {{"logs", "a", "b"},
         "isolab: 'isolab logs' requires 1 argument\n\nUsage:  isolab logs [OPTIONS] CONTAINER\n\nRun 'isolab logs "
         "--help' for more information"},
        {{"logs", "--tail"}, flag_err("flag needs an argument: --tail", "logs", "[OPTIONS] CONTAINER")},
    });
}

TEST_CASE("stop, restart, kill") {
    check_oks({
        {{"stop", "web"},
         [](const Command& c) {
             CHECK(c.args == Argv{"web"});
             CHECK(c.time == -1);
             CHECK_FALSE(c.time_given);
             CHECK(c.signal.empty());
         }},
        {{"stop", "-t", "3", "web", "db"},
         [](const Command& c) {
             CHECK(c.time == 3);
             CHECK(c.time_given);
             CHECK(c.args == Argv{"web", "db"});
         }},
        {{"stop", "--timeout", "0", "web"},
         [](const Command& c) {
             CHECK(c.time == 0);
             CHECK(c.time_given);
         }},
        {{"stop", "--time=7", "web"}, [](const Command& c) { CHECK(c.time == 7); }},
        {{"stop", "-t", "-1", "web"},
         [](const Command& c) {
             CHECK(c.time == -1);
             CHECK(c.time_given);
         }},
        {{"stop", "-s", "SIGINT", "web"}, [](const Command& c) { CHECK(c.signal == "SIGINT"); }},
        {{"stop", "web", "-t2"}, [](const Command& c) { CHECK(c.time == 2); }},
        {{"restart", "-t", "1", "--signal=HUP", "web"},
         [](const Command& c) {
             CHECK(c.verb == "restart");
             CHECK(c.time == 1);
             CHECK(c.signal == "HUP");
         }},
        {{"kill", "web"}, [](const Command& c) { CHECK(c.signal == "KILL"); }},
        {{"kill", "-s", "HUP", "web"}, [](const Command& c) { CHECK(c.signal == "HUP"); }},
        {{"kill", "--signal=TERM", "a", "b"},
         [](const Command& c) {
             CHECK(c.signal == "TERM");
             CHECK(c.args == Argv{"a", "b"});
         }},
    });
    check_errors({
        {{"stop"},
         "isolab: 'isolab stop' requires at least 1 argument\n\nUsage:  isolab stop [OPTIONS] CONTAINER "
         "[CONTAINER...]\n\nSee 'isolab stop --help' for more information"},
        {{"stop", "-t", "x", "web"},
         flag_err("invalid argument \"x\" for \"-t, --timeout\" flag: strconv.ParseInt: parsing \"x\": invalid syntax",
                  "stop", "[OPTIONS] CONTAINER [CONTAINER...]")},
        {{"kill", "-t", "1", "web"},
         flag_err("unknown shorthand flag: 't' in -t", "kill", "[OPTIONS] CONTAINER [CONTAINER...]")},
        {{"kill"},
         "isolab: 'isolab kill' requires at least 1 argument\n\nUsage:  isolab kill [OPTIONS] CONTAINER "
         "[CONTAINER...]\n\nSee 'isolab kill --help' for more information"},
    });
}

TEST_CASE("rm, rmi") {
    check_oks({
        {{"rm", "web"},
         [](const Command& c) {
             CHECK_FALSE(c.force);
             CHECK(c.args == Argv{"web"});
         }},
        {{"rm", "-f", "web"}, [](const Command& c) { CHECK(c.force); }},
        {{"rm", "-fv", "a", "b"},
         [](const Command& c) {
             CHECK(c.force);
             CHECK(c.volumes);
             CHECK(c.args == Argv{"a", "b"});
         }},
        {{"rm", "--force", "--volumes", "web"},
         [](const Command& c) {
             CHECK(c.force);
             CHECK(c.volumes);
         }},
        {{"rm", "web", "-f"}, [](const Command& c) { CHECK(c.force); }},
        {{"rmi", "-f", "img"},
         [](const Command& c) {
             CHECK(c.verb == "rmi");
             CHECK(c.force);
             CHECK(c.args == Argv{"img"});
         }},
        {{"rmi", "--no-prune", "a", "b"},
         [](const Command& c) {
             CHECK(c.no_prune);
             CHECK(c.args.size() == 2);
         }},
    });
    check_errors({
        {{"rm"},
         "isolab: 'isolab rm' requires at least 1 argument\n\nUsage:  isolab rm [OPTIONS] CONTAINER "
         "[CONTAINER...]\n\nSee 'isolab rm --help' for more information"},
        {{"rmi"},
         "isolab: 'isolab rmi' requires at least 1 argument\n\nUsage:  isolab rmi [OPTIONS] IMAGE [IMAGE...]\n\nSee "
         "'isolab rmi --help' for more information"},
    });
}

TEST_CASE("exec") {
    setenv("ISOLAB_TEST_EXEC_ENV", "e", 1);
    check_oks({
        {{"exec", "-it", "web", "sh"},
         [](const Command& c) {
             CHECK(c.verb == "exec");
             CHECK(c.interactive);
             CHECK(c.tty);
             CHECK(c.args == Argv{"web"});
             CHECK(c.exec_cmd == Argv{"sh"});
         }},
        {{"exec", "web", "ls", "-la", "-d"},
         [](const Command& c) {
             CHECK_FALSE(c.detach);
             CHECK(c.exec_cmd == Argv{"ls", "-la", "-d"});
         }},
        {{"exec", "-d", "web", "sleep", "1"}, [](const Command& c) { CHECK(c.detach); }},
        {{"exec", "-e", "A=1", "--env", "B=2", "-e", "ISOLAB_TEST_EXEC_ENV", "-w", "/tmp", "-u", "nobody",
          "--privileged", "web", "env"},
         [](const Command& c) {
             CHECK(c.exec_env == Argv{"A=1", "B=2", "ISOLAB_TEST_EXEC_ENV=e"});
             CHECK(c.exec_workdir == "/tmp");
             CHECK(c.exec_user == "nobody");
             CHECK(c.privileged);
         }},
        {{"exec", "--workdir=/", "--user=0", "--interactive", "--tty", "web", "sh"},
         [](const Command& c) {
             CHECK(c.exec_workdir == "/");
             CHECK(c.exec_user == "0");
             CHECK(c.interactive);
             CHECK(c.tty);
         }},
        {{"exec", "--", "web", "--weird"}, [](const Command& c) { CHECK(c.exec_cmd == Argv{"--weird"}); }},
    });
    const std::string too_few =
        "isolab: 'isolab exec' requires at least 2 arguments\n\nUsage:  isolab exec [OPTIONS] CONTAINER COMMAND "
        "[ARG...]\n\nSee 'isolab exec --help' for more information";
    check_errors({
        {{"exec"}, too_few},
        {{"exec", "web"}, too_few},
        {{"exec", "-it", "web"}, too_few},
        {{"exec", "-x", "web", "sh"},
         flag_err("unknown shorthand flag: 'x' in -x", "exec", "[OPTIONS] CONTAINER COMMAND [ARG...]")},
        // Listed (Docker has it) but refused: an exec session has no attach stream to leave.
        {{"exec", "--detach-keys=ctrl-q", "web", "sh"},
         "isolab: --detach-keys is not supported by `isolab exec`: an exec session ends with its command. Use `isolab "
         "exec -d` to leave it running, or `isolab attach` (ctrl-p,ctrl-q) on the main process\n\nRun 'isolab exec "
         "--help' for more information"},
    });
}

TEST_CASE("start, pause, unpause, wait, top, port, diff, inspect") {
    check_oks({
        {{"start", "web"},
         [](const Command& c) {
             CHECK_FALSE(c.attach);
             CHECK(c.args == Argv{"web"});
         }},
        {{"start", "-a", "-i", "web"},
         [](const Command& c) {
             CHECK(c.attach);
             CHECK(c.interactive);
         }},
        {{"start", "-ai", "a", "b"},
         [](const Command& c) {
             CHECK(c.attach);
             CHECK(c.interactive);
             CHECK(c.args == Argv{"a", "b"});
         }},
        {{"start", "--attach", "--interactive", "web"}, [](const Command& c) { CHECK(c.attach); }},
        {{"pause", "a", "b"}, [](const Command& c) { CHECK(c.args == Argv{"a", "b"}); }},
        {{"unpause", "web"}, [](const Command& c) { CHECK(c.verb == "unpause"); }},
        {{"wait", "web"}, [](const Command& c) { CHECK(c.verb == "wait"); }},
        {{"top", "web"},
         [](const Command& c) {
             CHECK(c.args == Argv{"web"});
             CHECK(c.ps_args.empty());
         }},
        {{"top", "web", "-o", "pid,comm"},
         [](const Command& c) {
             CHECK(c.args == Argv{"web"});
             CHECK(c.ps_args == Argv{"-o", "pid,comm"});
         }},
        {{"top", "web", "aux"}, [](const Command& c) { CHECK(c.ps_args == Argv{"aux"}); }},
        {{"port", "web"}, [](const Command& c) { CHECK(c.args == Argv{"web"}); }},
        {{"port", "web", "80/tcp"}, [](const Command& c) { CHECK(c.args == Argv{"web", "80/tcp"}); }},
        {{"diff", "web"}, [](const Command& c) { CHECK(c.args == Argv{"web"}); }},
        {{"inspect", "web"},
         [](const Command& c) {
             CHECK(c.args == Argv{"web"});
             CHECK(c.inspect_type.empty());
         }},
        {{"inspect", "-f", "{{.State.Pid}}", "web", "db"},
         [](const Command& c) {
             CHECK(c.format == "{{.State.Pid}}");
             CHECK(c.args == Argv{"web", "db"});
         }},
        {{"inspect", "--format={{.Id}}", "-s", "--type", "image", "busybox"},
         [](const Command& c) {
             CHECK(c.format == "{{.Id}}");
             CHECK(c.size);
             CHECK(c.inspect_type == "image");
         }},
    });
    check_errors({
        {{"start", "-x", "web"},
         flag_err("unknown shorthand flag: 'x' in -x", "start", "[OPTIONS] CONTAINER [CONTAINER...]")},
        {{"pause"},
         "isolab: 'isolab pause' requires at least 1 argument\n\nUsage:  isolab pause CONTAINER [CONTAINER...]\n\nSee "
         "'isolab pause --help' for more information"},
        {{"pause", "-f", "web"}, flag_err("unknown shorthand flag: 'f' in -f", "pause", "CONTAINER [CONTAINER...]")},
        {{"unpause"},
         "isolab: 'isolab unpause' requires at least 1 argument\n\nUsage:  isolab unpause CONTAINER "
         "[CONTAINER...]\n\nSee 'isolab unpause --help' for more information"},
        {{"wait"},
         "isolab: 'isolab wait' requires at least 1 argument\n\nUsage:  isolab wait CONTAINER [CONTAINER...]\n\nSee "
         "'isolab wait --help' for more information"},
        {{"top"},
         "isolab: 'isolab top' requires at least 1 argument\n\nUsage:  isolab top CONTAINER [ps OPTIONS]\n\nSee "
         "'isolab top --help' for more information"},
        {{"port"},
         "isolab: 'isolab port' requires at least 1 and at most 2 arguments\n\nUsage:  isolab port CONTAINER "
         "[PRIVATE_PORT[/PROTO]]\n\nRun 'isolab port --help' for more information"},
        {{"port", "a", "b", "c"},
         "isolab: 'isolab port' requires at least 1 and at most 2 arguments\n\nUsage:  isolab port CONTAINER "
         "[PRIVATE_PORT[/PROTO]]\n\nRun 'isolab port --help' for more information"},
        {{"diff"},
         "isolab: 'isolab diff' requires 1 argument\n\nUsage:  isolab diff CONTAINER\n\nRun 'isolab diff --help' for "
         "more information"},
        {{"inspect"},
         "isolab: 'isolab inspect' requires at least 1 argument\n\nUsage:  isolab inspect [OPTIONS] NAME|ID "
         "[NAME|ID...]\n\nSee 'isolab inspect --help' for more information"},
        {{"inspect", "--type", "foo", "x"}, "\"foo\" is not a valid value for --type"},
    });
}

TEST_CASE("commit, build, tag, save, load") {
    check_oks({
        {{"commit", "web"},
         [](const Command& c) {
             CHECK(c.args == Argv{"web"});
             CHECK(c.pause);
         }},
        {{"commit", "-m", "msg", "-a", "me", "-c", "CMD [\"sh\"]", "--change=ENV A=1", "--pause=false", "web",
          "img:v1"},
         [](const Command& c) {
             CHECK(c.message == "msg");
             CHECK(c.author == "me");
             CHECK(c.changes == Argv{"CMD [\"sh\"]", "ENV A=1"});
             CHECK_FALSE(c.pause);
             CHECK(c.args == Argv{"web", "img:v1"});
         }},
        {{"commit", "--message", "m", "--author=x", "-p", "web"},
         [](const Command& c) {
             CHECK(c.message == "m");
             CHECK(c.author == "x");
             CHECK(c.pause);
         }},
        {{"build", "-t", "a", "-t", "b:1", "-f", "Dockerfile.alt", "--build-arg", "X=1", "--build-arg=Y=2", "-q",
          "--no-cache", "./dir"},
         [](const Command& c) {
             CHECK(c.verb == "build");
             CHECK(c.tags == Argv{"a", "b:1"});
             CHECK(c.dockerfile == "Dockerfile.alt");
             CHECK(c.build_args == Argv{"X=1", "Y=2"});
             CHECK(c.quiet);
             CHECK(c.no_cache);
             CHECK(c.args == Argv{"./dir"});
         }},
        {{"build", "--tag=web", "--file", "x", "."},
         [](const Command& c) {
             CHECK(c.tags == Argv{"web"});
             CHECK(c.dockerfile == "x");
         }},
        {{"tag", "busybox", "mybox:1"}, [](const Command& c) { CHECK(c.args == Argv{"busybox", "mybox:1"}); }},
        {{"save", "-o", "out.tar", "busybox"},
         [](const Command& c) {
             CHECK(c.output == "out.tar");
             CHECK(c.args == Argv{"busybox"});
         }},
        {{"save", "--output=o.tar", "a", "b"}, [](const Command& c) { CHECK(c.args.size() == 2); }},
        {{"load", "-i", "in.tar"}, [](const Command& c) { CHECK(c.input == "in.tar"); }},
        {{"load", "--input=x.tar", "-q"},
         [](const Command& c) {
             CHECK(c.input == "x.tar");
             CHECK(c.quiet);
         }},
    });
    check_errors({
        {{"commit"},
         "isolab: 'isolab commit' requires at least 1 and at most 2 arguments\n\nUsage:  isolab commit [OPTIONS] "
         "CONTAINER [REPOSITORY[:TAG]]\n\nRun 'isolab commit --help' for more information"},
        {{"build"},
         "isolab: 'isolab build' requires 1 argument\n\nUsage:  isolab build [OPTIONS] PATH | -\n\nRun 'isolab build "
         "--help' for more information"},
        {{"build", "a", "b"},
         "isolab: 'isolab build' requires 1 argument\n\nUsage:  isolab build [OPTIONS] PATH | -\n\nRun 'isolab build "
         "--help' for more information"},
        {{"build", "-t"}, flag_err("flag needs an argument: 't' in -t", "build", "[OPTIONS] PATH | -")},
        {{"tag", "a"},
         "isolab: 'isolab tag' requires 2 arguments\n\nUsage:  isolab tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]\n\nRun "
         "'isolab tag --help' for more information"},
        {{"save"},
         "isolab: 'isolab save' requires at least 1 argument\n\nUsage:  isolab save [OPTIONS] IMAGE [IMAGE...]\n\nSee "
         "'isolab save --help' for more information"},
        {{"load", "x.tar"},
         "isolab: 'isolab load' accepts no arguments\n\nUsage:  isolab load [OPTIONS]\n\nRun 'isolab load --help' for "
         "more information"},
    });
}

TEST_CASE("version, help, gui") {
    check_oks({
        {{"version"},
         [](const Command& c) {
             CHECK(c.verb == "version");
             CHECK_FALSE(c.short_version);
         }},
        {{"version", "--format", "json"}, [](const Command& c) { CHECK(c.format == "json"); }},
        {{"help"},
         [](const Command& c) {
             CHECK(c.verb == "help");
             CHECK(c.args.empty());
         }},
        {{"help", "run"}, [](const Command& c) { CHECK(c.args == Argv{"run"}); }},
        {{"gui"},
         [](const Command& c) {
             CHECK(c.verb == "gui");
             CHECK(c.frames == 0);
         }},
        {{"gui", "--present", "--lesson", "intro", "--screenshot", "out.png", "--frames", "3", "--lang", "ko"},
         [](const Command& c) {
             CHECK(c.present);
             CHECK(c.lesson == "intro");
             CHECK(c.screenshot == "out.png");
             CHECK(c.frames == 3);
             CHECK(c.lang == "ko");
         }},
        {{"gui", "--lang=en", "--frames=1"},
         [](const Command& c) {
             CHECK(c.lang == "en");
             CHECK(c.frames == 1);
         }},
    });
    check_errors({
        {{"version", "x"},
         "isolab: 'isolab version' accepts no arguments\n\nUsage:  isolab version [OPTIONS]\n\nRun 'isolab version "
         "--help' for more information"},
        {{"gui", "--frames", "0"},
         flag_err("invalid argument \"0\" for \"--frames\" flag: must be at least 1", "gui", "[OPTIONS]")},
        {{"gui", "--lang", "fr"}, flag_err("invalid argument \"fr\" for \"--lang\" flag: must be ko or en", "gui", "[OPTIONS]")},
        {{"gui", "extra"},
         "isolab: 'isolab gui' accepts no arguments\n\nUsage:  isolab gui [OPTIONS]\n\nRun 'isolab gui --help' for "
         "more information"},
    });
}

TEST_CASE("groups keep everything after the verb verbatim") {
    check_oks({
        {{"vm", "ls", "--json"},
         [](const Command& c) {
             CHECK(c.verb == "vm");
             CHECK(c.rest == Argv{"ls", "--json"});
             CHECK(c.args.empty());
         }},
        {{"vm", "create", "--memory", "256m", "vm1"},
         [](const Command& c) { CHECK(c.rest == Argv{"create", "--memory", "256m", "vm1"}); }},
        {{"vm"}, [](const Command& c) { CHECK(c.rest.empty()); }},
        {{"vm", "--help"},
         [](const Command& c) {
             CHECK(c.rest == Argv{"--help"});
             CHECK_FALSE(c.help);
         }},
        // network's subcommands are table verbs, with Docker's flags (an unknown one is an error).
        {{"network", "create", "--subnet", "10.9.0.0/24", "--internal", "--label", "a=b", "net1"},
         [](const Command& c) {
             CHECK(c.verb == "network create");
             CHECK(c.args == Argv{"net1"});
             CHECK(c.subnet == "10.9.0.0/24");
             CHECK(c.internal);
             CHECK(c.network_labels == Argv{"a=b"});
         }},
        {{"network", "list", "-q"}, [](const Command& c) { CHECK((c.verb == "network ls" && c.quiet)); }},
        {{"lesson", "check"}, [](const Command& c) { CHECK(c.rest == Argv{"check"}); }},
        {{"race", "--json"},
         [](const Command& c) {
             CHECK(c.verb == "race");
             CHECK(c.rest == Argv{"--json"});
         }},
        {{"runtime", "ls"}, [](const Command& c) { CHECK(c.rest == Argv{"ls"}); }},
        {{"doctor"}, [](const Command& c) { CHECK(c.verb == "doctor"); }},
        {{"doctor", "--json"}, [](const Command& c) { CHECK(c.json); CHECK_FALSE(c.fix); }},
        {{"doctor", "--fix"}, [](const Command& c) { CHECK(c.fix); CHECK_FALSE(c.json); }},
        {{"doctor", "--help"}, [](const Command& c) { CHECK(c.help); }},
    });
    // doctor takes flags, not words: nothing it is given is ignored.
    check_errors({
        {{"doctor", "--fx"}, flag_err("unknown flag: --fx", "doctor", "[OPTIONS]")},
        {{"doctor", "now"},
         "isolab: 'isolab doctor' accepts no arguments\n\nUsage:  isolab doctor [OPTIONS]\n\nRun 'isolab doctor --help' "
         "for more information"},
    });
    CHECK(isolab::cli::usage("doctor").find("--fix") != std::string::npos);
}

TEST_CASE("container and image prefix forms map to the flat verbs") {
    check_oks({
        {{"container", "ls", "-a"},
         [](const Command& c) {
             CHECK(c.verb == "ps");
             CHECK(c.command_path == "container ls");
             CHECK(c.all);
         }},
        {{"container", "list"}, [](const Command& c) { CHECK(c.verb == "ps"); }},
        {{"container", "ps", "-q"},
         [](const Command& c) {
             CHECK(c.verb == "ps");
             CHECK(c.quiet);
         }},
        {{"container", "rm", "-f", "web"},
         [](const Command& c) {
             CHECK(c.verb == "rm");
             CHECK(c.force);
             CHECK(c.args == Argv{"web"});
         }},
        {{"container", "remove", "web"}, [](const Command& c) { CHECK(c.verb == "rm"); }},
        {{"container", "run", "-d", "busybox", "sleep", "9"},
         [](const Command& c) {
             CHECK(c.verb == "run");
             CHECK(c.command_path == "container run");
             CHECK(c.detach);
             CHECK(c.spec.cmd == Argv{"sleep", "9"});
         }},
        {{"container", "stop", "-t", "1", "web"},
         [](const Command& c) {
             CHECK(c.verb == "stop");
             CHECK(c.time == 1);
         }},
        {{"container", "inspect", "web"},
         [](const Command& c) {
             CHECK(c.verb == "inspect");
             CHECK(c.inspect_type == "container");
         }},
        {{"container", "exec", "-it", "web", "sh"}, [](const Command& c) { CHECK(c.exec_cmd == Argv{"sh"}); }},
        {{"image", "ls"},
         [](const Command& c) {
             CHECK(c.verb == "images");
             CHECK(c.command_path == "image ls");
         }},
        {{"image", "list", "-q"}, [](const Command& c) { CHECK(c.quiet); }},
        {{"image", "rm", "-f", "x"},
         [](const Command& c) {
             CHECK(c.verb == "rmi");
             CHECK(c.force);
         }},
        {{"image", "remove", "x"}, [](const Command& c) { CHECK(c.verb == "rmi"); }},
        {{"image", "inspect", "busybox"},
         [](const Command& c) {
             CHECK(c.verb == "inspect");
             CHECK(c.inspect_type == "image");
         }},
        {{"image", "build", "-t", "x", "."}, [](const Command& c) { CHECK(c.verb == "build"); }},
        {{"image", "history", "busybox"}, [](const Command& c) { CHECK(c.verb == "history"); }},
        {{"image", "tag", "a", "b"}, [](const Command& c) { CHECK(c.verb == "tag"); }},
        {{"image", "push", "-a", "localhost:5000/app"}, [](const Command& c) {
             CHECK(c.verb == "push");
             CHECK(c.all);
             CHECK(c.disable_content_trust);
         }},
        {{"push", "--disable-content-trust=false", "x"}, [](const Command& c) { CHECK(!c.disable_content_trust); }},
    });
    check_errors({
        {{"container", "foo"},
         "isolab: unknown command: isolab container foo\n\nUsage:  isolab container COMMAND\n\nRun 'isolab container "
         "--help' for more information",
         1},
        {{"image", "sign", "x"},
         "isolab: unknown command: isolab image sign\n\nUsage:  isolab image COMMAND\n\nRun 'isolab image --help' for "
         "more information",
         1},
        {{"container", "--bogus"}, flag_err("unknown flag: --bogus", "container", "COMMAND")},
        {{"container", "-x"}, flag_err("unknown shorthand flag: 'x' in -x", "container", "COMMAND")},
        // messages name the path the learner typed
        {{"container", "ls", "extra"},
         "isolab: 'isolab container ls' accepts no arguments\n\nUsage:  isolab container ls [OPTIONS]\n\nRun 'isolab "
         "container ls --help' for more information"},
        {{"container", "run", "--foo", "busybox"},
         flag_err("unknown flag: --foo", "container run", "[OPTIONS] IMAGE [COMMAND] [ARG...]")},
        {{"container", "run", "--name", "../x", "busybox"},
         daemon_err("Invalid container name (../x), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", "container run")},
    });
}

TEST_CASE("unknown commands") {
    check_errors({
        {{"foo"}, "isolab: unknown command: isolab foo\n\nRun 'isolab --help' for more information", 1},
        // A Docker command IsoLab leaves out is named as such, with what to use (never the typo message).
        {{"manifest", "inspect", "busybox"},
         "isolab: 'manifest' is not an IsoLab command: manifest lists cannot be made or pushed with IsoLab; `isolab pull --platform` picks one image from a registry's list", 1},
        {{"swarm", "init"}, "isolab: 'swarm' is not an IsoLab command: IsoLab is one machine's engine, for learning: swarm mode (clusters) is left out", 1},
        {{"pul"}, "isolab: unknown command: isolab pul\n\nRun 'isolab --help' for more information", 1},
        {{"image-ls"}, "isolab: unknown command: isolab image-ls\n\nRun 'isolab --help' for more information", 1},
        {{"RUN", "busybox"}, "isolab: unknown command: isolab RUN\n\nRun 'isolab --help' for more information", 1},
    });
}

TEST_CASE("global flags before the verb") {
    check_oks({
        {{},
         [](const Command& c) {
             CHECK(c.verb == "gui");
             CHECK_FALSE(c.help);
         }},
        {{"--root", "/tmp/r", "ps"},
         [](const Command& c) {
             CHECK(c.global_root == "/tmp/r");
             CHECK(c.verb == "ps");
         }},
        {{"--root=/tmp/r", "--lang", "ko", "--debug", "ps", "-a"},
         [](const Command& c) {
             CHECK(c.global_root == "/tmp/r");
             CHECK(c.lang == "ko");
             CHECK(c.debug);
             CHECK(c.all);
         }},
        {{"-D", "ps"}, [](const Command& c) { CHECK(c.debug); }},
        {{"--lang", "en"},
         [](const Command& c) {
             CHECK(c.verb == "gui");
             CHECK(c.lang == "en");
         }},
        {{"--help"},
         [](const Command& c) {
             CHECK(c.verb == "help");
             CHECK_FALSE(c.help);
         }},
        {{"-h"}, [](const Command& c) { CHECK(c.verb == "help"); }},
        {{"-v"},
         [](const Command& c) {
             CHECK(c.verb == "version");
             CHECK(c.short_version);
         }},
        {{"--version"}, [](const Command& c) { CHECK(c.verb == "version"); }},
    });
}

TEST_CASE("global flag errors") {
    auto global_err = [](const std::string& reason) {
        return reason + "\n\nUsage:  isolab [OPTIONS] COMMAND [ARG...]\n\nRun 'isolab --help' for more information";
    };
    check_errors({
        {{"--bogus", "ps"}, global_err("unknown flag: --bogus")},
        {{"-x"}, global_err("unknown shorthand flag: 'x' in -x")},
        {{"--root"}, global_err("flag needs an argument: --root")},
        {{"--lang", "fr", "ps"}, global_err("invalid argument \"fr\" for \"--lang\" flag: must be ko or en")},
        // a global flag after the verb is the verb's business
        {{"ps", "--root", "x"}, flag_err("unknown flag: --root", "ps", "[OPTIONS]")},
    });
}

// =============================================================================================
// Single-value parsers

TEST_CASE("parse_bytes: Docker's RAMInBytes") {
    using isolab::cli::parse_bytes;
    struct Case {
        const char* text;
        int64_t bytes;
    };
    const Case good[] = {
        {"0", 0},
        {"512", 512},
        {"512b", 512},
        {"512B", 512},
        {"1k", 1024},
        {"1K", 1024},
        {"1kb", 1024},
        {"1KiB", 1024},
        {"64m", 64LL << 20},
        {"64mb", 64LL << 20},
        {"64MiB", 64LL << 20},
        {"1g", 1LL << 30},
        {"1.5g", 1610612736},
        {"2 GiB", 2LL << 30},
        {"1t", 1LL << 40},
        {"1p", 1LL << 50},
    };
    for (const Case& c : good) {
        CAPTURE(c.text);
        auto r = parse_bytes(c.text);
        REQUIRE(r.ok());
        CHECK(*r == c.bytes);
    }
    CHECK(*parse_bytes(".5") == 0);  // strconv.ParseFloat takes it; int64(0.5) is 0
    // go-units' three errors, word for word.
    struct Bad {
        const char* text;
        std::string message;
    } bad[] = {
        {"", "invalid size: ''"},
        {"abc", "invalid size: 'abc'"},
        {"m", "invalid size: 'm'"},
        {"-1", "invalid size: '-1'"},
        {"99999999999p", "invalid size: '99999999999p'"},
        {"12q", "invalid suffix: 'q'"},
        {"1x", "invalid suffix: 'x'"},
        {"10i", "invalid suffix: 'i'"},
        {"1KX", "invalid suffix: 'kx'"},
        {"1bb", "invalid suffix: 'bb'"},
        {"1kibb", "invalid suffix: 'kibb'"},
        {"1.5.5", "strconv.ParseFloat: parsing \"1.5.5\": invalid syntax"},
        {"1gb2", "strconv.ParseFloat: parsing \"1gb2\": invalid syntax"},
        {"1  m", "strconv.ParseFloat: parsing \"1 \": invalid syntax"},
    };
    for (const Bad& b : bad) {
        CAPTURE(b.text);
        auto r = parse_bytes(b.text);
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().message == b.message);
        CHECK(r.error().exit_code == 125);
    }
}

TEST_CASE("parse_cpus: decimal to nano-CPUs") {
    using isolab::cli::parse_cpus;
    struct Case {
        const char* text;
        int64_t nano;
    };
    const Case good[] = {
        {"1", 1'000'000'000},     {"1.5", 1'500'000'000}, {"0.5", 500'000'000},      {".5", 500'000'000},
        {"2.", 2'000'000'000},    {"0", 0},               {"0.01", 10'000'000},      {"3/2", 1'500'000'000},
        {"-1", -1'000'000'000},   {"+2", 2'000'000'000},  {"1.000000000000", 1'000'000'000},
        {"0.000000001", 1},
    };
    for (const Case& c : good) {
        CAPTURE(c.text);
        auto r = parse_cpus(c.text);
        REQUIRE(r.ok());
        CHECK(*r == c.nano);
    }
    struct Bad {
        const char* text;
        const char* message;
    };
    const Bad bad[] = {
        {"abc", "failed to parse abc as a rational number"},
        {"", "failed to parse  as a rational number"},
        {".", "failed to parse . as a rational number"},
        {"1.2.3", "failed to parse 1.2.3 as a rational number"},
        {"1/0", "failed to parse 1/0 as a rational number"},
        {"0.0000000001", "value is too precise"},
        {"1/3", "value is too precise"},
    };
    for (const Bad& b : bad) {
        CAPTURE(b.text);
        auto r = parse_cpus(b.text);
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().message == b.message);
    }
}

TEST_CASE("parse_publish: the forms Docker accepts") {
    using isolab::cli::parse_publish;
    {
        auto r = parse_publish("8080:80");
        REQUIRE(r.ok());
        REQUIRE(r->size() == 1);
        CHECK(same_port((*r)[0], "", 8080, 80, "tcp"));
    }
    {
        auto r = parse_publish("127.0.0.1:8080:80");
        REQUIRE(r.ok());
        CHECK(same_port((*r)[0], "127.0.0.1", 8080, 80, "tcp"));
    }
    {
        auto r = parse_publish("80");
        REQUIRE(r.ok());
        CHECK(same_port((*r)[0], "", 0, 80, "tcp"));
    }
    {
        auto r = parse_publish("8080:80/tcp");
        REQUIRE(r.ok());
        CHECK(same_port((*r)[0], "", 8080, 80, "tcp"));
    }
    {
        auto r = parse_publish("5353:53/udp");
        REQUIRE(r.ok());
        CHECK(same_port((*r)[0], "", 5353, 53, "udp"));
    }
    {
        auto r = parse_publish("8080:80/TCP");
        REQUIRE(r.ok());
        CHECK((*r)[0].proto == "tcp");
    }
    {
        auto r = parse_publish("80/sctp");
        REQUIRE(r.ok());
        CHECK((*r)[0].proto == "sctp");
    }
    {
        auto r = parse_publish("127.0.0.1::80");
        REQUIRE(r.ok());
        CHECK(same_port((*r)[0], "127.0.0.1", 0, 80, "tcp"));
    }
    {
        auto r = parse_publish("0:80");
        REQUIRE(r.ok());
        CHECK(same_port((*r)[0], "", 0, 80, "tcp"));
    }
    {
        auto r = parse_publish("[::1]:8080:80");
        REQUIRE(r.ok());
        CHECK(same_port((*r)[0], "::1", 8080, 80, "tcp"));
    }
    {
        auto r = parse_publish("8080-8081:80-81");
        REQUIRE(r.ok());
        REQUIRE(r->size() == 2);
        CHECK(same_port((*r)[0], "", 8080, 80, "tcp"));
        CHECK(same_port((*r)[1], "", 8081, 81, "tcp"));
    }
    {
        auto r = parse_publish("65535:65535");
        REQUIRE(r.ok());
        CHECK((*r)[0].container_port == 65535);
    }
    {
        auto r = parse_publish("published=8080,target=80,protocol=udp");
        REQUIRE(r.ok());
        CHECK(same_port((*r)[0], "", 8080, 80, "udp"));
    }
    {
        auto r = parse_publish("target=80");
        REQUIRE(r.ok());
        CHECK(same_port((*r)[0], "", 0, 80, "tcp"));
    }
    {
        auto r = parse_publish("published=8080");
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().message == "no port specified: 8080:/tcp<empty>");
    }
    {
        auto r = parse_publish("[::1:8080:80");
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().message == "invalid IP address [::1: missing ']' in address");
    }
}

TEST_CASE("parse_restart_policy") {
    using isolab::cli::parse_restart_policy;
    auto kind = [](const char* text) { return parse_restart_policy(text).value().kind; };
    CHECK(kind("") == RestartPolicyKind::No);
    CHECK(kind("no") == RestartPolicyKind::No);
    CHECK(kind("always") == RestartPolicyKind::Always);
    CHECK(kind("unless-stopped") == RestartPolicyKind::UnlessStopped);
    CHECK(kind("on-failure") == RestartPolicyKind::OnFailure);
    CHECK(kind("on-failure:") == RestartPolicyKind::OnFailure);
    CHECK(parse_restart_policy("on-failure:5").value().max_retries == 5);
    struct Bad {
        const char* text;
        const char* message;
    };
    const Bad bad[] = {
        {"sometimes",
         "invalid restart policy: unknown policy 'sometimes'; use one of 'no', 'always', 'on-failure', or "
         "'unless-stopped'"},
        {"Always",
         "invalid restart policy: unknown policy 'Always'; use one of 'no', 'always', 'on-failure', or "
         "'unless-stopped'"},
        {"always:1", "invalid restart policy: maximum retry count can only be used with 'on-failure'"},
        {"unless-stopped:-2",
         "invalid restart policy: maximum retry count can only be used with 'on-failure' and cannot be negative"},
        {"on-failure:-1", "invalid restart policy: maximum retry count cannot be negative"},
        {"on-failure:two", "invalid restart policy format: maximum retry count must be an integer"},
        {":1", "invalid restart policy format: no policy provided before colon"},
    };
    for (const Bad& b : bad) {
        CAPTURE(b.text);
        auto r = parse_restart_policy(b.text);
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().message == b.message);
    }
}

TEST_CASE("validate_container_name: Docker's rule, which also keeps paths safe") {
    using isolab::cli::validate_container_name;
    CHECK(validate_container_name("web").value() == "web");
    CHECK(validate_container_name("/web").value() == "web");
    CHECK(validate_container_name("a1").value() == "a1");
    CHECK(validate_container_name("My_App.v-2").value() == "My_App.v-2");
    CHECK(validate_container_name("0x").value() == "0x");
    const char* bad[] = {"", "/", "a", "/a", "..", "../../etc", "-web", ".hidden", "_x",
                         "we b", "a/b", "web/", "a:b", "é1", "web\n"};
    for (const char* name : bad) {
        CAPTURE(name);
        auto r = validate_container_name(name);
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().message ==
              "Invalid container name (" + std::string(name) + "), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed");
    }
}

TEST_CASE("parse_signal") {
    using isolab::cli::parse_signal;
    CHECK(parse_signal("KILL").value() == SIGKILL);
    CHECK(parse_signal("SIGKILL").value() == SIGKILL);
    CHECK(parse_signal("sigterm").value() == SIGTERM);
    CHECK(parse_signal("term").value() == SIGTERM);
    CHECK(parse_signal("9").value() == 9);
    CHECK(parse_signal("HUP").value() == SIGHUP);
    CHECK(parse_signal("USR1").value() == SIGUSR1);
    CHECK(parse_signal("WINCH").value() == SIGWINCH);
    CHECK(parse_signal("RTMIN+1").value() == SIGRTMIN + 1);
    CHECK(parse_signal("SIGRTMAX-1").value() == SIGRTMAX - 1);
    for (const char* bad : {"FOO", "0", "65", "", "-9", "SIG", "KILLL", "1000"}) {
        CAPTURE(bad);
        auto r = parse_signal(bad);
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().message == "invalid signal: " + std::string(bad));
    }
}

// =============================================================================================
// The terminal line

TEST_CASE("split_command_line: POSIX-shell-like words") {
    using isolab::cli::split_command_line;
    struct Case {
        const char* line;
        Argv words;
    };
    const Case cases[] = {
        {"docker ps -a", {"docker", "ps", "-a"}},
        {"  a   b  ", {"a", "b"}},
        {"a\tb\nc", {"a", "b", "c"}},
        {"", {}},
        {"   ", {}},
        {"echo 'a b'", {"echo", "a b"}},
        {"echo \"a b\"", {"echo", "a b"}},
        {"echo \"a\\\"b\"", {"echo", "a\"b"}},
        {"echo \"a\\nb\"", {"echo", "a\\nb"}},
        {"echo \"a\\\\b\"", {"echo", "a\\b"}},
        {"echo \"\\$HOME\"", {"echo", "$HOME"}},
        {"echo \"\\`x\\`\"", {"echo", "`x`"}},
        {"echo '$HOME' $HOME", {"echo", "$HOME", "$HOME"}},
        {"echo 'a\\b'", {"echo", "a\\b"}},
        {"echo 'it'\\''s'", {"echo", "it's"}},
        {"a\\ b", {"a b"}},
        {"a\\\"b", {"a\"b"}},
        {"\\'", {"'"}},
        {"'a'\"b\"c", {"abc"}},
        {"''", {""}},
        {"\"\"", {""}},
        {"echo \"\" x ''", {"echo", "", "x", ""}},
        {"run -e \"A=hello world\" busybox", {"run", "-e", "A=hello world", "busybox"}},
        {"sh -c 'echo hi; ls | wc -l'", {"sh", "-c", "echo hi; ls | wc -l"}},
        {"echo # a comment", {"echo"}},
        {"# only a comment", {}},
        {"echo a#b", {"echo", "a#b"}},
        {"echo '#x'", {"echo", "#x"}},
        {"a\\\nb", {"ab"}},
        {"a \\\n b", {"a", "b"}},
        {"\"a\\\nb\"", {"ab"}},
        {"echo a\\", {"echo", "a\\"}},
        {"echo \"multi\nline\"", {"echo", "multi\nline"}},
        {"ps | grep web", {"ps", "|", "grep", "web"}},
    };
    for (const Case& c : cases) {
        CAPTURE(c.line);
        auto r = split_command_line(c.line);
        REQUIRE(r.ok());
        CHECK(*r == c.words);
    }
    struct Bad {
        const char* line;
        const char* message;
    };
    const Bad bad[] = {
        {"echo 'abc", "unterminated single quote (opened at column 6)"},
        {"'", "unterminated single quote (opened at column 1)"},
        {"echo \"abc", "unterminated double quote (opened at column 6)"},
        {"echo \"a\\\"", "unterminated double quote (opened at column 6)"},
        {"run -e 'A=1 busybox", "unterminated single quote (opened at column 8)"},
    };
    for (const Bad& b : bad) {
        CAPTURE(b.line);
        auto r = split_command_line(b.line);
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().message == b.message);
        CHECK(r.error().exit_code == 2);
    }
}

TEST_CASE("strip_docker_prefix and parse_line") {
    using isolab::cli::parse_line;
    using isolab::cli::strip_docker_prefix;
    CHECK(strip_docker_prefix({"docker", "ps"}) == Argv{"ps"});
    CHECK(strip_docker_prefix({"isolab", "ps"}) == Argv{"ps"});
    CHECK(strip_docker_prefix({"ps", "docker"}) == Argv{"ps", "docker"});
    CHECK(strip_docker_prefix({"docker", "docker", "ps"}) == Argv{"docker", "ps"});
    CHECK(strip_docker_prefix({}).empty());

    auto run = parse_line("docker run -d --name web busybox httpd -f");
    REQUIRE(run.ok());
    CHECK(run->verb == "run");
    CHECK(run->detach);
    CHECK(run->spec.name == "web");
    CHECK(run->spec.cmd == Argv{"httpd", "-f"});

    auto ps = parse_line("docker ps -a");
    REQUIRE(ps.ok());
    CHECK(ps->verb == "ps");
    CHECK(ps->all);

    CHECK(parse_line("isolab ps").value().verb == "ps");
    CHECK(parse_line("ps").value().verb == "ps");
    CHECK(parse_line("docker").value().verb == "help");
    CHECK(parse_line("   ").value().verb.empty());
    CHECK(parse_line("# nothing").value().verb.empty());

    auto env = parse_line("docker run -e 'A=b c' -e \"D=$E\" busybox env");
    REQUIRE(env.ok());
    CHECK(env->spec.env == Argv{"A=b c", "D=$E"});

    auto quote = parse_line("docker run -e 'A=1 busybox");
    REQUIRE_FALSE(quote.ok());
    CHECK(quote.error().exit_code == 2);

    auto unknown = parse_line("docker pul busybox");
    REQUIRE_FALSE(unknown.ok());
    CHECK(unknown.error().message == "isolab: unknown command: isolab pul\n\nRun 'isolab --help' for more information");
    CHECK(unknown.error().exit_code == 1);

    auto flag = parse_line("docker run --bogus busybox");
    REQUIRE_FALSE(flag.ok());
    CHECK(flag.error().message == run_flag_err("unknown flag: --bogus"));
}

// =============================================================================================
// usage()

TEST_CASE("usage text") {
    using isolab::cli::usage;
    auto starts = [](const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; };
    auto has = [](const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; };

    std::string run = usage("run");
    CHECK(starts(run, "Usage:  isolab run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nCreate and run a new container"));
    CHECK(has(run, "\nAliases:\n  isolab container run, isolab run\n"));
    CHECK(has(run, "  -d, --detach "));
    CHECK(has(run, "  -h, --hostname string "));
    CHECK(has(run, "  -m, --memory bytes "));
    CHECK(has(run, "      --cpus decimal "));
    CHECK(has(run, "      --restart string "));
    CHECK(has(run, "(default \"no\")"));
    CHECK(has(run, "      --help "));
    CHECK_FALSE(has(run, "--net "));  // hidden alias
    CHECK(run.back() != '\n');

    CHECK_FALSE(has(usage("create"), "--detach"));
    CHECK(has(usage("ps"), "isolab container ls, isolab container list, isolab container ps, isolab ps"));
    CHECK(has(usage("images"), "isolab image ls, isolab image list, isolab images"));
    CHECK(has(usage("rmi"), "isolab image rm, isolab image remove, isolab rmi"));
    CHECK_FALSE(has(usage("inspect"), "Aliases"));
    CHECK_FALSE(has(usage("stop"), "--time "));  // deprecated spelling stays hidden
    CHECK(has(usage("stop"), "  -t, --timeout int "));
    CHECK(starts(usage("container ls"), "Usage:  isolab container ls [OPTIONS]\n"));
    CHECK(starts(usage("image rm"), "Usage:  isolab image rm [OPTIONS] IMAGE [IMAGE...]\n"));

    std::string container = usage("container");
    CHECK(starts(container, "Usage:  isolab container COMMAND\n\nManage containers"));
    CHECK(has(container, "\n  ls "));
    CHECK(has(container, "\n  rm "));
    CHECK_FALSE(has(container, "\n  list "));  // aliases are not rows of their own
    CHECK_FALSE(has(container, "\n  remove "));

    std::string top = usage("");
    CHECK(starts(top, "Usage:  isolab [OPTIONS] COMMAND [ARG...]\n"));
    CHECK(has(top, "\n  run "));
    CHECK(has(top, "\n  vm "));
    CHECK(has(top, "      --root string "));
    CHECK(has(top, "Run 'isolab COMMAND --help' for more information on a command."));
    CHECK(usage("nonsense") == top);
    CHECK(starts(usage("vm"), "Usage:  isolab vm COMMAND\n\nManage virtual machines"));
}

TEST_CASE("listed flags IsoLab cannot honour are refused, never ignored") {
    check_errors({
        {{"rm", "--link", "web"},
         "isolab: --link is not supported: IsoLab has no legacy container links (it would remove a link, not the "
         "container); containers on a network from `isolab network create` reach each other by name\n\nRun 'isolab rm "
         "--help' for more information"},
    });
}

TEST_CASE("network subcommands refuse what they do not list") {
    check_errors({
        {{"network", "create", "--gateway", "10.9.0.1", "n1"},
         flag_err("unknown flag: --gateway", "network create", "[OPTIONS] NETWORK")},
        {{"network", "connect", "--ip", "10.9.0.5", "n1", "web"},
         flag_err("unknown flag: --ip", "network connect", "[OPTIONS] NETWORK CONTAINER")},
        {{"network", "ls", "-f", "nokey"},
         flag_err("invalid argument \"nokey\" for \"-f, --filter\" flag: bad format of filter (expected name=value)",
                  "network ls", "[OPTIONS]")},
    });
}

// =============================================================================================
// run/create --health-*: Docker's client folding (cli/command/container/opts.go) and the daemon's
// checks (daemon/container.go validateHealthCheck), words and exit codes.

TEST_CASE("run: --health-* and --no-healthcheck fold into one health check, as Docker's client does") {
    constexpr int64_t kS = 1'000'000'000;
    Command c = parsed({"run", "--health-cmd", "curl -f localhost || exit 1", "--health-interval", "1m30s",
                        "--health-timeout=2.5s", "--health-retries", "4", "--health-start-period", "500ms",
                        "--health-start-interval", "1s", "busybox"});
    REQUIRE(c.spec.healthcheck);
    CHECK(c.spec.healthcheck->test == Argv{"CMD-SHELL", "curl -f localhost || exit 1"});
    CHECK(c.spec.healthcheck->interval_ns == 90 * kS);
    CHECK(c.spec.healthcheck->timeout_ns == 2500'000'000);
    CHECK(c.spec.healthcheck->retries == 4);
    CHECK(c.spec.healthcheck->start_period_ns == 500'000'000);
    CHECK(c.spec.healthcheck->start_interval_ns == kS);

    // A timing flag alone: no test of its own (the image's is kept by the engine's merge).
    c = parsed({"create", "--health-timeout", "3s", "busybox"});
    REQUIRE(c.spec.healthcheck);
    CHECK(c.spec.healthcheck->test.empty());
    CHECK(c.spec.healthcheck->timeout_ns == 3 * kS);

    CHECK(parsed({"run", "--no-healthcheck", "busybox"}).spec.healthcheck->test == Argv{"NONE"});
    CHECK_FALSE(parsed({"run", "busybox"}).spec.healthcheck);
    // Zero values say nothing: Docker's haveHealthSettings is false.
    CHECK_FALSE(parsed({"run", "--health-cmd", "", "--health-retries", "0", "--health-interval", "0s", "busybox"}).spec.healthcheck);
    CHECK(parsed({"run", "--no-healthcheck", "--health-retries=0", "busybox"}).spec.healthcheck->test == Argv{"NONE"});

    check_errors({
        {{"run", "--no-healthcheck", "--health-cmd", "true", "busybox"}, run_err("--no-healthcheck conflicts with --health-* options")},
        {{"run", "--health-interval", "1s", "--no-healthcheck", "busybox"},
         run_err("--no-healthcheck conflicts with --health-* options")},
        {{"run", "--no-healthcheck", "--health-start-interval", "2s", "busybox"},
         run_err("--no-healthcheck conflicts with --health-* options")},
        {{"run", "--health-interval", "-1s", "busybox"}, run_err("--health-interval cannot be negative")},
        {{"run", "--health-timeout", "-1ms", "busybox"}, run_err("--health-timeout cannot be negative")},
        {{"run", "--health-retries", "-2", "busybox"}, run_err("--health-retries cannot be negative")},
        {{"run", "--health-start-period", "-5s", "busybox"}, run_err("--health-start-period cannot be negative")},
        {{"run", "--health-start-interval", "-5s", "busybox"}, run_err("--health-start-interval cannot be negative")},
        // The client's order: the interval before the timeout.
        {{"run", "--health-timeout", "-1s", "--health-interval", "-1s", "busybox"}, run_err("--health-interval cannot be negative")},
        {{"run", "--health-interval", "500us", "busybox"}, daemon_err("Interval in Healthcheck cannot be less than 1ms")},
        {{"run", "--health-timeout", "1ns", "busybox"}, daemon_err("Timeout in Healthcheck cannot be less than 1ms")},
        {{"run", "--health-start-period", "999us", "busybox"}, daemon_err("StartPeriod in Healthcheck cannot be less than 1ms")},
        {{"create", "--health-start-interval", "1us", "busybox"},
         daemon_err("StartInterval in Healthcheck cannot be less than 1ms", "create")},
        {{"run", "--health-interval", "soon", "busybox"},
         run_flag_err("invalid argument \"soon\" for \"--health-interval\" flag: time: invalid duration \"soon\"")},
        {{"run", "--health-timeout", "5", "busybox"},
         run_flag_err("invalid argument \"5\" for \"--health-timeout\" flag: time: missing unit in duration \"5\"")},
        {{"run", "--health-retries", "many", "busybox"},
         run_flag_err("invalid argument \"many\" for \"--health-retries\" flag: strconv.ParseInt: parsing \"many\": "
                      "invalid syntax")},
        {{"run", "--no-healthcheck=maybe", "busybox"},
         run_flag_err("invalid argument \"maybe\" for \"--no-healthcheck\" flag: strconv.ParseBool: parsing \"maybe\": "
                      "invalid syntax")},
    });
}
