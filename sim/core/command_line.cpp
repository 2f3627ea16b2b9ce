#include "sim/core/command_line.hpp"

namespace isolab {

namespace {

// A shell reports a syntax error (unterminated quote) with exit status 2.
constexpr int kShellSyntaxExit = 2;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

}  // namespace

Result<std::vector<std::string>> split_command_line(std::string_view line) {
    std::vector<std::string> words;
    std::string word;
    bool in_word = false;  // true once the current word has begun, even if still empty ("")
    size_t i = 0;
    const size_t n = line.size();
    while (i < n) {
        char c = line[i];
        if (c == '\\' && i + 1 < n && line[i + 1] == '\n') {  // line continuation: vanishes
            i += 2;
            continue;
        }
        if (is_space(c)) {
            if (in_word) words.push_back(std::move(word));
            word.clear();
            in_word = false;
            ++i;
            continue;
        }
        if (c == '#' && !in_word) break;  // a comment runs to the end of the line
        in_word = true;
        if (c == '\\') {
            if (i + 1 < n) {
                word += line[i + 1];
                i += 2;
            } else {
                word += '\\';  // a trailing backslash stays, as in `sh -c 'echo a\'`
                ++i;
            }
        } else if (c == '\'') {
            size_t close = line.find('\'', i + 1);
            if (close == std::string_view::npos)
                return make_error("unterminated single quote (opened at column " + std::to_string(i + 1) + ")",
                                  kShellSyntaxExit);
            word.append(line.substr(i + 1, close - i - 1));
            i = close + 1;
        } else if (c == '"') {
            size_t j = i + 1;
            bool closed = false;
            while (j < n) {
                char d = line[j];
                if (d == '"') {
                    closed = true;
                    break;
                }
                if (d == '\\' && j + 1 < n) {
                    char e = line[j + 1];
                    if (e == '\n') {
                        j += 2;
                        continue;
                    }
                    if (e == '$' || e == '`' || e == '"' || e == '\\') {
                        word += e;
                        j += 2;
                        continue;
                    }
                }
                word += d;
                ++j;
            }
            if (!closed)
                return make_error("unterminated double quote (opened at column " + std::to_string(i + 1) + ")",
                                  kShellSyntaxExit);
            i = j + 1;
        } else {
            word += c;
            ++i;
        }
    }
    if (in_word) words.push_back(std::move(word));
    return words;
}

std::vector<std::string> strip_docker_prefix(std::vector<std::string> words) {
    if (!words.empty() && (words[0] == "docker" || words[0] == "isolab")) words.erase(words.begin());
    return words;
}

}  // namespace isolab
