// The prune commands' pure parts (app/cli/prune_commands.hpp): go-units' sizes, Docker's
// confirmation prompt, system prune's question, the daemon's prune filters, and the parsed
// Commands of the new verbs. The words expected here were read from Docker 28.2's client (its
// prompts and help) and go-units' HumanSize; tests/integration/test_prune.cpp runs the commands.
#include <doctest/doctest.h>

#include <sstream>
#include <string>
#include <vector>

#include "app/cli/args.hpp"
#include "app/cli/prune_commands.hpp"

using namespace isolab::cli;

TEST_CASE("prune: sizes are go-units' HumanSize (decimal units, %.4g) and HumanSizeWithPrecision") {
    CHECK(go_human_size(0) == "0B");
    CHECK(go_human_size(12) == "12B");
    CHECK(go_human_size(999) == "999B");
    CHECK(go_human_size(1000) == "1kB");
    CHECK(go_human_size(12300) == "12.3kB");
    CHECK(go_human_size(12345) == "12.35kB");
    CHECK(go_human_size(1200000) == "1.2MB");
    CHECK(go_human_size(1983000) == "1.983MB");
    CHECK(go_human_size(2434567) == "2.435MB");
    CHECK(go_human_size(2434567, 3) == "2.43MB");
    CHECK(go_human_size(999999) == "1000kB");  // Go rounds after choosing the unit, as here
    CHECK(go_human_size(5e9) == "5GB");
    CHECK(go_human_size(1.5e24) == "1.5YB");
    CHECK(go_human_size(1.5e27) == "1500YB");  // no unit past YB
}

TEST_CASE("prune: the prompt says yes only for y or Y, and prints Docker's question without a newline") {
    struct Case {
        std::string input;
        bool yes;
    };
    for (const Case& c : {Case{"y\n", true}, Case{"Y\n", true}, Case{"  y \n", true}, Case{"y", true},
                          Case{"n\n", false}, Case{"N\n", false}, Case{"yes\n", false}, Case{"\n", false},
                          Case{"", false}, Case{"x\ny\n", false}}) {
        INFO("input: " << c.input);
        std::istringstream in(c.input);
        std::ostringstream out;
        CHECK(confirm(in, out, "WARNING! This will remove all stopped containers.\nAre you sure you want to continue?") ==
              c.yes);
        CHECK(out.str() == "WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] ");
    }
    // One line is read: what follows stays for whoever reads next.
    std::istringstream in("y\nrest\n");
    std::ostringstream out;
    CHECK(confirm(in, out, "?"));
    std::string rest;
    std::getline(in, rest);
    CHECK(rest == "rest");
}

TEST_CASE("prune: system prune's question changes with -a and --volumes and names the filters, as Docker 28's") {
    CHECK(system_prune_warning(false, false, {}) ==
          "WARNING! This will remove:\n"
          "  - all stopped containers\n"
          "  - all networks not used by at least one container\n"
          "  - all dangling images\n"
          "  - unused build cache\n"
          "\n"
          "Are you sure you want to continue?");
    CHECK(system_prune_warning(true, false, {}) ==
          "WARNING! This will remove:\n"
          "  - all stopped containers\n"
          "  - all networks not used by at least one container\n"
          "  - all images without at least one container associated to them\n"
          "  - all build cache\n"
          "\n"
          "Are you sure you want to continue?");
    CHECK(system_prune_warning(false, true, {}) ==
          "WARNING! This will remove:\n"
          "  - all stopped containers\n"
          "  - all networks not used by at least one container\n"
          "  - all anonymous volumes not used by at least one container\n"
          "  - all dangling images\n"
          "  - unused build cache\n"
          "\n"
          "Are you sure you want to continue?");
    CHECK(system_prune_warning(true, true, {}) ==
          "WARNING! This will remove:\n"
          "  - all stopped containers\n"
          "  - all networks not used by at least one container\n"
          "  - all anonymous volumes not used by at least one container\n"
          "  - all images without at least one container associated to them\n"
          "  - all build cache\n"
          "\n"
          "Are you sure you want to continue?");
    // label, label! and until only, once each, in natural order (until=9h before until=10h).
    CHECK(system_prune_warning(false, false, {"until=10h", "label=a=b", "until=9h", "label=a=b", "dangling=true"}) ==
          "WARNING! This will remove:\n"
          "  - all stopped containers\n"
          "  - all networks not used by at least one container\n"
          "  - all dangling images\n"
          "  - unused build cache\n"
          "\n"
          "  Items to be pruned will be filtered with:\n"
          "  - label=a=b\n"
          "  - until=9h\n"
          "  - until=10h\n"
          "\n"
          "Are you sure you want to continue?");
}

TEST_CASE("prune: filters as the daemon reads them") {
    const std::vector<std::string> containers = {"label", "label!", "until"};
    const int64_t now = 1'800'000'000LL * 1'000'000'000LL;

    auto bad = parse_prune_filters({"status=exited"}, containers, now);
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().message == "invalid filter 'status'");
    CHECK(bad.error().exit_code == 1);
    auto two = parse_prune_filters({"until=1h", "until=2h"}, containers, now);
    REQUIRE_FALSE(two.ok());
    CHECK(two.error().message == "more than one until filter specified");
    auto garbage = parse_prune_filters({"until=soon"}, containers, now);
    REQUIRE_FALSE(garbage.ok());
    CHECK(garbage.error().message == "failed to parse value as time or duration: \"soon\"");
    // The same value twice is one value (a set), as in Docker's filters.Args.
    CHECK(parse_prune_filters({"until=1h", "until=1h"}, containers, now).ok());

    auto f = parse_prune_filters({"until=1h", "label=team", "label=tier=web"}, containers, now);
    REQUIRE(f.ok());
    REQUIRE(f->until_ns.has_value());
    CHECK(*f->until_ns == now - 3600LL * 1'000'000'000LL);
    const std::string old_enough = "2027-01-15T06:00:00Z";  // now is 2027-01-15T08:00:00Z
    CHECK(prune_filters_match(*f, old_enough, {{"team", "x"}, {"tier", "web"}}));
    CHECK_FALSE(prune_filters_match(*f, old_enough, {{"team", "x"}, {"tier", "db"}}));
    CHECK_FALSE(prune_filters_match(*f, old_enough, {{"tier", "web"}}));
    CHECK_FALSE(prune_filters_match(*f, old_enough, {}));
    // Created after `until`: kept.
    CHECK_FALSE(prune_filters_match(*f, "2030-01-01T00:00:00Z", {{"team", "x"}, {"tier", "web"}}));

    // label!: an object with all of them is kept, any other pruned.
    auto g = parse_prune_filters({"label!=keep"}, containers, now);
    REQUIRE(g.ok());
    CHECK_FALSE(prune_filters_match(*g, old_enough, {{"keep", ""}}));
    CHECK(prune_filters_match(*g, old_enough, {{"other", "1"}}));
    CHECK(prune_filters_match(*g, old_enough, {}));

    // `until=0` is the Unix epoch, not "no bound": nothing is that old.
    auto epoch = parse_prune_filters({"until=0"}, containers, now);
    REQUIRE(epoch.ok());
    CHECK_FALSE(prune_filters_match(*epoch, old_enough, {}));

    // dangling (image prune) is FilterArgs::get_bool_or_default, Docker's GetBoolOrDefault.
    const std::vector<std::string> images = {"dangling", "label", "label!", "until"};
    auto yes = parse_prune_filters({"dangling=true"}, images, now);
    REQUIRE(yes.ok());
    CHECK(*yes->args.get_bool_or_default("dangling", false) == true);
    auto both = parse_prune_filters({"dangling=true", "dangling=false"}, images, now);
    REQUIRE(both.ok());
    CHECK_FALSE(both->args.get_bool_or_default("dangling", true).ok());
    CHECK_FALSE(parse_prune_filters({"dangling=true"}, containers, now).ok());
}

TEST_CASE("prune: the new verbs parse through their groups and print back") {
    struct Case {
        std::vector<std::string> argv;
        std::string verb;
    };
    for (const Case& c : {Case{{"container", "prune", "-f", "--filter", "until=1h"}, "container prune"},
                          Case{{"image", "prune", "-a", "-f"}, "image prune"},
                          Case{{"network", "prune", "--filter", "label=x"}, "network prune"},
                          Case{{"system", "prune", "-af", "--volumes"}, "system prune"},
                          Case{{"system", "df", "-v"}, "system df"},
                          Case{{"system", "df", "--format", "json"}, "system df"},
                          Case{{"system", "reset", "-f"}, "system reset"}}) {
        INFO("argv[0..1]: " << c.argv[0] << " " << c.argv[1]);
        auto cmd = parse_action(c.argv);
        REQUIRE_MESSAGE(cmd.ok(), (cmd.ok() ? "" : cmd.error().message));
        CHECK(cmd->verb == c.verb);
        CHECK(cmd->command_path == c.verb);
        CHECK(is_prune_verb(cmd->verb) == (c.verb != "system reset"));
        auto again = parse_action(to_argv(*cmd));
        REQUIRE(again.ok());
        CHECK(*again == *cmd);
    }
    auto p = parse_action({"system", "prune", "-af", "--volumes", "--filter", " Label = a=b "});
    REQUIRE(p.ok());
    CHECK(p->all);
    CHECK(p->force);
    CHECK(p->volumes);
    CHECK(p->filters == std::vector<std::string>{"label=a=b"});  // Docker's FilterOpt: name lowercased, trimmed
    CHECK(parse_action({"system", "df", "-v"})->verbose);

    // Refused as Docker's client refuses them.
    auto no_eq = parse_action({"container", "prune", "--filter", "foo"});
    REQUIRE_FALSE(no_eq.ok());
    CHECK(no_eq.error().message.rfind(
              "invalid argument \"foo\" for \"--filter\" flag: bad format of filter (expected name=value)", 0) == 0);
    auto extra = parse_action({"image", "prune", "x"});
    REQUIRE_FALSE(extra.ok());
    CHECK(extra.error().message.rfind("isolab: 'isolab image prune' accepts no arguments", 0) == 0);
    // A "group sub" verb is never a first word.
    CHECK_FALSE(parse_action({"system prune"}).ok());
    // The network group's other words are table verbs too.
    auto ls = parse_action({"network", "ls"});
    REQUIRE(ls.ok());
    CHECK(ls->verb == "network ls");
    CHECK(ls->rest.empty());
    // `system` alone is its help, listing df, prune and reset as `container` lists its commands.
    auto sys = parse_action({"system"});
    REQUIRE(sys.ok());
    CHECK(sys->help);
    const std::string help = usage("system");
    CHECK(help.find("Commands:\n  df          ") != std::string::npos);
    CHECK(help.find("\n  prune       Remove unused data\n") != std::string::npos);
    CHECK(help.find("\n  reset       ") != std::string::npos);
    CHECK(help.find("Run 'isolab system COMMAND --help' for more information on a command.") != std::string::npos);
    // Not in the top-level list as commands of their own.
    CHECK(usage("").find("container prune") == std::string::npos);
    CHECK(usage("container").find("\n  prune       Remove all stopped containers\n") != std::string::npos);
    CHECK(usage("image").find("\n  prune       Remove unused images\n") != std::string::npos);
    CHECK(usage("network prune").rfind("Usage:  isolab network prune [OPTIONS]\n\nRemove all unused networks", 0) == 0);
}
