// `isolab search`'s pure parts (app/cli/registry_commands.hpp): moby's filter rules and errors,
// Docker 28's table (no AUTOMATED column), the 45-character cut, --no-trunc, --format and json.
// The search itself runs against an in-test index in tests/integration/test_registry.cpp.
#include <doctest/doctest.h>

#include <sstream>

#include "app/cli/registry_commands.hpp"

using namespace isolab;
using namespace isolab::cli;

namespace {

std::vector<SearchResult> sample() {
    return {
        {"busybox", "Busybox base image.", 3338, true, false},
        {"user/tool", "A tool\nwith a description that goes on for far longer than forty-five characters", 12, false, true},
        {"other/small", "", 0, false, false},
    };
}

std::string printed(const std::vector<SearchResult>& r, const std::string& format, bool no_trunc) {
    std::ostringstream out;
    auto st = print_search_results(r, format, no_trunc, out);
    REQUIRE_MESSAGE(st.ok(), st.error().message);
    return out.str();
}

}  // namespace

TEST_CASE("search: filters as moby reads them, with its errors") {
    auto none = parse_search_filter({});
    REQUIRE(none.ok());
    CHECK(filter_search_results(sample(), *none).size() == 3);

    auto official = parse_search_filter({"is-official=true"});
    REQUIRE(official.ok());
    auto kept = filter_search_results(sample(), *official);
    REQUIRE(kept.size() == 1);
    CHECK(kept[0].name == "busybox");
    auto unofficial = parse_search_filter({"is-official=false"});
    REQUIRE(unofficial.ok());
    CHECK(filter_search_results(sample(), *unofficial).size() == 2);

    // Several stars values: the largest counts.
    auto stars = parse_search_filter({"stars=3", "stars=10"});
    REQUIRE(stars.ok());
    CHECK(stars->min_stars == 10);
    kept = filter_search_results(sample(), *stars);
    REQUIRE(kept.size() == 2);
    CHECK(kept[1].name == "user/tool");
    auto many = parse_search_filter({"stars=13"});
    REQUIRE(many.ok());
    CHECK(filter_search_results(sample(), *many).size() == 1);

    auto automated = parse_search_filter({"is-automated=false"});
    REQUIRE(automated.ok());
    CHECK(filter_search_results(sample(), *automated).size() == 2);

    auto unknown = parse_search_filter({"name=x"});
    REQUIRE_FALSE(unknown.ok());
    CHECK(unknown.error().message == "invalid filter 'name'");
    auto maybe = parse_search_filter({"is-official=maybe"});
    REQUIRE_FALSE(maybe.ok());
    CHECK(maybe.error().message.rfind("invalid filter 'is-official=", 0) == 0);
    auto bad_stars = parse_search_filter({"stars=many"});
    REQUIRE_FALSE(bad_stars.ok());
    CHECK(bad_stars.error().message == "invalid filter 'stars=many': strconv.Atoi: parsing \"many\": invalid syntax");
    CHECK(bad_stars.error().exit_code == 1);
}

TEST_CASE("search: Docker 28's table, the description on one line and cut to 45 characters") {
    const std::string table = printed(sample(), "", false);
    std::istringstream in(table);
    std::string header, first, second, third;
    std::getline(in, header);
    std::getline(in, first);
    std::getline(in, second);
    std::getline(in, third);
    // No AUTOMATED column (Docker 28 dropped it); columns at least 10 wide, 3 spaces apart.
    CHECK(header.rfind("NAME          DESCRIPTION", 0) == 0);
    CHECK(header.find("STARS") != std::string::npos);
    CHECK(header.find("OFFICIAL") != std::string::npos);
    CHECK(header.find("AUTOMATED") == std::string::npos);
    CHECK(first.find("[OK]") != std::string::npos);
    CHECK(first.find("3338") != std::string::npos);
    CHECK(second.find("[OK]") == std::string::npos);
    const std::string cut = "A tool with a description that goes on for f…";
    CHECK(second.find(cut) != std::string::npos);  // 44 characters and the ellipsis
    CHECK(second.find("forty") == std::string::npos);
    CHECK(table == printed(sample(), "table", false));
    CHECK(header.find("DESCRIPTION") == first.find("Busybox"));

    const std::string full = printed(sample(), "", true);
    CHECK(full.find("far longer than forty-five characters") != std::string::npos);
    CHECK(full.find("\nwith") == std::string::npos);  // the newline became a space
}

TEST_CASE("search: --format templates, json, and Docker's template errors") {
    CHECK(printed(sample(), "{{.Name}}: {{.StarCount}}", false) == "busybox: 3338\nuser/tool: 12\nother/small: 0\n");
    CHECK(printed(sample(), "table {{.Name}}\t{{.IsOfficial}}", false).rfind("NAME          OFFICIAL\n", 0) == 0);
    const std::string json = printed({sample()[0]}, "json", false);
    CHECK(json == "{\"Description\":\"Busybox base image.\",\"IsOfficial\":\"true\",\"Name\":\"busybox\",\"StarCount\":\"3338\"}\n");
    CHECK(printed({sample()[2]}, "{{json .}}", false).find("\"IsOfficial\":\"false\"") != std::string::npos);
    CHECK(printed({}, "", false) == "NAME      DESCRIPTION   STARS     OFFICIAL\n");

    std::ostringstream out;
    auto missing = print_search_results(sample(), "{{.IsAutomated}}", false, out);
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().message.find("can't evaluate field IsAutomated in type *registry.searchContext") !=
          std::string::npos);
    auto unclosed = print_search_results(sample(), "{{.Name", false, out);
    REQUIRE_FALSE(unclosed.ok());
    CHECK(unclosed.error().message.rfind("template parsing error", 0) == 0);
    CHECK(out.str().empty());
}
