// isolab-gui: the IsoLab window. `isolab` (no arguments, with a display) and `isolab gui` start
// it; it is its own dynamically linked binary because OpenGL needs the system's libraries.
//
//   isolab-gui [--root DIR] [--lang en|ko] [--present] [--fullscreen] [--size WxH]
//              [--view race|lifecycle|isolation|images|network|terminal|resources]
//              [--select CONTAINER|vm:NAME] [--screenshot FILE.png [--frames N] [--audit]]
//              [--lessons] [--lesson ID] [--study-group] [--notes]
//
// --view all --screenshot 'DIR/{view}.png' writes one picture per tab (the GUI smoke test); with
// --audit, each picture's layout audit beside it, DIR/{view}.audit.json (audit_recorder.hpp).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "app/gui/app.hpp"
#include "sim/core/i18n.hpp"

int main(int argc, char** argv) {
    isolab::gui::GuiOptions o;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto value = [&](const char* flag) -> std::string {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "isolab-gui: %s needs a value\n", flag);
                std::exit(125);
            }
            return argv[++i];
        };
        if (a == "--root") o.root = value("--root");
        else if (a == "--lang") o.lang = value("--lang");
        else if (a == "--present") o.present = true;
        else if (a == "--fullscreen") o.fullscreen = true;
        else if (a == "--view") o.view = value("--view");
        else if (a == "--select") o.select = value("--select");
        else if (a == "--lesson") o.lesson = value("--lesson");
        else if (a == "--lessons") o.lessons = true;
        else if (a == "--notes") o.notes = true;
        else if (a == "--study-group") o.study_group = o.lessons = true;
        else if (a == "--screenshot") o.screenshot = value("--screenshot");
        else if (a == "--audit") o.audit = true;
        else if (a == "--frames") o.frames = std::atoi(value("--frames").c_str());
        else if (a == "--bench-frames") o.bench_frames = std::atoi(value("--bench-frames").c_str());
        else if (a == "--size") {
            std::string s = value("--size");
            if (std::sscanf(s.c_str(), "%dx%d", &o.width, &o.height) != 2 || o.width < 320 || o.height < 240) {
                std::fprintf(stderr, "isolab-gui: --size %s: expected WIDTHxHEIGHT, e.g. 1920x1080\n", s.c_str());
                return 125;
            }
        } else if (a == "-h" || a == "--help") {
            isolab::i18n::set_language(isolab::i18n::detect_language(o.lang.empty() ? nullptr : o.lang.c_str()));
            std::printf("Usage:  isolab gui [--root DIR] [--lang en|ko] [--present] [--fullscreen] [--size WxH]\n"
                        "                  [--view race|lifecycle|isolation|images|network|terminal|resources]\n"
                        "                  [--select CONTAINER|vm:NAME] [--screenshot FILE.png [--frames N] [--audit]]\n"
                        "                  [--lessons] [--lesson ID] [--study-group] [--notes]\n"
                        "       --present --lesson ID: the clicker demo of a lesson; --notes: its speaker notes\n"
                        "       --view all --screenshot 'DIR/{view}.png': one picture per tab\n"
                        "       %s\n\n"
                        "The IsoLab window: VMs and containers side by side, on the real engine.\n"
                        "Keys: Ctrl + / Ctrl - zoom, F11 fullscreen, PageUp/PageDown next/previous tab.\n"
                        "Clicker demo: PageDown/Right/Space next, PageUp/Left back, Ctrl+R reset the stage,\n"
                        "S show the narrative, N open the speaker notes.\n",
                        isolab::i18n::tr("gui.audit.help").c_str());
            return 0;
        } else {
            std::fprintf(stderr, "isolab-gui: unknown flag: %s\nSee 'isolab gui --help'.\n", a.c_str());
            return 125;
        }
    }
    if (o.audit && o.screenshot.empty()) {
        std::fprintf(stderr, "isolab-gui: --audit needs --screenshot FILE.png: the audit is written beside the picture\n");
        return 125;
    }
    if (o.lang != "" && o.lang != "en" && o.lang != "ko") {
        std::fprintf(stderr, "isolab-gui: --lang %s: use en or ko\n", o.lang.c_str());
        return 125;
    }
    isolab::gui::App app(o);
    return app.run();
}
