// Conformance: kwire's definitions (as `kwire schema --json` prints them)
// against Kafka's message definitions in ../shared/reference, field by field.
// Skipped, with a message, where that folder is absent (a user's checkout).
#include "kwire/protocol/api.hpp"

#include <catch2/catch.hpp>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

// "0+", "3-5", "7", "none" -> [lo, hi]; absent means none.
std::pair<int, int> versions(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (!v) return {1, 0};
  std::string s(v->as_string());
  if (s == "none") return {1, 0};
  if (s.back() == '+') return {std::stoi(s), 0x7fff};
  const auto dash = s.find('-');
  if (dash != std::string::npos)
    return {std::stoi(s.substr(0, dash)), std::stoi(s.substr(dash + 1))};
  return {std::stoi(s), std::stoi(s)};
}

// Defaults as Kafka means them: "0x7fffffff" is 2147483647, "False" is false.
std::string normalized_default(const json::object& o) {
  const auto* v = o.if_contains("default");
  if (!v) return "<none>";
  std::string s = v->is_string() ? std::string(v->as_string()) : json::serialize(*v);
  if (s == "False" || s == "false") return "false";
  if (s == "True" || s == "true") return "true";
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    return std::to_string(std::stoll(s, nullptr, 16));
  }
  return s;
}

bool flag(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_bool() && v->as_bool();
}

std::int64_t tag_of(const json::object& o) {
  const auto* v = o.if_contains("tag");
  if (!v) return -1;
  return v->is_string() ? std::stoll(std::string(v->as_string())) : v->to_number<std::int64_t>();
}

void compare_fields(const json::array& ours, const json::array& theirs, const std::string& where,
                    std::vector<std::string>& diffs) {
  if (ours.size() != theirs.size()) {
    diffs.push_back(where + ": " + std::to_string(ours.size()) + " fields, reference has " +
                    std::to_string(theirs.size()));
    return;
  }
  for (std::size_t i = 0; i < ours.size(); ++i) {
    const auto& a = ours[i].as_object();
    const auto& b = theirs[i].as_object();
    const std::string path = where + "." + std::string(b.at("name").as_string());
    auto differ = [&](std::string_view what, const std::string& x, const std::string& y) {
      if (x != y) diffs.push_back(path + ": " + std::string(what) + " " + x + " != " + y);
    };
    auto vtext = [](std::pair<int, int> p) {
      return std::to_string(p.first) + ".." + std::to_string(p.second);
    };
    differ("name", std::string(a.at("name").as_string()), std::string(b.at("name").as_string()));
    differ("type", std::string(a.at("type").as_string()), std::string(b.at("type").as_string()));
    differ("versions", vtext(versions(a, "versions")), vtext(versions(b, "versions")));
    differ("nullableVersions", vtext(versions(a, "nullableVersions")),
           vtext(versions(b, "nullableVersions")));
    differ("taggedVersions", vtext(versions(a, "taggedVersions")),
           vtext(versions(b, "taggedVersions")));
    differ("tag", std::to_string(tag_of(a)), std::to_string(tag_of(b)));
    differ("default", normalized_default(a), normalized_default(b));
    differ("mapKey", std::to_string(flag(a, "mapKey")), std::to_string(flag(b, "mapKey")));
    differ("ignorable", std::to_string(flag(a, "ignorable")), std::to_string(flag(b, "ignorable")));
    const auto* fa = a.if_contains("fields");
    const auto* fb = b.if_contains("fields");
    if ((fa == nullptr) != (fb == nullptr)) {
      diffs.push_back(path + ": nested fields present on one side only");
    } else if (fa) {
      compare_fields(fa->as_array(), fb->as_array(), path, diffs);
    }
  }
}

std::vector<std::string> compare_message(const json::object& ours, const json::object& theirs) {
  std::vector<std::string> diffs;
  const std::string name(theirs.at("name").as_string());
  // Data types (type "data") have no API key on either side.
  const auto* our_key = ours.if_contains("apiKey");
  const auto* their_key = theirs.if_contains("apiKey");
  if ((our_key == nullptr) != (their_key == nullptr) ||
      (our_key && our_key->to_number<int>() != their_key->to_number<int>()))
    diffs.push_back(name + ": apiKey");
  if (ours.at("type") != theirs.at("type")) diffs.push_back(name + ": type");
  if (versions(ours, "validVersions") != versions(theirs, "validVersions"))
    diffs.push_back(name + ": validVersions");
  if (versions(ours, "flexibleVersions") != versions(theirs, "flexibleVersions"))
    diffs.push_back(name + ": flexibleVersions");
  if (flag(ours, "latestVersionUnstable") != flag(theirs, "latestVersionUnstable"))
    diffs.push_back(name + ": latestVersionUnstable");
  compare_fields(ours.at("fields").as_array(), theirs.at("fields").as_array(), name, diffs);
  const auto* ca = ours.if_contains("commonStructs");
  const auto* cb = theirs.if_contains("commonStructs");
  const std::size_t na = ca ? ca->as_array().size() : 0;
  const std::size_t nb = cb ? cb->as_array().size() : 0;
  if (na != nb) {
    diffs.push_back(name + ": " + std::to_string(na) + " common structs, reference has " +
                    std::to_string(nb));
  } else {
    for (std::size_t i = 0; i < na; ++i) {
      const auto& sa = ca->as_array()[i].as_object();
      const auto& sb = cb->as_array()[i].as_object();
      const std::string where = name + ".commonStructs." + std::string(sb.at("name").as_string());
      if (sa.at("name") != sb.at("name")) diffs.push_back(where + ": name");
      if (versions(sa, "versions") != versions(sb, "versions"))
        diffs.push_back(where + ": versions");
      compare_fields(sa.at("fields").as_array(), sb.at("fields").as_array(), where, diffs);
    }
  }
  return diffs;
}

}  // namespace

TEST_CASE("definitions match Kafka's message definitions field by field", "[conformance]") {
  const fs::path dir = fs::path(KWIRE_REFERENCE_DIR) / "kafka-message-json";
  if (!fs::is_directory(dir)) {
    WARN("skipped: no reference definitions at " << dir.string()
                                                 << " (they sit beside the project's checkout in "
                                                    "its development setup only)");
    return;
  }
  std::map<std::string, json::object> ours;
  const json::value our_json = json::parse(kwire::schema_json());
  for (const auto& v : our_json.as_array()) {
    const auto& o = v.as_object();
    ours.emplace(std::string(o.at("name").as_string()), o);
  }

  json::parse_options opts;
  opts.allow_comments = true;
  opts.allow_trailing_commas = true;
  std::size_t exact = 0, compared = 0;
  std::map<int, int> pair_sides;  // apiKey -> exact request/response count
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    const auto ref = json::parse(text.str(), {}, opts).as_object();
    const std::string type(ref.at("type").as_string());
    const std::string name(ref.at("name").as_string());
    // Every request and response must be ours; of Kafka's data types, only
    // those kwire defines (the consumer protocol's) are compared.
    if (type == "data" && ours.count(name) == 0) continue;
    if (type != "request" && type != "response" && type != "data") continue;
    ++compared;
    INFO("definition " << name << " from " << entry.path().filename().string());
    auto it = ours.find(name);
    if (it == ours.end()) {
      FAIL_CHECK(name << " is missing from kwire's definitions");
      continue;
    }
    const auto diffs = compare_message(it->second, ref);
    for (const auto& d : diffs) FAIL_CHECK(d);
    if (diffs.empty()) {
      ++exact;
      if (type != "data") ++pair_sides[ref.at("apiKey").to_number<int>()];
    }
  }
  std::size_t exact_pairs = 0;
  for (const auto& [key, sides] : pair_sides) exact_pairs += sides == 2 ? 1 : 0;
  CHECK(compared == ours.size());
  CHECK(exact == compared);
  WARN("conformance: " << exact << " of " << compared << " definitions exact; " << exact_pairs
                       << " request/response pairs exact");
}
