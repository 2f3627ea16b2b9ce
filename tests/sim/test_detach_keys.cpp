// --detach-keys as moby/term's ToBytes reads them, and the escape proxy that finds them in what
// is typed (sim/runtime/attach).
#include <doctest/doctest.h>

#include "sim/runtime/attach.hpp"

using namespace isolab;

TEST_CASE("detach keys: Docker's key names, and its refusal") {
    CHECK(*parse_detach_keys("") == std::string("\x10\x11"));
    CHECK(*parse_detach_keys("ctrl-p,ctrl-q") == std::string("\x10\x11"));
    CHECK(*parse_detach_keys("ctrl-a,d") == std::string("\x01" "d"));
    CHECK(*parse_detach_keys("ctrl-@") == std::string(1, '\0'));
    CHECK(*parse_detach_keys("ctrl-_,ctrl-\\,DEL") == std::string("\x1f\x1c\x7f"));
    CHECK(*parse_detach_keys("a,b,c") == "abc");
    for (const char* bad : {"ctrl-zz", "shift-a", "ctrl-", "ctrl-A", "a,,b", "ab"}) {
        auto r = parse_detach_keys(bad);
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().message == "Invalid detach keys (" + std::string(bad) + ") provided");
        CHECK(r.error().exit_code == 125);
    }
}

TEST_CASE("escape proxy: the whole sequence detaches, a broken-off one is passed on") {
    EscapeProxy p("\x10\x11");
    bool detached = false;
    CHECK(p.feed("ls\r", &detached) == "ls\r");
    CHECK_FALSE(detached);
    // ctrl-p held back until the next byte says what it was.
    CHECK(p.feed("\x10", &detached) == "");
    CHECK(p.feed("x", &detached) == "\x10x");
    CHECK_FALSE(detached);
    // ctrl-p ctrl-p ctrl-q: the first ctrl-p goes on, the last two detach.
    CHECK(p.feed("\x10\x10", &detached) == "\x10");
    CHECK(p.feed("\x11" "after", &detached) == "");
    CHECK(detached);
    // In one read, with bytes before it.
    EscapeProxy q("\x01" "d");
    bool d2 = false;
    CHECK(q.feed("echo\x01" "d", &d2) == "echo");
    CHECK(d2);
    // No keys: everything passes.
    EscapeProxy none("");
    bool d3 = false;
    CHECK(none.feed("\x10\x11", &d3) == "\x10\x11");
    CHECK_FALSE(d3);
}
