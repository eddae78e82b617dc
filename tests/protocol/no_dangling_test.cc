// Decoders that return views into their input cannot be called on a temporary
// owning buffer (the views would dangle at the end of the statement), while a
// buffer the caller keeps alive, or an explicit span, is as easy as ever.
#include "kwire/protocol/header.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "kwire/protocol/frame.hpp"
#include "kwire/protocol/message_set.hpp"
#include "kwire/protocol/record_batch.hpp"

namespace {
using bytes = std::vector<std::uint8_t>;
using span = std::span<const std::uint8_t>;

template <class Buffer>
constexpr bool can_decode_request = requires(Buffer&& b) {
  kwire::decode_request(std::forward<Buffer>(b));
};
template <class Buffer>
constexpr bool can_decode_response = requires(Buffer&& b) {
  kwire::decode_response(std::forward<Buffer>(b), 0, 0);
};
template <class Buffer>
constexpr bool can_read_batch = requires(Buffer&& b) {
  kwire::read_record_batch(std::forward<Buffer>(b));
};
template <class Buffer>
constexpr bool can_read_message_set = requires(Buffer&& b) {
  kwire::read_message_set(std::forward<Buffer>(b));
};
template <class Buffer>
constexpr bool can_make_batch_reader = requires(Buffer&& b) {
  kwire::record_batch_reader(std::forward<Buffer>(b));
};
template <class Buffer>
constexpr bool can_split_frame = requires(Buffer&& b) {
  kwire::split_frame(std::forward<Buffer>(b));
};

// Rvalue owning containers: ill-formed.
static_assert(!can_decode_request<bytes&&>);
static_assert(!can_decode_request<std::string&&>);
static_assert(!can_decode_response<bytes&&>);
static_assert(!can_decode_response<std::string&&>);
static_assert(!can_read_batch<bytes&&>);
static_assert(!can_read_batch<std::string&&>);
static_assert(!can_read_message_set<bytes&&>);
static_assert(!can_make_batch_reader<bytes&&>);
static_assert(!can_split_frame<bytes&&>);

// A buffer that outlives the call: lvalues and spans, as before.
static_assert(can_decode_request<bytes&>);
static_assert(can_decode_request<const bytes&>);
static_assert(can_decode_request<span>);
static_assert(can_decode_response<bytes&>);
static_assert(can_decode_response<span>);
static_assert(can_read_batch<bytes&>);
static_assert(can_read_batch<span>);
static_assert(can_read_message_set<const bytes&>);
static_assert(can_make_batch_reader<bytes&>);
static_assert(can_split_frame<bytes&>);
static_assert(can_split_frame<span>);
}  // namespace

TEST_CASE("decoding a buffer the caller keeps is as easy as before", "[header][lifetime]") {
  // An ApiVersionsRequest v0 frame payload: key 18, version 0, correlation 5, null client id.
  const bytes payload = {0, 18, 0, 0, 0, 0, 0, 5, 0xff, 0xff};
  auto req = kwire::decode_request(payload);
  REQUIRE(req.ok());
  CHECK(req->header.correlation_id == 5);
  auto again = kwire::decode_request(span(payload));
  REQUIRE(again.ok());
  CHECK(again->header == req->header);
}
