#include "app/cli/lesson_commands.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "app/cli/commands.hpp"
#include "sim/core/clock.hpp"
#include "sim/core/i18n.hpp"
#include "sim/core/process.hpp"
#include "sim/engine/engine.hpp"
#include "sim/lesson/checks.hpp"
#include "sim/lesson/lesson.hpp"
#include "sim/lesson/player.hpp"
#include "sim/lesson/progress.hpp"
#include "sim/lesson/stage.hpp"
#include "sim/vm/vm_manager.hpp"

namespace isolab::cli {

namespace {

using namespace isolab::lesson;
using i18n::tr;

bool korean() { return i18n::language() == i18n::Lang::Ko; }

// Markup for a terminal: **bold** in bold (on a terminal), `code` kept with its backticks.
std::string plain(const std::string& s, bool tty) {
    std::string out;
    bool bold = false;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s.compare(i, 2, "**") == 0) {
            bold = !bold;
            if (tty) out += bold ? "\033[1m" : "\033[0m";
            ++i;
            continue;
        }
        out += s[i];
    }
    if (bold && tty) out += "\033[0m";
    return out;
}

std::string indent(const std::string& s, const std::string& pad) {
    std::string out = pad;
    for (char ch : s) {
        out += ch;
        if (ch == '\n') out += pad;
    }
    return out;
}

// Runs ARGV (the words after `isolab`), parsed once into the typed action the GUI would submit
// for the same step: an engine action on this player's engine E (its output going to ours), any
// other as a child of this binary given the action's words, in IsoLab's tree. Returns its exit
// code.
int run_argv(const std::vector<std::string>& argv, Engine& e, std::ostream& err) {
    auto cmd = parse_action(argv);
    if (!cmd) {
        err << cmd.error().message << "\n";
        return cmd.error().exit_code;
    }
    if (runs_on_shared_engine(*cmd)) {
        e.collect_garbage();
        int rc = run_engine_command(e, *cmd, std::cout, err);
        std::cout.flush();
        return rc;
    }
    std::string self = self_exe();
    if (self.empty()) return 127;
    std::vector<std::string> words = to_argv(*cmd);
    words.insert(words.begin(), self);
    Argv child(std::move(words));
    std::string dir = tree_dir();
    std::string root = e.store().root();
    std::cout.flush();
    pid_t pid = ::fork();
    if (pid < 0) return 126;
    if (pid == 0) {
        if (::chdir(dir.c_str()) != 0) ::_exit(126);
        if (!root.empty()) ::setenv("ISOLAB_ROOT", root.c_str(), 1);
        int null = ::open("/dev/null", O_RDONLY);
        if (null >= 0) ::dup2(null, 0);
        child.exec();
    }
    return wait_exit_code(pid);
}

// One of IsoLab's own lines (stage.hpp: the stage's removals, the teaching images' builds), made
// from names the loader validated.
int run_own_line(const std::string& line, Engine& e, std::ostream& err) {
    auto words = split_command_line(line);
    if (!words) {
        err << "isolab lesson: cannot read the command `" << line << "`: " << words.error().message << "\n";
        return 2;
    }
    return run_argv(strip_docker_prefix(*words), e, err);
}

// What run_lesson_line returns for a line the allow-list refused (not an exit code a command has).
constexpr int kRefused = -1;

// One line of the lesson's own: held against the allow-list again right before it runs (the
// folder may have changed since the lesson was loaded), and run as the vetted words, whose paths
// are the host paths resolved inside the lesson's folder.
int run_lesson_line(const std::string& line, const LessonPlace& place, Engine& e, std::ostream& err) {
    auto vetted = vet_command(line, place);
    if (!vetted.ok()) {
        err << "isolab lesson: " << i18n::trf("lesson.refused", {vetted.refusal->translated()}) << "\n";
        return kRefused;
    }
    return run_argv(vetted.argv, e, err);
}

int cmd_list(const std::vector<std::string>& args, std::ostream& out) {
    bool as_json = std::find(args.begin(), args.end(), "--json") != args.end();
    auto cat = load_catalog(lessons_dir());
    ProgressStore progress;
    nlohmann::json j = nlohmann::json::array();
    if (!as_json)
        out << std::left << std::setw(5) << "#" << std::setw(16) << "ID" << std::setw(9) << tr("lesson.col.minutes")
            << std::setw(10) << tr("lesson.col.progress") << tr("lesson.col.title") << "\n";
    for (auto& f : cat.files) {
        if (!f.lesson) {
            if (as_json) {
                j.push_back({{"id", f.id_hint}, {"file", f.path}, {"broken", f.errors.empty() ? "" : f.errors.front().format()}});
            } else {
                std::string msg = f.errors.empty() ? "" : f.errors.front().format_for_learner();
                out << std::setw(5) << "-" << std::setw(16) << f.id_hint << tr("lesson.broken") << ": " << msg << "\n";
            }
            continue;
        }
        const auto& l = *f.lesson;
        auto p = progress.get(l.id);
        int done = 0;
        for (auto& s : l.steps) done += p.done.count(s.id) > 0;
        std::string prog = std::to_string(done) + "/" + std::to_string(l.steps.size());
        if (as_json) {
            j.push_back({{"id", l.id}, {"order", l.order}, {"title", {{"en", l.title.en}, {"ko", l.title.ko}}},
                         {"minutes", l.minutes}, {"steps", l.steps.size()}, {"done", done},
                         {"finished", !p.finished_at.empty()}, {"file", f.path}});
        } else {
            out << std::setw(5) << l.order << std::setw(16) << l.id << std::setw(9) << l.minutes << std::setw(10)
                << (p.finished_at.empty() ? prog : prog + " ✓") << l.title.get(korean()) << "\n";
        }
    }
    if (as_json) out << j.dump(2) << "\n";
    return cat.errors.empty() ? 0 : 1;
}

int cmd_check(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
    std::vector<LessonError> errors;
    size_t ok = 0, files = 0;
    std::vector<std::string> paths;
    for (auto& a : args)
        if (a != "--quiet" && a != "-q") paths.push_back(a);
    if (paths.empty()) {
        auto cat = load_catalog(lessons_dir());
        errors = cat.errors;
        files = cat.files.size();
        for (auto& f : cat.files) ok += f.lesson.has_value();
        if (files == 0 && errors.empty())
            errors.push_back({lessons_dir(), 0, "no lesson files (*.json) here — set ISOLAB_LESSONS to the lessons folder"});
    } else {
        for (auto& p : paths) {
            auto f = load_lesson(p);
            ++files;
            ok += f.lesson.has_value();
            errors.insert(errors.end(), f.errors.begin(), f.errors.end());
        }
    }
    for (auto& e : errors) err << e.format() << "\n";
    out << i18n::trf("lesson.check.summary", {std::to_string(ok), std::to_string(files), std::to_string(errors.size())})
        << "\n";
    return errors.empty() ? 0 : 1;
}

const Lesson* find_or_fail(const Catalog& cat, const std::string& id, std::ostream& err) {
    const Lesson* l = cat.find(id);
    if (l) return l;
    for (auto& f : cat.files)
        if (f.id_hint == id && !f.errors.empty()) {
            // A refused command is shown in the learner's language: the lesson will not be played.
            err << "isolab lesson: " << i18n::trf("lesson.broken_one", {id, f.errors.front().format_for_learner()}) << "\n";
            return nullptr;
        }
    err << "isolab lesson: no lesson `" << id << "` — `isolab lesson list` shows the ids\n";
    return nullptr;
}

void print_step(const Lesson& l, const Player& p, std::ostream& out, bool tty) {
    const auto& s = p.step();
    bool ko = korean();
    out << "\n" << (tty ? "\033[1m" : "") << "[" << l.id << " " << p.index() + 1 << "/" << p.count() << "] "
        << s.title.get(ko) << (tty ? "\033[0m" : "") << "\n";
    out << indent(plain(s.text.get(ko), tty), "  ") << "\n";
    if (s.predict) {
        out << "  " << tr("lesson.predict") << ": " << plain(s.predict->question.get(ko), tty) << "\n";
        for (size_t i = 0; i < s.predict->choices.size(); ++i)
            out << "    " << i + 1 << ") " << plain(s.predict->choices[i].get(ko), tty) << "\n";
    }
}

int cmd_show(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
    if (args.empty()) {
        err << "isolab lesson show: name a lesson: isolab lesson show ID (see `isolab lesson list`)\n";
        return 1;
    }
    auto cat = load_catalog(lessons_dir());
    const Lesson* l = find_or_fail(cat, args[0], err);
    if (!l) return 1;
    bool ko = korean();
    out << l->title.get(ko) << " (" << l->minutes << " min)\n" << plain(l->summary.get(ko), false) << "\n";
    Player p(*l, Mode::SelfPaced, nullptr, "");
    for (int i = 0; i < p.count(); ++i) {
        p.go(i);
        print_step(*l, p, out, false);
        const auto& s = p.step();
        for (auto& line : s.action.run) out << "  $ " << line << "\n";
        if (s.action.race) out << "  $ isolab race\n";
    }
    out << "\n" << tr("lesson.learned") << ":\n";
    for (auto& t : l->learned) out << "  - " << plain(t.get(ko), false) << "\n";
    return 0;
}

// The automatic player (--auto) and the terminal one.
int cmd_play(const Command& c, const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
    std::string id;
    bool autoplay = false;
    for (auto& a : args) {
        if (a == "--auto") autoplay = true;
        else if (!a.empty() && a[0] == '-') {
            err << "isolab lesson play: unknown flag: " << a << "\nSee 'isolab lesson --help'\n";
            return 125;
        } else id = a;
    }
    if (id.empty()) {
        err << "isolab lesson play: name a lesson: isolab lesson play ID [--auto]\n";
        return 1;
    }
    auto cat = load_catalog(lessons_dir());
    const Lesson* l = find_or_fail(cat, id, err);
    if (!l) return 1;
    EngineOptions eo;
    eo.root = c.global_root;
    auto engine = Engine::open(eo);
    if (!engine) {
        err << "isolab: " << engine.error().message << "\n";
        return 125;
    }
    Engine& e = **engine;
    std::string root = e.store().root();
    const LessonPlace place = place_of(l->file);
    vm::VmManager vms(root);
    bool tty = ::isatty(1) && !autoplay;
    bool ko = korean();

    // Set the stage: remove what an earlier run left, build the images the lesson runs.
    for (auto& line : stage_commands(*l, e, vms)) {
        out << "$ " << line << "\n";
        run_own_line(line, e, err);
    }
    for (auto& line : needs_commands(*l, e)) {
        out << "$ " << line << "\n";
        if (int rc = run_own_line(line, e, err); rc != 0) {
            err << "isolab lesson: could not build a teaching image (exit " << rc << "); run `sudo tools/setup.sh`\n";
            return 1;
        }
    }

    ProgressStore progress;
    Player p(*l, Mode::SelfPaced, autoplay ? nullptr : &progress, root);
    if (autoplay) p.go(0);
    int failures = 0;
    while (true) {
        const auto& s = p.step();
        print_step(*l, p, out, tty);
        if (s.predict) {
            int choice = s.predict->answer >= 0 ? s.predict->answer : 0;
            if (!autoplay) {
                out << "  > " << std::flush;
                std::string line;
                if (!std::getline(std::cin, line)) return 0;
                choice = std::atoi(line.c_str()) - 1;
                if (choice < 0 || choice >= static_cast<int>(s.predict->choices.size())) choice = 0;
            }
            p.predict(choice);
        }
        if (!s.action.empty()) {
            std::vector<std::string> lines = s.action.run;
            if (s.action.race) lines = {"isolab race"};
            if (!autoplay) {
                out << "  " << tr("lesson.enter_to_run") << "\n";
                for (auto& line : lines) out << "    $ " << line << "\n";
                std::string ans;
                if (!std::getline(std::cin, ans)) return 0;
            }
            // An honest step: its check must not be green before its action ran (else a learner
            // would pass it by doing nothing).
            if (autoplay && !s.check.empty()) {
                auto before = evaluate(s.check.spec, CheckContext{&e, &vms, root, p.events_from()});
                if (before.ok) {
                    err << "FAIL " << l->id << "/" << s.id << ": the check is already green before the action ("
                        << before.detail << ")\n";
                    ++failures;
                }
            }
            p.action_started();
            int rc = 0;
            for (auto& line : lines) {
                out << "$ " << line << "\n";
                rc = run_lesson_line(line, place, e, err);
                // A refused line ends the lesson: what follows it may depend on it.
                if (rc == kRefused) return 1;
            }
            p.action_finished(rc);
            if (autoplay && rc != s.action.expect_exit) {
                err << "FAIL " << l->id << "/" << s.id << ": `" << lines.back() << "` exited " << rc << ", the lesson expects "
                    << s.action.expect_exit << "\n";
                ++failures;
            }
        }
        if (!s.check.empty()) {
            CheckContext ctx{&e, &vms, root, p.events_from()};
            double deadline = monotonic_ms() + s.timeout_s * 1000.0;
            CheckResult r;
            while (true) {
                r = evaluate(s.check.spec, ctx);
                p.check_result(r.ok, r.detail);
                if (r.ok || monotonic_ms() > deadline) break;
                sleep_ms(200);
            }
            out << "  " << (r.ok ? "✓ " : "✗ ") << tr(r.ok ? "lesson.check.ok" : "lesson.check.wait") << " (" << r.detail << ")\n";
            if (!r.ok && autoplay) {
                err << "FAIL " << l->id << "/" << s.id << ": the check did not turn green in " << s.timeout_s
                    << " s: " << r.detail << "\n";
                ++failures;
            }
        }
        if (!s.explain.empty() && p.results_visible()) out << indent(plain(s.explain.get(ko), tty), "  ") << "\n";
        if (!s.quiz.empty()) {
            out << "  " << tr("lesson.quiz") << ": " << plain(s.quiz.question.get(ko), tty) << "\n";
            std::vector<int> correct;
            for (size_t i = 0; i < s.quiz.choices.size(); ++i) {
                out << "    " << i + 1 << ") " << plain(s.quiz.choices[i].text.get(ko), tty) << "\n";
                if (s.quiz.choices[i].correct) correct.push_back(static_cast<int>(i));
            }
            while (true) {
                std::vector<int> picked = correct;
                if (!autoplay) {
                    out << "  > " << std::flush;
                    std::string line;
                    if (!std::getline(std::cin, line)) return 0;
                    picked.clear();
                    std::istringstream in(line);
                    for (int k; in >> k;) picked.push_back(k - 1);
                }
                bool ok = p.answer_quiz(picked);
                for (int k : picked)
                    if (k >= 0 && k < static_cast<int>(s.quiz.choices.size()))
                        out << "    " << (s.quiz.choices[static_cast<size_t>(k)].correct ? "✓ " : "✗ ")
                            << plain(s.quiz.choices[static_cast<size_t>(k)].why.get(ko), tty) << "\n";
                if (ok) break;
                if (autoplay) {
                    err << "FAIL " << l->id << "/" << s.id << ": the quiz's correct choices were not accepted\n";
                    ++failures;
                    break;
                }
            }
        }
        if (!s.hints.empty() && !autoplay && !p.step_complete())
            out << "  " << tr("lesson.hint") << ": " << plain(s.hints.front().get(ko), tty) << "\n";
        if (!p.next()) break;
    }
    out << "\n" << tr("lesson.learned") << ":\n";
    for (auto& t : l->learned) out << "  - " << plain(t.get(ko), tty) << "\n";
    if (autoplay) {
        out << (failures ? "FAILED: " : "OK: ") << l->id << " — " << p.steps_done() << "/" << p.count() << " "
            << tr("lesson.steps_green") << "\n";
    }
    return failures ? 1 : 0;
}

int cmd_reset(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
    if (args.empty()) {
        err << "isolab lesson reset: name a lesson (or --all): isolab lesson reset ID\n";
        return 1;
    }
    ProgressStore progress;
    auto cat = load_catalog(lessons_dir());
    std::vector<std::string> ids;
    if (args[0] == "--all")
        for (auto* l : cat.lessons()) ids.push_back(l->id);
    else if (!find_or_fail(cat, args[0], err)) return 1;
    else ids.push_back(args[0]);
    for (auto& id : ids) {
        if (auto st = progress.reset(id); !st) {
            err << "isolab lesson reset: " << st.error().message << "\n";
            return 1;
        }
        out << id << "\n";
    }
    return 0;
}

}  // namespace

int run_lesson_command(const Command& c, std::ostream& out, std::ostream& err) {
    if (c.rest.empty() || c.rest[0] == "--help" || c.rest[0] == "-h" || c.rest[0] == "help") {
        out << "Usage:  isolab lesson COMMAND\n\n"
               "Lessons (lessons/*.json; the GUI's Lessons mode plays them too)\n\n"
               "Commands:\n"
               "  list [--json]        the lessons, with your progress\n"
               "  check [FILE...]      validate every lesson file (exit 1 with FILE:LINE: message on errors)\n"
               "  show ID              print a lesson's steps and commands\n"
               "  play ID [--auto]     take a lesson in the terminal (--auto: run every step and check it)\n"
               "  reset ID|--all       forget your progress\n\n"
               "The window: isolab gui --lessons, or isolab gui --present --lesson ID for the clicker demo.\n";
        return 0;
    }
    const std::string& sub = c.rest[0];
    std::vector<std::string> args(c.rest.begin() + 1, c.rest.end());
    if (sub == "list" || sub == "ls") return cmd_list(args, out);
    if (sub == "check") return cmd_check(args, out, err);
    if (sub == "show") return cmd_show(args, out, err);
    if (sub == "play") return cmd_play(c, args, out, err);
    if (sub == "reset") return cmd_reset(args, out, err);
    err << "isolab lesson: unknown command `" << sub << "` — use list, check, show, play or reset\n";
    return 1;
}

}  // namespace isolab::cli
