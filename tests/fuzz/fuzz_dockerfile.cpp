// libFuzzer target for the Dockerfile parser (sim/engine/dockerfile.cpp). See README.md here.
//
// Feeds arbitrary bytes to parse(); for every instruction of a successful parse it runs what the
// build executor will run on it: expand() on each argument and each pair (with the Dockerfile's
// escape and with a few variables set, so the ${...} modifiers take both branches), and
// config_args()/effective_command(). Beyond ASan/UBSan findings it checks the parser's own
// promises and aborts when one breaks: errors are one line per bad instruction with exit code 1 and a
// "Dockerfile:N: " prefix, instruction lines are increasing and inside the file, and pair values
// are in expand() form (they expand without error).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "sim/engine/dockerfile.hpp"

using namespace isolab::dockerfile;

namespace {

void check(bool ok) {
    if (!ok) std::abort();
}

int count_lines(const std::string& text) {
    int n = 1;
    for (char c : text) n += c == '\n';
    return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    const auto parsed = parse(text);
    if (!parsed.ok()) {
        const auto& e = parsed.error();
        check(e.exit_code == 1);
        // One line per bad instruction, each "Dockerfile:N: ...".
        for (size_t at = 0; at != std::string::npos;) {
            check(e.message.compare(at, 11, "Dockerfile:") == 0);
            at = e.message.find('\n', at);
            if (at != std::string::npos) ++at;
        }
        return 0;
    }
    const Dockerfile& df = parsed.value();
    check(!df.instructions.empty());
    check(df.escape == '\\' || df.escape == '`');

    std::map<std::string, std::string> vars = {{"A", "a"}, {"EMPTY", ""}, {"PATH", "/bin"}};
    const std::vector<std::string> shell = {"/bin/sh", "-c"};
    std::vector<std::string> entrypoint;
    std::vector<std::string> cmd;
    int last_line = 0;
    const int lines = count_lines(text);
    for (const Instruction& in : df.instructions) {
        check(in.line > last_line && in.line <= lines);
        last_line = in.line;
        check(in.keyword == kind_name(in.kind));
        check(in.text.rfind(in.keyword, 0) == 0);
        for (const std::string& a : in.args) (void)expand(a, vars, df.escape);
        for (const auto& [k, v] : in.pairs) {
            // Pair values come out of the parser already checked: expanding cannot fail, except
            // for ${X?msg}/${X:?msg} which fail by design when X is unset.
            const auto kv = expand(k, vars, df.escape);
            const auto vv = expand(v, vars, df.escape);
            // ... or when the value outgrows kMaxExpandedWord (ENV A=$A$A, line after line).
            auto too_long = [](const auto& r) { return !r.ok() && r.error().message.find("over 128 KiB") != std::string::npos; };
            if (v.find('?') == std::string::npos) check(vv.ok() || too_long(vv));
            if (k.find('?') == std::string::npos) check(kv.ok() || too_long(kv));
            if (vv.ok() && in.kind == Kind::Env) vars[k] = vv.value();
        }
        switch (in.kind) {
            case Kind::Run: (void)config_args(in, shell); break;
            case Kind::Cmd: cmd = config_args(in, shell); break;
            case Kind::Entrypoint: entrypoint = config_args(in, shell); break;
            case Kind::From: case Kind::Copy: case Kind::Add: case Kind::Env: case Kind::Workdir:
            case Kind::Expose: case Kind::Label: case Kind::User: case Kind::Arg:
            case Kind::StopSignal: case Kind::Shell: case Kind::Volume: case Kind::Maintainer:
                break;
            case Kind::Healthcheck:
                // Test is Docker's shape, and the durations the parser let through read as Go's.
                check(!in.args.empty() && (in.args[0] == "NONE" || in.args[0] == "CMD" || in.args[0] == "CMD-SHELL"));
                for (const auto& [flag, value] : in.flags)
                    if (flag != "retries" && !value.empty()) check(parse_go_duration(value).ok());
                break;
            case Kind::Onbuild:
                // The stored trigger parses again as one instruction after a FROM.
                check(in.args.size() == 1 && parse("FROM a\n" + in.args[0] + "\n").ok());
                break;
        }
    }
    const auto command = effective_command(entrypoint, cmd);
    check(command.size() == entrypoint.size() + cmd.size());
    return 0;
}
