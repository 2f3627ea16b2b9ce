// The IsoLab command line, parsed into one typed Command (STYLE §2: one command type in).
//
// parse_action() turns argv (without the program name) into a Command and never executes
// anything; the Command is the whole product of parsing (nothing else is read from argv after it),
// run_command() (commands.hpp) executes it, and to_argv()/to_command_line() print it back as the
// words that parse into it again. Flag syntax, messages and exit codes follow the Docker CLI v29
// (spf13/pflag + cobra), with "docker" replaced by "isolab".
// First line of Error::message, then exit code:
//
//   unknown or malformed flag        unknown flag: --foo                                      125
//   too few / too many positionals   isolab: 'isolab run' requires at least 1 argument        125
//                                    (Docker exits 1 here; IsoLab uses 125 for every parse error)
//   run/create value, client check   isolab: invalid containerPort: abc                       125
//   run/create value, daemon check   isolab: Error response from daemon: Minimum memory ...   125
//     (Docker checks these in its daemon: name, -m minimum, --memory-swap, --cpus range,
//      --restart name and count, -w absolute, --stop-signal; the wording is kept)
//   unknown command                  isolab: unknown command: isolab foo                      1
//
// Each is followed by Docker's footer, e.g. for a flag error
//   "\n\nUsage:  isolab run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nRun 'isolab run --help' for more information"
// and for a run/create value error "\n\nRun 'isolab run --help' for more information".
//
// Error::message is always the complete text to print (possibly several lines, no trailing
// newline); front ends print it verbatim to stderr and exit with Error::exit_code.
//
// The value parsers below (parse_publish, parse_bytes, ...) are public so that the GUI and lessons
// can validate single fields; they return the bare reason ("invalid size: '12q'") without the
// usage footer.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sim/core/command_line.hpp"
#include "sim/core/result.hpp"
#include "sim/state/spec.hpp"

namespace isolab::cli {

struct Command {
    // The flat verb this command dispatches on: run create start stop kill pause unpause restart
    // rm ps exec logs inspect wait top diff commit history images rmi build tag save load port
    // rename update stats events info version export import completion help gui doctor login logout search, the groups vm network lesson race runtime, the
    // volume subcommands ("volume create", "volume ls", "volume inspect", "volume rm", "volume prune"), and "container" /
    // "image" only when given alone (then help is true). `container ls` arrives as "ps",
    // `image rm` as "rmi". The prune commands keep their two words: "container prune",
    // "image prune", "network prune", "system prune", and so do "system df" and "system reset"
    // ("system" alone is help, as "container").
    std::string verb;
    // The words that named the command, for messages: "run", "container ls", "image rm".
    std::string command_path;

    // Positionals. Containers (start/stop/... NAME...), images (rmi, history, save), the build
    // context directory, `tag SRC DST`, `commit CONTAINER [REPO[:TAG]]`, `port CONTAINER
    // [PORT[/PROTO]]`, help topics. Empty for run/create (image and command live in spec), exec
    // holds only the container here, top only the container.
    std::vector<std::string> args;

    // run / create: everything the engine needs. spec.image and spec.cmd (verbatim, may start
    // with '-') are filled from the positionals; spec.name has Docker's optional leading '/'
    // stripped and has been validated.
    ContainerSpec spec;

    // Global flags (before the verb): --root PATH, --lang ko|en, -D/--debug.
    std::string global_root;  // "" = $ISOLAB_ROOT or the default root
    std::string lang;         // "" = from the environment; else "ko" or "en"
    bool debug = false;

    bool detach = false;       // run -d, exec -d
    bool attach = false;       // start -a
    bool no_stdin = false;     // attach --no-stdin
    bool interactive = false;  // start -i, exec -i (run/create: spec.interactive)
    bool tty = false;          // exec -t (run/create: spec.tty)
    std::vector<std::string> attach_streams;  // run/create -a: lowercased stdin|stdout|stderr
    std::string detach_keys;                  // run/start/attach --detach-keys (validated; exec refuses it)
    bool sig_proxy = true;                    // run/attach --sig-proxy
    std::string pull = "missing";             // run/create --pull always|missing|never
    std::string platform;                     // pull/push --platform (run/create: not yet)
    bool disable_content_trust = true;        // push --disable-content-trust (Docker's default)
    bool privileged = false;                  // exec --privileged (run/create: spec.privileged)
    int64_t memory_swap = 0;                  // run/create --memory-swap: 0 unset, -1 unlimited

    // Listing: ps, images, history, inspect.
    bool all = false, quiet = false, no_trunc = false, size = false, latest = false;
    int last = -1;                     // ps -n/--last (-1 = all)
    bool digests = false;              // images --digests (a DIGEST column)
    std::string format;                // --format (ps, images, history, version), -f (inspect)
    std::vector<std::string> filters;  // ps/images -f/--filter, repeatable
    // network create
    std::string network_driver;               // -d/--driver ("" = bridge; anything else is refused)
    std::string subnet;                       // --subnet CIDR
    bool internal = false;                    // --internal
    std::vector<std::string> network_labels;  // --label K=V, repeatable
    // volume create (volume ls/inspect/rm/prune use quiet, filters, format, force and all)
    std::string volume_driver;                             // -d/--driver: "" or "local" (others are refused)
    std::map<std::string, std::string> volume_labels;      // --label K[=V], repeatable
    std::string inspect_type;          // inspect --type; "image"/"container" via the groups
    bool human = true;                 // history -H/--human

    // Removal.
    bool force = false;     // rm -f, rmi -f
    bool volumes = false;   // rm -v (accepted, no-op)
    bool link = false;      // rm -l (accepted, no-op)
    bool no_prune = false;  // rmi --no-prune
    bool verbose = false;   // system df -v (prune -a, -f, --filter, --volumes: all, force, filters, volumes)

    // logs
    bool follow = false, timestamps = false, details = false;
    std::string tail = "all";  // -n/--tail, as typed ("all" or a number; the executor checks)
    std::string since, until;

    // stop / restart / kill
    int time = -1;            // stop/restart -t/--timeout/--time; -1 when not given (default 10)
    bool time_given = false;  // true when -t was typed; then time < 0 means "wait forever"
    std::string signal;       // kill -s (default "KILL"); stop/restart -s ("" = stop signal)

    // exec: CONTAINER in args[0], the command verbatim here.
    std::vector<std::string> exec_cmd;
    std::vector<std::string> exec_env;  // KEY=VALUE, --env-file lines first, then -e in order
    std::string exec_workdir;
    std::string exec_user;

    // top CONTAINER [ps OPTIONS]: the ps options, verbatim.
    std::vector<std::string> ps_args;

    // commit
    std::string author, message;
    std::vector<std::string> changes;  // -c/--change, repeatable
    bool pause = true;                 // -p/--pause (default true)

    // build PATH
    std::vector<std::string> tags;        // -t/--tag, repeatable
    std::string dockerfile;               // -f/--file ("" = PATH/Dockerfile)
    std::string target;                   // build --target STAGE
    std::string progress;                 // build --progress auto|plain|quiet ("" = auto)
    std::vector<std::string> build_args;  // --build-arg K=V, repeatable
    bool no_cache = false;

    // save/export -o FILE / load -i FILE ("" = stdout / stdin). import FILE|- [REPO[:TAG]] and
    // completion bash keep their words in args; import's -c/-m are commit's changes and message.
    std::string output, input;

    // cp SRC DEST (both in args): -L/--follow-link, -a/--archive; -q is `quiet`.
    bool follow_link = false;
    bool archive = false;

    // gui --present --lesson ID --screenshot FILE --frames N (--lang goes to `lang`)
    bool present = false;
    std::string lesson;
    bool lessons = false;      // gui --lessons
    bool study_group = false;  // gui --study-group
    std::string screenshot;
    int frames = 0;  // 0 = not given
    std::string gui_view;    // gui --view race|lifecycle|isolation|images|network|terminal|resources
    std::string gui_select;  // gui --select CONTAINER|vm:NAME
    std::string gui_size;    // gui --size WxH
    bool fullscreen = false; // gui --fullscreen
    bool gui_audit = false;  // gui --audit (with --screenshot)

    // update: only the values typed (CONTAINER... in args). stats --no-stream.
    ResourceUpdate update;
    bool no_stream = false;

    // login / search (search's -f, --format and --no-trunc are filters, format and no_trunc)
    std::string username;         // login -u/--username
    bool password_stdin = false;  // login --password-stdin (-p/--password is refused)
    int limit = 0;                // search --limit (0: the registry's default, 25)

    bool short_version = false;  // `isolab -v/--version`: one line, like `docker -v`
    bool json = false;           // doctor --json
    bool fix = false;            // doctor --fix

    // --help on any verb (or -h where -h is not a flag of that verb; for run/create -h is
    // --hostname as in Docker). When true, positional-count and value checks were skipped: the
    // front end prints usage(command_path) and exits 0.
    bool help = false;

    // vm, network, lesson, race, runtime: everything after the verb, verbatim; the group
    // parses it itself.
    std::vector<std::string> rest;

    // argv was empty: `isolab` alone, which opens the window when there is a display and prints
    // the top-level usage when there is none (`isolab gui` always tries the window).
    bool bare = false;

    // Field by field: the round-trip contract below, and a GUI that compares what it submits.
    bool operator==(const Command&) const = default;
};

// Parses argv without the program name. Empty argv (or only global flags) means the GUI: verb
// "gui". `--help`/`-h` alone gives verb "help"; `-v`/`--version` gives verb "version" with
// short_version set.
//
// This is what the GUI and the lesson player call in-process to turn words into the action a
// click or a step submits. Reading is done here, once, in the calling process: `--env-file` is
// opened relative to its current directory, a bare `-e KEY` takes KEY from its environment and
// `--cpus` is checked against its CPU count; a caller that means another directory (a lesson's
// folder) passes absolute paths.
Result<Command> parse_action(const std::vector<std::string>& argv);

// The CLI's name for parse_action (the same function).
Result<Command> parse_args(const std::vector<std::string>& argv);

// The words after `isolab` that parse back into C: parse_action(to_argv(c)) == c for every C that
// parse_action produced (a hand-built C must hold values parse_action can produce: one entrypoint
// word, a validated name, ...). The GUI can run them as they are (Jobs::submit_words) without
// printing and splitting a line. Canonical spelling: global flags first; then the command path
// ("container ls"); the verb's flags, run's own before the container flags, each in table
// (alphabetical) order, in the short form when there is one and only when they differ from the
// default, as the GUI writes its lines ("run -d --name web -P isolab/web"); `--help`; then the
// positionals (after "--" when one looks like a flag). Values are printed as parse_action keeps
// them: --env-file as the -e assignments it read, -p as one mapping per port, sizes in the
// largest exact binary unit ("512m"). `isolab` alone (bare) gives no words, as does the blank
// Command (verb "") of an empty terminal line.
std::vector<std::string> to_argv(const Command& c);

// "isolab " + to_argv(c), each word quoted for split_command_line where it needs it ('it'\''s'):
// the line the GUI's command log shows for a click ("isolab run -d -P isolab/web"), which
// parse_line reads back into C. The blank Command gives ""; a bare one gives "isolab", which
// parse_line, as a terminal, reads as `help`.
std::string to_command_line(const Command& c);

// Docker-like usage text for `isolab VERB --help` (verb may be a path such as "container ls";
// "" or an unknown verb gives the top-level help). Ends without a newline.
std::string usage(std::string_view verb);

// The verb and flag tables as data, for text generated from them (`isolab completion bash`), so
// that a new verb or flag reaches the generated text without a second list to keep in step.
struct FlagInfo {
    std::string name;     // long name, without "--"
    char shorthand = 0;   // 0 = none
    bool takes_value = false;
    bool hidden = false;  // an alias or deprecated spelling, not shown in usage
};
struct VerbInfo {
    std::string name;  // "run", "network", "system df" (a name with a space: reached through its group)
    std::string use;   // what follows the command path in the usage line: "[OPTIONS] CONTAINER"
    bool group = false;  // its own parser reads the words after it (network, vm, lesson, ...)
    std::vector<FlagInfo> flags;
    std::vector<std::pair<std::string, std::string>> subcommands;  // container/image/system: word → verb
};
std::vector<VerbInfo> verb_infos();
std::vector<FlagInfo> global_flag_infos();

// One splitter for every command line (sim/core/command_line.hpp): the lesson checker reads a
// lesson's lines with the same words the CLI and the GUI run.
using ::isolab::split_command_line;
using ::isolab::strip_docker_prefix;

// The GUI terminal's entry point: split_command_line, strip_docker_prefix, parse_args.
// A blank line gives verb "" (nothing to do); a lone "docker"/"isolab" gives verb "help".
Result<Command> parse_line(std::string_view line);

// ---- Single-value parsers (bare Docker reasons, exit code 125) ----

// -p/--publish: [IP:][HOST[-HOST]:]CONTAINER[-CONTAINER][/tcp|udp|sctp], also the long form
// "published=8080,target=80,protocol=udp". Ranges expand to one mapping per port. Host port 0 or
// none means "pick a free one". Reasons: "invalid containerPort: abc", "invalid hostPort: abc",
// "invalid proto: xyz", "invalid IP address: 1.2.3", "no port specified: :<empty>".
Result<std::vector<PortMapping>> parse_publish(std::string_view spec);

// Docker's RAMInBytes: "512", "512b", "64k", "64kb", "1.5g", "2 GiB" (binary units, case
// insensitive, up to p). Reason: "invalid size: '12q'".
Result<int64_t> parse_bytes(std::string_view text);

// --cpus as nano-CPUs ("1.5" -> 1'500'000'000). Only syntax here; the range against the host
// CPU count is checked by parse_args. Reasons: "failed to parse abc as a rational number",
// "value is too precise".
Result<int64_t> parse_cpus(std::string_view text);

// --restart: no | always | unless-stopped | on-failure[:N]. Reasons as Docker's, e.g.
// "invalid restart policy: unknown policy 'sometimes'; use one of 'no', 'always', 'on-failure',
// or 'unless-stopped'".
Result<RestartPolicy> parse_restart_policy(std::string_view text);

// Docker's container name rule, /?[a-zA-Z0-9][a-zA-Z0-9_.-]+ (so never "..", never a '/' inside:
// the name becomes a directory under the state root). Returns the name without the leading '/'.
// Reason: "Invalid container name (../../etc), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed".
Result<std::string> validate_container_name(std::string_view name);

// A signal by name or number: "KILL", "sigterm", "SIGUSR1", "9". Reason: "invalid signal: FOO".
Result<int> parse_signal(std::string_view text);

}  // namespace isolab::cli
