// Intent records (sim/engine/intent.hpp): written before an operation acts, removed on every
// return path, and left behind by a kill -9, with an owner the garbage collector can judge.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

#include "sim/core/files.hpp"
#include "sim/engine/intent.hpp"

using namespace isolab;

namespace {
struct Dir {
    std::string path;
    Dir() {
        char t[] = "/tmp/isolab-intent-XXXXXX";
        path = ::mkdtemp(t);
    }
    ~Dir() { (void)remove_tree(path); }
};
}  // namespace

TEST_CASE("intent: the guard removes it on return; a killed owner leaves it, judged gone") {
    Dir d;
    {
        Intent what(IntentOp::Commit);
        what.staged = d.path + "/staged";
        auto g = IntentGuard::begin(d.path, what);
        REQUIRE(g.ok());
        auto in = read_intent(d.path);
        REQUIRE(in.has_value());
        CHECK(in->op == IntentOp::Commit);
        CHECK(in->staged == d.path + "/staged");
        CHECK(intent_owner_alive(*in));  // this process
        what.froze = true;
        REQUIRE(g->update(what).ok());
        CHECK(read_intent(d.path)->froze);
    }
    CHECK_FALSE(read_intent(d.path).has_value());

    // A child writes an intent and is killed before it can remove it.
    pid_t pid = ::fork();
    if (pid == 0) {
        auto g = IntentGuard::begin(d.path, {IntentOp::Start});
        ::raise(SIGKILL);
        ::_exit(0);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    REQUIRE(WIFSIGNALED(status));
    auto left = read_intent(d.path);
    REQUIRE(left.has_value());
    CHECK(left->op == IntentOp::Start);
    CHECK(left->pid == pid);
    CHECK_FALSE(intent_owner_alive(*left));

    // A torn intent (a full disk) is still an intent, with no live owner.
    REQUIRE(write_file(intent_path(d.path), "{\"op\": \"rem").ok());
    auto torn = read_intent(d.path);
    REQUIRE(torn.has_value());
    CHECK_FALSE(intent_owner_alive(*torn));
    clear_intent(d.path);
    CHECK_FALSE(read_intent(d.path).has_value());
}
