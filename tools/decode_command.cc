// `kwire decode`: size-prefixed frames in, one JSON object per frame out.
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "kwire/protocol/frame.hpp"
#include "kwire/protocol/header.hpp"
#include "kwire/protocol/json.hpp"
#include "kwire/tools/commands.hpp"

namespace kwire::tools {
namespace {

bool read_all(const std::string& path, std::vector<std::uint8_t>& out) {
  if (path == "-") {
    out.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    return true;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return true;
}

struct frame_at {
  std::size_t index;
  std::size_t offset;  // of the size prefix in the stream
  std::span<const std::uint8_t> payload;
};

// Splits a whole stream; prints an error object for a bad or cut-off tail.
std::vector<frame_at> split_stream(std::span<const std::uint8_t> stream, std::size_t max_frame,
                                   std::string& out) {
  std::vector<frame_at> frames;
  std::size_t at = 0;
  while (at < stream.size()) {
    const auto v = split_frame(stream.subspan(at), max_frame);
    if (v.state == frame_view::status::frame) {
      frames.push_back({frames.size(), at, v.payload});
      at += v.consumed;
      continue;
    }
    out += "{\"frame\":" + std::to_string(frames.size()) + ",\"offset\":" + std::to_string(at) +
           ",\"error\":";
    if (v.state == frame_view::status::need_more) {
      append_json_string(
          out, "truncated frame: " + std::to_string(stream.size() - at) +
                   " bytes left, the size prefix declares " +
                   (v.declared_size ? std::to_string(v.declared_size + 4) : "at least 4"));
    } else {
      append_json_string(out, "frame size " + std::to_string(v.declared_size) +
                                  (v.error == codec_errc::negative_length
                                       ? " is negative"
                                       : " exceeds the maximum " + std::to_string(max_frame)) +
                                  "; the rest of the stream cannot be split");
    }
    out += "}\n";
    break;
  }
  return frames;
}

void append_error_object(std::string& out, const frame_at& f, const decode_error& e) {
  out += "\"error\":";
  append_json_string(out, e.message());
  // The error's offset counts from the frame's payload; give the stream's too.
  out += ",\"errorOffset\":" + std::to_string(f.offset + 4 + e.offset);
}

void frame_prefix(std::string& out, const frame_at& f) {
  out += "{\"frame\":" + std::to_string(f.index) + ",\"offset\":" + std::to_string(f.offset) + ",";
}

struct request_key {
  std::int16_t api_key;
  std::int16_t api_version;
};

}  // namespace

int run_decode(const decode_options& given) {
  const auto& requests_path = given.requests;
  const auto& responses_path = given.responses;
  const std::size_t max_frame = given.max_frame_size;
  json_options options;
  options.show_payloads = !given.redact;
  std::vector<std::uint8_t> requests, responses;
  if (!read_all(requests_path, requests)) {
    std::cerr << "kwire decode: cannot read '" << requests_path << "': " << std::strerror(errno)
              << "\n";
    return 1;
  }
  if (!responses_path.empty() && !read_all(responses_path, responses)) {
    std::cerr << "kwire decode: cannot read '" << responses_path << "': " << std::strerror(errno)
              << "\n";
    return 1;
  }

  const bool print_requests = responses_path.empty();
  std::string out;
  std::map<std::int32_t, request_key> by_correlation;
  std::string tail_error;  // printed after the frames before it
  for (const auto& f : split_stream(requests, max_frame, tail_error)) {
    auto req = decode_request(f.payload);
    if (req)
      by_correlation[req->header.correlation_id] = {req->header.api_key, req->header.api_version};
    if (!print_requests) continue;
    frame_prefix(out, f);
    if (!req) {
      append_error_object(out, f, req.error());
    } else {
      const auto& h = req->header;
      out += "\"apiKey\":" + std::to_string(h.api_key) + ",\"apiName\":";
      append_json_string(out, req->api->name);
      out += ",\"apiVersion\":" + std::to_string(h.api_version) +
             ",\"correlationId\":" + std::to_string(h.correlation_id) + ",\"clientId\":";
      if (h.client_id) {
        append_json_string(out, *h.client_id);
      } else {
        out += "null";
      }
      out += ",\"body\":";
      json_printer p(out, options);
      req->body.visit(p, h.api_version);
    }
    out += "}\n";
    std::fwrite(out.data(), 1, out.size(), stdout);
    out.clear();
  }

  if (!print_requests) {
    tail_error.clear();  // the requests only serve to match responses
    for (const auto& f : split_stream(responses, max_frame, tail_error)) {
      frame_prefix(out, f);
      const auto corr = peek_correlation_id(f.payload);
      const auto it = corr ? by_correlation.find(*corr) : by_correlation.end();
      if (it == by_correlation.end()) {
        out += "\"error\":";
        append_json_string(out, corr ? "no request with correlation id " + std::to_string(*corr)
                                     : std::string("frame too short for a correlation id"));
        out += "}\n";
        std::fwrite(out.data(), 1, out.size(), stdout);
        out.clear();
        continue;
      }
      auto [key, version] = it->second;
      auto resp = decode_response(f.payload, key, version);
      if (!resp && key == static_cast<std::int16_t>(api_key::api_versions) && version > 0) {
        // A broker answers an ApiVersions version it does not know in v0.
        auto v0 = decode_response(f.payload, key, 0);
        if (v0) {
          resp = std::move(v0);
          version = 0;
        }
      }
      const auto* api = find_api(key);
      out += "\"apiKey\":" + std::to_string(key) + ",\"apiName\":";
      append_json_string(out, api ? api->name : std::string_view("unknown"));
      out += ",\"apiVersion\":" + std::to_string(version) +
             ",\"correlationId\":" + std::to_string(*corr) + ",";
      if (!resp) {
        append_error_object(out, f, resp.error());
      } else {
        out += "\"body\":";
        json_printer p(out, options);
        resp->body.visit(p, version);
      }
      out += "}\n";
      std::fwrite(out.data(), 1, out.size(), stdout);
      out.clear();
    }
  }
  std::fwrite(tail_error.data(), 1, tail_error.size(), stdout);
  return 0;
}

}  // namespace kwire::tools
