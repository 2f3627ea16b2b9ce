// Lessons: the data model and the loader (lessons/SCHEMA.md is the format's documentation).
//
// A lesson file is parsed twice: nlohmann::json builds the document, and a SAX pass over the same
// bytes through a counting iterator maps every JSON pointer to the line it starts on, so that a
// semantic error ("unknown key `chek`") names the line like a syntax error does. The loader never
// throws and never gives up on the first problem: it collects every error of a file, and a file
// with errors becomes a LessonFile with `errors` filled and no lesson, which the GUI lists as broken.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/lesson/allowlist.hpp"

namespace isolab::lesson {

// A text a learner reads, in both languages.
struct Text {
    std::string en, ko;
    const std::string& get(bool korean) const { return korean && !ko.empty() ? ko : en; }
    bool empty() const { return en.empty() && ko.empty(); }
};

struct Stage {
    std::vector<std::string> containers, vms, networks, images, volumes;
};

struct Highlight {
    std::string view, container, vm, target;
    bool empty() const { return view.empty() && container.empty() && vm.empty() && target.empty(); }
};

struct Prediction {
    Text question;
    std::vector<Text> choices;
    int answer = -1;  // -1: no single right answer
};

struct Action {
    // isolab command lines, in order. Each passed vet_command (allowlist.hpp) when the file was
    // loaded; a player vets it again right before running it and runs the vetted words.
    std::vector<std::string> run;
    bool race = false;             // the boot race, shown live
    int expect_exit = 0;
    bool empty() const { return run.empty() && !race; }
};

// A completion check (SCHEMA.md "Check"): kept as its validated JSON, evaluated by checks.hpp.
struct Check {
    nlohmann::json spec;  // null = no check
    bool empty() const { return spec.is_null(); }
};

struct QuizChoice {
    Text text;
    bool correct = false;
    Text why;
};

struct Quiz {
    Text question;
    bool multiple = false;
    std::vector<QuizChoice> choices;
    bool empty() const { return choices.empty(); }
};

struct Step {
    std::string id;
    Text title, text;
    Highlight highlight;
    std::optional<Prediction> predict;
    Text discuss;
    Action action;
    Check check;
    std::vector<Text> hints;
    Text explain;
    Quiz quiz;
    int timeout_s = 60;
};

struct Lesson {
    std::string id;
    int order = 0;
    Text title, summary;
    int minutes = 0;
    std::vector<std::string> prerequisites;
    Stage stage;
    std::vector<std::string> needs;
    std::vector<Text> learned;
    std::vector<Step> steps;
    std::string file;  // where it was loaded from
};

struct LessonError {
    std::string file;
    int line = 0;          // 0 = the whole file
    std::string message;   // "unknown key `chek` — the keys of a step are: ..."
    std::optional<Refusal> refusal = std::nullopt;  // a command the allow-list refuses: MESSAGE is its English
    std::string format() const;  // "FILE:LINE: message"
    // As format(), with a refused command in the learner's language: what a player shows for a
    // lesson it will not play (the other errors are for the file's author, in English).
    std::string format_for_learner() const;
};

struct LessonFile {
    std::string path;
    std::optional<Lesson> lesson;     // set when the file has no error
    std::vector<LessonError> errors;
    std::string id_hint;              // the id, or the file's name, for listing a broken one
};

// Parses TEXT (the contents of PATH). Never throws.
LessonFile parse_lesson(const std::string& path, const std::string& text);
// Reads and parses PATH.
LessonFile load_lesson(const std::string& path);

struct Catalog {
    std::vector<LessonFile> files;    // sorted by order, then broken ones by file name
    std::vector<LessonError> errors;  // every error of every file, plus cross-file ones
    const Lesson* find(const std::string& id) const;
    std::vector<const Lesson*> lessons() const;  // the valid ones, in order
};

// Every *.json file of DIR, validated one by one and then together (unique ids and orders,
// prerequisites that exist, no cycles).
Catalog load_catalog(const std::string& dir);

// $ISOLAB_LESSONS, else assets_dir()/../lessons (the source tree or an installed share/isolab).
std::string lessons_dir();

// The names SCHEMA.md allows, for the validator and the tests.
const std::vector<std::string>& known_events();
const std::vector<std::string>& known_views();
const std::vector<std::string>& known_targets();
const std::vector<std::string>& known_images();

}  // namespace isolab::lesson
