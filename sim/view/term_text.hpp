// The text side of the Terminal tab (GUI-free): what a plain text box shows for a terminal's
// byte stream, the command history behind Up/Down, and the tail of a long output. The window only
// draws the strings these return.
//
// TermText is deliberately not a terminal emulator: the shell runs with TERM=dumb, so what reaches
// us is mostly text, "\r\n" line ends (the pty's ONLCR) and the odd backspace of line editing.
// Escape sequences that still arrive (colors from a program that ignores TERM, a title OSC) are
// dropped whole, even when a read() splits one in two.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace isolab::view {

class TermText {
public:
    // Keeps at most about MAX_BYTES of finished lines; older lines are dropped first.
    explicit TermText(size_t max_bytes = 256 * 1024);

    // Appends raw bytes as a terminal would show them:
    //   "\n" ends the line; "\r" moves to its start (what follows overwrites); "\b" moves one
    //   character left (UTF-8 aware); "\t" becomes spaces to the next multiple of 8;
    //   ESC [ … final, ESC ] … BEL/ST, ESC + one char are dropped (CSI K erases to the line's
    //   end, the one sequence line editors rely on); other control bytes are dropped.
    void feed(std::string_view bytes);
    // Finished lines and the current one, joined by "\n" (no trailing "\n" for the current line).
    std::string text() const;
    // The line the cursor is on (a prompt such as "/ # " waits there).
    const std::string& current_line() const { return line_; }
    // True when lines were dropped to respect the size bound.
    bool trimmed() const { return trimmed_; }
    void clear();

private:
    void put(std::string_view glyph);  // one UTF-8 character at the cursor
    void newline();

    enum class Esc { None, Escape, Csi, Osc, OscEscape, OneMore };
    size_t max_bytes_;
    std::string done_;        // finished lines, each ending in "\n"
    std::string line_;        // the current line
    size_t col_ = 0;          // cursor: byte offset into line_, always on a character boundary
    Esc esc_ = Esc::None;
    std::string csi_;         // parameters of the CSI sequence being read
    std::string utf8_;        // an incomplete UTF-8 character split across feed() calls
    bool trimmed_ = false;
};

// Strips escape sequences and applies "\r"/"\b" to a whole text at once (TermText in one go).
std::string plain_terminal_text(std::string_view bytes);

// The last at most MAX_BYTES of TEXT, starting at a line boundary when one is near (and never in
// the middle of a UTF-8 character). *CUT says whether anything was left out.
std::string_view tail_for_display(std::string_view text, size_t max_bytes, bool* cut = nullptr);

// Up/Down through the lines entered so far, like a shell's history.
class CommandHistory {
public:
    explicit CommandHistory(size_t max_entries = 200);
    // Remembers LINE (not empty lines, nor a repeat of the newest entry) and ends any navigation.
    void add(const std::string& line);
    // Up: the next older entry, or nullopt at the oldest. The first Up remembers CURRENT (the
    // unfinished draft), which Down past the newest entry gives back.
    std::optional<std::string> older(const std::string& current);
    // Down: the next newer entry, then the draft; nullopt when not navigating.
    std::optional<std::string> newer();
    const std::vector<std::string>& entries() const { return entries_; }

private:
    size_t max_;
    std::vector<std::string> entries_;  // oldest first
    std::optional<size_t> at_;          // index into entries_ while navigating
    std::string draft_;
};

// What a line typed into the Terminal tab asks for.
enum class TerminalLine {
    Empty,    // only blanks: nothing happens
    Clear,    // `clear`: empty the scrollback (a terminal's own command, not isolab's)
    Command,  // everything else runs as `isolab LINE`
};
TerminalLine classify_terminal_line(std::string_view line);

// The Terminal tab's suggestion chips ("Try: ps -a ..."), the words after `isolab`. A chip fills
// the input line; each must be a command the CLI parses (tests/app/test_terminal_chips.cpp).
const std::vector<std::string>& terminal_examples();

// Splits "ps -a;images" at ';' into trimmed, non-empty lines (the demo lines of the tab).
std::vector<std::string> split_demo_lines(std::string_view text);

}  // namespace isolab::view
