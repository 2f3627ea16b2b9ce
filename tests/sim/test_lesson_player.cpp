// The lesson player (sim/lesson/player.hpp) in its three modes — self-paced, study group and
// presenter — and its saved progress; and the completion checks that need no engine
// (sim/lesson/checks.hpp): event matching, `event` checks over a hand-written events.jsonl with
// the step's offset, `all`/`any`, and `http` against a closed and a served local port.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/sim/lesson_test_util.hpp"
#include "sim/lesson/checks.hpp"
#include "sim/lesson/player.hpp"

using namespace isolab::lesson;
namespace fs = std::filesystem;
using nlohmann::json;
using Click = Player::Click;

namespace {

struct TempDir : isolab::test::TempDir {
    TempDir() : isolab::test::TempDir("isolab-player-test") {
        std::ofstream(path + "/events.jsonl");  // an engine that has written nothing yet
    }
    std::string events() const { return path + "/events.jsonl"; }
    void append(const json& event) const { std::ofstream(events(), std::ios::app) << event.dump() << "\n"; }
};

Text t(const std::string& en) { return {en, "(ko) " + en}; }

Step plain(const std::string& id) {
    Step s;
    s.id = id;
    s.title = t(id);
    s.text = t("text of " + id);
    return s;
}

Prediction prediction(int answer = 1) {
    Prediction p;
    p.question = t("what happens?");
    p.choices = {t("this"), t("that"), t("nothing")};
    p.answer = answer;
    return p;
}

Quiz quiz(std::vector<bool> correct, bool multiple = false) {
    Quiz q;
    q.question = t("why?");
    q.multiple = multiple;
    for (size_t i = 0; i < correct.size(); ++i) q.choices.push_back({t("choice " + std::to_string(i)), correct[i], t("because")});
    return q;
}

// predict → run → check green → quiz.
Step full(const std::string& id) {
    Step s = plain(id);
    s.predict = prediction();
    s.action.run = {"isolab run -d --name web isolab/web"};
    s.check.spec = json{{"kind", "event"}, {"type", "start"}, {"where", {{"name", "web"}}}};
    s.quiz = quiz({false, true});
    s.explain = t("it started");
    return s;
}

Step action_only(const std::string& id) {
    Step s = plain(id);
    s.action.run = {"isolab ps"};
    return s;
}

Lesson lesson(const std::string& id, std::vector<Step> steps) {
    Lesson l;
    l.id = id;
    l.order = 1;
    l.title = t(id);
    l.summary = t("summary");
    l.minutes = 5;
    l.learned = {t("learned")};
    l.steps = std::move(steps);
    return l;
}

// ---- a tiny HTTP server for the http check ----

int listening_socket(int* port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    socklen_t len = sizeof addr;
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    *port = ntohs(addr.sin_port);
    return fd;
}

// A local port nothing listens on: bound, read, closed.
int closed_port() {
    int port = 0;
    int fd = listening_socket(&port);
    ::close(fd);
    return port;
}

// Answers up to N connections with "HTTP/1.0 200 OK" and stops (or gives up after 10 s).
class TinyServer {
public:
    explicit TinyServer(int n) {
        fd_ = listening_socket(&port_);
        REQUIRE(::listen(fd_, 4) == 0);
        thread_ = std::thread([this, n] {
            for (int i = 0; i < n; ++i) {
                pollfd p{fd_, POLLIN, 0};
                if (::poll(&p, 1, 10000) <= 0) return;
                int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
                if (c < 0) return;
                // Read the request first, so that closing does not reset the connection.
                std::string req;
                char buf[512];
                while (req.find("\r\n\r\n") == std::string::npos) {
                    pollfd r{c, POLLIN, 0};
                    if (::poll(&r, 1, 3000) <= 0) break;
                    ssize_t got = ::read(c, buf, sizeof buf);
                    if (got <= 0) break;
                    req.append(buf, static_cast<size_t>(got));
                }
                const std::string resp = "HTTP/1.0 200 OK\r\n\r\nok";
                (void)!::write(c, resp.data(), resp.size());
                ::shutdown(c, SHUT_WR);
                ::close(c);
                ++served_;
            }
        });
    }
    ~TinyServer() {
        if (thread_.joinable()) thread_.join();
        ::close(fd_);
    }
    int port() const { return port_; }
    int served() const { return served_; }

private:
    int fd_ = -1, port_ = 0;
    std::atomic<int> served_{0};
    std::thread thread_;
};

json http(int port, const std::string& expect) {
    return {{"kind", "http"}, {"url", "http://127.0.0.1:" + std::to_string(port) + "/"}, {"expect", expect}};
}

}  // namespace

// ---- checks ----

TEST_CASE("lesson checks: event_matches compares the type and every `where` field") {
    json die = {{"time", "2026-01-01T00:00:00Z"}, {"type", "exec_die"}, {"name", "web"}, {"id", "abc123"},
                {"cmd", {"sh", "-c", "echo hi"}}, {"exitCode", 0}, {"oomKilled", false}};
    CHECK(event_matches(die, "exec_die", json::object()));
    CHECK(event_matches(die, "exec_die", json()));  // no where
    CHECK_FALSE(event_matches(die, "die", json::object()));
    // A number matches an element of an array field too.
    json codes = {{"type", "x"}, {"codes", {1, 2}}};
    CHECK(event_matches(codes, "x", {{"codes", 2}}));
    CHECK_FALSE(event_matches(codes, "x", {{"codes", 3}}));
    CHECK_FALSE(event_matches(die, "", json::object()));
    // strings
    CHECK(event_matches(die, "exec_die", {{"name", "web"}}));
    CHECK_FALSE(event_matches(die, "exec_die", {{"name", "db"}}));
    CHECK_FALSE(event_matches(die, "exec_die", {{"name", "we"}}));
    // numbers: equal values, whatever their JSON type; a string is not a number
    CHECK(event_matches(die, "exec_die", {{"exitCode", 0}}));
    CHECK(event_matches(die, "exec_die", {{"exitCode", 0.0}}));
    CHECK_FALSE(event_matches(die, "exec_die", {{"exitCode", 1}}));
    CHECK_FALSE(event_matches(die, "exec_die", {{"exitCode", "0"}}));
    // booleans
    CHECK(event_matches(die, "exec_die", {{"oomKilled", false}}));
    CHECK_FALSE(event_matches(die, "exec_die", {{"oomKilled", true}}));
    // arrays: one element, or all of them joined by spaces
    CHECK(event_matches(die, "exec_die", {{"cmd", "sh"}}));
    CHECK(event_matches(die, "exec_die", {{"cmd", "echo hi"}}));
    CHECK(event_matches(die, "exec_die", {{"cmd", "sh -c echo hi"}}));
    CHECK_FALSE(event_matches(die, "exec_die", {{"cmd", "sh -c"}}));
    CHECK_FALSE(event_matches(die, "exec_die", {{"cmd", "echo"}}));
    CHECK_FALSE(event_matches(die, "exec_die", {{"cmd", "sh  -c echo hi"}}));
    // every field must match; a field the event lacks does not
    CHECK(event_matches(die, "exec_die", {{"name", "web"}, {"cmd", "sh -c echo hi"}, {"exitCode", 0}}));
    CHECK_FALSE(event_matches(die, "exec_die", {{"name", "web"}, {"exitCode", 2}}));
    CHECK_FALSE(event_matches(die, "exec_die", {{"image", "isolab/web"}}));
    CHECK_FALSE(event_matches(die, "exec_die", {{"name", "web"}, {"image", "isolab/web"}}));
    // build tags
    json build = {{"type", "build"}, {"tags", {"isolab/web:latest", "web:v1"}}};
    CHECK(event_matches(build, "build", {{"tags", "web:v1"}}));
    CHECK_FALSE(event_matches(build, "build", {{"tags", "web"}}));
    // not an event
    CHECK_FALSE(event_matches(json::array({"type", "build"}), "build", json::object()));
    CHECK_FALSE(event_matches(json("build"), "build", json::object()));
}

TEST_CASE("lesson checks: an event check reads events.jsonl from the step's offset") {
    TempDir root;
    CheckContext ctx;
    ctx.root = root.path;
    json start_web = {{"kind", "event"}, {"type", "start"}, {"where", {{"name", "web"}}}};

    CHECK(events_offset(root.path) == 0);
    CHECK(events_offset(root.path + "/nowhere") == 0);
    CHECK_FALSE(evaluate(start_web, ctx).ok);

    root.append({{"time", "t1"}, {"type", "create"}, {"name", "web"}});
    root.append({{"time", "t2"}, {"type", "start"}, {"name", "web"}});
    uint64_t size = fs::file_size(root.events());
    CHECK(events_offset(root.path) == size);

    // From the start of the log: seen, and the detail shows the line.
    auto seen = evaluate(start_web, ctx);
    CHECK(seen.ok);
    CHECK(seen.detail.find("\"start\"") != std::string::npos);

    // The step began after it: it does not count.
    ctx.events_from = events_offset(root.path);
    auto before = evaluate(start_web, ctx);
    CHECK_FALSE(before.ok);
    CHECK(before.detail.find("start") != std::string::npos);

    // Other events after the offset do not count either, and a garbage line is skipped.
    root.append({{"time", "t3"}, {"type", "start"}, {"name", "db"}});
    std::ofstream(root.events(), std::ios::app) << "{not json\n";
    CHECK_FALSE(evaluate(start_web, ctx).ok);
    root.append({{"time", "t4"}, {"type", "start"}, {"name", "web"}});
    CHECK(evaluate(start_web, ctx).ok);

    // A log truncated below the offset (the engine was reset) is read from its start.
    std::ofstream(root.events(), std::ios::trunc) << json{{"time", "t5"}, {"type", "start"}, {"name", "web"}}.dump() << "\n";
    REQUIRE(fs::file_size(root.events()) < ctx.events_from);
    CHECK(evaluate(start_web, ctx).ok);
    std::ofstream(root.events(), std::ios::trunc) << json{{"time", "t6"}, {"type", "stop"}, {"name", "web"}}.dump() << "\n";
    CHECK_FALSE(evaluate(start_web, ctx).ok);

    // No log at all.
    fs::remove(root.events());
    auto none = evaluate(start_web, ctx);
    CHECK_FALSE(none.ok);
}

TEST_CASE("lesson checks: all and any of event checks") {
    TempDir root;
    CheckContext ctx;
    ctx.root = root.path;
    root.append({{"type", "create"}, {"name", "web"}});
    root.append({{"type", "start"}, {"name", "web"}});
    auto ev = [](const std::string& type, const std::string& name) {
        return json{{"kind", "event"}, {"type", type}, {"where", {{"name", name}}}};
    };
    json both = {{"kind", "all"}, {"of", {ev("create", "web"), ev("start", "web")}}};
    json one_missing = {{"kind", "all"}, {"of", {ev("create", "web"), ev("die", "web")}}};
    json either = {{"kind", "any"}, {"of", {ev("die", "web"), ev("start", "web")}}};
    json neither = {{"kind", "any"}, {"of", {ev("die", "web"), ev("stop", "web")}}};
    CHECK(evaluate(both, ctx).ok);
    auto miss = evaluate(one_missing, ctx);
    CHECK_FALSE(miss.ok);
    CHECK(miss.detail.find("die") != std::string::npos);  // names what is missing
    CHECK(evaluate(either, ctx).ok);
    CHECK_FALSE(evaluate(neither, ctx).ok);
    // nested
    json nested = {{"kind", "all"}, {"of", {either, {{"kind", "any"}, {"of", {ev("stop", "web"), both}}}}}};
    CHECK(evaluate(nested, ctx).ok);
    json nested_bad = {{"kind", "any"}, {"of", {neither, one_missing}}};
    CHECK_FALSE(evaluate(nested_bad, ctx).ok);
    // The window moves: after the offset, nothing has happened yet.
    ctx.events_from = events_offset(root.path);
    CHECK_FALSE(evaluate(both, ctx).ok);
    CHECK_FALSE(evaluate(either, ctx).ok);
}

TEST_CASE("lesson checks: no check is true; engine checks without an engine are false") {
    CheckContext ctx;
    CHECK(evaluate(json(), ctx).ok);
    for (const json& c : {json{{"kind", "container"}, {"name", "web"}, {"state", "running"}},
                          json{{"kind", "image"}, {"name", "isolab/web"}},
                          json{{"kind", "network"}, {"name", "net"}},
                          json{{"kind", "pids"}, {"container", "web"}, {"at_least", 2}},
                          json{{"kind", "vm"}, {"name", "vm1"}, {"state", "running"}},
                          json{{"kind", "nonsense"}}}) {
        CAPTURE(c.dump());
        CHECK_FALSE(evaluate(c, ctx).ok);
    }
}

TEST_CASE("lesson checks: http answers and refused on 127.0.0.1") {
    CheckContext ctx;
    int closed = closed_port();
    REQUIRE(closed > 0);
    auto refused = evaluate(http(closed, "refused"), ctx);
    CHECK(refused.ok);
    CHECK(refused.detail.find("does not answer") != std::string::npos);
    CHECK_FALSE(evaluate(http(closed, "answers"), ctx).ok);

    TinyServer server(2);
    auto answers = evaluate(http(server.port(), "answers"), ctx);
    CHECK(answers.ok);
    CHECK(answers.detail.find("answered") != std::string::npos);
    CHECK_FALSE(evaluate(http(server.port(), "refused"), ctx).ok);
}

// ---- the player: self-paced ----

TEST_CASE("lesson player: self-paced, predict before the action, check and quiz before the step is complete") {
    TempDir root;
    ProgressStore progress(root.path + "/progress.json");
    Player p(lesson("self", {plain("intro"), full("run-web"), action_only("look"), plain("end")}), Mode::SelfPaced,
             &progress, root.path);
    REQUIRE(p.count() == 4);
    CHECK(p.index() == 0);
    CHECK(std::string(mode_name(p.mode())) == "self");

    // A step without action and check is complete at once.
    CHECK(p.step_complete());
    CHECK(p.may_advance());
    CHECK(p.step_done(0));
    CHECK_FALSE(p.may_run_action());  // nothing to run
    CHECK_FALSE(p.prev());
    REQUIRE(p.next());
    CHECK(p.index() == 1);
    CHECK(p.step().id == "run-web");

    // The prediction comes first.
    CHECK(p.prediction_needed());
    CHECK_FALSE(p.may_run_action());
    CHECK_FALSE(p.results_visible());
    CHECK_FALSE(p.step_complete());
    CHECK_FALSE(p.may_advance());
    p.predict(7);  // out of range: ignored
    p.predict(-1);
    CHECK(p.prediction_needed());
    CHECK_FALSE(p.may_run_action());
    p.predict(0);
    CHECK_FALSE(p.prediction_needed());
    CHECK(p.state().prediction == 0);
    CHECK(p.may_run_action());
    CHECK(p.results_visible());
    p.predict(2);  // self-paced: may change its mind until the step is done
    CHECK(p.state().prediction == 2);

    // Running, then ran: the action alone does not complete a step that has a check.
    p.action_started();
    CHECK(p.state().action_running);
    CHECK_FALSE(p.may_run_action());
    p.action_finished(0);
    CHECK_FALSE(p.state().action_running);
    CHECK(p.state().action_ran);
    CHECK(p.state().action_exit == 0);
    CHECK(p.may_run_action());  // may run it again
    CHECK_FALSE(p.step_complete());

    // Green check, but the quiz is not answered yet.
    p.check_result(true, "seen: start web");
    CHECK(p.state().check_ok);
    CHECK(p.state().check_detail == "seen: start web");
    CHECK_FALSE(p.step_complete());
    CHECK_FALSE(p.may_advance());
    CHECK_FALSE(p.step_done(1));

    CHECK_FALSE(p.answer_quiz({0}));
    CHECK_FALSE(p.state().quiz_ok);
    CHECK(p.state().quiz_picked == std::vector<int>{0});
    CHECK_FALSE(p.step_complete());
    CHECK_FALSE(p.answer_quiz({0, 1}));
    CHECK_FALSE(p.step_complete());
    CHECK(p.answer_quiz({1}));
    CHECK(p.state().quiz_ok);
    CHECK(p.step_complete());
    CHECK(p.may_advance());
    CHECK(p.step_done(1));
    CHECK(p.steps_done() == 2);

    // A step with an action and no check is complete once the action has run.
    REQUIRE(p.next());
    CHECK(p.step().id == "look");
    CHECK_FALSE(p.prediction_needed());
    CHECK(p.may_run_action());
    CHECK_FALSE(p.step_complete());
    CHECK_FALSE(p.may_advance());
    p.action_started();
    CHECK_FALSE(p.step_complete());
    p.action_finished(1);  // whatever its exit code
    CHECK(p.step_complete());
    CHECK(p.may_advance());

    REQUIRE(p.next());
    CHECK(p.index() == 3);
    CHECK(p.step_complete());
    CHECK(p.finished());
    CHECK_FALSE(p.next());                             // the end
    CHECK(p.index() == 3);
    CHECK(p.finished());
    CHECK_FALSE(progress.get("self").finished_at.empty());
    CHECK(progress.get("self").done == std::set<std::string>{"intro", "run-web", "look", "end"});
}

TEST_CASE("lesson player: a check turning red again does not undo a done step") {
    TempDir root;
    Player p(lesson("red", {full("a"), plain("b")}), Mode::SelfPaced, nullptr, root.path);
    p.predict(1);
    CHECK(p.answer_quiz({1}));  // quiz first, then the check
    CHECK_FALSE(p.step_complete());
    p.check_result(true, "");
    CHECK(p.step_complete());
    p.check_result(false, "web stopped");
    CHECK_FALSE(p.step_complete());
    CHECK(p.step_done(0));  // it was green: done
    CHECK(p.may_advance());
    CHECK(p.state().check_detail == "web stopped");
}

TEST_CASE("lesson player: a multiple-choice quiz needs every correct choice and no other") {
    TempDir root;
    Step s = plain("q");
    s.quiz = quiz({true, false, true, false}, true);
    Player p(lesson("quiz", {s, plain("end")}), Mode::SelfPaced, nullptr, root.path);
    CHECK_FALSE(p.step_complete());
    CHECK_FALSE(p.answer_quiz({0}));
    CHECK_FALSE(p.answer_quiz({0, 1, 2}));
    CHECK_FALSE(p.answer_quiz({}));
    CHECK_FALSE(p.step_complete());
    CHECK(p.answer_quiz({2, 0, 2}));  // any order, repeats ignored
    CHECK(p.state().quiz_picked == std::vector<int>{0, 2});
    CHECK(p.step_complete());
}

TEST_CASE("lesson player: next, prev and go move between steps and keep what was done") {
    TempDir root;
    Player p(lesson("nav", {plain("a"), full("b"), action_only("c"), plain("d")}), Mode::SelfPaced, nullptr, root.path);
    CHECK(p.next());
    CHECK(p.index() == 1);
    p.predict(1);
    p.action_finished(0);
    p.check_result(true, "");
    CHECK(p.answer_quiz({1}));
    CHECK(p.prev());
    CHECK(p.index() == 0);
    CHECK(p.step_done(1));
    p.go(2);
    CHECK(p.index() == 2);
    CHECK_FALSE(p.step_done(2));
    CHECK_FALSE(p.state().action_ran);  // a fresh step state
    p.go(1);
    CHECK(p.state().prediction == 1);  // the prediction made, and the quiz answered, come back
    CHECK(p.state().quiz_ok);
    CHECK(p.may_advance());
    CHECK(p.step_done(1));
    p.go(99);
    CHECK(p.index() == 3);
    p.go(-5);
    CHECK(p.index() == 0);
    CHECK(p.steps_done() == 2);  // a (complete at once) and b
    CHECK_FALSE(p.finished());

    // Hints, one at a time, no more than there are.
    Step h = plain("h");
    h.hints = {t("one"), t("two")};
    Player q(lesson("hints", {h}), Mode::SelfPaced, nullptr, root.path);
    CHECK(q.state().hints_shown == 0);
    q.show_hint();
    q.show_hint();
    q.show_hint();
    CHECK(q.state().hints_shown == 2);
}

// ---- study group ----

TEST_CASE("lesson player: study group locks the prediction in at the reveal") {
    TempDir root;
    Player p(lesson("group", {full("a"), action_only("b")}), Mode::StudyGroup, nullptr, root.path);
    CHECK(std::string(mode_name(p.mode())) == "group");
    CHECK_FALSE(p.may_run_action());
    CHECK_FALSE(p.results_visible());
    p.reveal();  // nothing to reveal yet
    CHECK_FALSE(p.state().revealed);
    CHECK_FALSE(p.may_run_action());

    p.predict(0);
    CHECK_FALSE(p.prediction_needed());
    CHECK_FALSE(p.may_run_action());  // the group has not revealed
    CHECK_FALSE(p.results_visible());
    p.predict(1);  // before the reveal, still open
    CHECK(p.state().prediction == 1);

    p.reveal();
    CHECK(p.state().revealed);
    CHECK(p.may_run_action());
    CHECK(p.results_visible());
    p.predict(2);  // locked in
    CHECK(p.state().prediction == 1);

    p.action_started();
    p.action_finished(0);
    p.check_result(true, "");
    CHECK(p.answer_quiz({1}));
    CHECK(p.may_advance());

    // A step without a prediction needs no reveal.
    REQUIRE(p.next());
    CHECK(p.may_run_action());
    CHECK(p.results_visible());
    CHECK_FALSE(p.may_advance());
    p.action_finished(0);
    CHECK(p.may_advance());
}

// ---- presenter ----

TEST_CASE("lesson player: presenter clicks run the action, show the result, go on and finish") {
    TempDir root;
    ProgressStore progress(root.path + "/progress.json");
    Step a = action_only("a");
    a.explain = t("what happened");
    a.predict = prediction();
    Step b = plain("b");  // nothing to run or show
    Step c = action_only("c");
    c.explain = t("the end");
    Player p(lesson("present", {a, b, c}), Mode::Presenter, &progress, root.path);
    CHECK(std::string(mode_name(p.mode())) == "present");

    CHECK(p.may_advance());      // the presenter may always go on
    CHECK(p.may_run_action());   // without waiting for a prediction
    CHECK_FALSE(p.results_visible());
    CHECK(p.next_click() == Click::RunAction);
    CHECK(p.click() == Click::RunAction);
    CHECK(p.state().action_running);
    CHECK(p.next_click() == Click::Nothing);  // the action is running
    CHECK(p.click() == Click::Nothing);
    CHECK(p.index() == 0);
    p.action_finished(0);
    CHECK(p.results_visible());
    CHECK(p.next_click() == Click::ShowResult);
    CHECK(p.click() == Click::ShowResult);
    CHECK(p.presenter_result_shown());
    CHECK(p.next_click() == Click::NextStep);
    CHECK(p.click() == Click::NextStep);
    CHECK(p.index() == 1);
    CHECK_FALSE(p.presenter_result_shown());

    // No action, no explain: straight on.
    CHECK(p.results_visible());
    CHECK(p.next_click() == Click::NextStep);
    CHECK(p.click() == Click::NextStep);
    CHECK(p.index() == 2);

    // The last step ends with Finished.
    CHECK(p.click() == Click::RunAction);
    p.action_finished(0);
    CHECK(p.click() == Click::ShowResult);
    CHECK(p.next_click() == Click::Finished);
    CHECK(p.click() == Click::Finished);
    CHECK(p.index() == 2);
    CHECK(p.finished());
    CHECK(p.steps_done() == 3);
    CHECK_FALSE(progress.get("present").finished_at.empty());
    CHECK(progress.get("present").done.count("c") == 1);
}

TEST_CASE("lesson player: presenter shows a quiz as a result too") {
    TempDir root;
    Step s = plain("q");
    s.quiz = quiz({true, false});
    Player p(lesson("pq", {s}), Mode::Presenter, nullptr, root.path);
    CHECK(p.next_click() == Click::ShowResult);
    CHECK(p.click() == Click::ShowResult);
    CHECK(p.next_click() == Click::Finished);
}

// ---- progress ----

TEST_CASE("lesson player: progress is saved and a new player resumes where the learner was") {
    TempDir root;
    std::string path = root.path + "/state/progress.json";
    Lesson l = lesson("resume", {plain("intro"), full("run-web"), full("again"), plain("end")});
    uint64_t window = 0;
    {
        ProgressStore progress(path);
        Player p(l, Mode::SelfPaced, &progress, root.path);
        REQUIRE(p.next());  // intro: complete at once
        p.predict(1);
        p.action_started();
        p.action_finished(0);
        p.check_result(true, "");
        CHECK(p.answer_quiz({1}));
        root.append({{"type", "start"}, {"name", "web"}});
        REQUIRE(p.next());
        CHECK(p.index() == 2);
        window = p.events_from();
        CHECK(window == fs::file_size(root.events()));
        CHECK(window > 0);
        p.predict(2);  // the learner commits, then closes the window
        CHECK(p.steps_done() == 2);
    }
    root.append({{"type", "stop"}, {"name", "web"}});  // written while no player ran

    ProgressStore progress(path);
    auto saved = progress.get("resume");
    CHECK(saved.step == 2);
    CHECK(saved.done == std::set<std::string>{"intro", "run-web"});
    CHECK(saved.predictions.at("run-web") == 1);
    CHECK(saved.predictions.at("again") == 2);
    CHECK(saved.root == root.path);

    Player q(l, Mode::SelfPaced, &progress, root.path);
    CHECK(q.index() == 2);
    CHECK(q.step().id == "again");
    CHECK(q.step_done(0));
    CHECK(q.step_done(1));
    CHECK_FALSE(q.step_done(2));
    CHECK_FALSE(q.step_done(3));
    CHECK(q.steps_done() == 2);
    CHECK_FALSE(q.finished());
    CHECK(q.state().prediction == 2);  // restored
    CHECK_FALSE(q.prediction_needed());
    CHECK(q.may_run_action());
    CHECK(q.events_from() == window);  // the same step of the same root keeps its event window
    q.go(1);
    CHECK(q.state().prediction == 1);
    CHECK(q.state().quiz_ok);
    CHECK(q.may_advance());

    // Another state root: the window starts now.
    TempDir other;
    other.append({{"type", "create"}, {"name", "x"}});
    ProgressStore progress2(path);
    Player r(l, Mode::SelfPaced, &progress2, other.path);
    CHECK(r.index() == 1);  // q moved to step 1 and saved it
    CHECK(r.events_from() == fs::file_size(other.events()));

    // Reset: back to step 0, nothing done, nothing predicted, in the file too.
    r.reset();
    CHECK(r.index() == 0);
    CHECK_FALSE(r.step_done(1));
    CHECK_FALSE(r.step_done(2));
    CHECK(r.steps_done() == 1);  // the intro, complete at once
    auto after = ProgressStore(path).get("resume");
    CHECK(after.empty());
    CHECK(after.done.empty());
    CHECK(after.predictions.empty());
    CHECK(after.quiz.empty());
    Player s(l, Mode::SelfPaced, &progress2, other.path);
    CHECK(s.index() == 0);
    REQUIRE(s.next());
    CHECK(s.prediction_needed());
}

TEST_CASE("lesson player: a truncated event log gives a resumed step a fresh window") {
    TempDir root;
    std::string path = root.path + "/progress.json";
    Lesson l = lesson("trunc", {full("a"), plain("b")});
    root.append({{"type", "create"}, {"name", "web"}});
    root.append({{"type", "start"}, {"name", "web"}});
    {
        ProgressStore progress(path);
        Player p(l, Mode::SelfPaced, &progress, root.path);
        CHECK(p.events_from() == fs::file_size(root.events()));
    }
    std::ofstream(root.events(), std::ios::trunc);  // the engine was reset
    ProgressStore progress(path);
    Player q(l, Mode::SelfPaced, &progress, root.path);
    CHECK(q.events_from() == 0);
}

TEST_CASE("lesson player: finishing every step sets finished_at once") {
    TempDir root;
    std::string path = root.path + "/progress.json";
    ProgressStore progress(path);
    Player p(lesson("done", {plain("a"), full("b")}), Mode::SelfPaced, &progress, root.path);
    REQUIRE(p.next());
    CHECK_FALSE(p.finished());
    p.predict(0);
    p.action_finished(0);
    CHECK(p.answer_quiz({1}));
    CHECK(progress.get("done").finished_at.empty());
    p.check_result(true, "");  // the last step turns green: the lesson is finished
    CHECK(p.finished());
    std::string at = progress.get("done").finished_at;
    CHECK_FALSE(at.empty());
    CHECK(ProgressStore(path).get("done").finished_at == at);
    CHECK_FALSE(p.next());
    CHECK(progress.get("done").finished_at == at);  // not moved

    // A new player on the same file knows the lesson is finished.
    ProgressStore again(path);
    Player q(lesson("done", {plain("a"), full("b")}), Mode::SelfPaced, &again, root.path);
    CHECK(q.finished());
    CHECK(q.may_advance());
}
