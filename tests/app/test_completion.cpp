// `isolab completion bash` (app/cli/completion.hpp): the script is generated from the parser's
// tables, so each verb and flag the parser knows must be in it, bash must accept it, and the
// completion function must answer like a shell would ask it.
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "app/cli/args.hpp"
#include "app/cli/completion.hpp"
#include "tests/skip.hpp"

using isolab::cli::bash_completion_script;
using isolab::cli::global_flag_infos;
using isolab::cli::verb_infos;

namespace {

// A word of the script, delimited as bash would see it in a compgen -W list or a case pattern.
bool has_word(const std::string& script, const std::string& word) {
    for (size_t at = script.find(word); at != std::string::npos; at = script.find(word, at + 1)) {
        auto delimiter = [](char c) { return c == ' ' || c == '"' || c == '|' || c == '\'' || c == '\n' || c == ')'; };
        bool before = at == 0 || delimiter(script[at - 1]);
        bool after = at + word.size() == script.size() || delimiter(script[at + word.size()]);
        if (before && after) return true;
    }
    return false;
}

struct TempScript {
    std::string path;
    explicit TempScript(const std::string& text) {
        char tmpl[] = "/tmp/isolab-completion-XXXXXX";
        int fd = ::mkstemp(tmpl);
        REQUIRE(fd >= 0);
        path = tmpl;
        REQUIRE(::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
        ::close(fd);
    }
    ~TempScript() { ::unlink(path.c_str()); }
};

// Runs bash -c PROGRAM; returns stdout, and the exit status in *CODE.
std::string run_bash(const std::string& program, int* code) {
    std::string out;
    std::string cmd = "/bin/bash --norc --noprofile -c '" + program + "' 2>&1";
    FILE* p = ::popen(cmd.c_str(), "r");
    REQUIRE(p != nullptr);
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    int status = ::pclose(p);
    *code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return out;
}

// What _isolab offers for the words WORDS, the last one being completed (no isolab on PATH:
// the lists of containers and images are empty).
std::string complete(const std::string& script_path, const std::string& words) {
    int code = 0;
    std::string program = "source " + script_path + "; COMP_WORDS=(" + words +
                          "); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); PATH=/nonexistent; _isolab; "
                          "printf \"%s\\n\" \"${COMPREPLY[@]}\"";
    std::string out = run_bash(program, &code);
    CHECK(code == 0);
    return out;
}

}  // namespace

TEST_CASE("completion: every verb, subcommand and visible flag of every verb is in the bash script") {
    const std::string script = bash_completion_script();
    int verbs = 0, flags = 0;
    for (const auto& v : verb_infos()) {
        CAPTURE(v.name);
        CHECK(has_word(script, v.name));
        ++verbs;
        for (const auto& [word, target] : v.subcommands) {
            CHECK(has_word(script, word));
            CHECK(has_word(script, target));
        }
        for (const auto& f : v.flags) {
            CAPTURE(f.name);
            if (f.hidden) continue;
            CHECK(has_word(script, "--" + f.name));
            if (f.shorthand) CHECK(has_word(script, std::string("-") + f.shorthand));
            ++flags;
        }
    }
    for (const auto& f : global_flag_infos())
        if (!f.hidden) CHECK(has_word(script, "--" + f.name));
    // The tables are not empty by accident, and the new verbs are among them.
    CHECK(verbs > 40);
    CHECK(flags > 100);
    for (const char* v : {"export", "import", "completion"}) CHECK(has_word(script, v));
    CHECK(script.find("isolab ps -a") == std::string::npos);  // through _isolab_list (keeps --root)
    CHECK(script.find("ps -a --format '{{.Names}}'") != std::string::npos);
    CHECK(script.find("images --format '{{.Repository}}:{{.Tag}}'") != std::string::npos);
    CHECK(script.find("complete -F _isolab isolab") != std::string::npos);
}

TEST_CASE("completion: bash -n accepts the script, and _isolab completes verbs, subcommands and flags") {
    if (::access("/bin/bash", X_OK) != 0) {
        ISOLAB_SKIP("no /bin/bash on this machine");
        return;
    }
    TempScript script(bash_completion_script());
    int code = -1;
    std::string syntax = run_bash("bash -n " + script.path, &code);
    INFO(syntax);
    CHECK(code == 0);
    CHECK(syntax.empty());

    CHECK(complete(script.path, "isolab exp") == "export\n");
    CHECK(complete(script.path, "isolab --root /tmp/r imp") == "import\n");
    CHECK(complete(script.path, "isolab container exp") == "export\n");
    CHECK(complete(script.path, "isolab image imp") == "import\n");
    CHECK(complete(script.path, "isolab export --o") == "--output\n");
    CHECK(complete(script.path, "isolab import --m") == "--message\n");
    CHECK(complete(script.path, "isolab image import --ch") == "--change\n");
    CHECK(complete(script.path, "isolab system d") == "df\n");
    CHECK(complete(script.path, "isolab system prune --vo") == "--volumes\n");
    CHECK(complete(script.path, "isolab completion b") == "bash\n");
    CHECK(complete(script.path, "isolab --la") == "--lang\n");
    CHECK(complete(script.path, "isolab --lang k") == "ko\n");
    // After a flag that takes a value, no flag is offered; after -o, file names are.
    CHECK(complete(script.path, "isolab run --name --") == "\n");
    std::string files = complete(script.path, "isolab export -o /bin/bas");
    CHECK(files.find("/bin/bash\n") != std::string::npos);
}
