// Turning a response message into bytes: the frame, and the generic error
// response of an API whose handler has no error response of its own.
#include "handler.hpp"

#include "kwire/protocol/frame_encode.hpp"

namespace kwire::mockbroker::detail {

std::optional<std::vector<std::uint8_t>> encode_response_frame(std::int32_t correlation_id,
                                                               std::int16_t version,
                                                               const any_message& body) {
  auto frame = encode_response(correlation_id, version, body);
  if (!frame) return std::nullopt;
  return std::move(frame).value();
}

bool encodes_at(const any_message& message, std::int16_t version) {
  std::vector<std::uint8_t> probe;
  writer w(probe);
  message.encode(w, version);
  return w.ok();
}

any_message error_response_for(const api_handler& handler, const cluster_state& state,
                               const decoded_request& request, std::int16_t error) {
  if (handler.error_response) return handler.error_response(state, request, error);
  // The default response with the error at the top level, when it has one
  // there and the version carries it.
  any_message r(*request.api->response);
  any_message with_error = r.clone();
  if (with_error.set_error_code(error) && encodes_at(with_error, request.header.api_version))
    return with_error;
  return r;
}

}  // namespace kwire::mockbroker::detail
