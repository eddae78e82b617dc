// The address a listener binds to, from what a user typed: an IPv4 or IPv6
// literal, or a host name resolved now (the first address the resolver
// gives). Shared by the Kafka listeners (tcp_server.cc) and the HTTP API
// (http/http_server.cc). Internal to the mock (not installed).
#pragma once

#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>

namespace kwire::mockbroker::detail {

/// The address of `host`; throws std::system_error naming `what` and the
/// host when it is neither a literal nor a name that resolves.
boost::asio::ip::address bind_address(boost::asio::io_context& io, const std::string& host,
                                      const std::string& what);

/// Is `address` 0.0.0.0 or ::, which no client can connect to?
bool is_wildcard(const boost::asio::ip::address& address);

}  // namespace kwire::mockbroker::detail
