// The boot race tab: one click boots a VM and starts a container that serve the same page, and
// the window shows both sides live — two lanes whose stage bars grow with the clock, the guest's
// serial console as it prints, the container runtime's setup steps with their real times — and
// at the end a chart of the time to the page answering, the ratio, memory and details.
//
// The race runs vm::run_race() (the same code as `isolab race`) on a detached worker thread with
// its own Engine. The worker and the view share one RaceShared behind a mutex; the worker keeps
// it alive (shared_ptr), so closing the window mid-race neither blocks nor leaves a dangling view
// (the VM dies with the process: the race boots it with die_with_caller).
//
// ISOLAB_GUI_AUTORACE=1 starts a race with the first world snapshot (for screenshots of a race
// under Xvfb); ISOLAB_GUI_RACE_SCALE=log starts with the log scale.
#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <thread>

#include "app/gui/views/views.hpp"
#include "sim/core/clock.hpp"
#include "sim/core/i18n.hpp"
#include "sim/engine/engine.hpp"
#include "sim/view/race_model.hpp"
#include "sim/vm/race.hpp"

namespace isolab::gui {

namespace {

constexpr ImU32 kContainerColor = IM_COL32(0, 128, 128, 255);
constexpr ImU32 kVmColor = IM_COL32(120, 60, 140, 255);
constexpr ImU32 kWhite = IM_COL32(255, 255, 255, 255);

// What the worker thread and the view share. Everything is guarded by mu.
struct RaceShared {
    std::mutex mu;
    App* app = nullptr;  // null once the view is gone
    bool running = false;
    view::RaceProgress progress;
    std::optional<vm::RaceResult> result;  // the last finished race (at start: the root's last one)
    std::string error;
    size_t console_seen = 0;  // console lines counted when the view last scrolled

    void wake_locked() {
        if (app) app->wake();
    }
};

// The I-th shade of BASE: stages alternate lighter and darker so neighbours stay apart.
ImU32 shade(ImU32 base, size_t i) {
    ImVec4 c = ImGui::ColorConvertU32ToFloat4(base);
    static const float k[] = {1.0f, 1.35f, 0.75f, 1.6f, 0.9f, 1.2f};
    float f = k[i % 6];
    auto ch = [&](float v) { return std::clamp(v * f, 0.0f, 1.0f); };
    return ImGui::ColorConvertFloat4ToU32(ImVec4(ch(c.x), ch(c.y), ch(c.z), 1));
}

ImU32 text_color() { return ImGui::GetColorU32(ImGuiCol_Text); }
ImU32 grid_color() { return ImGui::GetColorU32(ImGuiCol_TextDisabled, 0.45f); }

// A tag ("modeled") in the warning color, after the current item.
void tag_after(const std::string& tag) {
    if (tag.empty()) return;
    ImGui::SameLine();
    ImGui::TextColored(ImVec4(0.90f, 0.55f, 0.10f, 1), "[%s]", tag.c_str());
}

// Tick marks and labels of AXIS under a chart spanning x0..x0+w, at the cursor.
void draw_axis(const view::RaceAxis& axis, float x0, float w, float top_y) {
    ImDrawList* dl = ImGui::GetWindowDrawList();
    ImVec2 p = ImGui::GetCursorScreenPos();
    float last_right = -1e9f;
    for (const auto& [f, label] : axis.ticks) {
        float x = x0 + static_cast<float>(f) * w;
        dl->AddLine(ImVec2(x, top_y), ImVec2(x, p.y), grid_color());
        ImVec2 ts = ImGui::CalcTextSize(label.c_str());
        float lx = std::clamp(x - ts.x * 0.5f, x0, x0 + w - ts.x);
        if (lx < last_right + 4) continue;  // no overlapping labels
        dl->AddText(ImVec2(lx, p.y), ImGui::GetColorU32(ImGuiCol_TextDisabled), label.c_str());
        last_right = lx + ts.x;
    }
    ImGui::Dummy(ImVec2(w, ImGui::GetTextLineHeightWithSpacing()));
}

// Title of a lane or a bar: "Container" / "VM" and its backend below.
struct LaneTitle {
    std::string name, backend, tag;
};

class RaceView final : public View {
public:
    RaceView() : s_(std::make_shared<RaceShared>()) {
        const char* auto_race = std::getenv("ISOLAB_GUI_AUTORACE");
        autorace_ = auto_race && std::string(auto_race) == "1";
        const char* scale = std::getenv("ISOLAB_GUI_RACE_SCALE");
        log_ = scale && std::string(scale) == "log";
    }
    ~RaceView() override {
        std::lock_guard<std::mutex> lock(s_->mu);
        s_->app = nullptr;
    }
    const char* id() const override { return "race"; }
    const char* title_key() const override { return "gui.tab.race"; }
    bool animating() const override {
        std::lock_guard<std::mutex> lock(s_->mu);
        return s_->running;
    }

    void draw(App& app) override {
        {
            std::lock_guard<std::mutex> lock(s_->mu);
            s_->app = &app;
        }
        // Screenshots count frames from the first world snapshot: start with them, not before.
        if (autorace_ && app.world()) {
            autorace_ = false;
            start(app);
        }
        if (app.take_race_request()) start(app);  // a lesson's race action
        if (!loaded_last_) {
            // The last race of this state root, until a new one runs.
            loaded_last_ = true;
            std::lock_guard<std::mutex> lock(s_->mu);
            if (!s_->result && !s_->running) s_->result = vm::last_race(app.state_root());
        }
        draw_locked(app);
        if (start_requested_) {
            start_requested_ = false;
            start(app);
        }
    }

private:
    void draw_locked(App& app) {
        std::lock_guard<std::mutex> lock(s_->mu);
        double now = monotonic_ms();
        if (s_->running) app.animate_for(250);
        bool started = s_->progress.total_ms(now) > 0 || s_->running;

        draw_header(app, now);
        if (!s_->error.empty()) {
            ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(0.85f, 0.2f, 0.2f, 1));
            ImGui::TextWrapped("%s", i18n::trf("gui.race.error", {s_->error}).c_str());
            ImGui::PopStyleColor();
        }
        if (app.results_hidden() && !s_->running) {
            // A lesson asks "by how much?": the last race's numbers would answer it (issue 17).
            ImGui::Spacing();
            ImGui::Separator();
            ImGui::TextWrapped("%s", T("gui.race.result_hidden"));
            return;
        }
        if (!s_->running && !s_->result) {
            ImGui::Spacing();
            ImGui::TextWrapped("%s", T("gui.race.intro1"));
            ImGui::TextWrapped("%s", T("gui.race.intro2"));
            ImGui::TextWrapped("%s", T("gui.race.intro3"));
        }
        if (s_->result && !s_->running) {
            ImGui::Spacing();
            ImGui::Separator();
            draw_result(app, *s_->result);
        }
        if (started) {
            ImGui::Spacing();
            ImGui::Separator();
            draw_lanes(now);
            ImGui::Spacing();
            draw_details(app);
        }
    }

    void start(App& app) {
        {
            std::lock_guard<std::mutex> lock(s_->mu);
            if (s_->running) return;
            s_->running = true;
            s_->error.clear();
            s_->console_seen = 0;
            s_->progress.begin(monotonic_ms());
        }
        app.animate_for(500);
        std::shared_ptr<RaceShared> s = s_;
        // The worker runs on the window's one engine (its copy of the pointer keeps the engine
        // alive if the window closes mid-race); it reports only through S (locked) and wakes the
        // frame loop.
        std::thread([s, engine = app.engine(), engine_error = app.engine_error()] {
            auto note = [s](auto&& fn) {
                std::lock_guard<std::mutex> lock(s->mu);
                fn(s->progress);
                s->wake_locked();
            };
            Result<vm::RaceResult> r = make_error("no engine");
            if (!engine) {
                r = make_error(engine_error);
            } else {
                vm::RaceOptions o;
                o.progress = [&](const std::string& side, const std::string& what) {
                    note([&](view::RaceProgress& p) { p.on_progress(side, what, monotonic_ms()); });
                };
                o.vm_console_line = [&](double ms, const std::string& line) {
                    note([&](view::RaceProgress& p) { p.on_console_line(ms, line, monotonic_ms()); });
                };
                o.vm_stage = [&](const std::string& stage, double ms) {
                    note([&](view::RaceProgress& p) { p.on_vm_stage(stage, ms, monotonic_ms()); });
                };
                o.side_done = [&](const std::string& side, const vm::RaceSide& run) {
                    note([&](view::RaceProgress& p) { p.on_side_done(side, run, monotonic_ms()); });
                };
                r = vm::run_race(*engine, engine->store().root(), o);
            }
            std::lock_guard<std::mutex> lock(s->mu);
            s->progress.finish(monotonic_ms());
            if (r) s->result = *r;
            else s->error = r.error().message;
            s->running = false;
            if (s->app) s->app->race_finished();
            s->wake_locked();
        }).detach();
    }

    // The start button, the clock, the scale toggle.
    void draw_header(App& app, double now) {
        if (app.big_font()) ImGui::PushFont(app.big_font());
        ImGui::BeginDisabled(s_->running);
        ImGui::PushStyleColor(ImGuiCol_Button, ImVec4(0.16f, 0.55f, 0.27f, 1));
        ImGui::PushStyleColor(ImGuiCol_ButtonHovered, ImVec4(0.20f, 0.65f, 0.32f, 1));
        ImGui::PushStyleColor(ImGuiCol_ButtonActive, ImVec4(0.12f, 0.45f, 0.22f, 1));
        ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(1, 1, 1, 1));
        float pad = ImGui::GetTextLineHeight() * 0.6f;
        ImGui::PushStyleVar(ImGuiStyleVar_FramePadding, ImVec2(pad * 1.6f, pad));
        bool clicked = ImGui::Button(s_->running ? T("gui.race.running_button") : T("gui.race.start"));
        ImGui::PopStyleVar();
        ImGui::PopStyleColor(4);
        ImGui::EndDisabled();
        if (s_->running) {
            ImGui::SameLine();
            ImGui::Text("%s", view::race_ms_text(s_->progress.total_ms(now)).c_str());
        }
        if (app.big_font()) ImGui::PopFont();
        if (clicked) start_requested_ = true;  // started by draw() once the lock is released
        // Right of the button: what is happening now, and the scale of every chart.
        ImGui::SameLine();
        ImGui::BeginGroup();
        if (s_->running) {
            ImGui::TextDisabled("%s", s_->progress.last_note().c_str());
        } else {
            ImGui::TextDisabled("%s", T("gui.race.same_page"));
        }
        ImGui::TextUnformatted(T("gui.race.scale"));
        ImGui::SameLine();
        int scale = log_ ? 1 : 0;
        ImGui::RadioButton(T("gui.race.scale_linear"), &scale, 0);
        ImGui::SameLine();
        ImGui::RadioButton(T("gui.race.scale_log"), &scale, 1);
        ImGui::SameLine();
        help_marker(T("gui.race.scale_help"));
        log_ = scale == 1;
        ImGui::EndGroup();
    }

    view::RaceScale scale() const { return log_ ? view::RaceScale::Log : view::RaceScale::Linear; }

    // Label column + bar area + value column, shared by the lanes and the chart.
    struct Columns {
        float x0, label_w, bar_x, bar_w, value_w;
    };
    Columns columns(const std::vector<std::string>& labels) const {
        Columns c;
        float line = ImGui::GetTextLineHeight();
        c.x0 = ImGui::GetCursorScreenPos().x;
        c.label_w = line * 4;
        for (const auto& l : labels) c.label_w = std::max(c.label_w, ImGui::CalcTextSize(l.c_str()).x + line * 0.6f);
        c.value_w = ImGui::CalcTextSize("00.00 s (simulated)").x;
        float avail = ImGui::GetContentRegionAvail().x;
        c.bar_x = c.x0 + c.label_w;
        c.bar_w = std::max(avail - c.label_w - c.value_w, line * 6);
        return c;
    }

    // The two lanes on one time axis: the container's and the VM's stages, growing live.
    void draw_lanes(double now) {
        view::RaceLane lanes[2] = {s_->progress.container_lane(now), s_->progress.vm_lane(now)};
        ImGui::TextUnformatted(T("gui.race.lanes"));
        ImGui::SameLine();
        help_marker(T("gui.race.lanes_help"));
        double biggest = std::max({lanes[0].elapsed_ms, lanes[1].elapsed_ms, 100.0});
        double smallest = 1;
        if (lanes[0].finished && lanes[0].answered_ms > 0) smallest = std::min(1.0, lanes[0].answered_ms);
        view::RaceAxis axis = view::race_axis(biggest, scale(), smallest);
        const char* names[2] = {T("gui.race.container"), T("gui.race.vm")};
        std::string backends[2];
        for (int i = 0; i < 2; ++i) {
            backends[i] = lanes[i].backend;
            std::string tag = view::race_backend_tag(lanes[i].backend);
            if (!tag.empty()) backends[i] += " · " + tag;
        }
        Columns c = columns({names[0], names[1], backends[0], backends[1]});
        float line = ImGui::GetTextLineHeight();
        float lane_h = line * 2.2f;
        float top = ImGui::GetCursorScreenPos().y;
        ImDrawList* dl = ImGui::GetWindowDrawList();
        float pulse = 0.55f + 0.45f * static_cast<float>(std::sin(now / 180.0));
        for (int i = 0; i < 2; ++i) {
            const auto& lane = lanes[i];
            ImGui::PushID(i);
            ImVec2 p = ImGui::GetCursorScreenPos();
            ImU32 base = i == 0 ? kContainerColor : kVmColor;
            // Title and backend.
            dl->AddText(ImVec2(p.x, p.y + lane_h * 0.5f - line), text_color(), names[i]);
            std::string tag = view::race_backend_tag(lane.backend);
            dl->AddText(ImVec2(p.x, p.y + lane_h * 0.5f), ImGui::GetColorU32(ImGuiCol_TextDisabled), backends[i].c_str());
            // Track.
            ImVec2 a(c.bar_x, p.y + line * 0.2f), b(c.bar_x + c.bar_w, p.y + lane_h - line * 0.2f);
            dl->AddRectFilled(a, b, ImGui::GetColorU32(ImGuiCol_FrameBg), 3);
            for (size_t k = 0; k < lane.segments.size(); ++k) {
                const auto& seg = lane.segments[k];
                float x1 = c.bar_x + static_cast<float>(view::race_fraction(axis, seg.start_ms)) * c.bar_w;
                float x2 = c.bar_x + static_cast<float>(view::race_fraction(axis, seg.end_ms)) * c.bar_w;
                if (x2 - x1 < 1.5f) x2 = x1 + 1.5f;
                ImU32 fill = shade(base, k);
                if (seg.running) {
                    ImVec4 f = ImGui::ColorConvertU32ToFloat4(fill);
                    f.w = pulse;
                    fill = ImGui::ColorConvertFloat4ToU32(f);
                }
                dl->AddRectFilled(ImVec2(x1, a.y), ImVec2(x2, b.y), fill, 2);
                std::string label = seg.name.empty() ? std::string(T("gui.race.starting"))
                                                     : view::race_stage_label(seg.name);
                ImVec2 ts = ImGui::CalcTextSize(label.c_str());
                if (ts.x + 6 < x2 - x1)
                    dl->AddText(ImVec2(x1 + 3, (a.y + b.y - ts.y) * 0.5f), kWhite, label.c_str());
                if (ImGui::IsMouseHoveringRect(ImVec2(x1, a.y), ImVec2(x2, b.y)))
                    ImGui::SetTooltip("%s: %s%s", label.c_str(), view::race_ms_text(seg.end_ms - seg.start_ms).c_str(),
                                      seg.running ? " ..." : "");
            }
            // Value: the answer time, or the clock.
            std::string value;
            if (lane.finished) value = view::race_ms_text(lane.answered_ms);
            else if (lane.started) value = view::race_ms_text(lane.elapsed_ms) + " ...";
            else value = T("gui.race.waiting");
            ImU32 vc = lane.finished ? IM_COL32(46, 160, 67, 255) : text_color();
            dl->AddText(ImVec2(c.bar_x + c.bar_w + line * 0.4f, (a.y + b.y - line) * 0.5f), vc, value.c_str());
            if (lane.finished && !tag.empty())
                dl->AddText(ImVec2(c.bar_x + c.bar_w + line * 0.4f, (a.y + b.y) * 0.5f + line * 0.1f),
                            IM_COL32(230, 140, 25, 255), ("[" + tag + "]").c_str());
            ImGui::Dummy(ImVec2(c.label_w + c.bar_w + c.value_w, lane_h));
            ImGui::PopID();
        }
        draw_axis(axis, c.bar_x, c.bar_w, top);
    }

    // Container steps (left) and the VM's console and stages (right); stacked when narrow.
    void draw_details(App& app) {
        float line = ImGui::GetTextLineHeight();
        bool wide = ImGui::GetContentRegionAvail().x > line * 40;
        if (wide && ImGui::BeginTable("details", 2, ImGuiTableFlags_SizingStretchProp | ImGuiTableFlags_BordersInnerV)) {
            ImGui::TableSetupColumn("steps", ImGuiTableColumnFlags_WidthStretch, 0.42f);
            ImGui::TableSetupColumn("console", ImGuiTableColumnFlags_WidthStretch, 0.58f);
            ImGui::TableNextRow();
            ImGui::TableSetColumnIndex(0);
            draw_container_steps();
            ImGui::TableSetColumnIndex(1);
            draw_console(app);
            ImGui::EndTable();
        } else {
            draw_container_steps();
            ImGui::Spacing();
            draw_console(app);
        }
    }

    void draw_container_steps() {
        ImGui::TextUnformatted(T("gui.race.steps"));
        ImGui::SameLine();
        help_marker(T("gui.race.steps_help"));
        auto run = s_->progress.container_run();
        if (!run) {
            ImGui::TextDisabled("%s", s_->running ? T("gui.race.starting") : T("gui.race.waiting"));
            return;
        }
        std::string tag = view::race_backend_tag(run->backend);
        if (!tag.empty()) {
            ImGui::TextDisabled("%s", run->backend.c_str());
            tag_after(tag);
        }
        double biggest = 0.001;
        for (const auto& st : run->stages) biggest = std::max(biggest, st.second);
        float line = ImGui::GetTextLineHeight();
        ImGuiTableFlags f = ImGuiTableFlags_RowBg | ImGuiTableFlags_SizingFixedFit | ImGuiTableFlags_BordersOuterH;
        if (ImGui::BeginTable("steps", 3, f)) {
            ImGui::TableSetupColumn(T("gui.race.col_step"), ImGuiTableColumnFlags_WidthFixed);
            ImGui::TableSetupColumn(T("gui.race.col_time"), ImGuiTableColumnFlags_WidthFixed);
            ImGui::TableSetupColumn("##bar", ImGuiTableColumnFlags_WidthStretch);
            ImGui::TableHeadersRow();
            size_t k = 0;
            for (const auto& [name, ms] : run->stages) {
                ImGui::PushID(static_cast<int>(k));
                ImGui::TableNextRow();
                ImGui::TableSetColumnIndex(0);
                ImGui::TextUnformatted(view::race_stage_label(name).c_str());
                ImGui::TableSetColumnIndex(1);
                ImGui::TextUnformatted(view::race_ms_text(ms).c_str());
                ImGui::TableSetColumnIndex(2);
                ImVec2 p = ImGui::GetCursorScreenPos();
                float w = std::max(ImGui::GetContentRegionAvail().x, line);
                float bw = std::max(2.0f, w * static_cast<float>(ms / biggest));
                ImGui::GetWindowDrawList()->AddRectFilled(ImVec2(p.x, p.y + line * 0.2f),
                                                          ImVec2(p.x + bw, p.y + line * 0.85f),
                                                          shade(kContainerColor, k), 2);
                ImGui::Dummy(ImVec2(w, line));
                ImGui::PopID();
                ++k;
            }
            ImGui::TableNextRow();
            ImGui::TableSetColumnIndex(0);
            ImGui::TextUnformatted(T("gui.race.answered"));
            ImGui::TableSetColumnIndex(1);
            ImGui::TextUnformatted(view::race_ms_text(run->answered_ms).c_str());
            ImGui::EndTable();
        }
    }

    void draw_console(App& app) {
        ImGui::TextUnformatted(T("gui.race.console"));
        ImGui::SameLine();
        help_marker(T("gui.race.console_help"));
        auto vm_lane = s_->progress.vm_lane(monotonic_ms());
        // The VM's stages in one line: "firmware 1.20 s · kernel 2.31 s · ...".
        if (!vm_lane.segments.empty()) {
            std::string stages;
            for (const auto& seg : vm_lane.segments) {
                if (!stages.empty()) stages += "  ·  ";
                stages += view::race_stage_label(seg.name) + " " + view::race_ms_text(seg.end_ms - seg.start_ms) +
                          (seg.running ? " ..." : "");
            }
            ImGui::TextWrapped("%s", stages.c_str());
        }
        float line = ImGui::GetTextLineHeight();
        float h = std::max(ImGui::GetContentRegionAvail().y - line * 0.5f, line * 12);
        ImGui::PushStyleColor(ImGuiCol_ChildBg, ImVec4(0.05f, 0.06f, 0.07f, 1));
        ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(0.80f, 0.92f, 0.80f, 1));
        ImGui::BeginChild("console", ImVec2(0, h), true);
        if (app.mono_font()) ImGui::PushFont(app.mono_font());
        const auto& lines = s_->progress.console();
        if (lines.empty()) {
            std::string tag = view::race_backend_tag(vm_lane.backend);
            ImGui::TextUnformatted(tag.empty() ? T("gui.race.console_empty") : T("gui.race.console_modeled"));
        }
        ImGui::PushTextWrapPos(0.0f);  // long kernel lines wrap in a narrow column
        for (const auto& l : lines) ImGui::TextUnformatted(l.c_str());
        ImGui::PopTextWrapPos();
        // Follow the newest line unless the learner scrolled up to read.
        size_t count = lines.size();
        if (count != s_->console_seen) {
            if (ImGui::GetScrollY() >= ImGui::GetScrollMaxY() - line * 3 || s_->running) ImGui::SetScrollHereY(1.0f);
            s_->console_seen = count;
        }
        if (app.mono_font()) ImGui::PopFont();
        ImGui::EndChild();
        ImGui::PopStyleColor(2);
    }

    // The finished race: ratio, the chart (linear or log), memory and details of each side.
    void draw_result(App& app, const vm::RaceResult& r) {
        view::RaceChart ch = view::build_race_chart(r, scale());
        ImGui::TextDisabled("%s", T("gui.race.last_result"));
        if (!ch.ratio.empty()) {
            if (app.big_font()) ImGui::PushFont(app.big_font());
            ImGui::PushStyleColor(ImGuiCol_Text, ImGui::ColorConvertU32ToFloat4(IM_COL32(46, 160, 67, 255)));
            ImGui::TextWrapped("%s", ch.ratio.c_str());
            ImGui::PopStyleColor();
            if (app.big_font()) ImGui::PopFont();
        }
        ImGui::TextWrapped("%s", ch.ratio_detail.c_str());
        ImGui::Spacing();
        ImGui::TextUnformatted(T("gui.race.chart"));
        float line = ImGui::GetTextLineHeight();
        Columns c = columns({ch.bars[0].label, ch.bars[1].label});
        float bar_h = line * 1.7f;
        float top = ImGui::GetCursorScreenPos().y;
        ImDrawList* dl = ImGui::GetWindowDrawList();
        for (size_t i = 0; i < ch.bars.size(); ++i) {
            const auto& b = ch.bars[i];
            ImGui::PushID(static_cast<int>(i));
            ImVec2 p = ImGui::GetCursorScreenPos();
            dl->AddText(ImVec2(p.x, p.y + (bar_h - line) * 0.5f), text_color(), b.label.c_str());
            float w = std::max(2.0f, static_cast<float>(b.fraction) * c.bar_w);
            ImVec2 a(c.bar_x, p.y + line * 0.15f), e(c.bar_x + w, p.y + bar_h - line * 0.15f);
            dl->AddRectFilled(a, e, b.vm ? kVmColor : kContainerColor, 3);
            if (!b.tag.empty()) {
                // A hatched bar: this side did not really run.
                for (float x = a.x; x < e.x; x += line * 0.7f)
                    dl->AddLine(ImVec2(x, e.y), ImVec2(std::min(x + line * 0.7f, e.x), a.y), IM_COL32(255, 255, 255, 90), 1.5f);
            }
            dl->AddText(ImVec2(e.x + line * 0.4f, p.y + (bar_h - line) * 0.5f),
                        b.tag.empty() ? text_color() : IM_COL32(230, 140, 25, 255), b.value.c_str());
            ImGui::Dummy(ImVec2(c.label_w + c.bar_w + c.value_w, bar_h));
            if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s · %s", b.label.c_str(), b.backend.c_str());
            ImGui::PopID();
        }
        draw_axis(ch.axis, c.bar_x, c.bar_w, top);
        // Memory and what each side measured.
        const vm::RaceSide* sides[2] = {&r.container, &r.vm};
        const std::string* memory[2] = {&ch.memory_container, &ch.memory_vm};
        const std::string* detail[2] = {&ch.detail_container, &ch.detail_vm};
        for (int i = 0; i < 2; ++i) {
            ImGui::PushID(100 + i);
            ImGui::Bullet();
            ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(i == 0 ? shade(kContainerColor, 1) : shade(kVmColor, 3)),
                               "%s (%s)", ch.bars[static_cast<size_t>(i)].label.c_str(), sides[i]->backend.c_str());
            ImGui::SameLine();
            ImGui::TextUnformatted(memory[i]->c_str());
            ImGui::Indent();
            ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled));
            ImGui::TextWrapped("%s", detail[i]->c_str());
            ImGui::PopStyleColor();
            ImGui::Unindent();
            ImGui::PopID();
        }
    }

    std::shared_ptr<RaceShared> s_;
    bool log_ = false;
    bool autorace_ = false;
    bool loaded_last_ = false;
    bool start_requested_ = false;
};

}  // namespace

std::unique_ptr<View> make_race_view() { return std::make_unique<RaceView>(); }

}  // namespace isolab::gui
