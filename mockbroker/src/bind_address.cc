#include "bind_address.hpp"

#include <system_error>

#include <boost/asio/ip/tcp.hpp>

namespace kwire::mockbroker::detail {

boost::asio::ip::address bind_address(boost::asio::io_context& io, const std::string& host,
                                      const std::string& what) {
  boost::system::error_code ec;
  const auto literal = boost::asio::ip::make_address(host, ec);
  if (!ec) return literal;
  boost::asio::ip::tcp::resolver resolver(io);
  const auto found = resolver.resolve(host, "", ec);
  if (ec || found.empty()) {
    const std::error_code code =
        ec ? std::error_code(ec) : std::make_error_code(std::errc::address_not_available);
    throw std::system_error(code, "kwire mock: " + what + " '" + host + "'");
  }
  return found.begin()->endpoint().address();
}

bool is_wildcard(const boost::asio::ip::address& address) { return address.is_unspecified(); }

}  // namespace kwire::mockbroker::detail
