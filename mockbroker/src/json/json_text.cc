#include "json_text.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <cstdint>

#include "kwire/protocol/json.hpp"

namespace kwire::mockbroker {

std::string to_valid_utf8(std::string_view s) {
  const auto* b = reinterpret_cast<const std::uint8_t*>(s.data());
  if (is_valid_utf8({b, s.size()})) return std::string(s);
  std::string out;
  std::size_t i = 0;
  while (i < s.size()) {
    const std::uint8_t c = b[i];
    // The length the lead byte announces; the protocol's checker then says
    // whether the sequence is well-formed (not overlong, not a surrogate).
    const std::size_t n = c < 0x80           ? 1
                          : (c >> 5) == 0x6  ? 2
                          : (c >> 4) == 0xE  ? 3
                          : (c >> 3) == 0x1E ? 4
                                             : 0;
    if (n > 0 && i + n <= s.size() && is_valid_utf8({b + i, n})) {
      out.append(s.substr(i, n));
      i += n;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

boost::json::value json_text(std::string_view s) { return boost::json::string(to_valid_utf8(s)); }

std::string shown_json(const boost::json::value& v) {
  return boost::json::serialize(v).substr(0, 200);
}

}  // namespace kwire::mockbroker
