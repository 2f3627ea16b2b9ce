// The commands a lesson may run (SCHEMA.md "Commands a lesson may run").
//
// A lesson file is data a learner may download from anyone, and its actions run as `isolab`
// commands with the learner's privileges (root, for the real runtime). So a lesson's command line is
// not trusted: it is split into words by the one splitter (sim/core/command_line.hpp) and held
// against an explicit table of commands and flags. Anything not in the table is refused, with one
// line naming the command or flag and why. The same check runs twice:
//   - `isolab lesson check` and every load of a lesson (the loader turns a refusal into a
//     FILE:LINE error, so a hostile lesson is listed as broken and cannot be played), and
//   - the players (CLI `lesson play`, `--auto`, the GUI), right before each line runs, so that a
//     lesson folder changed after the check (a symlink put in) is still refused.
//
// What the table refuses, and why (issue 12, item 7):
//   - global flags, above all `--root` (any spelling): a lesson works on the state root it is
//     played in, never on another one (`--root OTHER system reset -f`);
//   - `system` (reset, prune), `runtime` (OCI bundles, whose config can bind-mount the host's `/`),
//     `bundle` (writes to any host folder), `lesson`, `gui`, `doctor`, and every command not listed;
//   - host paths outside the lesson's own folder: `save -o`, `load -i`, `build` contexts and `-f`.
//     Such a path is resolved inside the folder with safe::Root, so neither `..` nor a
//     symlink can leave it, and it is refused when its literal words would mean anything else. The
//     vetted command line carries the resolved host path, not the lesson's words;
//   - bind mounts (`-v`, `--volume`, `--mount`), `--privileged`, `--cap-add`, `--runtime` and
//     `--network host`: each hands the container a piece of the host;
//   - `-e NAME` and `--build-arg NAME` without `=VALUE`, and `--env-file`: each copies the
//     learner's own environment (tokens, passwords) into a container a lesson controls.
//
// Nothing here prints: a Refusal is a strings key and its arguments (assets/strings/{en,ko}.json),
// written in English for a lesson file's author and in the learner's language by the players.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace isolab::lesson {

// Where a lesson's path arguments may point.
struct LessonPlace {
    std::string folder;           // the lesson file's folder: save -o, load -i, build contexts, -f
    std::string teaching_images;  // IsoLab's own assets/images: `build ... assets/images/web`
};
// The place of the lesson file PATH: its folder, and IsoLab's teaching images (i18n::assets_dir()).
LessonPlace place_of(const std::string& lesson_file);

// Why a command line is refused: a key of assets/strings/{en,ko}.json and its {0}, {1}, … .
struct Refusal {
    std::string key;
    std::vector<std::string> args;
    std::string english() const;     // `lesson check`: a file's errors are written for its author
    std::string translated() const;  // the players: in the learner's language
};

struct VettedCommand {
    // The words to run after the program name (no leading `isolab`/`docker`), with every path
    // argument replaced by the host path it resolved to inside the lesson's folder.
    std::vector<std::string> argv;
    std::optional<Refusal> refusal;  // set: do not run anything of this line
    bool ok() const { return !refusal; }
};

// Splits LINE (one `run` entry of a lesson) and checks it against the table. Touches the file
// system only to resolve path arguments inside PLACE; never runs anything.
VettedCommand vet_command(const std::string& line, const LessonPlace& place);

// "build, commit, create, …": the command paths the table allows, for messages and SCHEMA.md's test.
std::vector<std::string> allowed_commands();

}  // namespace isolab::lesson
