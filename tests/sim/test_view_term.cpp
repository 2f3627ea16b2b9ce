// The Terminal tab's text: escape stripping, "\r" and "\b", output tails, history navigation.
#include <doctest/doctest.h>

#include <string>

#include "sim/view/term_text.hpp"

using namespace isolab::view;

TEST_CASE("view: term text keeps plain lines and turns CRLF into lines") {
    TermText t;
    t.feed("hello\r\nworld\r\n/ # ");
    CHECK(t.text() == "hello\nworld\n/ # ");
    CHECK(t.current_line() == "/ # ");
}

TEST_CASE("view: term text drops color, cursor and title sequences") {
    CHECK(plain_terminal_text("\x1b[1;32mgreen\x1b[0m text") == "green text");
    CHECK(plain_terminal_text("\x1b]0;title\x07" "after") == "after");
    CHECK(plain_terminal_text("\x1b]2;title\x1b\\after") == "after");
    CHECK(plain_terminal_text("\x1b(Bx\x1b=y\x1b[?2004h" "z") == "xyz");
}

TEST_CASE("view: term text handles a sequence split across reads") {
    TermText t;
    t.feed("a\x1b[");
    t.feed("31");
    t.feed("mb\x1b");
    t.feed("]0;t");
    t.feed("\x07" "c");
    CHECK(t.text() == "abc");
}

TEST_CASE("view: carriage return overwrites, backspace moves left") {
    CHECK(plain_terminal_text("abcdef\rxy") == "xycdef");
    CHECK(plain_terminal_text("abc\b\bX") == "aXc");
    CHECK(plain_terminal_text("ls\b \b\b \b") == "  ");
    CHECK(plain_terminal_text("\b\bok") == "ok");  // nothing left of column 0
    // Erase to the end of the line, as line editors redraw.
    CHECK(plain_terminal_text("abcdef\r\x1b[Kxy") == "xy");
    CHECK(plain_terminal_text("abcdef\x1b[3D\x1b[K!") == "abc!");
}

TEST_CASE("view: term text is UTF-8 aware, also across reads") {
    CHECK(plain_terminal_text("한국어\bX") == "한국X");
    TermText t;
    std::string s = "값";  // 3 bytes
    t.feed(s.substr(0, 1));
    t.feed(s.substr(1, 1));
    t.feed(s.substr(2) + "!");
    CHECK(t.text() == "값!");
    CHECK(plain_terminal_text("a\tb") == "a       b");
    CHECK(plain_terminal_text("bell\x07!") == "bell!");
}

TEST_CASE("view: term text drops its oldest lines past the bound") {
    TermText t(1000);
    for (int i = 0; i < 500; ++i) t.feed("line " + std::to_string(i) + "\r\n");
    std::string text = t.text();
    CHECK(t.trimmed());
    CHECK(text.size() <= 1300);
    CHECK(text.rfind("line 499\n") != std::string::npos);
    CHECK(text.rfind("line ", 0) == 0);  // starts at a whole line
    CHECK(text.find("line 0\n") == std::string::npos);
    t.clear();
    CHECK(t.text().empty());
    CHECK(!t.trimmed());
}

TEST_CASE("view: output tails start at a line and at a character") {
    bool cut = true;
    CHECK(tail_for_display("short", 100, &cut) == "short");
    CHECK(!cut);
    std::string big;
    for (int i = 0; i < 100; ++i) big += "row " + std::to_string(i) + "\n";
    auto tail = tail_for_display(big, 50, &cut);
    CHECK(cut);
    CHECK(tail.size() <= 50);
    CHECK(tail.substr(0, 4) == "row ");
    CHECK(tail.substr(tail.size() - 7) == "row 99\n");
    std::string korean(200, 'x');
    for (int i = 0; i < 40; ++i) korean += "한";
    auto t2 = tail_for_display(korean, 31, &cut);
    CHECK(t2.size() == 30);  // moved past the broken character
    CHECK(t2 == std::string_view(korean).substr(korean.size() - 30));
}

TEST_CASE("view: history walks older and newer and restores the draft") {
    CommandHistory h;
    CHECK(!h.older("x"));
    h.add("ps");
    h.add("images");
    h.add("images");  // a repeat of the newest is kept once
    h.add("   ");     // blanks are not kept
    CHECK(h.entries().size() == 2);
    CHECK(!h.newer());
    CHECK(h.older("draft") == "images");
    CHECK(h.older("ignored") == "ps");
    CHECK(!h.older(""));  // at the oldest
    CHECK(h.newer() == "images");
    CHECK(h.newer() == "draft");
    CHECK(!h.newer());
    CHECK(h.older("") == "images");
    h.add("run busybox");  // ends navigation
    CHECK(h.older("") == "run busybox");
}

TEST_CASE("view: history keeps its newest entries") {
    CommandHistory h(3);
    for (const char* s : {"a", "b", "c", "d"}) h.add(s);
    REQUIRE(h.entries().size() == 3);
    CHECK(h.entries().front() == "b");
}

TEST_CASE("view: terminal lines and demo lines") {
    CHECK(classify_terminal_line("  ") == TerminalLine::Empty);
    CHECK(classify_terminal_line(" clear ") == TerminalLine::Clear);
    CHECK(classify_terminal_line("ps -a") == TerminalLine::Command);
    CHECK(classify_terminal_line("clear-cache") == TerminalLine::Command);
    auto lines = split_demo_lines(" ps -a; images;;run -d busybox ");
    REQUIRE(lines.size() == 3);
    CHECK(lines[0] == "ps -a");
    CHECK(lines[1] == "images");
    CHECK(lines[2] == "run -d busybox");
    CHECK(split_demo_lines("").empty());
}
